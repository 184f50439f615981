/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer: captured frames -> pcap (nanosecond magic) or pcapng, batched,
 * io_uring; one file, or a rotating series with retention.
 *
 * Producers (one wr_stream per capture worker thread) copy records into large
 * buffers; a writer thread writes whole buffers (or, with reorder_ns, merges
 * the streams' records into time order first). Buffers only ever end on a
 * record boundary, so the file is valid pcap at every moment and after a
 * crash. Producers never block: when the writer is behind, wr_put() fails
 * with -ENOBUFS and the drop is counted.
 *
 * In network mode the same pcap byte stream goes to pull subscribers instead
 * of the file (bounded buffer, the oldest data is dropped and counted).
 *
 * A file is created with its header in one step (never empty; never through
 * a link; mode 0600 by default), grows by whole buffers of records, and after a SIGKILL a small guardian process
 * started by wr_open cuts a record the kernel left half-written. A reader
 * of the live file may see the last record cut only while a write is in
 * progress (Linux grows a file page by page). See writer/README.md.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum wr_backend {
	WR_BACKEND_URING = 0, /* default */
	WR_BACKEND_PWRITE,    /* baseline the io_uring path must beat */
};

enum wr_direct {
	WR_DIRECT_AUTO = 0, /* what the benchmark showed faster, fallback if refused */
	WR_DIRECT_ON,
	WR_DIRECT_OFF,
};

enum wr_format {
	WR_FMT_PCAP = 0, /* classic pcap, nanosecond magic (default) */
	WR_FMT_PCAPNG,	 /* pcapng: SHB, an IDB per direction, EPBs, ISBs */
};

/* pcapng Interface Statistics Block counters of one interface, cumulative
 * since the capture's start (the spec's isb_* options). */
struct wr_if_stats {
	uint64_t ifrecv;       /* packets seen by the interface */
	uint64_t ifdrop;       /* dropped by the interface (no buffer) */
	uint64_t filteraccept; /* accepted by the filter */
	uint64_t osdrop;       /* dropped by the OS/capture path */
	uint64_t usrdeliv;     /* delivered to the writer */
};

struct wr_opts {
	/* the pcap file; an existing regular file is replaced (only once the
	 * new one has its header: a failed wr_open leaves it untouched); an
	 * existing symlink, folder, FIFO or device is refused */
	const char *path;
	uint32_t snaplen;	 /* goes into the pcap file header */
	enum wr_backend backend;
	enum wr_direct direct;
	size_t buf_size;	 /* bytes per buffer; 0 = default (1 MiB) */
	unsigned int nbufs;	 /* buffers in the pool; 0 = default */
	unsigned int flush_ms;	 /* max age of data before it is written; 0 = default (200) */
	bool network;		 /* start in network mode (no file written) */
	size_t net_buffer_bytes; /* network-mode backlog; 0 = default (64 MiB) */
	uint32_t linktype;	 /* pcap link type; 0 = LINKTYPE_ETHERNET (1) */
	mode_t file_mode;	 /* new files' permissions; 0 = 0600 */
	gid_t file_gid;		 /* new files' group; (gid_t)-1 = the creator's
				  * (note: 0 is root's group) */

	/* Rotation: on when rotate_bytes or rotate_seconds is set (whichever
	 * comes first). The writer then names the files itself, in the folder
	 * of prefix: PREFIX-NNNNNNNN-YYYYMMDDTHHMMSS.nnnnnnnnnZ.pcap, with a
	 * sequence number that continues after those already there, and the
	 * UTC time of the file's first record (or of its creation, for the
	 * file opened by wr_open). path is then not used. Without rotation
	 * the file is path, or PREFIX.pcap when only prefix is given. */
	const char *prefix;
	uint64_t rotate_bytes;	 /* a file ends with the record that makes it
				  * at least this big; 0 = off */
	uint32_t rotate_seconds; /* files hold records of one UTC-aligned window
				  * of this many seconds (by record time; an
				  * idle file is sealed by the wall clock);
				  * 0 = off */
	/* Retention (rotation only): the oldest sealed files of the prefix,
	 * those from before wr_open included, are deleted while one of these
	 * budgets is exceeded; never the file being written. 0 = none. */
	uint64_t retain_bytes;	 /* all files of the prefix together */
	uint32_t retain_files;	 /* number of files, the open one included */
	uint32_t min_free_pct;	 /* keep this % of the file system free */
	/* With an archive (archive/): may_delete(arg, path) says whether the
	 * sealed file path (the prefix's folder, then its name) may go, i.e.
	 * is archived. retain_bytes and retain_files then delete only files
	 * it allows, oldest first, skipping the others (the files may take
	 * more than those budgets while the archive is behind); min_free_pct
	 * still deletes the oldest sealed file whatever it says (counted in
	 * files_deleted_unarchived when it did not allow it). keep_archived:
	 * the files it allows take at most keep_archived_bytes (the oldest
	 * go first). Called from the writer thread with the catalog locked:
	 * must be quick and never block on I/O. */
	bool (*may_delete)(void *arg, const char *path);
	void *may_delete_arg;
	bool keep_archived;	 /* needs rotation and may_delete */
	uint64_t keep_archived_bytes;
	/* Called first by the writer thread (its priority, say); NULL: none. */
	void (*thread_init)(void);

	/* pcapng. Files get one IDB per direction: interface 0 inbound (and
	 * records of unknown direction), 1 outbound; same link type and
	 * snaplen; if_name, if_tsresol 9 (ns), if_filter (the filter text in
	 * force when the file was created: see wr_set_filter). Each EPB
	 * carries its direction in epb_flags (inbound 01, outbound 10).
	 * When a file is sealed or closed an ISB per interface is appended:
	 * isb_starttime (start_ns), isb_endtime (now) and, if if_stats is
	 * given and returns true, its counters. Network mode streams the
	 * same format (without ISBs). */
	enum wr_format format;
	const char *if_name;	 /* NULL: no if_name */
	const char *filter;	 /* NULL: no if_filter */
	uint64_t start_ns;	 /* the capture's start, wall clock; 0 = wr_open's time */
	/* Called from the writer thread (or wr_close's) for interface ifid
	 * (0 inbound, 1 outbound); must be thread-safe and not block. */
	bool (*if_stats)(void *arg, unsigned int ifid, struct wr_if_stats *st);
	void *if_stats_arg;

	/* Time order: 0 = off (each stream's records in the order put, the
	 * streams' buffers interleaved). Otherwise the writer thread merges
	 * the records of all streams by ts_ns and writes (or streams) a
	 * record once it is at most the newest record time it has seen
	 * minus reorder_ns (when that has not moved for reorder_ns: the
	 * later of it and the wall clock, minus reorder_ns; for flush_ms:
	 * everything held), so files and network streams are in
	 * non-decreasing time order as long as no record is put more than
	 * reorder_ns after a newer one. A record later than that is still
	 * written, after the newer ones, and counted in wr_stats.late. The
	 * merge holds records in the pool's buffers; when the pool runs
	 * short it writes the oldest rather than let producers drop. Costs
	 * the writer thread a copy of each record and 4 more buffers of
	 * buf_size; nothing on the producers' side. */
	uint32_t reorder_ns;
};

/* One record: cap_len bytes at data, cut already to the snaplen. */
struct wr_rec {
	uint64_t ts_ns; /* wall clock, ns since the epoch */
	uint32_t wire_len;
	uint32_t cap_len;
	const void *data;
	uint8_t dir;	/* 0 unknown, 1 inbound, 2 outbound (pcapng epb_flags) */
};

struct wr_stats {
	uint64_t records;	 /* records handed to the file or to the network buffer */
	uint64_t bytes;		 /* bytes written to the file (or the network buffer),
				  * pcap file headers included */
	uint64_t dropped_behind; /* wr_put() refused: no free buffer */
	uint64_t write_errors;	 /* records lost to failed writes (e.g. ENOSPC) */
	uint64_t net_dropped;	 /* records dropped from a full network backlog */
	uint64_t writes;	 /* write operations submitted */
	int first_error;	 /* -errno of the first failed write (e.g. -ENOSPC); 0: none */
	bool direct;		 /* O_DIRECT in use */
	enum wr_backend backend;
	/* rotation and retention (0 without rotation) */
	uint64_t files_deleted;	 /* by retention, since wr_open */
	uint64_t files;		 /* files of the prefix now, the open one included */
	uint64_t bytes_kept;	 /* their bytes */
	uint64_t files_sealed;	 /* files this writer sealed */
	uint64_t files_deleted_unarchived; /* of files_deleted, by min_free_pct
					    * before may_delete allowed it */
	/* time order (reorder_ns): records written after a newer one (they
	 * came later than the window, or the pool ran short); 0 when off */
	uint64_t late;
};

/* One capture file (wr_list_files, wr_scan_prefix). */
struct wr_file_info {
	char name[256];	  /* file name, in the prefix's folder */
	uint32_t seq;	  /* sequence number (0 without rotation) */
	uint64_t first_ns, last_ns; /* first and last record's time; 0 if none */
	uint64_t records;
	uint64_t bytes;	  /* complete records and header */
	bool sealed;	  /* complete, never written again */
};

struct wr_writer;
struct wr_stream;
struct wr_sub;

/* Creates (replaces) the file with the pcap header, starts the writer
 * thread (and the guardian process). -ENOENT/-EACCES/-ENOTDIR for a bad
 * folder; for an existing entry at the path that is not a regular file:
 * -ELOOP (symlink), -EISDIR (folder), -EPERM (FIFO, device, socket); in
 * every error case nothing is created or changed. -EINVAL for bad options (a
 * record of snaplen bytes must fit buf_size and net_buffer_bytes; nbufs
 * 2..1024; no path or prefix outside network mode; rotation without prefix;
 * retention without rotation; file_mode beyond 0777; min_free_pct > 99;
 * rotate_seconds > a year). snaplen 0 = 262144. With rotation the first
 * file is created at once; a prefix naming a folder ("dir/") is -EISDIR. */
int wr_open(const struct wr_opts *o, struct wr_writer **out);
/* Writes out everything already put (all streams must be flushed/freed
 * first: -EBUSY and nothing done while a stream exists), closes the file.
 * Returns the first write error, if any. */
int wr_close(struct wr_writer *w);

/* One per producer thread; not thread-safe itself. */
int wr_stream_new(struct wr_writer *w, struct wr_stream **out);
void wr_stream_free(struct wr_stream *s); /* flushes first */
/* Never blocks: -ENOBUFS (counted in dropped_behind) when no buffer is free. */
int wr_put(struct wr_stream *s, const struct wr_rec *r);
/* Hands a partly filled buffer to the writer if it is older than flush_ms
 * (or always, when force). Producers call it when idle. (The writer thread
 * also writes the complete records of buffers older than flush_ms by
 * itself, so an idle producer's data is in the file within ~1.5 flush_ms.) */
int wr_stream_flush(struct wr_stream *s, bool force);

/* Switches to a new file (dump path change) without losing records: what was
 * put before the call goes to the old file. -errno and nothing changes if the
 * new path can't be created. Waits until every stream holding records has
 * handed them over (streams do on their next wr_put/wr_stream_flush; at most
 * 3 s, then late records go to the new file). In network mode only the path
 * changes (its folder is checked); the file is created when network mode
 * ends. The same path again is a no-op. */
int wr_reopen(struct wr_writer *w, const char *path);
/* Network mode on/off: while on, no file is written (the file is closed,
 * complete); switching off creates (replaces) the file at the current path.
 * Records put before the call go to the old destination, as in wr_reopen. */
int wr_set_network(struct wr_writer *w, bool on);
int wr_get_stats(struct wr_writer *w, struct wr_stats *st);
/* pcapng: the filter text for the if_filter of the IDBs of files (and
 * network streams) started from now on; the open file keeps its IDBs.
 * For a pcap writer it only affects pcapng subscribers. */
int wr_set_filter(struct wr_writer *w, const char *filter);
/* The current file path (NULL if none); with rotation, the prefix. Valid
 * until the next wr_reopen. With rotation wr_reopen takes a new prefix
 * (the open file is sealed, the new prefix's sequence continues). */
const char *wr_path(struct wr_writer *w);
/* Extension: holds the writer thread (pause) or lets it go on. While held,
 * nothing is written and producers get -ENOBUFS once the pool is used up
 * (tests of the drop path; maintenance). wr_close resumes and writes all. */
int wr_pause(struct wr_writer *w, bool pause);

/* The writer's files, oldest first, in *out (free() it), *n entries.
 * With rotation: every file of the prefix (those from before wr_open too);
 * without: the one file (none in network mode). Reading the records' times
 * walks the files once (what was walked is remembered). */
int wr_list_files(struct wr_writer *w, struct wr_file_info **out, size_t *n);
/* The same without a writer: the rotation files of prefix in its folder,
 * each read for its first and last record. Which one a running writer
 * still writes cannot be known here: every file but the newest is
 * reported sealed. */
int wr_scan_prefix(const char *prefix, struct wr_file_info **out, size_t *n);

/* Network-mode subscribers: each gets the pcap header, then the records no
 * subscriber has pulled yet (captured while nobody was connected), then every
 * record as it arrives. */
int wr_subscribe(struct wr_writer *w, struct wr_sub **out);
/* The same, with the stream in format fmt whatever the writer's: pcap from
 * a pcapng writer drops the direction; pcapng from a pcap writer has every
 * record on interface 0 with no direction. */
int wr_subscribe_fmt(struct wr_writer *w, enum wr_format fmt, struct wr_sub **out);
/* At most records more records from wr_sub_read (0 = no limit), so a client
 * that wants N records never takes more from the backlog than it sends. */
void wr_sub_limit(struct wr_sub *s, uint64_t records);
/* Copies up to len bytes of the stream (whole records); waits up to
 * timeout_ms for data. Returns bytes, 0 on timeout, -errno on error
 * (-EMSGSIZE: the next record is larger than len; -EPIPE: the writer was
 * closed and everything has been read). A subscriber that falls more than
 * net_buffer_bytes behind skips the records dropped meanwhile. One thread
 * per subscriber; different subscribers may be used from different threads. */
ssize_t wr_sub_read(struct wr_sub *s, void *buf, size_t len, int timeout_ms);
void wr_unsubscribe(struct wr_sub *s);

#endif
