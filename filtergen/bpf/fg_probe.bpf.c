/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The filter alone, as an XDP and a TC program: each records the filter's
 * verdict in fg_io and always passes the packet. Built at run time next to
 * the generated fg_filter.h (fg_build), driven by BPF_PROG_TEST_RUN.
 *
 * Self-contained on purpose: <linux/bpf.h> and <bpf/bpf_helpers.h> would
 * triple what clang parses on every filter change (compile time is the
 * cost of a filter change); the few UAPI pieces used are declared here.
 */
#include <linux/types.h>

#define SEC(name) __attribute__((section(name), used))
#define XDP_PASS 2
#define TC_ACT_OK 0

/* UAPI (linux/bpf.h) layouts; only the fields read here. */
struct xdp_md {
	__u32 data;
	__u32 data_end;
};

struct __sk_buff {
	__u32 len;
	__u32 before_data[18]; /* pkt_type .. tc_classid */
	__u32 data;
	__u32 data_end;
};

/* Helper ids from enum bpf_func_id. */
static long (*bpf_skb_load_bytes)(const void *skb, __u32 off, void *to, __u32 len) = (void *)26;
static long (*bpf_loop)(__u32 nr, void *fn, void *ctx, __u64 flags) __attribute__((unused)) = (void *)181;
static __u64 (*bpf_xdp_get_buff_len)(struct xdp_md *ctx) = (void *)188;
static long (*bpf_xdp_load_bytes)(struct xdp_md *ctx, __u32 off, void *buf, __u32 len) = (void *)189;

/* Shared with filtergen/fg_probe.c through the .bss map. */
struct fg_probe_io {
	__u32 wire_len;     /* libpcap's len, when wire_len_set */
	__u32 wire_len_set;
	__u32 skip;         /* leading pad bytes that are not packet (< 14) */
	__u32 verdict;      /* the filter's return value */
	__u64 runs;         /* incremented by every run */
};

struct fg_probe_io fg_io;

/* Test runs need at least an Ethernet header: a shorter record is put at the
 * end of a 14-byte frame and its start given as data + skip. */
#define FG_SKIP_MAX 14

/* One copy of the filter for both hooks (clang time is the cost of a filter
 * change): a static subprogram, which the verifier checks per call site, so
 * the constant `xdp` of each caller removes the other hook's helper. */
struct fg_hook_ctx {
	void *ctx;
	__u64 xdp;
};

#define FG_CTX_T struct fg_hook_ctx
#define FG_LOAD_BYTES(c, off, dst, len)                                           \
	((c)->xdp ? bpf_xdp_load_bytes((c)->ctx, (off) + fg_io.skip, dst, len)    \
		  : bpf_skb_load_bytes((c)->ctx, (off) + fg_io.skip, dst, len))
#include "fg_filter.h"

static __attribute__((noinline)) __u32
fg_probe_filter(struct fg_hook_ctx *c, const void *data, const void *data_end, __u32 wire_len)
{
	return fg_filter(c, data, data_end, wire_len);
}

SEC("xdp.frags")
int fg_probe_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fg_hook_ctx c = { .ctx = ctx, .xdp = 1 };
	__u32 skip = fg_io.skip, wire_len;

	if (skip > FG_SKIP_MAX)
		return XDP_PASS;
	wire_len = fg_io.wire_len_set ? fg_io.wire_len : bpf_xdp_get_buff_len(ctx) - skip;
	fg_io.verdict = fg_probe_filter(&c, data + skip, data_end, wire_len);
	fg_io.runs++;
	return XDP_PASS;
}

SEC("tc")
int fg_probe_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct fg_hook_ctx c = { .ctx = skb, .xdp = 0 };
	__u32 skip = fg_io.skip, wire_len;

	if (skip > FG_SKIP_MAX)
		return TC_ACT_OK;
	wire_len = fg_io.wire_len_set ? fg_io.wire_len : skb->len - skip;
	fg_io.verdict = fg_probe_filter(&c, data + skip, data_end, wire_len);
	fg_io.runs++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
