/* SPDX-License-Identifier: BSD-2-Clause */
/* The test bed of tnet.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <net/if.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tnet.h"

/* A copy of the bed for the exit handlers (the test's own may be gone). */
static struct tnet g_copy;
static struct tnet *g_bed;

int tn_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void tn_down(void)
{
	if (!g_bed)
		return;
	tn_sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; rm -rf %s",
	      g_bed->ns_a, g_bed->ns_b, g_bed->run_dir);
	g_bed = NULL;
}

void tn_forget(void)
{
	g_bed = NULL;
}

bool tn_is_udp(const struct tn_rec *r, int port)
{
	const uint8_t *d = r->data;

	return r->h.cap_len >= 38 && d[12] == 0x08 && d[13] == 0 && d[23] == 17 &&
	       d[36] == (port >> 8) && d[37] == (port & 0xff);
}

size_t tn_udp_recs_dir(const struct tn_recs *rs, int port, enum ca_dir dir)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++)
		n += tn_is_udp(&rs->r[i], port) && rs->r[i].h.dir == dir;
	return n;
}

size_t tn_udp_recs(const struct tn_recs *rs, int port, enum ca_dir dir)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++) {
		if (!tn_is_udp(&rs->r[i], port))
			continue;
		CHECK(rs->r[i].h.dir == dir, "record direction %u, want %u", rs->r[i].h.dir, dir);
		n++;
	}
	return n;
}

static void on_signal(int sig)
{
	tn_down();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int ns_fd(const char *name)
{
	char path[96];

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

void tn_up(struct tnet *t, const char *tag, unsigned int rxq)
{
	int pid = getpid();
	char q[64] = "";

	memset(t, 0, sizeof(*t));
	snprintf(t->ns_a, sizeof(t->ns_a), "dpa%s%da", tag, pid);
	snprintf(t->ns_b, sizeof(t->ns_b), "dpa%s%db", tag, pid);
	/* Unique names also for the interfaces: /sys shows the root netns. */
	snprintf(t->if_a, sizeof(t->if_a), "dpa%.2s%da", tag, pid % 10000000);
	snprintf(t->if_b, sizeof(t->if_b), "dpa%.2s%db", tag, pid % 10000000);
	snprintf(t->run_dir, sizeof(t->run_dir), "/tmp/dpa-run-%s-%d", tag, pid);
	if (rxq)
		snprintf(q, sizeof(q), "numrxqueues %u numtxqueues %u", rxq, rxq);
	atexit(tn_down);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	g_copy = *t;
	g_bed = &g_copy;
	mkdir(t->run_dir, 0755);
	CHECK(!tn_sh("set -e; ip netns add %s; ip netns add %s;"
		     "ip -n %s link add %s address 02:00:00:77:00:01 %s type veth"
		     " peer name %s netns %s address 02:00:00:77:00:02 %s;"
		     "ip -n %s addr add " TN_IP_A "/24 dev %s; ip -n %s addr add " TN_IP_B "/24 dev %s;"
		     "ip -n %s link set %s up; ip -n %s link set %s up;"
		     "ip -n %s link set lo up; ip -n %s link set lo up;"
		     "ip -n %s neigh add " TN_IP_B " lladdr 02:00:00:77:00:02 dev %s;"
		     "ip -n %s neigh add " TN_IP_A " lladdr 02:00:00:77:00:01 dev %s",
		     t->ns_a, t->ns_b, t->ns_a, t->if_a, q, t->if_b, t->ns_b, q,
		     t->ns_a, t->if_a, t->ns_b, t->if_b, t->ns_a, t->if_a, t->ns_b, t->if_b,
		     t->ns_a, t->ns_b, t->ns_a, t->if_a, t->ns_b, t->if_b),
	      "building the test bed");
	t->fd_a = ns_fd(t->ns_a);
	t->fd_b = ns_fd(t->ns_b);
	CHECK(t->fd_a >= 0 && t->fd_b >= 0, "netns fds");
	CHECK(!setns(t->fd_a, CLONE_NEWNET), "entering %s: %s", t->ns_a, strerror(errno));
	t->ifindex_a = if_nametoindex(t->if_a);
	CHECK(t->ifindex_a > 0, "ifindex of %s", t->if_a);
}

struct xp_opts tn_opts(struct tnet *t, bool ingress, bool egress, bool transparent,
		       uint32_t snaplen)
{
	struct xp_opts o = {
		.ifname = t->if_a,
		.run_dir = t->run_dir,
		.cfg = { .snaplen = snaplen, .ingress = ingress, .egress = egress,
			 .transparent = transparent },
		.rb_size = 1u << 20,
	};
	return o;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	CHECK(f, "open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n);
	CHECK(buf && fread(buf, 1, n, f) == (size_t)n, "read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

void tn_elf(const char *filter, struct xp_elf *e)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/tx_capture_%s.bpf.o", XP_TEST_OBJ_DIR, filter);
	e->xdp = slurp(path, &e->xdp_len);
	snprintf(path, sizeof(path), "%s/tx_egress_%s.bpf.o", XP_TEST_OBJ_DIR, filter);
	e->tc = slurp(path, &e->tc_len);
}

/* from_a: send from A (egress of the captured veth) to B, else B to A. */
static void send_loop(struct tnet *t, bool from_a, int port, int count, int payload,
		      int gap_us)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	char buf[65536];
	int fd, i;

	if (!from_a)
		CHECK(!setns(t->fd_b, CLONE_NEWNET), "entering %s", t->ns_b);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd >= 0, "socket");
	inet_pton(AF_INET, from_a ? TN_IP_B : TN_IP_A, &to.sin_addr);
	memset(buf, 0xab, sizeof(buf));
	for (i = 0; i < count; i++) {
		memcpy(buf, &i, sizeof(i)); /* sequence number */
		CHECK(sendto(fd, buf, payload, 0, (void *)&to, sizeof(to)) == payload,
		      "sendto: %s", strerror(errno));
		if (gap_us)
			usleep(gap_us);
	}
	close(fd);
}

static pid_t send_bg(struct tnet *t, bool from_a, int port, int count, int payload,
		     int gap_us)
{
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		g_bed = NULL; /* the parent cleans up */
		send_loop(t, from_a, port, count, payload, gap_us);
		_exit(0);
	}
	return pid;
}

pid_t tn_send_bg(struct tnet *t, int port, int count, int payload, int gap_us)
{
	return send_bg(t, false, port, count, payload, gap_us);
}

pid_t tn_send_out_bg(struct tnet *t, int port, int count, int payload, int gap_us)
{
	return send_bg(t, true, port, count, payload, gap_us);
}

void tn_wait(pid_t pid)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "sender failed");
}

void tn_send(struct tnet *t, int port, int count, int payload, int gap_us)
{
	tn_wait(tn_send_bg(t, port, count, payload, gap_us));
}

int tn_sink(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), big = 4 << 20;

	CHECK(fd >= 0, "socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	CHECK(!bind(fd, (void *)&a, sizeof(a)), "bind %d: %s", port, strerror(errno));
	return fd;
}

int tn_sink_count(int fd, int wait_ms)
{
	char buf[65536];
	int total = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		while (recv(fd, buf, sizeof(buf), 0) >= 0)
			total++;
		if (poll(&p, 1, wait_ms) <= 0)
			break;
		wait_ms = 200; /* then only while more keeps coming */
	}
	return total;
}

static int rec_cb(void *ctx, void *data, size_t size)
{
	struct tn_recs *rs = ctx;
	const struct ca_rb_hdr *h = data;
	struct tn_rec *r;

	CHECK(size >= sizeof(*h) && size == sizeof(*h) + h->cap_len,
	      "record size %zu for cap_len %u", size, size >= sizeof(*h) ? h->cap_len : 0);
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		CHECK(rs->r, "realloc");
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	r->h = *h;
	memcpy(r->data, h + 1, h->cap_len < sizeof(r->data) ? h->cap_len : sizeof(r->data));
	for (size_t i = 42; i < h->cap_len; i++)
		r->ab += ((const uint8_t *)(h + 1))[i] == 0xab;
	return 0;
}

static int rec_ts_cmp(const void *a, const void *b)
{
	const struct tn_rec *x = a, *y = b;

	return x->h.ts_ns < y->h.ts_ns ? -1 : x->h.ts_ns > y->h.ts_ns;
}

/* rb_fd is xp's array of per-CPU ring buffers: read them all. */
void tn_rb_drain(int rb_fd, struct tn_recs *out, int wait_ms)
{
	size_t first = out->n;
	struct ring_buffer *rb = NULL;
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info), i, id;
	int fd, fds[256], rings = 0;

	CHECK(!bpf_obj_get_info_by_fd(rb_fd, &info, &ilen) &&
		      info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS,
	      "ring buffers: not an array of maps");
	for (i = 0; i < info.max_entries; i++) {
		if (bpf_map_lookup_elem(rb_fd, &i, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		CHECK(fd >= 0 && rings < 256, "ring %u: %s", i, strerror(errno));
		if (fd < 0 || rings == 256)
			break;
		if (!rb)
			rb = ring_buffer__new(fd, rec_cb, out, NULL);
		else
			CHECK(!ring_buffer__add(rb, fd, rec_cb, out), "ring_buffer__add");
		fds[rings++] = fd;
	}
	CHECK(rings == libbpf_num_possible_cpus(), "%d rings, want one per CPU", rings);
	CHECK(rb, "ring_buffer__new");
	ring_buffer__poll(rb, wait_ms);
	while (ring_buffer__poll(rb, 100) > 0)
		;
	/* Ingress records are written with BPF_RB_NO_WAKEUP: the last ones
	 * may never wake poll, so take what is in the ring without waiting. */
	CHECK(ring_buffer__consume(rb) >= 0, "ring_buffer__consume");
	ring_buffer__free(rb);
	while (rings)
		close(fds[--rings]);
	if (out->n > first)
		qsort(out->r + first, out->n - first, sizeof(*out->r), rec_ts_cmp);
}

uint32_t tn_xdp_prog_id(struct tnet *t, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	CHECK(!bpf_xdp_query(t->ifindex_a, 0, &q), "bpf_xdp_query");
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id;
}

bool tn_tc_attached(struct tnet *t)
{
	return !tn_sh("tc -n %s filter show dev %s egress | grep -q ca_egress", t->ns_a,
		      t->if_a);
}

bool tn_clsact_present(struct tnet *t)
{
	return !tn_sh("tc -n %s qdisc show dev %s | grep -q clsact", t->ns_a, t->if_a);
}

int tn_pidfiles(struct tnet *t)
{
	DIR *d = opendir(t->run_dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
