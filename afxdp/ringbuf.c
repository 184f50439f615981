/* SPDX-License-Identifier: BSD-2-Clause */
/* The ring-buffer consumer: TC egress and --transparent ingress records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "afxdp/internal.h"

struct xsk_rb {
	struct xsk_rb_opts o;
	struct ring_buffer *rb;
	struct wr_stream *stream;
	struct xsk_clock clk;
	pthread_t thread;
	_Atomic bool stop;
	_Atomic uint32_t snaplen;
	struct xsk_counters cnt;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct xsk_rb *r = ctx;
	uint32_t snap = atomic_load_explicit(&r->snaplen, memory_order_relaxed);
	struct wr_rec rec;

	xsk_cnt_add(&r->cnt.received, 1);
	if (!xsk_meta_record(data, size, &rec)) {
		xsk_cnt_add(&r->cnt.bad_meta, 1);
		return 0;
	}
	if (snap && rec.cap_len > snap)
		rec.cap_len = snap;
	rec.ts_ns = xsk_clock_wall(&r->clk, rec.ts_ns);
	if (wr_put(r->stream, &rec)) {
		xsk_cnt_add(&r->cnt.writer_behind, 1);
		return 0; /* never wait for the writer */
	}
	xsk_cnt_add(&r->cnt.written, 1);
	xsk_cnt_add(&r->cnt.bytes, rec.cap_len);
	return 0;
}

static void *rb_main(void *arg)
{
	struct xsk_rb *r = arg;

	pthread_setname_np(pthread_self(), "ca-ringbuf");
	while (!atomic_load(&r->stop)) {
		ring_buffer__poll(r->rb, r->o.poll_ms);
		wr_stream_flush(r->stream, false);
		xsk_clock_tick(&r->clk);
	}
	/* The programs are detached by now: take what is left. */
	ring_buffer__consume(r->rb);
	wr_stream_flush(r->stream, true);
	return NULL;
}

static void rb_free(struct xsk_rb *r)
{
	if (r->stream)
		wr_stream_free(r->stream);
	ring_buffer__free(r->rb);
	free(r);
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
	r->o = *o;
	if (!r->o.poll_ms)
		r->o.poll_ms = 100;
	atomic_init(&r->snaplen, o->snaplen);
	xsk_clock_init(&r->clk, o->ts_clock);
	r->rb = ring_buffer__new(o->ringbuf_map_fd, on_record, r, NULL);
	if (!r->rb) {
		ret = -errno;
		goto out;
	}
	ret = wr_stream_new(o->writer, &r->stream);
	if (ret)
		goto out;
	ret = -pthread_create(&r->thread, NULL, rb_main, r);
	if (ret)
		goto out;
	*out = r;
	return 0;
out:
	rb_free(r);
	return ret ? ret : -EINVAL;
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
