/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Attaching and detaching. XDP goes through a bpf_link: it is replaced in
 * one step (bpf_link_update) and disappears with the process. TC egress is a
 * netlink cls_bpf filter at a fixed handle/priority on clsact: replaced in
 * one step with BPF_TC_F_REPLACE; it survives the process, so leftover.c
 * looks for it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "xdp/internal.h"

static int link_xdp(int prog_fd, int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);

	return fd < 0 ? -errno : fd;
}

int xp_xdp_attach(struct xp *x, int prog_fd, enum xp_xdp_mode mode, char *err,
		  size_t errlen)
{
	const char *ifn = x->info.ifname;
	int fd = -EOPNOTSUPP, native_err = 0;

	if (mode != XP_XDP_GENERIC) {
		fd = link_xdp(prog_fd, x->info.ifindex, XDP_FLAGS_DRV_MODE);
		if (fd >= 0) {
			x->info.xdp_native = true;
			goto ok;
		}
		native_err = fd;
		if (mode == XP_XDP_NATIVE || fd == -EPERM || fd == -EBUSY)
			goto fail;
	}
	fd = link_xdp(prog_fd, x->info.ifindex, XDP_FLAGS_SKB_MODE);
	if (fd < 0)
		goto fail;
	x->info.xdp_native = false;
	if (native_err)
		xp_log(x, "%s: native XDP refused (%s), using generic (SKB) mode", ifn,
		       native_err == -ERANGE ? "MTU too large for native XDP" :
					       strerror(-native_err));
ok:
	x->xdp_link_fd = fd;
	return 0;
fail:
	switch (fd) {
	case -EPERM:
		xp_err(err, errlen, "%s: attaching XDP not permitted: run as root "
		       "(needs CAP_NET_ADMIN, CAP_BPF)", ifn);
		break;
	case -EBUSY:
	case -EEXIST:
		fd = -EBUSY;
		xp_err(err, errlen, "%s: another XDP program is attached", ifn);
		break;
	case -EOPNOTSUPP:
	case -EINVAL:
		fd = -EOPNOTSUPP;
		xp_err(err, errlen, "%s: no %sXDP support (%s)", ifn,
		       mode == XP_XDP_NATIVE ? "native " : mode == XP_XDP_GENERIC ? "generic " : "",
		       "driver or MTU refused it");
		break;
	case -ERANGE:
		xp_err(err, errlen, "%s: MTU %u too large for %sXDP on this driver", ifn,
		       x->info.mtu, mode == XP_XDP_NATIVE ? "native " : "");
		break;
	default:
		xp_err(err, errlen, "%s: attaching XDP: %s", ifn, strerror(-fd));
	}
	return fd;
}

void xp_xdp_detach(struct xp *x)
{
	if (x->xdp_link_fd < 0)
		return;
	/* Detach explicitly: a copy of the fd in a forked child would
	 * otherwise keep the program attached. */
	bpf_link_detach(x->xdp_link_fd);
	close(x->xdp_link_fd);
	x->xdp_link_fd = -1;
}

int xp_tc_attach(struct xp *x, int prog_fd, bool replace, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = x->info.ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = XP_TC_HANDLE, .priority = XP_TC_PRIO,
		    .prog_fd = prog_fd, .flags = replace ? BPF_TC_F_REPLACE : 0);
	int ret;

	/* The clsact qdisc exists: leftover.c made sure of it. */
	ret = bpf_tc_attach(&hook, &to);
	if (ret) {
		xp_err(err, errlen, "%s: attaching the TC egress program: %s", x->info.ifname,
		       strerror(-ret));
		return ret;
	}
	x->tc_attached = true;
	return 0;
}

/* Filters on one side of the interface's clsact qdisc (RTM_GETTFILTER
 * dump): 1 if any, 0 if none, or a negative errno. */
static int tc_any_filter(int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETTFILTER,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent },
	};
	char buf[32768];
	struct nlmsghdr *nh;
	int fd, any = 0, ret = 0, done = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		for (nh = (void *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				goto out;
			}
			if (nh->nlmsg_type == RTM_NEWTFILTER)
				any = 1;
		}
	}
out:
	close(fd);
	return ret ? ret : any;
}

void xp_tc_detach(struct xp *x)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = x->info.ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = XP_TC_HANDLE, .priority = XP_TC_PRIO);

	if (x->tc_attached)
		bpf_tc_detach(&hook, &to);
	x->tc_attached = false;
	if (x->qdisc_created) {
		int in, eg;

		/* Destroying clsact takes both directions' filters with it: only
		 * when we created it and nobody has added a filter since (a
		 * filter added between this look and the destroy still goes). */
		in = tc_any_filter(x->info.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
		eg = tc_any_filter(x->info.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
		if (!in && !eg) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		} else if (in < 0 || eg < 0) {
			xp_log(x, "%s: clsact qdisc kept: listing its filters failed (%s)",
			       x->info.ifname, strerror(-(in < 0 ? in : eg)));
		} else {
			xp_log(x, "%s: clsact qdisc kept: other %s filters are on it",
			       x->info.ifname, in && eg ? "ingress and egress" : in ? "ingress" :
			       "egress");
		}
		x->qdisc_created = false;
	}
}
