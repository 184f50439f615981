/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * extract: the "time machine". An index beside each sealed capture file
 * (FILE.idx: where each block of records starts, its time range and a Bloom
 * filter of the addresses, ports, IP protocols and VLAN IDs in it), and an
 * offline query that returns exactly what `tcpdump -r FILE EXPRESSION`
 * returns inside a time window, merged in time order across files, reading
 * only the files and blocks that can hold a match. See extract/README.md.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef EXTRACT_H
#define EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Writes PCAP_PATH.idx for a sealed (complete, never written again) pcap or
 * pcapng file: built under a temporary name in the same folder, then
 * renamed over, so a reader never sees half an index. Reads the whole file
 * once, sequentially; meant for a low-priority background thread after the
 * file is sealed (it allocates, opens files and does I/O; no global state,
 * thread-safe). On failure no index is left and err (if errlen > 0) holds
 * a message: -ENOENT/-EACCES (file), -EINVAL (not a pcap/pcapng file or
 * unreadable records), -ENOMEM, or the write error. */
int ex_index_file(const char *pcap_path, char *err, size_t errlen);

/* Parses a time: RFC 3339 ("2026-12-03T08:00:00.5Z", "...+01:00", 't' or
 * ' ' as separator, 'z' too) or Unix seconds with an optional fraction
 * ("1764748800.25"); nanoseconds since the epoch in *ns. -EINVAL for
 * anything else (trailing text, bad field, more than 9 fraction digits). */
int ex_parse_time(const char *s, int64_t *ns);

/* The capture files an -r argument names, oldest first: an existing
 * regular file is itself; anything else is a dump prefix, whose rotation
 * files PREFIX-NNNNNNNN-*.pcap / .pcapng (not their .idx) are listed in
 * sequence order, plus PREFIX.pcap / PREFIX.pcapng if present (a capture
 * without rotation). -ENOENT when nothing matches. *out is a NULL-terminated
 * array of malloc'd paths (ex_paths_free). */
int ex_expand_input(const char *arg, char ***out, size_t *n);
void ex_paths_free(char **paths);

enum ex_format {
	EX_FMT_PCAP = 0, /* classic pcap, nanosecond magic */
	EX_FMT_PCAPNG,	 /* pcapng: one IDB per link type, if_tsresol 9 */
};

struct ex_stats {
	uint64_t files;		 /* input files */
	uint64_t files_skipped;	 /* never opened: the index ruled them out */
	uint64_t files_indexed;	 /* with a valid index */
	uint64_t index_ignored;	 /* index present but stale or damaged */
	uint64_t blocks;	 /* indexed blocks in the opened files */
	uint64_t blocks_skipped; /* of those, not read */
	uint64_t records_read;	 /* records run through the filter */
	uint64_t bytes_total;	 /* bytes of all input files */
	uint64_t bytes_read;	 /* bytes of the records read */
	uint64_t records_out;
	uint64_t files_cut;	 /* a read error ended the file early (as in tcpdump) */
	uint64_t files_gone;	 /* deleted before they were read (retention) */
};

struct ex_opts {
	const char *const *files; /* the input files, in -r order (ex_expand_input) */
	size_t nfiles;
	const char *expr;	  /* tcpdump expression; NULL or "" = everything */
	bool has_from, has_to;
	int64_t from_ns, to_ns;	  /* the window [from, to) */
	enum ex_format format;
	FILE *out;		  /* the answer goes here (not closed), unless: */
	/* write: the answer in pieces of up to 256 KiB to write(write_arg,
	 * buf, len) (e.g. a chunked HTTP response); it returns len, or -1
	 * to stop the query (a client gone: ex_extract then fails -EIO) */
	ssize_t (*write)(void *write_arg, const char *buf, size_t len);
	void *write_arg;
	bool no_index;		  /* ignore indexes (a full scan; for tests) */
	/* Called now and then (about every 64 Ki records and at each file)
	 * from the calling thread; may be NULL. */
	void (*progress)(void *arg, const struct ex_stats *st);
	void *progress_arg;
	/* Called with a one-line message for what does not stop the query: an
	 * index present but ignored (stale, damaged: that file is read in
	 * full), a file deleted before it was read, a read error that ends
	 * a file early (cut last record of a live file); may be NULL. */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

/* Runs the query and writes the answer to o->out: the records each file's
 * `tcpdump -r FILE EXPRESSION` returns with from <= time < to, merged by
 * time across files (a k-way merge; equal times keep -r order, then file
 * order). -EINVAL with libpcap's message in err when the expression is
 * refused (before anything is written); -EPROTO when pcap output would mix
 * link types (pcapng can); -EILSEQ for a file libpcap can't read as a
 * capture; other errors for unreadable files or a failed write (the
 * message is in err in every case). st may be NULL. */
int ex_extract(const struct ex_opts *o, struct ex_stats *st, char *err, size_t errlen);

/* ---- the index, for tests and tools ---- */

/* A key of the index: what a query can require of a packet. */
enum ex_key_type {
	EX_KEY_IP4 = 1,	 /* IPv4 source/destination, ARP/RARP sender/target */
	EX_KEY_IP6 = 2,	 /* IPv6 source/destination */
	EX_KEY_PORT = 3, /* TCP/UDP/SCTP source/destination port */
	EX_KEY_PROTO = 4,/* IPv4 protocol, IPv6 next header (and after a fragment header) */
	EX_KEY_VLAN = 5, /* 802.1Q/802.1ad VLAN ID, every tag of the stack */
	EX_KEY_NET4 = 6, /* an EX_KEY_IP4 cut to /8, /16 or /24: val[0..3]
			  * the masked address, val[4] the prefix length */
};

struct ex_key {
	uint8_t type;	 /* enum ex_key_type */
	uint8_t len;	 /* bytes of val used */
	uint8_t val[16]; /* network byte order */
};

/* The keys of one packet (DLT dlt: Ethernet or raw IP; other link types
 * have none): at most max into keys; returns how many there were (may
 * exceed max: then only the first max are stored). */
size_t ex_pkt_keys(int dlt, const uint8_t *pkt, uint32_t caplen, struct ex_key *keys, size_t max);

struct ex_index_priv;

struct ex_index_block {
	uint64_t offset;	 /* file offset of the block's first record */
	uint64_t min_ns, max_ns; /* earliest and latest record time in it */
	uint32_t records;
	bool bloom_ok;		 /* its Bloom filter passed its checksum */
};

struct ex_index {
	uint32_t version;
	uint32_t dlt;		 /* link type of the records (libpcap DLT) */
	uint32_t snaplen;	 /* the file's, as libpcap reports it */
	bool keys;		 /* blocks carry keys (a link type ex_pkt_keys knows) */
	bool seekable;		 /* blocks can be read on their own (pcapng: all
				  * IDBs before the first packet, one section) */
	uint64_t pcap_size;	 /* the indexed file's size */
	uint64_t records;
	uint64_t min_ns, max_ns; /* 0, 0 when there are no records */
	uint32_t nblocks;
	struct ex_index_block *blocks;
	struct ex_index_priv *priv; /* the open .idx, Bloom filter cache */
};

/* Loads PCAP_PATH.idx and checks it: magic, version, header checksum, the
 * pcap file's current size (-ESTALE if it differs), structure (-EBADMSG:
 * damaged; each block's Bloom filter has its own checksum, checked when
 * it is read). -ENOENT: no index. The message is in err. */
int ex_index_load(const char *pcap_path, struct ex_index **out, char *err, size_t errlen);
void ex_index_free(struct ex_index *ix);
/* Whether block b may hold a packet with key k (true when the Bloom filter
 * can't be read or fails its checksum: never trusted blindly). */
bool ex_index_may_have(struct ex_index *ix, uint32_t b, const struct ex_key *k);

/* ---- what a query requires ---- */

/* A conservative summary of a compiled expression: a packet can match
 * only if, for at least one alternative, it has every key of that
 * alternative. narrowable false = no such summary (every block may match). */
struct ex_need {
	bool narrowable;
	size_t nalt;
	struct ex_need_alt {
		size_t nkeys;
		struct ex_key *keys;
	} *alts;
};

/* From the cBPF libpcap compiled for link type dlt. */
int ex_need_from_bpf(int dlt, const void *insns /* struct bpf_insn */, size_t n,
		     struct ex_need *need);
void ex_need_free(struct ex_need *need);
/* Whether block b of ix may hold a match (index without keys: true). */
bool ex_need_block(const struct ex_need *need, struct ex_index *ix, uint32_t b);

#endif
