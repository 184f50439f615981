/* SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>

#include "writer/wr_queue.h"

struct wr_qslot {
	_Atomic uint64_t seq;
	uint32_t val;
};

int wr_queue_init(struct wr_queue *q, uint32_t cap)
{
	uint32_t n = 2;

	while (n < cap)
		n <<= 1;
	q->slots = calloc(n, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		atomic_init(&q->slots[i].seq, i);
	q->mask = n - 1;
	atomic_init(&q->tail, 0);
	atomic_init(&q->head, 0);
	return 0;
}

void wr_queue_fini(struct wr_queue *q)
{
	free(q->slots);
	q->slots = NULL;
}

bool wr_queue_push(struct wr_queue *q, uint32_t v)
{
	uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);

	for (;;) {
		struct wr_qslot *s = &q->slots[pos & q->mask];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t d = (int64_t)(seq - pos);

		if (d == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				s->val = v;
				atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
				return true;
			}
		} else if (d < 0) {
			return false; /* full */
		} else {
			pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
		}
	}
}

bool wr_queue_pop(struct wr_queue *q, uint32_t *v)
{
	uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);

	for (;;) {
		struct wr_qslot *s = &q->slots[pos & q->mask];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t d = (int64_t)(seq - (pos + 1));

		if (d == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*v = s->val;
				atomic_store_explicit(&s->seq, pos + q->mask + 1,
						      memory_order_release);
				return true;
			}
		} else if (d < 0) {
			return false; /* empty */
		} else {
			pos = atomic_load_explicit(&q->head, memory_order_relaxed);
		}
	}
}

bool wr_queue_empty(struct wr_queue *q)
{
	/* tail counts claimed slots, so a push still in progress counts */
	return atomic_load_explicit(&q->tail, memory_order_acquire) ==
	       atomic_load_explicit(&q->head, memory_order_acquire);
}

uint32_t wr_queue_count(struct wr_queue *q)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);

	return t > h ? (uint32_t)(t - h) : 0;
}
