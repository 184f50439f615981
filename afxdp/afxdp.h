/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * afxdp: the user-space receive side of a capture.
 *
 *  - xsk_set: one AF_XDP socket + UMEM per RX queue of an interface, one
 *    worker thread each. The XDP program (xdp/, not ours) redirects matching
 *    frames through an XSKMAP (key = RX queue) to these sockets; we never load
 *    or attach an XDP program ourselves.
 *  - xsk_rb: one thread per BPF ring buffer (xdp/ has one per CPU) consuming
 *    TC egress, --transparent and ring-buffer ingress records.
 *
 * Both read the per-frame metadata of xdp/ca_shared.h (timestamp, wire and
 * capture length), turn the timestamp into wall-clock time and hand a record
 * to the writer (wr_put never blocks; a refusal is counted as writer_behind).
 *
 * Functions return 0 or a negative errno; user-facing reasons go to err.
 */
#ifndef AFXDP_H
#define AFXDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wr_writer;

/* How the sockets are bound. */
enum xsk_bind {
	XSK_BIND_AUTO = 0, /* zero-copy, falling back to copy mode */
	XSK_BIND_COPY,
	XSK_BIND_ZEROCOPY, /* zero-copy or fail */
};

/* Clock the BPF programs stamp frames with (ca_shared.h: TAI). */
enum xsk_ts_clock {
	XSK_TS_TAI = 0,	  /* bpf_ktime_get_tai_ns */
	XSK_TS_MONOTONIC, /* bpf_ktime_get_ns */
	XSK_TS_BOOTTIME,  /* bpf_ktime_get_boot_ns */
};

#define XSK_RING_DEFAULT 4096u
#define XSK_BATCH_DEFAULT 256u
#define XSK_FRAME_SIZE 4096u
/* Largest frame (L2 header included) a UMEM frame holds: the kernel keeps
 * XDP_PACKET_HEADROOM (256) in front of the data in every chunk. */
#define XSK_MAX_FRAME (XSK_FRAME_SIZE - 256u)

struct xsk_opts {
	const char *ifname;
	unsigned int queues;	  /* 0: every RX queue of the interface */
	int xsks_map_fd;	  /* XSKMAP the XDP program redirects into */
	struct wr_writer *writer;
	enum xsk_bind bind;
	enum xsk_ts_clock ts_clock;
	uint32_t ring_size;	  /* RX + fill ring entries (power of 2); 0 = default */
	uint32_t batch;		  /* frames taken per peek; 0 = default */
	int poll_ms;		  /* idle poll timeout; 0 = 100 */
	bool no_pin;		  /* never pin; by default worker q goes to the q-th CPU
				   * of the process's affinity mask (so taskset works) when
				   * there are enough CPUs and the NIC has real queues
				   * (not veth, whose RX runs on the sender's CPU) */
	uint32_t snaplen;	  /* user-space cap on caplen; 0 = none */
};

/* Counters, summed over queues (or of one queue). They add up once the set
 * is closed: received = written + writer_behind + bad_meta. */
struct xsk_stats {
	uint64_t received;	/* frames taken from the RX rings */
	uint64_t written;	/* records wr_put accepted */
	uint64_t writer_behind; /* wr_put refused: writer had no free buffer */
	uint64_t bad_meta;	/* frames whose metadata was not valid */
	uint64_t bytes;		/* captured bytes handed to the writer */
	/* XDP_STATISTICS */
	uint64_t rx_dropped;
	uint64_t rx_ring_full;
	uint64_t rx_fill_ring_empty;
	uint64_t rx_invalid_descs;
	unsigned int queues;
	bool zerocopy; /* every socket is bound in zero-copy mode */
};

struct xsk_set;

/* Number of RX queues of ifname (ethtool channels, else sysfs, else 1). */
int xsk_iface_queues(const char *ifname, unsigned int *out);
/* Driver name (ethtool), e.g. "veth", "mlx5_core". */
int xsk_iface_driver(const char *ifname, char *buf, size_t len);
/* Checks that a full-MTU frame fits a UMEM frame; -EMSGSIZE with a message. */
int xsk_check_mtu(const char *ifname, char *err, size_t errlen);

/* Creates, binds and inserts into the XSKMAP one socket per queue, then
 * starts the workers. On error nothing is left bound or in the map. */
int xsk_set_open(const struct xsk_opts *o, struct xsk_set **out, char *err,
		 size_t errlen);
/* Stops the workers after draining their RX rings (detach the XDP program
 * first so no new frames come), removes the sockets from the map, flushes and
 * frees the writer streams (wr_close may follow). Counters stay readable and
 * are final from here on. Idempotent. */
void xsk_set_stop(struct xsk_set *s);
/* Stops if not yet stopped, deletes sockets and UMEMs, frees. NULL is fine. */
void xsk_set_close(struct xsk_set *s);
int xsk_set_stats(struct xsk_set *s, struct xsk_stats *st);
int xsk_set_queue_stats(struct xsk_set *s, unsigned int q, struct xsk_stats *st);
unsigned int xsk_set_queues(const struct xsk_set *s);
bool xsk_set_zerocopy(const struct xsk_set *s);
/* New user-space snaplen (0 = none); taken by the workers at the next frame. */
void xsk_set_snaplen(struct xsk_set *s, uint32_t snaplen);

/* Ring-buffer consumer. The ingress programs write with BPF_RB_NO_WAKEUP
 * (a wake-up per record cost more than the capture itself), so the consumer
 * looks every poll_ms even without a wake-up: at 4 Mpps of 64-byte records
 * the default 8 MiB ring lasts about 20 ms. */
#define XSK_RB_POLL_MS_DEFAULT 1

struct xsk_rb_opts {
	/* A BPF ring buffer, or an array of maps holding ring buffers (xdp/'s
	 * per-CPU rings, xp_rb_fd): one consumer thread and writer stream per
	 * ring buffer in it. */
	int ringbuf_map_fd;
	struct wr_writer *writer;
	enum xsk_ts_clock ts_clock;
	int poll_ms;	  /* 0 = XSK_RB_POLL_MS_DEFAULT */
	uint32_t snaplen; /* user-space cap on caplen; 0 = none */
};

struct xsk_rb_stats {
	uint64_t received;
	uint64_t written;
	uint64_t writer_behind;
	uint64_t bad_meta; /* records too short for their header */
	uint64_t bytes;
};

struct xsk_rb;

int xsk_rb_open(const struct xsk_rb_opts *o, struct xsk_rb **out);
/* Consumes what is left in the ring (detach the programs first), stops the
 * thread, flushes and frees the writer stream. Counters stay readable and are
 * final from here on. Idempotent. */
void xsk_rb_stop(struct xsk_rb *r);
/* Stops if not yet stopped, frees. NULL is fine. */
void xsk_rb_close(struct xsk_rb *r);
/* Counters summed over the rings. */
int xsk_rb_stats(struct xsk_rb *r, struct xsk_rb_stats *st);
/* Number of rings (and consumer threads). */
unsigned int xsk_rb_rings(const struct xsk_rb *r);
void xsk_rb_snaplen(struct xsk_rb *r, uint32_t snaplen);

/* Kernel clock -> wall clock (ns since the epoch). Each thread keeps its own
 * and refreshes it now and then (NTP may slew). */
struct xsk_clock {
	enum xsk_ts_clock clock;
	int64_t offset_ns; /* wall - kernel clock */
	uint64_t refreshed_ns;
};

void xsk_clock_init(struct xsk_clock *c, enum xsk_ts_clock clock);
/* Refreshes the offset if it is older than a second. */
void xsk_clock_tick(struct xsk_clock *c);
static inline uint64_t xsk_clock_wall(const struct xsk_clock *c, uint64_t ts)
{
	return (uint64_t)((int64_t)ts + c->offset_ns);
}

#endif
