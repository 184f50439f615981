/* SPDX-License-Identifier: BSD-2-Clause */
/* One queue's UMEM + AF_XDP socket: create, bind (zero-copy, else copy),
 * fill, statistics, delete. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "afxdp/internal.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static int umem_create(struct xsk_q *q, uint32_t ring)
{
	struct xsk_umem_config uc = {
		.fill_size = ring,
		.comp_size = 64, /* we never transmit; the kernel wants a ring anyway */
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};

	return xsk_umem__create(&q->umem, q->area, q->area_len, &q->fq, &q->cq, &uc);
}

static int sock_create(struct xsk_q *q, uint32_t ring, uint16_t mode)
{
	struct xsk_socket_config sc = {
		.rx_size = ring,
		.tx_size = 0,
		/* xdp/ owns the XDP program; we only go into its XSKMAP. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | mode,
	};

	int ret, tries;

	/* A socket closed just before (ours from a failed attempt, or a
	 * previous capture's) frees its queue binding in a kernel work item,
	 * a moment later: until then bind says EBUSY. */
	for (tries = 0; tries < 100; tries++) {
		ret = xsk_socket__create(&q->xsk, q->set->ifname, q->id, q->umem, &q->rx, NULL,
					 &sc);
		if (ret != -EBUSY)
			break;
		usleep(10000);
	}
	return ret;
}

/* Every frame goes on the fill ring: there are exactly as many frames as
 * fill-ring entries, so the workers can always give back what they took. */
static int fill_all(struct xsk_q *q, uint32_t ring)
{
	uint32_t idx, i;

	if (xsk_ring_prod__reserve(&q->fq, ring, &idx) != ring)
		return -ENOSPC;
	for (i = 0; i < ring; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&q->fq, ring);
	return 0;
}

static bool sock_is_zerocopy(struct xsk_q *q)
{
	struct xdp_options opts = { 0 };
	socklen_t len = sizeof(opts);

	if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_OPTIONS, &opts, &len))
		return false;
	return opts.flags & XDP_OPTIONS_ZEROCOPY;
}

int xsk_q_open(struct xsk_set *s, struct xsk_q *q, char *err, size_t errlen)
{
	uint32_t ring = s->o.ring_size;
	int ret;

	q->area_len = (size_t)ring * XSK_FRAME_SIZE;
	q->area = mmap(NULL, q->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		ret = -errno;
		snprintf(err, errlen, "queue %u: UMEM of %zu bytes: %s", q->id, q->area_len,
			 strerror(-ret));
		return ret;
	}
	ret = umem_create(q, ring);
	if (ret)
		goto fail_umem;
	if (s->o.bind != XSK_BIND_COPY) {
		ret = sock_create(q, ring, XDP_ZEROCOPY);
		if (!ret)
			goto bound;
		if (s->o.bind == XSK_BIND_ZEROCOPY) {
			snprintf(err, errlen, "%s queue %u: zero-copy bind refused: %s",
				 s->ifname, q->id, strerror(-ret));
			goto out;
		}
		/* A UMEM whose rings took part in a failed bind can't be
		 * bound again: start over with a fresh one on the same memory. */
		xsk_umem__delete(q->umem);
		q->umem = NULL;
		ret = umem_create(q, ring);
		if (ret)
			goto fail_umem;
	}
	ret = sock_create(q, ring, XDP_COPY);
	if (ret) {
		snprintf(err, errlen, "%s queue %u: AF_XDP bind failed: %s", s->ifname, q->id,
			 strerror(-ret));
		goto out;
	}
bound:
	q->zerocopy = sock_is_zerocopy(q);
	ret = fill_all(q, ring);
	if (ret) {
		snprintf(err, errlen, "queue %u: fill ring: %s", q->id, strerror(-ret));
		goto out;
	}
	ret = xsk_socket__update_xskmap(q->xsk, s->o.xsks_map_fd);
	if (ret) {
		snprintf(err, errlen, "queue %u: can't insert the socket into the XSKMAP: %s",
			 q->id, strerror(-ret));
		goto out;
	}
	q->in_map = true;
	return 0;
fail_umem:
	snprintf(err, errlen, "queue %u: UMEM registration failed: %s", q->id, strerror(-ret));
out:
	xsk_q_close(q);
	return ret;
}

void xsk_q_close(struct xsk_q *q)
{
	uint32_t key = q->id;

	if (q->in_map) {
		bpf_map_delete_elem(q->set->o.xsks_map_fd, &key);
		q->in_map = false;
	}
	if (q->xsk) {
		xsk_socket__delete(q->xsk);
		q->xsk = NULL;
	}
	if (q->umem) {
		xsk_umem__delete(q->umem);
		q->umem = NULL;
	}
	if (q->area) {
		munmap(q->area, q->area_len);
		q->area = NULL;
	}
}

int xsk_q_xdp_stats(struct xsk_q *q, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (!q->xsk)
		return -EBADF;
	if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_STATISTICS, st, &len))
		return -errno;
	return 0;
}
