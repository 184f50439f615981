/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One buffer's way into a file: which bytes go where next (wr_job_next), and
 * what a write result means for the file and the counters (wr_job_result).
 *
 * Invariant: d->size is a record boundary (or the tail of a write still in
 * progress for the first unfinished job); after a failed write the file is
 * cut back to the last complete record, so it stays valid pcap.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "writer/wr_internal.h"

/* Counts the records that end within len bytes; *bound = where the last one
 * ends. */
uint32_t wr_count_records(const uint8_t *p, size_t len, bool ng, size_t *bound)
{
	size_t off = 0;
	uint32_t n = 0;

	while (off + WR_REC_MIN <= len) {
		size_t rl = wr_rec_len(p + off, ng);

		if (!rl || off + rl > len)
			break;
		off += rl;
		n++;
	}
	if (bound)
		*bound = off;
	return n;
}

void wr_buf_release(struct wr_writer *w, struct wr_buf *b)
{
	b->len = 0;
	b->nrec = 0;
	b->flushed = 0;
	b->flushed_nrec = 0;
	b->peek_ns = 0;
	b->fetched = false;
	b->mleft = 0;
	b->mfinal = false;
	b->mend = NULL;
	if ((uint32_t)(b - w->bufs) >= w->o.nbufs) { /* the merge's output */
		wr_merge_out_free(w->merge, (uint32_t)(b - w->bufs));
		return;
	}
	/* cannot fail: the queue holds every buffer of the pool */
	wr_queue_push(&w->freeq, (uint32_t)(b - w->bufs));
}

/* Grows the preallocation in big steps ahead of the writes; a refusal (no
 * space, unsupported) just stops preallocating for this file. */
static void prealloc(struct wr_dest *d, uint64_t end)
{
	if (d->no_falloc || end <= d->falloc)
		return;
	uint64_t to = (end + WR_FALLOC_STEP) & ~(WR_FALLOC_STEP - 1);

	/* a file that ends at a known size (rotation): no more than that, or
	 * every file would allocate up to a step it then gives back */
	if (d->falloc_cap && to > d->falloc_cap)
		to = d->falloc_cap > end ? d->falloc_cap : end;

	if (fallocate(d->fd, FALLOC_FL_KEEP_SIZE, (off_t)d->falloc, (off_t)(to - d->falloc)))
		d->no_falloc = true;
	else
		d->falloc = to;
}

int wr_job_next(struct wr_writer *w, struct wr_job *j, struct wr_wreq *q)
{
	struct wr_dest *d = j->d;

	if (!j->stage) {
		q->fd = d->fd;
		q->src = j->data + j->done;
		q->len = j->len - j->done;
		q->off = j->base + j->done;
		q->fixed = true;
		return 0;
	}
	/* direct: the aligned prefix through O_DIRECT, the last partial block
	 * through the page cache so the file ends on the record boundary */
	size_t pre_end = j->stage_len & ~(size_t)(WR_ALIGN - 1);
	uint64_t soff = j->base - j->stage_pre;

	q->src = j->stage + j->done;
	q->off = soff + j->done;
	q->fixed = true;
	if (j->done < pre_end && !(j->done % WR_ALIGN) && d->dfd >= 0) {
		q->fd = d->dfd;
		q->len = pre_end - j->done;
	} else {
		q->fd = d->fd;
		q->len = j->stage_len - j->done;
	}
	return 0;
}

/* Plans a job at the planned write position of its destination (d->wpos,
 * d->ptail set up by the caller for the batch). */
void wr_job_plan(struct wr_writer *w, struct wr_job *j, uint8_t *stage)
{
	struct wr_dest *d = j->d;

	if (j->done) /* the unfinished first job keeps its place and stage */
		goto out;
	j->base = d->wpos;
	j->failed = false;
	j->stage = NULL;
	j->stage_pre = 0;
	if (stage && d->dfd >= 0) {
		/* copy the last partial block in front of the data, so every
		 * O_DIRECT write starts at an aligned offset */
		j->stage = stage;
		j->stage_pre = d->ptail_len;
		memmove(stage, d->ptail, d->ptail_len);
		memcpy(stage + d->ptail_len, j->data, j->len);
		j->stage_len = d->ptail_len + j->len;
	}
out:
	if (j->stage) {
		size_t pre_end = j->stage_len & ~(size_t)(WR_ALIGN - 1);

		d->ptail = j->stage + pre_end;
		d->ptail_len = j->stage_len - pre_end;
	}
	d->wpos = j->base + j->len;
	prealloc(d, d->wpos);
}

/* Cuts the file back to the last complete record of job j after a failure
 * and counts the lost records. */
static void job_fail(struct wr_writer *w, struct wr_job *j, int err)
{
	struct wr_dest *d = j->d;
	size_t in_b = j->done > j->stage_pre ? j->done - j->stage_pre : 0;
	size_t bound;
	uint32_t kept;
	int expect = 0;

	if (in_b > j->len)
		in_b = j->len;
	kept = wr_count_records(j->data, in_b, w->ng, &bound);
	/* if even this fails nothing more can be done; the error is counted */
	(void)!ftruncate(d->fd, (off_t)(j->base + bound));
	d->size = j->base + bound;
	if (d->dfd >= 0) {
		size_t t = d->size % WR_ALIGN;

		if (pread(d->fd, d->tail, t, (off_t)(d->size - t)) != (ssize_t)t) {
			/* unknown tail: stop using O_DIRECT for this file */
			close(d->dfd);
			d->dfd = -1;
			atomic_store(&w->st_direct, false);
		}
	}
	if (d->cat)
		wr_cat_update(d->cat, d->seq, d->size, false);
	atomic_fetch_add(&w->st_records, kept);
	atomic_fetch_add(&w->st_bytes, bound);
	atomic_fetch_add(&w->st_errors, j->nrec - kept);
	atomic_compare_exchange_strong(&w->first_err, &expect, err);
	wr_guard_note(w->guard, d);
	j->failed = true;
	if (!j->peek)
		wr_buf_release(w, j->b);
}

bool wr_job_result(struct wr_writer *w, struct wr_job *j, long res)
{
	struct wr_dest *d = j->d;
	size_t total = j->stage ? j->stage_len : j->len;

	if (res == -ECANCELED || res == -EINTR || res == -EAGAIN)
		return false; /* not tried: the caller submits it again */
	if (res == -EINVAL && d->dfd >= 0) {
		/* O_DIRECT refused at write time: go on buffered */
		close(d->dfd);
		d->dfd = -1;
		atomic_store(&w->st_direct, false);
		return false;
	}
	if (res <= 0) {
		job_fail(w, j, res ? (int)res : -EIO);
		return true;
	}
	j->done += (size_t)res;
	if (j->done < total)
		return false; /* short write: the rest goes next */
	d->size = j->base + j->len;
	if (d->dfd >= 0) {
		/* keep the last partial block for the next aligned write */
		size_t t = d->size % WR_ALIGN;

		if (j->stage)
			memcpy(d->tail, j->stage + (j->stage_len - t), t);
		else if (j->len >= t)
			memcpy(d->tail, j->data + (j->len - t), t);
		else
			memcpy(d->tail + (t - j->len), j->data, j->len);
	}
	wr_guard_note(w->guard, d);
	/* the listing sees the file grow no later than the counters */
	if (d->cat)
		wr_cat_update(d->cat, d->seq, d->size, false);
	atomic_fetch_add(&w->st_records, j->nrec);
	atomic_fetch_add(&w->st_bytes, j->len);
	if (!j->peek)
		wr_buf_release(w, j->b);
	return true;
}
