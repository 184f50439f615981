/* SPDX-License-Identifier: BSD-2-Clause */
/* The whole path with the real filter compiler: tcpdump expression ->
 * filtergen -> fg_build of the embedded sources -> xp_open/xp_set_filter. */
#include <string.h>
#include <time.h>

#include "filtergen/filtergen.h"
#include "tests.h"

static struct fg_filter *compile(const char *expr)
{
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "";
	int ret = fg_compile(expr, FG_SNAPLEN_MAX, &f, err, sizeof(err));

	CHECK(!ret, "fg_compile(%s): %d %s", expr, ret, err);
	return f;
}

static size_t udp_recs(struct xp *x, int port)
{
	struct tn_recs rs = { 0 };
	size_t n;

	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	n = tn_udp_recs(&rs, port, CA_DIR_INGRESS);
	free(rs.r);
	return n;
}

static void send_both(struct tnet *t)
{
	tn_send(t, 9, 20, 100, 500);
	tn_send(t, 10, 10, 100, 500);
}

void t_fg(void)
{
	struct tnet t;
	struct xp_opts o;
	struct fg_filter *f;
	struct timespec a, b;
	char err[FG_ERR_LEN] = "";
	struct xp *x;
	int ret;

	tn_up(&t, "fg", 0);
	tn_sink(9);
	tn_sink(10);
	o = tn_opts(&t, true, true, true, 0);
	f = compile("udp dst port 9");
	clock_gettime(CLOCK_MONOTONIC, &a);
	ret = xp_open(&o, f, &x, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(!ret, "xp_open: %d %s", ret, err);
	fprintf(stderr, "xp_open with clang build: %ld ms\n",
		(b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
	fg_free(f);
	send_both(&t);
	{
		struct tn_recs rs = { 0 };

		tn_rb_drain(xp_rb_fd(x), &rs, 500);
		CHECK(tn_udp_recs(&rs, 9, CA_DIR_INGRESS) == 20, "port 9 records");
		CHECK(tn_udp_recs(&rs, 10, CA_DIR_INGRESS) == 0, "port 10 captured");
		free(rs.r);
	}

	f = compile("udp");
	CHECK(!xp_set_filter(x, f, err, sizeof(err)), "swap to udp: %s", err);
	fg_free(f);
	send_both(&t);
	{
		struct tn_recs rs = { 0 };

		tn_rb_drain(xp_rb_fd(x), &rs, 500);
		CHECK(tn_udp_recs(&rs, 9, CA_DIR_INGRESS) == 20 &&
			      tn_udp_recs(&rs, 10, CA_DIR_INGRESS) == 10,
		      "after the swap to udp");
		free(rs.r);
	}

	f = compile("none");
	CHECK(!xp_set_filter(x, f, err, sizeof(err)), "swap to none: %s", err);
	fg_free(f);
	send_both(&t);
	CHECK(udp_recs(x, 9) == 0, "filter none captured");
	xp_close(x);
	t_assert_clean(&t);
}
