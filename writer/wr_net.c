/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Network mode: a bounded backlog of whole pcap records (a byte ring indexed
 * by stream position) that any number of subscribers read at their own pace.
 * The writer thread appends; when full, the oldest whole records are dropped.
 * A dropped record is counted (net_dropped) unless every subscriber already
 * had it. Subscribers keep a reference, so they may outlive the writer (they
 * then read what is left, then -EPIPE).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "writer/wr_internal.h"

struct wr_sub {
	struct wr_net *n;
	uint64_t pos;	   /* stream position of the next record to read */
	uint8_t *hdr;	   /* its header (taken at the first read) */
	size_t hdr_len;
	size_t hdr_off;	   /* bytes of the file header already read */
	uint64_t limit;	   /* records still allowed; 0 = no limit */
	bool limited;
	struct wr_sub *next;
};

struct wr_net {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	bool closed;
	uint8_t *ring;	   /* allocated on first use */
	size_t cap;
	uint64_t head, tail;	/* positions of the oldest byte and the next */
	uint64_t delivered;	/* some subscriber has read up to here */
	uint64_t dropped;	/* records */
	uint8_t *fhdr;		/* the stream's header (pcap or pcapng) */
	size_t fhdr_len;
	bool ng;
	struct wr_sub *subs;
};

int wr_net_new(const struct wr_opts *o, const uint8_t *hdr, size_t hdr_len,
	       struct wr_net **out)
{
	struct wr_net *n = calloc(1, sizeof(*n));
	pthread_condattr_t ca;

	if (!n)
		return -ENOMEM;
	n->fhdr = malloc(hdr_len);
	if (!n->fhdr) {
		free(n);
		return -ENOMEM;
	}
	memcpy(n->fhdr, hdr, hdr_len);
	n->fhdr_len = hdr_len;
	n->ng = o->format == WR_FMT_PCAPNG;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cond, &ca);
	pthread_condattr_destroy(&ca);
	n->refs = 1;
	n->cap = o->net_buffer_bytes;
	*out = n;
	return 0;
}

/* New subscribers get this header (the current ones had theirs). */
int wr_net_set_hdr(struct wr_net *n, const uint8_t *hdr, size_t len)
{
	uint8_t *h = malloc(len), *old;

	if (!h)
		return -ENOMEM;
	memcpy(h, hdr, len);
	pthread_mutex_lock(&n->lock);
	old = n->fhdr;
	n->fhdr = h;
	n->fhdr_len = len;
	pthread_mutex_unlock(&n->lock);
	free(old);
	return 0;
}

static void net_unref(struct wr_net *n)
{
	bool last;

	pthread_mutex_lock(&n->lock);
	last = --n->refs == 0;
	pthread_mutex_unlock(&n->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n->ring);
	free(n->fhdr);
	free(n);
}

void wr_net_put(struct wr_net *n)
{
	pthread_mutex_lock(&n->lock);
	n->closed = true;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	net_unref(n);
}

static void ring_copy_out(const struct wr_net *n, uint64_t pos, void *dst, size_t len)
{
	size_t at = (size_t)(pos % n->cap);
	size_t first = n->cap - at < len ? n->cap - at : len;

	memcpy(dst, n->ring + at, first);
	memcpy((uint8_t *)dst + first, n->ring, len - first);
}

static void ring_copy_in(struct wr_net *n, uint64_t pos, const void *src, size_t len)
{
	size_t at = (size_t)(pos % n->cap);
	size_t first = n->cap - at < len ? n->cap - at : len;

	memcpy(n->ring + at, src, first);
	memcpy(n->ring, (const uint8_t *)src + first, len - first);
}

static size_t rec_len_at(const struct wr_net *n, uint64_t pos)
{
	uint8_t h[WR_REC_MIN];

	ring_copy_out(n, pos, h, sizeof(h));
	return wr_rec_len(h, n->ng);
}

/* Drops the oldest record; counted unless every subscriber has it. */
static void evict_one(struct wr_net *n)
{
	bool lost = n->head >= n->delivered;

	for (struct wr_sub *s = n->subs; s; s = s->next)
		lost |= s->pos <= n->head;
	n->head += rec_len_at(n, n->head);
	n->dropped += lost;
}

/* Appends whole records (p holds len bytes of them); returns how many. */
uint64_t wr_net_append(struct wr_net *n, const uint8_t *p, size_t len)
{
	uint64_t cnt = 0;
	size_t off = 0;

	pthread_mutex_lock(&n->lock);
	if (!n->ring) {
		n->ring = malloc(n->cap);
		if (!n->ring) {
			/* no memory for the backlog: the records are lost */
			n->dropped += wr_count_records(p, len, n->ng, NULL);
			pthread_mutex_unlock(&n->lock);
			return 0;
		}
	}
	while (off + WR_REC_MIN <= len) {
		size_t rl = wr_rec_len(p + off, n->ng);

		while (n->tail - n->head + rl > n->cap)
			evict_one(n);
		ring_copy_in(n, n->tail, p + off, rl);
		n->tail += rl;
		off += rl;
		cnt++;
	}
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	return cnt;
}

uint64_t wr_net_dropped(struct wr_net *n)
{
	uint64_t v;

	pthread_mutex_lock(&n->lock);
	v = n->dropped;
	pthread_mutex_unlock(&n->lock);
	return v;
}

int wr_subscribe(struct wr_writer *w, struct wr_sub **out)
{
	struct wr_net *n;
	struct wr_sub *s;

	if (!w || !out)
		return -EINVAL;
	n = w->net;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->n = n;
	pthread_mutex_lock(&n->lock);
	n->refs++;
	/* A new subscriber gets what no subscriber has pulled yet (records
	 * captured while nobody was connected), then live records: pulling
	 * again must not replay what an earlier client already took. */
	s->pos = n->delivered > n->head ? n->delivered : n->head;
	s->next = n->subs;
	n->subs = s;
	pthread_mutex_unlock(&n->lock);
	*out = s;
	return 0;
}

/* Copies what is available (lock held); bytes copied or -EMSGSIZE when the
 * next record does not fit into len at all. */
static ssize_t copy_avail(struct wr_sub *s, uint8_t *buf, size_t len)
{
	struct wr_net *n = s->n;
	size_t got = 0;

	if (!s->hdr) { /* the header as it was when this subscriber began */
		s->hdr = malloc(n->fhdr_len);
		if (!s->hdr)
			return -ENOMEM;
		memcpy(s->hdr, n->fhdr, n->fhdr_len);
		s->hdr_len = n->fhdr_len;
	}
	if (s->hdr_off < s->hdr_len) {
		size_t k = s->hdr_len - s->hdr_off;

		if (len < k)
			return -EMSGSIZE;
		memcpy(buf, s->hdr + s->hdr_off, k);
		s->hdr_off += k;
		got = k;
	}
	if (s->pos < n->head) /* overrun: its oldest records were dropped */
		s->pos = n->head;
	while (s->pos < n->tail && !(s->limited && !s->limit)) {
		size_t rl = rec_len_at(n, s->pos);

		if (rl > len - got)
			break;
		ring_copy_out(n, s->pos, buf + got, rl);
		got += rl;
		s->pos += rl;
		if (s->limited)
			s->limit--;
	}
	if (s->pos > n->delivered)
		n->delivered = s->pos;
	if (!got && s->pos < n->tail && !(s->limited && !s->limit))
		return -EMSGSIZE;
	return (ssize_t)got;
}

ssize_t wr_sub_read(struct wr_sub *s, void *buf, size_t len, int timeout_ms)
{
	struct wr_net *n;
	struct timespec dl;
	ssize_t ret;

	if (!s || !buf)
		return -EINVAL;
	n = s->n;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->lock);
	for (;;) {
		ret = copy_avail(s, buf, len);
		if (ret)
			break;
		if (n->closed) {
			ret = -EPIPE;
			break;
		}
		if (timeout_ms <= 0 ||
		    pthread_cond_timedwait(&n->cond, &n->lock, &dl) == ETIMEDOUT) {
			ret = copy_avail(s, buf, len);
			break;
		}
	}
	pthread_mutex_unlock(&n->lock);
	return ret;
}

void wr_sub_limit(struct wr_sub *s, uint64_t records)
{
	pthread_mutex_lock(&s->n->lock);
	s->limited = records != 0;
	s->limit = records;
	pthread_mutex_unlock(&s->n->lock);
}

void wr_unsubscribe(struct wr_sub *s)
{
	struct wr_net *n;

	if (!s)
		return;
	n = s->n;
	pthread_mutex_lock(&n->lock);
	for (struct wr_sub **pp = &n->subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&n->lock);
	free(s->hdr);
	free(s);
	net_unref(n);
}
