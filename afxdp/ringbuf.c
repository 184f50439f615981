/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ring-buffer consumer: TC egress, --transparent and --ingress-path
 * ringbuf records.
 *
 * Our own reader of the BPF ring buffer's mmap()ed pages rather than libbpf's
 * ring_buffer__poll: libbpf publishes the consumer position after every
 * record, and each of those stores pulls the cache line away from the
 * producer (the XDP program on another CPU). Here it is published once per
 * batch. The ingress programs don't wake us per record (BPF_RB_NO_WAKEUP),
 * so we also look every poll_ms; egress records still wake us.
 */
#include <errno.h>
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

struct xsk_rb {
	struct xsk_rb_opts o;
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
	_Atomic bool stop;
	_Atomic uint32_t snaplen;
	struct xsk_counters cnt;
};

static void on_record(struct xsk_rb *r, const void *data, size_t size, uint32_t snap,
		      struct xsk_tally *t)
{
	struct wr_rec rec;

	if (!xsk_meta_record(data, size, &rec)) {
		t->bad++;
		return;
	}
	xsk_deliver(r->stream, &r->clk, &rec, snap, t);
}

/* Handles up to RB_BATCH committed records; returns how many it took. */
static uint32_t consume(struct xsk_rb *r)
{
	uint32_t snap = atomic_load_explicit(&r->snaplen, memory_order_relaxed);
	unsigned long cons = *r->cons_pos;
	unsigned long prod = __atomic_load_n(r->prod_pos, __ATOMIC_ACQUIRE);
	struct xsk_tally t = { 0 };
	uint32_t n = 0;

	while (cons < prod && n < RB_BATCH) {
		const uint8_t *hdr = r->data + (cons & r->mask);
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not committed yet: records stay in order */
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			on_record(r, hdr + BPF_RINGBUF_HDR_SZ, size, snap, &t);
			n++;
		}
		cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
	}
	__atomic_store_n(r->cons_pos, cons, __ATOMIC_RELEASE);
	if (n)
		xsk_tally_add(&r->cnt, n, &t);
	return n;
}

static void *rb_main(void *arg)
{
	struct xsk_rb *r = arg;
	struct epoll_event ev;

	pthread_setname_np(pthread_self(), "ca-ringbuf");
	while (!atomic_load(&r->stop)) {
		if (consume(r)) {
			wr_stream_flush(r->stream, false);
			xsk_clock_tick(&r->clk);
			continue;
		}
		epoll_wait(r->epfd, &ev, 1, r->o.poll_ms);
		wr_stream_flush(r->stream, false);
		xsk_clock_tick(&r->clk);
	}
	/* The programs are detached by now: take what is left. */
	while (consume(r))
		;
	wr_stream_flush(r->stream, true);
	return NULL;
}

static void rb_free(struct xsk_rb *r)
{
	if (r->stream)
		wr_stream_free(r->stream);
	if (r->cons_pos)
		munmap(r->cons_pos, r->cons_len);
	if (r->prod_pos)
		munmap((void *)r->prod_pos, r->prod_len);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r);
}

static int rb_map(struct xsk_rb *r, int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	r->mask = info.max_entries - 1;
	r->cons_len = page;
	p = mmap(NULL, r->cons_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->cons_pos = p;
	/* The kernel maps the data pages twice in a row after the producer page. */
	r->prod_len = page + 2 * (size_t)info.max_entries;
	p = mmap(NULL, r->prod_len, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED)
		return -errno;
	r->prod_pos = p;
	r->data = (const uint8_t *)p + page;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return -errno;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

int xsk_rb_open(const struct xsk_rb_opts *o, struct xsk_rb **out)
{
	struct xsk_rb *r;
	int ret;

	*out = NULL;
	if (o->ringbuf_map_fd < 0 || !o->writer)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->epfd = -1;
	r->o = *o;
	if (!r->o.poll_ms)
		r->o.poll_ms = XSK_RB_POLL_MS_DEFAULT;
	atomic_init(&r->snaplen, o->snaplen);
	xsk_clock_init(&r->clk, o->ts_clock);
	ret = rb_map(r, o->ringbuf_map_fd);
	if (ret)
		goto out;
	ret = wr_stream_new(o->writer, &r->stream);
	if (ret)
		goto out;
	ret = -pthread_create(&r->thread, NULL, rb_main, r);
	if (ret)
		goto out;
	r->started = true;
	*out = r;
	return 0;
out:
	rb_free(r);
	return ret;
}

void xsk_rb_stop(struct xsk_rb *r)
{
	if (!r || !r->stream)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	wr_stream_free(r->stream);
	r->stream = NULL;
}

void xsk_rb_close(struct xsk_rb *r)
{
	if (!r)
		return;
	xsk_rb_stop(r);
	rb_free(r);
}

int xsk_rb_stats(struct xsk_rb *r, struct xsk_rb_stats *st)
{
	st->received = xsk_cnt_get(&r->cnt.received);
	st->written = xsk_cnt_get(&r->cnt.written);
	st->writer_behind = xsk_cnt_get(&r->cnt.writer_behind);
	st->bad_meta = xsk_cnt_get(&r->cnt.bad_meta);
	st->bytes = xsk_cnt_get(&r->cnt.bytes);
	return 0;
}

void xsk_rb_snaplen(struct xsk_rb *r, uint32_t snaplen)
{
	atomic_store(&r->snaplen, snaplen);
}
