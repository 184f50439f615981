/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ring-buffer consumer: TC egress, --transparent and --ingress-path
 * ringbuf records. One thread per ring (xdp/ gives every CPU its own), each
 * with its own writer stream, so rings never wait for each other.
 *
 * Our own reader of the BPF ring buffer's mmap()ed pages rather than libbpf's
 * ring_buffer__poll: libbpf publishes the consumer position after every
 * record, and each of those stores pulls the cache line away from the
 * producer (the XDP program on another CPU). Here it is published once per
 * batch. The ingress programs don't wake us per record (BPF_RB_NO_WAKEUP),
 * so we also look every poll_ms; egress records still wake us.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "afxdp/internal.h"

/* Records per batch: the consumer position goes back to the kernel (freeing
 * room) at least this often. */
#define RB_BATCH 4096u

/* One ring and its consumer thread, with its own writer stream. */
struct rb_ring {
	struct xsk_rb *rb;
	unsigned int id;
	int fd;
	int epfd;
	unsigned long *cons_pos;       /* ours to write (page 0 of the map) */
	const unsigned long *prod_pos; /* the kernel's (page 1) */
	const uint8_t *data;	       /* mapped twice: records never wrap */
	size_t mask;
	size_t cons_len, prod_len;
	struct wr_stream *stream;
	struct xsk_clock clk;
	pthread_t thread;
	bool started;
	struct xsk_counters cnt;
};

struct xsk_rb {
	struct xsk_rb_opts o;
	unsigned int n;
	struct rb_ring *ring;
	bool stopped;
	_Atomic bool stop;
	_Atomic uint32_t snaplen;
};

static void on_record(struct rb_ring *g, const void *data, size_t size, uint32_t snap,
		      struct xsk_tally *t)
{
	struct wr_rec rec;

	if (!xsk_meta_record(data, size, &rec)) {
		t->bad++;
		return;
	}
	xsk_deliver(g->stream, &g->clk, &rec, snap, t);
}

/* Handles up to RB_BATCH committed records; returns how many it took. */
static uint32_t consume(struct rb_ring *g)
{
	uint32_t snap = atomic_load_explicit(&g->rb->snaplen, memory_order_relaxed);
	unsigned long cons = *g->cons_pos;
	unsigned long prod = __atomic_load_n(g->prod_pos, __ATOMIC_ACQUIRE);
	struct xsk_tally t = { 0 };
	uint32_t n = 0;

	while (cons < prod && n < RB_BATCH) {
		const uint8_t *hdr = g->data + (cons & g->mask);
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not committed yet: records stay in order */
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			on_record(g, hdr + BPF_RINGBUF_HDR_SZ, size, snap, &t);
			n++;
		}
		cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
	}
	__atomic_store_n(g->cons_pos, cons, __ATOMIC_RELEASE);
	if (n)
		xsk_tally_add(&g->cnt, n, &t);
	return n;
}

static void *rb_main(void *arg)
{
	struct rb_ring *g = arg;
	struct epoll_event ev;
	char name[16];

	snprintf(name, sizeof(name), "ca-ringbuf%u", g->id);
	pthread_setname_np(pthread_self(), name);
	while (!atomic_load(&g->rb->stop)) {
		if (consume(g)) {
			wr_stream_flush(g->stream, false);
			xsk_clock_tick(&g->clk);
			continue;
		}
		epoll_wait(g->epfd, &ev, 1, g->rb->o.poll_ms);
		wr_stream_flush(g->stream, false);
		xsk_clock_tick(&g->clk);
	}
	/* The programs are detached by now: take what is left. */
	while (consume(g))
		;
	wr_stream_flush(g->stream, true);
	return NULL;
}

static void ring_free(struct rb_ring *g)
{
	if (g->stream)
		wr_stream_free(g->stream);
	if (g->cons_pos)
		munmap(g->cons_pos, g->cons_len);
	if (g->prod_pos)
		munmap((void *)g->prod_pos, g->prod_len);
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->fd >= 0)
		close(g->fd);
}

static void rb_free(struct xsk_rb *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		ring_free(&r->ring[i]);
	free(r->ring);
	free(r);
}

/* Maps ring fd (taken over by g) for reading. */
static int ring_map(struct rb_ring *g, int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;

	g->fd = fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	g->mask = info.max_entries - 1;
	g->cons_len = page;
	p = mmap(NULL, g->cons_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	g->cons_pos = p;
	/* The kernel maps the data pages twice in a row after the producer page. */
	g->prod_len = page + 2 * (size_t)info.max_entries;
	p = mmap(NULL, g->prod_len, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED)
		return -errno;
	g->prod_pos = p;
	g->data = (const uint8_t *)p + page;
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0)
		return -errno;
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

static struct rb_ring *ring_add(struct xsk_rb *r)
{
	struct rb_ring *g = &r->ring[r->n++];

	g->rb = r;
	g->id = r->n - 1;
	g->fd = g->epfd = -1;
	xsk_clock_init(&g->clk, r->o.ts_clock);
	return g;
}

/* The rings behind fd: fd itself (one ring buffer), or every ring buffer in
 * an array of maps (xdp/'s ca_rbs: one per CPU; empty slots are skipped). */
static int rb_rings(struct xsk_rb *r, int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info), i;
	int ret, dup;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		r->ring = calloc(1, sizeof(*r->ring));
		if (!r->ring)
			return -ENOMEM;
		dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (dup < 0)
			return -errno;
		return ring_map(ring_add(r), dup);
	}
	if (!info.max_entries || info.key_size != 4)
		return -EINVAL;
	r->ring = calloc(info.max_entries, sizeof(*r->ring));
	if (!r->ring)
		return -ENOMEM;
	for (i = 0; i < info.max_entries; i++) {
		uint32_t id;
		int in;

		if (bpf_map_lookup_elem(fd, &i, &id))
			continue; /* empty slot */
		in = bpf_map_get_fd_by_id(id);
		if (in < 0)
			return -errno;
		ret = ring_map(ring_add(r), in);
		if (ret)
			return ret;
	}
	return r->n ? 0 : -ENOENT;
}

int xsk_rb_open(const struct xsk_rb_opts *o, struct xsk_rb **out)
{
	struct xsk_rb *r;
	unsigned int i;
	int ret;

	*out = NULL;
	if (o->ringbuf_map_fd < 0 || !o->writer)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->o = *o;
	if (!r->o.poll_ms)
		r->o.poll_ms = XSK_RB_POLL_MS_DEFAULT;
	atomic_init(&r->snaplen, o->snaplen);
	ret = rb_rings(r, o->ringbuf_map_fd);
	for (i = 0; !ret && i < r->n; i++)
		ret = wr_stream_new(o->writer, &r->ring[i].stream);
	for (i = 0; !ret && i < r->n; i++) {
		ret = -pthread_create(&r->ring[i].thread, NULL, rb_main, &r->ring[i]);
		r->ring[i].started = !ret;
	}
	if (ret)
		goto out;
	*out = r;
	return 0;
out:
	atomic_store(&r->stop, true);
	for (i = 0; i < r->n; i++)
		if (r->ring[i].started)
			pthread_join(r->ring[i].thread, NULL);
	rb_free(r);
	return ret;
}

void xsk_rb_stop(struct xsk_rb *r)
{
	unsigned int i;

	if (!r || r->stopped)
		return;
	atomic_store(&r->stop, true);
	for (i = 0; i < r->n; i++) {
		pthread_join(r->ring[i].thread, NULL);
		wr_stream_free(r->ring[i].stream);
		r->ring[i].stream = NULL;
	}
	r->stopped = true;
}

void xsk_rb_close(struct xsk_rb *r)
{
	if (!r)
		return;
	xsk_rb_stop(r);
	rb_free(r);
}

unsigned int xsk_rb_rings(const struct xsk_rb *r)
{
	return r->n;
}

int xsk_rb_stats(struct xsk_rb *r, struct xsk_rb_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < r->n; i++) {
		struct xsk_counters *c = &r->ring[i].cnt;

		st->received += xsk_cnt_get(&c->received);
		st->written += xsk_cnt_get(&c->written);
		st->writer_behind += xsk_cnt_get(&c->writer_behind);
		st->bad_meta += xsk_cnt_get(&c->bad_meta);
		st->bytes += xsk_cnt_get(&c->bytes);
	}
	return 0;
}

void xsk_rb_snaplen(struct xsk_rb *r, uint32_t snaplen)
{
	atomic_store(&r->snaplen, snaplen);
}
