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
	bool ng;	   /* it reads pcapng */
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
	uint8_t *hdr[2];	/* stream headers by format: pcap, pcapng */
	size_t hdr_len[2];
	bool ng;		/* the ring holds pcapng EPBs (else pcap records) */
	struct wr_sub *subs;
};

/* Both stream headers for o and filter. */
static int make_hdrs(const struct wr_opts *o, const char *filter, uint8_t *h[2], size_t len[2])
{
	struct wr_opts x = *o;
	int ret;

	x.format = WR_FMT_PCAP;
	ret = wr_hdr_make(&x, filter, &h[0], &len[0]);
	if (ret)
		return ret;
	x.format = WR_FMT_PCAPNG;
	ret = wr_hdr_make(&x, filter, &h[1], &len[1]);
	if (ret)
		free(h[0]);
	return ret;
}

int wr_net_new(const struct wr_opts *o, const char *filter, struct wr_net **out)
{
	struct wr_net *n = calloc(1, sizeof(*n));
	pthread_condattr_t ca;
	int ret;

	if (!n)
		return -ENOMEM;
	ret = make_hdrs(o, filter, n->hdr, n->hdr_len);
	if (ret) {
		free(n);
		return ret;
	}
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

/* New subscribers get headers with this filter (the current ones had
 * theirs). */
int wr_net_set_filter(struct wr_net *n, const struct wr_opts *o, const char *filter)
{
	uint8_t *h[2], *old[2];
	size_t len[2];
	int ret = make_hdrs(o, filter, h, len);

	if (ret)
		return ret;
	pthread_mutex_lock(&n->lock);
	for (int i = 0; i < 2; i++) {
		old[i] = n->hdr[i];
		n->hdr[i] = h[i];
		n->hdr_len[i] = len[i];
	}
	pthread_mutex_unlock(&n->lock);
	free(old[0]);
	free(old[1]);
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
	free(n->hdr[0]);
	free(n->hdr[1]);
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
	return wr_subscribe_fmt(w, w ? w->o.format : WR_FMT_PCAP, out);
}

int wr_subscribe_fmt(struct wr_writer *w, enum wr_format fmt, struct wr_sub **out)
{
	struct wr_net *n;
	struct wr_sub *s;

	if (!w || !out || fmt > WR_FMT_PCAPNG)
		return -EINVAL;
	n = w->net;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->n = n;
	s->ng = fmt == WR_FMT_PCAPNG;
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

/* The record at pos in the other format (ng: as an EPB on interface 0,
 * direction unknown; else as a pcap record): its length, and the bytes
 * into out when given. */
static size_t convert(const struct wr_net *n, uint64_t pos, bool ng, uint8_t *out, size_t len)
{
	struct wr_ng_epb e;
	struct wr_pcap_rhdr h;

	if (ng) { /* pcap record -> EPB */
		ring_copy_out(n, pos, &h, sizeof(h));
		uint32_t pad = (4 - h.incl_len % 4) % 4;
		uint32_t bl = (uint32_t)sizeof(e) + h.incl_len + pad + 4;
		uint64_t ts = (uint64_t)h.ts_sec * 1000000000ull + h.ts_nsec;

		if (!out)
			return bl;
		e = (struct wr_ng_epb){ WR_NG_EPB, bl, 0, (uint32_t)(ts >> 32), (uint32_t)ts,
					h.incl_len, h.orig_len };
		memcpy(out, &e, sizeof(e));
		ring_copy_out(n, pos + sizeof(h), out + sizeof(e), h.incl_len);
		memset(out + sizeof(e) + h.incl_len, 0, pad);
		memcpy(out + len - 4, &bl, 4);
		return bl;
	}
	ring_copy_out(n, pos, &e, sizeof(e)); /* EPB -> pcap record */
	if (!out)
		return sizeof(h) + e.cap_len;
	uint64_t ts = (uint64_t)e.ts_hi << 32 | e.ts_lo;

	h = (struct wr_pcap_rhdr){ (uint32_t)(ts / 1000000000ull), (uint32_t)(ts % 1000000000ull),
				   e.cap_len, e.orig_len };
	memcpy(out, &h, sizeof(h));
	ring_copy_out(n, pos + sizeof(e), out + sizeof(h), e.cap_len);
	return sizeof(h) + e.cap_len;
}

/* Copies what is available (lock held); bytes copied or -EMSGSIZE when the
 * next record does not fit into len at all. */
static ssize_t copy_avail(struct wr_sub *s, uint8_t *buf, size_t len)
{
	struct wr_net *n = s->n;
	size_t got = 0;

	if (!s->hdr) { /* the header as it was when this subscriber began */
		s->hdr = malloc(n->hdr_len[s->ng]);
		if (!s->hdr)
			return -ENOMEM;
		memcpy(s->hdr, n->hdr[s->ng], n->hdr_len[s->ng]);
		s->hdr_len = n->hdr_len[s->ng];
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
		size_t ol = s->ng == n->ng ? rl : convert(n, s->pos, s->ng, NULL, 0);

		if (ol > len - got)
			break;
		if (s->ng == n->ng)
			ring_copy_out(n, s->pos, buf + got, rl);
		else
			convert(n, s->pos, s->ng, buf + got, ol);
		got += ol;
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
