/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The archiver: a queue of sealed files and one upload thread. Files go
 * oldest first; a failed attempt keeps the file at the head and waits
 * (1 s, 2 s, 4 s, ... up to the ceiling), so nothing is dropped and
 * nothing overtakes it. A file is archived once its object and its
 * index's object are each verified (HEAD: size, and an ETag equal to the
 * MD5 sent as Content-MD5) and the state records it; only then does
 * on_archived hear of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/ar_internal.h"

struct ar_item {
	char *capture, *path;
	unsigned int attempts;
	uint64_t not_before_ms; /* CLOCK_MONOTONIC */
};

struct ar {
	struct ar_opts o;
	char sensor[256];
	struct ar_client *c;
	struct ar_state *st;
	pthread_t thr;
	bool thr_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* work, stop (and drain waiters) */
	struct ar_item *q;
	size_t n, cap;
	_Atomic bool stop;
	time_t opened;		/* files older than this may be in the archive already */
	_Atomic uint64_t uploaded_files, uploaded_bytes, failures, archived, already, gone;
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void logf_(struct ar *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct ar *a, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->o.log)
		a->o.log(a->o.log_arg, msg);
	else
		fprintf(stderr, "capture-appliance: %s\n", msg);
}

/* A file of ours: a regular file we own with one link (the dump folder may
 * be writable by others: a planted link or hard link is not uploaded). */
static int open_ours(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_uid != geteuid() ||
	    st->st_nlink != 1) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* A file larger than a part (parts: its parts' digests, from the same read
 * as d): skipped when the object is there whole (S3's multipart ETag),
 * else uploaded in parts and verified like a single PUT. */
static int multipart(struct ar *a, const char *key, int fd, const struct ar_digest *d,
		     const struct ar_digest *parts, unsigned int n, bool maybe_there, char *err,
		     size_t errlen)
{
	uint64_t part = a->o.part_size, n64 = (d->bytes + part - 1) / part, bytes;
	char want[80], etag[80];
	int ret;

	if (n64 > AR_PARTS_MAX) {
		ar_errf(err, errlen, "%s: %llu bytes, more than %u parts of %llu bytes", key,
			(unsigned long long)d->bytes, AR_PARTS_MAX, (unsigned long long)part);
		return -EFBIG;
	}
	if (!parts || n != n64) {
		ar_errf(err, errlen, "%s: the file changed while it was read", key);
		return -EIO;
	}
	ret = ar_multipart_etag(parts, n, want, sizeof(want));
	if (ret)
		return ret;
	if (maybe_there) {
		ret = ar_s3_head(a->c, key, &bytes, etag, sizeof(etag), err, errlen);
		if (!ret && bytes == d->bytes && !strcasecmp(etag, want))
			return 0;
		if (ret && ret != -ENOENT)
			return ret;
	}
	ret = ar_s3_multipart(a->c, key, fd, part, parts, n, a->o.rate, err, errlen);
	if (!ret)
		ret = ar_s3_head(a->c, key, &bytes, etag, sizeof(etag), err, errlen);
	if (!ret && (bytes != d->bytes || strcasecmp(etag, want))) {
		ar_errf(err, errlen, "%s: the object has %llu bytes, ETag %s; sent %llu in %u "
			"parts, ETag %s", key, (unsigned long long)bytes, etag,
			(unsigned long long)d->bytes, n, want);
		ret = -EIO;
	}
	if (!ret) {
		atomic_fetch_add(&a->uploaded_files, 1);
		atomic_fetch_add(&a->uploaded_bytes, d->bytes);
	}
	return ret;
}

/* One object: skipped when it is there already with our size and MD5 (an
 * upload verified before a crash cut the state's record, or a PUT whose
 * answer was lost), else PUT and verified. Only a file from before
 * ar_open, or one tried before, can be there already: a new file's first
 * attempt saves the request. */
static int one_object(struct ar *a, const char *key, int fd, const struct ar_digest *d,
		      const struct ar_digest *parts, unsigned int n, bool maybe_there, char *err,
		      size_t errlen)
{
	char etag[80];
	uint64_t bytes;
	int ret;

	if (d->bytes > a->o.part_size)
		return multipart(a, key, fd, d, parts, n, maybe_there, err, errlen);
	if (maybe_there) {
		ret = ar_s3_head(a->c, key, &bytes, etag, sizeof(etag), err, errlen);
		if (!ret && bytes == d->bytes && !strcasecmp(etag, d->md5hex))
			return 0;
		if (ret && ret != -ENOENT)
			return ret;
	}
	ret = ar_s3_put(a->c, key, fd, d, a->o.rate, err, errlen);
	if (ret)
		return ret;
	ret = ar_s3_head(a->c, key, &bytes, etag, sizeof(etag), err, errlen);
	if (ret)
		return ret;
	if (bytes != d->bytes || strcasecmp(etag, d->md5hex)) {
		ar_errf(err, errlen, "%s: the object has %llu bytes, ETag %s; sent %llu, MD5 %s",
			key, (unsigned long long)bytes, etag, (unsigned long long)d->bytes,
			d->md5hex);
		return -EIO;
	}
	atomic_fetch_add(&a->uploaded_files, 1);
	atomic_fetch_add(&a->uploaded_bytes, d->bytes);
	return 0;
}

/* 0 archived (or already), -ENOENT gone, -EFBIG/-EPERM never archivable,
 * other errors: try again later. */
static int archive_one(struct ar *a, const struct ar_item *it, char *err, size_t errlen)
{
	const char *base = strrchr(it->path, '/');
	char key[AR_KEY_MAX], ikey[AR_KEY_MAX + 8], ipath[PATH_MAX + 8];
	struct ar_digest d, di, *parts = NULL, *iparts = NULL;
	unsigned int n = 0, in = 0;
	struct stat st, ist;
	bool maybe_there;
	int fd, ifd = -1, ret;

	base = base ? base + 1 : it->path;
	if (ar_state_has(a->st, it->path, NULL)) {
		atomic_fetch_add(&a->already, 1);
		return 0;
	}
	ret = ar_object_key(a->c->prefix, a->sensor, it->capture, base, key, sizeof(key));
	if (ret) {
		ar_errf(err, errlen, "%s: no object key for it", it->path);
		return -EPERM;
	}
	fd = open_ours(it->path, &st);
	if (fd < 0) {
		ar_errf(err, errlen, "%s: %s", it->path,
			fd == -EPERM ? "not our own regular file with one link: not archived"
				     : strerror(-fd));
		return fd;
	}
	snprintf(ipath, sizeof(ipath), "%s.idx", it->path);
	snprintf(ikey, sizeof(ikey), "%s.idx", key);
	/* sealed before this run (mtime: its last record), or tried before */
	maybe_there = it->attempts || st.st_mtime <= a->opened;
	ifd = open_ours(ipath, &ist);
	if (ifd == -ENOENT)
		ifd = -1; /* no index (it failed): the file alone */
	else if (ifd < 0) {
		ar_errf(err, errlen, "%s: %s", ipath,
			ifd == -EPERM ? "not our own regular file with one link" : strerror(-ifd));
		ret = ifd == -EPERM ? -EPERM : ifd;
		ifd = -1;
		goto out;
	}
	ret = ar_digest_file(fd, a->o.part_size, &d, &parts, &n);
	if (!ret && ifd >= 0)
		ret = ar_digest_file(ifd, a->o.part_size, &di, &iparts, &in);
	if (ret) {
		ar_errf(err, errlen, "%s: reading: %s", it->path, strerror(-ret));
		goto out;
	}
	ret = one_object(a, key, fd, &d, parts, n, maybe_there, err, errlen);
	if (!ret && ifd >= 0)
		ret = one_object(a, ikey, ifd, &di, iparts, in, maybe_there, err, errlen);
	if (ret)
		goto out;
	ret = ar_state_add(a->st, it->path, d.bytes, d.md5hex);
	if (ret) {
		ar_errf(err, errlen, "%s: recording it archived: %s", it->path, strerror(-ret));
		goto out;
	}
	atomic_fetch_add(&a->archived, 1);
	if (a->o.on_archived)
		a->o.on_archived(a->o.archived_arg, it->capture, it->path, key, d.bytes, d.md5hex);
out:
	free(parts);
	free(iparts);
	if (ifd >= 0)
		close(ifd);
	close(fd);
	return ret;
}

static void item_free(struct ar_item *it)
{
	free(it->capture);
	free(it->path);
}

static void *upload_main(void *arg)
{
	struct ar *a = arg;
	char err[1024];

	if (a->o.thread_init)
		a->o.thread_init();
	pthread_mutex_lock(&a->lock);
	while (!atomic_load(&a->stop)) {
		struct ar_item it;
		uint64_t now = now_ms();
		int ret;

		if (!a->n) {
			pthread_cond_wait(&a->cond, &a->lock);
			continue;
		}
		if (a->q[0].not_before_ms > now) {
			uint64_t until = a->q[0].not_before_ms;
			struct timespec ts = { .tv_sec = (time_t)(until / 1000),
					       .tv_nsec = (long)(until % 1000) * 1000000 };

			pthread_cond_timedwait(&a->cond, &a->lock, &ts);
			continue;
		}
		it = a->q[0]; /* stays queued (and counted) while in flight */
		pthread_mutex_unlock(&a->lock);
		err[0] = 0;
		ret = archive_one(a, &it, err, sizeof(err));
		pthread_mutex_lock(&a->lock);
		if (atomic_load(&a->stop))
			break; /* abandoned: uploaded again at the next start */
		if (ret && ret != -ENOENT && ret != -EPERM && ret != -EFBIG) {
			unsigned int sh = a->q[0].attempts < 16 ? a->q[0].attempts : 16;
			uint64_t wait = (uint64_t)a->o.retry_min_ms << sh;

			if (wait > a->o.retry_max_ms)
				wait = a->o.retry_max_ms;
			a->q[0].attempts++;
			a->q[0].not_before_ms = now_ms() + wait;
			atomic_fetch_add(&a->failures, 1);
			logf_(a, "archive: %s (attempt %u; again in %llu ms)", err,
			      a->q[0].attempts, (unsigned long long)wait);
			continue;
		}
		if (ret == -ENOENT) {
			atomic_fetch_add(&a->gone, 1);
			logf_(a, "archive: %s: deleted before it was archived", it.path);
		} else if (ret) {
			atomic_fetch_add(&a->failures, 1);
			logf_(a, "archive: %s (not retried)", err);
		}
		item_free(&a->q[0]);
		memmove(a->q, a->q + 1, (a->n - 1) * sizeof(*a->q));
		a->n--;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int ar_open(const struct ar_opts *o, struct ar **out, char *err, size_t errlen)
{
	struct ar *a = calloc(1, sizeof(*a));
	char key[AR_KEY_MAX];
	pthread_condattr_t ca;
	int ret;

	if (!a)
		return -ENOMEM;
	a->o = *o;
	if (!a->o.retry_min_ms)
		a->o.retry_min_ms = 1000;
	if (!a->o.retry_max_ms)
		a->o.retry_max_ms = 60000;
	if (a->o.retry_max_ms < a->o.retry_min_ms)
		a->o.retry_max_ms = a->o.retry_min_ms;
	if (!a->o.part_size)
		a->o.part_size = AR_PART_DEFAULT;
	if (a->o.part_size < AR_PART_MIN || a->o.part_size > AR_PUT_MAX) {
		ar_errf(err, errlen, "S3 part size %llu: %llu (5 MiB) to %llu (5 GiB) bytes",
			(unsigned long long)a->o.part_size, AR_PART_MIN, AR_PUT_MAX);
		free(a);
		return -EINVAL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (o->sensor)
		snprintf(a->sensor, sizeof(a->sensor), "%s", o->sensor);
	else if (gethostname(a->sensor, sizeof(a->sensor) - 1))
		a->sensor[0] = 0;
	if (ar_object_key("", a->sensor, "c", "f", key, sizeof(key))) {
		ar_errf(err, errlen, "sensor name '%s': 1 to 255 letters, digits, '.', '_', '-'",
			a->sensor);
		ret = -EINVAL;
		goto fail;
	}
	ret = ar_client_open(&o->target, &a->c, err, errlen);
	if (ret)
		goto fail;
	a->c->cancel = &a->stop;
	a->c->keep_handle = true;
	a->opened = time(NULL);
	/* refused credentials or a wrong bucket stop here, before the state
	 * folder is made */
	ret = ar_probe(a->c, err, errlen);
	if (ret == -EHOSTUNREACH || ret == -ETIMEDOUT || ret == -EIO) {
		logf_(a, "archive: %s: no answer now; uploads wait for it", err);
		ret = 0;
	}
	if (ret)
		goto fail;
	ret = ar_state_open(o->state_dir ? o->state_dir : AR_STATE_DIR_DEFAULT, &a->st, err,
			    errlen);
	if (ret)
		goto fail;
	ret = -pthread_create(&a->thr, NULL, upload_main, a);
	if (ret) {
		ar_errf(err, errlen, "archive thread: %s", strerror(-ret));
		goto fail;
	}
	a->thr_started = true;
	*out = a;
	return 0;
fail:
	ar_close(a);
	return ret;
}

void ar_close(struct ar *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	atomic_store(&a->stop, true);
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->thr_started)
		pthread_join(a->thr, NULL);
	for (size_t i = 0; i < a->n; i++)
		item_free(&a->q[i]);
	free(a->q);
	ar_state_close(a->st);
	ar_client_close(a->c);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

int ar_enqueue(struct ar *a, const char *capture, const char *path)
{
	const char *base = strrchr(path, '/');
	struct ar_item it = { 0 };
	char key[AR_KEY_MAX];

	base = base ? base + 1 : path;
	if (strchr(path, '\n') ||
	    ar_object_key(a->c->prefix, a->sensor, capture, base, key, sizeof(key)))
		return -EINVAL;
	if (ar_state_has(a->st, path, NULL)) {
		atomic_fetch_add(&a->already, 1);
		return 0;
	}
	it.capture = strdup(capture);
	it.path = strdup(path);
	if (!it.capture || !it.path) {
		item_free(&it);
		return -ENOMEM;
	}
	pthread_mutex_lock(&a->lock);
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct ar_item *q = realloc(a->q, cap * sizeof(*q));

		if (!q) {
			pthread_mutex_unlock(&a->lock);
			item_free(&it);
			return -ENOMEM;
		}
		a->q = q;
		a->cap = cap;
	}
	a->q[a->n++] = it;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

bool ar_is_archived(struct ar *a, const char *path)
{
	return ar_state_has(a->st, path, NULL);
}

void ar_get_stats(struct ar *a, struct ar_stats *st)
{
	pthread_mutex_lock(&a->lock);
	st->queue = a->n;
	pthread_mutex_unlock(&a->lock);
	st->uploaded_files = atomic_load(&a->uploaded_files);
	st->uploaded_bytes = atomic_load(&a->uploaded_bytes);
	st->failures = atomic_load(&a->failures);
	st->archived = atomic_load(&a->archived);
	st->already = atomic_load(&a->already);
	st->gone = atomic_load(&a->gone);
}

int ar_drain(struct ar *a, unsigned int timeout_ms)
{
	uint64_t until = now_ms() + timeout_ms;
	struct timespec ts = { .tv_sec = (time_t)(until / 1000),
			       .tv_nsec = (long)(until % 1000) * 1000000 };
	int ret = 0;

	pthread_mutex_lock(&a->lock);
	while (a->n && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	ret = a->n ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&a->lock);
	return ret;
}
