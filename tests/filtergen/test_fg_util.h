/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers for the filtergen unit tests: run a filter on both hooks and
 * compare with libpcap's bpf_filter on the same bytes. */
#ifndef TEST_FG_UTIL_H
#define TEST_FG_UTIL_H

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "filtergen/filtergen.h"

static int fgu_failures;

#define FGU_CHECK(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
			fgu_failures++;                                        \
		}                                                              \
	} while (0)

struct fgu {
	struct fg_filter *f;
	struct fg_probe *p;
};

/* Compiles and loads (raw program if insns, else expr); aborts the test on
 * failure since everything after depends on it. */
static inline void fgu_load(struct fgu *u, const char *expr, const struct bpf_insn *insns,
			    size_t n, uint32_t snaplen)
{
	char err[FG_ERR_LEN] = "";
	int ret;

	ret = insns ? fg_from_cbpf(insns, n, snaplen, &u->f, err, sizeof(err))
		    : fg_compile(expr, snaplen, &u->f, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "FAIL: compile %s: %d %s\n", expr ? expr : "(raw)", ret, err);
		exit(1);
	}
	ret = fg_probe_load(u->f, &u->p, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "FAIL: load %s: %d %s\n", expr ? expr : "(raw)", ret, err);
		exit(1);
	}
}

static inline void fgu_free(struct fgu *u)
{
	fg_probe_free(u->p);
	fg_free(u->f);
	u->p = NULL;
	u->f = NULL;
}

/* libpcap's verdict on the same bytes. */
static inline uint32_t fgu_pcap(const struct fgu *u, const uint8_t *pkt, uint32_t len,
				uint32_t wire_len)
{
	return bpf_filter(fg_cbpf_insns(u->f), pkt, wire_len, len);
}

/* Runs pkt on XDP and (if it fits) TC; both must equal want (libpcap's
 * verdict if want is UINT32_MAX... use fgu_same for that). Returns the XDP
 * verdict. */
static inline uint32_t fgu_run(const struct fgu *u, const uint8_t *pkt, uint32_t len,
			       uint32_t wire_len, uint32_t want, const char *what)
{
	uint32_t v[2] = { 0xdeadbeef, 0xdeadbeef };
	int h, ret;

	for (h = 0; h < 2; h++) {
		ret = fg_probe_run(u->p, (enum fg_hook)h, pkt, len, wire_len, &v[h]);
		if (ret == -E2BIG && h == FG_HOOK_TC)
			continue;
		FGU_CHECK(ret == 0, "%s: %s run failed: %d", what, h ? "TC" : "XDP", ret);
		FGU_CHECK(v[h] == want, "%s: %s verdict %u, want %u", what,
			  h ? "TC" : "XDP", v[h], want);
	}
	return v[0];
}

/* Both hooks agree with libpcap's bpf_filter; returns libpcap's verdict. */
static inline uint32_t fgu_same(const struct fgu *u, const uint8_t *pkt, uint32_t len,
				uint32_t wire_len, const char *what)
{
	uint32_t want = fgu_pcap(u, pkt, len, wire_len);

	fgu_run(u, pkt, len, wire_len, want, what);
	return want;
}

static inline int fgu_done(const char *name)
{
	if (fgu_failures)
		fprintf(stderr, "%s: %d failures\n", name, fgu_failures);
	else
		printf("%s: ok\n", name);
	return fgu_failures ? 1 : 0;
}

#endif
