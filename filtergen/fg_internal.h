/* SPDX-License-Identifier: BSD-2-Clause */
/* filtergen internals shared by its source files; not part of the API. */
#ifndef FG_INTERNAL_H
#define FG_INTERNAL_H

#include <stdarg.h>

#include "filtergen/filtergen.h"

struct fg_filter {
	char *expr;
	uint32_t snaplen;
	int dlt; /* FG_DLT_EN10MB or FG_DLT_RAW */
	struct bpf_insn *insns;
	size_t n;
	char *c_src; /* generated fg_filter.h */
};

/* fg_validate.c: bpf_check_classic-like checks; -EINVAL (bad program) or
 * -ENOTSUP (valid but not translatable), reason in err. */
#define FG_V_LENIENT_MEM 1 /* allow reads of never-written scratch cells (read 0) */
int fg_validate(const struct bpf_insn *insns, size_t n, int flags, char *err,
		size_t errlen);
/* True when the program contains a backward jump (a loop). */
int fg_has_loop(const struct bpf_insn *insns, size_t n);

/* fg_pcapc.c: pcap_open_dead(dlt) + pcap_compile in a child process killed
 * after timeout_s (0 = FG_COMPILE_TIMEOUT_S): -ETIMEDOUT "filter compile
 * timed out after N s"; -EINVAL with libpcap's message, or for a program
 * longer than FG_CBPF_MAX_INSNS. *insns is malloc'd. The child is the
 * helper's (d, fg_pcapd.c) or, with d NULL, a fork of the caller. */
int fg_pcap_compile(const struct fg_pcapd *d, const char *expr, uint32_t snaplen, int dlt,
		    int optimize, uint32_t netmask, unsigned int timeout_s,
		    struct bpf_insn **insns, size_t *n, char *err, size_t errlen);
/* In a child process: default signal handlers, nothing blocked, its own
 * process group, killed with its parent, nice 19, every file closed but
 * keep_fd. */
void fg_child_detach(int keep_fd);
/* In a child: compiles, writes the answer to wfd, _exits. */
void fg_pcapc_child(int wfd, const char *expr, uint32_t snaplen, int dlt, int optimize,
		    uint32_t netmask) __attribute__((noreturn));

/* fg_pcapd.c: one compile request to the helper. */
struct fg_pcapd_req {
	uint32_t snaplen;
	int32_t dlt;
	int32_t optimize;
	uint32_t netmask;
	uint32_t timeout_s; /* the child's alarm() */
	uint32_t expr_len;  /* bytes that follow, no NUL */
};
/* Sends q and expr with wfd (the answer's pipe): 0 or -errno (-EPIPE: the
 * helper is gone). */
int fg_pcapd_send(const struct fg_pcapd *d, const struct fg_pcapd_req *q, const char *expr,
		  int wfd);

/* fg_cgen.c: the generated C text (malloc'd) or NULL (-ENOMEM). */
char *fg_cgen(const struct fg_filter *f);

/* fg_compile.c: bpf_image() under the libpcap lock (it uses a static buffer). */
void fg_image(const struct bpf_insn *insn, int pc, char *buf, size_t len);

/* fg_ebpf.c: bpftool-like listing of eBPF instructions (struct bpf_insn of
 * <linux/bpf.h>, passed as void: that name clashes with libpcap's). */
int fg_ebpf_print(const void *insns, uint32_t n, FILE *out);

/* fg_probe.c: for the CLI (process-wide): libbpf's messages repeat the
 * verifier log the CLI summarises; FG_VERBOSE=1 keeps them. */
void fg_libbpf_quiet(void);

/* Formats into err (may be NULL); returns ret so callers can `return fg_err(...)`. */
int fg_err(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
