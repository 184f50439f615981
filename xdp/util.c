/* SPDX-License-Identifier: BSD-2-Clause */
/* Messages for the user and small BPF object look-ups. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <bpf/bpf.h>

#include "xdp/internal.h"

void xp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void xp_log(struct xp *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->log)
		x->log(x->log_arg, msg);
	else
		fprintf(stderr, "xdp: %s\n", msg);
}

/* Name of a loaded program by id (what ties an attached program to us). */
int xp_prog_name(__u32 prog_id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd, ret;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &ilen);
	if (ret)
		ret = -errno;
	else
		snprintf(name, len, "%s", info.name);
	close(fd);
	return ret;
}

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* Up front, so the user reads "run as root" rather than whichever
 * netlink or bpf() call happens to be refused first. */
int xp_check_caps(const char *ifname, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return 0; /* can't tell: let the kernel decide */
	if (has_cap(d, CAP_NET_ADMIN) &&
	    (has_cap(d, CAP_SYS_ADMIN) || (has_cap(d, 39 /* CAP_BPF */) &&
					   has_cap(d, 38 /* CAP_PERFMON */))))
		return 0;
	xp_err(err, errlen, "%s: not permitted: run as root (needs CAP_NET_ADMIN and "
	       "CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN)", ifname);
	return -EPERM;
}
