/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_uring backend: a batch of writes goes in as one linked chain
 * (IOSQE_IO_LINK), so the kernel runs them one after the other at increasing
 * offsets and the file only ever grows by complete buffers; a failed or
 * short write cancels the rest of the chain, which is submitted again
 * after the file has been cut back to a record boundary. The pool (and the
 * direct-mode staging slots) are registered buffers: no page pinning per
 * write.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "writer/wr_internal.h"

struct wr_io {
	struct io_uring ring;
	bool fixed;	/* buffers registered */
	bool broken;	/* the ring failed: plain pwrite from now on */
	uint64_t run;	/* batch number, in the tags: stray completions of an
			 * abandoned batch are recognised */
};

static int ur_init(struct wr_writer *w, struct wr_io **out)
{
	unsigned int nstage = w->stage ? WR_STAGE_SLOTS : 0;
	unsigned int nvec = w->nmem + nstage;
	struct iovec *iov = NULL;
	struct wr_io *io;
	int ret;

	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	ret = io_uring_queue_init(2 * WR_MAX_INFLIGHT, &io->ring, 0);
	if (ret)
		goto out_free;
	iov = calloc(nvec, sizeof(*iov));
	if (!iov) {
		ret = -ENOMEM;
		goto out_ring;
	}
	for (unsigned int i = 0; i < w->nmem; i++)
		iov[i] = (struct iovec){ w->bufs[i].data, w->o.buf_size };
	for (unsigned int i = 0; i < nstage; i++)
		iov[w->nmem + i] = (struct iovec){ w->stage + (size_t)i * w->stage_size,
						      w->stage_size };
	/* registration can fail (memlock limit, > UIO_MAXIOV buffers): plain
	 * writes then, same semantics */
	io->fixed = io_uring_register_buffers(&io->ring, iov, nvec) == 0;
	free(iov);
	*out = io;
	return 0;

out_ring:
	io_uring_queue_exit(&io->ring);
out_free:
	free(io);
	return ret;
}

static void ur_fini(struct wr_io *io)
{
	if (!io)
		return;
	io_uring_queue_exit(&io->ring);
	free(io);
}

static int buf_index(struct wr_writer *w, const void *src)
{
	const uint8_t *p = src;
	size_t pool = (size_t)w->nmem * w->o.buf_size;

	if (p >= w->mem && p < w->mem + pool)
		return (int)((size_t)(p - w->mem) / w->o.buf_size);
	return (int)(w->nmem + (size_t)(p - w->stage) / w->stage_size);
}

static void prep(struct wr_io *io, struct wr_writer *w, const struct wr_wreq *q,
		 uint64_t tag, bool link)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (io->fixed)
		io_uring_prep_write_fixed(sqe, q->fd, q->src, q->len, q->off,
					  buf_index(w, q->src));
	else
		io_uring_prep_write(sqe, q->fd, q->src, q->len, q->off);
	if (link)
		sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, tag);
}

/* Up to two writes per job (direct: the aligned part, then the tail), all
 * in one chain. */
static int ur_run(struct wr_writer *w, struct wr_io *io, struct wr_job **jobs,
		  unsigned int n)
{
	long res[2 * WR_MAX_INFLIGHT];
	unsigned int job_of[2 * WR_MAX_INFLIGHT];
	struct wr_wreq q[2 * WR_MAX_INFLIGHT];
	unsigned int i, k, nw = 0, got = 0;
	int ret;

	for (i = 0; i < n; i++) {
		struct wr_job *j = jobs[i];
		size_t total = j->stage ? j->stage_len : j->len;

		wr_job_next(w, j, &q[nw]);
		job_of[nw++] = i;
		if (j->done + q[nw - 1].len < total) {
			struct wr_job tmp = *j;

			tmp.done += q[nw - 1].len;
			wr_job_next(w, &tmp, &q[nw]);
			job_of[nw++] = i;
		}
	}
	if (io->broken)
		return wr_io_pwrite_ops.run(w, NULL, jobs, n);
	io->run++;
	for (k = 0; k < nw; k++) {
		prep(io, w, &q[k], io->run << 8 | k, k + 1 < nw);
		res[k] = -ECANCELED;
	}
	for (unsigned int sub = 0; sub < nw;) {
		ret = io_uring_submit(&io->ring);
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY)
			continue;
		if (ret < 0)
			goto broken;
		sub += (unsigned int)ret;
	}
	atomic_fetch_add_explicit(&w->st_writes, nw, memory_order_relaxed);
	while (got < nw) {
		struct io_uring_cqe *cqe;
		uint64_t tag;

		ret = io_uring_wait_cqe(&io->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret)
			goto broken;
		tag = io_uring_cqe_get_data64(cqe);
		if (tag >> 8 == io->run && (tag & 0xff) < nw) {
			res[tag & 0xff] = cqe->res;
			got++;
		}
		io_uring_cqe_seen(&io->ring, cqe);
	}
	/* in order: a short or failed write cancelled everything after it */
	for (k = 0; k < nw; k++) {
		struct wr_job *j = jobs[job_of[k]];

		if (!j->complete)
			j->complete = wr_job_result(w, j, res[k]);
	}
	return 0;

broken:
	/* Writes of this batch may still land: they carry the same bytes to
	 * the same offsets as the pwrite that repeats them, so that is
	 * harmless. */
	io->broken = true;
	return wr_io_pwrite_ops.run(w, NULL, jobs, n);
}

const struct wr_io_ops wr_io_uring_ops = {
	.init = ur_init,
	.fini = ur_fini,
	.run = ur_run,
};
