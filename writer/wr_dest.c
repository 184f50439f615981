/* SPDX-License-Identifier: BSD-2-Clause */
/* Destinations: a pcap file (created with its header) or the network backlog. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

static int write_all(int fd, const void *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p = (const uint8_t *)p + n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Creates the file with its header in one step: an unnamed file gets the
 * header, then a name, then replaces path. So path is never an empty or
 * half-written file, even if the process dies right here. */
static int create_atomic(const char *path, const void *h, size_t len)
{
	char *dir = strdup(path), *tmp = NULL, proc[64];
	int fd, ret;

	if (!dir)
		return -ENOMEM;
	fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, h, len, 0);
	if (ret)
		goto out_close;
	if (asprintf(&tmp, "%s.wr-%d", path, (int)getpid()) < 0) {
		tmp = NULL;
		ret = -ENOMEM;
		goto out_close;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	unlink(tmp);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW)) {
		ret = -errno;
		goto out_close;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		goto out_close;
	}
	free(tmp);
	free(dir);
	return fd;

out_close:
	close(fd);
out:
	free(tmp);
	free(dir);
	return ret;
}

/* Creates (replaces) the file and writes the pcap header, so the file is
 * valid from the first moment. On error nothing is left behind that we
 * created. */
int wr_dest_file_open(struct wr_writer *w, const char *path, struct wr_dest **out)
{
	struct wr_pcap_fhdr h;
	struct wr_dest *d;
	struct stat st;
	bool existed;
	int ret;

	if (!path || !*path)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->kind = WR_DEST_FILE;
	d->dfd = -1;
	d->path = strdup(path);
	if (!d->path) {
		ret = -ENOMEM;
		goto out_free;
	}
	wr_pcap_fhdr_init(&h, w->o.snaplen);
	existed = lstat(path, &st) == 0;
	/* only a new or regular file is replaced by rename: a device
	 * (/dev/null), FIFO or symlink is opened as it is */
	d->fd = existed && !S_ISREG(st.st_mode) ? -EISDIR : create_atomic(path, &h, sizeof(h));
	if (d->fd == -EOPNOTSUPP || d->fd == -EISDIR || d->fd == -EXDEV) {
		/* no unnamed files here, or not a regular file: plain open */
		d->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (d->fd < 0) {
			ret = -errno;
			goto out_free;
		}
		ret = write_all(d->fd, &h, sizeof(h), 0);
		if (ret)
			goto out_close;
	}
	if (d->fd < 0) {
		ret = d->fd;
		goto out_free;
	}
	d->size = sizeof(h);
	atomic_fetch_add(&w->st_bytes, sizeof(h));

	if (w->direct_ok) {
		d->tail = aligned_alloc(WR_ALIGN, WR_ALIGN);
		if (!d->tail) {
			ret = -ENOMEM;
			goto out_close;
		}
		memcpy(d->tail, &h, sizeof(h));
		d->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		if (d->dfd < 0) {
			/* EINVAL: the file system refuses O_DIRECT (tmpfs and
			 * others): fall back to buffered for good */
			if (errno != EINVAL) {
				ret = -errno;
				goto out_close;
			}
			w->direct_ok = false;
		}
	}
	*out = d;
	return 0;

out_close:
	close(d->fd);
	if (!existed)
		unlink(path);
out_free:
	free(d->tail);
	free(d->path);
	free(d);
	return ret;
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

/* Everything for d has been written: cut preallocated space, close. */
int wr_dest_finish(struct wr_writer *w, struct wr_dest *d)
{
	int ret = 0;

	if (!d)
		return 0;
	if (d->kind == WR_DEST_FILE) {
		if (d->falloc > d->size && ftruncate(d->fd, (off_t)d->size))
			ret = -errno;
		if (d->dfd >= 0)
			close(d->dfd);
		if (close(d->fd) && !ret)
			ret = -errno;
	}
	free(d->tail);
	free(d->path);
	free(d);
	return ret;
}
