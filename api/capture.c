/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One capture: filtergen -> xdp/ (XDP + TC programs) -> afxdp/ (a worker per
 * RX queue, the ring-buffer consumer) -> writer/.
 *
 * The filter is compiled with FG_SNAPLEN_MAX, so the filter's result is
 * "match or not" and the snaplen lives in the config map: a snaplen or mode
 * change is one map update, a filter change one program replacement; the
 * workers are never restarted.
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "afxdp/afxdp.h"
#include "api/capture.h"
#include "filtergen/filtergen.h"
#include "writer/writer.h"
#include "xdp/xp.h"

struct api_capture {
	/* set_lock serialises changes (held through a filter build, seconds);
	 * lock guards cfg and is all that get and stats wait for. */
	pthread_mutex_t set_lock;
	pthread_mutex_t lock;
	struct api_capture_cfg cfg;
	struct api_capture_opts opts;
	struct xp *xp;
	struct xp_elf elf;    /* the programs attached now: the rollback of a set */
	struct wr_writer *wr;
	struct xsk_set *xsk;  /* NULL in transparent mode */
	struct xsk_rb *rb;
	bool xdp_native;
	api_capture_final_fn final_fn;
	void *final_arg;
};

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

static struct xp_config xp_cfg_of(const struct api_capture_cfg *c)
{
	return (struct xp_config){
		.snaplen = c->snaplen,
		.ingress = c->mode == API_MODE_INGRESS || c->mode == API_MODE_BIDIRECTIONAL,
		.egress = c->mode == API_MODE_EGRESS || c->mode == API_MODE_BIDIRECTIONAL,
		.transparent = c->transparent,
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

static int check_cfg(const struct api_capture_cfg *c, unsigned int fields, char *err,
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

static int build_filter_niced(const char *expr, struct xp_elf *elf, char *err,
			      size_t errlen);

/* Filter text -> built programs (libpcap, then clang). Nothing attached.
 * clang runs niced (the child inherits this thread's nice value): a filter
 * change on a small box must not starve the capture workers. */
static int build_filter(const char *expr, struct xp_elf *elf, char *err, size_t errlen)
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

static void dump_file(const char *dump, char *out, size_t len)
{
	snprintf(out, len, "%s.pcap", dump);
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
	ret = check_cfg(cfg, API_F_MODE | API_F_SNAPLEN | API_F_DUMP, err, errlen);
	if (ret)
		return ret;
	if (!cfg->transparent) {
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

	ret = build_filter(cfg->filter, &c->elf, err, errlen);
	if (ret)
		goto out;

	/* Attach with the capture off: the sockets go into the XSKMAP first,
	 * so no matching frame finds a queue without its socket. */
	struct xp_opts xo = {
		.ifname = cfg->iface,
		.xdp_mode = (enum xp_xdp_mode)opts->xdp_mode,
		.cfg = { .snaplen = cfg->snaplen },
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
	dump_file(cfg->dump, path, sizeof(path));
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

	if (!cfg->transparent) {
		struct xsk_opts so = {
			.ifname = cfg->iface,
			.queues = info.rx_queues,
			.xsks_map_fd = xp_xsks_fd(c->xp),
			.writer = c->wr,
			.bind = (enum xsk_bind)opts->bind,
			.ts_clock = XSK_TS_TAI,
			.ring_size = opts->ring_size,
			.no_pin = opts->no_pin,
		};
		ret = xsk_set_open(&so, &c->xsk, err, errlen);
		if (ret)
			goto out;
		if (!xsk_set_zerocopy(c->xsk)) {
			snprintf(msg, sizeof(msg), "%s: AF_XDP in copy mode (no zero-copy)",
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
	struct xp_config xc = xp_cfg_of(cfg);
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

static void stats_locked(struct api_capture *c, struct api_capture_stats *st)
{
	uint64_t k[CA_CNT_MAX] = { 0 };
	struct xsk_stats xs = { 0 };
	struct xsk_rb_stats rs = { 0 };
	struct wr_stats ws = { 0 };

	memset(st, 0, sizeof(*st));
	xp_counters(c->xp, k);
	if (c->xsk)
		xsk_set_stats(c->xsk, &xs);
	xsk_rb_stats(c->rb, &rs);
	wr_get_stats(c->wr, &ws);

	st->seen = k[CA_CNT_RX_SEEN] + k[CA_CNT_TX_SEEN];
	st->matched = k[CA_CNT_RX_MATCHED] + k[CA_CNT_TX_MATCHED];
	st->redirected = k[CA_CNT_RX_REDIRECTED];
	st->redirect_failed = k[CA_CNT_RX_NO_XSK] + k[CA_CNT_RX_META_FAIL];
	st->rb_full = k[CA_CNT_RX_RB_FULL] + k[CA_CNT_TX_RB_FULL];
	st->xsk_rx_dropped = xs.rx_dropped;
	st->xsk_rx_ring_full = xs.rx_ring_full;
	st->xsk_fill_ring_empty = xs.rx_fill_ring_empty;
	st->xsk_rx_invalid = xs.rx_invalid_descs;
	st->received = xs.received + rs.received;
	st->bad_meta = xs.bad_meta + rs.bad_meta;
	/* wr_put refusals, counted by our producers (the writer's own
	 * dropped_behind counts the same refusals). */
	st->writer_behind = xs.writer_behind + rs.writer_behind;
	st->write_errors = ws.write_errors;
	st->net_dropped = ws.net_dropped;
	/* In the file (or the network backlog). Records still in a producer's
	 * buffer (at most flush_ms old) are in neither written nor dropped. */
	st->written = ws.records;
	st->bytes_written = ws.bytes;
	st->queues = c->xsk ? xs.queues : 0;
	st->xdp_native = c->xdp_native;
	st->zerocopy = c->xsk && xs.zerocopy;
	st->dropped = st->redirect_failed + st->rb_full + st->xsk_rx_dropped +
		      st->xsk_rx_ring_full + st->bad_meta + st->writer_behind + st->write_errors;
}

int api_capture_stats(struct api_capture *c, struct api_capture_stats *st)
{
	pthread_mutex_lock(&c->lock);
	stats_locked(c, st);
	pthread_mutex_unlock(&c->lock);
	return 0;
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
	ret = check_cfg(&next, fields, err, errlen);
	if (ret)
		goto out;
	if (fields & API_F_FILTER) {
		ret = build_filter(next.filter, &elf, err, errlen);
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
		dump_file(next.dump, path, sizeof(path));
		ret = wr_reopen(c->wr, path);
		if (ret) {
			snprintf(err, errlen, "dump: can't create %s: %s", path, strerror(-ret));
			goto undo;
		}
	}
	if (fields & (API_F_MODE | API_F_SNAPLEN)) {
		struct xp_config xc = xp_cfg_of(&next);

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

/* After the streams are flushed every record is with the writer thread; wait
 * (bounded) until it has written them, so the final counters are final. */
static void wait_writer(struct api_capture *c)
{
	struct xsk_stats xs = { 0 };
	struct xsk_rb_stats rs = { 0 };
	struct wr_stats ws;
	int i;

	if (c->xsk)
		xsk_set_stats(c->xsk, &xs);
	xsk_rb_stats(c->rb, &rs);
	for (i = 0; i < 500; i++) {
		if (wr_get_stats(c->wr, &ws) ||
		    ws.records + ws.write_errors >= xs.written + rs.written)
			return;
		usleep(10000);
	}
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
	wait_writer(c);
	stats_locked(c, &st);
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
