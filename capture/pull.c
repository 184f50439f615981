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

int cap_pull_begin(struct cap_core *k, const char *name, struct cap_pull **out)
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
			ret = wr_subscribe(c->wr, &p->sub);
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

int cap_dump_open(struct cap_core *k, const char *name, int *fd, char *path, size_t len)
{
	struct cap *c;
	struct stat st;
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
		cap_dump_file(c->cfg.dump, path, len);
	pthread_mutex_unlock(&c->lock);
	cap_unref(k, c);
	if (ret)
		return ret;
	/* never through a link, never a FIFO or a device */
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return -ENOENT;
	}
	return 0;
}
