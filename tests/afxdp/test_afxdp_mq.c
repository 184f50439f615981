/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Multi-queue AF_XDP capture, run inside a test netns by run_mq.sh:
 *   test_afxdp_mq IFACE BPF_OBJ OUTDIR COUNT FLOWS SNAPLEN SEND_CMD
 * Attaches the stand-in XDP program (xsk_test.bpf.c) to IFACE, opens one
 * socket + worker per RX queue, runs SEND_CMD (traffic from the peer netns),
 * then checks: every datagram captured exactly once, every queue had a
 * worker that received frames, caplen/wire length/payload/timestamps right,
 * the counters add up, and close leaves nothing behind.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "afxdp/afxdp.h"
#include "writer/writer.h"
#include "test_afxdp_util.h"

static int failures;
#define CHECK(cond, ...)                                                           \
	do {                                                                       \
		if (!(cond)) {                                                     \
			failures++;                                                \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
		}                                                                  \
	} while (0)

#define PORT 40100u
#define HDR (14u + 20u + 8u)

static uint32_t payload_len(uint32_t seq) /* as send_udp.py */
{
	return 18 + (seq * 37) % 1400;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

struct seen {
	uint8_t *hit;	    /* per seq */
	uint64_t *last_ts;  /* per flow: timestamp of its previous record */
	uint32_t *last_seq; /* per flow */
};

/* A plain pcap reader, so the test also checks the file format itself:
 * nanosecond magic, snaplen, whole records. */
struct pcap_rec {
	uint32_t sec, nsec, caplen, len;
};

static void check_pcap(const char *path, uint32_t count, uint32_t flows, uint32_t snaplen,
		       uint64_t t0, uint64_t t1)
{
	static uint8_t p[65536];
	uint32_t fh[6];
	struct pcap_rec h;
	struct seen s = {
		.hit = calloc(count, 1),
		.last_ts = calloc(flows, sizeof(uint64_t)),
		.last_seq = calloc(flows, sizeof(uint32_t)),
	};
	uint32_t records = 0, i, dup = 0, bad = 0, order = 0;
	FILE *f = fopen(path, "rb");

	CHECK(f, "%s: %s", path, strerror(errno));
	if (!f)
		return;
	CHECK(fread(fh, sizeof(fh), 1, f) == 1, "no pcap header");
	CHECK(fh[0] == 0xa1b23c4d, "magic %08x, want nanosecond pcap", fh[0]);
	CHECK(fh[4] >= snaplen, "file snaplen %u below the capture's %u", fh[4], snaplen);
	CHECK(fh[5] == 1, "link type %u", fh[5]);
	while (fread(&h, sizeof(h), 1, f) == 1) {
		uint64_t ts = (uint64_t)h.sec * 1000000000ull + h.nsec;
		uint32_t seq, flow, want_len, want_cap, k;

		records++;
		if (h.caplen > sizeof(p) || fread(p, 1, h.caplen, f) != h.caplen) {
			CHECK(0, "record %u: caplen %u, truncated file", records, h.caplen);
			break;
		}
		if (h.caplen < HDR + 4) {
			bad++;
			continue;
		}
		seq = (uint32_t)p[HDR] << 24 | p[HDR + 1] << 16 | p[HDR + 2] << 8 | p[HDR + 3];
		if (seq >= count) {
			bad++;
			continue;
		}
		if (s.hit[seq]++)
			dup++;
		flow = seq % flows;
		want_len = HDR + payload_len(seq);
		want_cap = want_len < snaplen ? want_len : snaplen;
		if (h.len != want_len || h.caplen != want_cap) {
			if (bad++ < 5)
				fprintf(stderr, "seq %u: len %u caplen %u, want %u %u\n", seq,
					h.len, h.caplen, want_len, want_cap);
			continue;
		}
		/* UDP destination port and filler bytes as sent. */
		if (((uint32_t)p[36] << 8 | p[37]) != PORT + flow)
			bad++;
		for (k = HDR + 4; k < h.caplen; k++)
			if (p[k] != ((seq + k - HDR - 4) & 0xff)) {
				bad++;
				break;
			}
		if (ts < t0 || ts > t1) {
			if (bad++ < 5)
				fprintf(stderr, "seq %u: ts %llu outside [%llu, %llu]\n", seq,
					(unsigned long long)ts, (unsigned long long)t0,
					(unsigned long long)t1);
		}
		/* One flow stays on one queue: its stamps follow its sequence. */
		if (s.last_ts[flow] && seq > s.last_seq[flow] && ts < s.last_ts[flow])
			order++;
		if (seq > s.last_seq[flow] || !s.last_ts[flow]) {
			s.last_seq[flow] = seq;
			s.last_ts[flow] = ts;
		}
	}
	fclose(f);
	CHECK(records == count, "pcap has %u records, sent %u", records, count);
	CHECK(!dup, "%u duplicates", dup);
	CHECK(!bad, "%u records with wrong content, length or timestamp", bad);
	CHECK(!order, "%u records stamped before an earlier datagram of their flow", order);
	for (i = 0; i < count; i++)
		if (!s.hit[i]) {
			CHECK(0, "seq %u missing", i);
			break;
		}
	free(s.hit);
	free(s.last_ts);
	free(s.last_seq);
}

int main(int argc, char **argv)
{
	const char *ifname, *obj_path, *outdir, *send_cmd;
	uint32_t count, flows, snaplen;
	struct bpf_object *obj = NULL;
	struct wr_writer *w = NULL;
	struct xsk_set *set = NULL;
	struct xsk_stats st, qs;
	char err[512], path[4096];
	unsigned int nq = 0, q;
	uint64_t t0, t1;
	int ifindex, prog_fd, map_fd, ret, waited;

	if (argc != 8) {
		fprintf(stderr, "usage: %s IFACE BPF_OBJ OUTDIR COUNT FLOWS SNAPLEN SEND_CMD\n",
			argv[0]);
		return 2;
	}
	ifname = argv[1];
	obj_path = argv[2];
	outdir = argv[3];
	count = strtoul(argv[4], NULL, 0);
	flows = strtoul(argv[5], NULL, 0);
	snaplen = strtoul(argv[6], NULL, 0);
	send_cmd = argv[7];
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "%s: no such interface\n", ifname);
		return 1;
	}

	ret = xsk_iface_queues(ifname, &nq);
	CHECK(!ret && nq == 4, "queues %u (%d), the veth was made with 4", nq, ret);

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "can't load %s\n", obj_path);
		return 1;
	}
	prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "xsk_test"));
	map_fd = bpf_object__find_map_fd_by_name(obj, "xsks");
	ret = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (ret) {
		fprintf(stderr, "XDP attach: %s\n", strerror(-ret));
		goto out;
	}

	snprintf(path, sizeof(path), "%s/mq.pcap", outdir);
	struct wr_opts wo = { .path = path, .snaplen = snaplen };
	ret = wr_open(&wo, &w);
	if (ret) {
		fprintf(stderr, "wr_open: %s\n", strerror(-ret));
		goto out;
	}
	struct xsk_opts xo = {
		.ifname = ifname,
		.xsks_map_fd = map_fd,
		.writer = w,
		.snaplen = snaplen,
	};
	ret = xsk_set_open(&xo, &set, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "xsk_set_open: %s\n", err);
		goto out;
	}
	CHECK(xsk_set_queues(set) == 4, "%u workers", xsk_set_queues(set));
	CHECK(xdp_sockets() == 4, "%d AF_XDP sockets, want one per queue", xdp_sockets());
	CHECK(!xsk_set_zerocopy(set), "veth can't do zero-copy, yet zerocopy reported");

	t0 = now_ns();
	ret = system(send_cmd);
	CHECK(ret == 0, "sender exit %d", ret);
	for (waited = 0; waited < 100; waited++) {
		xsk_set_stats(set, &st);
		if (st.received >= count)
			break;
		usleep(100000);
	}
	/* Stop taking packets first, then drain, as the appliance does. */
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	xsk_set_stop(set);
	t1 = now_ns();

	xsk_set_stats(set, &st);
	printf("queues %u received %llu written %llu behind %llu bad %llu bytes %llu "
	       "rx_dropped %llu ring_full %llu fill_empty %llu\n",
	       st.queues, (unsigned long long)st.received, (unsigned long long)st.written,
	       (unsigned long long)st.writer_behind, (unsigned long long)st.bad_meta,
	       (unsigned long long)st.bytes, (unsigned long long)st.rx_dropped,
	       (unsigned long long)st.rx_ring_full, (unsigned long long)st.rx_fill_ring_empty);
	CHECK(st.received == count, "received %llu of %u", (unsigned long long)st.received,
	      count);
	CHECK(st.received == st.written + st.writer_behind + st.bad_meta, "counters don't add up");
	CHECK(st.writer_behind == 0 && st.bad_meta == 0, "drops in user space");
	CHECK(st.rx_dropped + st.rx_ring_full + st.rx_invalid_descs == 0, "socket drops");
	for (q = 0; q < xsk_set_queues(set); q++) {
		xsk_set_queue_stats(set, q, &qs);
		printf("queue %u: received %llu\n", q, (unsigned long long)qs.received);
		CHECK(qs.received > 0, "queue %u's worker received nothing", q);
	}
	/* The stand-in program counts what it redirected per queue: it must
	 * agree with what each worker took. */
	for (q = 0; q < 4; q++) {
		uint32_t k = q;
		uint64_t red = 0, fail = 0;

		bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "counts"), &k, &red);
		k = 64 + q;
		bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "counts"), &k, &fail);
		xsk_set_queue_stats(set, q, &qs);
		CHECK(fail == 0, "queue %u: %llu redirect failures", q, (unsigned long long)fail);
		CHECK(red == qs.received, "queue %u: program matched %llu, worker took %llu", q,
		      (unsigned long long)red, (unsigned long long)qs.received);
	}
	xsk_set_close(set);
	set = NULL;
	CHECK(xdp_sockets() == 0, "%d AF_XDP sockets left after close", xdp_sockets());

	ret = wr_close(w);
	w = NULL;
	CHECK(ret == 0, "wr_close: %s", strerror(-ret));
	check_pcap(path, count, flows, snaplen, t0, t1);
	ret = 0;
out:
	xsk_set_close(set);
	if (w)
		wr_close(w);
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bpf_object__close(obj);
	if (ret)
		failures++;
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
