/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One capture: filtergen -> xdp/ (XDP + TC programs) -> afxdp/ (a worker per
 * RX queue, the ring-buffer consumer) -> writer/. Create and destroy here;
 * changes in capture_set.c, counters in capture_stats.c.
 *
 * The filter is compiled with FG_SNAPLEN_MAX, so the filter's result is
 * "match or not" and the snaplen lives in the config map: a snaplen or mode
 * change is one map update, a filter change one program replacement; the
 * workers are never restarted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/capture_int.h"
#include "filtergen/filtergen.h"
#include "writer/writer.h"

static const char *const mode_names[] = {
	[API_MODE_OFF] = "off",
	[API_MODE_INGRESS] = "ingress",
	[API_MODE_EGRESS] = "egress",
	[API_MODE_BIDIRECTIONAL] = "bidirectional",
};

const char *api_mode_name(enum api_mode m)
{
	if ((unsigned int)m >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "?";
	return mode_names[m];
}

int api_mode_parse(const char *s, enum api_mode *out)
{
	unsigned int i;

	for (i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(s, mode_names[i])) {
			*out = (enum api_mode)i;
			return 0;
		}
	return -EINVAL;
}

static void log_note(const struct api_capture_opts *o, const char *msg)
{
	if (o->log)
		o->log(o->log_arg, msg);
	else
		fprintf(stderr, "capture: %s\n", msg);
}

static void free_capture(struct api_capture *c)
{
	xsk_set_close(c->xsk);
	xsk_rb_close(c->rb);
	xp_close(c->xp);
	if (c->wr)
		wr_close(c->wr);
	xp_elf_free(&c->elf);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->set_lock);
	free(c);
}

/* AUTO: AF_XDP, the design's path and the zero-copy one on NICs that have
 * it. On copy-mode drivers (veth here) the ring-buffer path measured about as
 * fast at half the CPU (afxdp/README.md, "Which ingress path"): an option. */
static enum api_ingress ingress_path(const struct api_capture_opts *o)
{
	return o->ingress_path == API_INGRESS_AUTO ? API_INGRESS_AFXDP : o->ingress_path;
}

const char *api_ingress_name(enum api_ingress p)
{
	return ingress_path(&(struct api_capture_opts){ .ingress_path = p }) == API_INGRESS_RINGBUF
		       ? "ringbuf"
		       : "afxdp";
}

enum api_ingress api_capture_ingress(struct api_capture *c)
{
	return c->cfg.transparent || c->rb_ingress ? API_INGRESS_RINGBUF : API_INGRESS_AFXDP;
}

int api_capture_create_opts(const struct api_capture_cfg *cfg,
			    const struct api_capture_opts *opts, struct api_capture **out,
			    char *err, size_t errlen)
{
	static const struct api_capture_opts no_opts;
	char path[PATH_MAX + 8], msg[512];
	struct api_capture *c;
	struct xp_info info;
	int ret;

	*out = NULL;
	if (!opts)
		opts = &no_opts;
	if (!cfg->name[0] || !cfg->iface[0]) {
		snprintf(err, errlen, "capture: name and interface are required");
		return -EINVAL;
	}
	if (!if_nametoindex(cfg->iface)) {
		snprintf(err, errlen, "%s: no such interface", cfg->iface);
		return -ENODEV;
	}
	ret = api_cap_check(cfg, API_F_MODE | API_F_SNAPLEN | API_F_DUMP, err, errlen);
	if (ret)
		return ret;
	if (!cfg->transparent && ingress_path(opts) == API_INGRESS_AFXDP) {
		ret = xsk_check_mtu(cfg->iface, err, errlen);
		if (ret)
			return ret;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->set_lock, NULL);
	c->cfg = *cfg;
	c->opts = *opts;
	c->opts.run_dir = NULL; /* only used during xp_open below */
	c->rb_ingress = !cfg->transparent && ingress_path(opts) == API_INGRESS_RINGBUF;

	ret = api_cap_build_filter(cfg->filter, &c->elf, err, errlen);
	if (ret)
		goto out;

	/* Attach with the capture off: the sockets go into the XSKMAP first,
	 * so no matching frame finds a queue without its socket. */
	struct xp_opts xo = {
		.ifname = cfg->iface,
		.xdp_mode = (enum xp_xdp_mode)opts->xdp_mode,
		.cfg = { .snaplen = cfg->snaplen },
		.rb_size = opts->rb_size,
		.run_dir = opts->run_dir,
		.log = opts->log,
		.log_arg = opts->log_arg,
	};
	msg[0] = 0;
	ret = xp_open_elf(&xo, &c->elf, &c->xp, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "%s", msg[0] ? msg : strerror(-ret));
		c->xp = NULL;
		goto out;
	}
	xp_info(c->xp, &info);
	c->xdp_native = info.xdp_native;

	/* The file only once the interface is ours: a refused second
	 * appliance must not truncate the first one's file. */
	api_cap_dump_file(cfg->dump, path, sizeof(path));
	struct wr_opts wo = {
		.path = path,
		/* The header's snaplen must cover any later snaplen change,
		 * or readers would cut records short. */
		.snaplen = FG_SNAPLEN_MAX,
		.backend = (enum wr_backend)opts->writer_backend,
		.network = cfg->network,
		.net_buffer_bytes = opts->net_buffer_bytes,
	};
	ret = wr_open(&wo, &c->wr);
	if (ret) {
		snprintf(err, errlen, "dump: can't create %s: %s", path, strerror(-ret));
		c->wr = NULL;
		goto out;
	}

	if (!cfg->transparent && !c->rb_ingress) {
		struct xsk_opts so = {
			.ifname = cfg->iface,
			.queues = info.rx_queues,
			.xsks_map_fd = xp_xsks_fd(c->xp),
			.writer = c->wr,
			.bind = (enum xsk_bind)opts->bind,
			.ts_clock = XSK_TS_TAI,
			.ring_size = opts->ring_size,
			.batch = opts->batch,
			.no_pin = opts->no_pin,
		};
		ret = xsk_set_open(&so, &c->xsk, err, errlen);
		if (ret)
			goto out;
		if (!xsk_set_zerocopy(c->xsk)) {
			/* measured: on copy-mode drivers the ring-buffer path
			 * captured about 1.5x the AF_XDP rate (afxdp/README.md) */
			snprintf(msg, sizeof(msg),
				 "%s: AF_XDP in copy mode (no zero-copy); on such drivers "
				 "--ingress-path ringbuf captures faster",
				 cfg->iface);
			log_note(opts, msg);
		}
	}
	struct xsk_rb_opts ro = {
		.ringbuf_map_fd = xp_rb_fd(c->xp),
		.writer = c->wr,
		.ts_clock = XSK_TS_TAI,
	};
	ret = xsk_rb_open(&ro, &c->rb);
	if (ret) {
		snprintf(err, errlen, "ring buffer consumer: %s", strerror(-ret));
		goto out;
	}
	struct xp_config xc = api_cap_xp_cfg(cfg, c->rb_ingress);
	ret = xp_set_config(c->xp, &xc);
	if (ret) {
		snprintf(err, errlen, "config map: %s", strerror(-ret));
		goto out;
	}
	*out = c;
	return 0;
out:
	free_capture(c);
	return ret;
}

int api_capture_create(const struct api_capture_cfg *cfg, struct api_capture **out, char *err,
		       size_t errlen)
{
	return api_capture_create_opts(cfg, NULL, out, err, errlen);
}

void api_capture_on_final(struct api_capture *c, api_capture_final_fn fn, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->final_fn = fn;
	c->final_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

int api_capture_get(struct api_capture *c, struct api_capture_cfg *cfg)
{
	pthread_mutex_lock(&c->lock);
	*cfg = c->cfg;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

struct wr_writer *api_capture_writer(struct api_capture *c)
{
	return c->wr;
}

int api_capture_destroy(struct api_capture *c)
{
	struct xp_config off = { 0 };
	struct api_capture_stats st;
	api_capture_final_fn fn;
	int ret;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->set_lock);
	pthread_mutex_lock(&c->lock);
	/* Stop taking packets; let programs already running finish (a NAPI
	 * poll flushes its redirects before it ends); then drain the rings. */
	xp_get_config(c->xp, &off);
	off.ingress = off.egress = false;
	xp_set_config(c->xp, &off);
	usleep(20000);
	xsk_set_stop(c->xsk);
	xsk_rb_stop(c->rb);
	api_cap_wait_writer(c);
	api_cap_stats_locked(c, &st);
	fn = c->final_fn;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->set_lock);
	if (fn)
		fn(&c->cfg, &st, c->final_arg);

	/* Detach before the sockets go (closing a bound socket under a live
	 * program is what the pitfalls warn about). */
	xp_close(c->xp);
	c->xp = NULL;
	xsk_set_close(c->xsk);
	c->xsk = NULL;
	xsk_rb_close(c->rb);
	c->rb = NULL;
	ret = wr_close(c->wr);
	c->wr = NULL;
	free_capture(c);
	return ret;
}
