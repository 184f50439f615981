/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which files are archived: STATE_DIR/archived, one line per file
 * ("A BYTES MD5HEX PATH"), appended and synced before a file counts as
 * archived, read back at the next start (a last line cut by a crash is
 * removed: that file is uploaded again). In memory a hash set of the
 * paths, so the writer's retention can ask without I/O.
 *
 * The state is what makes a local file deletable, so nobody but us may
 * write it: the folder must be a real folder (not a link) owned by us and
 * writable by nobody else, and the file is opened relative to it without
 * following links, and must be ours, a regular file with one link and
 * mode 0600. It never lives in the dump folder, which others may write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/ar_internal.h"

#define STATE_FILE "archived"

struct ar_ent {
	char *path;
	uint64_t bytes;
};

struct ar_state {
	pthread_mutex_t lock;
	int fd;
	struct ar_ent *v; /* open addressing, cap a power of 2 */
	size_t n, cap;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: a table index, not a digest */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct ar_ent *slot(struct ar_ent *v, size_t cap, const char *path)
{
	size_t i = (size_t)str_hash(path) & (cap - 1);

	while (v[i].path && strcmp(v[i].path, path))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int put(struct ar_state *s, const char *path, uint64_t bytes)
{
	struct ar_ent *e;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct ar_ent *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i].path)
				*slot(v, cap, s->v[i].path) = s->v[i];
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	e = slot(s->v, s->cap, path);
	if (!e->path) {
		e->path = strdup(path);
		if (!e->path)
			return -ENOMEM;
		s->n++;
	}
	e->bytes = bytes;
	return 0;
}

static int load(struct ar_state *s)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	off_t good = 0;
	int fd = dup(s->fd), ret = 0;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		unsigned long long bytes;
		char md5[33];
		int off = 0;

		if (line[len - 1] != '\n')
			break; /* cut by a crash */
		good += len;
		line[len - 1] = 0;
		if (sscanf(line, "A %llu %32s %n", &bytes, md5, &off) != 2 || !off || !line[off])
			continue;
		ret = put(s, line + off, bytes);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	/* a line cut by a crash goes, or the next one would be glued to it */
	if (!ret && lseek(s->fd, 0, SEEK_END) > good && ftruncate(s->fd, good))
		ret = -errno;
	return ret;
}

static int open_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* the default's parent (/var/lib/capture-appliance) too */
		char parent[PATH_MAX];
		char *sl;

		snprintf(parent, sizeof(parent), "%s", dir);
		sl = strrchr(parent, '/');
		if (sl && sl != parent) {
			*sl = 0;
			if (mkdir(parent, 0755) && errno != EEXIST)
				goto fail;
		}
		if (mkdir(dir, 0700) && errno != EEXIST)
			goto fail;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		ar_errf(err, errlen, "archive state folder %s: must be ours and writable by "
			"nobody else: refused", dir);
		close(fd);
		return -EPERM;
	}
	return fd;
fail:
	ar_errf(err, errlen, "archive state folder %s: %s%s", dir, strerror(errno),
		errno == ELOOP || errno == ENOTDIR ? " (not a folder, or a link): refused" : "");
	return errno == ELOOP ? -EPERM : -errno;
}

int ar_state_open(const char *dir, struct ar_state **out, char *err, size_t errlen)
{
	struct ar_state *s = calloc(1, sizeof(*s));
	struct stat st;
	int dfd, ret;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = -1;
	dfd = open_dir(dir, err, errlen);
	if (dfd < 0) {
		ret = dfd;
		goto fail;
	}
	s->fd = openat(dfd, STATE_FILE, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
					      O_NONBLOCK, 0600);
	if (s->fd < 0) {
		ret = errno == ELOOP ? -EPERM : -errno;
		ar_errf(err, errlen, "archive state %s/%s: %s", dir, STATE_FILE, strerror(errno));
		close(dfd);
		goto fail;
	}
	fsync(dfd); /* the file's name is durable too */
	close(dfd);
	if (fstat(s->fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1 || (st.st_mode & 077)) {
		ar_errf(err, errlen, "archive state %s/%s: must be our own regular file, one "
			"link, mode 0600: refused", dir, STATE_FILE);
		ret = -EPERM;
		goto fail;
	}
	ret = load(s);
	if (ret) {
		ar_errf(err, errlen, "archive state %s/%s: %s", dir, STATE_FILE, strerror(-ret));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	ar_state_close(s);
	return ret;
}

void ar_state_close(struct ar_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i].path);
	free(s->v);
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

bool ar_state_has(struct ar_state *s, const char *path, uint64_t *bytes)
{
	struct ar_ent *e;
	bool has = false;

	pthread_mutex_lock(&s->lock);
	if (s->cap) {
		e = slot(s->v, s->cap, path);
		has = e->path != NULL;
		if (has && bytes)
			*bytes = e->bytes;
	}
	pthread_mutex_unlock(&s->lock);
	return has;
}

int ar_state_add(struct ar_state *s, const char *path, uint64_t bytes, const char *md5hex)
{
	char *line = NULL;
	int n, ret;

	if (strchr(path, '\n'))
		return -EINVAL;
	n = asprintf(&line, "A %llu %s %s\n", (unsigned long long)bytes, md5hex, path);
	if (n < 0)
		return -ENOMEM;
	/* one write: O_APPEND puts it whole at the end */
	ret = write(s->fd, line, (size_t)n) == n ? 0 : -EIO;
	free(line);
	if (!ret && fdatasync(s->fd))
		ret = -errno;
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	ret = put(s, path, bytes);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
