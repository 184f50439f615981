/* SPDX-License-Identifier: BSD-2-Clause */
/* Validation and filter builds: everything that may fail before a capture
 * is created or changed. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/capture_int.h"
#include "filtergen/filtergen.h"

static int build_filter_niced(const char *expr, struct xp_elf *elf, char *err,
			      size_t errlen);

struct xp_config api_cap_xp_cfg(const struct api_capture_cfg *c, bool ringbuf)
{
	return (struct xp_config){
		.snaplen = c->snaplen,
		.ingress = c->mode == API_MODE_INGRESS || c->mode == API_MODE_BIDIRECTIONAL,
		.egress = c->mode == API_MODE_EGRESS || c->mode == API_MODE_BIDIRECTIONAL,
		.transparent = c->transparent,
		.ringbuf = ringbuf && !c->transparent,
	};
}

/* The folder of the dump prefix must exist and be writable. */
static int check_dump(const char *dump, char *err, size_t errlen)
{
	char buf[PATH_MAX + 8];
	struct stat st;
	const char *dir;

	if (!dump[0]) {
		snprintf(err, errlen, "dump: empty path");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", dump);
	dir = dirname(buf);
	if (stat(dir, &st)) {
		snprintf(err, errlen, "dump: folder %s: %s", dir, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "dump: %s is not a folder", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK)) {
		snprintf(err, errlen, "dump: folder %s is not writable", dir);
		return -EACCES;
	}
	return 0;
}

int api_cap_check(const struct api_capture_cfg *c, unsigned int fields, char *err,
		  size_t errlen)
{
	if ((fields & API_F_MODE) && (unsigned int)c->mode > API_MODE_BIDIRECTIONAL) {
		snprintf(err, errlen, "capture: unknown mode %d", (int)c->mode);
		return -EINVAL;
	}
	if ((fields & API_F_SNAPLEN) && (c->snaplen < 1 || c->snaplen > FG_SNAPLEN_MAX)) {
		snprintf(err, errlen, "snaplen: %u is outside 1..%u", c->snaplen, FG_SNAPLEN_MAX);
		return -EINVAL;
	}
	if ((fields & API_F_DUMP) && strlen(c->dump) + 6 > PATH_MAX) {
		snprintf(err, errlen, "dump: path too long");
		return -ENAMETOOLONG;
	}
	if (fields & API_F_DUMP)
		return check_dump(c->dump, err, errlen);
	return 0;
}

/* Filter text -> built programs (libpcap, then clang). Nothing attached.
 * clang runs niced (the child inherits this thread's nice value): a filter
 * change on a small box must not starve the capture workers. */
int api_cap_build_filter(const char *expr, struct xp_elf *elf, char *err, size_t errlen)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int ret, nice_was;

	errno = 0;
	nice_was = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		nice_was = 0;
	setpriority(PRIO_PROCESS, (id_t)tid, 10);
	ret = build_filter_niced(expr, elf, err, errlen);
	setpriority(PRIO_PROCESS, (id_t)tid, nice_was);
	return ret;
}

static int build_filter_niced(const char *expr, struct xp_elf *elf, char *err, size_t errlen)
{
	struct fg_filter *f = NULL;
	char msg[FG_ERR_LEN];
	int ret;

	msg[0] = 0;
	ret = fg_compile(expr, FG_SNAPLEN_MAX, &f, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "filter: %s", msg[0] ? msg : strerror(-ret));
		return ret;
	}
	msg[0] = 0;
	ret = xp_build(f, elf, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "filter: %s", msg[0] ? msg : strerror(-ret));
	fg_free(f);
	return ret;
}

void api_cap_dump_file(const char *dump, char *out, size_t len)
{
	snprintf(out, len, "%s.pcap", dump);
}
