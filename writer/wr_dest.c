/* SPDX-License-Identifier: BSD-2-Clause */
/* Destinations: a pcap file (created with its header) or the network backlog. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

uint64_t wr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A second descriptor on the very same inode, with O_DIRECT (never a new
 * lookup of the name). */
int wr_reopen_direct(int fd)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, O_WRONLY | O_DIRECT | O_CLOEXEC);
}

/* Sets up direct writes for a new file d whose header h is written. */
int wr_dest_direct(struct wr_writer *w, struct wr_dest *d, const void *h, size_t len)
{
	if (!w->direct_ok)
		return 0;
	if (!d->tail) {
		d->tail = aligned_alloc(WR_ALIGN, WR_ALIGN);
		if (!d->tail)
			return -ENOMEM;
	}
	/* the last partial block of the header */
	memcpy(d->tail, (const uint8_t *)h + (len - len % WR_ALIGN), len % WR_ALIGN);
	d->dfd = wr_reopen_direct(d->fd);
	if (d->dfd < 0) {
		/* EINVAL: the file system refuses O_DIRECT (tmpfs and
		 * others): fall back to buffered for good */
		if (errno != EINVAL)
			return -errno;
		w->direct_ok = false;
	}
	return 0;
}

struct wr_dest *wr_dest_file_new(void)
{
	struct wr_dest *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->kind = WR_DEST_FILE;
	d->fd = -1;
	d->dfd = -1;
	d->dirfd = -1;
	d->nf.fd = -1;
	return d;
}

/* Prepares the file that replaces path: its folder opened, an existing
 * entry checked, the new file with the pcap header created without a name.
 * wr_dest_commit gives it the name; until then path is untouched. */
int wr_dest_file_open(struct wr_writer *w, const char *path, struct wr_dest **out)
{
	struct wr_dest *d;
	int ret;

	if (!path || !*path)
		return -EINVAL;
	d = wr_dest_file_new();
	if (!d)
		return -ENOMEM;
	d->path = strdup(path);
	if (!d->path) {
		ret = -ENOMEM;
		goto out;
	}
	ret = wr_dir_open(path, &d->dirfd, &d->name);
	if (ret)
		goto out;
	ret = wr_file_check(d->dirfd, d->name, true);
	if (ret)
		goto out;
	ret = wr_hdr_get(w, &d->hdr, &d->hdr_len);
	if (ret)
		goto out;
	ret = wr_file_prepare(d->dirfd, d->name, &w->fmode, d->hdr, d->hdr_len, &d->nf);
	if (ret)
		goto out;
	d->fd = d->nf.fd;
	d->size = d->hdr_len;
	ret = wr_dest_direct(w, d, d->hdr, d->hdr_len);
	if (ret)
		goto out;
	*out = d;
	return 0;
out:
	wr_dest_finish(w, d);
	return ret;
}

/* Links the prepared file under its name (replacing a regular file). */
int wr_dest_commit(struct wr_writer *w, struct wr_dest *d)
{
	int ret;

	if (d->kind != WR_DEST_FILE || d->committed)
		return 0;
	if (d->cat)
		return wr_rot_commit(w, d);
	ret = wr_file_commit(d->dirfd, d->name, true, &d->nf);
	if (ret)
		return ret;
	d->committed = true;
	atomic_fetch_add(&w->st_bytes, d->hdr_len);
	return 0;
}

int wr_dest_net_new(struct wr_writer *w, struct wr_dest **out)
{
	struct wr_dest *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->kind = WR_DEST_NET;
	d->fd = -1;
	d->dfd = -1;
	*out = d;
	return 0;
}

/* Everything for d has been written: cut preallocated space, close. A file
 * never committed disappears. */
int wr_dest_finish(struct wr_writer *w, struct wr_dest *d)
{
	int ret = 0;

	if (!d)
		return 0;
	if (d->kind == WR_DEST_FILE) {
		if (d->cat)
			wr_rot_seal(w, d);
		else if (d->committed)
			ret = wr_ng_finish_file(w, d);
		if (d->fd >= 0 && d->falloc > d->size && ftruncate(d->fd, (off_t)d->size))
			ret = -errno;
		if (d->dfd >= 0)
			close(d->dfd);
		if (!d->committed) {
			wr_file_abort(d->cat ? d->cat->dirfd : d->dirfd, &d->nf);
			d->fd = -1;
		}
		if (d->fd >= 0 && close(d->fd) && !ret)
			ret = -errno;
		if (d->dirfd >= 0)
			close(d->dirfd);
		wr_cat_put(d->cat);
	}
	free(d->tail);
	free(d->hdr);
	free(d->name);
	free(d->path);
	free(d);
	return ret;
}
