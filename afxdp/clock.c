/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel timestamps (taken in the BPF program) -> wall-clock time. */
#include <stdint.h>
#include <time.h>

#include "afxdp/afxdp.h"

static clockid_t clock_id(enum xsk_ts_clock c)
{
	switch (c) {
	case XSK_TS_MONOTONIC:
		return CLOCK_MONOTONIC;
	case XSK_TS_BOOTTIME:
		return CLOCK_BOOTTIME;
	default:
		return CLOCK_TAI;
	}
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

void xsk_clock_init(struct xsk_clock *c, enum xsk_ts_clock clock)
{
	c->clock = clock;
	c->refreshed_ns = 0;
	xsk_clock_tick(c);
}

void xsk_clock_tick(struct xsk_clock *c)
{
	struct timespec k1, w, k2;
	int64_t best = INT64_MAX, win;
	int i;

	clock_gettime(clock_id(c->clock), &k1);
	if (c->refreshed_ns && (uint64_t)ns(&k1) - c->refreshed_ns < 1000000000ULL)
		return;
	/* Sandwich the wall-clock read between two kernel-clock reads and use
	 * their midpoint; of three tries keep the tightest sandwich, so a
	 * preemption in the middle of one doesn't skew the offset. */
	for (i = 0; i < 3; i++) {
		clock_gettime(clock_id(c->clock), &k1);
		clock_gettime(CLOCK_REALTIME, &w);
		clock_gettime(clock_id(c->clock), &k2);
		win = ns(&k2) - ns(&k1);
		if (win < best) {
			best = win;
			c->offset_ns = ns(&w) - (ns(&k1) + win / 2);
		}
	}
	c->refreshed_ns = (uint64_t)ns(&k2);
}
