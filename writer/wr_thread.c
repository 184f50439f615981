/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The writer thread: takes full buffers in hand-over order, routes them to
 * their destination (file of their generation, or the network backlog) and
 * writes them in batches through the backend. It is the only thread that
 * touches files after wr_open, so file state needs no lock.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "writer/wr_internal.h"

struct wr_job *wr_pending_add(struct wr_pending *p)
{
	if (p->n == p->cap) {
		unsigned int cap = p->cap ? 2 * p->cap : 64;
		struct wr_job *v = realloc(p->jobs, cap * sizeof(*v));

		if (!v)
			abort(); /* a few KiB; nothing sane to do without them */
		p->jobs = v;
		p->cap = cap;
	}
	return &p->jobs[p->n++];
}

void wr_wake(struct wr_writer *w)
{
	uint64_t one = 1;

	/* nonblocking eventfd: never waits; overflow is impossible in practice */
	if (write(w->efd, &one, sizeof(one)) < 0)
		return;
}

static void wait_wake(struct wr_writer *w, int timeout_ms)
{
	struct pollfd p = { .fd = w->efd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) > 0 && read(w->efd, &v, sizeof(v)) < 0)
		return;
}

static struct wr_dest *route(struct wr_writer *w, uint32_t gen)
{
	uint32_t g = atomic_load_explicit(&w->gen, memory_order_acquire);
	struct wr_dest *d = w->dests[gen & 1];

	/* a buffer of a retired generation (a stream that missed the switch
	 * deadline) goes to the current destination: late, never lost */
	if (!d || d->gen != gen)
		d = w->dests[g & 1];
	return d;
}

/* A buffer handed over with nothing left to write: peeks of it may still
 * wait in the pending list, pointing into it. The last of them gives it
 * back once written; only if none waits does it go back now. */
static void release_after_peeks(struct wr_writer *w, struct wr_pending *p, struct wr_buf *b)
{
	for (unsigned int i = p->n; i-- > 0;) {
		if (p->jobs[i].b == b) {
			p->jobs[i].peek = false;
			return;
		}
	}
	wr_buf_release(w, b);
}

/* Records [off, off + len) of b, holding nrec records, go to generation
 * gen: into the pending list, or straight into the network backlog (a
 * copy). */
void wr_take(struct wr_writer *w, struct wr_pending *p, struct wr_buf *b, uint32_t gen,
	     size_t off, size_t len, uint32_t nrec, bool peek)
{
	struct wr_dest *d = route(w, gen);

	if (d->kind == WR_DEST_NET || !len) {
		if (len)
			wr_net_append(w->net, b->data + off, len);
		atomic_fetch_add(&w->st_records, nrec);
		atomic_fetch_add(&w->st_bytes, len);
		if (!peek)
			release_after_peeks(w, p, b);
		return;
	}
	if (d->cat) {
		wr_rot_take(w, p, d, b, off, len, nrec, peek);
		return;
	}
	*wr_pending_add(p) = (struct wr_job){
		.b = b, .d = d, .data = b->data + off, .len = len, .nrec = nrec, .peek = peek,
	};
}

/* What streams hand over or a peek takes: to the merge (time order), or
 * on its way at once. */
static void take(struct wr_writer *w, struct wr_pending *p, struct wr_buf *b,
		 uint32_t gen, size_t off, size_t len, uint32_t nrec, bool peek)
{
	if (w->merge)
		wr_merge_add(w, b, gen, off, len, peek);
	else
		wr_take(w, p, b, gen, off, len, nrec, peek);
}

/* Moves handed-over buffers into the pending list (what a peek already
 * took is skipped). */
static void fetch(struct wr_writer *w, struct wr_pending *p)
{
	uint32_t idx;

	while (wr_queue_pop(&w->fullq, &idx)) {
		struct wr_buf *b = &w->bufs[idx];

		b->fetched = true;
		take(w, p, b, b->gen, b->flushed, b->len - b->flushed,
		     b->nrec - b->flushed_nrec, false);
	}
}

/* The writer thread's own flush: the complete records of a buffer a stream
 * has been filling for longer than flush_ms are written while the stream
 * keeps the buffer (it only ever appends). So data reaches the file even if
 * a producer stops calling wr_stream_flush. Lock-free for the producers:
 * they publish the buffer and its committed size with plain stores. */
static bool peek_streams(struct wr_writer *w, struct wr_pending *p, uint64_t age,
			 uint64_t below_win)
{
	uint64_t now = wr_now_ns();
	unsigned int npeek = 0;
	bool all = true;

	/* at most nbufs peeks pending (the list grows as needed; fetch
	 * always takes every handed-over buffer: a switch relies on that) */
	for (unsigned int i = 0; i < p->n; i++)
		npeek += p->jobs[i].peek;
	pthread_mutex_lock(&w->lock);
	/* (the merge copies what it peeks: no jobs, no limit) */
	for (struct wr_stream *s = w->streams; s && (w->merge || npeek < w->o.nbufs);
	     s = s->next) {
		/* the generation must be the same before and after reading
		 * the buffer: a stream following a switch hands its buffer
		 * over (unpublishes it) before it announces the new one */
		uint32_t g1 = atomic_load_explicit(&s->gen_ack, memory_order_acquire);
		struct wr_buf *b = atomic_load_explicit(&s->pub, memory_order_acquire);
		uint32_t g2 = atomic_load_explicit(&s->gen_ack, memory_order_acquire);
		uint64_t since;
		size_t c;

		if (!b) {
			/* unpublished but still holding: a hand-over has
			 * begun and is not in the queue yet */
			if (atomic_load_explicit(&s->holding, memory_order_acquire))
				all = false;
			continue;
		}
		if (g1 != g2) {
			all = false; /* following a switch: next round */
			continue;
		}
		/* the stream's earlier buffers were handed over before it
		 * published b: take them first, they precede it in the file;
		 * b itself may have been handed over meanwhile: then it is
		 * a whole-buffer job now and must not be peeked */
		fetch(w, p);
		if (!wr_queue_empty(&w->fullq)) {
			all = false;
			break; /* a hand-over in progress: next round */
		}
		if (b->fetched)
			continue;
		c = atomic_load_explicit(&b->committed, memory_order_acquire);
		since = atomic_load_explicit(&b->first_ns, memory_order_relaxed);
		if (b->peek_ns > since)
			since = b->peek_ns;
		if (c <= b->flushed || now - since < age)
			continue;
		/* read after committed: a window change precedes the
		 * first record of the new window */
		if (below_win != UINT64_MAX &&
		    atomic_load_explicit(&b->win, memory_order_relaxed) >= below_win)
			continue;
		uint32_t n;

		/* the merge walks the records anyway: it counts them */
		if (w->merge) {
			n = wr_merge_add(w, b, g1, b->flushed, c - b->flushed, true);
		} else {
			n = wr_count_records(b->data + b->flushed, c - b->flushed, w->ng, NULL);
			wr_take(w, p, b, g1, b->flushed, c - b->flushed, n, true);
		}
		npeek++;
		b->flushed = c;
		b->flushed_nrec += n;
		b->peek_ns = now;
	}
	pthread_mutex_unlock(&w->lock);
	return all;
}

static void peek_aged(struct wr_writer *w, struct wr_pending *p)
{
	peek_streams(w, p, (uint64_t)w->o.flush_ms * 1000000ull, UINT64_MAX);
}

/* Time rotation: before the file of a new window starts (p->jobs[0]), the
 * records of older windows that streams hold or handed over meanwhile go
 * into the old file: taken now and moved in front of it. Per stream the
 * windows only grow, so this keeps every stream's order. Returns whether
 * jobs were moved. */
static bool gather(struct wr_writer *w, struct wr_pending *p)
{
	struct wr_dest *d = p->jobs[0].d;
	uint64_t nwin = p->jobs[0].win;
	struct wr_job *tmp;
	unsigned int k = 0, moved = 0;

	p->jobs[0].gathered = true;
	/* a pass is cut short while a hand-over is in progress (order):
	 * try again a while, then what is missed is written late */
	for (int i = 0; i < 1000; i++) {
		fetch(w, p);
		if (peek_streams(w, p, 0, nwin))
			break;
		sched_yield();
	}
	tmp = malloc(p->n * sizeof(*tmp));
	if (!tmp)
		return false; /* then they are late: written to the new file */
	for (unsigned int i = 1; i < p->n; i++)
		if (p->jobs[i].d == d && p->jobs[i].win < nwin)
			tmp[k++] = p->jobs[i];
	moved = k;
	tmp[k++] = p->jobs[0];
	for (unsigned int i = 1; i < p->n; i++)
		if (!(p->jobs[i].d == d && p->jobs[i].win < nwin))
			tmp[k++] = p->jobs[i];
	memcpy(p->jobs, tmp, p->n * sizeof(*tmp));
	free(tmp);
	return moved > 0;
}

/* A job that cannot be written at all (no file to write it to): its
 * records are counted as lost, its buffer goes back. */
static void drop_first(struct wr_writer *w, struct wr_pending *p, int err)
{
	struct wr_job *j = &p->jobs[0];
	int expect = 0;

	atomic_fetch_add(&w->st_errors, j->nrec);
	atomic_compare_exchange_strong(&w->first_err, &expect, err);
	if (!j->peek)
		wr_buf_release(w, j->b);
	memmove(p->jobs, p->jobs + 1, (p->n - 1) * sizeof(*p->jobs));
	p->n--;
}

/* Plans and writes one batch from the front of the pending list. */
static void run_batch(struct wr_writer *w, const struct wr_io_ops *ops,
		      struct wr_pending *p)
{
	struct wr_job *batch[WR_MAX_INFLIGHT];
	unsigned int n = p->n < WR_MAX_INFLIGHT ? p->n : WR_MAX_INFLIGHT;
	bool direct = w->stage != NULL;
	unsigned int slot = 0, i, k;
	uint8_t *busy = NULL;

	if (direct && n > WR_STAGE_SLOTS)
		n = WR_STAGE_SLOTS;
	/* rotation: a job that starts a new file waits until everything
	 * before it is written; then the file is switched */
	for (i = 0; i < n; i++) {
		struct wr_job *j = &p->jobs[i];
		int ret;

		if (!j->d->cat || j->done || (!j->rot && j->d->fd >= 0))
			continue;
		if (i) {
			n = i;
			break;
		}
		/* (the merge wrote older windows' records first already) */
		if (j->rot && w->rot_ns && !w->merge && !j->gathered && j->d->fd >= 0 &&
		    gather(w, p))
			return; /* the older records first */
		j = &p->jobs[0];
		ret = wr_rot_switch(w, j);
		j->rot = false;
		if (j->d->fd < 0) {
			drop_first(w, p, ret ? ret : -EIO);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		struct wr_dest *d = p->jobs[i].d;

		d->wpos = d->size;
		d->ptail = d->tail;
		d->ptail_len = d->size % WR_ALIGN;
	}
	/* the first job may be half written and keep its staged copy */
	if (p->jobs[0].done && p->jobs[0].stage)
		busy = p->jobs[0].stage;
	for (i = 0; i < n; i++) {
		uint8_t *stage = NULL;

		if (direct && !(i == 0 && busy)) {
			stage = w->stage + (size_t)slot++ * w->stage_size;
			if (stage == busy)
				stage = w->stage + (size_t)slot++ * w->stage_size;
		}
		p->jobs[i].complete = false;
		wr_guard_note(w->guard, p->jobs[i].d);
		wr_job_plan(w, &p->jobs[i], stage);
		batch[i] = &p->jobs[i];
	}
	ops->run(w, w->io, batch, n);
	for (i = 0, k = 0; i < p->n; i++) {
		if (i < n && p->jobs[i].complete)
			continue;
		p->jobs[k++] = p->jobs[i];
	}
	p->n = k;
}

/* Writes every pending job of dest d (or all, d == NULL). */
static void drain(struct wr_writer *w, const struct wr_io_ops *ops,
		  struct wr_pending *p, const struct wr_dest *d)
{
	for (;;) {
		bool left = false;

		for (unsigned int i = 0; i < p->n; i++)
			left |= !d || p->jobs[i].d == d;
		if (!left)
			return;
		run_batch(w, ops, p);
	}
}

static void retire(struct wr_writer *w, const struct wr_io_ops *ops,
		   struct wr_pending *p)
{
	uint32_t g;
	struct wr_dest *old;
	int ret;

	pthread_mutex_lock(&w->lock);
	g = w->retire_gen;
	pthread_mutex_unlock(&w->lock);
	old = w->dests[g & 1];
	/* every buffer of generation g was handed over before the request */
	fetch(w, p);
	/* what the merge holds of it goes first (output buffers are few:
	 * written as they fill) */
	while (w->merge && !wr_merge_retire(w, p, g + 1))
		drain(w, ops, p, NULL);
	if (old && old->gen == g) {
		drain(w, ops, p, old);
		w->dests[g & 1] = NULL;
		wr_guard_forget(w->guard, old);
		ret = wr_dest_finish(w, old);
		if (ret) {
			int expect = 0;

			atomic_compare_exchange_strong(&w->first_err, &expect, ret);
		}
	}
	pthread_mutex_lock(&w->lock);
	w->retire_req = false;
	atomic_store(&w->req, w->stop);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Rotation's periodic work for each rotating destination. */
static void rot_ticks(struct wr_writer *w, struct wr_pending *p)
{
	for (int k = 0; k < 2; k++) {
		struct wr_dest *d = w->dests[k];
		bool idle = true;

		if (!d || !d->cat)
			continue;
		for (unsigned int i = 0; i < p->n && idle; i++)
			idle = p->jobs[i].d != d;
		if (w->merge && !wr_merge_empty(w->merge))
			idle = false; /* records of its window may still come */
		wr_rot_tick(w, d, idle);
	}
}

void *wr_thread_main(void *arg)
{
	struct wr_writer *w = arg;
	const struct wr_io_ops *ops = wr_io_ops_of(w);
	/* pending jobs: every buffer once, plus a peek per buffer */
	struct wr_pending p = { 0 };
	uint64_t peek_every = (uint64_t)w->o.flush_ms * 1000000ull / 2, last_peek = 0;
	bool stop = false, seen_all = true;

	pthread_setname_np(pthread_self(), "ca-writer");
	if (w->o.thread_init)
		w->o.thread_init();
	pthread_mutex_lock(&w->lock);
	while (!w->start)
		pthread_cond_wait(&w->cond, &w->lock);
	stop = w->start != 1;
	pthread_mutex_unlock(&w->lock);
	if (stop)
		return NULL; /* wr_open failed after all */
	wr_pending_add(&p); /* allocates the list */
	p.n = 0;
	for (;;) {
		if (atomic_load(&w->req)) {
			bool ret_req;

			pthread_mutex_lock(&w->lock);
			stop = w->stop;
			ret_req = w->retire_req;
			pthread_mutex_unlock(&w->lock);
			if (ret_req)
				retire(w, ops, &p);
		}
		if (stop) {
			/* producers are gone: write out everything */
			for (;;) {
				bool done;

				fetch(w, &p);
				done = !w->merge || wr_merge_run(w, &p, true);
				if (!p.n && done)
					break;
				drain(w, ops, &p, NULL);
			}
			break;
		}
		if (!atomic_load(&w->pause)) {
			fetch(w, &p);
			/* the merge looks at everything committed, and lets
			 * records go only after a pass that saw every stream
			 * (else: again soon, a hand-over is under way) */
			if (w->merge) {
				seen_all = peek_streams(w, &p, 0, UINT64_MAX);
				if (seen_all)
					wr_merge_run(w, &p, false);
			}

			if (wr_now_ns() - last_peek >= peek_every) {
				if (!w->merge)
					peek_aged(w, &p);
				rot_ticks(w, &p);
				last_peek = wr_now_ns();
			}
		}
		if (p.n && !atomic_load(&w->pause))
			run_batch(w, ops, &p);
		else
			wait_wake(w, !w->merge ? (int)(peek_every / 1000000)
				     : seen_all ? wr_merge_wait_ms(w, (int)(peek_every / 1000000))
						: 1);
	}
	free(p.jobs);
	return NULL;
}
