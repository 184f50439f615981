// SPDX-License-Identifier: BSD-2-Clause
/*
 * Benchmark sink on the capture veth: counts every frame per RX queue and
 * either passes it on (so tcpdump, netsniff-ng, xdpdump see it; a veth only
 * takes XDP frames from its peer while it has an XDP program) or drops it
 * (the ceiling: the fastest anything can take frames off this veth).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SINK_MAX_QUEUES 64

const volatile __u32 action = XDP_PASS;

struct sink_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SINK_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct sink_count);
} sink_stats SEC(".maps");

SEC("xdp")
int bn_sink(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;
	struct sink_count *c;

	if (q >= SINK_MAX_QUEUES)
		q = SINK_MAX_QUEUES - 1;
	c = bpf_map_lookup_elem(&sink_stats, &q);
	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
