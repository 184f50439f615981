/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Differential test harness: filtergen (eBPF via BPF_PROG_TEST_RUN, XDP and
 * TC) against libpcap (pcap_compile on a dead DLT_EN10MB handle + bpf_filter)
 * on the packets of the shared corpus. Shared by the test_fg_corpus* files.
 */
#ifndef TEST_FG_CORPUS_H
#define TEST_FG_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#define FGT_SNAPLEN_DEFAULT 262144u

struct fgt_pkt {
	uint8_t *data;
	uint32_t len;	   /* captured bytes given to both sides */
	uint32_t wire_len; /* libpcap's `len` */
	char origin[96];   /* "file#index" (1-based, like tcpdump) */
	/* BPF_PROG_TEST_RUN refuses this frame for any program, by hook
	 * (0 XDP, 1 TC): see fgt_pkts_kernel_check. */
	uint8_t kernel_refuses[2];
};

struct fgt_pkts {
	struct fgt_pkt *v;
	size_t n, cap;
	/* Load statistics, for the summary line. */
	size_t files, files_eth, files_bad, records, full_len, dups;
	size_t cut, cut_unique; /* records cut short (0 < caplen < len) */
	size_t kernel_refused[2]; /* frames the test run refuses, by hook */
	/* Open-addressing dedupe set over packet bytes (indexes into v + 1). */
	size_t *set;
	size_t set_cap;
};

/* Adds the Ethernet records of every capture in dir, full-length ones and
 * ones cut short (with their wire length), deduped across calls. Files that
 * libpcap cannot open count as files_bad. */
int fgt_pkts_add_dir(struct fgt_pkts *pk, const char *dir);
/* Every record of one savefile, truncated ones too, no dedupe (apply tests).
 * *snaplen receives the savefile's snaplen, *dlt its link type. */
int fgt_pkts_load_file(struct fgt_pkts *pk, const char *path, int *dlt,
		       uint32_t *snaplen);
void fgt_pkts_free(struct fgt_pkts *pk);
/* Marks the frames BPF_PROG_TEST_RUN refuses with a trivial program. */
int fgt_pkts_kernel_check(struct fgt_pkts *pk);

struct fgt_stats;

/* One expression to compare, with the libpcap expression (normally equal;
 * differs only in the self-check). */
struct fgt_case {
	const char *fg_expr;
	const char *pcap_expr;
	uint32_t snaplen;
	const char *origin; /* where the expression comes from */
	/* Self-check only: flip libpcap's verdict of this packet (SIZE_MAX:
	 * none). */
	size_t flip_pkt;
	/* apply tests: libpcap's recorded per-packet results (NULL: none). */
	const uint32_t *expected;
	size_t nexpected;
	/* Packets for this case only (apply tests); NULL: the shared set. */
	const struct fgt_pkts *pkts;
	/* Must-refuse cases: libpcap 1.11's expected error substring. */
	const char *errstr;
	/* libpcap's unoptimised program, given to fg_from_cbpf (fg_compile
	 * always optimises): other shapes, scratch memory, long chains. */
	int unopt;
};

struct fgt_reason {
	char *why;
	size_t count;
};

/* Expression lists read from the corpus. */
struct fgt_list {
	struct fgt_case *v;   /* compared on packets */
	size_t n, cap;
	struct fgt_case *rej; /* must be refused by fg_compile (-EINVAL) */
	size_t nrej, caprej;
	struct fgt_reason *reasons; /* left-out counts per reason */
	size_t nreasons, left_out;
	size_t not_filters; /* rows that are no filter (magic argv, savefile) */
	size_t other_dlt;
	/* TESTrun's name DB is in place (fgt_namedb_enter); else rows that
	 * need it are left out with namedb_why. */
	int namedb;
	const char *namedb_why;
	int unopt; /* cases compare libpcap's unoptimised programs */
};

/* Private mount namespace whose /etc holds TESTrun's hosts, ethers and
 * networks entries (libpcap_test_namedb.txt); the machine's /etc is not
 * touched. 0 or a negative errno with the reason in why. */
int fgt_namedb_enter(const char *corpus, char *why, size_t whylen);

/* kind: "accept" or "reject" rows of libpcap_filters.tsv with dlt EN10MB. */
int fgt_load_tsv(struct fgt_list *l, const char *corpus, const char *kind);
int fgt_load_extra(struct fgt_list *l, const char *corpus);
/* Returns 1 if (expr, snaplen) was already listed, 0 if added. */
int fgt_list_add(struct fgt_list *l, const char *expr, uint32_t snaplen,
		 const char *origin);
/* Adds without the duplicate check. */
int fgt_list_push(struct fgt_list *l, const char *expr, uint32_t snaplen,
		  const char *origin);
int fgt_list_add_reject(struct fgt_list *l, const char *expr,
			uint32_t snaplen, const char *origin,
			const char *errstr);
void fgt_list_leave_out(struct fgt_list *l, const char *expr,
			const char *origin, const char *why);
void fgt_list_print_reasons(const struct fgt_list *l);
void fgt_list_free(struct fgt_list *l);

/* Reject cases: fg_compile must give -EINVAL and libpcap's message. Rows
 * libpcap 1.10 accepts are left out (listed). Adds to st. */
int fgt_check_rejects(struct fgt_list *l, struct fgt_stats *st);
/* Shows the reject check fails on an accepted or mis-worded expression. */
int fgt_reject_self_check(void);

struct fgt_stats {
	uint64_t exprs;		/* compared on packets */
	uint64_t left_out;	/* listed with a reason, not compared */
	uint64_t packets;	/* packet runs (per expression) */
	uint64_t comparisons;	/* hook verdict comparisons */
	uint64_t disagreements; /* verdict or capture length differs */
	uint64_t expected_mismatch; /* libpcap here vs recorded results */
	uint64_t errors;	/* fg compile/load/run failure (test fails) */
	uint64_t enotsup;	/* refused by fg: backward jump (protochain) */
	uint64_t tc_refused;	/* TC test run refuses the frame (any prog) */
	uint64_t tc_refused_min_len;
	uint64_t xdp_refused;	/* XDP test run refuses the frame (any prog) */
	uint64_t kernel_refused; /* fg and the kernel's cBPF check refuse */
	uint64_t rejected;	/* refused by fg with libpcap's message */
	uint64_t wording;	/* 1.10 message lacks 1.11's errstr */
	double compile_ms;	/* total fg_compile + fg_probe_load */
};

/* Compares one case over all packets on both hooks; adds to st. Prints one
 * line per disagreement (expression, hook, packet origin and bytes). */
int fgt_diff_case(const struct fgt_pkts *pk, const struct fgt_case *c,
		  struct fgt_stats *st, int quiet);

/* Runs cases over nworkers forked processes, sums their stats into st. */
int fgt_diff_cases(const struct fgt_pkts *pk, const struct fgt_case *c,
		   size_t n, int nworkers, struct fgt_stats *st);

/* Self-check: the harness must see a deliberately wrong filter. Returns 0
 * if both the wrong-expression and the flipped-verdict check were caught. */
int fgt_self_check(const struct fgt_pkts *pk);

void fgt_stats_add(struct fgt_stats *dst, const struct fgt_stats *src);
void fgt_stats_print(const char *name, const struct fgt_pkts *pk,
		     const struct fgt_stats *st);

/* libpcap side: compile on a dead EN10MB handle (netmask 0), optimised
 * like fg_compile unless unopt. 0 or -EINVAL with libpcap's message. */
struct bpf_program;
int fgt_pcap_compile(const char *expr, uint32_t snaplen, int unopt,
		     struct bpf_program *prog, char *err, size_t errlen);

/* True if the cBPF program has a jump that goes backwards (32-bit wrap of
 * `ja`, as libpcap's protochain emits). */
int fgt_has_backward_jump(const struct bpf_program *prog);

/* Tab-split helper: splits line in place, returns the number of fields. */
int fgt_split_tabs(char *line, char **f, int maxf);

#endif
