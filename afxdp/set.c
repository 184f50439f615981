/* SPDX-License-Identifier: BSD-2-Clause */
/* The set of per-queue sockets and workers of one interface. */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "afxdp/internal.h"

static void set_free(struct xsk_set *s)
{
	unsigned int i;

	for (i = 0; s->q && i < s->nq; i++) {
		xsk_q_close(&s->q[i]);
		if (s->q[i].stream)
			wr_stream_free(s->q[i].stream);
	}
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s->q);
	free(s);
}

/* The n-th CPU (0-based) of the process's affinity mask, so worker q goes to
 * the q-th CPU taskset allowed; -1 if the mask has fewer CPUs. */
static int nth_allowed_cpu(unsigned int n)
{
	cpu_set_t cs;
	int cpu;

	if (sched_getaffinity(0, sizeof(cs), &cs))
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &cs) && n-- == 0)
			return cpu;
	return -1;
}

static void stop_workers(struct xsk_set *s)
{
	uint64_t one = 1;
	unsigned int i;

	atomic_store(&s->stop, true);
	if (write(s->stop_fd, &one, sizeof(one)) < 0) {
		/* Can't fail for an eventfd below its max; the poll timeout
		 * would catch the stop flag anyway. */
	}
	for (i = 0; i < s->nq; i++)
		if (s->q[i].started)
			pthread_join(s->q[i].thread, NULL);
	for (i = 0; i < s->nq; i++)
		s->q[i].started = false;
}

int xsk_set_open(const struct xsk_opts *o, struct xsk_set **out, char *err, size_t errlen)
{
	struct xsk_set *s;
	cpu_set_t allowed;
	long ncpu = sched_getaffinity(0, sizeof(allowed), &allowed) ? 0 : CPU_COUNT(&allowed);
	unsigned int i, nq = o->queues;
	char drv[32];
	bool pin;
	int ret;

	*out = NULL;
	if (!o->ifname || !o->writer || o->xsks_map_fd < 0) {
		snprintf(err, errlen, "afxdp: interface, writer and XSKMAP are required");
		return -EINVAL;
	}
	if (!if_nametoindex(o->ifname)) {
		snprintf(err, errlen, "%s: no such interface", o->ifname);
		return -ENODEV;
	}
	if (o->ring_size && (o->ring_size & (o->ring_size - 1))) {
		snprintf(err, errlen, "afxdp: ring size %u is not a power of 2", o->ring_size);
		return -EINVAL;
	}
	ret = xsk_check_mtu(o->ifname, err, errlen);
	if (ret)
		return ret;
	if (!nq) {
		ret = xsk_iface_queues(o->ifname, &nq);
		if (ret) {
			snprintf(err, errlen, "%s: can't count RX queues: %s", o->ifname,
				 strerror(-ret));
			return ret;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	snprintf(s->ifname, sizeof(s->ifname), "%s", o->ifname);
	s->o.ifname = s->ifname;
	if (!s->o.ring_size)
		s->o.ring_size = XSK_RING_DEFAULT;
	if (!s->o.batch)
		s->o.batch = XSK_BATCH_DEFAULT;
	if (!s->o.poll_ms)
		s->o.poll_ms = 100;
	atomic_init(&s->snaplen, o->snaplen);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->q = calloc(nq, sizeof(*s->q));
	if (s->stop_fd < 0 || !s->q) {
		ret = s->stop_fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "afxdp: %s", strerror(-ret));
		goto out;
	}
	s->nq = nq;
	/* Pinning helps when every queue gets a CPU of its own and the queue's
	 * RX work happens on a fixed CPU (a NIC's IRQ). On veth the RX runs on
	 * the sender's CPU: a pinned worker could only be starved there. */
	pin = !o->no_pin && ncpu > 0 && nq <= (unsigned long)ncpu &&
	      !(xsk_iface_driver(o->ifname, drv, sizeof(drv)) == 0 && !strcmp(drv, "veth"));
	for (i = 0; i < nq; i++) {
		struct xsk_q *q = &s->q[i];

		q->set = s;
		q->id = i;
		q->cpu = pin ? nth_allowed_cpu(i) : -1;
		ret = xsk_q_open(s, q, err, errlen);
		if (ret)
			goto out;
		ret = wr_stream_new(o->writer, &q->stream);
		if (ret) {
			snprintf(err, errlen, "afxdp: writer stream: %s", strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < nq; i++) {
		ret = -pthread_create(&s->q[i].thread, NULL, xsk_worker_main, &s->q[i]);
		if (ret) {
			snprintf(err, errlen, "afxdp: worker thread: %s", strerror(-ret));
			goto out;
		}
		s->q[i].started = true;
	}
	*out = s;
	return 0;
out:
	stop_workers(s);
	set_free(s);
	return ret;
}

void xsk_set_stop(struct xsk_set *s)
{
	unsigned int i;

	if (!s || s->stopped)
		return;
	stop_workers(s);
	/* Out of the map at once; the sockets themselves stay until close
	 * so their XDP_STATISTICS can still be read. */
	for (i = 0; i < s->nq; i++) {
		struct xsk_q *q = &s->q[i];
		uint32_t key = q->id;

		if (q->in_map)
			bpf_map_delete_elem(s->o.xsks_map_fd, &key);
		q->in_map = false;
		if (q->stream)
			wr_stream_free(q->stream);
		q->stream = NULL;
	}
	s->stopped = true;
}

void xsk_set_close(struct xsk_set *s)
{
	if (!s)
		return;
	xsk_set_stop(s);
	set_free(s);
}

static void add_q(struct xsk_q *q, struct xsk_stats *st)
{
	struct xdp_statistics x;

	st->received += xsk_cnt_get(&q->cnt.received);
	st->written += xsk_cnt_get(&q->cnt.written);
	st->writer_behind += xsk_cnt_get(&q->cnt.writer_behind);
	st->bad_meta += xsk_cnt_get(&q->cnt.bad_meta);
	st->bytes += xsk_cnt_get(&q->cnt.bytes);
	if (!xsk_q_xdp_stats(q, &x)) {
		st->rx_dropped += x.rx_dropped;
		st->rx_ring_full += x.rx_ring_full;
		st->rx_fill_ring_empty += x.rx_fill_ring_empty_descs;
		st->rx_invalid_descs += x.rx_invalid_descs;
	}
	st->queues++;
	st->zerocopy = st->zerocopy && q->zerocopy;
}

int xsk_set_stats(struct xsk_set *s, struct xsk_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->zerocopy = s->nq > 0;
	for (i = 0; i < s->nq; i++)
		add_q(&s->q[i], st);
	return 0;
}

int xsk_set_queue_stats(struct xsk_set *s, unsigned int q, struct xsk_stats *st)
{
	if (q >= s->nq)
		return -ERANGE;
	memset(st, 0, sizeof(*st));
	st->zerocopy = true;
	add_q(&s->q[q], st);
	return 0;
}

unsigned int xsk_set_queues(const struct xsk_set *s)
{
	return s->nq;
}

bool xsk_set_zerocopy(const struct xsk_set *s)
{
	unsigned int i;

	for (i = 0; i < s->nq; i++)
		if (!s->q[i].zerocopy)
			return false;
	return s->nq > 0;
}

void xsk_set_snaplen(struct xsk_set *s, uint32_t snaplen)
{
	atomic_store(&s->snaplen, snaplen);
}
