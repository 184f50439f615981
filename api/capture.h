/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture: one named capture on one interface. Ties the pipeline together:
 * filtergen builds the programs, xdp/ attaches them (ingress XDP, egress TC),
 * afxdp/ runs a worker per RX queue, writer/ writes the pcap file or feeds
 * network-mode subscribers. The REST server and `start` drive captures only
 * through this header.
 *
 * Functions return 0 or a negative errno; user-facing reasons go to err.
 * All functions are safe to call from several threads at once.
 */
#ifndef API_CAPTURE_H
#define API_CAPTURE_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum api_mode {
	API_MODE_OFF = 0,
	API_MODE_INGRESS,
	API_MODE_EGRESS,
	API_MODE_BIDIRECTIONAL,
};

const char *api_mode_name(enum api_mode m);
int api_mode_parse(const char *s, enum api_mode *out); /* -EINVAL if unknown */

#define API_NAME_MAX 64
#define API_FILTER_MAX 8192

struct api_capture_cfg {
	char name[API_NAME_MAX];
	char iface[IF_NAMESIZE];
	enum api_mode mode;
	char filter[API_FILTER_MAX];
	uint32_t snaplen;
	char dump[PATH_MAX]; /* prefix: the file is DUMP.pcap */
	bool network;	     /* network mode: pull clients instead of the file */
	bool transparent;    /* ingress via ring buffer, frames go on to the stack */
};

/* Which fields api_capture_set() changes. */
enum {
	API_F_MODE = 1u << 0,
	API_F_FILTER = 1u << 1,
	API_F_SNAPLEN = 1u << 2,
	API_F_DUMP = 1u << 3,
	API_F_NETWORK = 1u << 4,
};

struct api_capture_stats {
	/* kernel side (summed over CPUs) */
	uint64_t seen;		 /* frames the programs saw */
	uint64_t matched;	 /* frames the filter accepted */
	uint64_t redirected;	 /* handed to AF_XDP */
	uint64_t redirect_failed;
	uint64_t rb_full;	 /* ring buffer full (egress / transparent) */
	/* AF_XDP (XDP_STATISTICS, summed over queues) */
	uint64_t xsk_rx_dropped;
	uint64_t xsk_rx_ring_full;
	uint64_t xsk_fill_ring_empty;
	uint64_t xsk_rx_invalid;
	/* user space */
	uint64_t received;	 /* frames taken from the rings */
	uint64_t written;	 /* records written (or given to network mode) */
	uint64_t writer_behind;	 /* dropped: writer had no free buffer */
	uint64_t write_errors;
	uint64_t net_dropped;	 /* network-mode backlog overflow (after written) */
	uint64_t bytes_written;
	unsigned int queues;	 /* AF_XDP workers */
	bool xdp_native;	 /* false: generic (SKB) mode */
	bool zerocopy;		 /* false: copy mode */
	/* Sums: once traffic is quiet (always after destroy),
	 *   matched = written + dropped
	 * with dropped = redirect_failed + rb_full + xsk_rx_dropped +
	 * xsk_rx_ring_full + bad_meta + writer_behind + write_errors
	 * (xsk_fill_ring_empty is a part of xsk_rx_dropped). */
	uint64_t bad_meta;	 /* frames/records with unusable metadata */
	uint64_t dropped;
	int write_error;	 /* -errno of the first failed write (e.g. -ENOSPC); 0: none */
};

struct api_capture;

/* Attaches and starts. Refuses (with err, nothing left attached): unknown
 * interface, a filter libpcap/the verifier refuses, a dump folder that is
 * missing or not writable, an interface another appliance holds. */
int api_capture_create(const struct api_capture_cfg *cfg, struct api_capture **out,
		       char *err, size_t errlen);
/* Knobs beyond the user-visible config (tests, `start` options). */
enum api_xdp_mode { API_XDP_AUTO = 0, API_XDP_NATIVE, API_XDP_GENERIC };
enum api_bind { API_BIND_AUTO = 0, API_BIND_COPY, API_BIND_ZEROCOPY };
/* How non-transparent ingress reaches user space (--transparent overrides
 * both: ring buffer, frames go on). AUTO: the faster one here, see
 * afxdp/README.md. */
enum api_ingress {
	API_INGRESS_AUTO = 0,
	API_INGRESS_AFXDP,   /* redirect to AF_XDP sockets (zero-copy on real NICs) */
	API_INGRESS_RINGBUF, /* XDP copies into the BPF ring buffer, drops the frame */
};

struct api_capture_opts {
	enum api_xdp_mode xdp_mode; /* native, falling back to generic */
	enum api_bind bind;	    /* zero-copy, falling back to copy */
	enum api_ingress ingress_path;
	uint32_t rb_size;	    /* BPF ring buffer bytes, power of 2; 0 = xdp/'s default */
	uint32_t batch;		    /* AF_XDP frames per RX ring peek; 0 = afxdp's default */
	uint32_t ring_size;	    /* AF_XDP RX/fill ring entries; 0 = 4096 */
	bool no_pin;		    /* don't pin AF_XDP workers to CPUs */
	const char *run_dir;	    /* lock/pid files; NULL = xdp/'s default */
	int writer_backend;	    /* enum wr_backend; 0 = io_uring */
	size_t net_buffer_bytes;    /* network-mode backlog; 0 = writer default */
	/* Notes for the operator (fallbacks, leftovers removed). NULL: stderr. */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
};

int api_capture_create_opts(const struct api_capture_cfg *cfg,
			    const struct api_capture_opts *opts,
			    struct api_capture **out, char *err, size_t errlen);
/* "afxdp" / "ringbuf"; AUTO: the name of the path AUTO resolves to. */
const char *api_ingress_name(enum api_ingress p);
/* The ingress path the capture uses: AFXDP or RINGBUF (transparent: RINGBUF). */
enum api_ingress api_capture_ingress(struct api_capture *c);

/* Called once by api_capture_destroy, after the drain and before anything is
 * freed, with the final counters (they add up). */
typedef void (*api_capture_final_fn)(const struct api_capture_cfg *cfg,
				     const struct api_capture_stats *st, void *arg);
void api_capture_on_final(struct api_capture *c, api_capture_final_fn fn, void *arg);

/* Detaches, writes out what was taken, closes the file, frees. */
int api_capture_destroy(struct api_capture *c);

/* All or nothing: on error nothing changed. No restart of workers and no
 * loss of packets matching both the old and the new setting. */
int api_capture_set(struct api_capture *c, const struct api_capture_cfg *cfg,
		    unsigned int fields, char *err, size_t errlen);
int api_capture_get(struct api_capture *c, struct api_capture_cfg *cfg);
int api_capture_stats(struct api_capture *c, struct api_capture_stats *st);

/* Network mode: the writer whose subscribers receive the pcap stream. */
struct wr_writer *api_capture_writer(struct api_capture *c);

/* `capture-appliance start ...` (foreground daemon); returns the exit status. */
int api_cmd_start(int argc, char **argv);
/* Client subcommands (add, del, set, show, stats, pull); exit status. */
int api_cli_main(int argc, char **argv);

#endif
