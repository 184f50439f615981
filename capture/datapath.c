/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The data path of one capture on one interface: xdp/ (XDP + TC programs)
 * -> afxdp/ (a worker per RX queue, the ring-buffer consumer) -> writer/.
 * The writer is opened separately: it outlives an interface move.
 *
 * The filter is compiled with FG_SNAPLEN_MAX, so the filter's result is
 * "match or not" and the snaplen lives in the config map: a snaplen or mode
 * change is one map update, a filter change one program replacement; the
 * workers are never restarted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/internal.h"
#include "filtergen/filtergen.h"
#include "writer/writer.h"

static const char *const mode_names[] = {
	[CAP_MODE_OFF] = "off",
	[CAP_MODE_INGRESS] = "ingress",
	[CAP_MODE_EGRESS] = "egress",
	[CAP_MODE_BIDIRECTIONAL] = "bidirectional",
};

#define NMODES (sizeof(mode_names) / sizeof(mode_names[0]))

const char *cap_mode_name(enum cap_mode m)
{
	return (unsigned int)m < NMODES ? mode_names[m] : "?";
}

int cap_mode_parse(const char *s, enum cap_mode *out)
{
	unsigned int i;

	for (i = 0; s && i < NMODES; i++)
		if (!strcmp(s, mode_names[i])) {
			*out = (enum cap_mode)i;
			return 0;
		}
	return -EINVAL;
}

struct xp_config cap_xp_cfg(const struct cap_cfg *c, enum cap_ingress path)
{
	return (struct xp_config){
		.snaplen = c->snaplen,
		.ingress = c->mode == CAP_MODE_INGRESS || c->mode == CAP_MODE_BIDIRECTIONAL,
		.egress = c->mode == CAP_MODE_EGRESS || c->mode == CAP_MODE_BIDIRECTIONAL,
		.transparent = path == CAP_INGRESS_TRANSPARENT,
		.ringbuf = path == CAP_INGRESS_RINGBUF,
	};
}

/* pcapng statistics blocks: the kernel side of the counters, by direction.
 * Runs in the writer thread, which other threads may be waiting for while
 * they hold c->lock: it never waits for that lock (a block without counters
 * then, as the writer allows). */
static bool isb_stats(void *arg, unsigned int ifid, struct wr_if_stats *w)
{
	struct cap *c = arg;
	struct cap_stats st;
	uint64_t drop;

	if (pthread_mutex_trylock(&c->lock))
		return false;
	cap_kernel_stats_locked(c, &st);
	pthread_mutex_unlock(&c->lock);
	memset(w, 0, sizeof(*w));
	if (ifid == 0) {
		drop = st.redirect_failed + st.rb_full_in + st.xsk_rx_dropped + st.xsk_rx_ring_full;
		w->ifrecv = st.seen_in;
		w->filteraccept = st.matched_in;
	} else {
		drop = st.rb_full_out;
		w->ifrecv = st.seen_out;
		w->filteraccept = st.matched_out;
	}
	w->osdrop = drop;
	w->usrdeliv = w->filteraccept > drop ? w->filteraccept - drop : 0;
	return true;
}

int cap_wr_open(struct cap_core *k, struct cap *c, const struct cap_cfg *cfg,
		uint32_t linktype, struct wr_writer **out, char *err, size_t errlen)
{
	bool rotating = cfg->rotate_bytes || cfg->rotate_seconds;
	char path[PATH_MAX + 8];
	int ret;

	cap_dump_file(cfg->dump, cfg->format, path, sizeof(path));
	struct wr_opts wo = {
		.path = rotating ? NULL : path,
		.prefix = rotating ? cfg->dump : NULL,
		/* The header's snaplen must cover any later snaplen change,
		 * or readers would cut records short. */
		.snaplen = FG_SNAPLEN_MAX,
		.backend = (enum wr_backend)k->dp.writer_backend,
		.network = cfg->network,
		.net_buffer_bytes = k->dp.net_buffer_bytes,
		/* 1 MiB buffers (the writer's): the pool in whole buffers */
		.nbufs = (uint32_t)((k->dp.write_buffer_bytes ? k->dp.write_buffer_bytes
							  : CAP_WRITE_BUFFER_DEFAULT) >> 20),
		.linktype = linktype,
		.file_mode = k->file_mode,
		.file_gid = k->file_group_set ? k->file_gid : (gid_t)-1,
		.rotate_bytes = cfg->rotate_bytes,
		.rotate_seconds = cfg->rotate_seconds,
		.retain_bytes = cfg->retain_bytes,
		.retain_files = cfg->retain_files,
		.min_free_pct = cfg->min_free_pct,
		.may_delete = rotating ? k->dp.may_delete : NULL,
		.may_delete_arg = k->dp.may_delete_arg,
		.keep_archived = rotating && k->dp.may_delete && k->dp.keep_archived,
		.keep_archived_bytes = k->dp.keep_archived_bytes,
		.thread_init = cap_writer_thread,
		.format = cfg->format == CAP_FMT_PCAPNG ? WR_FMT_PCAPNG : WR_FMT_PCAP,
		.if_name = cfg->iface,
		.filter = cfg->filter,
		.if_stats = isb_stats,
		.if_stats_arg = c,
		.reorder_ns = k->dp.reorder_ns == UINT32_MAX ? 0
			      : k->dp.reorder_ns	    ? k->dp.reorder_ns
							    : CAP_REORDER_DEFAULT_NS,
	};
	ret = wr_open(&wo, out);
	if (ret) {
		if (ret == -ELOOP || ret == -EPERM || ret == -EISDIR)
			snprintf(err, errlen, "dump: %s exists and is not a regular file "
				 "(a link, folder, FIFO or device): refused, nothing changed",
				 rotating ? cfg->dump : path);
		else
			snprintf(err, errlen, "dump: can't create %s: %s",
				 rotating ? cfg->dump : path, strerror(-ret));
		*out = NULL;
	}
	return ret;
}

int cap_dp_attach(struct cap_core *k, const struct cap_cfg *cfg, bool force_transparent,
		  const struct xp_elf *elf, struct cap_dp *dp, char *err, size_t errlen)
{
	const struct cap_opts *o = &k->dp;
	struct xp_info info;
	char msg[512];
	int ret;

	memset(dp, 0, sizeof(*dp));
	dp->path = cap_ingress_choose(k, cfg, force_transparent, dp->why, sizeof(dp->why));
	if (dp->path == CAP_INGRESS_AFXDP) {
		ret = xsk_check_mtu(cfg->iface, err, errlen);
		if (ret)
			return ret;
	}
	if (dp->path == CAP_INGRESS_AUTO && xsk_check_mtu(cfg->iface, msg, sizeof(msg))) {
		/* frames larger than a UMEM frame: only the ring buffer takes them */
		dp->path = CAP_INGRESS_RINGBUF;
		snprintf(dp->why, sizeof(dp->why), "%s is a capture port whose MTU is too large "
			 "for AF_XDP frames", cfg->iface);
	}
	/* Attach with the capture off: the sockets go into the XSKMAP first,
	 * so no matching frame finds a queue without its socket. */
	struct xp_opts xo = {
		.ifname = cfg->iface,
		.xdp_mode = (enum xp_xdp_mode)o->xdp_mode,
		.cfg = { .snaplen = cfg->snaplen },
		.rb_size = o->rb_size,
		.run_dir = o->run_dir,
		.log = k->log,
		.log_arg = k->log_arg,
	};
	msg[0] = 0;
	ret = xp_open_elf(&xo, elf, &dp->xp, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "%s", msg[0] ? msg : strerror(-ret));
		dp->xp = NULL;
		goto out;
	}
	xp_info(dp->xp, &info);
	dp->xdp_native = info.xdp_native;
	dp->rx_queues = info.rx_queues;
	return 0;
out:
	cap_dp_close(dp);
	return ret;
}

/* The consumers, feeding wr; then the config map turns capture on. */
int cap_dp_start(struct cap_core *k, const struct cap_cfg *cfg, struct cap_dp *dp,
		 struct wr_writer *wr, char *err, size_t errlen)
{
	const struct cap_opts *o = &k->dp;
	int ret;

	if (dp->path == CAP_INGRESS_AFXDP || dp->path == CAP_INGRESS_AUTO) {
		struct xsk_opts so = {
			.ifname = cfg->iface,
			.queues = dp->rx_queues,
			.xsks_map_fd = xp_xsks_fd(dp->xp),
			.writer = wr,
			/* auto: AF_XDP only where it is zero-copy */
			.bind = dp->path == CAP_INGRESS_AUTO ? XSK_BIND_ZEROCOPY
							      : (enum xsk_bind)o->bind,
			.ts_clock = XSK_TS_TAI,
			.ring_size = o->ring_size,
			.batch = o->batch,
			.no_pin = o->no_pin,
		};
		char zc_err[256];

		ret = xsk_set_open(&so, &dp->xsk, dp->path == CAP_INGRESS_AUTO ? zc_err : err,
				   dp->path == CAP_INGRESS_AUTO ? sizeof(zc_err) : errlen);
		if (ret && dp->path == CAP_INGRESS_AFXDP)
			goto out;
		if (ret) {
			/* measured: on copy-mode drivers the ring-buffer path
			 * captured about 1.5x the AF_XDP rate (afxdp/README.md) */
			dp->path = CAP_INGRESS_RINGBUF;
			dp->xsk = NULL;
			snprintf(dp->why, sizeof(dp->why), "%s is a capture port without AF_XDP "
				 "zero-copy: the ring buffer is the faster path there", cfg->iface);
		} else if (dp->path == CAP_INGRESS_AUTO) {
			dp->path = CAP_INGRESS_AFXDP;
			snprintf(dp->why, sizeof(dp->why), "%s is a capture port with AF_XDP "
				 "zero-copy", cfg->iface);
		} else if (!xsk_set_zerocopy(dp->xsk)) {
			cap_log(k, "%s: AF_XDP in copy mode (no zero-copy); on such drivers "
				   "--ingress-path ringbuf (or auto) captures faster", cfg->iface);
		}
	}
	struct xsk_rb_opts ro = {
		.ringbuf_map_fd = xp_rb_fd(dp->xp),
		.writer = wr,
		.ts_clock = XSK_TS_TAI,
	};
	ret = xsk_rb_open(&ro, &dp->rb);
	if (ret) {
		snprintf(err, errlen, "ring buffer consumer: %s", strerror(-ret));
		goto out;
	}
	struct xp_config xc = cap_xp_cfg(cfg, dp->path);
	ret = xp_set_config(dp->xp, &xc);
	if (ret) {
		snprintf(err, errlen, "config map: %s", strerror(-ret));
		goto out;
	}
	return 0;
out:
	/* back to attached only */
	xsk_set_close(dp->xsk);
	dp->xsk = NULL;
	xsk_rb_close(dp->rb);
	dp->rb = NULL;
	return ret;
}

void cap_dp_stop(struct cap_dp *dp)
{
	struct xp_config off = { 0 };

	/* Stop taking packets; let programs already running finish (a NAPI
	 * poll flushes its redirects before it ends); then drain the rings. */
	xp_get_config(dp->xp, &off);
	off.ingress = off.egress = false;
	xp_set_config(dp->xp, &off);
	usleep(20000);
	xsk_set_stop(dp->xsk);
	xsk_rb_stop(dp->rb);
}

void cap_dp_close(struct cap_dp *dp)
{
	/* Detach before the sockets go (closing a bound socket under a live
	 * program is what the pitfalls warn about). */
	xp_close(dp->xp);
	xsk_set_close(dp->xsk);
	xsk_rb_close(dp->rb);
	memset(dp, 0, sizeof(*dp));
}
