/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rotation: a destination that is a series of files of one prefix.
 *
 * All decisions are the writer thread's, when it takes records for the
 * destination (wr_rot_take): a job that must start a new file is marked
 * (rot), and the job is split at the record after which the file reaches
 * rotate_bytes (only that one job's records are walked). Producers only
 * compare each record's time with the end of their stream's window and
 * hand their buffer over when it is passed, so a buffer never holds
 * records of a later window than the one it is tagged with.
 *
 * A marked job is written only once every job before it is complete: the
 * writer then creates the new file (header, name), seals the old one (cut
 * to its records, closed: complete, never written again) and goes on. A
 * record never spans two files and each is written once, to one file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Prepares the next file of d (named after seq and ts), not yet linked. */
static int prepare(struct wr_writer *w, struct wr_dest *d, uint64_t ts, struct wr_newfile *nf,
		   char **name, uint32_t *seq)
{
	uint8_t *h;
	size_t hl;
	char buf[256];
	int ret;

	*seq = d->cat->next_seq;
	ret = wr_cat_name(d->cat, *seq, ts, w->ng, buf, sizeof(buf));
	if (ret)
		return ret;
	ret = wr_hdr_get(w, &h, &hl);
	if (ret)
		return ret;
	*name = strdup(buf);
	ret = *name ? wr_file_prepare(d->cat->dirfd, buf, &w->fmode, h, hl, nf) : -ENOMEM;
	if (ret) {
		free(*name);
		*name = NULL;
	} else {
		d->hdr_len = hl;
		free(d->hdr);
		d->hdr = h;
		h = NULL;
	}
	free(h);
	return ret;
}

/* Links the prepared file under a free name: a taken sequence number (a
 * file made by someone else meanwhile) is skipped, never replaced. */
static int commit(struct wr_dest *d, struct wr_newfile *nf, char **name, uint32_t *seq)
{
	for (int i = 0; i < 100; i++) {
		int ret = wr_file_commit(d->cat->dirfd, *name, false, nf);

		if (ret != -EEXIST)
			return ret;
		/* same time part, next number */
		char buf[256];
		size_t bl = strlen(d->cat->base);

		snprintf(buf, sizeof(buf), "%s-%08u%s", d->cat->base, ++*seq, *name + bl + 9);
		free(*name);
		*name = strdup(buf);
		if (!*name)
			return -ENOMEM;
	}
	return -EEXIST;
}

/* d's open file is now the prepared, committed one. */
static int install(struct wr_writer *w, struct wr_dest *d, struct wr_newfile *nf, char *name,
		   uint32_t seq)
{
	char *path;

	if (asprintf(&path, "%s%s", d->cat->dir, name) < 0)
		return -ENOMEM;
	free(d->path);
	free(d->name);
	d->path = path;
	d->name = name;
	d->seq = seq;
	d->cat->next_seq = seq + 1;
	d->fd = nf->fd;
	d->nf = *nf;
	d->size = d->hdr_len;
	d->falloc = 0;
	d->no_falloc = false;
	/* at most rotate_bytes plus a record, and the ISBs */
	d->falloc_cap = w->o.rotate_bytes ? w->o.rotate_bytes + w->o.buf_size + 4096 : 0;
	d->fileno++;
	atomic_fetch_add(&w->st_bytes, d->hdr_len);
	if (wr_cat_add_open(d->cat, seq, name, d->hdr_len))
		return -ENOMEM;
	return wr_dest_direct(w, d, d->hdr, d->hdr_len);
}

/* A rotating destination for prefix: its catalog read, its first file
 * prepared (named after the wall clock; linked by wr_rot_commit). */
int wr_rot_dest_new(struct wr_writer *w, const char *prefix, struct wr_dest **out)
{
	struct wr_dest *d;
	int ret;

	if (!prefix || !*prefix)
		return -EINVAL;
	d = wr_dest_file_new();
	if (!d)
		return -ENOMEM;
	ret = wr_cat_new(prefix, &d->cat);
	if (ret)
		goto out;
	/* a prefix naming a folder ("dir/") has no name part */
	if (!*d->cat->base) {
		ret = -EISDIR;
		goto out;
	}
	ret = prepare(w, d, wall_ns(), &d->nf, &d->name, &d->seq);
	if (ret)
		goto out;
	d->fd = d->nf.fd;
	*out = d;
	return 0;
out:
	wr_dest_finish(w, d);
	return ret;
}

int wr_rot_commit(struct wr_writer *w, struct wr_dest *d)
{
	struct wr_newfile nf = d->nf;
	char *name = d->name;
	uint32_t seq = d->seq;
	int ret;

	ret = commit(d, &nf, &name, &seq);
	if (ret) {
		d->name = name;
		d->nf = nf;
		return ret;
	}
	d->name = NULL;
	d->committed = true;
	return install(w, d, &nf, name, seq);
}

/* Bytes of whole records from the start of p (len bytes) until at least
 * need bytes are reached, or all; *n records. */
static size_t cut_at(const uint8_t *p, size_t len, bool ng, uint64_t need, uint32_t *n)
{
	size_t off = 0;
	uint32_t k = 0;

	while (off + WR_REC_MIN <= len) {
		off += wr_rec_len(p + off, ng); /* our own records: never 0 */
		k++;
		if (off >= need)
			break;
	}
	*n = k;
	return off;
}

void wr_rot_take(struct wr_writer *w, struct wr_pending *p, struct wr_dest *d,
		 struct wr_buf *b, size_t off, size_t len, uint32_t nrec, bool peek)
{
	uint64_t win = w->rot_ns ? atomic_load_explicit(&b->win, memory_order_relaxed) : 0;

	while (len) {
		bool rot = d->q_new || (w->rot_ns && d->q_any && win > d->q_win);
		size_t cut = len;
		uint32_t cn = nrec;
		struct wr_job *j;

		if (rot) {
			d->q_new = false;
			d->q_any = false;
			d->q_size = d->hdr_len;
		}
		if (!d->q_size)
			d->q_size = d->hdr_len;
		/* an empty file takes any window; a record older than the
		 * file's window (late) goes to it too */
		if (!d->q_any)
			d->q_win = win;
		if (w->o.rotate_bytes && d->q_size + len >= w->o.rotate_bytes) {
			cut = cut_at(b->data + off, len, w->ng, w->o.rotate_bytes - d->q_size, &cn);
			d->q_new = true;
		}
		j = wr_pending_add(p);
		*j = (struct wr_job){
			.b = b, .d = d, .data = b->data + off, .len = cut, .nrec = cn,
			/* only the last piece gives the buffer back */
			.peek = cut < len ? true : peek,
			.rot = rot,
			.win = win,
		};
		d->q_size += cut;
		d->q_any = true;
		off += cut;
		len -= cut;
		nrec -= cn;
	}
}

/* d's open file is complete: cut to its records, closed, sealed. */
void wr_rot_seal(struct wr_writer *w, struct wr_dest *d)
{
	int ret = 0;

	if (d->fd < 0 || !d->committed)
		return;
	ret = wr_ng_finish_file(w, d);
	if (d->falloc > d->size && ftruncate(d->fd, (off_t)d->size) && !ret)
		ret = -errno;
	if (d->dfd >= 0)
		close(d->dfd);
	if (close(d->fd) && !ret)
		ret = -errno;
	if (ret) {
		int expect = 0;

		atomic_compare_exchange_strong(&w->first_err, &expect, ret);
	}
	d->fd = d->dfd = -1;
	d->nf.fd = -1;
	wr_cat_update(d->cat, d->seq, d->size, true);
	atomic_fetch_add(&w->st_sealed, 1);
}

/* Job j, first in line, starts a new file (or d has none open): create it,
 * then seal the old one. On failure the old file, if open, goes on. */
int wr_rot_switch(struct wr_writer *w, struct wr_job *j)
{
	struct wr_dest *d = j->d;
	struct wr_newfile nf;
	char *name = NULL;
	uint32_t seq;
	int ret;

	ret = prepare(w, d, wr_rec_ts(j->data, w->ng), &nf, &name, &seq);
	if (ret)
		goto out;
	ret = commit(d, &nf, &name, &seq);
	if (ret) {
		wr_file_abort(d->cat->dirfd, &nf);
		goto out;
	}
	wr_rot_seal(w, d);
	d->committed = true;
	ret = install(w, d, &nf, name, seq);
	name = NULL;
	wr_guard_note(w->guard, d);
	wr_cat_retain(d->cat, &w->o, w->reaper, &w->st_deleted, &w->st_deleted_early);
out:
	free(name);
	if (ret) {
		int expect = 0;

		atomic_compare_exchange_strong(&w->first_err, &expect, ret);
	}
	return ret;
}

/* Now and then (writer thread): the open file's size for the listing, an
 * idle file sealed once its window is over by the wall clock, retention. */
void wr_rot_tick(struct wr_writer *w, struct wr_dest *d, bool idle)
{
	uint64_t grace = 2ull * w->o.flush_ms * 1000000ull;

	if (d->fd >= 0 && d->committed)
		wr_cat_update(d->cat, d->seq, d->size, false);
	if (idle && w->rot_ns && d->q_any && d->fd >= 0 &&
	    wall_ns() >= (d->q_win + 1) * w->rot_ns + grace) {
		wr_rot_seal(w, d);
		d->q_any = false;
		d->q_new = true;
	}
	wr_cat_retain(d->cat, &w->o, w->reaper, &w->st_deleted, &w->st_deleted_early);
}
