/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afxdp pieces without live traffic, run in a netns by run_units.sh:
 *   test_afxdp_units BPF_OBJ OUTDIR BIG_MTU_IFACE SMALL_MTU_IFACE
 *  - ring-buffer consumer: records made by BPF_PROG_RUN of rb_test reach the
 *    pcap with their wire length, cut to the snaplen, in order, with
 *    wall-clock stamps; short records are counted, not written;
 *  - an array of ring buffers (xdp/'s per-CPU rings): a thread per ring,
 *    every record of every ring once in the pcap, each ring's in order;
 *  - kernel clock -> wall clock conversion;
 *  - MTU check and xsk_set_open refusals (nothing left behind).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "afxdp/afxdp.h"
#include "writer/writer.h"
#include "test_afxdp_util.h"

static int failures;
#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			failures++;                                                       \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
		}                                                                         \
	} while (0)

static uint64_t now_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

#define NREC 1000u
#define NBAD 7u
#define SNAP 100u

static uint32_t rec_len(uint32_t i)
{
	return 60 + (i * 53) % 1900;
}

static void fill(uint8_t *p, uint32_t len, uint32_t i)
{
	uint32_t k;

	for (k = 0; k < len; k++)
		p[k] = (uint8_t)(i * 7 + k);
	p[0] = (uint8_t)(i % 200); /* never 0xee */
	p[1] = (uint8_t)(i >> 8);
	p[2] = (uint8_t)i;
}

static void check_rb_pcap(const char *path, uint64_t t0, uint64_t t1)
{
	static uint8_t p[4096], want[4096];
	uint32_t fh[6], h[4], n = 0, bad = 0, last = 0;
	uint64_t prev_ts = 0;
	FILE *f = fopen(path, "rb");

	CHECK(f, "%s: %s", path, strerror(errno));
	if (!f)
		return;
	CHECK(fread(fh, sizeof(fh), 1, f) == 1 && fh[0] == 0xa1b23c4d, "bad pcap header");
	while (fread(h, sizeof(h), 1, f) == 1) {
		uint64_t ts = (uint64_t)h[0] * 1000000000ull + h[1];
		uint32_t i, len, cap;

		if (h[2] > sizeof(p) || fread(p, 1, h[2], f) != h[2]) {
			CHECK(0, "truncated record");
			break;
		}
		i = (uint32_t)p[1] << 8 | p[2];
		len = rec_len(i);
		cap = len < SNAP ? len : SNAP;
		fill(want, len, i);
		if (i >= NREC || (n && i <= last) || h[3] != len + 100 || h[2] != cap ||
		    memcmp(p, want, cap) || ts < t0 || ts > t1 || ts < prev_ts) {
			if (bad++ < 5)
				fprintf(stderr, "record %u: i %u caplen %u len %u ts %llu\n", n, i,
					h[2], h[3], (unsigned long long)ts);
		}
		last = i;
		prev_ts = ts;
		n++;
	}
	fclose(f);
	CHECK(n == NREC, "%u records in the pcap, want %u", n, NREC);
	CHECK(!bad, "%u wrong records", bad);
}

static void test_ringbuf(struct bpf_object *obj, const char *outdir)
{
	static uint8_t pkt[4096];
	char path[4096];
	struct wr_writer *w = NULL;
	struct xsk_rb *rb = NULL;
	struct xsk_rb_stats st;
	uint64_t t0, t1;
	uint32_t i;
	int prog, ret, waited;

	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "rb_test"));
	snprintf(path, sizeof(path), "%s/rb.pcap", outdir);
	struct wr_opts wo = { .path = path, .snaplen = 262144 };
	ret = wr_open(&wo, &w);
	CHECK(!ret, "wr_open: %s", strerror(-ret));
	if (ret)
		return;
	struct xsk_rb_opts ro = {
		.ringbuf_map_fd = bpf_object__find_map_fd_by_name(obj, "rb"),
		.writer = w,
		.snaplen = SNAP,
	};
	ret = xsk_rb_open(&ro, &rb);
	CHECK(!ret, "xsk_rb_open: %s", strerror(-ret));
	if (ret)
		goto out;

	t0 = now_ns(CLOCK_REALTIME);
	for (i = 0; i < NREC + NBAD; i++) {
		uint32_t len = i < NREC ? rec_len(i) : 64;

		fill(pkt, len, i);
		if (i >= NREC)
			pkt[0] = 0xee; /* rb_test writes a short record */
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .repeat = 1);
		ret = bpf_prog_test_run_opts(prog, &o);
		CHECK(!ret, "BPF_PROG_RUN: %s", strerror(errno));
		if (i % 100 == 0)
			usleep(1000);
	}
	for (waited = 0; waited < 100; waited++) {
		xsk_rb_stats(rb, &st);
		if (st.received >= NREC + NBAD)
			break;
		usleep(50000);
	}
	xsk_rb_stop(rb);
	t1 = now_ns(CLOCK_REALTIME);
	xsk_rb_stats(rb, &st);
	CHECK(st.received == NREC + NBAD, "received %llu", (unsigned long long)st.received);
	CHECK(st.written == NREC, "written %llu", (unsigned long long)st.written);
	CHECK(st.bad_meta == NBAD, "bad_meta %llu", (unsigned long long)st.bad_meta);
	CHECK(st.writer_behind == 0, "writer_behind %llu", (unsigned long long)st.writer_behind);
	CHECK(st.received == st.written + st.bad_meta + st.writer_behind, "counters don't add up");
	xsk_rb_close(rb);
	ret = wr_close(w);
	w = NULL;
	CHECK(!ret, "wr_close: %s", strerror(-ret));
	check_rb_pcap(path, t0, t1);
out:
	if (w)
		wr_close(w);
}

#define NARR 3000u

/* Records of rb_arr_test: frame i (in bytes 1-2) went to ring slot
 * 2 if i % 3 == 0, else slot 0; every one must be in the pcap once, with a
 * wire length of 200, and each ring's records in the order they were made. */
static void check_arr_pcap(const char *path)
{
	static uint8_t seen[NARR];
	uint8_t p[4096];
	uint32_t fh[6], h[4], n = 0, bad = 0, last[3] = { 0 };
	bool any[3] = { false };
	FILE *f = fopen(path, "rb");

	CHECK(f, "%s: %s", path, strerror(errno));
	if (!f)
		return;
	CHECK(fread(fh, sizeof(fh), 1, f) == 1, "no pcap header");
	while (fread(h, sizeof(h), 1, f) == 1) {
		uint32_t i, slot;

		if (h[2] > sizeof(p) || fread(p, 1, h[2], f) != h[2]) {
			CHECK(0, "truncated record");
			break;
		}
		i = (uint32_t)p[1] << 8 | p[2];
		slot = p[3];
		if (i >= NARR || slot > 2 || seen[i]++ || h[2] != 64 || h[3] != 200 ||
		    slot != (i % 3 ? 0u : 2u) || (any[slot] && i <= last[slot])) {
			if (bad++ < 5)
				fprintf(stderr, "array record %u: i %u slot %u caplen %u len %u\n",
					n, i, slot, h[2], h[3]);
			continue;
		}
		any[slot] = true;
		last[slot] = i;
		n++;
	}
	fclose(f);
	CHECK(n == NARR, "%u good records from the ring array, want %u", n, NARR);
	CHECK(!bad, "%u wrong records from the ring array", bad);
}

static void test_ring_array(struct bpf_object *obj, const char *outdir)
{
	static uint8_t pkt[200];
	char path[4096];
	struct wr_writer *w = NULL;
	struct xsk_rb *rb = NULL;
	struct xsk_rb_stats st;
	uint32_t i, slot;
	int prog, outer, ring[2] = { -1, -1 }, ret, waited;

	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "rb_arr_test"));
	outer = bpf_object__find_map_fd_by_name(obj, "rbs");
	for (i = 0; i < 2; i++) {
		ring[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "t_ring", 0, 0, 1u << 20, NULL);
		slot = i * 2; /* slots 0 and 2; 1 stays empty */
		CHECK(ring[i] >= 0 && !bpf_map_update_elem(outer, &slot, &ring[i], 0),
		      "ring %u: %s", i, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/rbarr.pcap", outdir);
	struct wr_opts wo = { .path = path, .snaplen = 262144 };
	ret = wr_open(&wo, &w);
	CHECK(!ret, "wr_open: %s", strerror(-ret));
	if (ret)
		goto out;
	struct xsk_rb_opts ro = { .ringbuf_map_fd = outer, .writer = w };
	ret = xsk_rb_open(&ro, &rb);
	CHECK(!ret, "xsk_rb_open on an array of rings: %s", strerror(-ret));
	if (ret)
		goto out;
	CHECK(xsk_rb_rings(rb) == 2, "%u consumers, want 2 (one per ring)", xsk_rb_rings(rb));
	for (i = 0; i < NARR; i++) {
		memset(pkt, 0x5a, sizeof(pkt));
		pkt[0] = 1;
		pkt[1] = (uint8_t)(i >> 8);
		pkt[2] = (uint8_t)i;
		pkt[3] = i % 3 ? 0 : 2;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .repeat = 1);
		CHECK(!bpf_prog_test_run_opts(prog, &o), "BPF_PROG_RUN: %s", strerror(errno));
	}
	for (waited = 0; waited < 100; waited++) {
		xsk_rb_stats(rb, &st);
		if (st.received >= NARR)
			break;
		usleep(50000);
	}
	xsk_rb_stop(rb);
	xsk_rb_stats(rb, &st);
	CHECK(st.received == NARR && st.written == NARR && !st.bad_meta && !st.writer_behind,
	      "ring array counters: received %llu written %llu",
	      (unsigned long long)st.received, (unsigned long long)st.written);
	xsk_rb_close(rb);
	ret = wr_close(w);
	w = NULL;
	CHECK(!ret, "wr_close: %s", strerror(-ret));
	check_arr_pcap(path);
out:
	if (w)
		wr_close(w);
	for (i = 0; i < 2; i++)
		if (ring[i] >= 0)
			close(ring[i]);
}

static void test_clock(void)
{
	static const enum xsk_ts_clock clocks[] = { XSK_TS_TAI, XSK_TS_MONOTONIC,
						    XSK_TS_BOOTTIME };
	static const clockid_t ids[] = { CLOCK_TAI, CLOCK_MONOTONIC, CLOCK_BOOTTIME };
	struct xsk_clock c;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		uint64_t k, wall, real;
		int64_t d;

		uint64_t r0;

		xsk_clock_init(&c, clocks[i]);
		/* The converted stamp must fall between two wall-clock reads
		 * around it, give or take 1 ms (a busy machine may preempt). */
		r0 = now_ns(CLOCK_REALTIME);
		k = now_ns(ids[i]);
		real = now_ns(CLOCK_REALTIME);
		wall = xsk_clock_wall(&c, k);
		d = (int64_t)(wall - r0);
		CHECK(d >= -1000000 && wall <= real + 1000000,
		      "clock %u: wall %llu outside [%llu, %llu]", i, (unsigned long long)wall,
		      (unsigned long long)r0, (unsigned long long)real);
	}
}

static void test_refusals(const char *big, const char *small, int map_fd)
{
	struct wr_writer *w = NULL;
	struct xsk_set *s = NULL;
	char err[512], path[64];
	int ret;

	err[0] = 0;
	ret = xsk_check_mtu(big, err, sizeof(err));
	CHECK(ret == -EMSGSIZE, "MTU 9000 accepted (%d)", ret);
	CHECK(strstr(err, "MTU 9000") && strstr(err, "too large"), "message: %s", err);
	CHECK(!xsk_check_mtu(small, err, sizeof(err)), "MTU 1500 refused: %s", err);

	snprintf(path, sizeof(path), "/tmp/dpb-units-%d.pcap", (int)getpid());
	struct wr_opts wo = { .path = path, .snaplen = 262144 };
	if (wr_open(&wo, &w))
		return;
	struct xsk_opts o = { .ifname = big, .xsks_map_fd = map_fd, .writer = w };
	ret = xsk_set_open(&o, &s, err, sizeof(err));
	CHECK(ret == -EMSGSIZE && !s, "open on MTU 9000: %d", ret);
	o.ifname = "dpb-no-such-if";
	ret = xsk_set_open(&o, &s, err, sizeof(err));
	CHECK(ret == -ENODEV && !s, "open on a missing interface: %d", ret);
	o.ifname = small;
	o.ring_size = 1000;
	ret = xsk_set_open(&o, &s, err, sizeof(err));
	CHECK(ret == -EINVAL && !s, "ring size 1000: %d", ret);
	/* Queue 7 doesn't exist on a 1-queue veth: the bind fails and the
	 * sockets of queues 0..6 made before must be gone again. */
	o.ring_size = 0;
	o.queues = 8;
	ret = xsk_set_open(&o, &s, err, sizeof(err));
	CHECK(ret < 0 && !s, "open of 8 queues on a 1-queue veth: %d", ret);
	CHECK(xdp_sockets() == 0, "%d AF_XDP sockets left after a failed open", xdp_sockets());
	o.queues = 0;
	ret = xsk_set_open(&o, &s, err, sizeof(err));
	CHECK(!ret && xsk_set_queues(s) == 1, "open on the small veth: %s", err);
	CHECK(xdp_sockets() == 1, "%d AF_XDP sockets, want 1", xdp_sockets());
	xsk_set_close(s);
	CHECK(xdp_sockets() == 0, "%d AF_XDP sockets left after close", xdp_sockets());
	wr_close(w);
	unlink(path);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;

	if (argc != 5) {
		fprintf(stderr, "usage: %s BPF_OBJ OUTDIR BIG_MTU_IFACE SMALL_MTU_IFACE\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "can't load %s\n", argv[1]);
		return 1;
	}
	test_clock();
	test_ringbuf(obj, argv[2]);
	test_ring_array(obj, argv[2]);
	test_refusals(argv[3], argv[4], bpf_object__find_map_fd_by_name(obj, "xsks"));
	bpf_object__close(obj);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
