/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy: every decision about what a capture may do, in one place: which
 * names, which dump paths, which ingress path, which settings.
 *
 * Dump paths: the folder of a dump prefix must exist and be writable; with
 * a dump root the path may not name `..` and its real folder (symlinks
 * resolved) must lie inside the real root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ifaddrs.h>
#include <netinet/in.h>

#include "capture/internal.h"
#include "filtergen/filtergen.h"

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

int cap_check_dump(const char *root, const char *dump, char *out, size_t outlen,
		   char *err, size_t errlen)
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

_Static_assert(CAP_SNAPLEN_MAX == FG_SNAPLEN_MAX, "one largest snaplen");

void cap_dump_file(const char *dump, char *out, size_t len)
{
	snprintf(out, len, "%s.pcap", dump);
}

bool cap_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CAP_NAME_MAX || name[0] == '.')
		return false;
	/* the name is a URL path segment and part of default file names */
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* Settings checked without touching anything (the filter is checked by
 * compiling it, the dump folder by cap_check_dump). */
int cap_check_cfg(const struct cap_cfg *c, unsigned int fields, char *err, size_t errlen)
{
	if ((fields & CAP_F_MODE) && (unsigned int)c->mode > CAP_MODE_BIDIRECTIONAL) {
		snprintf(err, errlen, "capture: unknown mode %d", (int)c->mode);
		return -EINVAL;
	}
	if ((fields & CAP_F_SNAPLEN) && (c->snaplen < 1 || c->snaplen > FG_SNAPLEN_MAX)) {
		snprintf(err, errlen, "snaplen: %u is outside 1..%u", c->snaplen, FG_SNAPLEN_MAX);
		return -EINVAL;
	}
	if ((fields & CAP_F_DUMP) && strlen(c->dump) + 6 > PATH_MAX) {
		snprintf(err, errlen, "dump: path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

/* AUTO: AF_XDP, the design's path and the zero-copy one on NICs that have
 * it. On copy-mode drivers (veth here) the ring-buffer path measured about as
 * fast at half the CPU (afxdp/README.md, "Which ingress path"): an option. */
static enum cap_ingress resolve(enum cap_ingress p)
{
	return p == CAP_INGRESS_AUTO ? CAP_INGRESS_AFXDP : p;
}

const char *cap_ingress_name(enum cap_ingress p)
{
	return resolve(p) == CAP_INGRESS_RINGBUF ? "ringbuf" : "afxdp";
}

enum cap_ingress cap_ingress_choose(struct cap_core *k, const struct cap_cfg *cfg)
{
	return resolve(k->dp.ingress_path);
}

/* Warns when AF_XDP or the ringbuf path would take frames away from a host
 * that uses the interface itself (link-local IPv6 alone doesn't count:
 * every up interface has one). */
void cap_warn_host_iface(struct cap_core *k, const struct cap_cfg *cfg)
{
	struct ifaddrs *ifa, *i;
	bool used = false;

	if (cfg->transparent || getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, cfg->iface))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			used = true;
		if (i->ifa_addr->sa_family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			used = true;
	}
	freeifaddrs(ifa);
	if (used)
		cap_log(k, "warning: %s has IP addresses, and the capture-port "
			   "ingress path (AF_XDP or --ingress-path ringbuf) takes matching frames "
			   "away from the host's network stack (right for a capture/SPAN port, "
			   "wrong for an interface the host talks on: a filter matching your own "
			   "traffic would cut it off). Use --transparent to capture a copy and "
			   "let every frame through.",
			cfg->iface);
}
