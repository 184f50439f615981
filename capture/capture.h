/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture: the appliance's core. A core holds the named captures of one
 * daemon (each on one interface) and makes every policy decision: which
 * ingress path, which interfaces, which dump paths, which limits. It drives
 * the data path (filtergen -> xdp -> afxdp -> writer); the REST server, the
 * `start` command and the CLI call it and nothing below it.
 *
 * Captures are addressed by name. Functions return 0 or a negative errno;
 * user-facing reasons go to err (always NUL-terminated when errlen > 0).
 * Every function may be called from several threads at once; the lock
 * protocol is in capture/README.md.
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cap_mode {
	CAP_MODE_OFF = 0,
	CAP_MODE_INGRESS,
	CAP_MODE_EGRESS,
	CAP_MODE_BIDIRECTIONAL,
};

const char *cap_mode_name(enum cap_mode m);
int cap_mode_parse(const char *s, enum cap_mode *out); /* -EINVAL if unknown */

#define CAP_NAME_MAX 64
#define CAP_FILTER_MAX 8192
#define CAP_DEFAULT_FILTER "none" /* a new capture captures nothing */
#define CAP_SNAPLEN_MAX 262144u	   /* = FG_SNAPLEN_MAX, the pcap header's snaplen */

enum cap_format {
	CAP_FMT_PCAP = 0, /* classic pcap, nanosecond timestamps */
	CAP_FMT_PCAPNG,	  /* pcapng: direction in each record, statistics per file */
};

const char *cap_format_name(enum cap_format f);
int cap_format_parse(const char *s, enum cap_format *out); /* -EINVAL if unknown */

/* What a user sets. */
struct cap_cfg {
	char name[CAP_NAME_MAX];
	char iface[IF_NAMESIZE];
	enum cap_mode mode;
	char filter[CAP_FILTER_MAX];
	uint32_t snaplen;
	char dump[PATH_MAX]; /* prefix: the file is DUMP.pcap */
	bool network;	     /* network mode: pull clients instead of the file */
	bool transparent;    /* add: force the transparent path; read: it runs transparent */
	enum cap_format format;
	/* Rotation (any of the two on: files DUMP-NNNNNNNN-TIME.pcap[ng]) and
	 * retention of the sealed ones; 0 = off. Chosen when the capture is
	 * added. */
	uint64_t rotate_bytes;
	uint32_t rotate_seconds; /* UTC-aligned windows */
	uint64_t retain_bytes;
	uint32_t retain_files;
	uint32_t min_free_pct;
};

/* Which fields of a cap_cfg a change (or a create) gives. */
enum {
	CAP_F_MODE = 1u << 0,
	CAP_F_FILTER = 1u << 1,
	CAP_F_SNAPLEN = 1u << 2,
	CAP_F_DUMP = 1u << 3,
	CAP_F_NETWORK = 1u << 4,
	CAP_F_IFACE = 1u << 5,
	CAP_F_TRANSPARENT = 1u << 6, /* create only */
	CAP_F_FORMAT = 1u << 7,	     /* create only */
	CAP_F_ROTATE = 1u << 8,	     /* rotate_* and retain_*, min_free_pct: create only */
};

struct cap_stats {
	/* kernel side (summed over CPUs) */
	uint64_t seen;		 /* frames the programs saw */
	uint64_t matched;	 /* frames the filter accepted */
	uint64_t seen_in, seen_out;	  /* seen, by direction (ingress XDP, egress TC) */
	uint64_t matched_in, matched_out; /* matched, by direction */
	uint64_t redirected;	 /* handed to AF_XDP */
	uint64_t redirect_failed;
	uint64_t rb_full;	 /* ring buffer full (egress / transparent) */
	uint64_t rb_full_in, rb_full_out;
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
	uint64_t late;		 /* written after a newer record: later than the merge window */
	uint64_t bytes_written;
	unsigned int queues;	 /* AF_XDP workers */
	bool xdp_native;	 /* false: generic (SKB) mode */
	bool zerocopy;		 /* false: copy mode */
	/* Sums: once traffic is quiet (always after close),
	 *   matched = written + dropped
	 * with dropped = redirect_failed + rb_full + xsk_rx_dropped +
	 * xsk_rx_ring_full + bad_meta + writer_behind + write_errors
	 * (xsk_fill_ring_empty is a part of xsk_rx_dropped). */
	uint64_t bad_meta;	 /* frames/records with unusable metadata */
	uint64_t dropped;
	int write_error;	 /* -errno of the first failed write (e.g. -ENOSPC); 0: none */
};

enum cap_xdp_mode { CAP_XDP_AUTO = 0, CAP_XDP_NATIVE, CAP_XDP_GENERIC };
enum cap_bind { CAP_BIND_AUTO = 0, CAP_BIND_COPY, CAP_BIND_ZEROCOPY };
/* How ingress matches reach user space. AUTO is the policy (policy.c): an
 * interface the host itself uses (an address, a bridge/bond/team port, a
 * default route) is captured transparently; any other is a capture port:
 * AF_XDP where it binds zero-copy, else the ring buffer (the faster one on
 * copy-mode drivers, afxdp/README.md). */
enum cap_ingress {
	CAP_INGRESS_AUTO = 0,
	CAP_INGRESS_AFXDP,	 /* redirect to AF_XDP sockets; frames taken from the stack */
	CAP_INGRESS_RINGBUF,	 /* XDP copies into the BPF ring buffer, frames taken */
	CAP_INGRESS_TRANSPARENT, /* ring buffer copy, every frame goes on to the stack */
};

/* "auto", "afxdp", "ringbuf", "transparent". */
const char *cap_ingress_name(enum cap_ingress p);
int cap_ingress_parse(const char *s, enum cap_ingress *out); /* -EINVAL if unknown */

/* Data-path knobs, the same for every capture of a core. */
struct cap_opts {
	enum cap_xdp_mode xdp_mode; /* native, falling back to generic */
	enum cap_bind bind;	    /* zero-copy, falling back to copy */
	enum cap_ingress ingress_path;
	uint32_t rb_size;	    /* BPF ring buffer bytes, power of 2; 0 = xdp/'s default */
	uint32_t batch;		    /* AF_XDP frames per RX ring peek; 0 = afxdp's default */
	uint32_t ring_size;	    /* AF_XDP RX/fill ring entries; 0 = 4096 */
	bool no_pin;		    /* don't pin AF_XDP workers to CPUs */
	const char *run_dir;	    /* lock/pid files; NULL = xdp/'s default */
	int writer_backend;	    /* enum wr_backend; 0 = io_uring */
	/* Records of every queue and both directions go to files and streams
	 * in time order through a merge window this long (ns); a record later
	 * than that is still written, and counted (late). 0: CAP_REORDER_DEFAULT_NS;
	 * UINT32_MAX: no merge (each queue's order only). */
	uint32_t reorder_ns;
	size_t net_buffer_bytes;    /* network-mode backlog; 0 = writer default */
	size_t write_buffer_bytes;  /* the writer's buffer pool per capture; 0 = CAP_WRITE_BUFFER_DEFAULT */
	/* Retention with an archive, for captures that rotate: which sealed
	 * files retention may delete, and how many bytes of those to keep
	 * (writer.h: wr_opts.may_delete, keep_archived). NULL: any. */
	bool (*may_delete)(void *arg, const char *path);
	void *may_delete_arg;
	bool keep_archived;
	uint64_t keep_archived_bytes;
};

/* Called once per capture, after its drain and before it is freed, with its
 * final counters (they add up). */
typedef void (*cap_final_fn)(const struct cap_cfg *cfg, const struct cap_stats *st,
			     void *arg);

struct fg_pcapd;
struct cap_core_opts {
	struct cap_opts dp;
	const char *dump_root;	  /* dump paths must lie inside; NULL: anywhere */
	const char *default_dir;  /* folder of default dump paths; NULL: dump root, else /tmp */
	/* Notes for the operator (fallbacks, leftovers removed, warnings).
	 * NULL: stderr. */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	cap_final_fn on_final;
	void *final_arg;
	unsigned int max_pulls;	  /* pull clients at once, all captures; 0: CAP_PULLS_DEFAULT */
	mode_t file_mode;	  /* capture files' permissions; 0: 0600 */
	gid_t file_gid;		  /* and group, when file_group_set */
	bool file_group_set;
	const char *allow_iface;  /* comma-separated glob patterns; NULL: any interface */
	/* Called once for every file a capture (its name) seals (path), oldest
	 * first, from a background thread at the lowest priority (CPU and
	 * I/O): an index, an upload, a catalog record. Files sealed before a
	 * restart are offered again at the next start; the last file of a run
	 * is offered then too. NULL: none. */
	void (*on_sealed)(void *arg, const char *capture, const char *path);
	void *sealed_arg;
	/* libpcap's compiler helper (filtergen's fg_pcapd_start), started by
	 * the program while it had one thread; NULL: filters are compiled in
	 * a fork of this process, which is safe only without threads */
	const struct fg_pcapd *pcapd;
};

#define CAP_PULLS_DEFAULT 32u
/* The writer's pool per capture: with 16 MiB, 1514-B frames at full snaplen
 * lost 24-48 % at 0.2-0.6 M frames/s (all "writer behind"); with 64 MiB,
 * nothing up to 0.4 M (bench/capture/run.sh --wbuf). */
#define CAP_WRITE_BUFFER_DEFAULT (64u << 20)
#define CAP_REORDER_DEFAULT_NS 5000000u /* 5 ms */

struct cap_core;

int cap_core_open(const struct cap_core_opts *o, struct cap_core **out, char *err,
		  size_t errlen);
/* Closes every capture (final counters reported), frees k. NULL is fine. */
void cap_core_close(struct cap_core *k);

/* A new capture's settings before the user's: mode bidirectional, filter
 * CAP_DEFAULT_FILTER, the largest snaplen. The dump default needs the name:
 * cap_add() fills it when CAP_F_DUMP is not given. */
void cap_cfg_init(struct cap_cfg *cfg);

/*
 * Adds and starts a capture. cfg->name and cfg->iface are required; fields
 * tells which others the user gave (CAP_F_*). Checked before anything is
 * attached: name, interface, filter (libpcap's message), dump path (policy,
 * see cap_check_dump), the interface against allow_iface. -EEXIST name
 * taken, -EBUSY interface or dump prefix taken (by this core or another
 * appliance), -EINVAL bad input (err says which), -ENODEV no such
 * interface. On success *now (if not NULL) holds what runs.
 */
int cap_add(struct cap_core *k, const struct cap_cfg *cfg, unsigned int fields,
	    struct cap_cfg *now, char *err, size_t errlen);
/* Detaches, writes out what was taken, closes the file (final counters to
 * on_final). -ENOENT unknown name. Never waits for a filter compile or a
 * pull client of that capture. */
int cap_del(struct cap_core *k, const char *name, char *err, size_t errlen);
/*
 * Changes the fields of cfg named by fields, all or nothing: on error
 * nothing changed. No restart of workers, no loss of packets matching both
 * the old and the new setting; a new interface keeps the file. The filter
 * is compiled before anything is locked. -ENOENT unknown name (or deleted
 * meanwhile), -EBUSY interface taken, -EINVAL bad input. On success *now
 * (if not NULL) holds the new settings.
 */
int cap_set(struct cap_core *k, const char *name, const struct cap_cfg *cfg,
	    unsigned int fields, struct cap_cfg *now, char *err, size_t errlen);
/* Filter compiles: a histogram of their durations (upper bounds in
 * seconds, the last bucket is +Inf), and pull clients now. */
#define CAP_COMPILE_BUCKETS 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
#define CAP_NCOMPILE_BUCKETS 8
struct cap_core_stats {
	uint64_t compile_le[CAP_NCOMPILE_BUCKETS + 1]; /* cumulative, as Prometheus wants */
	uint64_t compiles;
	double compile_seconds;
	unsigned int pulls;
};
void cap_core_stats(struct cap_core *k, struct cap_core_stats *out);

/* An expression checked with libpcap for the capture's link type, as its
 * filters are (an empty one is fine: everything). -ENOENT, -EINVAL with
 * libpcap's message. */
int cap_check_expr(struct cap_core *k, const char *name, const char *expr, char *err,
		   size_t errlen);

/* Settings and (if st) counters of one capture; -ENOENT. */
int cap_get(struct cap_core *k, const char *name, struct cap_cfg *cfg,
	    struct cap_stats *st);
/* Calls fn with the settings of every capture, in creation order; stops at
 * the first non-zero return (returned). No lock is held while fn runs. */
int cap_each(struct cap_core *k, int (*fn)(const struct cap_cfg *cfg, void *arg),
	     void *arg);
/* The names of every capture, in creation order: *names (free() it) holds
 * *n of them. */
int cap_names(struct cap_core *k, char (**names)[CAP_NAME_MAX], size_t *n);
/* The ingress path a capture runs (never AUTO) and why it was chosen. -ENOENT. */
int cap_ingress_of(struct cap_core *k, const char *name, enum cap_ingress *path,
		   char *why, size_t whylen);

/* Network mode: a pull client's stream (pcap header, then records). */
struct cap_pull;
/* -ENOENT unknown name, -EAGAIN network mode is off, -EBUSY max_pulls
 * clients are pulling already. */
int cap_pull_begin(struct cap_core *k, const char *name, enum cap_format fmt,
		   struct cap_pull **out);
/* Up to len bytes of whole records; waits up to timeout_ms. 0 on timeout,
 * -ESHUTDOWN once the capture is gone or network mode is off, -errno on
 * other errors. limit: at
 * most that many more records (0: no limit) from this call on. */
ssize_t cap_pull_read(struct cap_pull *p, void *buf, size_t len, uint64_t limit,
		      int timeout_ms);
void cap_pull_end(struct cap_pull *p);

/*
 * The capture's current file, for download: an O_RDONLY fd of a regular
 * file opened without following links, and its path. -ENOENT unknown name
 * or no file yet, -EISCONN network mode (no file).
 */
int cap_dump_open(struct cap_core *k, const char *name, int *fd, char *path, size_t len);

/* One file of a capture (rotation gives many). */
struct cap_file {
	char name[256];		    /* in the dump prefix's folder */
	uint64_t first_ns, last_ns; /* first and last record, ns since the epoch; 0: none */
	uint64_t records, bytes;
	bool sealed;		    /* complete, never written again */
};
/* The capture's files, oldest first (free() *out). -ENOENT. */
int cap_files(struct cap_core *k, const char *name, struct cap_file **out, size_t *n);
/* A sealed file of the capture, by its name as cap_files gives it: opened
 * like cap_dump_open. -ENOENT no such file of this capture, -EBUSY not
 * sealed yet. */
int cap_file_open(struct cap_core *k, const char *name, const char *file, int *fd);

/*
 * Policy, also usable before a core exists (the `start` command checks its
 * options with it before anything is attached).
 *
 * cap_check_dump: a dump prefix must name a file prefix in an existing,
 * writable folder; with root, it may not contain `..` and its real folder
 * must lie inside the real root. A relative dump is taken relative to root
 * (or the current directory). The absolute prefix goes to out.
 */
int cap_check_dump(const char *root, const char *dump, char *out, size_t outlen,
		   char *err, size_t errlen);
/* Drops every capability a core does not need (from the process, its
 * bounding set, for good: no new privileges either). Call before any thread
 * exists. bind_low_port keeps CAP_NET_BIND_SERVICE. */
int cap_drop_privileges(bool bind_low_port, char *err, size_t errlen);
/* Puts the calling thread under the normal scheduling policy at the lowest
 * CPU priority (nice 19) and in the idle I/O class (the disk serves it when
 * nobody else waits): for work that must never slow capture (indexes,
 * extractions). */
void cap_background_thread(void);
/* The writer thread's priority: a step below the threads that empty the
 * kernel's rings (see threads.c). */
void cap_writer_thread(void);
/* The file a dump prefix names without rotation: DUMP.pcap or DUMP.pcapng. */
void cap_dump_file(const char *dump, enum cap_format f, char *out, size_t len);
/* A capture name: 1..CAP_NAME_MAX-1 of [A-Za-z0-9._-], not starting with '.'. */
bool cap_name_ok(const char *name);

#endif
