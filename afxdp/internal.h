/* SPDX-License-Identifier: BSD-2-Clause */
/* afxdp internals shared by its source files (not part of the interface). */
#ifndef AFXDP_INTERNAL_H
#define AFXDP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <xdp/xsk.h>

#include "afxdp/afxdp.h"
#include "writer/writer.h"

/* Counters written by one thread only (relaxed stores), read by anyone. */
struct xsk_counters {
	_Atomic uint64_t received;
	_Atomic uint64_t written;
	_Atomic uint64_t writer_behind;
	_Atomic uint64_t bad_meta;
	_Atomic uint64_t bytes;
};

static inline void xsk_cnt_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t xsk_cnt_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* What one batch delivered; added to the counters once per batch. */
struct xsk_tally {
	uint64_t written, behind, bad, bytes;
};

/* One record on its way to the writer, the same for AF_XDP frames and ring
 * buffer records: cut to the snaplen in force now (a change reaches records
 * already in the rings), wall-clock stamp, wr_put. Never waits. */
static inline void xsk_deliver(struct wr_stream *s, const struct xsk_clock *clk,
			       struct wr_rec *r, uint32_t snap, struct xsk_tally *t)
{
	if (snap && r->cap_len > snap)
		r->cap_len = snap;
	r->ts_ns = xsk_clock_wall(clk, r->ts_ns);
	if (wr_put(s, r)) {
		t->behind++; /* -ENOBUFS: the writer is behind */
		return;
	}
	t->written++;
	t->bytes += r->cap_len;
}

static inline void xsk_tally_add(struct xsk_counters *c, uint64_t received,
				 const struct xsk_tally *t)
{
	xsk_cnt_add(&c->received, received);
	xsk_cnt_add(&c->written, t->written);
	xsk_cnt_add(&c->writer_behind, t->behind);
	xsk_cnt_add(&c->bad_meta, t->bad);
	xsk_cnt_add(&c->bytes, t->bytes);
}

/* One RX queue: its UMEM, socket, rings and worker. */
struct xsk_q {
	struct xsk_set *set;
	unsigned int id;
	void *area; /* UMEM memory, ring_size frames of XSK_FRAME_SIZE */
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct wr_stream *stream;
	bool zerocopy;
	bool in_map;
	bool started;
	int cpu; /* -1: not pinned */
	pthread_t thread;
	struct xsk_counters cnt;
};

struct xsk_set {
	struct xsk_opts o;
	char ifname[64];
	unsigned int nq;
	struct xsk_q *q;
	int stop_fd; /* eventfd: readable once the workers must stop */
	_Atomic bool stop;
	bool stopped; /* xsk_set_stop done */
	_Atomic uint32_t snaplen;
};

/* socket.c */
int xsk_q_open(struct xsk_set *s, struct xsk_q *q, char *err, size_t errlen);
void xsk_q_close(struct xsk_q *q);
int xsk_q_xdp_stats(struct xsk_q *q, struct xdp_statistics *st);

/* worker.c */
void *xsk_worker_main(void *arg);

/* meta.c: frame/record metadata of ca_shared.h -> wr_rec. Returns false if
 * the metadata makes no sense for a frame of len bytes. */
bool xsk_meta_frame(const void *data, uint32_t len, struct wr_rec *r);
bool xsk_meta_record(const void *rec, size_t size, struct wr_rec *r);

#endif
