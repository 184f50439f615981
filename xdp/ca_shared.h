/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ca_shared.h: everything the BPF programs (capture.bpf.c, egress.bpf.c) and
 * user space agree on. Included by both sides, so only <linux/types.h> types.
 *
 * Timestamps: every stamp is bpf_ktime_get_tai_ns() (CLOCK_TAI). User space
 * turns it into wall-clock time with an offset CLOCK_REALTIME - CLOCK_TAI
 * (xp_clock_offset() in xp.h, or afxdp's xsk_clock with XSK_TS_TAI). TAI was
 * chosen over CLOCK_MONOTONIC because it is stepped together with the wall
 * clock, so the offset only changes when the TAI offset itself changes.
 */
#ifndef CA_SHARED_H
#define CA_SHARED_H

#include <linux/types.h>

/*
 * AF_XDP path: the XDP program grows the frame's metadata area
 * (bpf_xdp_adjust_meta) by sizeof(struct ca_meta) and writes this struct
 * directly in front of the packet data. A reader of an AF_XDP descriptor
 * finds it at (umem + desc.addr - sizeof(struct ca_meta)). The frame itself
 * is cut to cap_len (at least 14 bytes) before the redirect, so desc.len is
 * max(cap_len, 14); wire_len keeps the true length.
 */
struct ca_meta {
	__u64 ts_ns;	/* bpf_ktime_get_tai_ns() when the program saw the frame */
	__u32 wire_len; /* frame length on the wire (bpf_xdp_get_buff_len) */
	__u32 cap_len;	/* bytes to keep: min(filter result, snaplen, frame length) */
};

/* Direction of a ring-buffer record. */
enum ca_dir {
	CA_DIR_INGRESS = 0, /* XDP, --transparent */
	CA_DIR_EGRESS = 1,  /* TC clsact egress */
};

/*
 * Ring-buffer path (TC egress and transparent ingress): every record in the
 * BPF ring buffers (map "ca_rbs": one ring per CPU, each CPU writes only its
 * own) is this header followed by cap_len packet bytes
 * (the record is exactly sizeof(struct ca_rb_hdr) + cap_len bytes long).
 */
struct ca_rb_hdr {
	__u64 ts_ns;	/* bpf_ktime_get_tai_ns() */
	__u32 wire_len; /* XDP: bpf_xdp_get_buff_len; TC: skb->len (GSO: the whole super-packet) */
	__u32 cap_len;	/* bytes that follow */
	__u32 ifindex;
	__u32 dir;	/* enum ca_dir */
};

/* Largest cap_len of a ring-buffer record: the BPF programs copy through a
 * scratch buffer of this size (a GSO super-packet is at most 64 KiB unless
 * BIG TCP is on; bigger packets are cut here, wire_len stays true). */
#define CA_RB_MAX_CAP 65536u
/* Default ring buffer sizes (bytes, powers of two): CA_RB_DEFAULT_TOTAL
 * shared out over the possible CPUs, but never less than CA_RB_DEFAULT_SIZE
 * per CPU (2 CPUs: 32 MiB each, 8 and more CPUs: 8 MiB each). 64 MiB is what
 * tcpdump -B 65536 buffers; at 1514-byte frames 8 MiB lasts ~5 ms. */
#define CA_RB_DEFAULT_SIZE (8u << 20)
#define CA_RB_DEFAULT_TOTAL (64u << 20)

/* Largest snaplen (as filtergen's FG_SNAPLEN_MAX). 0 in the config = this. */
#define CA_SNAPLEN_MAX 262144u

/* Config map "ca_config" (array, one entry, key 0). User space changes it at
 * any time without reloading anything; the programs read it per packet. */
enum ca_cfg_flags {
	CA_CFG_INGRESS = 1u << 0,     /* XDP runs the filter (else: count and pass) */
	CA_CFG_EGRESS = 1u << 1,      /* TC egress runs the filter */
	CA_CFG_TRANSPARENT = 1u << 2, /* ingress matches go through the ring buffer, frame passes on */
	/* Ingress matches go through the ring buffer and the copied frame is
	 * consumed (XDP_DROP), as the AF_XDP redirect takes it from the stack;
	 * a frame the ring buffer had no room for passes on (RX_RB_FULL).
	 * TRANSPARENT wins if both are set. */
	CA_CFG_RINGBUF = 1u << 3,
};

struct ca_config {
	__u32 snaplen; /* 1..CA_SNAPLEN_MAX; 0 = CA_SNAPLEN_MAX */
	__u32 flags;   /* enum ca_cfg_flags; neither direction = mode off */
};

/*
 * Per-CPU counters: map "ca_counters" (percpu array, key = index). They add
 * up at any quiescent moment:
 *   RX_MATCHED = RX_REDIRECTED + RX_NO_XSK + RX_META_FAIL + RX_RB_OUT + RX_RB_FULL
 *   TX_MATCHED = TX_RB_OUT + TX_RB_FULL
 * (RX_REDIRECTED frames may still be dropped by the socket: AF_XDP's
 * XDP_STATISTICS count those.)
 */
enum ca_counter {
	CA_CNT_RX_SEEN = 0,	/* frames the XDP program saw */
	CA_CNT_RX_MATCHED,	/* ... the filter accepted (ingress on) */
	CA_CNT_RX_REDIRECTED,	/* handed to the XSKMAP */
	CA_CNT_RX_NO_XSK,	/* redirect failed: no socket for that RX queue; frame passed
				 * (dropped if already cut: socket went away after the lookup) */
	CA_CNT_RX_META_FAIL,	/* bpf_xdp_adjust_meta refused; frame passed, not captured */
	CA_CNT_RX_RB_OUT,	/* transparent/ringbuf: records written to the ring buffer */
	CA_CNT_RX_RB_FULL,	/* transparent/ringbuf: ring buffer full, record lost, frame passed */
	CA_CNT_TX_SEEN,		/* packets the TC egress program saw */
	CA_CNT_TX_MATCHED,	/* ... the filter accepted (egress on) */
	CA_CNT_TX_RB_OUT,	/* records written to the ring buffer */
	CA_CNT_TX_RB_FULL,	/* ring buffer full, record lost */
	CA_CNT_MAX,
};

/* Scratch map "ca_scratch" (array, 2 entries per possible CPU): the programs
 * build a record there before bpf_ringbuf_output. Index cpu * 2 + hook. */
struct ca_scratch {
	struct ca_rb_hdr hdr;
	__u8 data[CA_RB_MAX_CAP];
};

/* Program names, also used to recognise a previous appliance's programs. */
#define CA_XDP_PROG_NAME "ca_xdp"
#define CA_TC_PROG_NAME "ca_egress"

#endif
