/* SPDX-License-Identifier: BSD-2-Clause */
/* Baseline backend: one synchronous pwrite(2) per write, in order. */
#include <errno.h>
#include <unistd.h>

#include "writer/wr_internal.h"

static int pw_init(struct wr_writer *w, struct wr_io **out)
{
	*out = NULL;
	return 0;
}

static void pw_fini(struct wr_io *io)
{
}

static int pw_run(struct wr_writer *w, struct wr_io *io, struct wr_job **jobs,
		  unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct wr_job *j = jobs[i];

		while (!j->complete) {
			struct wr_wreq q;
			ssize_t r;

			wr_job_next(w, j, &q);
			r = pwrite(q.fd, q.src, q.len, (off_t)q.off);
			atomic_fetch_add_explicit(&w->st_writes, 1, memory_order_relaxed);
			j->complete = wr_job_result(w, j, r < 0 ? -errno : r);
		}
		if (j->failed)
			break; /* the rest was planned past the cut: plan again */
	}
	return 0;
}

const struct wr_io_ops wr_io_pwrite_ops = {
	.init = pw_init,
	.fini = pw_fini,
	.run = pw_run,
};
