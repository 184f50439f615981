/* SPDX-License-Identifier: BSD-2-Clause */
/* The per-queue worker: RX ring -> metadata -> wr_put -> fill ring. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>

#include "afxdp/internal.h"

/* Frames ahead whose metadata line is prefetched. */
#define XSK_PREFETCH 4u

static inline void prefetch_meta(struct xsk_q *q, uint32_t idx)
{
	const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx);

	__builtin_prefetch((const uint8_t *)xsk_umem__get_data(q->area, d->addr) - 16);
}

/* Takes up to batch frames from the RX ring, hands them to the writer and
 * gives the frames straight back to the fill ring (never held across I/O).
 * Returns the number of frames taken. */
static uint32_t rx_batch(struct xsk_q *q, struct xsk_clock *clk, uint32_t batch)
{
	uint32_t idx_rx = 0, idx_fq = 0, n, i, snap;
	struct xsk_tally t = { 0 };
	struct wr_rec r;

	n = xsk_ring_cons__peek(&q->rx, batch, &idx_rx);
	if (!n)
		return 0;
	snap = atomic_load_explicit(&q->set->snaplen, memory_order_relaxed);
	/* The first read of a frame (its metadata, written by the kernel on
	 * another CPU) is a cache miss: start it a few frames ahead. */
	for (i = 0; i < n && i < XSK_PREFETCH; i++)
		prefetch_meta(q, idx_rx + i);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx_rx + i);
		const uint8_t *data = xsk_umem__get_data(q->area, d->addr);

		if (i + XSK_PREFETCH < n)
			prefetch_meta(q, idx_rx + i + XSK_PREFETCH);

		if (!xsk_meta_frame(data, d->len, &r)) {
			t.bad++;
			continue;
		}
		xsk_deliver(q->stream, clk, &r, snap, &t);
	}
	/* The fill ring has room for every frame of the UMEM, so this can't
	 * come up short. */
	while (xsk_ring_prod__reserve(&q->fq, n, &idx_fq) != n)
		sched_yield();
	for (i = 0; i < n; i++) {
		uint64_t a = xsk_ring_cons__rx_desc(&q->rx, idx_rx + i)->addr;

		*xsk_ring_prod__fill_addr(&q->fq, idx_fq + i) = a - a % XSK_FRAME_SIZE;
	}
	xsk_ring_prod__submit(&q->fq, n);
	xsk_ring_cons__release(&q->rx, n);
	if (xsk_ring_prod__needs_wakeup(&q->fq))
		recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);

	xsk_tally_add(&q->cnt, n, &t);
	return n;
}

static void pin(struct xsk_q *q)
{
	cpu_set_t cs;

	if (q->cpu < 0)
		return;
	CPU_ZERO(&cs);
	CPU_SET(q->cpu, &cs);
	/* Best effort: a restricted cpuset just leaves the thread floating. */
	pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
}

void *xsk_worker_main(void *arg)
{
	struct xsk_q *q = arg;
	struct xsk_set *s = q->set;
	uint32_t batch = s->o.batch;
	struct pollfd pfd[2] = {
		{ .fd = xsk_socket__fd(q->xsk), .events = POLLIN },
		{ .fd = s->stop_fd, .events = POLLIN },
	};
	struct xsk_clock clk;
	char name[16];

	snprintf(name, sizeof(name), "ca-xsk-q%u", q->id); /* for top -H, perf */
	pthread_setname_np(pthread_self(), name);
	pin(q);
	xsk_clock_init(&clk, s->o.ts_clock);
	while (!atomic_load(&s->stop)) {
		if (rx_batch(q, &clk, batch)) {
			wr_stream_flush(q->stream, false);
			xsk_clock_tick(&clk);
			continue;
		}
		poll(pfd, 2, s->o.poll_ms);
		wr_stream_flush(q->stream, false);
		xsk_clock_tick(&clk);
	}
	/* The XDP program is detached by now: take what is left. */
	while (rx_batch(q, &clk, batch))
		;
	wr_stream_flush(q->stream, true);
	return NULL;
}
