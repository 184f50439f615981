/* SPDX-License-Identifier: BSD-2-Clause */
/* Counters of a capture, and waiting for them to become final. */
#include <string.h>
#include <unistd.h>

#include "api/capture_int.h"
#include "writer/writer.h"

void api_cap_stats_locked(struct api_capture *c, struct api_capture_stats *st)
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
	st->write_error = ws.first_error;
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
	api_cap_stats_locked(c, st);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* After the streams are flushed every record is with the writer thread; wait
 * (bounded) until it has written them, so the final counters are final. */
void api_cap_wait_writer(struct api_capture *c)
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
