/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test stand-in for xdp/'s program, so afxdp is tested on its own: UDP frames
 * to ports [port_lo, port_hi] get a struct ca_meta in front and go to the
 * AF_XDP socket of their RX queue; everything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ca_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* Per RX queue: frames matched, redirect failures. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

volatile const __u16 port_lo = 40000;
volatile const __u16 port_hi = 40999;

static __always_inline void bump(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &idx);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xsk_test(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 len = ctx->data_end - ctx->data, q = ctx->rx_queue_index;
	struct ca_meta *m;
	__u16 port;
	long ret;

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	port = bpf_ntohs(udp->dest);
	if (port < port_lo || port > port_hi)
		return XDP_PASS;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XDP_PASS;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return XDP_PASS;
	m->ts_ns = bpf_ktime_get_tai_ns();
	m->wire_len = len;
	m->cap_len = len;
	bump(q & 63);
	ret = bpf_redirect_map(&xsks, q, XDP_PASS);
	if (ret != XDP_REDIRECT)
		bump(64 + (q & 63));
	return ret;
}

/* Ring-buffer stand-in: every frame run through rb_test (BPF_PROG_RUN) gives
 * one record, struct ca_rb_hdr + the first min(len, RB_CAP) bytes, with a
 * wire length of len + 100 (a record cut short, as TC sees a GSO packet).
 * A frame starting with 0xee gives a record too short for its header. */
#define RB_CAP 2048

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} rb SEC(".maps");

struct rb_scratch {
	struct ca_rb_hdr h;
	__u8 d[RB_CAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rb_scratch);
} scratch SEC(".maps");

SEC("xdp")
int rb_test(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data, zero = 0;
	struct rb_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 cap = len;

	if (!s)
		return XDP_PASS;
	asm volatile("" : "+r"(cap));
	if (cap == 0 || cap > RB_CAP)
		return XDP_PASS;
	if (bpf_xdp_load_bytes(ctx, 0, s->d, cap))
		return XDP_PASS;
	s->h.ts_ns = bpf_ktime_get_tai_ns();
	s->h.wire_len = len + 100;
	s->h.cap_len = cap;
	s->h.ifindex = 0;
	s->h.dir = CA_DIR_EGRESS;
	if (s->d[0] == 0xee)
		bpf_ringbuf_output(&rb, s, 8, 0);
	else
		bpf_ringbuf_output(&rb, s, sizeof(s->h) + cap, 0);
	return XDP_PASS;
}

/* An array of ring buffers, as xdp/'s per-CPU ca_rbs (the test puts rings
 * in some slots). rb_arr_test writes a 64-byte record of the frame into the
 * ring in slot frame[3]. */
struct rb_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct rb_inner);
} rbs SEC(".maps");

SEC("xdp")
int rb_arr_test(struct xdp_md *ctx)
{
	__u8 *d = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ca_rb_hdr *h;
	__u32 slot;
	void *rb;

	if (d + 64 > end)
		return XDP_PASS;
	slot = d[3];
	rb = bpf_map_lookup_elem(&rbs, &slot);
	if (!rb)
		return XDP_PASS;
	h = bpf_ringbuf_reserve(rb, sizeof(*h) + 64, 0);
	if (!h)
		return XDP_PASS;
	__builtin_memcpy(h + 1, d, 64);
	h->ts_ns = bpf_ktime_get_tai_ns();
	h->wire_len = end - d;
	h->cap_len = 64;
	h->ifindex = 0;
	h->dir = CA_DIR_INGRESS;
	bpf_ringbuf_submit(h, BPF_RB_NO_WAKEUP);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
