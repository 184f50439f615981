/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_dump: where a capture may write. The folder of a dump prefix must
 * exist and be writable; with a dump root the path may not name `..` and
 * its real folder (symlinks resolved) must lie inside the real root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/rest.h"

static bool has_dotdot(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, ".."))) {
		bool start = s == p || s[-1] == '/';
		bool end = s[2] == '\0' || s[2] == '/';

		if (start && end)
			return true;
		s += 2;
	}
	return false;
}

static bool inside(const char *root, const char *dir)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return true;
	return !strncmp(root, dir, n) && (dir[n] == '\0' || dir[n] == '/');
}

int api_rest_check_dump(const char *root, const char *dump, char *out,
			size_t outlen, char *err, size_t errlen)
{
	char *path = NULL, *rroot = NULL, *rdir = NULL, *slash, cwd[PATH_MAX];
	const char *base, *dir;
	struct stat st;
	int ret = -EINVAL;

	if (!dump[0] || dump[strlen(dump) - 1] == '/') {
		snprintf(err, errlen, "dump '%s' must name a file prefix, not a folder", dump);
		return -EINVAL;
	}
	if (root && has_dotdot(dump)) {
		snprintf(err, errlen, "dump '%s' must not contain '..'", dump);
		return -EINVAL;
	}
	if (root) {
		rroot = realpath(root, NULL);
		if (!rroot) {
			ret = -errno;
			snprintf(err, errlen, "dump root %s: %s", root, strerror(errno));
			goto out;
		}
	}
	if (dump[0] == '/') {
		path = strdup(dump);
	} else {
		if (!rroot && !getcwd(cwd, sizeof(cwd))) {
			ret = -errno;
			snprintf(err, errlen, "can't resolve '%s': %s", dump, strerror(errno));
			goto out;
		}
		if (asprintf(&path, "%s/%s", rroot ? rroot : cwd, dump) < 0)
			path = NULL;
	}
	if (!path) {
		ret = -ENOMEM;
		goto out;
	}
	/* say "outside" before probing folders that are none of our business */
	if (rroot && !inside(rroot, path)) {
		ret = -EPERM;
		snprintf(err, errlen, "dump '%s' is outside the dump root %s", dump, rroot);
		goto out;
	}
	slash = strrchr(path, '/');
	*slash = '\0';
	dir = slash == path ? "/" : path;
	base = slash + 1;
	if (!strcmp(base, ".") || !strcmp(base, "..")) {
		snprintf(err, errlen, "dump '%s' must name a file prefix", dump);
		goto out;
	}
	rdir = realpath(dir, NULL);
	if (!rdir || stat(rdir, &st)) {
		ret = -errno;
		snprintf(err, errlen, "dump folder %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		ret = -ENOTDIR;
		snprintf(err, errlen, "dump folder %s is not a folder", dir);
		goto out;
	}
	if (rroot && !inside(rroot, rdir)) {
		ret = -EPERM;
		snprintf(err, errlen, "dump '%s' is outside the dump root %s", dump, rroot);
		goto out;
	}
	if (access(rdir, W_OK | X_OK)) {
		ret = -errno;
		snprintf(err, errlen, "dump folder %s is not writable: %s", rdir,
			 strerror(errno));
		goto out;
	}
	if ((size_t)snprintf(out, outlen, "%s%s%s", rdir, strcmp(rdir, "/") ? "/" : "",
			     base) >= outlen) {
		ret = -ENAMETOOLONG;
		snprintf(err, errlen, "dump '%s' is too long", dump);
		goto out;
	}
	/* a prefix naming a folder writes "DIR.pcap" next to it: surely not meant */
	if (!stat(out, &st) && S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		snprintf(err, errlen, "dump '%s' is a folder: give a file prefix in it, e.g. %s/cap",
			 dump, out);
		goto out;
	}
	ret = 0;
out:
	free(path);
	free(rroot);
	free(rdir);
	return ret;
}
