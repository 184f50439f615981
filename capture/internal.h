/* SPDX-License-Identifier: BSD-2-Clause */
/* capture internals: shared by the capture core's own files only. Lock protocol: README.md. */
#ifndef CAPTURE_INTERNAL_H
#define CAPTURE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "afxdp/afxdp.h"
#include "capture/capture.h"
#include "xdp/xp.h"

/* The data path of a capture on one interface. */
struct cap_dp {
	struct xp *xp;
	struct xsk_set *xsk; /* NULL on the ring-buffer and transparent paths */
	struct xsk_rb *rb;
	enum cap_ingress path; /* AUTO only between attach and start */
	char why[192];	       /* why this path */
	bool xdp_native;
	unsigned int rx_queues;
};

enum cap_state {
	CAP_LIVE = 0,
	CAP_CLOSING, /* cap_del under way: no change may start */
	CAP_CLOSED,  /* data path gone; final counters in ->final */
};

struct cap {
	/* Under k->lock (L1). */
	struct cap *next;
	unsigned int refs;
	bool listed;	     /* found by name: running, not being deleted */
	bool closing;	     /* cap_del began: its name is free again */
	char iface[IF_NAMESIZE];
	char held[IF_NAMESIZE]; /* the old interface, held during a move */
	char dump[PATH_MAX];	/* the dump prefix it writes: no other capture's */
	bool compiling;	     /* holds one of the core's compile slots */

	/* Under c->lock (L2). */
	pthread_mutex_t lock;
	enum cap_state state;
	struct cap_cfg cfg;
	struct cap_dp dp;
	struct wr_writer *wr; /* outlives interface moves: one file */
	struct xp_elf elf;    /* the programs attached now */
	bool force_transparent; /* asked for at add: every interface it moves to too */
	int dlt;		/* link type its filters are compiled for */
	struct cap_stats base; /* counters of data paths retired by moves */
	uint64_t base_put;     /* records their producers put */
	struct cap_stats final;

	/* Bumped (release) whenever pull clients must stop: network mode off,
	 * capture closing. Pull clients read it without a lock. */
	atomic_uint pull_gen;
	atomic_bool network;
};

struct cap_core {
	pthread_mutex_t lock; /* L1: the list, refs, names, interfaces, compile slots */
	pthread_cond_t cond;  /* compile slot freed */
	struct cap *head;
	unsigned int compiles;	   /* compile slots in use */
	unsigned int compile_max;  /* slots in all (CPUs) */
	unsigned int pulls;	   /* pull clients now */
	struct cap_core_stats cst; /* compile histogram (pulls: see above) */
	unsigned int max_pulls;
	char *allow_iface;	   /* comma-separated globs, or NULL */
	struct cap_opts dp;
	mode_t file_mode;
	gid_t file_gid;
	bool file_group_set;
	char *dump_root;	   /* realpath, or NULL */
	char *default_dir;
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	cap_final_fn on_final;
	void *final_arg;
	void (*on_sealed)(void *arg, const char *capture, const char *path);
	void *sealed_arg;
	const struct fg_pcapd *pcapd; /* the caller's; may be NULL */
	struct cap_sealer *sealer; /* its own lock only; takes the others as a client */
};

/* sealed.c: the thread that hands sealed files to on_sealed. */
struct cap_sealer;
int cap_sealer_start(struct cap_core *k, struct cap_sealer **out);
void cap_sealer_stop(struct cap_sealer *s);

/* core.c: the registry. */
struct cap *cap_ref(struct cap_core *k, const char *name); /* NULL: no such capture */
void cap_unref(struct cap_core *k, struct cap *c);
/* Moves a data path's counters into c->base (it is being retired). */
void cap_stats_retire(struct cap *c, const struct cap_dp *dp);
/* Reserves the dump prefix for c (-EBUSY when another capture writes it). */
int cap_hold_dump(struct cap_core *k, struct cap *c, const char *dump);
/* Reserves iface for c (-EBUSY when another capture has it). */
int cap_hold_iface(struct cap_core *k, struct cap *c, const char *iface);
void cap_move_done(struct cap_core *k, struct cap *c, bool moved);
void cap_log(struct cap_core *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* datapath.c: building and tearing down one interface's data path. */
/* Attaches the programs with capture off (nothing reaches user space yet). */
int cap_dp_attach(struct cap_core *k, const struct cap_cfg *cfg, bool force_transparent,
		  const struct xp_elf *elf, struct cap_dp *dp, char *err, size_t errlen);
/* Starts the consumers feeding wr, then turns capture on. On error the
 * data path is back to attached only. */
int cap_dp_start(struct cap_core *k, const struct cap_cfg *cfg, struct cap_dp *dp,
		 struct wr_writer *wr, char *err, size_t errlen);
/* Stops taking packets and drains the rings into the writer. */
void cap_dp_stop(struct cap_dp *dp);
void cap_dp_close(struct cap_dp *dp);
/* The capture's writer: files, rotation, retention, format as cfg says. */
int cap_wr_open(struct cap_core *k, struct cap *c, const struct cap_cfg *cfg,
		uint32_t linktype, struct wr_writer **out, char *err, size_t errlen);

/* compile.c: filter text -> built programs, in a compile slot, niced. */
int cap_check_filter(struct cap_core *k, const char *expr, int dlt, char *err,
		     size_t errlen); /* libpcap only */
int cap_build_filter(struct cap_core *k, struct cap *c, const char *expr, int dlt,
		     struct xp_elf *elf, char *err, size_t errlen);
/* What iface's packets start with: dlt for filters, linktype for files;
 * -EOPNOTSUPP with err for a type we can't capture. */
int cap_iface_linktype(const char *iface, int *dlt, uint32_t *linktype, char *err,
		       size_t errlen);
struct xp_config cap_xp_cfg(const struct cap_cfg *c, enum cap_ingress path);

/* policy.c */
int cap_check_cfg(const struct cap_cfg *c, unsigned int fields, char *err, size_t errlen);
/* -EPERM with err unless iface matches one of k's allow_iface globs. */
int cap_check_iface(struct cap_core *k, const char *iface, char *err, size_t errlen);
/* The ingress path for cfg on its interface; AUTO: a capture port, AF_XDP if
 * it binds zero-copy, else the ring buffer. why gets the reason. */
enum cap_ingress cap_ingress_choose(struct cap_core *k, const struct cap_cfg *cfg,
				    bool force_transparent, char *why, size_t whylen);
/* Whether the host itself uses iface; why gets the reason. */
bool cap_host_iface(const char *iface, char *why, size_t whylen);

/* stats.c */
void cap_dp_stats(const struct cap_dp *dp, struct wr_writer *wr, struct cap_stats *st);
void cap_stats_add(struct cap_stats *to, const struct cap_stats *from);
/* With c->lock held: the kernel's and the rings' counters (base + live data
 * path), none of the writer's: safe from the writer's own thread. */
void cap_kernel_stats_locked(struct cap *c, struct cap_stats *st);
/* With c->lock held: base + live data path + writer, or the final ones. */
void cap_stats_locked(struct cap *c, struct cap_stats *st);
/* Waits (bounded) until the writer has every record the producers put. */
void cap_wait_writer(struct cap *c);
/* Records the producers of a data path handed to the writer. */
uint64_t cap_dp_put(const struct cap_dp *dp);
/* The capture's start-up line: path, XDP mode, queues, settings. */
void cap_log_started(struct cap_core *k, struct cap *c);

#endif
