/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Errors the user sees: libpcap's own message for a refused expression
 * (-EINVAL, nothing built), snaplen range, netmask handling, the
 * unoptimised path, that the C/cBPF views describe the same program, a
 * clear message when the verifier gives up, and raw cBPF longer than the
 * kernel's limit refused up front.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_fg_util.h"

/* libpcap's message for expr, straight from pcap_compile. */
static void pcap_message(const char *expr, uint32_t netmask, char *buf, size_t len)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;

	buf[0] = 0;
	if (pcap_compile(p, &prog, expr, 1, netmask) < 0)
		snprintf(buf, len, "%s", pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
}

static void t_libpcap_message_passes_through(void)
{
	static const char *bad[] = { "tcp port", "host", "ether[70000:3] = 1", "foo bar",
				     "ip6 and ip[0] = 1 and portrange 9-1x", "vlan 5000" };
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN], want[PCAP_ERRBUF_SIZE];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pcap_message(bad[i], 0, want, sizeof(want));
		FGU_CHECK(want[0], "libpcap accepts '%s'?", bad[i]);
		err[0] = 0;
		ret = fg_compile(bad[i], 262144, &f, err, sizeof(err));
		FGU_CHECK(ret == -EINVAL, "'%s': ret %d, want -EINVAL", bad[i], ret);
		FGU_CHECK(!strcmp(err, want), "'%s': message '%s', libpcap says '%s'", bad[i],
			  err, want);
	}
}

static void t_snaplen_range(void)
{
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "";

	FGU_CHECK(fg_compile("tcp", 0, &f, err, sizeof(err)) == -EINVAL && err[0],
		  "snaplen 0 accepted");
	FGU_CHECK(fg_compile("tcp", FG_SNAPLEN_MAX + 1, &f, err, sizeof(err)) == -EINVAL,
		  "snaplen above max accepted");
	FGU_CHECK(fg_compile("tcp", FG_SNAPLEN_MAX, &f, err, sizeof(err)) == 0,
		  "snaplen max refused: %s", err);
	FGU_CHECK(fg_snaplen(f) == FG_SNAPLEN_MAX, "snaplen not kept");
	FGU_CHECK(!strcmp(fg_expr(f), "tcp"), "expression not kept");
	fg_free(f);
}

/* netmask 0 (tcpdump -r) compiles `ip broadcast`; an unknown netmask gets
 * libpcap's refusal. */
static void t_netmask(void)
{
	struct fg_compile_opts unknown = { .netmask = PCAP_NETMASK_UNKNOWN };
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "", want[PCAP_ERRBUF_SIZE];

	FGU_CHECK(fg_compile("ip broadcast", 65535, &f, err, sizeof(err)) == 0,
		  "ip broadcast with netmask 0: %s", err);
	fg_free(f);
	f = NULL;
	pcap_message("ip broadcast", PCAP_NETMASK_UNKNOWN, want, sizeof(want));
	FGU_CHECK(fg_compile_ex("ip broadcast", 65535, &unknown, &f, err, sizeof(err)) == -EINVAL,
		  "ip broadcast with unknown netmask accepted");
	FGU_CHECK(!strcmp(err, want), "message '%s', libpcap says '%s'", err, want);
}

/* optimize=0 gives libpcap's longer program and the same verdicts. */
static void t_unoptimized_same_verdicts(void)
{
	struct fg_compile_opts unopt = { .unoptimized = 1 };
	struct fgu a = { 0 }, b = { 0 };
	char err[FG_ERR_LEN] = "";
	uint8_t pkt[64] = { 0 };
	int i;

	fgu_load(&a, "tcp port 80 or udp", NULL, 0, 65535);
	FGU_CHECK(fg_compile_ex("tcp port 80 or udp", 65535, &unopt, &b.f, err, sizeof(err)) == 0,
		  "unoptimised: %s", err);
	FGU_CHECK(fg_probe_load(b.f, &b.p, err, sizeof(err)) == 0, "unoptimised load: %s", err);
	FGU_CHECK(fg_cbpf_len(b.f) > fg_cbpf_len(a.f), "unoptimised program not longer (%zu vs %zu)",
		  fg_cbpf_len(b.f), fg_cbpf_len(a.f));
	pkt[12] = 0x08, pkt[14] = 0x45;
	for (i = 0; i < 64; i++) {
		pkt[23] = (uint8_t)(i & 1 ? 6 : 17);
		pkt[37] = (uint8_t)(i & 2 ? 80 : i);
		uint32_t va = fgu_same(&a, pkt, 64, 64, "optimised");
		uint32_t vb = fgu_same(&b, pkt, 64, 64, "unoptimised");
		FGU_CHECK(va == vb, "optimised %u, unoptimised %u", va, vb);
	}
	fgu_free(&a);
	fgu_free(&b);
}

/* The C has one labelled block per cBPF instruction with its listing line. */
static void t_c_has_one_block_per_insn(void)
{
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "", label[64];
	size_t i;

	FGU_CHECK(fg_compile("ip6 protochain 6 or vlan 3", 262144, &f, err, sizeof(err)) == 0,
		  "%s", err);
	for (i = 0; f && i < fg_cbpf_len(f); i++) {
		snprintf(label, sizeof(label), "\nL%zu: /* (%03zu) ", i, i);
		FGU_CHECK(strstr(fg_c_source(f), label), "no block for insn %zu", i);
	}
	snprintf(label, sizeof(label), "\nL%zu: ", i);
	FGU_CHECK(f && !strstr(fg_c_source(f), label), "block past the end");
	fg_free(f);
}

/* A filter the verifier gives up on: -EINVAL and a message saying so. Each
 * of n bytes adds a distinct power of two to M[0] on one branch (which may
 * also end the program, so clang cannot make it branch-free), and M[0] ends
 * as an indirect offset, so the verifier must keep all 2^n paths apart. */
static void t_verifier_refusal_is_clear(void)
{
	enum { STEPS = 18 };
	struct bpf_insn p[8 + 7 * STEPS];
	struct fg_filter *f = NULL;
	struct fg_probe *pr = NULL;
	char err[FG_ERR_LEN] = "";
	size_t n = 0;
	int i, ret;

	p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_IMM, 0);
	p[n++] = (struct bpf_insn)BPF_STMT(BPF_ST, 0);
	for (i = 0; i < STEPS; i++) {
		/* from this step's last insn to the final ret #0 */
		uint8_t to_ret = (uint8_t)((STEPS - i) * 7 - 4);

		p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)i);
		p[n++] = (struct bpf_insn)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 5);
		p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_MEM, 0);
		p[n++] = (struct bpf_insn)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1u << i);
		p[n++] = (struct bpf_insn)BPF_STMT(BPF_ST, 0);
		p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)i + 32);
		p[n++] = (struct bpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x77, to_ret, 0);
	}
	p[n++] = (struct bpf_insn)BPF_STMT(BPF_LDX | BPF_MEM, 0);
	p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0);
	p[n++] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_A, 0);
	p[n++] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, 0);
	FGU_CHECK(fg_from_cbpf(p, n, 65535, &f, err, sizeof(err)) == 0, "%s", err);
	ret = f ? fg_probe_load(f, &pr, err, sizeof(err)) : -1;
	FGU_CHECK(ret == -EINVAL, "load gave %d (%s), want -EINVAL", ret, err);
	FGU_CHECK(!strncmp(err, "filter too complex for the verifier: ", 37) &&
		  strstr(err, "too large"), "message: '%s'", err);
	printf("verifier refusal: %s\n", err);
	fg_probe_free(pr);
	fg_free(f);
}

/* FG_CBPF_MAX_INSNS (the kernel's BPF_MAXINSNS, 4096) instructions are
 * taken; one more is -EINVAL with a message naming the limit, nothing built. */
static void t_cbpf_longer_than_kernel_limit_refused(void)
{
	size_t n = FG_CBPF_MAX_INSNS + 1, i;
	struct bpf_insn *p = calloc(n, sizeof(*p));
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "";
	int ret;

	FGU_CHECK(p, "out of memory");
	if (!p)
		return;
	for (i = 0; i < n; i++)
		p[i] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_IMM, (uint32_t)i);
	/* the limit itself is fine */
	p[FG_CBPF_MAX_INSNS - 1] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_A, 0);
	ret = fg_from_cbpf(p, FG_CBPF_MAX_INSNS, 65535, &f, err, sizeof(err));
	FGU_CHECK(ret == 0, "%d instructions refused: %d %s", FG_CBPF_MAX_INSNS, ret, err);
	fg_free(f);
	f = NULL;
	/* one more is not */
	p[FG_CBPF_MAX_INSNS - 1] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_IMM, 0);
	p[n - 1] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_A, 0);
	err[0] = '\0';
	ret = fg_from_cbpf(p, n, 65535, &f, err, sizeof(err));
	FGU_CHECK(ret == -EINVAL && !f, "%zu instructions: ret %d, want -EINVAL", n, ret);
	FGU_CHECK(strstr(err, "4097 instructions") && strstr(err, "4096"),
		  "message does not name the length and the limit: '%s'", err);
	fg_free(f);
	free(p);
}

int main(void)
{
	t_libpcap_message_passes_through();
	t_snaplen_range();
	t_netmask();
	t_unoptimized_same_verdicts();
	t_c_has_one_block_per_insn();
	t_verifier_refusal_is_clear();
	t_cbpf_longer_than_kernel_limit_refused();
	return fgu_done("errors");
}
