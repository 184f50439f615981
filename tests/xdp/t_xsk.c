/* SPDX-License-Identifier: BSD-2-Clause */
/* AF_XDP path: a socket in the XSKMAP gets the matching frames, each with a
 * struct ca_meta right in front of it. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "tests.h"

#define NFRAMES 64
#define FRAME 4096

static uint64_t tai_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void one_mode(struct tnet *t, enum xp_xdp_mode mode)
{
	struct xsk_socket_config sc = {
		.rx_size = NFRAMES,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	/* zeroed: libxdp's xsk_umem__create leaves the fill ring's cached_prod
	 * as it was, so fill addresses would land at a random ring index and
	 * the kernel would read frame 0 for every packet */
	struct xsk_ring_prod fq = { 0 };
	struct xsk_ring_cons cq = { 0 }, rx = { 0 };
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xp_opts o;
	uint64_t c[CA_CNT_MAX], t0;
	__u32 idx, key = 0, i, got = 0, seqs = 0, seq;
	int fd, s9, ret;
	struct xp *x;
	void *area;

	s9 = tn_sink(9);
	o = tn_opts(t, true, false, false, 128);
	o.xdp_mode = mode;
	x = t_open(t, "udp9", &o);

	area = mmap(NULL, NFRAMES * FRAME, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	CHECK(area != MAP_FAILED, "mmap");
	ret = xsk_umem__create(&umem, area, NFRAMES * FRAME, &fq, &cq, NULL);
	CHECK(!ret, "umem: %s", strerror(-ret));
	/* The previous round's socket leaves the queue asynchronously. */
	for (int tries = 0; tries < 50; tries++) {
		ret = xsk_socket__create(&xsk, t->if_a, 0, umem, &rx, NULL, &sc);
		if (ret != -EBUSY)
			break;
		usleep(20000);
	}
	CHECK(!ret, "xsk: %s", strerror(-ret));
	CHECK(xsk_ring_prod__reserve(&fq, NFRAMES, &idx) == NFRAMES, "fill ring");
	for (i = 0; i < NFRAMES; i++)
		*xsk_ring_prod__fill_addr(&fq, idx + i) = (uint64_t)i * FRAME;
	xsk_ring_prod__submit(&fq, NFRAMES);
	fd = xsk_socket__fd(xsk);
	CHECK(!bpf_map_update_elem(xp_xsks_fd(x), &key, &fd, BPF_ANY), "xskmap insert: %s",
	      strerror(errno));

	t0 = tai_now();
	tn_send(t, 9, 10, 300, 1000); /* 342-byte frames */
	tn_send(t, 10, 5, 300, 1000); /* not matched: to the stack */
	for (int tries = 0; got < 10 && tries < 20; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		__u32 n;

		poll(&p, 1, 100);
		n = xsk_ring_cons__peek(&rx, NFRAMES, &idx);
		for (i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
			const uint8_t *pkt = xsk_umem__get_data(area, d->addr);
			const struct ca_meta *m = (const void *)(pkt - sizeof(*m));

			/* cut to cap_len before the redirect (only cap_len is copied) */
			CHECK(d->len == 128, "frame len %u (cut to the snaplen)", d->len);
			CHECK(m->wire_len == 342, "meta wire_len %u", m->wire_len);
			CHECK(m->cap_len == 128, "meta cap_len %u (snaplen 128)", m->cap_len);
			CHECK(m->ts_ns >= t0 && m->ts_ns <= tai_now(), "meta ts %llu", m->ts_ns);
			CHECK(pkt[36] == 0 && pkt[37] == 9, "not the UDP frame to port 9");
			/* each frame in its own UMEM frame: the senders' sequence
			 * numbers arrive once each */
			memcpy(&seq, pkt + 42, sizeof(seq));
			CHECK(seq < 10 && !(seqs & (1u << seq)), "sequence %u again or out of range",
			      seq);
			seqs |= 1u << seq;
			got++;
		}
		xsk_ring_cons__release(&rx, n);
	}
	CHECK(got == 10, "the socket got %u of 10 frames (%s mode)", got,
	      mode == XP_XDP_NATIVE ? "native" : "generic");
	CHECK(!xp_counters(x, c), "counters");
	CHECK(c[CA_CNT_RX_REDIRECTED] == 10 && c[CA_CNT_RX_MATCHED] == 10,
	      "redirected %lu matched %lu", c[CA_CNT_RX_REDIRECTED], c[CA_CNT_RX_MATCHED]);
	/* Redirected frames left the stack; the others did not. */
	CHECK(tn_sink_count(s9, 200) == 0, "redirected frames also reached the stack");

	/* Detach before the socket goes (the XSKMAP entry then too). */
	bpf_map_delete_elem(xp_xsks_fd(x), &key);
	xp_close(x);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, NFRAMES * FRAME);
	close(s9);
	t_assert_clean(t);
}

void t_xsk_meta(void)
{
	struct tnet t;

	tn_up(&t, "xk", 0);
	one_mode(&t, XP_XDP_NATIVE);
	one_mode(&t, XP_XDP_GENERIC);
}
