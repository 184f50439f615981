/* SPDX-License-Identifier: BSD-2-Clause */
/* The REST API's bearer token: read one, or make the default one. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/token.h"

static int parse(char *buf, size_t n, char **out, size_t *len)
{
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0 || strlen(buf) != n || strpbrk(buf, " \t\r\n"))
		return -EINVAL;
	*out = strdup(buf);
	*len = n;
	return *out ? 0 : -ENOMEM;
}

static int read_fd(int fd, char **out, size_t *len)
{
	char buf[API_TOKEN_MAX + 2];
	ssize_t n;

	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n > API_TOKEN_MAX)
		return -EINVAL;
	buf[n] = '\0';
	return parse(buf, (size_t)n, out, len);
}

int api_token_read(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "token file %s: %s", path, strerror(errno));
		return ret;
	}
	ret = read_fd(fd, out, len);
	close(fd);
	if (ret == -EINVAL)
		snprintf(err, errlen, "token file %s: must hold one non-empty token", path);
	else if (ret)
		snprintf(err, errlen, "token file %s: %s", path, strerror(-ret));
	return ret;
}

/* The folder must be root's and writable by root alone: else someone
 * else could have put the token there. */
static int safe_dir(int *dfd, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(API_TOKEN_DIR, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", API_TOKEN_DIR, strerror(errno));
		return -errno;
	}
	*dfd = open(API_TOKEN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dfd < 0) {
		snprintf(err, errlen, "%s: %s", API_TOKEN_DIR, strerror(errno));
		return -errno;
	}
	if (fstat(*dfd, &st) || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen, "%s must be root's and writable by root only", API_TOKEN_DIR);
		close(*dfd);
		return -EPERM;
	}
	return 0;
}

int api_token_default(char **out, size_t *len, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[32];
	char tok[2 * sizeof(rnd) + 2], tmp[64];
	struct stat st;
	int dfd = -1, fd, ret;
	size_t i;

	ret = safe_dir(&dfd, err, errlen);
	if (ret)
		return ret;
	fd = openat(dfd, "api.token", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		/* root's, private, a regular file: else not ours to trust */
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 077))
			ret = -EPERM;
		else
			ret = read_fd(fd, out, len);
		close(fd);
		if (ret)
			snprintf(err, errlen, "%s: not a private token file of root's (%s); "
				 "remove it to get a new one", API_TOKEN_DEFAULT, strerror(-ret));
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		ret = -EIO;
		snprintf(err, errlen, "no random bytes for a token");
		goto out;
	}
	for (i = 0; i < sizeof(rnd); i++) {
		tok[2 * i] = hex[rnd[i] >> 4];
		tok[2 * i + 1] = hex[rnd[i] & 15];
	}
	tok[2 * sizeof(rnd)] = '\n';
	tok[2 * sizeof(rnd) + 1] = '\0';
	/* written whole under a temporary name, then linked in: a reader
	 * never sees half a token, and a second appliance starting at the
	 * same moment keeps the one that won */
	snprintf(tmp, sizeof(tmp), "api.token.%d", (int)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s/%s: %s", API_TOKEN_DIR, tmp, strerror(errno));
		goto out;
	}
	ret = write(fd, tok, strlen(tok)) == (ssize_t)strlen(tok) ? 0 : -EIO;
	close(fd);
	if (!ret && linkat(dfd, tmp, dfd, "api.token", 0) && errno != EEXIST)
		ret = -errno;
	unlinkat(dfd, tmp, 0);
	if (ret) {
		snprintf(err, errlen, "%s: %s", API_TOKEN_DEFAULT, strerror(-ret));
		goto out;
	}
	close(dfd);
	/* whichever token got there first */
	return api_token_default(out, len, err, errlen);
out:
	close(dfd);
	return ret;
}

/* ---- one-time grants ---- */

struct grant {
	char tok[API_GRANT_TOKEN_LEN + 1];
	char *path_query;
	uint64_t expires_ns;
};

struct api_grants {
	pthread_mutex_t lock;
	struct grant v[API_GRANTS_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int api_grants_new(struct api_grants **out)
{
	struct api_grants *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

void api_grants_free(struct api_grants *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < API_GRANTS_MAX; i++)
		free(g->v[i].path_query);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int api_grant_add(struct api_grants *g, const char *path_query, unsigned int ttl_s,
		  char tok[API_GRANT_TOKEN_LEN + 1], uint64_t *expires_ns)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[API_GRANT_TOKEN_LEN / 2];
	uint64_t now = now_ns();
	struct grant *free_slot = NULL;
	char *pq;
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	for (i = 0; i < sizeof(rnd); i++) {
		tok[2 * i] = hex[rnd[i] >> 4];
		tok[2 * i + 1] = hex[rnd[i] & 15];
	}
	tok[API_GRANT_TOKEN_LEN] = '\0';
	pq = strdup(path_query);
	if (!pq)
		return -ENOMEM;
	pthread_mutex_lock(&g->lock);
	for (i = 0; i < API_GRANTS_MAX; i++) {
		if (g->v[i].path_query && g->v[i].expires_ns <= now) {
			free(g->v[i].path_query);
			g->v[i].path_query = NULL;
		}
		if (!g->v[i].path_query && !free_slot)
			free_slot = &g->v[i];
	}
	if (free_slot) {
		memcpy(free_slot->tok, tok, API_GRANT_TOKEN_LEN + 1);
		free_slot->path_query = pq;
		free_slot->expires_ns = now + (uint64_t)ttl_s * 1000000000ull;
		if (expires_ns)
			*expires_ns = free_slot->expires_ns;
	}
	pthread_mutex_unlock(&g->lock);
	if (!free_slot) {
		free(pq);
		return -ENOSPC;
	}
	return 0;
}

bool api_grant_take(struct api_grants *g, const char *tok, const char *path_query)
{
	uint64_t now = now_ns();
	bool ok = false;
	unsigned char d;
	size_t i, j;

	if (!g || strlen(tok) != API_GRANT_TOKEN_LEN)
		return false;
	pthread_mutex_lock(&g->lock);
	for (i = 0; i < API_GRANTS_MAX && !ok; i++) {
		struct grant *s = &g->v[i];

		if (!s->path_query || s->expires_ns <= now)
			continue;
		for (d = 0, j = 0; j < API_GRANT_TOKEN_LEN; j++) /* constant time */
			d |= (unsigned char)(tok[j] ^ s->tok[j]);
		if (d || strcmp(s->path_query, path_query))
			continue;
		free(s->path_query);
		memset(s, 0, sizeof(*s));
		ok = true;
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
}
