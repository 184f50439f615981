/* SPDX-License-Identifier: BSD-2-Clause */
/* TC egress: host-sent packets, their wire length, GSO super-packets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static void send_from_a(int fd, int len, int seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	static char buf[65536];

	inet_pton(AF_INET, TN_IP_B, &to.sin_addr);
	memset(buf, 0xab, sizeof(buf));
	memcpy(buf, &seq, sizeof(seq));
	CHECK(sendto(fd, buf, len, 0, (void *)&to, sizeof(to)) == len, "sendto %d: %s", len,
	      strerror(errno));
}

/* Exactly one egress UDP record to port 9; returns it. */
static struct tn_rec one(struct xp *x)
{
	struct tn_recs rs = { 0 };
	struct tn_rec r = { 0 };
	size_t i, n = 0;

	tn_rb_drain(xp_rb_fd(x), &rs, 500);
	for (i = 0; i < rs.n; i++) {
		if (!tn_is_udp(&rs.r[i], 9))
			continue;
		CHECK(rs.r[i].h.dir == CA_DIR_EGRESS, "direction %u", rs.r[i].h.dir);
		r = rs.r[i];
		n++;
	}
	free(rs.r);
	CHECK(n == 1, "%zu egress records, want 1", n);
	return r;
}

void t_egress(void)
{
	static const int sizes[] = { 100, 1000, 1458 };
	struct tnet t;
	struct xp_opts o;
	struct xp_config cfg;
	uint64_t c[CA_CNT_MAX];
	struct tn_rec r;
	struct tn_recs rs = { 0 };
	struct xp *x;
	int fd, seg = 1000;
	size_t i;

	tn_up(&t, "eg", 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd >= 0, "socket");
	o = tn_opts(&t, false, true, false, 0);
	x = t_open(&t, "udp", &o);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		send_from_a(fd, sizes[i], 1);
		r = one(x);
		CHECK(r.h.wire_len == (uint32_t)sizes[i] + 42, "wire_len %u for %d bytes",
		      r.h.wire_len, sizes[i]);
		CHECK(r.h.cap_len == r.h.wire_len, "cap_len %u", r.h.cap_len);
		CHECK((int)r.h.ifindex == t.ifindex_a, "ifindex %u", r.h.ifindex);
		CHECK(r.ab == (uint32_t)sizes[i] - 4, "bytes differ (%u 0xab)", r.ab);
	}

	/* A UDP GSO super-packet (4 segments): one record, wire_len = skb->len,
	 * bytes read from the non-linear part too. */
	CHECK(!setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)), "UDP_SEGMENT");
	send_from_a(fd, 4000, 2);
	r = one(x);
	CHECK(r.h.wire_len == 4042, "GSO wire_len %u, want 4042", r.h.wire_len);
	CHECK(r.h.cap_len == 4042, "GSO cap_len %u", r.h.cap_len);
	CHECK(r.ab == 3996, "GSO bytes differ (%u 0xab)", r.ab);
	seg = 0;
	setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));

	/* snaplen cuts, wire_len stays. */
	CHECK(!xp_get_config(x, &cfg), "get");
	cfg.snaplen = 200;
	CHECK(!xp_set_config(x, &cfg), "snaplen 200");
	send_from_a(fd, 1000, 3);
	r = one(x);
	CHECK(r.h.wire_len == 1042 && r.h.cap_len == 200, "wire %u cap %u", r.h.wire_len,
	      r.h.cap_len);

	/* Egress off: nothing. */
	cfg.egress = false;
	CHECK(!xp_set_config(x, &cfg), "egress off");
	send_from_a(fd, 300, 4);
	tn_rb_drain(xp_rb_fd(x), &rs, 300);
	CHECK(tn_udp_recs(&rs, 9, CA_DIR_EGRESS) == 0, "egress off still records");

	CHECK(!xp_counters(x, c), "counters");
	CHECK(c[CA_CNT_TX_MATCHED] == 5, "tx_matched %lu, want 5", c[CA_CNT_TX_MATCHED]);
	CHECK(c[CA_CNT_TX_MATCHED] == c[CA_CNT_TX_RB_OUT] + c[CA_CNT_TX_RB_FULL],
	      "tx counters don't add up");
	CHECK(c[CA_CNT_TX_SEEN] >= 6, "tx_seen %lu", c[CA_CNT_TX_SEEN]);
	CHECK(c[CA_CNT_RX_MATCHED] == 0, "ingress matched with ingress off");
	close(fd);
	free(rs.r);
	xp_close(x);
	t_assert_clean(&t);
}
