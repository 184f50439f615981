/* SPDX-License-Identifier: BSD-2-Clause */
/* Writer life cycle and control: open, close, file switch, network mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

/* WR_DIRECT_AUTO: buffered writes. O_DIRECT can only write whole 4 KiB
 * blocks, so the file would end mid-record between the aligned write and the
 * tail rewrite, and on this machine it was slower too (bench/writer). */
#define WR_AUTO_DIRECT false
#define WR_SNAPLEN_DEF 262144u

const struct wr_io_ops *wr_io_ops_of(struct wr_writer *w)
{
	return w->o.backend == WR_BACKEND_PWRITE ? &wr_io_pwrite_ops : &wr_io_uring_ops;
}

static int check_opts(struct wr_opts *o)
{
	if (!o->snaplen)
		o->snaplen = WR_SNAPLEN_DEF;
	if (!o->buf_size)
		o->buf_size = WR_DEF_BUF_SIZE;
	o->buf_size = (o->buf_size + WR_ALIGN - 1) & ~(size_t)(WR_ALIGN - 1);
	if (!o->nbufs)
		o->nbufs = WR_DEF_NBUFS;
	if (!o->flush_ms)
		o->flush_ms = WR_DEF_FLUSH_MS;
	if (!o->net_buffer_bytes)
		o->net_buffer_bytes = WR_DEF_NET_BYTES;
	if (!o->linktype)
		o->linktype = WR_LINKTYPE_ETHERNET;
	if (!o->file_mode)
		o->file_mode = 0600;
	if (o->file_mode & ~(mode_t)0777)
		return -EINVAL;
	/* every record must fit a buffer and the backlog */
	size_t rmax = (o->format == WR_FMT_PCAPNG ? WR_NG_EPB_OVERHEAD
						   : sizeof(struct wr_pcap_rhdr)) + o->snaplen;

	if (o->buf_size < rmax || o->net_buffer_bytes < rmax || o->format > WR_FMT_PCAPNG ||
	    o->linktype > 0xffff ||
	    o->nbufs < 2 || o->nbufs > 1024 || o->backend > WR_BACKEND_PWRITE ||
	    o->direct > WR_DIRECT_OFF)
		return -EINVAL;
	if (!o->rotate_bytes && !o->rotate_seconds && wr_retaining(o))
		return -EINVAL; /* retention needs a series of files */
	if (o->keep_archived && !o->may_delete)
		return -EINVAL;
	if (o->min_free_pct > 99 || o->rotate_seconds > 366u * 86400u)
		return -EINVAL;
	if (o->rotate_bytes || o->rotate_seconds) {
		if (!o->prefix || !*o->prefix)
			return -EINVAL;
		return 0;
	}
	if (!o->network && (!o->path || !*o->path) && (!o->prefix || !*o->prefix))
		return -EINVAL;
	return 0;
}

static void set_err(struct wr_writer *w, int err)
{
	int expect = 0;

	atomic_compare_exchange_strong(&w->first_err, &expect, err);
}

static void writer_free(struct wr_writer *w)
{
	const struct wr_io_ops *ops = wr_io_ops_of(w);

	if (w->io)
		ops->fini(w->io);
	wr_guard_stop(w->guard);
	for (int i = 0; i < 2; i++)
		if (w->dests[i])
			set_err(w, wr_dest_finish(w, w->dests[i]));
	if (w->net)
		wr_net_put(w->net);
	wr_reaper_stop(w->reaper); /* after the dests: deletes what is queued */
	wr_cat_put(w->cat);
	if (w->efd >= 0)
		close(w->efd);
	wr_queue_fini(&w->freeq);
	wr_queue_fini(&w->fullq);
	pthread_mutex_destroy(&w->ctl);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	wr_merge_free(w->merge);
	free(w->stage);
	free(w->hdr);
	free(w->if_name);
	free(w->bufs);
	free(w->mem);
	free(w->path);
	free(w);
}

/* A new destination; a file is given its name only when commit (wr_open
 * commits later, once nothing else can fail). */
static int make_dest(struct wr_writer *w, bool network, const char *path, bool commit,
		     struct wr_dest **out)
{
	int ret;

	if (network)
		ret = wr_dest_net_new(w, out);
	else if (w->rotating)
		ret = wr_rot_dest_new(w, path, out);
	else
		ret = wr_dest_file_open(w, path, out);

	if (!ret && commit) {
		ret = wr_dest_commit(w, *out);
		if (ret) {
			wr_dest_finish(w, *out);
			*out = NULL;
		}
	}
	if (ret)
		return ret;
	atomic_store(&w->st_direct, !network && (*out)->dfd >= 0);
	if ((*out)->cat) {
		/* listing and gauges follow the newest prefix */
		struct wr_cat *old;

		atomic_fetch_add(&(*out)->cat->refs, 1);
		pthread_mutex_lock(&w->lock);
		old = w->cat;
		w->cat = (*out)->cat;
		pthread_mutex_unlock(&w->lock);
		wr_cat_put(old);
	}
	return 0;
}

/* Lets the writer thread run (go) or end before it did anything. */
static void release_thread(struct wr_writer *w, bool go)
{
	pthread_mutex_lock(&w->lock);
	w->start = go ? 1 : 2;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int wr_open(const struct wr_opts *opts, struct wr_writer **out)
{
	struct wr_writer *w;
	int ret;

	if (!opts || !out)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->efd = -1;
	pthread_mutex_init(&w->ctl, NULL);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->o = *opts;
	ret = check_opts(&w->o);
	if (ret)
		goto out;
	w->rotating = w->o.rotate_bytes || w->o.rotate_seconds;
	w->rot_ns = (uint64_t)w->o.rotate_seconds * 1000000000ull;
	if (w->rotating) /* the prefix is the "path" */
		w->path = strdup(w->o.prefix);
	else if (w->o.path)
		w->path = strdup(w->o.path);
	else if (w->o.prefix &&
		 asprintf(&w->path, "%s.%s", w->o.prefix, w->o.format ? "pcapng" : "pcap") < 0)
		w->path = NULL;
	if ((w->o.path || w->o.prefix) && !w->path) {
		ret = -ENOMEM;
		goto out;
	}
	w->o.path = NULL; /* w->path is the current one */
	w->o.prefix = NULL;
	w->fmode = (struct wr_fmode){ w->o.file_mode, w->o.file_gid };
	w->ng = w->o.format == WR_FMT_PCAPNG;
	w->start_ns = w->o.start_ns;
	if (!w->start_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		w->start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	/* the caller's strings may not outlive wr_open: our own copies */
	w->o.filter = NULL;
	w->o.if_name = NULL;
	if (opts->if_name) {
		w->if_name = strdup(opts->if_name);
		if (!w->if_name) {
			ret = -ENOMEM;
			goto out;
		}
		w->o.if_name = w->if_name;
	}
	ret = wr_hdr_make(&w->o, opts->filter, &w->hdr, &w->hdr_len);
	if (ret)
		goto out;
	w->network = w->o.network;
	w->direct_ok = w->o.direct == WR_DIRECT_ON ||
		       (w->o.direct == WR_DIRECT_AUTO && WR_AUTO_DIRECT);

	w->nmem = w->o.nbufs + (w->o.reorder_ns ? WR_MERGE_OUT : 0);
	w->mem = aligned_alloc(WR_ALIGN, (size_t)w->nmem * w->o.buf_size);
	w->bufs = calloc(w->nmem, sizeof(*w->bufs));
	if (!w->mem || !w->bufs) {
		ret = -ENOMEM;
		goto out;
	}
	ret = wr_queue_init(&w->freeq, w->o.nbufs);
	if (!ret)
		ret = wr_queue_init(&w->fullq, w->o.nbufs);
	if (ret)
		goto out;
	for (unsigned int i = 0; i < w->nmem; i++) {
		w->bufs[i].data = w->mem + (size_t)i * w->o.buf_size;
		if (i < w->o.nbufs)
			wr_queue_push(&w->freeq, i);
	}
	if (w->o.reorder_ns) {
		ret = wr_merge_new(w, &w->merge);
		if (ret)
			goto out;
	}
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		ret = -errno;
		goto out;
	}
	ret = wr_net_new(&w->o, opts->filter, &w->net);
	if (ret)
		goto out;
	ret = make_dest(w, w->network, w->path, false, &w->dests[0]);
	if (ret)
		goto out;
	if (w->direct_ok) {
		/* staged copies: the last partial block + one buffer */
		w->stage_size = w->o.buf_size + WR_ALIGN;
		w->stage = aligned_alloc(WR_ALIGN, WR_STAGE_SLOTS * w->stage_size);
		if (!w->stage) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (wr_retaining(&w->o)) {
		ret = wr_reaper_start(&w->reaper);
		if (ret)
			goto out;
	}
	ret = wr_io_ops_of(w)->init(w, &w->io);
	if (ret)
		goto out;
	/* without it (fork refused) only the after-SIGKILL repair is missing */
	if (wr_guard_start(&w->guard))
		w->guard = NULL;
	/* the thread waits for the commit: an existing file is replaced only
	 * once nothing can fail any more */
	ret = -pthread_create(&w->thr, NULL, wr_thread_main, w);
	if (ret)
		goto out;
	ret = wr_dest_commit(w, w->dests[0]);
	release_thread(w, !ret);
	if (ret) {
		pthread_join(w->thr, NULL);
		goto out;
	}
	*out = w;
	return 0;

out:
	/* a file prepared but not committed disappears (wr_dest_finish) */
	writer_free(w);
	return ret;
}

int wr_close(struct wr_writer *w)
{
	int ret;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	if (w->streams) {
		pthread_mutex_unlock(&w->lock);
		return -EBUSY; /* producers still running: their records would be lost */
	}
	w->stop = true;
	atomic_store(&w->req, true);
	pthread_mutex_unlock(&w->lock);
	wr_wake(w);
	pthread_join(w->thr, NULL);
	for (int i = 0; i < 2; i++) {
		set_err(w, wr_dest_finish(w, w->dests[i]));
		w->dests[i] = NULL;
	}
	wr_guard_stop(w->guard); /* files complete: it leaves them alone */
	w->guard = NULL;
	wr_reaper_stop(w->reaper); /* what retention gave up is gone on return */
	w->reaper = NULL;
	ret = atomic_load(&w->first_err);
	writer_free(w);
	return ret;
}

/* Makes d the destination of a new generation and retires the old one once
 * every stream has handed over what it filled for it. ctl held. */
static void switch_to(struct wr_writer *w, struct wr_dest *d)
{
	uint32_t g = atomic_load(&w->gen) + 1;
	struct timespec ts = { 0, 1000000 };
	int waited = 0;

	d->gen = g;
	w->dests[g & 1] = d; /* free: the previous switch retired it */
	atomic_store_explicit(&w->gen, g, memory_order_release);
	for (;;) {
		bool all = true;

		pthread_mutex_lock(&w->lock);
		for (struct wr_stream *s = w->streams; s; s = s->next) {
			if (atomic_load(&s->gen_ack) == g || !atomic_load(&s->holding))
				continue;
			/* the caller fills this stream itself, so it is not in
			 * wr_put now: hand over for it (single-threaded use) */
			if (pthread_equal(atomic_load(&s->owner), pthread_self()))
				wr_stream_follow(s, g);
			else
				all = false;
		}
		pthread_mutex_unlock(&w->lock);
		/* a stream that is neither putting nor flushing for this long
		 * breaks its contract; its old records then go to the new
		 * destination (late, not lost) */
		if (all || waited++ >= WR_SWITCH_TIMEOUT_MS)
			break;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&w->lock);
	w->retire_gen = g - 1;
	w->retire_req = true;
	atomic_store(&w->req, true);
	pthread_mutex_unlock(&w->lock);
	wr_wake(w);
	pthread_mutex_lock(&w->lock);
	while (w->retire_req)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!a || !b)
		return false;
	if (!strcmp(a, b))
		return true;
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* In network mode no file is created: the path is only checked (its folder
 * must exist and be writable) and used when network mode ends. */
static int check_dir(const char *path)
{
	char *dup = strdup(path);
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	if (access(dirname(dup), W_OK | X_OK))
		ret = -errno;
	free(dup);
	return ret;
}

int wr_reopen(struct wr_writer *w, const char *path)
{
	struct wr_dest *d;
	char *p;
	int ret;

	if (!w || !path || !*path)
		return -EINVAL;
	pthread_mutex_lock(&w->ctl);
	if (same_file(path, w->path)) {
		ret = 0; /* no change: replacing the open file would corrupt it */
		goto out;
	}
	p = strdup(path);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	ret = w->network ? check_dir(path) : make_dest(w, false, path, true, &d);
	if (ret) {
		free(p);
		goto out;
	}
	if (!w->network)
		switch_to(w, d);
	free(w->path);
	w->path = p;
out:
	pthread_mutex_unlock(&w->ctl);
	return ret;
}

int wr_set_network(struct wr_writer *w, bool on)
{
	struct wr_dest *d;
	int ret = 0;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->ctl);
	if (on == w->network)
		goto out;
	if (!on && !w->path) {
		ret = -EINVAL; /* nowhere to write */
		goto out;
	}
	ret = make_dest(w, on, w->path, true, &d);
	if (ret)
		goto out;
	switch_to(w, d);
	w->network = on;
out:
	pthread_mutex_unlock(&w->ctl);
	return ret;
}

int wr_pause(struct wr_writer *w, bool pause)
{
	if (!w)
		return -EINVAL;
	atomic_store(&w->pause, pause);
	wr_wake(w);
	return 0;
}

int wr_get_stats(struct wr_writer *w, struct wr_stats *st)
{
	uint64_t dropped;

	if (!w || !st)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	dropped = w->gone_dropped;
	for (struct wr_stream *s = w->streams; s; s = s->next)
		dropped += atomic_load_explicit(&s->dropped, memory_order_relaxed);
	pthread_mutex_unlock(&w->lock);
	*st = (struct wr_stats){
		.records = atomic_load(&w->st_records),
		.bytes = atomic_load(&w->st_bytes),
		.dropped_behind = dropped,
		.write_errors = atomic_load(&w->st_errors),
		.net_dropped = wr_net_dropped(w->net),
		.writes = atomic_load(&w->st_writes),
		.first_error = atomic_load(&w->first_err),
		.direct = atomic_load(&w->st_direct),
		.backend = w->o.backend,
		.files_sealed = atomic_load(&w->st_sealed),
		.late = atomic_load(&w->st_late),
	};
	pthread_mutex_lock(&w->lock);
	if (w->cat)
		wr_cat_gauges(w->cat, &st->files, &st->bytes_kept);
	pthread_mutex_unlock(&w->lock);
	/* after the gauges: a deletion they show is counted already */
	st->files_deleted = atomic_load(&w->st_deleted);
	st->files_deleted_unarchived = atomic_load(&w->st_deleted_early);
	return 0;
}

/* Without rotation: the one file, walked (incrementally: what was walked
 * of the same inode is remembered). The walk runs without the control
 * lock, on a descriptor of the file as it was at the call. */
static int list_one(struct wr_writer *w, struct wr_file_info **out, size_t *n)
{
	struct wr_fent e = { 0 };
	struct stat st;
	int fd = -1, ret = 0;
	const char *base;

	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*n = 0;
	pthread_mutex_lock(&w->ctl);
	if (!w->network && w->path) {
		fd = open(w->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		ret = fd < 0 ? -errno : 0;
		base = strrchr(w->path, '/');
		snprintf((*out)->name, sizeof((*out)->name), "%s", base ? base + 1 : w->path);
	}
	pthread_mutex_unlock(&w->ctl);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -EPERM;
		goto out;
	}
	pthread_mutex_lock(&w->lock);
	if (w->one_dev == st.st_dev && w->one_ino == st.st_ino &&
	    w->one.walked <= (uint64_t)st.st_size)
		e = w->one;
	pthread_mutex_unlock(&w->lock);
	wr_walk(fd, (uint64_t)st.st_size, w->ng, &e);
	pthread_mutex_lock(&w->lock);
	w->one = e;
	w->one_dev = st.st_dev;
	w->one_ino = st.st_ino;
	pthread_mutex_unlock(&w->lock);
	(*out)->first_ns = e.first_ns;
	(*out)->last_ns = e.last_ns;
	(*out)->records = e.records;
	(*out)->bytes = e.walked;
	*n = 1;
out:
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

int wr_list_files(struct wr_writer *w, struct wr_file_info **out, size_t *n)
{
	struct wr_cat *c;
	int ret;

	if (!w || !out || !n)
		return -EINVAL;
	if (!w->rotating)
		return list_one(w, out, n);
	pthread_mutex_lock(&w->lock);
	c = w->cat;
	if (c)
		atomic_fetch_add(&c->refs, 1);
	pthread_mutex_unlock(&w->lock);
	if (!c) {
		*n = 0;
		*out = calloc(1, sizeof(**out));
		return *out ? 0 : -ENOMEM;
	}
	ret = wr_cat_list(c, out, n);
	wr_cat_put(c);
	return ret;
}

const char *wr_path(struct wr_writer *w)
{
	return w ? w->path : NULL;
}
