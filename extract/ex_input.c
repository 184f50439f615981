/* SPDX-License-Identifier: BSD-2-Clause */
/* -r arguments: one file, or a dump prefix's rotation files. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "extract/ex_internal.h"

void ex_paths_free(char **paths)
{
	if (!paths)
		return;
	for (char **p = paths; *p; p++)
		free(*p);
	free(paths);
}

struct ent {
	unsigned long long seq;
	char *path;
};

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->path, y->path);
}

static bool capture_ext(const char *s)
{
	return !strcmp(s, ".pcap") || !strcmp(s, ".pcapng");
}

/* BASE-NNNNNNNN-TIME.pcap[ng]: the sequence number, or -1. */
static long long rotation_seq(const char *name, const char *base)
{
	size_t bl = strlen(base);
	const char *p = name + bl, *dot;
	char *end;

	if (strncmp(name, base, bl) || p[0] != '-' || !(p[1] >= '0' && p[1] <= '9'))
		return -1;
	unsigned long long seq = strtoull(p + 1, &end, 10);
	if (*end != '-' || end - (p + 1) < 8)
		return -1;
	dot = strrchr(end, '.');
	if (!dot || !capture_ext(dot))
		return -1;
	return (long long)seq;
}

int ex_expand_input(const char *arg, char ***out, size_t *n)
{
	struct ent *v = NULL;
	size_t nv = 0, cap = 0;
	char *dir = NULL, **paths = NULL;
	const char *base;
	struct stat st;
	DIR *d = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		paths = calloc(2, sizeof(*paths));
		if (!paths || !(paths[0] = strdup(arg))) {
			free(paths);
			return -ENOMEM;
		}
		*out = paths;
		*n = 1;
		return 0;
	}
	base = strrchr(arg, '/');
	if (base) {
		dir = strndup(arg, (size_t)(base - arg + 1));
		base++;
	} else {
		dir = strdup("");
		base = arg;
	}
	if (!dir)
		return -ENOMEM;
	if (!*base) {
		ret = -ENOENT;
		goto out;
	}
	d = opendir(*dir ? dir : ".");
	if (!d) {
		ret = -errno;
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		long long seq = rotation_seq(de->d_name, base);
		size_t bl = strlen(base);
		if (seq < 0) {
			/* PREFIX.pcap / PREFIX.pcapng: a capture without rotation */
			if (strncmp(de->d_name, base, bl) || !capture_ext(de->d_name + bl))
				continue;
			seq = 0;
		}
		if (nv == cap) {
			cap = cap ? cap * 2 : 64;
			void *p = realloc(v, cap * sizeof(*v));
			if (!p) {
				ret = -ENOMEM;
				goto out;
			}
			v = p;
		}
		if (asprintf(&v[nv].path, "%s%s", dir, de->d_name) < 0) {
			ret = -ENOMEM;
			goto out;
		}
		if (stat(v[nv].path, &st) || !S_ISREG(st.st_mode)) {
			free(v[nv].path);
			continue;
		}
		v[nv++].seq = (unsigned long long)seq;
	}
	if (!nv) {
		ret = -ENOENT;
		goto out;
	}
	qsort(v, nv, sizeof(*v), cmp_ent);
	paths = calloc(nv + 1, sizeof(*paths));
	if (!paths) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		paths[i] = v[i].path;
		v[i].path = NULL;
	}
	*out = paths;
	*n = nv;
	ret = 0;
out:
	for (size_t i = 0; i < nv; i++)
		free(v[i].path);
	free(v);
	free(dir);
	if (d)
		closedir(d);
	return ret;
}
