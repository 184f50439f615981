/* SPDX-License-Identifier: BSD-2-Clause */
/* Changing a running capture: all or nothing, no worker restart. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/capture_int.h"
#include "writer/writer.h"

int api_capture_set(struct api_capture *c, const struct api_capture_cfg *cfg,
		    unsigned int fields, char *err, size_t errlen)
{
	struct xp_elf elf = { 0 };
	struct api_capture_cfg next;
	char path[PATH_MAX + 8], msg[512];
	bool filter_swapped = false, net_switched = false;
	int ret;

	pthread_mutex_lock(&c->set_lock);
	/* Only set changes cfg, and we hold set_lock: reading it is safe. */
	next = c->cfg;
	if (fields & API_F_MODE)
		next.mode = cfg->mode;
	if (fields & API_F_SNAPLEN)
		next.snaplen = cfg->snaplen;
	if (fields & API_F_FILTER)
		snprintf(next.filter, sizeof(next.filter), "%s", cfg->filter);
	if (fields & API_F_DUMP)
		snprintf(next.dump, sizeof(next.dump), "%s", cfg->dump);
	if (fields & API_F_NETWORK)
		next.network = cfg->network;

	/* Everything that can be checked is checked before anything changes. */
	ret = api_cap_check(&next, fields, err, errlen);
	if (ret)
		goto out;
	if (fields & API_F_FILTER) {
		ret = api_cap_build_filter(next.filter, &elf, err, errlen);
		if (ret)
			goto out;
	}

	/* Apply, most likely failure first; each step can be undone. */
	if (fields & API_F_FILTER) {
		msg[0] = 0;
		ret = xp_set_filter_elf(c->xp, &elf, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "filter: %s", msg[0] ? msg : strerror(-ret));
			goto out;
		}
		filter_swapped = true;
	}
	if ((fields & API_F_NETWORK) && next.network != c->cfg.network) {
		ret = wr_set_network(c->wr, next.network);
		if (ret) {
			snprintf(err, errlen, "network mode: %s", strerror(-ret));
			goto undo;
		}
		net_switched = true;
	}
	if ((fields & API_F_DUMP) && strcmp(next.dump, c->cfg.dump)) {
		api_cap_dump_file(next.dump, path, sizeof(path));
		ret = wr_reopen(c->wr, path);
		if (ret) {
			snprintf(err, errlen, "dump: can't create %s: %s", path, strerror(-ret));
			goto undo;
		}
	}
	if (fields & (API_F_MODE | API_F_SNAPLEN)) {
		struct xp_config xc = api_cap_xp_cfg(&next, c->rb_ingress);

		/* A map update: can't fail once the map exists. */
		ret = xp_set_config(c->xp, &xc);
		if (ret) {
			snprintf(err, errlen, "config map: %s", strerror(-ret));
			goto undo;
		}
	}
	if (filter_swapped) {
		xp_elf_free(&c->elf);
		c->elf = elf;
		elf = (struct xp_elf){ 0 };
	}
	pthread_mutex_lock(&c->lock);
	c->cfg = next;
	pthread_mutex_unlock(&c->lock);
	ret = 0;
	goto out;
undo:
	if (net_switched)
		wr_set_network(c->wr, c->cfg.network);
	if (filter_swapped)
		xp_set_filter_elf(c->xp, &c->elf, msg, sizeof(msg));
out:
	pthread_mutex_unlock(&c->set_lock);
	xp_elf_free(&elf);
	return ret;
}
