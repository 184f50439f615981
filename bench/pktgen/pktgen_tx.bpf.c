// SPDX-License-Identifier: BSD-2-Clause
/*
 * The generator's XDP program: run with BPF_PROG_RUN + LIVE_FRAMES on the
 * sending veth, it returns XDP_TX so the kernel pushes the frame out of that
 * veth into its peer (the capture side).
 *
 * With nflows > 1 it rewrites the IPv4 source address and the UDP source
 * port of each frame so that traffic looks like nflows distinct flows. Live
 * frames keep their page between runs, so the rewrite happens every time.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 nflows = 1;

/* [0] = frames sent by this CPU, [1] = flow cursor of this CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} gen_stats SEC(".maps");

static __always_inline __u16 ip_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

	for (int i = 0; i < 10; i++)
		if (i != 5) /* skip the checksum field itself */
			sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline void vary_flow(struct xdp_md *ctx, __u64 flow)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end)
		return;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP)
		return;
	/* 10.1.x.y source, port 1024 + flow: distinct 4-tuples */
	ip->saddr = bpf_htonl(0x0a010000 | (__u32)(flow & 0xffff));
	ip->check = ip_csum(ip);
	udp->source = bpf_htons(1024 + (__u16)(flow % 60000));
	udp->check = 0; /* optional for IPv4 */
}

SEC("xdp")
int bn_pktgen_tx(struct xdp_md *ctx)
{
	__u32 k_sent = 0, k_flow = 1;
	__u64 *sent = bpf_map_lookup_elem(&gen_stats, &k_sent);
	__u64 *cur = bpf_map_lookup_elem(&gen_stats, &k_flow);

	if (!sent || !cur)
		return XDP_ABORTED;
	if (nflows > 1) {
		vary_flow(ctx, *cur);
		*cur = *cur + 1 >= nflows ? 0 : *cur + 1;
	}
	*sent += 1;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
