/* SPDX-License-Identifier: BSD-2-Clause */
/* writer internals: shared by the files of writer/ only. */
#ifndef WR_INTERNAL_H
#define WR_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "writer/wr_pcap.h"
#include "writer/wr_queue.h"
#include "writer/writer.h"

#define WR_DEF_BUF_SIZE (1u << 20)
#define WR_DEF_NBUFS 16u
#define WR_DEF_FLUSH_MS 200u
#define WR_DEF_NET_BYTES (64u << 20)
#define WR_ALIGN 4096u		       /* O_DIRECT offsets, lengths, memory */
#define WR_FALLOC_STEP (64ull << 20)   /* preallocation step */
#define WR_MAX_INFLIGHT 16u	       /* writes per io_uring chain */
#define WR_STAGE_SLOTS 4u	       /* direct mode: staged buffers in flight */
#define WR_SWITCH_TIMEOUT_MS 3000      /* streams must see a new file within */
#define WR_MERGE_OUT 4u		       /* time order: output buffers beyond the pool */

/* One pool buffer: whole pcap records, filled by one stream at a time. */
struct wr_buf {
	uint8_t *data;
	size_t len;
	uint32_t nrec;
	uint32_t gen; /* destination generation it was filled for */
	/* time rotation: the window of its records (a late record may be
	 * older, never newer); set by the producer, read by peeks */
	_Atomic uint64_t win;
	/* published by the producer while it fills the buffer, so the writer
	 * thread can write an aged prefix itself (wr_thread.c) */
	_Atomic size_t committed;   /* bytes of complete records */
	_Atomic uint64_t first_ns;  /* monotonic time of the first record */
	/* writer thread only: the prefix already taken that way */
	size_t flushed;
	uint32_t flushed_nrec;
	uint64_t peek_ns;	    /* when it was last taken from */
	bool fetched;		    /* handed over and taken by the writer */
	/* time order (wr_merge.c), writer thread only */
	uint32_t mleft;		    /* its records the merge holds */
	bool mfinal;		    /* handed over: free once mleft is 0 */
	const uint8_t *mend;	    /* where the records taken so far end */
	uint64_t mlast, mseq;	    /* the last one's time, its run */
};

enum wr_dest_kind { WR_DEST_FILE, WR_DEST_NET };

/* Permissions of new files. */
struct wr_fmode {
	mode_t mode;
	gid_t gid; /* (gid_t)-1: unchanged */
};

/* A file being created: fd, and a temporary name if it has one. */
struct wr_newfile {
	int fd;
	char tmp[320];
};

/* One file of a rotation prefix (wr_cat.c). */
struct wr_fent {
	uint32_t seq;
	char name[256];
	uint64_t bytes;	   /* sealed: the file's size; open: complete records */
	bool sealed;
	/* what walking the file found (wr_list_files) */
	uint64_t walked;   /* bytes walked */
	uint64_t records, first_ns, last_ns;
};

/* The files of a rotation prefix, oldest first; the open one (if any) last. */
struct wr_cat {
	pthread_mutex_t lock;	/* entries: writer thread vs. listing */
	_Atomic int refs;
	int dirfd;
	char *prefix, *dir, *base; /* dir: prefix up to and with the last '/' */
	uint32_t next_seq;	/* writer thread */
	struct wr_fent *v;
	size_t n, cap;
	uint64_t bytes;		/* sum of v[].bytes */
	uint64_t doomed;	/* bytes given to the reaper, not yet freed */
};

/* Where a generation's records go. Owned by the writer thread once live. */
struct wr_dest {
	enum wr_dest_kind kind;
	int fd;		  /* buffered fd (always) */
	int dfd;	  /* O_DIRECT fd or -1 */
	uint64_t size;	  /* bytes in the file, always a record boundary */
	uint64_t falloc;  /* preallocated up to (KEEP_SIZE) */
	bool no_falloc;	  /* refused (no space, not supported) */
	uint64_t falloc_cap; /* preallocate no further (0: no limit) */
	uint8_t *tail;	  /* direct: the unaligned last block (WR_ALIGN bytes) */
	char *path;
	int dirfd;	  /* the folder, opened once */
	char *name;	  /* the file's name in it */
	struct wr_newfile nf; /* the file until it is committed */
	uint8_t *hdr;	  /* the file's header */
	size_t hdr_len;
	bool committed;	  /* linked under its name */
	uint32_t gen;	  /* the generation it serves */
	/* rotation (wr_rotate.c); writer thread only once live */
	struct wr_cat *cat;	  /* NULL: one file, no rotation */
	uint32_t seq;		  /* the open file's sequence number */
	uint64_t fileno;	  /* counts files opened: the guard follows */
	uint64_t q_size;	  /* bytes queued for the file jobs go to */
	uint64_t q_win;		  /* its time window (when q_any) */
	bool q_any;		  /* records queued for it */
	bool q_new;		  /* the next job starts a new file */
	/* planning of the next batch of writes (writer thread) */
	uint64_t wpos;
	const uint8_t *ptail;
	size_t ptail_len;
};

struct wr_net;

struct wr_stream {
	struct wr_writer *w;
	struct wr_buf *cur;
	uint8_t *p, *end;	/* free space in cur */
	uint64_t t_next;	/* time rotation: records from here on belong to
				 * the next window (UINT64_MAX: off) */
	uint64_t win;		/* the window cur is filled for */
	uint64_t first_ns;	/* monotonic time of cur's first record */
	uint32_t gen;
	_Atomic uint32_t gen_ack; /* gen this stream fills for (read by control) */
	_Atomic bool holding;	  /* cur has records (a switch must wait for it) */
	_Atomic(pthread_t) owner; /* the thread that took cur */
	_Atomic(struct wr_buf *) pub; /* cur, for the writer thread's peeks */
	_Atomic uint64_t dropped;
	struct wr_stream *next;
};

/* One write of the writer thread: bytes of a buffer to a file position. */
struct wr_job {
	struct wr_buf *b;
	struct wr_dest *d;
	const uint8_t *data; /* the records of b this job writes */
	size_t len;
	uint32_t nrec;
	bool peek;	    /* a prefix of a buffer its stream still fills:
			     * not released when done */
	size_t done;	    /* bytes of b already in the file */
	uint64_t base;	    /* file offset of b->data[0] */
	/* direct mode: staged copy (aligned) */
	uint8_t *stage;
	size_t stage_len, stage_pre; /* bytes staged, tail bytes before data */
	bool complete;
	bool failed;	    /* completed by a failed write: later jobs must be
			     * planned again at the cut-back size */
	bool rot;	    /* a new file starts with this job */
	bool gathered;	    /* rot: older windows' records were gathered */
	uint64_t win;	    /* time window of its records */
};

/* The writer thread's jobs, in file order (grows as jobs are split). */
struct wr_pending {
	struct wr_job *jobs;
	unsigned int n, cap;
};
struct wr_job *wr_pending_add(struct wr_pending *p);

struct wr_io;

struct wr_writer {
	struct wr_opts o;
	char *path;		/* current file path (ctl) */
	bool network;		/* current mode (ctl) */
	bool direct_ok;		/* direct requested and not refused */
	struct wr_fmode fmode;	/* new files */
	bool ng;		/* pcapng */
	uint8_t *hdr;		/* file header (pcap, or pcapng SHB + IDBs) (lock) */
	size_t hdr_len;
	char *if_name;		/* pcapng if_name (w->o.if_name points here) */
	uint64_t start_ns;	/* pcapng isb_starttime */
	int start;		/* thread start: 0 wait, 1 go, 2 give up (lock) */

	uint8_t *mem;		/* nmem * buf_size, aligned */
	struct wr_buf *bufs;	/* the pool (nbufs), then the merge's output */
	unsigned int nmem;	/* nbufs, + WR_MERGE_OUT with the merge */
	struct wr_merge *merge;	/* time order; NULL: off (writer thread) */
	struct wr_queue freeq, fullq;
	int efd;		/* eventfd: wakes the writer thread */
	pthread_t thr;
	bool thr_started;

	_Atomic uint32_t gen;
	struct wr_dest *dests[2]; /* slot gen & 1 */

	pthread_mutex_t ctl;	/* serialises control calls */
	pthread_mutex_t lock;	/* streams list, requests to the thread */
	pthread_cond_t cond;
	struct wr_stream *streams;
	uint64_t gone_dropped;	/* dropped counts of freed streams */
	bool stop, retire_req;
	uint32_t retire_gen;
	_Atomic bool req;	/* stop or retire pending: cheap check */
	_Atomic bool pause;

	/* statistics, written by the writer thread */
	_Atomic uint64_t st_records, st_bytes, st_errors, st_writes, st_late;
	_Atomic int first_err;
	_Atomic bool st_direct;

	/* rotation */
	uint64_t rot_ns;	/* rotate_seconds in ns; 0 = off */
	bool rotating;
	struct wr_cat *cat;	/* the current prefix's catalog (lock) */
	_Atomic uint64_t st_deleted, st_sealed, st_deleted_early;
	struct wr_reaper *reaper; /* with retention */
	struct wr_fent one;	/* without rotation: the file's walk so far (lock) */
	dev_t one_dev;
	ino_t one_ino;

	struct wr_net *net;
	struct wr_io *io;
	struct wr_guard *guard;	/* NULL if it could not be started */
	uint8_t *stage;		/* direct mode staging slots */
	size_t stage_size;	/* bytes per slot */
};

/* wr_file.c: safe creation (see there) */
int wr_dir_open(const char *path, int *dirfd, char **base);
int wr_file_check(int dirfd, const char *name, bool replace);
int wr_file_prepare(int dirfd, const char *name, const struct wr_fmode *m,
		    const void *hdr, size_t len, struct wr_newfile *f);
int wr_file_commit(int dirfd, const char *name, bool replace, struct wr_newfile *f);
void wr_file_abort(int dirfd, struct wr_newfile *f);

/* wr_cat.c */
bool wr_cat_match(const char *base, const char *name, uint32_t *seq);
int wr_cat_name(const struct wr_cat *c, uint32_t seq, uint64_t ts_ns, bool ng, char *buf,
		size_t len);
int wr_cat_new(const char *prefix, struct wr_cat **out);
void wr_cat_put(struct wr_cat *c);
int wr_cat_add_open(struct wr_cat *c, uint32_t seq, const char *name, uint64_t bytes);
void wr_cat_update(struct wr_cat *c, uint32_t seq, uint64_t bytes, bool sealed);
void wr_cat_retain(struct wr_cat *c, const struct wr_opts *o, struct wr_reaper *r,
		   _Atomic uint64_t *deleted, _Atomic uint64_t *early);
/* Whether o has a retention budget of any kind. */
bool wr_retaining(const struct wr_opts *o);

/* wr_reap.c: deletes files off the writer thread */
struct wr_reaper;
int wr_reaper_start(struct wr_reaper **out);
void wr_reaper_push(struct wr_reaper *r, struct wr_cat *c, const char *name, uint64_t bytes);
void wr_reaper_stop(struct wr_reaper *r);
void wr_cat_gauges(struct wr_cat *c, uint64_t *files, uint64_t *bytes);
int wr_walk(int fd, uint64_t bytes, bool ng, struct wr_fent *e);
int wr_file_is_ng(int fd, bool *ng);
int wr_cat_list(struct wr_cat *c, struct wr_file_info **out, size_t *n);

/* wr_rotate.c */
int wr_rot_dest_new(struct wr_writer *w, const char *prefix, struct wr_dest **out);
int wr_rot_commit(struct wr_writer *w, struct wr_dest *d);
void wr_rot_take(struct wr_writer *w, struct wr_pending *p, struct wr_dest *d,
		 struct wr_buf *b, size_t off, size_t len, uint32_t nrec, bool peek);
int wr_rot_switch(struct wr_writer *w, struct wr_job *j);
void wr_rot_seal(struct wr_writer *w, struct wr_dest *d);
void wr_rot_tick(struct wr_writer *w, struct wr_dest *d, bool idle);

/* wr_ng.c */
int wr_ng_header(const struct wr_opts *o, const char *filter, uint8_t **out, size_t *len);
int wr_ng_finish_file(struct wr_writer *w, struct wr_dest *d);
int wr_hdr_make(const struct wr_opts *o, const char *filter, uint8_t **out, size_t *len);
int wr_hdr_get(struct wr_writer *w, uint8_t **out, size_t *len);

/* wr_dest.c */
/* An empty file destination: no file, every fd -1. NULL: no memory. */
struct wr_dest *wr_dest_file_new(void);
int wr_dest_file_open(struct wr_writer *w, const char *path, struct wr_dest **out);
int wr_dest_commit(struct wr_writer *w, struct wr_dest *d);
int wr_reopen_direct(int fd);
int wr_dest_direct(struct wr_writer *w, struct wr_dest *d, const void *h, size_t len);
int wr_dest_net_new(struct wr_writer *w, struct wr_dest **out);
int wr_dest_finish(struct wr_writer *w, struct wr_dest *d);
uint64_t wr_now_ns(void);

/* wr_stream.c: hands over what s holds and fills for generation g */
void wr_stream_follow(struct wr_stream *s, uint32_t g);

/* wr_thread.c */
void *wr_thread_main(void *arg);
void wr_wake(struct wr_writer *w);
/* Records [off, off + len) of b go to generation gen's destination: a
 * file job in p, or the network backlog (what take did before the merge). */
void wr_take(struct wr_writer *w, struct wr_pending *p, struct wr_buf *b, uint32_t gen,
	     size_t off, size_t len, uint32_t nrec, bool peek);

/* wr_merge.c: time order across streams (reorder_ns) */
struct wr_merge;
int wr_merge_new(struct wr_writer *w, struct wr_merge **out);
void wr_merge_free(struct wr_merge *m);
/* Takes the records in [off, off + len) of b (a peek: b is still being
 * filled) into the merge; returns how many. */
uint32_t wr_merge_add(struct wr_writer *w, struct wr_buf *b, uint32_t gen, size_t off,
		      size_t len, bool peek);
/* Writes out what the window lets go (all: everything); false when it
 * stopped for want of an output buffer (write the pending jobs, again). */
bool wr_merge_run(struct wr_writer *w, struct wr_pending *p, bool all);
/* Writes out every record not of generation keep; false as above. */
bool wr_merge_retire(struct wr_writer *w, struct wr_pending *p, uint32_t keep);
bool wr_merge_empty(const struct wr_merge *m);
void wr_merge_out_free(struct wr_merge *m, uint32_t idx);
/* How long the writer thread may sleep (it may have records to let go). */
int wr_merge_wait_ms(const struct wr_writer *w, int idle_ms);

/* wr_job.c */
/* Applies one write result; true when the job is complete (buffer freed):
 * written, or failed with its lost records counted. */
bool wr_job_result(struct wr_writer *w, struct wr_job *j, long res);
void wr_buf_release(struct wr_writer *w, struct wr_buf *b);
uint32_t wr_count_records(const uint8_t *p, size_t len, bool ng, size_t *bound);

/* wr_io_*.c: the backends (wr_io_ops_of in wr_writer.c). */
struct wr_io_ops {
	int (*init)(struct wr_writer *w, struct wr_io **out);
	void (*fini)(struct wr_io *io);
	/* Writes jobs[0..n) in order; returns after all completed. Jobs that
	 * are not complete are left for the caller (still queued). */
	int (*run)(struct wr_writer *w, struct wr_io *io, struct wr_job **jobs,
		   unsigned int n);
};
extern const struct wr_io_ops wr_io_uring_ops, wr_io_pwrite_ops;
const struct wr_io_ops *wr_io_ops_of(struct wr_writer *w);

/* What the next write of job j is: fd, source, length, file offset. */
struct wr_wreq {
	int fd;
	const void *src;
	size_t len;
	uint64_t off;
	bool fixed; /* src lies in the registered pool or staging */
};
int wr_job_next(struct wr_writer *w, struct wr_job *j, struct wr_wreq *q);
/* Places a job at its destination's planned position (d->wpos, d->ptail),
 * staging it for O_DIRECT when stage is given. */
void wr_job_plan(struct wr_writer *w, struct wr_job *j, uint8_t *stage);

/* wr_guard.c: repairs the files after the process was killed */
struct wr_guard;
int wr_guard_start(struct wr_guard **out);
void wr_guard_note(struct wr_guard *g, const struct wr_dest *d);
void wr_guard_forget(struct wr_guard *g, const struct wr_dest *d);
void wr_guard_stop(struct wr_guard *g);

/* wr_net.c */
int wr_net_new(const struct wr_opts *o, const char *filter, struct wr_net **out);
int wr_net_set_filter(struct wr_net *n, const struct wr_opts *o, const char *filter);
void wr_net_put(struct wr_net *n); /* drops the writer's reference */
uint64_t wr_net_append(struct wr_net *n, const uint8_t *p, size_t len);
uint64_t wr_net_dropped(struct wr_net *n);

#endif
