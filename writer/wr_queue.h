/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bounded lock-free MPMC queue of buffer indices (Vyukov's sequence-number
 * ring). Used for the free pool and for the hand-over of full buffers: a
 * producer never waits on a lock, it either gets a slot or fails at once.
 */
#ifndef WR_QUEUE_H
#define WR_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct wr_qslot;

struct wr_queue {
	struct wr_qslot *slots;
	uint32_t mask;
	/* head/tail on their own cache lines: producers and the consumer
	 * touch different ones */
	_Alignas(64) _Atomic uint64_t tail; /* next push */
	_Alignas(64) _Atomic uint64_t head; /* next pop */
};

/* Capacity is rounded up to a power of two (at least cap). */
int wr_queue_init(struct wr_queue *q, uint32_t cap);
void wr_queue_fini(struct wr_queue *q);
bool wr_queue_push(struct wr_queue *q, uint32_t v);
bool wr_queue_pop(struct wr_queue *q, uint32_t *v);
/* No element pushed or being pushed is left (for the single consumer). */
bool wr_queue_empty(struct wr_queue *q);
/* Elements in the queue now (a snapshot; others may push or pop). */
uint32_t wr_queue_count(struct wr_queue *q);

#endif
