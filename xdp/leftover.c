/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Leftovers of an appliance that died without cleaning up (SIGKILL, crash).
 * Called with the interface's owner lock held, so whatever of ours is still
 * attached belongs to a dead process. A foreign XDP program is never touched.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "xdp/internal.h"

/* Our XDP program still attached: through a link some other process
 * still holds (e.g. a forked child of the dead one) or through netlink. */
static int remove_xdp(int ifindex, __u32 prog_id, __u8 mode)
{
	struct bpf_link_info info;
	__u32 id = 0, len;
	int fd, ret;

	ret = bpf_xdp_detach(ifindex, mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
				      XDP_FLAGS_DRV_MODE, NULL);
	if (!ret)
		return 0;
	while (!bpf_link_get_next_id(id, &id)) {
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
		    info.prog_id == prog_id && (int)info.xdp.ifindex == ifindex) {
			ret = bpf_link_detach(fd) ? -errno : 0;
			close(fd);
			return ret;
		}
		close(fd);
	}
	return ret;
}

static int check_xdp(struct xp *x, bool *removed, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[32] = "";
	int ret;

	ret = bpf_xdp_query(x->info.ifindex, 0, &q);
	if (ret) {
		xp_err(err, errlen, "%s: querying XDP: %s", x->info.ifname, strerror(-ret));
		return ret == -EPERM ? -EPERM : ret;
	}
	if (!q.prog_id)
		return 0;
	xp_prog_name(q.prog_id, name, sizeof(name));
	if (strcmp(name, CA_XDP_PROG_NAME)) {
		xp_err(err, errlen, "%s: another XDP program is attached (id %u, \"%s\"); "
		       "not touching it", x->info.ifname, q.prog_id, name);
		return -EBUSY;
	}
	ret = remove_xdp(x->info.ifindex, q.prog_id, q.attach_mode);
	if (ret) {
		xp_err(err, errlen, "%s: can't remove a previous appliance's XDP program "
		       "(id %u): %s", x->info.ifname, q.prog_id, strerror(-ret));
		return ret;
	}
	*removed = true;
	return 0;
}

/* Creates the clsact qdisc if there is none (then there can't be a leftover
 * filter either); otherwise looks for our filter on it. */
static int check_tc(struct xp *x, bool *removed, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = x->info.ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = XP_TC_HANDLE, .priority = XP_TC_PRIO);
	char name[32] = "";
	int ret;

	/* Say "we created it" before it exists: a crash in between must not
	 * leave a qdisc nobody removes. Corrected right below. */
	ret = xp_owner_write(&x->owner, x->info.ifname, true);
	if (ret) {
		xp_err(err, errlen, "%s: writing %s: %s", x->info.ifname, x->owner.path,
		       strerror(-ret));
		return ret;
	}
	ret = bpf_tc_hook_create(&hook);
	if (!ret) {
		x->qdisc_created = true;
		return 0;
	}
	if (ret != -EEXIST) {
		xp_err(err, errlen, "%s: creating the clsact qdisc: %s", x->info.ifname,
		       strerror(-ret));
		return ret;
	}
	/* The dead holder's clsact qdisc is ours to remove at close now. */
	x->qdisc_created = x->owner.old_qdisc;
	ret = xp_owner_write(&x->owner, x->info.ifname, x->qdisc_created);
	if (ret)
		return ret;
	if (bpf_tc_query(&hook, &to))
		return 0; /* no filter at our place */
	xp_prog_name(to.prog_id, name, sizeof(name));
	if (strcmp(name, CA_TC_PROG_NAME)) {
		xp_err(err, errlen, "%s: a foreign TC egress filter (\"%s\") sits at "
		       "handle/prio 0x%x/0x%x", x->info.ifname, name, XP_TC_HANDLE, XP_TC_PRIO);
		return -EBUSY;
	}
	memset(&to, 0, sizeof(to));
	to.sz = sizeof(to);
	to.handle = XP_TC_HANDLE;
	to.priority = XP_TC_PRIO;
	ret = bpf_tc_detach(&hook, &to);
	if (ret) {
		xp_err(err, errlen, "%s: can't remove a previous appliance's TC filter: %s",
		       x->info.ifname, strerror(-ret));
		return ret;
	}
	*removed = true;
	return 0;
}

int xp_leftovers(struct xp *x, char *err, size_t errlen)
{
	bool rm_xdp = false, rm_tc = false;
	int ret;

	ret = check_xdp(x, &rm_xdp, err, errlen);
	if (!ret)
		ret = check_tc(x, &rm_tc, err, errlen);
	if (ret)
		return ret;
	if (!rm_xdp && !rm_tc)
		return 0;
	x->info.leftovers_removed = true;
	x->info.leftover_pid = x->owner.old_pid;
	if (x->owner.old_pid)
		xp_log(x, "%s: removed leftovers of a dead capture-appliance (pid %d):%s%s",
		       x->info.ifname, x->owner.old_pid, rm_xdp ? " XDP program" : "",
		       rm_tc ? " TC egress filter" : "");
	else
		xp_log(x, "%s: removed leftovers of an earlier capture-appliance:%s%s",
		       x->info.ifname, rm_xdp ? " XDP program" : "",
		       rm_tc ? " TC egress filter" : "");
	return 0;
}
