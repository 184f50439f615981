/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Counters of a capture. A read never shows a later stage ahead of an
 * earlier one (written <= matched <= seen): the stages are read in the
 * reverse of the order a frame passes them, and seen is read last.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/internal.h"
#include "writer/writer.h"

void cap_stats_add(struct cap_stats *to, const struct cap_stats *f)
{
	to->seen += f->seen;
	to->matched += f->matched;
	to->seen_in += f->seen_in;
	to->seen_out += f->seen_out;
	to->matched_in += f->matched_in;
	to->matched_out += f->matched_out;
	to->redirected += f->redirected;
	to->redirect_failed += f->redirect_failed;
	to->rb_full += f->rb_full;
	to->rb_full_in += f->rb_full_in;
	to->rb_full_out += f->rb_full_out;
	to->xsk_rx_dropped += f->xsk_rx_dropped;
	to->xsk_rx_ring_full += f->xsk_rx_ring_full;
	to->xsk_fill_ring_empty += f->xsk_fill_ring_empty;
	to->xsk_rx_invalid += f->xsk_rx_invalid;
	to->received += f->received;
	to->writer_behind += f->writer_behind;
	to->bad_meta += f->bad_meta;
}

/* The data path's own counters (kernel, rings, producers); the writer's
 * fields are left alone. */
static void dp_stats(const struct cap_dp *dp, struct cap_stats *st)
{
	uint64_t k[CA_CNT_MAX] = { 0 }, again[CA_CNT_MAX] = { 0 };
	struct xsk_stats xs = { 0 };
	struct xsk_rb_stats rs = { 0 };

	if (dp->xsk)
		xsk_set_stats(dp->xsk, &xs);
	xsk_rb_stats(dp->rb, &rs);
	xp_counters(dp->xp, k);
	/* seen from a second read, so that it covers every frame matched
	 * in the first one */
	xp_counters(dp->xp, again);

	st->seen_in = again[CA_CNT_RX_SEEN];
	st->seen_out = again[CA_CNT_TX_SEEN];
	st->matched_in = k[CA_CNT_RX_MATCHED];
	st->matched_out = k[CA_CNT_TX_MATCHED];
	st->seen = st->seen_in + st->seen_out;
	st->matched = st->matched_in + st->matched_out;
	st->redirected = k[CA_CNT_RX_REDIRECTED];
	st->redirect_failed = k[CA_CNT_RX_NO_XSK] + k[CA_CNT_RX_META_FAIL];
	st->rb_full_in = k[CA_CNT_RX_RB_FULL];
	st->rb_full_out = k[CA_CNT_TX_RB_FULL];
	st->rb_full = st->rb_full_in + st->rb_full_out;
	st->xsk_rx_dropped = xs.rx_dropped;
	st->xsk_rx_ring_full = xs.rx_ring_full;
	st->xsk_fill_ring_empty = xs.rx_fill_ring_empty;
	st->xsk_rx_invalid = xs.rx_invalid_descs;
	st->received = xs.received + rs.received;
	st->bad_meta = xs.bad_meta + rs.bad_meta;
	/* wr_put refusals, counted by our producers (the writer's own
	 * dropped_behind counts the same refusals). */
	st->writer_behind = xs.writer_behind + rs.writer_behind;
	st->queues = dp->xsk ? xs.queues : 0;
	st->xdp_native = dp->xdp_native;
	st->zerocopy = dp->xsk && xs.zerocopy;
}

void cap_stats_retire(struct cap *c, const struct cap_dp *dp)
{
	struct cap_stats st = { 0 };

	dp_stats(dp, &st);
	cap_stats_add(&c->base, &st);
	c->base_put += cap_dp_put(dp);
}

void cap_dp_stats(const struct cap_dp *dp, struct wr_writer *wr, struct cap_stats *st)
{
	struct wr_stats ws = { 0 };

	memset(st, 0, sizeof(*st));
	/* the writer first: what it has written was matched before */
	wr_get_stats(wr, &ws);
	if (dp->xp)
		dp_stats(dp, st);
	st->write_errors = ws.write_errors;
	st->write_error = ws.first_error;
	st->net_dropped = ws.net_dropped;
	st->late = ws.late;
	/* In the file (or the network backlog). Records still in a producer's
	 * buffer (at most flush_ms old) are in neither written nor dropped. */
	st->written = ws.records;
	st->bytes_written = ws.bytes;
}

void cap_kernel_stats_locked(struct cap *c, struct cap_stats *st)
{
	if (c->state == CAP_CLOSED) {
		*st = c->final;
		return;
	}
	memset(st, 0, sizeof(*st));
	if (c->dp.xp)
		dp_stats(&c->dp, st);
	cap_stats_add(st, &c->base);
}

/* With c->lock held. */
void cap_stats_locked(struct cap *c, struct cap_stats *st)
{
	if (c->state == CAP_CLOSED) {
		*st = c->final;
		return;
	}
	cap_dp_stats(&c->dp, c->wr, st);
	cap_stats_add(st, &c->base);
	st->dropped = st->redirect_failed + st->rb_full + st->xsk_rx_dropped +
		      st->xsk_rx_ring_full + st->bad_meta + st->writer_behind + st->write_errors;
}

uint64_t cap_dp_put(const struct cap_dp *dp)
{
	struct xsk_stats xs = { 0 };
	struct xsk_rb_stats rs = { 0 };

	if (dp->xsk)
		xsk_set_stats(dp->xsk, &xs);
	if (dp->rb)
		xsk_rb_stats(dp->rb, &rs);
	return xs.written + rs.written;
}

/* After the streams are flushed every record is with the writer thread; wait
 * (bounded) until it has written them, so the final counters are final.
 * Called by the one thread that changes the data path (no lock held). */
void cap_wait_writer(struct cap *c)
{
	uint64_t put = c->base_put + cap_dp_put(&c->dp);
	struct wr_stats ws;
	int i;

	for (i = 0; i < 500; i++) {
		if (wr_get_stats(c->wr, &ws) || ws.records + ws.write_errors >= put)
			return;
		usleep(10000);
	}
}

void cap_log_started(struct cap_core *k, struct cap *c)
{
	struct cap_stats st;
	struct cap_cfg *cfg = &c->cfg;
	char q[64] = "";

	pthread_mutex_lock(&c->lock);
	cap_stats_locked(c, &st);
	if (c->dp.xsk)
		snprintf(q, sizeof(q), " %s, %u queue%s", st.zerocopy ? "zero-copy" : "copy mode",
			 st.queues, st.queues == 1 ? "" : "s");
	cap_log(k, "capture %s on %s: XDP %s mode, ingress via %s%s (%s); mode %s, "
		   "filter '%s', snaplen %u, %s %s.pcap",
		cfg->name, cfg->iface, st.xdp_native ? "native" : "generic (SKB)",
		c->dp.path == CAP_INGRESS_TRANSPARENT ? "ring buffer (transparent: every "
							"frame goes on)"
		: c->dp.xsk ? "AF_XDP"
			    : "ring buffer (ringbuf path, frames consumed)",
		q, c->dp.why, cap_mode_name(cfg->mode), cfg->filter, cfg->snaplen,
		cfg->network ? "network mode, file" : "writing", cfg->dump);
	pthread_mutex_unlock(&c->lock);
}
