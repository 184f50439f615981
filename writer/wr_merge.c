/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Time order across streams (wr_opts.reorder_ns > 0), writer thread only.
 *
 * What the streams hand over (whole buffers) and what the writer thread
 * peeks of the buffers they still fill is not written at once: it stays in
 * its pool buffer and is cut into runs, stretches of records whose times
 * do not go back (a stream fed by two sources, e.g. the ring buffer of
 * both directions, is not sorted as a whole). A min-heap of runs by the
 * time of their next record gives the oldest record held; records are
 * copied in that order into output buffers of their own (WR_MERGE_OUT,
 * beyond the pool, registered with it), which then go the usual way (a
 * file, rotation, or the network backlog).
 *
 * A record is written once it is older than the bound: the newest record
 * time taken minus the window; when that newest time has not moved for a
 * window (idle), the wall clock too, so the last records of a burst are
 * not held; when it has not moved for flush_ms, everything held goes. A record that comes later than that (older than one
 * already written) is still written, after it, and counted (wr_stats.late).
 *
 * Memory: the merge holds records in the pool's own buffers, so when the
 * pool runs short (fewer than nbufs/4 + 1 free) it writes its oldest
 * records regardless of the bound until a buffer it holds is free again:
 * the producers never drop because of it (the order may then suffer, which
 * is counted as late). Producers do nothing more than without the merge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "writer/wr_internal.h"

struct wr_run {
	uint64_t ts;		/* the next record's time */
	uint64_t seq;		/* intake order: equal times keep it */
	const uint8_t *p, *end; /* records not yet written */
	struct wr_buf *b;
	uint32_t gen;
};

struct wr_merge {
	struct wr_run *h; /* min-heap by (ts, seq) */
	unsigned int n, cap;
	uint64_t seq;
	uint64_t newest;    /* newest record time taken */
	uint64_t newest_at; /* monotonic time it last grew */
	uint64_t seen;	    /* newest as the previous run found it */
	uint64_t hi;	    /* newest time written (late: older than this) */
	uint32_t hi_gen;
	unsigned int held;  /* handed-over buffers with records here */
	struct wr_buf *out; /* output buffer being filled */
	uint32_t out_gen;
	uint64_t out_at;    /* monotonic time of its first record */
	uint64_t win_lo, win_hi; /* time rotation: its window */
	uint32_t free[WR_MERGE_OUT];
	unsigned int nfree;
};

int wr_merge_new(struct wr_writer *w, struct wr_merge **out)
{
	struct wr_merge *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	for (unsigned int i = 0; i < WR_MERGE_OUT; i++)
		m->free[m->nfree++] = w->o.nbufs + i;
	m->win_hi = UINT64_MAX; /* no time rotation: one window */
	*out = m;
	return 0;
}

void wr_merge_free(struct wr_merge *m)
{
	if (!m)
		return;
	free(m->h);
	free(m);
}

bool wr_merge_empty(const struct wr_merge *m)
{
	return !m->n && !m->out;
}

void wr_merge_out_free(struct wr_merge *m, uint32_t idx)
{
	m->free[m->nfree++] = idx;
}

static inline bool less(const struct wr_run *a, const struct wr_run *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static void sift_down(struct wr_run *h, unsigned int n, unsigned int i)
{
	struct wr_run x = h[i];

	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && less(&h[c + 1], &h[c]))
			c++;
		if (!less(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void sift_up(struct wr_run *h, unsigned int i)
{
	struct wr_run x = h[i];

	while (i) {
		unsigned int up = (i - 1) / 2;

		if (!less(&x, &h[up]))
			break;
		h[i] = h[up];
		i = up;
	}
	h[i] = x;
}

static void push(struct wr_merge *m, const struct wr_run *r)
{
	if (m->n == m->cap) {
		unsigned int cap = m->cap ? 2 * m->cap : 64;
		struct wr_run *v = realloc(m->h, cap * sizeof(*v));

		if (!v)
			abort(); /* as wr_pending_add: a few KiB, nothing sane without */
		m->h = v;
		m->cap = cap;
	}
	m->h[m->n] = *r;
	sift_up(m->h, m->n++);
}

static bool pool_short(struct wr_writer *w)
{
	return wr_queue_count(&w->freeq) < w->o.nbufs / 4 + 1;
}

uint32_t wr_merge_add(struct wr_writer *w, struct wr_buf *b, uint32_t gen, size_t off,
		      size_t len, bool peek)
{
	struct wr_merge *m = w->merge;
	const uint8_t *p = b->data + off, *e = p + len;
	uint64_t newest = m->newest;
	uint32_t nrec = 0;
	struct wr_run *ext = NULL;

	/* what a peek took before, if still held, goes on with these records
	 * when their times do: one run, not one per peek */
	if (b->mend == p && p + WR_REC_MIN <= e && wr_rec_ts(p, w->ng) >= b->mlast) {
		for (unsigned int i = 0; i < m->n && !ext; i++)
			if (m->h[i].seq == b->mseq && m->h[i].gen == gen)
				ext = &m->h[i];
	}
	while (p + WR_REC_MIN <= e) {
		struct wr_run r = { .p = p, .b = b, .gen = gen, .seq = m->seq++ };
		uint64_t prev = wr_rec_ts(p, w->ng);

		r.ts = prev;
		p += wr_rec_len(p, w->ng); /* our own records: never 0 */
		nrec++;
		while (p + WR_REC_MIN <= e) {
			uint64_t t;

			/* the records come from another core's cache: each
			 * header load waits for the one before (its length),
			 * so ask for the lines ahead */
			__builtin_prefetch(p + 512);
			t = wr_rec_ts(p, w->ng);
			if (t < prev)
				break;
			prev = t;
			p += wr_rec_len(p, w->ng);
			nrec++;
		}
		if (ext) {
			ext->end = p; /* its key (next record) stays */
			ext = NULL;
		} else {
			r.end = p;
			push(m, &r);
			b->mseq = r.seq;
		}
		b->mlast = prev;
		if (prev > newest)
			newest = prev;
	}
	b->mend = p;
	if (newest > m->newest) {
		m->newest = newest;
		m->newest_at = wr_now_ns();
	}
	b->mleft += nrec;
	if (peek)
		return nrec;
	b->mfinal = true;
	if (b->mleft)
		m->held++;
	else
		wr_buf_release(w, b); /* all of it was peeked and written */
	return nrec;
}

/* Hands the output buffer over to its destination. */
static void close_out(struct wr_writer *w, struct wr_pending *p)
{
	struct wr_merge *m = w->merge;
	struct wr_buf *o = m->out;

	if (!o)
		return;
	m->out = NULL;
	wr_take(w, p, o, m->out_gen, 0, o->len, o->nrec, false);
}

/* An output buffer with room for len bytes of generation gen (and, with
 * time rotation, the window of ts); false if none is free. */
static bool out_room(struct wr_writer *w, struct wr_pending *p, uint32_t gen, uint64_t ts,
		     size_t len)
{
	struct wr_merge *m = w->merge;
	struct wr_buf *o = m->out;

	if (o && o->len + len <= w->o.buf_size && m->out_gen == gen &&
	    (!w->rot_ns || (ts >= m->win_lo && ts < m->win_hi)))
		return true;
	close_out(w, p);
	if (!m->nfree)
		return false;
	o = &w->bufs[m->free[--m->nfree]];
	o->len = 0;
	o->nrec = 0;
	o->gen = gen;
	if (w->rot_ns) {
		uint64_t win = ts / w->rot_ns;

		m->win_lo = win * w->rot_ns;
		m->win_hi = m->win_lo + w->rot_ns;
		atomic_store_explicit(&o->win, win, memory_order_relaxed);
	}
	m->out = o;
	m->out_gen = gen;
	m->out_at = wr_now_ns();
	return true;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Writes the heap's records up to bound (UINT64_MAX: all) in time order;
 * false when it had to stop for want of an output buffer. The top run
 * goes on record after record while it stays ahead of the next best run
 * (no heap work for a stream that is ahead, or alone). */
static bool emit(struct wr_writer *w, struct wr_pending *p, uint64_t bound)
{
	struct wr_merge *m = w->merge;
	bool force = m->held && pool_short(w), ok = true;
	uint64_t late = 0;

	while (m->n) {
		struct wr_run *r = &m->h[0];
		const struct wr_run *nb = NULL;
		struct wr_buf *b = r->b, *o;
		uint32_t k = 0;
		bool top = true;

		if (r->ts > bound && !force)
			break;
		if (m->n > 1)
			nb = m->n > 2 && less(&m->h[2], &m->h[1]) ? &m->h[2] : &m->h[1];
		if (!out_room(w, p, r->gen, r->ts, wr_rec_len(r->p, w->ng))) {
			ok = false;
			break;
		}
		o = m->out;
		if (m->hi_gen != r->gen) {
			m->hi_gen = r->gen; /* a new destination: its own order */
			m->hi = 0;
		}
		for (;;) {
			size_t rl = wr_rec_len(r->p, w->ng);

			if (r->ts < m->hi)
				late++;
			else
				m->hi = r->ts;

			memcpy(o->data + o->len, r->p, rl);
			o->len += rl;
			k++;
			r->p += rl;
			if (r->p + WR_REC_MIN > r->end) {
				top = false;
				break;
			}
			uint64_t t = wr_rec_ts(r->p, w->ng);

			r->ts = t;
			if ((nb && (t > nb->ts || (t == nb->ts && r->seq > nb->seq))) ||
			    (t > bound && !force) || t >= m->win_hi ||
			    o->len + wr_rec_len(r->p, w->ng) > w->o.buf_size)
				break;
		}
		o->nrec += k;
		if (top) {
			sift_down(m->h, m->n, 0);
		} else {
			m->h[0] = m->h[--m->n];
			if (m->n)
				sift_down(m->h, m->n, 0);
		}
		b->mleft -= k;
		if (!b->mleft && b->mfinal) {
			m->held--;
			wr_buf_release(w, b);
			force = m->held && pool_short(w);
		}
	}
	atomic_fetch_add_explicit(&w->st_late, late, memory_order_relaxed);
	return ok;
}

bool wr_merge_run(struct wr_writer *w, struct wr_pending *p, bool all)
{
	struct wr_merge *m = w->merge;
	uint64_t win = w->o.reorder_ns, now = wr_now_ns(), top = m->seen, bound;

	/* The bound comes from the newest time of the previous run (pass):
	 * every record committed before that one was committed before this
	 * pass began, so it has been taken: a pass reads the streams one
	 * after the other, and a record a stream commits after it was read
	 * may be older than one a later stream showed. */
	m->seen = m->newest;

	if (!all && now - m->newest_at >= win) {
		uint64_t wall = wall_ns(); /* idle: the wall clock moves on */

		if (wall > top)
			top = wall;
	}
	bound = all ? UINT64_MAX : top > win ? top - win : 0;
	/* nothing newer for flush_ms: everything goes (times ahead of the
	 * wall clock must not keep records from the file for ever) */
	if (now - m->newest_at >= (uint64_t)w->o.flush_ms * 1000000ull)
		bound = UINT64_MAX;
	if (!emit(w, p, bound))
		return false;
	/* a partly filled output buffer goes when it is worth a write, or
	 * has waited a window (at least a millisecond) */
	if (m->out && (all || m->out->len >= w->o.buf_size / 4 ||
		       now - m->out_at >= (win > 1000000u ? win : 1000000u)))
		close_out(w, p);
	return true;
}

bool wr_merge_retire(struct wr_writer *w, struct wr_pending *p, uint32_t keep)
{
	struct wr_merge *m = w->merge;
	unsigned int k = 0, rest;
	struct wr_run *tmp;
	bool ok;

	/* the runs of older generations to the front, heapified, all of them
	 * written; then the others go back */
	for (unsigned int i = 0; i < m->n; i++) {
		if (m->h[i].gen != keep) {
			struct wr_run t = m->h[i];

			m->h[i] = m->h[k];
			m->h[k++] = t;
		}
	}
	rest = m->n - k;
	tmp = malloc((rest ? rest : 1) * sizeof(*tmp));
	if (!tmp)
		abort();
	if (rest) /* h may still be NULL: nothing merged yet */
		memcpy(tmp, m->h + k, rest * sizeof(*tmp));
	m->n = k;
	for (unsigned int i = k / 2; i-- > 0;)
		sift_down(m->h, m->n, i);
	ok = emit(w, p, UINT64_MAX);
	if (ok && m->out && m->out_gen != keep)
		close_out(w, p);
	if (rest)
		memcpy(m->h + m->n, tmp, rest * sizeof(*tmp));
	m->n += rest;
	free(tmp);
	for (unsigned int i = m->n / 2; i-- > 0;)
		sift_down(m->h, m->n, i);
	return ok;
}

int wr_merge_wait_ms(const struct wr_writer *w, int idle_ms)
{
	const struct wr_merge *m = w->merge;
	int ms = (int)(w->o.reorder_ns / 1000000u);

	if (!m->n && !m->out)
		return idle_ms;
	ms = ms < 1 ? 1 : ms;
	return ms < idle_ms ? ms : idle_ms;
}
