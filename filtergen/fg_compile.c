/* SPDX-License-Identifier: BSD-2-Clause */
/* Expression -> classic BPF (libpcap, fg_pcapc.c) -> a checked struct fg_filter. */
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/bpf.h>

#include "filtergen/fg_internal.h"

/* filtergen.h spells libpcap's values out so its users need no pcap headers. */
_Static_assert(FG_DLT_EN10MB == DLT_EN10MB && FG_DLT_RAW == DLT_RAW,
	       "FG_DLT_* must be libpcap's DLT_* values");

/* bpf_image() returns a static buffer: a lock around it (pcap_compile runs
 * in a child process, fg_pcapc.c). */
static pthread_mutex_t fg_pcap_lock = PTHREAD_MUTEX_INITIALIZER;

int fg_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

void fg_image(const struct bpf_insn *insn, int pc, char *buf, size_t len)
{
	pthread_mutex_lock(&fg_pcap_lock);
	/* bpf_image() takes a non-const pointer but does not write through it */
	snprintf(buf, len, "%s", bpf_image((struct bpf_insn *)insn, pc));
	pthread_mutex_unlock(&fg_pcap_lock);
}

/* Every path into the compiler comes through here: the one instruction cap.
 * The kernel refuses longer classic programs (so tcpdump could not attach
 * them either), and clang needs minutes on them. */
static int fg_new(const char *expr, uint32_t snaplen, int dlt, const struct bpf_insn *insns,
		  size_t n, int vflags, struct fg_filter **out, char *err, size_t errlen)
{
	struct fg_filter *f;
	int ret;

	if (n > FG_CBPF_MAX_INSNS)
		return fg_err(err, errlen, -EINVAL,
			      "program of %zu instructions is longer than the %d a classic "
			      "BPF program may have", n, FG_CBPF_MAX_INSNS);
	ret = fg_validate(insns, n, vflags, err, errlen);
	if (ret)
		return ret;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->snaplen = snaplen;
	f->dlt = dlt;
	f->n = n;
	f->expr = strdup(expr);
	f->insns = malloc(n * sizeof(*insns));
	if (!f->expr || !f->insns) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(f->insns, insns, n * sizeof(*insns));
	f->c_src = fg_cgen(f);
	if (!f->c_src) {
		ret = -ENOMEM;
		goto out;
	}
	*out = f;
	return 0;
out:
	fg_free(f);
	return ret;
}

/* "all" / "none" (surrounding blanks ignored): 1 / 0, else -1. */
static int fg_word(const char *expr)
{
	size_t len;

	expr += strspn(expr, " \t\n");
	len = strlen(expr);
	while (len && strchr(" \t\n", expr[len - 1]))
		len--;
	if (len == 3 && !strncmp(expr, "all", 3))
		return 1;
	if (len == 4 && !strncmp(expr, "none", 4))
		return 0;
	return -1;
}

int fg_compile_ex(const char *expr, uint32_t snaplen,
		  const struct fg_compile_opts *opts, struct fg_filter **out,
		  char *err, size_t errlen)
{
	struct bpf_insn ret_insn, *insns = NULL;
	int dlt = opts && opts->dlt ? opts->dlt : FG_DLT_EN10MB;
	size_t n = 0;
	int word, ret;

	if (!expr || !out)
		return fg_err(err, errlen, -EINVAL, "no expression");
	if (snaplen < 1 || snaplen > FG_SNAPLEN_MAX)
		return fg_err(err, errlen, -EINVAL,
			      "snaplen %u out of range 1..%u", snaplen, FG_SNAPLEN_MAX);
	if (!fg_dlt_to_linktype(dlt))
		return fg_err(err, errlen, -EINVAL,
			      "link type %d not supported (DLT_EN10MB %d or DLT_RAW %d)", dlt,
			      FG_DLT_EN10MB, FG_DLT_RAW);
	word = fg_word(expr);
	if (word >= 0) {
		ret_insn = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, word ? snaplen : 0);
		return fg_new(expr, snaplen, dlt, &ret_insn, 1, 0, out, err, errlen);
	}

	ret = fg_pcap_compile(opts ? opts->pcapd : NULL, expr, snaplen, dlt, opts && opts->unoptimized ? 0 : 1,
			      opts ? opts->netmask : 0, opts ? opts->timeout_s : 0, &insns, &n,
			      err, errlen);
	if (!ret)
		ret = fg_new(expr, snaplen, dlt, insns, n, FG_V_LENIENT_MEM, out, err, errlen);
	free(insns);
	return ret;
}

int fg_compile(const char *expr, uint32_t snaplen, struct fg_filter **out,
	       char *err, size_t errlen)
{
	return fg_compile_ex(expr, snaplen, NULL, out, err, errlen);
}

int fg_compile_dlt(const char *expr, uint32_t snaplen, int dlt, struct fg_filter **out,
		   char *err, size_t errlen)
{
	struct fg_compile_opts o = { .dlt = dlt };

	/* 0 is DLT_NULL here, not "the default" as in the opts struct */
	if (!dlt)
		return fg_err(err, errlen, -EINVAL,
			      "link type %d not supported (DLT_EN10MB %d or DLT_RAW %d)", dlt,
			      FG_DLT_EN10MB, FG_DLT_RAW);
	return fg_compile_ex(expr, snaplen, &o, out, err, errlen);
}

uint32_t fg_dlt_to_linktype(int dlt)
{
	switch (dlt) {
	case FG_DLT_EN10MB:
		return FG_LINKTYPE_ETHERNET;
	case FG_DLT_RAW:
		return FG_LINKTYPE_RAW;
	default:
		return 0;
	}
}

int fg_from_cbpf(const struct bpf_insn *insns, size_t n, uint32_t snaplen,
		 struct fg_filter **out, char *err, size_t errlen)
{
	if (!insns || !out)
		return fg_err(err, errlen, -EINVAL, "no program");
	if (snaplen < 1 || snaplen > FG_SNAPLEN_MAX)
		return fg_err(err, errlen, -EINVAL,
			      "snaplen %u out of range 1..%u", snaplen, FG_SNAPLEN_MAX);
	return fg_new("(raw cBPF)", snaplen, FG_DLT_EN10MB, insns, n, 0, out, err, errlen);
}

void fg_free(struct fg_filter *f)
{
	if (!f)
		return;
	free(f->expr);
	free(f->insns);
	free(f->c_src);
	free(f);
}

const char *fg_expr(const struct fg_filter *f)
{
	return f->expr;
}

uint32_t fg_snaplen(const struct fg_filter *f)
{
	return f->snaplen;
}

int fg_dlt(const struct fg_filter *f)
{
	return f->dlt;
}

uint32_t fg_linktype(const struct fg_filter *f)
{
	return fg_dlt_to_linktype(f->dlt);
}

size_t fg_cbpf_len(const struct fg_filter *f)
{
	return f->n;
}

const struct bpf_insn *fg_cbpf_insns(const struct fg_filter *f)
{
	return f->insns;
}

const char *fg_c_source(const struct fg_filter *f)
{
	return f->c_src;
}

int fg_print_cbpf(const struct fg_filter *f, FILE *out)
{
	char line[128];
	size_t i;

	for (i = 0; i < f->n; i++) {
		fg_image(&f->insns[i], (int)i, line, sizeof(line));
		if (fprintf(out, "%s\n", line) < 0)
			return -EIO;
	}
	return 0;
}
