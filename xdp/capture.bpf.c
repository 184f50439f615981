/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * XDP ingress: count, run the generated filter, and on a match either
 * redirect the frame to the AF_XDP socket of its RX queue (with a struct
 * ca_meta in front of it) or copy it into the ring buffer: in transparent
 * mode the frame goes on, on the ring-buffer ingress path (CA_CFG_RINGBUF,
 * capture ports) the copied frame is consumed with XDP_DROP, as a redirect
 * would take it. Never drop a frame that was not captured, never change the
 * packet bytes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ca_maps.bpf.h"

#define ETH_HLEN 14 /* bpf_xdp_adjust_tail keeps at least this much */

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1); /* set by the loader: the RX queue count */
	__type(key, __u32);
	__type(value, __u32);
} ca_xsks SEC(".maps");

#define FG_CTX_T struct xdp_md
#define FG_LOAD_BYTES(ctx, off, dst, len) bpf_xdp_load_bytes(ctx, off, dst, len)
#include "fg_filter.h"

/* Fast path for a cap_len of exactly N bytes (a constant: the common case
 * of frames longer than the snaplen): the record is reserved in the ring
 * buffer itself and the bytes copied there with direct packet access, with
 * no scratch buffer, no second copy and no helper for the bytes.
 * Returns 1 (record out), 0 (ring buffer full) or -1 (not applicable). */
static __always_inline int rb_fixed(struct xdp_md *ctx, void *rb, __u64 ts, __u32 wire,
				    __u64 cap, const __u32 n)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ca_rb_hdr *h;

	if (cap != n || data + n > data_end)
		return -1;
	h = bpf_ringbuf_reserve(rb, sizeof(*h) + n, 0);
	if (!h)
		return 0;
	__builtin_memcpy(h + 1, data, n);
	h->ts_ns = ts;
	h->wire_len = wire;
	h->cap_len = n;
	h->ifindex = ctx->ingress_ifindex;
	h->dir = CA_DIR_INGRESS;
	bpf_ringbuf_submit(h, BPF_RB_NO_WAKEUP);
	return 1;
}

/* Ring-buffer paths: header + cap bytes into the ring buffer. Returns 1 if
 * the record went out, else 0. */
static __always_inline int rb_copy(struct xdp_md *ctx, __u64 ts, __u32 wire, __u32 cap32)
{
	struct ca_scratch *s;
	__u64 cap = ca_rb_len(cap32);
	void *rb = ca_rb_here();
	int r;

	if (!cap || !rb)
		goto full;
	r = rb_fixed(ctx, rb, ts, wire, cap, 64);
	if (r < 0)
		r = rb_fixed(ctx, rb, ts, wire, cap, 96);
	if (r < 0)
		r = rb_fixed(ctx, rb, ts, wire, cap, 128);
	if (r == 1) {
		ca_count(CA_CNT_RX_RB_OUT);
		return 1;
	}
	if (r == 0)
		goto full;
	s = ca_scratch_get(0);
	if (!s)
		goto full;
	if (bpf_xdp_load_bytes(ctx, 0, s->data, cap))
		goto full;
	s->hdr.ts_ns = ts;
	s->hdr.wire_len = wire;
	s->hdr.cap_len = cap;
	s->hdr.ifindex = ctx->ingress_ifindex;
	s->hdr.dir = CA_DIR_INGRESS;
	/* No wake-up per record: at high rates it cost more than the capture;
	 * the consumer (afxdp/ringbuf.c) looks every millisecond anyway. */
	if (bpf_ringbuf_output(rb, s, sizeof(s->hdr) + cap, BPF_RB_NO_WAKEUP))
		goto full;
	ca_count(CA_CNT_RX_RB_OUT);
	return 1;
full:
	ca_count(CA_CNT_RX_RB_FULL);
	return 0;
}

SEC("xdp")
int ca_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* The linear length as a number before any helper call: with a filter
	 * that never reads the packet ("all"), clang would otherwise keep
	 * ctx->data as a u32 across the calls, a spill the verifier refuses. */
	__u32 linear = (__u32)(data_end - data);
	const struct ca_config *cfg;
	struct ca_meta *meta;
	__u32 qid = ctx->rx_queue_index;
	__u32 wire, ret, cap, keep, flags;
	__u64 fallback, ts;
	int act;

	asm volatile("" : "+r"(linear));
	cfg = ca_cfg();
	ca_count(CA_CNT_RX_SEEN);
	if (!cfg)
		return XDP_PASS;
	flags = cfg->flags;
	if (!(flags & CA_CFG_INGRESS))
		return XDP_PASS;

	wire = bpf_xdp_get_buff_len(ctx);
	ret = fg_filter(ctx, data, data_end, wire);
	if (!ret)
		return XDP_PASS;
	ts = bpf_ktime_get_tai_ns();
	ca_count(CA_CNT_RX_MATCHED);

	if (flags & (CA_CFG_TRANSPARENT | CA_CFG_RINGBUF)) {
		if (rb_copy(ctx, ts, wire, ca_cap(ret, cfg, wire, CA_RB_MAX_CAP)) &&
		    !(flags & CA_CFG_TRANSPARENT))
			return XDP_DROP;
		return XDP_PASS;
	}

	/* An AF_XDP socket receives the linear part only. */
	cap = ca_cap(ret, cfg, linear, CA_SNAPLEN_MAX);
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		ca_count(CA_CNT_RX_META_FAIL);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > data) { /* can't happen; the verifier wants it */
		ca_count(CA_CNT_RX_META_FAIL);
		return XDP_PASS;
	}
	meta->ts_ns = ts;
	meta->wire_len = wire;
	meta->cap_len = cap;

	/* Cut the frame to what is kept, so that a copy-mode socket copies
	 * cap_len bytes into the UMEM instead of the whole frame (wire_len and
	 * cap_len are already in the metadata). Only when a socket sits on the
	 * queue: a cut frame must never reach the stack, so its fallback is
	 * XDP_DROP (only if the socket went away since the lookup). */
	fallback = XDP_PASS;
	keep = cap < ETH_HLEN ? ETH_HLEN : cap;
	if (keep < linear && bpf_map_lookup_elem(&ca_xsks, &qid) &&
	    !bpf_xdp_adjust_tail(ctx, (int)keep - (int)linear))
		fallback = XDP_DROP;

	act = bpf_redirect_map(&ca_xsks, qid, fallback);
	ca_count(act == XDP_REDIRECT ? CA_CNT_RX_REDIRECTED : CA_CNT_RX_NO_XSK);
	return act;
}

char _license[] SEC("license") = "Dual BSD/GPL";
