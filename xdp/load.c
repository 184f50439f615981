/* SPDX-License-Identifier: BSD-2-Clause */
/* xp_open_elf / xp_set_filter_elf / xp_close: the life of struct xp. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp/internal.h"

static int check_opts(const struct xp_opts *o, char *err, size_t errlen)
{
	uint32_t rb = o->rb_size;

	if (!o->ifname || !o->ifname[0] || strlen(o->ifname) >= IF_NAMESIZE) {
		xp_err(err, errlen, "no or bad interface name");
		return -EINVAL;
	}
	if (rb && (rb < 4096 || (rb & (rb - 1)))) {
		xp_err(err, errlen, "ring buffer size %u: not a power of two >= 4096", rb);
		return -EINVAL;
	}
	if (o->cfg.snaplen > CA_SNAPLEN_MAX) {
		xp_err(err, errlen, "snaplen %u above %u", o->cfg.snaplen, CA_SNAPLEN_MAX);
		return -EINVAL;
	}
	return 0;
}

/* The default per-CPU ring size (ca_shared.h). */
static uint32_t default_rb_size(void)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t sz = CA_RB_DEFAULT_TOTAL;

	while (ncpu > 1 && sz > CA_RB_DEFAULT_SIZE) {
		sz >>= 1;
		ncpu = (ncpu + 1) / 2;
	}
	return sz;
}

static struct xp *xp_new(const struct xp_opts *o)
{
	struct xp *x = calloc(1, sizeof(*x));
	int i;

	if (!x)
		return NULL;
	pthread_mutex_init(&x->lock, NULL);
	x->log = o->log;
	x->log_arg = o->log_arg;
	x->rb_size = o->rb_size ? o->rb_size : default_rb_size();
	x->build_timeout_s = o->build_timeout_s;
	for (i = 0; i < XP_MAP_MAX; i++)
		x->map_fd[i] = -1;
	x->xdp_link_fd = -1;
	x->owner.fd = -1;
	snprintf(x->info.ifname, sizeof(x->info.ifname), "%s", o->ifname);
	return x;
}

static void xp_free(struct xp *x)
{
	int i;

	xp_xdp_detach(x);
	xp_tc_detach(x);
	bpf_object__close(x->xdp_obj);
	bpf_object__close(x->tc_obj);
	for (i = 0; i < XP_MAP_MAX; i++)
		if (x->map_fd[i] >= 0)
			close(x->map_fd[i]);
	xp_owner_release(&x->owner);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

int xp_open_elf(const struct xp_opts *o, const struct xp_elf *elf, struct xp **out,
		char *err, size_t errlen)
{
	struct xp *x;
	int ret;

	*out = NULL;
	ret = check_opts(o, err, errlen);
	if (ret)
		return ret;
	x = xp_new(o);
	if (!x)
		return -ENOMEM;
	x->info.ifindex = if_nametoindex(o->ifname);
	if (!x->info.ifindex) {
		ret = -ENODEV;
		xp_err(err, errlen, "%s: no such interface", o->ifname);
		goto out;
	}
	ret = xp_check_caps(o->ifname, err, errlen);
	if (ret)
		goto out;
	/* The programs' records carry the packet from where the hook sees it
	 * (Ethernet or IP header); any other framing is refused up front. */
	ret = xp_iface_arphrd(o->ifname, &x->info.arphrd, err, errlen);
	if (!ret)
		ret = xp_iface_linktype(o->ifname, &x->info.linktype, &x->info.dlt, err, errlen);
	if (ret)
		goto out;
	xp_rx_queues(o->ifname, &x->info.rx_queues);
	if (!x->info.rx_queues)
		x->info.rx_queues = 1;
	xp_mtu(o->ifname, &x->info.mtu);

	ret = xp_owner_take(&x->owner, o->run_dir ? o->run_dir : XP_RUN_DIR,
			    x->info.ifindex, o->ifname, err, errlen);
	if (ret)
		goto out;
	ret = xp_leftovers(x, err, errlen);
	if (ret)
		goto out;
	ret = xp_load(x, elf, &x->xdp_obj, &x->tc_obj, err, errlen);
	if (ret)
		goto out;
	/* Config before attach: the first packet already sees it. */
	ret = xp_set_config(x, &o->cfg);
	if (ret) {
		xp_err(err, errlen, "%s: writing the config map: %s", o->ifname, strerror(-ret));
		goto out;
	}
	ret = xp_tc_attach(x, xp_obj_prog_fd(x->tc_obj), false, err, errlen);
	if (ret)
		goto out;
	ret = xp_xdp_attach(x, xp_obj_prog_fd(x->xdp_obj), o->xdp_mode, err, errlen);
out:
	if (ret) {
		xp_free(x);
		return ret;
	}
	*out = x;
	return 0;
}

int xp_set_filter_elf(struct xp *x, const struct xp_elf *elf, char *err, size_t errlen)
{
	struct bpf_object *xdp_obj = NULL, *tc_obj = NULL;
	int ret;

	pthread_mutex_lock(&x->lock);
	ret = xp_load(x, elf, &xdp_obj, &tc_obj, err, errlen);
	if (ret)
		goto out;
	/* XDP first: if it fails nothing changed; if TC then fails, XDP goes
	 * back to the old program so both directions keep the same filter. */
	if (bpf_link_update(x->xdp_link_fd, xp_obj_prog_fd(xdp_obj), NULL)) {
		ret = -errno;
		xp_err(err, errlen, "%s: replacing the XDP program: %s", x->info.ifname,
		       strerror(-ret));
		goto out;
	}
	ret = xp_tc_attach(x, xp_obj_prog_fd(tc_obj), true, err, errlen);
	if (ret) {
		bpf_link_update(x->xdp_link_fd, xp_obj_prog_fd(x->xdp_obj), NULL);
		goto out;
	}
	/* The old objects go; their programs are no longer attached. */
	bpf_object__close(x->xdp_obj);
	bpf_object__close(x->tc_obj);
	x->xdp_obj = xdp_obj;
	x->tc_obj = tc_obj;
	xdp_obj = tc_obj = NULL;
out:
	pthread_mutex_unlock(&x->lock);
	bpf_object__close(xdp_obj);
	bpf_object__close(tc_obj);
	return ret;
}

void xp_close(struct xp *x)
{
	if (x)
		xp_free(x);
}
