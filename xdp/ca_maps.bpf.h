/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Maps and small helpers shared by capture.bpf.c and egress.bpf.c. Both
 * programs declare the same maps; the loader makes every program version use
 * the same map instances (bpf_map__reuse_fd), so config, counters, sockets
 * and the ring buffer outlive a filter swap.
 */
#ifndef CA_MAPS_BPF_H
#define CA_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ca_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ca_config);
} ca_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CA_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ca_counters SEC(".maps");

/* One ring buffer per possible CPU (key = CPU; sizes set by the loader:
 * xp_opts.rb_size each). Every CPU writes only its own ring, so XDP on
 * different RX queues and TC egress on different CPUs never share a ring
 * (no reservation lock bouncing between CPUs), and each ring has its own
 * consumer thread (afxdp/ringbuf.c). */
struct ca_rb_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* template only: the rings are made by the loader */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ca_rb_inner);
} ca_rbs SEC(".maps");

/* 2 entries per possible CPU (set by the loader): XDP and TC each have their
 * own, so a TC program interrupted by XDP on the same CPU keeps its record.
 * A plain array, because a per-CPU value can't be 64 KiB. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ca_scratch);
} ca_scratch SEC(".maps");

static __always_inline void ca_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&ca_counters, &idx);

	if (c)
		*c += 1; /* per-CPU: no atomics needed */
}

static __always_inline const struct ca_config *ca_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ca_config, &zero);
}

/* cap = min(filter result, snaplen, packet length, limit) */
static __always_inline __u32 ca_cap(__u32 ret, const struct ca_config *cfg, __u32 len,
				    __u32 limit)
{
	__u32 snap = cfg->snaplen ? cfg->snaplen : CA_SNAPLEN_MAX;
	__u32 cap = ret;

	if (cap > snap)
		cap = snap;
	if (cap > len)
		cap = len;
	if (cap > limit)
		cap = limit;
	return cap;
}

/* cap as a 64-bit value the verifier knows is in 1..CA_RB_MAX_CAP, or 0.
 * The barrier stops clang from checking a copy of cap in another register. */
static __always_inline __u64 ca_rb_len(__u32 cap)
{
	__u64 n = cap;

	asm volatile("" : "+r"(n));
	if (n == 0 || n > CA_RB_MAX_CAP)
		return 0;
	return n;
}

/* This CPU's ring buffer, or NULL (not filled in: counted as full). */
static __always_inline void *ca_rb_here(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&ca_rbs, &cpu);
}

static __always_inline struct ca_scratch *ca_scratch_get(__u32 hook)
{
	__u32 idx = bpf_get_smp_processor_id() * 2 + hook;

	return bpf_map_lookup_elem(&ca_scratch, &idx);
}

#endif
