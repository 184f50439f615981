/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TC clsact egress: count, run the generated filter on outgoing packets and
 * copy matches (cut to the snaplen) into the ring buffer. The packet always
 * goes on unchanged (TC_ACT_OK). Non-linear and GSO skbs: the filter and the
 * copy read through bpf_skb_load_bytes, and the record's wire_len is skb->len
 * (for a GSO super-packet: all segments, before segmentation).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "ca_maps.bpf.h"

#define FG_CTX_T struct __sk_buff
#define FG_LOAD_BYTES(ctx, off, dst, len) bpf_skb_load_bytes(ctx, off, dst, len)
#include "fg_filter.h"

SEC("tc")
int ca_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	const struct ca_config *cfg = ca_cfg();
	struct ca_scratch *s;
	void *rb;
	__u32 wire, ret;
	__u64 cap;
	__u64 ts;

	ca_count(CA_CNT_TX_SEEN);
	if (!cfg || !(cfg->flags & CA_CFG_EGRESS))
		return TC_ACT_OK;

	wire = skb->len;
	ret = fg_filter(skb, data, data_end, wire);
	if (!ret)
		return TC_ACT_OK;
	ts = bpf_ktime_get_tai_ns();
	ca_count(CA_CNT_TX_MATCHED);

	cap = ca_rb_len(ca_cap(ret, cfg, wire, CA_RB_MAX_CAP));
	s = ca_scratch_get(1);
	rb = ca_rb_here();
	if (!s || !cap || !rb)
		goto full;
	if (bpf_skb_load_bytes(skb, 0, s->data, cap))
		goto full;
	s->hdr.ts_ns = ts;
	s->hdr.wire_len = wire;
	s->hdr.cap_len = cap;
	s->hdr.ifindex = skb->ifindex;
	s->hdr.dir = CA_DIR_EGRESS;
	if (bpf_ringbuf_output(rb, s, sizeof(s->hdr) + cap, 0))
		goto full;
	ca_count(CA_CNT_TX_RB_OUT);
	return TC_ACT_OK;
full:
	ca_count(CA_CNT_TX_RB_FULL);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
