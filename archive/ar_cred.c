/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The credentials file. A secret that others can read is no secret, and a
 * link or a file someone else owns could hand us their credentials (and
 * our uploads): such files are refused, not fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/ar_internal.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static int set(char *dst, size_t dlen, const char *v)
{
	size_t n = strlen(v);

	if (!n || n >= dlen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
			return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

int ar_cred_load(const char *path, char *key, size_t klen, char *secret, size_t slen,
		 char *err, size_t errlen)
{
	char line[1024], *l, *eq;
	unsigned int no = 0;
	struct stat st;
	FILE *f = NULL;
	int fd, ret = 0;

	key[0] = secret[0] = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			ar_errf(err, errlen, "S3 credentials %s: a symbolic link: refused", path);
		else
			ar_errf(err, errlen, "S3 credentials %s: %s", path, strerror(errno));
		return ret == -ELOOP ? -EPERM : ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ar_errf(err, errlen, "S3 credentials %s: not a regular file: refused", path);
		ret = -EPERM;
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		ar_errf(err, errlen, "S3 credentials %s: owned by uid %u, not by us or root: "
			"refused", path, (unsigned int)st.st_uid);
		ret = -EPERM;
		goto out;
	}
	if (st.st_mode & 077) {
		ar_errf(err, errlen, "S3 credentials %s: mode %04o lets group or others at "
			"it: refused (chmod 600)", path, (unsigned int)(st.st_mode & 07777));
		ret = -EPERM;
		goto out;
	}
	f = fdopen(fd, "r");
	if (!f) {
		ret = -errno;
		goto out;
	}
	fd = -1;
	while (fgets(line, sizeof(line), f)) {
		no++;
		l = trim(line);
		if (!*l || *l == '#' || *l == ';' || !strcmp(l, "[default]"))
			continue;
		eq = strchr(l, '=');
		if (eq) {
			*eq = 0;
			char *k = trim(l), *v = trim(eq + 1);

			if (!strcmp(k, "access_key") || !strcmp(k, "aws_access_key_id")) {
				if (!set(key, klen, v))
					continue;
			} else if (!strcmp(k, "secret_key") || !strcmp(k, "aws_secret_access_key")) {
				if (!set(secret, slen, v))
					continue;
			}
		}
		ar_errf(err, errlen, "S3 credentials %s, line %u: expected 'access_key = KEY' or "
			"'secret_key = SECRET'", path, no);
		ret = -EINVAL;
		goto out;
	}
	if (!key[0] || !secret[0]) {
		ar_errf(err, errlen, "S3 credentials %s: no %s", path,
			!key[0] ? "access_key" : "secret_key");
		ret = -EINVAL;
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (ret) {
		memset(secret, 0, slen);
		key[0] = 0;
	}
	return ret;
}
