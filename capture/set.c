/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Changing a running capture: all or nothing, no worker restart. The slow
 * part (a filter compile) runs before the capture is locked; what follows
 * under c->lock is map updates, a program swap and at most an attach.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/internal.h"
#include "writer/writer.h"

/* The user's change, checked without any lock: values, the dump folder. */
static int check_change(struct cap_core *k, int c_dlt, struct cap_cfg *in, unsigned int fields,
			char *err, size_t errlen)
{
	char dump[PATH_MAX];
	int ret;

	if (fields & (CAP_F_TRANSPARENT | CAP_F_FORMAT | CAP_F_ROTATE)) {
		snprintf(err, errlen, "%s can only be chosen when a capture is added",
			 (fields & CAP_F_TRANSPARENT) ? "transparent"
			 : (fields & CAP_F_FORMAT)    ? "format"
						      : "rotation and retention");
		return -EINVAL;
	}
	ret = cap_check_cfg(in, fields, err, errlen);
	if (ret)
		return ret;
	if ((fields & CAP_F_IFACE) && !if_nametoindex(in->iface)) {
		snprintf(err, errlen, "%s: no such interface", in->iface);
		return -ENODEV;
	}
	if (fields & CAP_F_IFACE) {
		int dlt;
		uint32_t linktype;

		ret = cap_check_iface(k, in->iface, err, errlen);
		if (!ret)
			ret = cap_iface_linktype(in->iface, &dlt, &linktype, err, errlen);
		if (ret)
			return ret;
		/* one file holds one link type */
		if (dlt != c_dlt) {
			snprintf(err, errlen, "%s carries another link type than the capture's "
				 "interface: delete the capture and add it on %s", in->iface,
				 in->iface);
			return -EINVAL;
		}
	}
	if (fields & CAP_F_DUMP) {
		ret = cap_check_dump(k->dump_root, in->dump, dump, sizeof(dump), err, errlen);
		if (ret)
			return ret;
		snprintf(in->dump, sizeof(in->dump), "%s", dump);
	}
	return 0;
}

/* Moves c to next->iface with elf, keeping the writer (the file). Called
 * with c->lock held; the old data path goes only once the new one runs. */
static int move_iface(struct cap_core *k, struct cap *c, const struct cap_cfg *next,
		      const struct xp_elf *elf, char *err, size_t errlen)
{
	struct cap_dp ndp;
	int ret;

	ret = cap_hold_iface(k, c, next->iface);
	if (ret) {
		snprintf(err, errlen, "interface %s is already captured", next->iface);
		return ret;
	}
	ret = cap_dp_attach(k, next, c->force_transparent, elf, &ndp, err, errlen);
	if (ret)
		goto out;
	ret = cap_dp_start(k, next, &ndp, c->wr, err, errlen);
	if (ret) {
		cap_dp_close(&ndp);
		goto out;
	}
	cap_dp_stop(&c->dp);
	cap_stats_retire(c, &c->dp);
	cap_dp_close(&c->dp);
	c->dp = ndp;
	c->cfg.transparent = ndp.path == CAP_INGRESS_TRANSPARENT;
out:
	cap_move_done(k, c, ret == 0);
	return ret;
}

int cap_set(struct cap_core *k, const char *name, const struct cap_cfg *cfg,
	    unsigned int fields, struct cap_cfg *now, char *err, size_t errlen)
{
	struct xp_elf elf = { 0 };
	struct cap_cfg *in = NULL, *next = NULL;
	bool filter_swapped = false, net_switched = false, dump_held = false, moved;
	char path[PATH_MAX + 8], msg[512];
	struct cap *c;
	int ret;

	c = cap_ref(k, name);
	if (!c) {
		snprintf(err, errlen, "no capture named '%s'", name);
		return -ENOENT;
	}
	in = malloc(sizeof(*in));
	next = malloc(sizeof(*next));
	if (!in || !next) {
		ret = -ENOMEM;
		goto out_unref;
	}
	*in = *cfg;
	ret = check_change(k, c->dlt, in, fields, err, errlen);
	if (!ret && (fields & CAP_F_FILTER))
		ret = cap_build_filter(k, c, in->filter, c->dlt, &elf, err, errlen);
	if (ret) {
		/* -ENOENT is kept for "no such capture" */
		ret = ret == -ENOENT ? -EINVAL : ret;
		goto out_unref;
	}

	pthread_mutex_lock(&c->lock);
	if (c->state != CAP_LIVE) {
		snprintf(err, errlen, "no capture named '%s' (deleted meanwhile)", name);
		ret = -ENOENT;
		goto out;
	}
	*next = c->cfg;
	if (fields & CAP_F_MODE)
		next->mode = in->mode;
	if (fields & CAP_F_SNAPLEN)
		next->snaplen = in->snaplen;
	if (fields & CAP_F_FILTER)
		snprintf(next->filter, sizeof(next->filter), "%s", in->filter);
	if (fields & CAP_F_DUMP)
		snprintf(next->dump, sizeof(next->dump), "%s", in->dump);
	if (fields & CAP_F_NETWORK)
		next->network = in->network;
	if (fields & CAP_F_IFACE)
		snprintf(next->iface, sizeof(next->iface), "%s", in->iface);
	moved = strcmp(next->iface, c->cfg.iface) != 0;

	/* Apply, most likely failure first; each step can be undone. */
	if ((fields & CAP_F_FILTER) && !moved) {
		msg[0] = 0;
		ret = xp_set_filter_elf(c->dp.xp, &elf, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "filter: %s", msg[0] ? msg : strerror(-ret));
			goto out;
		}
		filter_swapped = true;
	}
	if (next->network != c->cfg.network) {
		ret = wr_set_network(c->wr, next->network);
		if (ret) {
			snprintf(err, errlen, "network mode: %s", strerror(-ret));
			goto undo;
		}
		net_switched = true;
	}
	if (strcmp(next->dump, c->cfg.dump)) {
		ret = cap_hold_dump(k, c, next->dump);
		if (ret) {
			snprintf(err, errlen, "dump %s is another capture's: two captures never "
				 "share a file", next->dump);
			goto undo;
		}
		dump_held = true;
		/* with rotation the writer names the files after the prefix */
		if (next->rotate_bytes || next->rotate_seconds)
			snprintf(path, sizeof(path), "%s", next->dump);
		else
			cap_dump_file(next->dump, next->format, path, sizeof(path));
		ret = wr_reopen(c->wr, path);
		if (ret) {
			snprintf(err, errlen, "dump: can't create %s: %s", path, strerror(-ret));
			goto undo;
		}
	}
	if (moved) {
		ret = move_iface(k, c, next, (fields & CAP_F_FILTER) ? &elf : &c->elf, err,
				 errlen);
		if (ret)
			goto undo;
		filter_swapped = fields & CAP_F_FILTER;
	} else if (fields & (CAP_F_MODE | CAP_F_SNAPLEN)) {
		struct xp_config xc = cap_xp_cfg(next, c->dp.path);

		/* A map update: can't fail once the map exists. */
		ret = xp_set_config(c->dp.xp, &xc);
		if (ret) {
			snprintf(err, errlen, "config map: %s", strerror(-ret));
			goto undo;
		}
	}
	if (filter_swapped) {
		xp_elf_free(&c->elf);
		c->elf = elf;
		elf = (struct xp_elf){ 0 };
		/* pcapng: the files begun from now on say which filter took them */
		wr_set_filter(c->wr, next->filter);
	}
	if (net_switched && !next->network)
		atomic_fetch_add(&c->pull_gen, 1); /* pull clients end */
	atomic_store(&c->network, next->network);
	next->transparent = c->dp.path == CAP_INGRESS_TRANSPARENT;
	c->cfg = *next;
	if (now)
		*now = *next;
	ret = 0;
	goto out;
undo:
	if (dump_held)
		cap_hold_dump(k, c, c->cfg.dump);
	if (net_switched)
		wr_set_network(c->wr, c->cfg.network);
	if (filter_swapped && !moved)
		xp_set_filter_elf(c->dp.xp, &c->elf, msg, sizeof(msg));
out:
	pthread_mutex_unlock(&c->lock);
out_unref:
	xp_elf_free(&elf);
	free(in);
	free(next);
	cap_unref(k, c);
	return ret;
}
