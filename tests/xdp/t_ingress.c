/* SPDX-License-Identifier: BSD-2-Clause */
/* Ingress: counters, config map, transparent mode, atomic filter swap. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"

static void counters(struct xp *x, uint64_t c[CA_CNT_MAX])
{
	CHECK(!xp_counters(x, c), "xp_counters");
}

static uint64_t tai_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void t_counters(void)
{
	struct tnet t;
	struct xp_opts o;
	uint64_t c[CA_CNT_MAX], d[CA_CNT_MAX];
	int s9, s10, n9 = 0, n10 = 0;
	struct xp *x;

	tn_up(&t, "co", 0);
	s9 = tn_sink(9);
	s10 = tn_sink(10);
	/* AF_XDP path with no socket in the XSKMAP: every match falls back to
	 * the stack and counts as rx_no_xsk. */
	o = tn_opts(&t, true, false, false, 0);
	x = t_open(&t, "udp9", &o);
	tn_send(&t, 9, 200, 60, 100);
	tn_send(&t, 10, 50, 60, 100);
	n9 += tn_sink_count(s9, 500);
	n10 += tn_sink_count(s10, 200);
	counters(x, c);
	CHECK(c[CA_CNT_RX_MATCHED] == 200, "rx_matched %lu, want 200", c[CA_CNT_RX_MATCHED]);
	CHECK(c[CA_CNT_RX_NO_XSK] == 200, "rx_no_xsk %lu", c[CA_CNT_RX_NO_XSK]);
	CHECK(c[CA_CNT_RX_REDIRECTED] == 0, "rx_redirected %lu", c[CA_CNT_RX_REDIRECTED]);
	CHECK(c[CA_CNT_RX_SEEN] >= 250, "rx_seen %lu", c[CA_CNT_RX_SEEN]);
	CHECK(c[CA_CNT_RX_MATCHED] == c[CA_CNT_RX_REDIRECTED] + c[CA_CNT_RX_NO_XSK] +
		      c[CA_CNT_RX_META_FAIL] + c[CA_CNT_RX_RB_OUT] + c[CA_CNT_RX_RB_FULL],
	      "rx counters don't add up");
	CHECK(n9 == 200 && n10 == 50, "the stack got %d/200 and %d/50: frames dropped", n9, n10);

	/* Mode off: still seen, never matched, still passed. */
	o.cfg.ingress = false;
	CHECK(!xp_set_config(x, &o.cfg), "set_config");
	tn_send(&t, 9, 100, 60, 100);
	n9 += tn_sink_count(s9, 500);
	counters(x, d);
	CHECK(d[CA_CNT_RX_MATCHED] == 200, "mode off matched %lu", d[CA_CNT_RX_MATCHED]);
	CHECK(d[CA_CNT_RX_SEEN] >= c[CA_CNT_RX_SEEN] + 100, "mode off: seen did not grow");
	CHECK(n9 == 300, "mode off: the stack got %d/300", n9);
	CHECK(!strcmp(xp_counter_name(CA_CNT_RX_NO_XSK), "rx_no_xsk"), "counter name");
	xp_close(x);
	t_assert_clean(&t);
}

/* Ingress records of UDP to port 9: checks and returns how many. */
static size_t check_recs(struct tnet *t, const struct tn_recs *rs, uint32_t wire,
			 uint32_t cap, uint64_t t0)
{
	uint64_t last = 0, now = tai_now();
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++) {
		const struct ca_rb_hdr *h = &rs->r[i].h;

		if (!tn_is_udp(&rs->r[i], 9))
			continue;
		n++;
		CHECK(h->dir == CA_DIR_INGRESS, "dir %u", h->dir);
		CHECK(h->wire_len == wire, "wire_len %u, want %u", h->wire_len, wire);
		CHECK(h->cap_len == cap, "cap_len %u, want %u", h->cap_len, cap);
		CHECK((int)h->ifindex == t->ifindex_a, "ifindex %u", h->ifindex);
		CHECK(h->ts_ns >= t0 && h->ts_ns <= now, "ts %llu not in [%lu, %lu]", h->ts_ns,
		      t0, now);
		CHECK(h->ts_ns >= last, "timestamps go backwards");
		last = h->ts_ns;
		if (cap > 42)
			CHECK(rs->r[i].ab == cap - 46,
			      "captured bytes differ from the sent ones (%u 0xab)", rs->r[i].ab);
	}
	return n;
}

void t_config(void)
{
	struct tnet t;
	struct xp_opts o;
	struct tn_recs rs = { 0 };
	struct xp_config cfg;
	struct xp_elf e;
	char err[512];
	uint64_t t0;
	struct xp *x;
	int s9;

	tn_up(&t, "cf", 0);
	s9 = tn_sink(9);
	o = tn_opts(&t, true, false, true, 64);
	o.xdp_mode = XP_XDP_GENERIC; /* the other tests mostly run native */
	x = t_open(&t, "all", &o);
	CHECK(!xp_get_config(x, &cfg) && cfg.snaplen == 64 && cfg.transparent, "get_config");

	t0 = tai_now();
	tn_send(&t, 9, 10, 500, 1000); /* 542-byte frames */
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	CHECK(check_recs(&t, &rs, 542, 64, t0) == 10, "snaplen 64: %zu records", rs.n);

	/* snaplen 0 = full frames, without reloading anything */
	cfg.snaplen = 0;
	CHECK(!xp_set_config(x, &cfg), "set snaplen 0");
	rs.n = 0;
	t0 = tai_now();
	tn_send(&t, 9, 10, 500, 1000);
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	CHECK(check_recs(&t, &rs, 542, 542, t0) == 10, "snaplen 0");

	/* The filter's result caps too: min(filter 100, snaplen 1000). */
	cfg.snaplen = 1000;
	CHECK(!xp_set_config(x, &cfg), "set snaplen 1000");
	tn_elf("ret100", &e);
	CHECK(!xp_set_filter_elf(x, &e, err, sizeof(err)), "swap: %s", err);
	xp_elf_free(&e);
	rs.n = 0;
	t0 = tai_now();
	tn_send(&t, 9, 10, 500, 1000);
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	CHECK(check_recs(&t, &rs, 542, 100, t0) == 10, "filter result 100");

	/* Ingress off: nothing recorded; egress only records host-sent ones. */
	cfg.ingress = false;
	cfg.egress = true;
	CHECK(!xp_set_config(x, &cfg), "ingress off");
	rs.n = 0;
	tn_send(&t, 9, 10, 500, 1000);
	tn_rb_drain(xp_rb_fd(x), &rs, 300);
	CHECK(tn_udp_recs(&rs, 9, CA_DIR_EGRESS) == 0, "ingress off still records");
	CHECK(tn_sink_count(s9, 300) == 40, "the stack lost frames");

	cfg.snaplen = CA_SNAPLEN_MAX + 1;
	CHECK(xp_set_config(x, &cfg) == -EINVAL, "snaplen above max accepted");
	free(rs.r);
	xp_close(x);
	t_assert_clean(&t);
}

void t_transparent(void)
{
	struct tnet t;
	struct xp_opts o;
	struct tn_recs rs = { 0 };
	uint64_t c[CA_CNT_MAX];
	size_t i, echo = 0;
	struct xp *x;
	int s9;

	tn_up(&t, "tp", 0);
	s9 = tn_sink(9);
	o = tn_opts(&t, true, false, true, 0);
	x = t_open(&t, "all", &o);
	/* The host's own traffic keeps working... */
	CHECK(!tn_sh("ip netns exec %s ping -q -c 5 -i 0.2 -W 2 " TN_IP_A " >/dev/null",
		     t.ns_b), "ping through a transparent capture failed");
	tn_send(&t, 9, 100, 200, 200);
	CHECK(tn_sink_count(s9, 500) == 100, "the stack lost UDP frames");
	/* ...while every frame is copied. */
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	for (i = 0; i < rs.n; i++) {
		const uint8_t *d = rs.r[i].data;

		if (d[12] == 0x08 && d[13] == 0 && d[23] == 1 && d[34] == 8)
			echo++;
	}
	CHECK(echo == 5, "%zu ICMP echo requests recorded, want 5", echo);
	CHECK(tn_udp_recs(&rs, 9, CA_DIR_INGRESS) == 100, "UDP records");
	counters(x, c);
	CHECK(c[CA_CNT_RX_RB_OUT] == rs.n, "rx_rb_out %lu, records %zu", c[CA_CNT_RX_RB_OUT],
	      rs.n);
	CHECK(c[CA_CNT_RX_MATCHED] == c[CA_CNT_RX_RB_OUT] + c[CA_CNT_RX_RB_FULL],
	      "counters don't add up");
	CHECK(c[CA_CNT_RX_NO_XSK] == 0 && c[CA_CNT_RX_REDIRECTED] == 0, "AF_XDP path used");
	free(rs.r);
	xp_close(x);
	t_assert_clean(&t);
}

void t_swap(void)
{
	enum { N = 3000 };
	struct tnet t;
	struct xp_opts o;
	struct tn_recs rs = { 0 };
	struct xp_elf e[2], bad;
	uint64_t c[CA_CNT_MAX];
	char err[1024], junk[64];
	int swaps = 0, s9, st, ret, running;
	uint32_t id;
	struct xp *x;
	pid_t in, out;

	tn_up(&t, "sw", 0);
	s9 = tn_sink(9);
	tn_elf("udp", &e[0]);
	tn_elf("udp9", &e[1]);
	o = tn_opts(&t, true, true, true, 0);
	o.rb_size = 4u << 20;
	x = t_open(&t, "udp", &o);

	/* Frames to port 9, in both directions, match both filters: none may
	 * be missed while the programs are swapped back and forth. */
	in = tn_send_bg(&t, 9, N, 64, 150);
	out = tn_send_out_bg(&t, 9, N, 64, 150);
	for (running = 2; running;) {
		CHECK(!xp_set_filter_elf(x, &e[swaps % 2 ? 0 : 1], err, sizeof(err)),
		      "swap %d: %s", swaps, err);
		swaps++;
		usleep(20000);
		if (in && waitpid(in, &st, WNOHANG) == in) {
			CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "sender in failed");
			in = 0;
		}
		if (out && waitpid(out, &st, WNOHANG) == out) {
			CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "sender out failed");
			out = 0;
		}
		running = (in != 0) + (out != 0);
	}
	CHECK(swaps >= 10, "only %d swaps during the traffic", swaps);
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	CHECK(tn_udp_recs_dir(&rs, 9, CA_DIR_INGRESS) == N,
	      "ingress: %zu of %d frames recorded over %d swaps",
	      tn_udp_recs_dir(&rs, 9, CA_DIR_INGRESS), N, swaps);
	CHECK(tn_udp_recs_dir(&rs, 9, CA_DIR_EGRESS) == N,
	      "egress: %zu of %d packets recorded over %d swaps",
	      tn_udp_recs_dir(&rs, 9, CA_DIR_EGRESS), N, swaps);
	CHECK(!xp_counters(x, c) && c[CA_CNT_RX_MATCHED] == N && c[CA_CNT_TX_MATCHED] == N,
	      "rx_matched %lu tx_matched %lu", c[CA_CNT_RX_MATCHED], c[CA_CNT_TX_MATCHED]);
	CHECK(tn_sink_count(s9, 300) == N, "the stack lost frames");

	/* A swap that fails changes nothing. */
	memset(junk, 0x5a, sizeof(junk));
	bad = e[0];
	bad.tc = junk;
	bad.tc_len = sizeof(junk);
	id = tn_xdp_prog_id(&t, NULL);
	ret = xp_set_filter_elf(x, &bad, err, sizeof(err));
	CHECK(ret < 0, "a broken object was accepted");
	CHECK(tn_xdp_prog_id(&t, NULL) == id && tn_tc_attached(&t), "failed swap changed programs");
	rs.n = 0;
	tn_send(&t, 9, 20, 64, 500);
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	CHECK(tn_udp_recs(&rs, 9, CA_DIR_INGRESS) == 20, "capture broken after a failed swap");

	xp_elf_free(&e[0]);
	xp_elf_free(&e[1]);
	free(rs.r);
	xp_close(x);
	t_assert_clean(&t);
}

/* Ring-buffer ingress path (CA_CFG_RINGBUF): a copied frame is consumed
 * (XDP_DROP: the stack never sees it), a frame the full ring buffer had no
 * room for is counted and passed on, frames the filter rejects pass. */
void t_ringbuf(void)
{
	struct tnet t;
	struct xp_opts o;
	struct tn_recs rs = { 0 };
	uint64_t c[CA_CNT_MAX];
	struct xp *x;
	int s9, s10, got;

	tn_up(&t, "rb", 0);
	s9 = tn_sink(9);
	s10 = tn_sink(10);
	o = tn_opts(&t, true, false, false, 64);
	o.cfg.ringbuf = true;
	o.rb_size = 16384; /* fills up after a few dozen records */
	x = t_open(&t, "udp9", &o);
	tn_send(&t, 9, 20, 200, 2000);
	CHECK(tn_sink_count(s9, 300) == 0, "the stack got frames the ring buffer took");
	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	CHECK(tn_udp_recs(&rs, 9, CA_DIR_INGRESS) == 20, "%zu UDP records, want 20",
	      tn_udp_recs(&rs, 9, CA_DIR_INGRESS));
	CHECK(rs.n == 20 && rs.r[0].h.cap_len == 64 && rs.r[0].h.wire_len == 242,
	      "records: %zu, cap %u wire %u", rs.n, rs.n ? rs.r[0].h.cap_len : 0,
	      rs.n ? rs.r[0].h.wire_len : 0);
	/* Nobody drains now: 300 frames overflow the 16 KiB ring. */
	tn_send(&t, 9, 300, 200, 200);
	got = tn_sink_count(s9, 500);
	counters(x, c);
	CHECK(c[CA_CNT_RX_RB_FULL] > 0 && c[CA_CNT_RX_RB_OUT] > 20, "rb_out %lu rb_full %lu",
	      c[CA_CNT_RX_RB_OUT], c[CA_CNT_RX_RB_FULL]);
	CHECK((uint64_t)got == c[CA_CNT_RX_RB_FULL],
	      "the stack got %d frames, the ring buffer was full for %lu", got,
	      c[CA_CNT_RX_RB_FULL]);
	CHECK(c[CA_CNT_RX_MATCHED] == 320 &&
		      c[CA_CNT_RX_MATCHED] == c[CA_CNT_RX_RB_OUT] + c[CA_CNT_RX_RB_FULL],
	      "matched %lu != rb_out %lu + rb_full %lu", c[CA_CNT_RX_MATCHED],
	      c[CA_CNT_RX_RB_OUT], c[CA_CNT_RX_RB_FULL]);
	/* Not matched: passes. */
	tn_send(&t, 10, 50, 200, 200);
	CHECK(tn_sink_count(s10, 500) == 50, "unmatched frames did not reach the stack");
	CHECK(c[CA_CNT_RX_NO_XSK] == 0 && c[CA_CNT_RX_REDIRECTED] == 0, "AF_XDP path used");
	free(rs.r);
	xp_close(x);
	t_assert_clean(&t);
}
