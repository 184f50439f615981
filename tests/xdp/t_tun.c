/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Raw-IP devices: a tun device (IFF_TUN, ARPHRD_NONE) in the bed's namespace
 * A. Packets written to its fd arrive on it (XDP, generic mode: tun refuses
 * native XDP in TUN mode); packets routed to it leave through TC egress and
 * are read back from the fd. In both hooks the data starts at the IP header:
 * the filter must be compiled for DLT_RAW and the records start there.
 */
#include <net/if.h> /* before the <linux/> headers that include <linux/if.h> */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "filtergen/filtergen.h"
#include "tests.h"

#define TUN_IP "10.78.0.1"   /* the tun's own address (in A) */
#define TUN_PEER "10.78.0.2" /* routed through the tun */

/* Creates tun device name in the current namespace (A); returns its fd. */
static int tun_create(struct tnet *t, const char *name, unsigned int arphrd, bool up)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	CHECK(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	CHECK(!ioctl(fd, TUNSETIFF, &ifr), "TUNSETIFF %s: %s", name, strerror(errno));
	/* Another device type on the same driver (only while down). */
	if (arphrd)
		CHECK(!ioctl(fd, TUNSETLINK, (unsigned long)arphrd), "TUNSETLINK %u: %s", arphrd,
		      strerror(errno));
	if (up)
		CHECK(!tn_sh("ip -n %s addr add " TUN_IP "/24 dev %s && ip -n %s link set %s up",
			     t->ns_a, name, t->ns_a, name),
		      "tun address");
	return fd;
}

static uint16_t csum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 packet proto from TUN_PEER to TUN_IP with l4 (l4len bytes) after the
 * header; returns its length. */
static size_t ip4(uint8_t *p, uint8_t proto, uint16_t id, const uint8_t *l4, size_t l4len)
{
	size_t len = 20 + l4len;
	uint16_t c;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = len >> 8;
	p[3] = len & 0xff;
	p[4] = id >> 8;
	p[5] = id & 0xff;
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, TUN_PEER, p + 12);
	inet_pton(AF_INET, TUN_IP, p + 16);
	c = csum(p, 20, 0);
	p[10] = c >> 8;
	p[11] = c & 0xff;
	memcpy(p + 20, l4, l4len);
	return len;
}

static size_t udp4(uint8_t *p, uint16_t id, int payload)
{
	uint8_t u[64] = { 0x30, 0x39, 0, 9, 0, (uint8_t)(8 + payload), 0, 0 };

	memset(u + 8, 0xab, payload);
	return ip4(p, 17, id, u, 8 + payload); /* UDP checksum 0: none (IPv4) */
}

static size_t icmp4(uint8_t *p, uint16_t id)
{
	uint8_t e[16] = { 8, 0, 0, 0, 0x12, 0x34, 0, (uint8_t)id };
	uint16_t c = csum(e, sizeof(e), 0);

	e[2] = c >> 8;
	e[3] = c & 0xff;
	return ip4(p, 1, id, e, sizeof(e));
}

static size_t tcp4_syn(uint8_t *p, uint16_t id)
{
	uint8_t s[20] = { 0x30, 0x39, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff };

	return ip4(p, 6, id, s, sizeof(s));
}

/* IPv6 UDP (fd00:78::2 -> fd00:78::1), 8 payload bytes. */
static size_t udp6(uint8_t *p, uint8_t seq)
{
	memset(p, 0, 56);
	p[0] = 0x60;
	p[3] = seq; /* flow label: the packets differ in their first 40 bytes */
	p[5] = 16;  /* payload length */
	p[6] = 17;
	p[7] = 64;
	inet_pton(AF_INET6, "fd00:78::2", p + 8);
	inet_pton(AF_INET6, "fd00:78::1", p + 24);
	p[40] = 0x30;
	p[41] = 0x39;
	p[43] = 9;
	p[45] = 16;
	memset(p + 48, 0xab, 8);
	p[48] = seq;
	return 56;
}

struct pkt {
	uint8_t b[64];
	size_t len;
	bool udp;
};

/* The traffic written into the tun: 10 IPv4 UDP, 4 IPv6 UDP, 5 ICMP echo
 * requests, 5 TCP SYNs, interleaved. */
static size_t make_traffic(struct pkt *ps)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 10; i++) {
		ps[n].len = udp4(ps[n].b, (uint16_t)(100 + i), 4 + i * 2);
		ps[n++].udp = true;
		if (i < 4) {
			ps[n].len = udp6(ps[n].b, (uint8_t)i);
			ps[n++].udp = true;
		}
		if (i < 5) {
			ps[n].len = icmp4(ps[n].b, (uint16_t)(200 + i));
			ps[n++].udp = false;
			ps[n].len = tcp4_syn(ps[n].b, (uint16_t)(300 + i));
			ps[n++].udp = false;
		}
	}
	return n;
}

static void write_all(int fd, const struct pkt *ps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		CHECK(write(fd, ps[i].b, ps[i].len) == (ssize_t)ps[i].len, "write to tun: %s",
		      strerror(errno));
}

/* Reads what left through the tun; returns the IPv4 UDP packets to port 9. */
static int read_udp_out(int fd, int want)
{
	uint8_t buf[2048];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = 0, tries = 0;
	ssize_t r;

	while (tries < 10) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (n >= want)
				break;
			poll(&p, 1, 100);
			tries++;
			continue;
		}
		n += r >= 28 && buf[0] == 0x45 && buf[9] == 17 && buf[22] == 0 && buf[23] == 9;
	}
	return n;
}

static struct fg_filter *raw_udp(void)
{
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "";
	int ret = fg_compile_dlt("udp", FG_SNAPLEN_MAX, FG_DLT_RAW, &f, err, sizeof(err));

	CHECK(!ret, "fg_compile_dlt(udp, RAW): %d %s", ret, err);
	return f;
}

/* Nothing of ours on dev (the tun's version of t_assert_clean). */
static void assert_clean(struct tnet *t, const char *dev)
{
	CHECK(!tn_sh("! ip -n %s link show dev %s | grep -q xdp", t->ns_a, dev),
	      "XDP left on %s", dev);
	CHECK(!tn_sh("! tc -n %s qdisc show dev %s | grep -q clsact", t->ns_a, dev),
	      "clsact left on %s", dev);
	CHECK(tn_pidfiles(t) == 0, "pid file left");
}

static void linktypes(struct tnet *t)
{
	static const struct {
		unsigned int arphrd;
		int ret, dlt;
	} types[] = {
		{ ARPHRD_TUNNEL, 0, FG_DLT_RAW },	 { ARPHRD_TUNNEL6, 0, FG_DLT_RAW },
		{ ARPHRD_SIT, 0, FG_DLT_RAW },		 { ARPHRD_IPGRE, 0, FG_DLT_RAW },
		{ ARPHRD_RAWIP, 0, FG_DLT_RAW },	 { ARPHRD_NONE, 0, FG_DLT_RAW },
		{ ARPHRD_INFINIBAND, -EOPNOTSUPP, 0 },	 { ARPHRD_IEEE80211_RADIOTAP, -EOPNOTSUPP, 0 },
		{ ARPHRD_PPP, -EOPNOTSUPP, 0 },
	};
	char err[512], name[16], want[32];
	uint32_t lt;
	size_t i;
	int dlt, ret, fd;

	err[0] = 0;
	ret = xp_iface_linktype(t->if_a, &lt, &dlt, err, sizeof(err));
	CHECK(!ret && lt == FG_LINKTYPE_ETHERNET && dlt == FG_DLT_EN10MB, "veth: %d %u %d %s",
	      ret, lt, dlt, err);
	ret = xp_iface_linktype("lo", &lt, &dlt, err, sizeof(err));
	CHECK(!ret && lt == FG_LINKTYPE_ETHERNET && dlt == FG_DLT_EN10MB, "lo: %d %u %d %s",
	      ret, lt, dlt, err);
	ret = xp_iface_linktype("dpanosuchif", &lt, &dlt, err, sizeof(err));
	CHECK(ret == -ENODEV && strstr(err, "dpanosuchif"), "unknown: %d %s", ret, err);

	/* Every device type on a tun (TUNSETLINK), one at a time. */
	snprintf(name, sizeof(name), "dpalt%d", getpid() % 1000000);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fd = tun_create(t, name, types[i].arphrd, false);
		lt = 0;
		dlt = -1;
		err[0] = 0;
		ret = xp_iface_linktype(name, &lt, &dlt, err, sizeof(err));
		CHECK(ret == types[i].ret, "type %u: %d %s", types[i].arphrd, ret, err);
		if (!ret) {
			CHECK(dlt == types[i].dlt && lt == FG_LINKTYPE_RAW, "type %u: dlt %d lt %u",
			      types[i].arphrd, dlt, lt);
		} else {
			snprintf(want, sizeof(want), "link type %u", types[i].arphrd);
			CHECK(strstr(err, name) && strstr(err, want) && strstr(err, "not supported"),
			      "message: %s", err);
		}
		close(fd); /* a non-persistent tun goes with its fd */
	}

	/* xp_open on an unsupported type: refused, nothing attached. */
	fd = tun_create(t, name, ARPHRD_INFINIBAND, false);
	{
		struct xp_opts o = tn_opts(t, true, true, true, 0);
		struct xp_elf e;
		struct xp *x = NULL;

		o.ifname = name;
		tn_elf("all", &e);
		ret = xp_open_elf(&o, &e, &x, err, sizeof(err));
		CHECK(ret == -EOPNOTSUPP && !x && strstr(err, "not supported"),
		      "open on ARPHRD_INFINIBAND: %d %s", ret, err);
		xp_elf_free(&e);
		assert_clean(t, name);
	}
	close(fd);
}

/* Ring-buffer ingress (transparent, or the capture-port path that consumes
 * what it copied) and egress on the tun. */
static void rb_path(struct tnet *t, const char *dev, int fd, enum xp_xdp_mode mode,
		    bool consume)
{
	struct pkt ps[40];
	struct xp_opts o = tn_opts(t, true, true, true, 0);
	struct tn_recs rs = { 0 };
	struct fg_filter *f = raw_udp();
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	uint64_t c[CA_CNT_MAX];
	char err[FG_ERR_LEN] = "", buf[100];
	struct xp_info info;
	size_t n, i, j, nudp = 0, in_udp = 0, out_udp = 0;
	struct xp *x;
	int s, ret, sink = tn_sink(9), got;

	o.ifname = dev;
	o.xdp_mode = mode;
	o.cfg.transparent = !consume;
	o.cfg.ringbuf = consume;
	ret = xp_open(&o, f, &x, err, sizeof(err));
	CHECK(!ret, "xp_open on the tun: %d %s", ret, err);
	xp_info(x, &info);
	CHECK(!info.xdp_native, "tun in TUN mode runs XDP in generic mode");
	CHECK(info.arphrd == ARPHRD_NONE && info.dlt == FG_DLT_RAW &&
		      info.linktype == FG_LINKTYPE_RAW,
	      "xp_info: arphrd %u dlt %d linktype %u", info.arphrd, info.dlt, info.linktype);

	/* In: exactly the UDP packets, each record the written packet from
	 * its IP header on. */
	n = make_traffic(ps);
	write_all(fd, ps, n);
	/* Out: UDP from a socket, routed through the tun. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0, "socket");
	inet_pton(AF_INET, TUN_PEER, &to.sin_addr);
	memset(buf, 0xab, sizeof(buf));
	for (i = 0; i < 6; i++)
		CHECK(sendto(s, buf, 10 + i, 0, (void *)&to, sizeof(to)) == (ssize_t)(10 + i),
		      "sendto: %s", strerror(errno));
	close(s);
	CHECK(read_udp_out(fd, 6) == 6, "the UDP packets did not leave through the tun");
	/* the 10 IPv4 datagrams to port 9: passed on (transparent) or taken */
	got = tn_sink_count(sink, consume ? 200 : 500);
	CHECK(got == (consume ? 0 : 10), "%d datagrams reached the socket (%s)", got,
	      consume ? "consumed path" : "transparent");
	close(sink);
	tn_rb_drain(xp_rb_fd(x), &rs, 500);

	for (i = 0; i < n; i++)
		nudp += ps[i].udp;
	for (j = 0; j < rs.n; j++) {
		const struct tn_rec *r = &rs.r[j];
		bool found = false;

		CHECK(r->h.cap_len == r->h.wire_len, "record cut: cap %u wire %u", r->h.cap_len,
		      r->h.wire_len);
		if (r->h.dir == CA_DIR_EGRESS) {
			CHECK(r->h.cap_len == 28 + 10 + out_udp && r->data[0] == 0x45 &&
				      r->data[9] == 17 && r->data[23] == 9,
			      "egress record %zu: len %u first byte %02x proto %u", out_udp,
			      r->h.cap_len, r->data[0], r->data[9]);
			out_udp++;
			continue;
		}
		for (i = 0; i < n && !found; i++)
			found = ps[i].len == r->h.cap_len && !memcmp(ps[i].b, r->data, ps[i].len);
		CHECK(found, "ingress record (%u bytes, first %02x) is no packet written",
		      r->h.cap_len, r->data[0]);
		CHECK(ps[i - 1].udp, "a non-UDP packet was captured (proto %u)", r->data[9]);
		CHECK((int)r->h.ifindex == info.ifindex, "ifindex %u", r->h.ifindex);
		in_udp++;
	}
	CHECK(in_udp == nudp, "%zu ingress records, want the %zu UDP packets", in_udp, nudp);
	CHECK(out_udp == 6, "%zu egress records, want 6", out_udp);
	CHECK(!xp_counters(x, c), "counters");
	CHECK(c[CA_CNT_RX_SEEN] >= n, "XDP saw %lu of the %zu packets", c[CA_CNT_RX_SEEN], n);
	CHECK(c[CA_CNT_RX_MATCHED] == nudp && c[CA_CNT_TX_MATCHED] == 6,
	      "matched rx %lu tx %lu", c[CA_CNT_RX_MATCHED], c[CA_CNT_TX_MATCHED]);
	/* The kernel answered the echo requests and SYNs through the tun:
	 * egress saw more than it captured. */
	CHECK(c[CA_CNT_TX_SEEN] > 6, "tx_seen %lu: no replies went out", c[CA_CNT_TX_SEEN]);
	free(rs.r);
	fg_free(f);
	xp_close(x);
	assert_clean(t, dev);
}

/* AF_XDP on the tun (copy mode): the frame at desc.addr is the IP packet,
 * struct ca_meta in front of it, cut to the snaplen. */
static void xsk_path(struct tnet *t, const char *dev, int fd)
{
	struct xsk_socket_config sc = {
		.rx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct xp_opts o = tn_opts(t, true, false, false, 40);
	struct fg_filter *f = raw_udp();
	struct xsk_ring_prod fq = { 0 }; /* zeroed: see t_xsk.c */
	struct xsk_ring_cons cq = { 0 }, rx = { 0 };
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct pkt ps[40];
	char err[FG_ERR_LEN] = "";
	__u32 idx, key = 0, i, got = 0, nudp = 0;
	uint64_t seen = 0;
	size_t n, k;
	struct xp *x;
	void *area;
	int sfd, ret;

	o.ifname = dev;
	ret = xp_open(&o, f, &x, err, sizeof(err));
	CHECK(!ret, "xp_open on the tun: %d %s", ret, err);
	area = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED, "mmap");
	ret = xsk_umem__create(&umem, area, 64 * 4096, &fq, &cq, NULL);
	CHECK(!ret, "umem: %s", strerror(-ret));
	ret = xsk_socket__create(&xsk, dev, 0, umem, &rx, NULL, &sc);
	CHECK(!ret, "xsk on the tun: %s", strerror(-ret));
	CHECK(xsk_ring_prod__reserve(&fq, 64, &idx) == 64, "fill ring");
	for (i = 0; i < 64; i++)
		*xsk_ring_prod__fill_addr(&fq, idx + i) = (uint64_t)i * 4096;
	xsk_ring_prod__submit(&fq, 64);
	sfd = xsk_socket__fd(xsk);
	CHECK(!bpf_map_update_elem(xp_xsks_fd(x), &key, &sfd, BPF_ANY), "xskmap: %s",
	      strerror(errno));

	n = make_traffic(ps);
	for (k = 0; k < n; k++)
		nudp += ps[k].udp;
	write_all(fd, ps, n);
	for (int tries = 0; got < nudp && tries < 20; tries++) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		__u32 m;

		poll(&p, 1, 100);
		m = xsk_ring_cons__peek(&rx, 64, &idx);
		for (i = 0; i < m; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
			const uint8_t *pkt = xsk_umem__get_data(area, d->addr);
			const struct ca_meta *meta = (const void *)(pkt - sizeof(*meta));
			bool found = false;

			for (k = 0; k < n && !found; k++)
				found = ps[k].udp && ps[k].len == meta->wire_len &&
					!memcmp(ps[k].b, pkt, d->len);
			CHECK(found, "frame (%u bytes, first %02x, wire_len %u) is no UDP packet "
			      "written", d->len, pkt[0], meta->wire_len);
			CHECK(meta->cap_len == (meta->wire_len < 40 ? meta->wire_len : 40),
			      "cap_len %u for wire_len %u (snaplen 40)", meta->cap_len,
			      meta->wire_len);
			CHECK(d->len == meta->cap_len, "desc.len %u, cap_len %u", d->len,
			      meta->cap_len);
			CHECK(!(seen & (1ull << (k - 1))), "packet %zu twice", k - 1);
			seen |= 1ull << (k - 1);
			got++;
		}
		xsk_ring_cons__release(&rx, m);
	}
	CHECK(got == nudp, "the socket got %u of %u UDP packets", got, nudp);
	bpf_map_delete_elem(xp_xsks_fd(x), &key);
	xp_close(x);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, 64 * 4096);
	fg_free(f);
	assert_clean(t, dev);
}

void t_tun(void)
{
	struct tnet t;
	struct xp_opts o;
	struct fg_filter *f = NULL;
	char dev[16], err[FG_ERR_LEN] = "";
	struct xp *x = NULL;
	int fd, ret;

	tn_up(&t, "tu", 0);
	linktypes(&t);

	snprintf(dev, sizeof(dev), "dpatu%d", getpid() % 1000000);
	fd = tun_create(&t, dev, 0, true);
	CHECK(!tn_sh("ip -n %s -6 addr add fd00:78::1/64 dev %s nodad", t.ns_a, dev),
	      "tun IPv6 address");

	/* An Ethernet filter on the tun (and a raw one on the veth): refused
	 * before anything is built or attached. */
	o = tn_opts(&t, true, true, true, 0);
	o.ifname = dev;
	CHECK(!fg_compile("udp", FG_SNAPLEN_MAX, &f, err, sizeof(err)), "compile: %s", err);
	ret = xp_open(&o, f, &x, err, sizeof(err));
	CHECK(ret == -EINVAL && !x && strstr(err, "Ethernet") && strstr(err, dev),
	      "Ethernet filter on the tun: %d %s", ret, err);
	fg_free(f);
	assert_clean(&t, dev);
	f = raw_udp();
	o.ifname = t.if_a;
	ret = xp_open(&o, f, &x, err, sizeof(err));
	CHECK(ret == -EINVAL && !x && strstr(err, "raw IP"), "raw filter on the veth: %d %s",
	      ret, err);
	t_assert_clean(&t);
	/* ... and by xp_set_filter, which keeps the old program. */
	x = t_open(&t, "all", &o);
	ret = xp_set_filter(x, f, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "raw IP"), "raw filter swapped onto the veth: %d %s",
	      ret, err);
	xp_close(x);
	fg_free(f);
	t_assert_clean(&t);

	rb_path(&t, dev, fd, XP_XDP_AUTO, false);
	rb_path(&t, dev, fd, XP_XDP_GENERIC, false);
	rb_path(&t, dev, fd, XP_XDP_AUTO, true);
	ret = xp_open(&(struct xp_opts){ .ifname = dev, .run_dir = t.run_dir,
					 .xdp_mode = XP_XDP_NATIVE },
		      (f = raw_udp()), &x, err, sizeof(err));
	CHECK(ret == -EOPNOTSUPP && !x, "native XDP on a tun: %d %s", ret, err);
	fg_free(f);
	assert_clean(&t, dev);
	xsk_path(&t, dev, fd);
	close(fd);
}
