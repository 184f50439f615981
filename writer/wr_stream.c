/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Producer side: one stream per capture thread. The hot path (wr_put) is a
 * bounds check and two copies into the stream's own buffer; only when a
 * buffer is full does it touch shared state (one lock-free pop and push and
 * an eventfd write). It never waits: without a free buffer the record is
 * refused with -ENOBUFS and counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "writer/wr_internal.h"

static void handover(struct wr_stream *s)
{
	struct wr_buf *b = s->cur;
	struct wr_writer *w = s->w;

	atomic_store_explicit(&s->pub, NULL, memory_order_release);
	b->len = (size_t)(s->p - b->data);
	b->gen = s->gen;
	/* cannot fail: the queue holds every buffer of the pool */
	wr_queue_push(&w->fullq, (uint32_t)(b - w->bufs));
	/* before the wake-up: the writer thread must not find the stream
	 * still holding once woken (time order waits for that) */
	atomic_store_explicit(&s->holding, false, memory_order_release);
	wr_wake(w);
	s->cur = NULL;
	s->p = s->end = NULL;
}

static bool take(struct wr_stream *s)
{
	struct wr_writer *w = s->w;
	uint32_t idx;

	if (!wr_queue_pop(&w->freeq, &idx))
		return false;
	s->cur = &w->bufs[idx];
	s->cur->nrec = 0;
	s->p = s->cur->data;
	s->end = s->p + w->o.buf_size;
	s->first_ns = wr_now_ns();
	atomic_store_explicit(&s->cur->win, s->win, memory_order_relaxed);
	atomic_store_explicit(&s->cur->committed, 0, memory_order_relaxed);
	atomic_store_explicit(&s->cur->first_ns, s->first_ns, memory_order_relaxed);
	atomic_store_explicit(&s->owner, pthread_self(), memory_order_relaxed);
	atomic_store_explicit(&s->pub, s->cur, memory_order_release);
	return true;
}

/* The file or mode changed: what this stream holds belongs to the old
 * generation and goes there; from now on it fills for the new one. */
void wr_stream_follow(struct wr_stream *s, uint32_t g)
{
	if (s->cur && s->cur->nrec)
		handover(s);
	s->gen = g;
	atomic_store_explicit(&s->gen_ack, g, memory_order_release);
}

/* Time rotation: r passed the end of the stream's window. The buffer goes
 * to the writer with the records of the old window; the next one is
 * tagged with the new window. */
static void cross(struct wr_stream *s, uint64_t ts)
{
	uint64_t period = s->w->rot_ns;

	if (!period) {
		s->t_next = UINT64_MAX;
		return;
	}
	s->win = ts / period;
	s->t_next = (s->win + 1) * period;
	if (s->cur && s->cur->nrec)
		handover(s);
	else if (s->cur) /* before its first record's commit (release) */
		atomic_store_explicit(&s->cur->win, s->win, memory_order_relaxed);
}

/* Room for len more bytes in the stream's buffer, or -ENOBUFS (counted). */
static inline int room(struct wr_stream *s, size_t len)
{
	if ((size_t)(s->end - s->p) >= len)
		return 0;
	if (s->cur)
		handover(s);
	if (take(s))
		return 0;
	atomic_store_explicit(&s->dropped,
			      atomic_load_explicit(&s->dropped, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	return -ENOBUFS;
}

/* The record is in: published for peeks and switches. */
static inline void commit(struct wr_stream *s)
{
	/* a plain store on x86: the record is complete for a peek */
	atomic_store_explicit(&s->cur->committed, (size_t)(s->p - s->cur->data),
			      memory_order_release);
	if (!s->cur->nrec++)
		atomic_store_explicit(&s->holding, true, memory_order_release);
}

/* pcapng: an Enhanced Packet Block, direction in epb_flags. */
static int put_ng(struct wr_stream *s, const struct wr_rec *r, uint32_t cap)
{
	uint32_t pad = (4 - cap % 4) % 4;
	bool dir = r->dir == 1 || r->dir == 2;
	uint32_t len = (uint32_t)sizeof(struct wr_ng_epb) + cap + pad + (dir ? 12 : 0) + 4;
	struct wr_ng_epb h = {
		.type = WR_NG_EPB,
		.len = len,
		.ifid = r->dir == 2, /* IDB 1: outbound */
		.ts_hi = (uint32_t)(r->ts_ns >> 32),
		.ts_lo = (uint32_t)r->ts_ns,
		.cap_len = cap,
		.orig_len = r->wire_len,
	};
	uint8_t *p;
	int ret = room(s, len);

	if (ret)
		return ret;
	p = s->p;
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), r->data, cap);
	p += sizeof(h) + cap;
	/* zero padding: a fixed 4-byte store (a record always has at least
	 * its 4-byte trailer after the padding), no memset call */
	memcpy(p, &(uint32_t){ 0 }, 4);
	p += pad;
	if (dir) {
		/* epb_flags (2), 4 bytes: bits 0-1 the direction; end of options */
		uint32_t opt[3] = { 2u | 4u << 16, r->dir, 0 };

		memcpy(p, opt, sizeof(opt));
		p += sizeof(opt);
	}
	memcpy(p, &len, 4);
	s->p = p + 4;
	commit(s);
	return 0;
}

int wr_put(struct wr_stream *s, const struct wr_rec *r)
{
	struct wr_writer *w = s->w;
	uint32_t g = atomic_load_explicit(&w->gen, memory_order_acquire);
	uint32_t cap = r->cap_len < w->o.snaplen ? r->cap_len : w->o.snaplen;
	struct wr_pcap_rhdr h;
	int ret;

	if (g != s->gen)
		wr_stream_follow(s, g);
	if (r->ts_ns >= s->t_next)
		cross(s, r->ts_ns);
	if (w->ng)
		return put_ng(s, r, cap);
	ret = room(s, sizeof(h) + cap);
	if (ret)
		return ret;
	h.ts_sec = (uint32_t)(r->ts_ns / 1000000000ull);
	h.ts_nsec = (uint32_t)(r->ts_ns % 1000000000ull);
	h.incl_len = cap;
	h.orig_len = r->wire_len;
	memcpy(s->p, &h, sizeof(h));
	memcpy(s->p + sizeof(h), r->data, cap);
	s->p += sizeof(h) + cap;
	commit(s);
	return 0;
}

int wr_stream_flush(struct wr_stream *s, bool force)
{
	struct wr_writer *w = s->w;
	uint32_t g = atomic_load_explicit(&w->gen, memory_order_acquire);

	if (g != s->gen)
		wr_stream_follow(s, g);
	if (!s->cur || !s->cur->nrec)
		return 0;
	if (force || wr_now_ns() - s->first_ns >= (uint64_t)w->o.flush_ms * 1000000ull)
		handover(s);
	return 0;
}

int wr_stream_new(struct wr_writer *w, struct wr_stream **out)
{
	struct wr_stream *s;

	if (!w || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->w = w;
	s->t_next = w->rot_ns ? 0 : UINT64_MAX;
	pthread_mutex_lock(&w->lock);
	s->gen = atomic_load(&w->gen);
	atomic_init(&s->gen_ack, s->gen);
	s->next = w->streams;
	w->streams = s;
	pthread_mutex_unlock(&w->lock);
	*out = s;
	return 0;
}

void wr_stream_free(struct wr_stream *s)
{
	struct wr_writer *w;
	struct wr_stream **pp;

	if (!s)
		return;
	w = s->w;
	wr_stream_flush(s, true);
	pthread_mutex_lock(&w->lock);
	/* under the lock: the writer thread's peek may be looking at it */
	atomic_store(&s->pub, NULL);
	if (s->cur) /* empty: back to the pool */
		wr_buf_release(w, s->cur);
	for (pp = &w->streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	w->gone_dropped += atomic_load(&s->dropped);
	pthread_mutex_unlock(&w->lock);
	free(s);
}
