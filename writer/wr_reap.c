/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reaper: a helper thread of the writer that deletes the files
 * retention gave up. Unlinking a large file can take a file system a while
 * (freeing its extents); the writer thread must not stall on it, or the
 * producers would find no free buffer. The writer thread decides (the file
 * leaves the catalog and the gauges at once, and its bytes count as free
 * for min_free_pct until they are); the reaper only unlinks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "writer/wr_internal.h"

struct wr_reap_item {
	struct wr_cat *c; /* a reference */
	char name[256];
	uint64_t bytes;
};

struct wr_reaper {
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wr_reap_item *q;
	size_t n, cap;
	bool stop;
};

/* A file goes with what describes it beside it: its index (NAME.idx,
 * extract/), never trusted for another file of the same name later. */
static void unlink_with_index(int dirfd, const char *name)
{
	char idx[300];

	/* gone already (deleted by hand): nothing to do */
	unlinkat(dirfd, name, 0);
	if ((size_t)snprintf(idx, sizeof(idx), "%s.idx", name) < sizeof(idx))
		unlinkat(dirfd, idx, 0);
}

static void reap(struct wr_reap_item *it)
{
	unlink_with_index(it->c->dirfd, it->name);
	pthread_mutex_lock(&it->c->lock);
	it->c->doomed -= it->bytes;
	pthread_mutex_unlock(&it->c->lock);
	wr_cat_put(it->c);
}

static void *reaper_main(void *arg)
{
	struct wr_reaper *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct wr_reap_item it;

		while (!r->n && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (!r->n)
			break; /* stopped and drained */
		it = r->q[0];
		memmove(r->q, r->q + 1, (r->n - 1) * sizeof(*r->q));
		r->n--;
		pthread_mutex_unlock(&r->lock);
		reap(&it);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int wr_reaper_start(struct wr_reaper **out)
{
	struct wr_reaper *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	ret = -pthread_create(&r->thr, NULL, reaper_main, r);
	if (ret) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->cond);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Writer thread, c->lock held: file name of c (bytes) is to go. Without a
 * reaper (or memory for the queue) it is deleted here. */
void wr_reaper_push(struct wr_reaper *r, struct wr_cat *c, const char *name, uint64_t bytes)
{
	struct wr_reap_item it = { .c = c, .bytes = bytes };

	snprintf(it.name, sizeof(it.name), "%s", name);
	if (r) {
		pthread_mutex_lock(&r->lock);
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 16;
			struct wr_reap_item *q = realloc(r->q, cap * sizeof(*q));

			if (q) {
				r->q = q;
				r->cap = cap;
			}
		}
		if (r->n < r->cap) {
			atomic_fetch_add(&c->refs, 1);
			c->doomed += bytes;
			r->q[r->n++] = it;
			pthread_cond_signal(&r->cond);
			pthread_mutex_unlock(&r->lock);
			return;
		}
		pthread_mutex_unlock(&r->lock);
	}
	unlink_with_index(c->dirfd, name);
}

/* Deletes what is queued, then ends the thread. */
void wr_reaper_stop(struct wr_reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thr, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r->q);
	free(r);
}
