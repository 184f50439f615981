/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the writer tests: deterministic records and a pcap
 * reader that checks every record against what was put. */
#ifndef WR_TEST_UTIL_H
#define WR_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "writer/writer.h"

#define T_SNAPLEN 2048u
#define T_MAXREC 2048u

/* Record number id of producer p: content, lengths and timestamp follow from
 * (p, id), so a reader can check each byte. */
struct t_rec {
	struct wr_rec r;
	uint8_t buf[T_MAXREC];
};
void t_make(struct t_rec *t, uint32_t p, uint64_t id, uint32_t snaplen);

/* One record read back. */
struct t_seen {
	uint32_t p;
	uint64_t id;
};

/* Reads a pcap (or pcapng) file with libpcap (nanosecond precision) and
 * checks the file header (ns magic or pcapng, Ethernet, snaplen) and every record's bytes, lengths and
 * timestamp against t_make. Returns the number of records, or -1 on any
 * mismatch or a truncated/invalid file (the reason printed). seen (may be
 * NULL) receives up to max records. */
long t_read_check(const char *path, uint32_t snaplen, struct t_seen *seen, size_t max);
/* The same, but a last record cut short is not an error (a file read while
 * a write is in progress): the complete records before it are counted. */
long t_read_check2(const char *path, uint32_t snaplen, struct t_seen *seen, size_t max,
		   bool cut_tail_ok);

/* A fresh temporary folder (under $TMPDIR or /tmp); t_rmdir removes it with
 * its files. */
char *t_tmpdir(void);
void t_rmdir(char *dir);
char *t_path(const char *dir, const char *name);

/* Puts records (p, first..first+n-1) with retries on -ENOBUFS (sleeping
 * briefly): for tests that must not drop. */
void t_put_all(struct wr_stream *s, uint32_t p, uint64_t first, uint64_t n, uint32_t snaplen);
/* Waits up to ms until the writer has written at least n records. */
bool t_wait_records(struct wr_writer *w, uint64_t n, int ms);
/* Runs a command line (system()), returns its exit status. */
int t_sh(const char *fmt, ...);

#endif
