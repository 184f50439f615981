// SPDX-License-Identifier: BSD-2-Clause
/*
 * The generated filter (fg_filter.h) in a host program of our own, built with
 * fg_build as the header's contract says, at XDP and TC: whatever the filter
 * decides (match, no match, out-of-bounds load), the frame comes out of
 * BPF_PROG_TEST_RUN unchanged and passed (XDP_PASS / TC_ACT_OK), and the
 * verdict is the capture length (snaplen) or 0.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filtergen/filtergen.h"

/* The host: filter, store the verdict, always pass. Written only against
 * the documented contract (FG_CTX_T, FG_LOAD_BYTES, fg_filter()). */
static const char host_src[] =
	"#include <linux/bpf.h>\n"
	"#include <linux/pkt_cls.h>\n"
	"#include <bpf/bpf_helpers.h>\n"
	"__u32 verdict;\n"
	"#define FG_CTX_T struct xdp_md\n"
	"#define FG_LOAD_BYTES(ctx, off, dst, len) bpf_xdp_load_bytes(ctx, off, dst, len)\n"
	"#include \"fg_filter.h\"\n"
	"SEC(\"xdp\")\n"
	"int host_xdp(struct xdp_md *ctx)\n"
	"{\n"
	"\tvoid *data = (void *)(long)ctx->data;\n"
	"\tvoid *end = (void *)(long)ctx->data_end;\n"
	"\n"
	"\tverdict = fg_filter(ctx, data, end, bpf_xdp_get_buff_len(ctx));\n"
	"\treturn XDP_PASS;\n"
	"}\n"
	"char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";\n";

static const char host_tc_src[] =
	"#include <linux/bpf.h>\n"
	"#include <linux/pkt_cls.h>\n"
	"#include <bpf/bpf_helpers.h>\n"
	"__u32 verdict;\n"
	"#define FG_CTX_T struct __sk_buff\n"
	"#define FG_LOAD_BYTES(ctx, off, dst, len) bpf_skb_load_bytes(ctx, off, dst, len)\n"
	"#include \"fg_filter.h\"\n"
	"SEC(\"tc\")\n"
	"int host_tc(struct __sk_buff *skb)\n"
	"{\n"
	"\tvoid *data = (void *)(long)skb->data;\n"
	"\tvoid *end = (void *)(long)skb->data_end;\n"
	"\n"
	"\tverdict = fg_filter(skb, data, end, skb->len);\n"
	"\treturn TC_ACT_OK;\n"
	"}\n"
	"char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";\n";

/* Ethernet + IPv4 + TCP 40000 -> 80, 64 bytes. */
static void tcp80(uint8_t *b, uint16_t dport)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 50, 0, 1, 0x40, 0, 64, 6, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40,
	};

	memset(b, 0xa5, 64);
	memcpy(b, hdr, sizeof(hdr));
	b[36] = (uint8_t)(dport >> 8);
	b[37] = (uint8_t)dport;
	b[46] = 0x50;
	b[47] = 0x10;
}

/* Runs pkt through the host; 0 if passed unchanged with verdict `want`. */
static int run(struct bpf_object *obj, int tc, const uint8_t *pkt,
	       uint32_t len, uint32_t want, const char *what)
{
	uint8_t out[256];
	uint32_t zero = 0, verdict = 0xdeadbeef;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	struct bpf_program *prog = bpf_object__find_program_by_name(
		obj, tc ? "host_tc" : "host_xdp");
	struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
	int rc;

	if (!prog || !bss) {
		printf("%s: host program or .bss missing\n", what);
		return -1;
	}
	memset(out, 0, sizeof(out));
	rc = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (rc) {
		printf("%s: test run: %s\n", what, strerror(errno));
		return -1;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(bss), &zero, &verdict)) {
		printf("%s: reading .bss: %s\n", what, strerror(errno));
		return -1;
	}
	rc = 0;
	if (opts.retval != (uint32_t)(tc ? TC_ACT_OK : XDP_PASS)) {
		printf("%s: frame not passed: retval %u\n", what, opts.retval);
		rc = -1;
	}
	if (opts.data_size_out != len || memcmp(out, pkt, len)) {
		printf("%s: frame altered (%u bytes out of %u)\n", what,
		       opts.data_size_out, len);
		rc = -1;
	}
	if (verdict != want) {
		printf("%s: verdict %u, want %u\n", what, verdict, want);
		rc = -1;
	}
	if (!rc)
		printf("%s: passed unchanged, verdict %u\n", what, verdict);
	return rc;
}

static int check(const char *expr, int tc, const uint8_t *pkt, uint32_t len,
		 int match)
{
	char err[FG_ERR_LEN] = "", what[256];
	const struct fg_src src = { "host.bpf.c", tc ? host_tc_src : host_src };
	struct bpf_object *obj = NULL;
	struct fg_filter *f = NULL;
	size_t elf_len = 0;
	void *elf = NULL;
	int rc;

	snprintf(what, sizeof(what), "%s \"%s\" len %u", tc ? "tc" : "xdp",
		 expr, len);
	rc = fg_compile(expr, 262144, &f, err, sizeof(err));
	if (!rc)
		rc = fg_build(f, &src, 1, &elf, &elf_len, err, sizeof(err));
	if (rc) {
		printf("%s: %s\n", what, err);
		goto out;
	}
	obj = bpf_object__open_mem(elf, elf_len, NULL);
	if (!obj || bpf_object__load(obj)) {
		printf("%s: loading the host failed\n", what);
		rc = -1;
		goto out;
	}
	rc = run(obj, tc, pkt, len, match ? fg_snaplen(f) : 0, what);
out:
	bpf_object__close(obj);
	free(elf);
	fg_free(f);
	return rc;
}

int main(void)
{
	uint8_t http[64], dns[64];
	int bad = 0;

	tcp80(http, 80);
	tcp80(dns, 53);
	for (int tc = 0; tc < 2; tc++) {
		bad += !!check("tcp port 80", tc, http, 64, 1);
		bad += !!check("tcp port 80", tc, dns, 64, 0);
		/* Out of bounds: no match, and the frame still passes. */
		bad += !!check("ether[200] = 0xa5", tc, http, 64, 0);
		bad += !!check("tcp[100:4] = 0", tc, http, 64, 0);
		/* len is the frame length here (no truncation). */
		bad += !!check("len = 64", tc, http, 64, 1);
		bad += !!check("none", tc, http, 64, 0);
		bad += !!check("all", tc, http, 64, 1);
	}
	printf("%s: %d failures\n", bad ? "FAIL" : "PASS", bad);
	return bad ? 1 : 0;
}
