/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading what a capture took: network-mode pull clients and the download
 * of the capture file. A pull client holds a reference to the capture and
 * a writer subscription (which outlives the writer), never a lock: however
 * slowly it reads, nothing else waits for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/internal.h"
#include "writer/writer.h"

struct cap_pull {
	struct cap_core *k;
	struct cap *c;
	struct wr_sub *sub;
	unsigned int gen;
};

static void pull_slot_put(struct cap_core *k)
{
	pthread_mutex_lock(&k->lock);
	k->pulls--;
	pthread_mutex_unlock(&k->lock);
}

int cap_pull_begin(struct cap_core *k, const char *name, enum cap_format fmt,
		   struct cap_pull **out)
{
	struct cap_pull *p;
	struct cap *c;
	int ret = 0;

	c = cap_ref(k, name);
	if (!c)
		return -ENOENT;
	p = calloc(1, sizeof(*p));
	if (!p) {
		cap_unref(k, c);
		return -ENOMEM;
	}
	pthread_mutex_lock(&k->lock);
	if (k->pulls >= k->max_pulls)
		ret = -EBUSY;
	else
		k->pulls++;
	pthread_mutex_unlock(&k->lock);
	if (!ret) {
		pthread_mutex_lock(&c->lock);
		if (c->state != CAP_LIVE)
			ret = -ENOENT;
		else if (!c->cfg.network)
			ret = -EAGAIN;
		else
			ret = wr_subscribe_fmt(c->wr,
					       fmt == CAP_FMT_PCAPNG ? WR_FMT_PCAPNG : WR_FMT_PCAP,
					       &p->sub);
		p->gen = atomic_load(&c->pull_gen);
		pthread_mutex_unlock(&c->lock);
		if (ret)
			pull_slot_put(k);
	}
	if (ret) {
		free(p);
		cap_unref(k, c);
		return ret;
	}
	p->k = k;
	p->c = c;
	*out = p;
	return 0;
}

ssize_t cap_pull_read(struct cap_pull *p, void *buf, size_t len, uint64_t limit,
		      int timeout_ms)
{
	ssize_t n;

	if (atomic_load(&p->c->pull_gen) != p->gen)
		return -ESHUTDOWN;
	if (limit) /* take no record from the backlog we won't send */
		wr_sub_limit(p->sub, limit);
	n = wr_sub_read(p->sub, buf, len, timeout_ms);
	return n == -EPIPE ? -ESHUTDOWN : n;
}

void cap_pull_end(struct cap_pull *p)
{
	if (!p)
		return;
	wr_unsubscribe(p->sub);
	pull_slot_put(p->k);
	cap_unref(p->k, p->c);
	free(p);
}

/* A regular file, opened without following a link, never a FIFO. */
static int open_regular(int dfd, const char *path, int *fd)
{
	struct stat st;

	*fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return -ENOENT;
	}
	return 0;
}

/* The files of c (oldest first), with c->lock held. */
static int files_locked(struct cap *c, struct wr_file_info **v, size_t *n)
{
	if (c->state != CAP_LIVE)
		return -ENOENT;
	return wr_list_files(c->wr, v, n);
}

/* The folder of c's dump prefix (resolved when the prefix was checked). */
static int dump_dir(struct cap_core *k, const char *name, char *dir, size_t len)
{
	struct cap *c = cap_ref(k, name);
	char *slash;

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	snprintf(dir, len, "%s", c->cfg.dump);
	pthread_mutex_unlock(&c->lock);
	cap_unref(k, c);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	return 0;
}

int cap_dump_open(struct cap_core *k, const char *name, int *fd, char *path, size_t len)
{
	struct wr_file_info *v = NULL;
	char dir[PATH_MAX];
	struct cap *c;
	size_t n = 0;
	int ret = 0;

	c = cap_ref(k, name);
	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (c->state != CAP_LIVE)
		ret = -ENOENT;
	else if (c->cfg.network)
		ret = -EISCONN;
	else
		ret = files_locked(c, &v, &n);
	pthread_mutex_unlock(&c->lock);
	cap_unref(k, c);
	if (!ret)
		ret = dump_dir(k, name, dir, sizeof(dir));
	/* the newest file: the one being written */
	if (!ret && !n)
		ret = -ENOENT;
	if (!ret) {
		snprintf(path, len, "%s/%s", dir, v[n - 1].name);
		ret = open_regular(AT_FDCWD, path, fd);
	}
	free(v);
	return ret;
}

int cap_files(struct cap_core *k, const char *name, struct cap_file **out, size_t *n)
{
	struct wr_file_info *v = NULL;
	struct cap_file *f = NULL;
	struct cap *c;
	size_t i;
	int ret;

	*out = NULL;
	*n = 0;
	c = cap_ref(k, name);
	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	ret = c->cfg.network && !(c->cfg.rotate_bytes || c->cfg.rotate_seconds)
		      ? 0 : files_locked(c, &v, n);
	pthread_mutex_unlock(&c->lock);
	cap_unref(k, c);
	if (ret)
		return ret;
	f = calloc(*n ? *n : 1, sizeof(*f));
	if (!f) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++) {
		snprintf(f[i].name, sizeof(f[i].name), "%s", v[i].name);
		f[i].first_ns = v[i].first_ns;
		f[i].last_ns = v[i].last_ns;
		f[i].records = v[i].records;
		f[i].bytes = v[i].bytes;
		f[i].sealed = v[i].sealed;
	}
	free(v);
	*out = f;
	return 0;
}

int cap_file_open(struct cap_core *k, const char *name, const char *file, int *fd)
{
	struct cap_file *v = NULL;
	char dir[PATH_MAX];
	size_t n = 0, i;
	int ret, dfd;

	/* one of the capture's own files, by name: no path in it */
	if (!file[0] || strchr(file, '/') || file[0] == '.')
		return -ENOENT;
	ret = cap_files(k, name, &v, &n);
	if (ret)
		return ret;
	for (i = 0; i < n && strcmp(v[i].name, file); i++)
		;
	ret = i == n ? -ENOENT : !v[i].sealed ? -EBUSY : 0;
	free(v);
	if (!ret)
		ret = dump_dir(k, name, dir, sizeof(dir));
	if (ret)
		return ret;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	ret = open_regular(dfd, file, fd);
	close(dfd);
	return ret;
}
