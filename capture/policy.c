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
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <libgen.h>
#include <net/if.h>
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

	for (base = dump; *base; base++)
		if ((unsigned char)*base < 0x20 || *base == 0x7f) {
			snprintf(err, errlen, "dump must not contain control characters");
			return -EINVAL;
		}
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

void cap_dump_file(const char *dump, enum cap_format f, char *out, size_t len)
{
	snprintf(out, len, "%s.%s", dump, cap_format_name(f));
}

const char *cap_format_name(enum cap_format f)
{
	return f == CAP_FMT_PCAPNG ? "pcapng" : "pcap";
}

int cap_format_parse(const char *s, enum cap_format *out)
{
	if (s && !strcmp(s, "pcap"))
		*out = CAP_FMT_PCAP;
	else if (s && !strcmp(s, "pcapng"))
		*out = CAP_FMT_PCAPNG;
	else
		return -EINVAL;
	return 0;
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
	if ((fields & CAP_F_DUMP) && strlen(c->dump) + 64 > PATH_MAX) {
		snprintf(err, errlen, "dump: path too long");
		return -ENAMETOOLONG;
	}
	if ((fields & CAP_F_FORMAT) && (unsigned int)c->format > CAP_FMT_PCAPNG) {
		snprintf(err, errlen, "format: pcap or pcapng");
		return -EINVAL;
	}
	if (fields & CAP_F_ROTATE) {
		bool rotating = c->rotate_bytes || c->rotate_seconds;

		if ((c->retain_bytes || c->retain_files || c->min_free_pct) && !rotating) {
			snprintf(err, errlen, "retention (retain_bytes, retain_files, min_free) "
				 "needs rotation (rotate_size or rotate_time): one file is "
				 "never deleted");
			return -EINVAL;
		}
		if (c->min_free_pct > 99) {
			snprintf(err, errlen, "min_free: %u is not a percentage in 0..99",
				 c->min_free_pct);
			return -EINVAL;
		}
		if (c->rotate_seconds > 366u * 86400) {
			snprintf(err, errlen, "rotate_time: at most a year (%u s)", 366u * 86400);
			return -EINVAL;
		}
		if (c->rotate_bytes && c->rotate_bytes < 4096) {
			snprintf(err, errlen, "rotate_size: at least 4096 bytes");
			return -EINVAL;
		}
	}
	return 0;
}

int cap_check_iface(struct cap_core *k, const char *iface, char *err, size_t errlen)
{
	char pat[256];
	const char *p = k->allow_iface, *e;
	size_t n;

	if (!p)
		return 0;
	while (*p) {
		e = strchrnul(p, ',');
		n = (size_t)(e - p);
		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (!fnmatch(pat, iface, 0))
				return 0;
		}
		p = *e ? e + 1 : e;
	}
	snprintf(err, errlen, "interface %s is not one this appliance may capture on "
		 "(--allow-iface %s)", iface, k->allow_iface);
	return -EPERM;
}

int cap_iface_linktype(const char *iface, int *dlt, uint32_t *linktype, char *err,
		       size_t errlen)
{
	return xp_iface_linktype(iface, linktype, dlt, err, errlen);
}

static const char *const ingress_names[] = {
	[CAP_INGRESS_AUTO] = "auto",
	[CAP_INGRESS_AFXDP] = "afxdp",
	[CAP_INGRESS_RINGBUF] = "ringbuf",
	[CAP_INGRESS_TRANSPARENT] = "transparent",
};

#define NINGRESS (sizeof(ingress_names) / sizeof(ingress_names[0]))

const char *cap_ingress_name(enum cap_ingress p)
{
	return (unsigned int)p < NINGRESS ? ingress_names[p] : "?";
}

int cap_ingress_parse(const char *s, enum cap_ingress *out)
{
	unsigned int i;

	for (i = 0; s && i < NINGRESS; i++)
		if (!strcmp(s, ingress_names[i])) {
			*out = (enum cap_ingress)i;
			return 0;
		}
	return -EINVAL;
}

static bool has_address(const char *iface, char *why, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	struct ifaddrs *ifa, *i;
	bool used = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !used; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, iface))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr,
				  sizeof(addr));
			used = true;
		}
		/* every up interface has a link-local one: that alone is no use */
		if (i->ifa_addr->sa_family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr)) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr,
				  sizeof(addr));
			used = true;
		}
	}
	freeifaddrs(ifa);
	if (used)
		snprintf(why, len, "%s has the address %s", iface, addr);
	return used;
}

/* A bridge, bond or team port (or a VRF member): its master carries it. */
static bool has_master(const char *iface, char *why, size_t len)
{
	char path[128], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", iface);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	snprintf(why, len, "%s is a port of %s", iface, basename(target));
	return true;
}

/* A default route (IPv4 or IPv6) through iface. */
static bool has_default_route(const char *iface, char *why, size_t len)
{
	char line[512], name[IF_NAMESIZE + 1], dst[64];
	unsigned int plen;
	bool found = false;
	FILE *f;

	f = fopen("/proc/net/route", "r");
	if (f) {
		/* Iface Destination Gateway ...; the first line is a header */
		while (!found && fgets(line, sizeof(line), f))
			if (sscanf(line, "%16s %63s", name, dst) == 2 && !strcmp(name, iface) &&
			    !strcmp(dst, "00000000"))
				found = true;
		fclose(f);
	}
	f = found ? NULL : fopen("/proc/net/ipv6_route", "r");
	if (f) {
		/* dst plen src plen next metric refs use flags iface */
		while (!found && fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &plen,
				   name) == 3 &&
			    plen == 0 && !strcmp(name, iface) &&
			    strspn(dst, "0") == strlen(dst))
				found = true;
		fclose(f);
	}
	if (found)
		snprintf(why, len, "a default route goes through %s", iface);
	return found;
}

bool cap_host_iface(const char *iface, char *why, size_t len)
{
	return has_address(iface, why, len) || has_master(iface, why, len) ||
	       has_default_route(iface, why, len);
}

enum cap_ingress cap_ingress_choose(struct cap_core *k, const struct cap_cfg *cfg,
				    bool force_transparent, char *why, size_t len)
{
	enum cap_ingress p = force_transparent ? CAP_INGRESS_TRANSPARENT : k->dp.ingress_path;
	char host[160];
	bool used;

	used = cap_host_iface(cfg->iface, host, sizeof(host));
	if (p != CAP_INGRESS_AUTO) {
		snprintf(why, len, "%s was asked for", cap_ingress_name(p));
		/* a warning is all we give when the operator insists */
		if (used && p != CAP_INGRESS_TRANSPARENT)
			cap_log(k, "warning: %s, and the %s ingress path takes matching frames "
				   "away from the host's network stack (right for a capture/SPAN "
				   "port, wrong for an interface the host talks on: a filter "
				   "matching your own traffic would cut it off). Use "
				   "--ingress-path transparent (or auto) to capture a copy and let "
				   "every frame through.",
				host, cap_ingress_name(p));
		return p;
	}
	if (used) {
		snprintf(why, len, "%s: the host uses it, so every frame goes on", host);
		return CAP_INGRESS_TRANSPARENT;
	}
	snprintf(why, len, "%s is a capture port (no address, no master, no default route)",
		 cfg->iface);
	return CAP_INGRESS_AUTO;
}
