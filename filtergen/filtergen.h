/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * filtergen: tcpdump filter expression -> classic BPF (libpcap) -> C -> eBPF.
 *
 * The whole public interface of the filter compiler. Semantics are libpcap's
 * (pcap_open_dead(DLT_EN10MB) + pcap_compile, netmask 0, optimised): the
 * generated filter returns the capture length libpcap's filter would return
 * (0 = no match). Two appliance words: "all" (every packet) and "none"
 * (nothing; the initial filter of a new capture).
 *
 * Generated C contract (what a host BPF program sees when it includes
 * "fg_filter.h", the text of fg_c_source()):
 *
 *   The host defines, before the include:
 *     FG_CTX_T                     context type (struct xdp_md / struct __sk_buff)
 *     FG_LOAD_BYTES(ctx, off, dst, len)
 *                                  slow-path load for bytes outside the
 *                                  directly readable area (bpf_xdp_load_bytes /
 *                                  bpf_skb_load_bytes); returns 0 on success
 *   and calls
 *     static __always_inline __u32
 *     fg_filter(FG_CTX_T *ctx, const void *data, const void *data_end, __u32 wire_len);
 *
 *   An out-of-bounds access means "no match" (returns 0); the filter never
 *   drops or alters the packet: that is the host's decision.
 *
 *   Details of the generated header (filtergen/README.md has more):
 *   - Bounds are the bytes present (direct area up to data_end, then
 *     FG_LOAD_BYTES), like libpcap's caplen; wire_len serves `len` only.
 *   - FG_FN (optional) renames fg_filter; the header #undefs it at its end,
 *     so it can be included again with another FG_CTX_T / FG_LOAD_BYTES /
 *     FG_FN (the probe does that for XDP and TC in one object).
 *   - Filters with a backward jump (`ip6 protochain`, `ip protochain`) use
 *     bpf_loop(): the host must include <bpf/bpf_helpers.h> first, compile
 *     with -g (BTF func info) and FG_LOAD_BYTES may use only its arguments
 *     and globals. At most FG_LOOP_MAX (65536) backward jumps, then no match.
 *   - FG_LOAD_BYTES(ctx, off, dst, len): off is a __u32, len 1, 2 or 4.
 *   - The header defines static noinline subprograms next to fg_filter
 *     (<FG_FN>_ld, the slow path of a load; <FG_FN>_slow, the copy of the
 *     program for packets whose linear part is shorter than the farthest
 *     constant offset read): bpf-to-bpf calls (mind the tail-call rules).
 *
 * Functions return 0 or a negative errno. Errors for the user are written to
 * the caller's err buffer (libpcap's own message for a refused expression).
 */
#ifndef FILTERGEN_H
#define FILTERGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FG_SNAPLEN_MAX 262144u
#define FG_ERR_LEN 1024

struct fg_filter;

/* Compiles expr for snaplen (1..FG_SNAPLEN_MAX), for Ethernet (DLT_EN10MB).
 * -EINVAL: libpcap refused it (err holds libpcap's message), or its program is
 * longer than FG_CBPF_MAX_INSNS; -ENOTSUP: valid libpcap but not translatable
 * (err says why); -ETIMEDOUT: libpcap's compiler (a child process, see
 * FG_COMPILE_TIMEOUT_S) ran out of time. Backward jumps (protochain) are translated (bounded loop).
 * A libpcap program may read a scratch cell no path wrote (its optimiser
 * does that; the kernel would refuse it): accepted, the cell reads 0. */
int fg_compile(const char *expr, uint32_t snaplen, struct fg_filter **out,
	       char *err, size_t errlen);
/* Takes a raw classic BPF program (validated like the kernel's
 * bpf_check_classic: -EINVAL with the reason, including reads of unwritten
 * scratch cells; negative offsets and `ja` to itself are refused; other
 * backward jumps run as a bounded loop). For tests of every opcode.
 * Programs longer than FG_CBPF_MAX_INSNS are refused up front (-EINVAL). */
struct bpf_insn;
/* The kernel's classic BPF limit (BPF_MAXINSNS of <linux/bpf_common.h>;
 * libpcap's <pcap/bpf.h> defines its own, smaller, BPF_MAXINSNS). */
#define FG_CBPF_MAX_INSNS 4096
/* Link types a filter can be compiled for: libpcap's DLT_ values (what
 * pcap_open_dead takes) and the LINKTYPE_ values pcap files carry. Raw IP
 * (tun, wireguard, ipip, sit, gre: the packet starts at the IP header) is
 * DLT_RAW, 12 on Linux (14 on OpenBSD), LINKTYPE_RAW (101) in files. */
#define FG_DLT_EN10MB 1
#define FG_DLT_RAW 12
#define FG_LINKTYPE_ETHERNET 1
#define FG_LINKTYPE_RAW 101
/* Default time limit of libpcap's compiler (s): pcap_compile runs in a
 * child process (its time grows much faster than the expression: 1000
 * `host` terms took 96 s), killed after the limit. */
#define FG_COMPILE_TIMEOUT_S 10
/*
 * The compiler helper. libpcap's compile runs in a child process; a child
 * forked from a process with threads may inherit a lock another thread
 * held (a sanitizer's allocator did deadlock so). A program with threads
 * starts the helper while it still has one thread: a process that forks the
 * compile children from a single thread. It holds no privilege: as root
 * (with CAP_SETUID and CAP_SETGID) it becomes nobody (65534), it drops every
 * capability and sets no_new_privs, before fg_pcapd_start returns.
 * fg_pcapd_start: 0 or -errno;
 * fg_pcapd_stop ends it (NULL is fine). Expressions through the helper are
 * at most FG_PCAPD_EXPR_MAX bytes (-E2BIG beyond).
 */
struct fg_pcapd;
#define FG_PCAPD_EXPR_MAX 65536
int fg_pcapd_start(struct fg_pcapd **out);
void fg_pcapd_stop(struct fg_pcapd *d);

/* Options of fg_compile_ex (all zero = fg_compile). */
struct fg_compile_opts {
	const struct fg_pcapd *pcapd; /* NULL: a fork of this process (a
				       * program with one thread only) */
	int unoptimized;  /* pcap_compile optimize=0 (differential tests) */
	uint32_t netmask; /* default 0, like tcpdump -r; PCAP_NETMASK_UNKNOWN ok */
	int dlt;	  /* FG_DLT_EN10MB or FG_DLT_RAW; 0 = FG_DLT_EN10MB */
	unsigned int timeout_s; /* libpcap's compile; 0 = FG_COMPILE_TIMEOUT_S.
				 * Over it: -ETIMEDOUT "filter compile timed out
				 * after N s" */
};
int fg_compile_ex(const char *expr, uint32_t snaplen,
		  const struct fg_compile_opts *opts, struct fg_filter **out,
		  char *err, size_t errlen);
/* fg_compile for a link type (FG_DLT_EN10MB or FG_DLT_RAW; any other value:
 * -EINVAL naming it). fg_compile(...) is fg_compile_dlt(..., FG_DLT_EN10MB, ...). */
int fg_compile_dlt(const char *expr, uint32_t snaplen, int dlt, struct fg_filter **out,
		   char *err, size_t errlen);
/* Raw programs are Ethernet (FG_DLT_EN10MB) filters. */
int fg_from_cbpf(const struct bpf_insn *insns, size_t n, uint32_t snaplen,
		 struct fg_filter **out, char *err, size_t errlen);
void fg_free(struct fg_filter *f);

const char *fg_expr(const struct fg_filter *f);
uint32_t fg_snaplen(const struct fg_filter *f);
/* The link type the filter was compiled for: FG_DLT_* / FG_LINKTYPE_*. */
int fg_dlt(const struct fg_filter *f);
uint32_t fg_linktype(const struct fg_filter *f);
/* FG_LINKTYPE_* of a FG_DLT_* value (0 for any other). */
uint32_t fg_dlt_to_linktype(int dlt);

/* The cBPF program, as pcap_compile produced it (after "all"/"none" mapping). */
size_t fg_cbpf_len(const struct fg_filter *f);
const struct bpf_insn *fg_cbpf_insns(const struct fg_filter *f); /* <pcap/bpf.h> bpf_insn */
/* Listing like `tcpdump -d`. */
int fg_print_cbpf(const struct fg_filter *f, FILE *out);

/* The generated C (the content of fg_filter.h, see the contract above). */
const char *fg_c_source(const struct fg_filter *f);

/* A source file given to the BPF compiler next to the generated fg_filter.h. */
struct fg_src {
	const char *name; /* file name, e.g. "capture.bpf.c" */
	const char *text;
};

/* Compiles srcs[0] (which includes "fg_filter.h" and may include the other
 * srcs by name) with clang -target bpf -O2 into an ELF object in memory.
 * *elf is malloc'd; the caller frees it. clang's diagnostics go to err.
 * clang runs in its own process group at low priority (fg_build_opts);
 * after the time limit the group is killed: -ETIMEDOUT, "filter compile
 * timed out after N s". Nothing is left behind (process, temp files). */
int fg_build(const struct fg_filter *f, const struct fg_src *srcs, size_t nsrcs,
	     void **elf, size_t *elf_len, char *err, size_t errlen);
/* Default time limit of one clang run (s). */
#define FG_BUILD_TIMEOUT_S 10
/* clang's CPU priority. */
enum fg_build_prio {
	FG_PRIO_NICE = 0, /* nice 19 (default) */
	FG_PRIO_IDLE,	  /* SCHED_IDLE: runs only on an otherwise idle CPU */
	FG_PRIO_INHERIT,  /* the caller's */
};
struct fg_build_opts {
	unsigned int timeout_s; /* 0 = FG_BUILD_TIMEOUT_S */
	enum fg_build_prio prio;
};
/* fg_build with options (NULL = defaults; fg_build is fg_build_ex(NULL)). */
int fg_build_ex(const struct fg_filter *f, const struct fg_src *srcs, size_t nsrcs,
		const struct fg_build_opts *opts, void **elf, size_t *elf_len, char *err,
		size_t errlen);

/*
 * Probe: the filter alone, loaded as an XDP and a TC program that record the
 * filter's verdict and always pass the packet. Used by `filter apply`, the
 * tests and the benchmarks.
 */
enum fg_hook { FG_HOOK_XDP, FG_HOOK_TC };
struct fg_probe;

/* Builds and loads both flavours; verifier refusals give -EINVAL with the
 * verifier's complaint summarised in err. */
int fg_probe_load(const struct fg_filter *f, struct fg_probe **out, char *err,
		  size_t errlen);
/* Runs one packet (BPF_PROG_TEST_RUN); *caplen = the filter's return value.
 * wire_len is the packet's length on the wire (libpcap's `len`); it may be
 * larger than len for a record that was cut short. The len bytes are all the
 * filter can read (like libpcap's caplen); records shorter than 14 bytes work
 * too (padded in front, invisible to the filter; at TC every record runs
 * behind a 14-byte pad header, so the kernel's skb parsing never refuses a
 * short IP packet). -E2BIG: the kernel's test-run limit (TC: one page less
 * the pad, 3698 bytes; XDP: about 73 KB). fg_probe_run and fg_probe_bench
 * on one probe must not run concurrently (one .bss). */
int fg_probe_run(struct fg_probe *p, enum fg_hook hook, const void *pkt,
		 uint32_t len, uint32_t wire_len, uint32_t *caplen);
/* Runs one packet repeat times; *ns_per_run is the kernel's average. */
int fg_probe_bench(struct fg_probe *p, enum fg_hook hook, const void *pkt,
		   uint32_t len, uint32_t repeat, uint64_t *ns_per_run);
/* Number of eBPF instructions the verifier accepted, per hook. */
uint32_t fg_probe_insn_count(const struct fg_probe *p, enum fg_hook hook);
/* Instructions the verifier processed to accept it (its complexity; the
 * limit is 1,000,000), per hook. */
uint32_t fg_probe_verified_insns(const struct fg_probe *p, enum fg_hook hook);
int fg_probe_dump_ebpf(const struct fg_probe *p, enum fg_hook hook, FILE *out);
void fg_probe_free(struct fg_probe *p);

/* CLI: `capture-appliance filter compile|apply ...`; returns the exit status. */
int fg_cli_main(int argc, char **argv);

#endif
