// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every classic BPF opcode and addressing mode, hand-built, through
 * fg_from_cbpf and both probe hooks (XDP, TC), compared with libpcap's
 * bpf_filter() on the same bytes. Each case also states the value the
 * interpreter must give on the main packet, so a case that does not
 * exercise what it claims fails too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/bpf.h>

#include "filtergen/filtergen.h"

#define SNAP 262144u
#define NPKT 7
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct tpkt {
	uint8_t b[1600];
	uint32_t len, wire;
	const char *name;
};

static struct tpkt pkts[NPKT];

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* P0: pattern (the main packet); P1: bytes >= 0x80 (unsigned compares);
 * P2: zeros (X == 0); P3: minimal 14 bytes; P4: record cut short (wire
 * 1000); P5: 1500 bytes; P6: 15 bytes of 0xff. */
static void init_pkts(void)
{
	static const uint32_t lens[NPKT] = { 128, 128, 64, 14, 60, 1500, 15 };
	static const char *const names[NPKT] = {
		"pattern128", "high128", "zero64", "min14", "cut60/1000",
		"pattern1500", "ff15",
	};

	for (int p = 0; p < NPKT; p++) {
		pkts[p].len = lens[p];
		pkts[p].wire = lens[p];
		pkts[p].name = names[p];
		for (uint32_t i = 0; i < lens[p]; i++) {
			uint8_t v = (uint8_t)(i * 37 + 11);

			if (p == 1)
				v |= 0x80;
			else if (p == 2)
				v = 0;
			else if (p == 6)
				v = 0xff;
			pkts[p].b[i] = v;
		}
	}
	pkts[4].wire = 1000;
}

/* Compiles insns, loads the probe, runs every packet on both hooks, and
 * compares with bpf_filter. expect0: bpf_filter's value on P0 (checked, so
 * the case tests what it says), or -1 to skip that check. */
static void diff_prog(const char *name, const struct bpf_insn *insns,
		      size_t n, int64_t expect0)
{
	char err[FG_ERR_LEN] = "";
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	int rc, bad = 0;

	rc = fg_from_cbpf(insns, n, SNAP, &f, err, sizeof(err));
	if (rc)
		fail_msg("%s: fg_from_cbpf: %d %s", name, rc, err);
	rc = fg_probe_load(f, &p, err, sizeof(err));
	if (rc) {
		fg_free(f);
		fail_msg("%s: fg_probe_load: %d %s", name, rc, err);
	}
	for (int i = 0; i < NPKT; i++) {
		const struct tpkt *t = &pkts[i];
		uint32_t want = bpf_filter(insns, t->b, t->wire, t->len);

		if (i == 0 && expect0 >= 0 && want != (uint32_t)expect0) {
			printf("%s: bpf_filter gives %u on P0, case expects %lld\n",
			       name, want, (long long)expect0);
			bad++;
		}
		for (int h = 0; h < 2; h++) {
			enum fg_hook hook = h ? FG_HOOK_TC : FG_HOOK_XDP;
			uint32_t got = 0xdeadbeef;

			rc = fg_probe_run(p, hook, t->b, t->len, t->wire, &got);
			if (rc || got != want) {
				printf("%s: %s on %s (len %u wire %u): libpcap %u, fg %u (rc %d)\n",
				       name, h ? "tc" : "xdp", t->name, t->len,
				       t->wire, want, got, rc);
				bad++;
			}
		}
	}
	fg_probe_free(p);
	fg_free(f);
	if (bad)
		fail_msg("%s: %d disagreements", name, bad);
}

/* fg_from_cbpf must refuse the program; the reason must be given. */
static void refused(const char *name, const struct bpf_insn *insns, size_t n)
{
	char err[FG_ERR_LEN] = "";
	struct fg_filter *f = NULL;
	int rc = fg_from_cbpf(insns, n, SNAP, &f, err, sizeof(err));

	if (rc >= 0) {
		fg_free(f);
		fail_msg("%s: accepted, must be refused", name);
	}
	if (rc != -EINVAL && rc != -ENOTSUP)
		fail_msg("%s: refused with %d, want -EINVAL/-ENOTSUP", name, rc);
	if (!err[0])
		fail_msg("%s: refused without a reason", name);
	printf("%s: refused (%d): %s\n", name, rc, err);
}

#define S(c, k) BPF_STMT(c, k)
#define J(c, k, t, f) BPF_JUMP(c, k, t, f)
#define DIFF(name, expect0, ...)                                          \
	do {                                                              \
		struct bpf_insn prog_[] = { __VA_ARGS__ };                \
		diff_prog(name, prog_, ARRAY_SIZE(prog_), expect0);       \
	} while (0)
#define REFUSED(name, ...)                                                \
	do {                                                              \
		struct bpf_insn prog_[] = { __VA_ARGS__ };                \
		refused(name, prog_, ARRAY_SIZE(prog_));                  \
	} while (0)

static const uint8_t *P0 = pkts[0].b;

static void test_ld_abs_widths_big_endian(void **state)
{
	DIFF("ld [10]", be32(P0 + 10), S(BPF_LD | BPF_W | BPF_ABS, 10),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ldh [12]", be16(P0 + 12), S(BPF_LD | BPF_H | BPF_ABS, 12),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ldb [13]", P0[13], S(BPF_LD | BPF_B | BPF_ABS, 13),
	     S(BPF_RET | BPF_A, 0));
	/* Last bytes of the 128-byte packet: in bounds exactly. */
	DIFF("ld [124]", be32(P0 + 124), S(BPF_LD | BPF_W | BPF_ABS, 124),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ldh [126]", be16(P0 + 126), S(BPF_LD | BPF_H | BPF_ABS, 126),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ldb [127]", P0[127], S(BPF_LD | BPF_B | BPF_ABS, 127),
	     S(BPF_RET | BPF_A, 0));
}

static void test_ld_ind_widths(void **state)
{
	DIFF("ld [x+10]", be32(P0 + 13), S(BPF_LDX | BPF_W | BPF_IMM, 3),
	     S(BPF_LD | BPF_W | BPF_IND, 10), S(BPF_RET | BPF_A, 0));
	DIFF("ldh [x+10]", be16(P0 + 13), S(BPF_LDX | BPF_W | BPF_IMM, 3),
	     S(BPF_LD | BPF_H | BPF_IND, 10), S(BPF_RET | BPF_A, 0));
	DIFF("ldb [x+10]", P0[13], S(BPF_LDX | BPF_W | BPF_IMM, 3),
	     S(BPF_LD | BPF_B | BPF_IND, 10), S(BPF_RET | BPF_A, 0));
	/* X from the packet: a variable offset the verifier must accept. */
	DIFF("ldb [x+0] x=P[5]&0x3f", P0[P0[5] & 0x3f],
	     S(BPF_LD | BPF_B | BPF_ABS, 5), S(BPF_ALU | BPF_AND | BPF_K, 0x3f),
	     S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_B | BPF_IND, 0),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ld [x+2] x=P[5]", -1, S(BPF_LD | BPF_B | BPF_ABS, 5),
	     S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_W | BPF_IND, 2),
	     S(BPF_RET | BPF_A, 0));
}

static void test_ldx_msh(void **state)
{
	DIFF("ldx 4*([14]&0xf)", (P0[14] & 0xf) << 2,
	     S(BPF_LDX | BPF_B | BPF_MSH, 14), S(BPF_MISC | BPF_TXA, 0),
	     S(BPF_RET | BPF_A, 0));
	/* The classic use: a load behind the IPv4 header. */
	DIFF("ldh [x+16] after msh", be16(P0 + 16 + ((P0[14] & 0xf) << 2)),
	     S(BPF_LDX | BPF_B | BPF_MSH, 14), S(BPF_LD | BPF_H | BPF_IND, 16),
	     S(BPF_RET | BPF_A, 0));
}

static void test_imm_mem_len_st_stx(void **state)
{
	DIFF("ld #imm (>= 2^31)", 0x80000001u, S(BPF_LD | BPF_IMM, 0x80000001u),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ldx #imm, txa", 0xfffffffeu, S(BPF_LDX | BPF_W | BPF_IMM, 0xfffffffeu),
	     S(BPF_MISC | BPF_TXA, 0), S(BPF_RET | BPF_A, 0));
	/* len is the wire length (P4: 60 bytes captured, 1000 on the wire). */
	DIFF("ld #len", 128, S(BPF_LD | BPF_W | BPF_LEN, 0), S(BPF_RET | BPF_A, 0));
	DIFF("ldx #len", 128, S(BPF_LDX | BPF_W | BPF_LEN, 0),
	     S(BPF_MISC | BPF_TXA, 0), S(BPF_RET | BPF_A, 0));
	DIFF("st M[3], ld M[3]", 7, S(BPF_LD | BPF_IMM, 7), S(BPF_ST, 3),
	     S(BPF_LD | BPF_IMM, 0), S(BPF_LD | BPF_MEM, 3), S(BPF_RET | BPF_A, 0));
	DIFF("stx M[15], ldx M[15]", 9, S(BPF_LDX | BPF_W | BPF_IMM, 9),
	     S(BPF_STX, 15), S(BPF_LDX | BPF_W | BPF_IMM, 0),
	     S(BPF_LDX | BPF_MEM, 15), S(BPF_MISC | BPF_TXA, 0),
	     S(BPF_RET | BPF_A, 0));
	/* All 16 cells are distinct. */
	DIFF("M[0..15] distinct", 0 + 15,
	     S(BPF_LD | BPF_IMM, 0), S(BPF_ST, 0), S(BPF_LD | BPF_IMM, 1), S(BPF_ST, 1),
	     S(BPF_LD | BPF_IMM, 2), S(BPF_ST, 2), S(BPF_LD | BPF_IMM, 3), S(BPF_ST, 3),
	     S(BPF_LD | BPF_IMM, 4), S(BPF_ST, 4), S(BPF_LD | BPF_IMM, 5), S(BPF_ST, 5),
	     S(BPF_LD | BPF_IMM, 6), S(BPF_ST, 6), S(BPF_LD | BPF_IMM, 7), S(BPF_ST, 7),
	     S(BPF_LD | BPF_IMM, 8), S(BPF_ST, 8), S(BPF_LD | BPF_IMM, 9), S(BPF_ST, 9),
	     S(BPF_LD | BPF_IMM, 10), S(BPF_ST, 10), S(BPF_LD | BPF_IMM, 11), S(BPF_ST, 11),
	     S(BPF_LD | BPF_IMM, 12), S(BPF_ST, 12), S(BPF_LD | BPF_IMM, 13), S(BPF_ST, 13),
	     S(BPF_LD | BPF_IMM, 14), S(BPF_ST, 14), S(BPF_LD | BPF_IMM, 15), S(BPF_ST, 15),
	     S(BPF_LDX | BPF_MEM, 0), S(BPF_LD | BPF_MEM, 15),
	     S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_RET | BPF_A, 0));
}

/* A = P[10..13] (varies per packet) op K. */
static void alu_k(const char *name, uint16_t op, uint32_t k, uint32_t expect)
{
	struct bpf_insn prog[] = {
		S(BPF_LD | BPF_W | BPF_ABS, 10),
		S(BPF_ALU | op | BPF_K, k),
		S(BPF_RET | BPF_A, 0),
	};

	diff_prog(name, prog, ARRAY_SIZE(prog), expect);
}

/* A = P[10..13] op X, X = P[2..5] (0 on the zero packet). */
static void alu_x(const char *name, uint16_t op, int64_t expect)
{
	struct bpf_insn prog[] = {
		S(BPF_LD | BPF_W | BPF_ABS, 2),
		S(BPF_MISC | BPF_TAX, 0),
		S(BPF_LD | BPF_W | BPF_ABS, 10),
		S(BPF_ALU | op | BPF_X, 0),
		S(BPF_RET | BPF_A, 0),
	};

	diff_prog(name, prog, ARRAY_SIZE(prog), expect);
}

static void test_alu_k_all_ops_wrapping(void **state)
{
	uint32_t a = be32(P0 + 10);

	alu_k("add #0xffffffff (wraps)", BPF_ADD, 0xffffffffu, a + 0xffffffffu);
	alu_k("sub #0xf0000000 (wraps)", BPF_SUB, 0xf0000000u, a - 0xf0000000u);
	alu_k("mul #0x10001 (wraps)", BPF_MUL, 0x10001u, a * 0x10001u);
	alu_k("div #7", BPF_DIV, 7, a / 7);
	alu_k("div #0x80000000 (unsigned)", BPF_DIV, 0x80000000u, a / 0x80000000u);
	alu_k("mod #1000", BPF_MOD, 1000, a % 1000);
	alu_k("and #0xf0f0f0f0", BPF_AND, 0xf0f0f0f0u, a & 0xf0f0f0f0u);
	alu_k("or #0x80000000", BPF_OR, 0x80000000u, a | 0x80000000u);
	alu_k("xor #0xffffffff", BPF_XOR, 0xffffffffu, a ^ 0xffffffffu);
	alu_k("lsh #31", BPF_LSH, 31, a << 31);
	alu_k("lsh #0", BPF_LSH, 0, a);
	alu_k("rsh #31", BPF_RSH, 31, a >> 31);
	alu_k("rsh #4 (logical)", BPF_RSH, 4, a >> 4);
	DIFF("neg", -a, S(BPF_LD | BPF_W | BPF_ABS, 10), S(BPF_ALU | BPF_NEG, 0),
	     S(BPF_RET | BPF_A, 0));
	DIFF("neg of 0", 0, S(BPF_LD | BPF_IMM, 0), S(BPF_ALU | BPF_NEG, 0),
	     S(BPF_RET | BPF_A, 0));
}

static void test_alu_x_all_ops(void **state)
{
	uint32_t a = be32(P0 + 10), x = be32(P0 + 2);

	alu_x("add x", BPF_ADD, a + x);
	alu_x("sub x", BPF_SUB, a - x);
	alu_x("mul x", BPF_MUL, a * x);
	alu_x("div x (x==0 on zero packet)", BPF_DIV, a / x);
	alu_x("mod x (x==0 on zero packet)", BPF_MOD, a % x);
	alu_x("and x", BPF_AND, a & x);
	alu_x("or x", BPF_OR, a | x);
	alu_x("xor x", BPF_XOR, a ^ x);
	/* x is a 32-bit packet word: mostly >= 32, so these give 0. */
	alu_x("lsh x (count >= 32)", BPF_LSH, x < 32 ? a << x : 0);
	alu_x("rsh x (count >= 32)", BPF_RSH, x < 32 ? a >> x : 0);
}

/* Division and modulo by a zero X end the filter with 0 (no match), even
 * where the program would go on to accept. */
static void test_div_mod_by_zero_x_is_no_match(void **state)
{
	DIFF("div x==0 -> ret 0", 0, S(BPF_LD | BPF_IMM, 100),
	     S(BPF_LDX | BPF_W | BPF_IMM, 0), S(BPF_ALU | BPF_DIV | BPF_X, 0),
	     S(BPF_RET | BPF_K, 1234));
	DIFF("mod x==0 -> ret 0", 0, S(BPF_LD | BPF_IMM, 100),
	     S(BPF_LDX | BPF_W | BPF_IMM, 0), S(BPF_ALU | BPF_MOD | BPF_X, 0),
	     S(BPF_RET | BPF_K, 1234));
	/* X from the packet: 0 only on some packets. */
	DIFF("div x=P[20] ret #1234", P0[20] ? 1234 : 0, S(BPF_LD | BPF_B | BPF_ABS, 20),
	     S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_IMM, 100),
	     S(BPF_ALU | BPF_DIV | BPF_X, 0), S(BPF_RET | BPF_K, 1234));
	DIFF("mod x=P[20] ret a", 100 % P0[20], S(BPF_LD | BPF_B | BPF_ABS, 20),
	     S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_IMM, 100),
	     S(BPF_ALU | BPF_MOD | BPF_X, 0), S(BPF_RET | BPF_A, 0));
}

/* A = 0x80000001 shifted by X; a result of 0 answers 777 (ret 0 would read
 * as "no match" and hide the difference between 0 and an OOB end). */
static void shift_x(const char *name, uint16_t op, uint32_t x, uint32_t expect)
{
	struct bpf_insn prog[] = {
		S(BPF_LD | BPF_IMM, 0x80000001u),
		S(BPF_LDX | BPF_W | BPF_IMM, x),
		S(BPF_ALU | op | BPF_X, 0),
		J(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		S(BPF_RET | BPF_K, 777),
		S(BPF_RET | BPF_A, 0),
	};

	diff_prog(name, prog, ARRAY_SIZE(prog), expect ? expect : 777);
}

static void test_variable_shift_32_or_more_gives_zero(void **state)
{
	shift_x("lsh x=1", BPF_LSH, 1, 0x80000001u << 1);
	shift_x("lsh x=31", BPF_LSH, 31, 0x80000001u << 31);
	shift_x("lsh x=32 -> 0", BPF_LSH, 32, 0);
	shift_x("lsh x=33 -> 0", BPF_LSH, 33, 0);
	shift_x("lsh x=64 -> 0", BPF_LSH, 64, 0);
	shift_x("lsh x=0xffffffff -> 0", BPF_LSH, 0xffffffffu, 0);
	shift_x("rsh x=31", BPF_RSH, 31, 1);
	shift_x("rsh x=32 -> 0", BPF_RSH, 32, 0);
	shift_x("rsh x=0x80000000 -> 0", BPF_RSH, 0x80000000u, 0);
}

static void test_tax_txa_directions(void **state)
{
	/* tax: X <- A (A keeps its value); txa: A <- X. */
	DIFF("tax then txa", 42, S(BPF_LD | BPF_IMM, 42), S(BPF_MISC | BPF_TAX, 0),
	     S(BPF_LD | BPF_IMM, 5), S(BPF_MISC | BPF_TXA, 0), S(BPF_RET | BPF_A, 0));
	DIFF("tax keeps A", 5 + 42, S(BPF_LD | BPF_IMM, 42), S(BPF_MISC | BPF_TAX, 0),
	     S(BPF_LD | BPF_IMM, 5), S(BPF_ALU | BPF_ADD | BPF_X, 0),
	     S(BPF_RET | BPF_A, 0));
	DIFF("txa keeps X", 2 * 9, S(BPF_LDX | BPF_W | BPF_IMM, 9),
	     S(BPF_MISC | BPF_TXA, 0), S(BPF_ALU | BPF_ADD | BPF_X, 0),
	     S(BPF_RET | BPF_A, 0));
	/* A and X start at 0. */
	DIFF("X starts at 0", 5, S(BPF_MISC | BPF_TXA, 0), S(BPF_ALU | BPF_ADD | BPF_K, 5),
	     S(BPF_RET | BPF_A, 0));
	DIFF("A starts at 0", 6, S(BPF_ALU | BPF_ADD | BPF_K, 6), S(BPF_RET | BPF_A, 0));
}

static void test_ja_and_fallthrough(void **state)
{
	DIFF("ja +1", 2, S(BPF_JMP | BPF_JA, 1), S(BPF_RET | BPF_K, 1),
	     S(BPF_RET | BPF_K, 2));
	DIFF("ja +0", 1, S(BPF_JMP | BPF_JA, 0), S(BPF_RET | BPF_K, 1),
	     S(BPF_RET | BPF_K, 2));
	/* jt == jf == 0: both go to the next instruction. */
	DIFF("jeq jt=jf=0", 3, J(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0),
	     S(BPF_RET | BPF_K, 3), S(BPF_RET | BPF_K, 4));
	DIFF("ja over many", 9, S(BPF_JMP | BPF_JA, 4), S(BPF_RET | BPF_K, 1),
	     S(BPF_RET | BPF_K, 2), S(BPF_RET | BPF_K, 3), S(BPF_RET | BPF_K, 4),
	     S(BPF_RET | BPF_K, 9));
}

/* A = P[10..13]: P1 has it >= 0x80000000, P0 less, P2 zero. */
static void jmp_k(const char *name, uint16_t op, uint32_t k, int64_t expect)
{
	struct bpf_insn prog[] = {
		S(BPF_LD | BPF_W | BPF_ABS, 10),
		J(BPF_JMP | op | BPF_K, k, 0, 1),
		S(BPF_RET | BPF_K, 100),
		S(BPF_RET | BPF_K, 200),
	};

	diff_prog(name, prog, ARRAY_SIZE(prog), expect);
}

static void jmp_x(const char *name, uint16_t op, uint32_t x, int64_t expect)
{
	struct bpf_insn prog[] = {
		S(BPF_LDX | BPF_W | BPF_IMM, x),
		S(BPF_LD | BPF_W | BPF_ABS, 10),
		J(BPF_JMP | op | BPF_X, 0, 0, 1),
		S(BPF_RET | BPF_K, 100),
		S(BPF_RET | BPF_K, 200),
	};

	diff_prog(name, prog, ARRAY_SIZE(prog), expect);
}

static void test_conditional_jumps_unsigned(void **state)
{
	/* P1 has A >= 0x80000000: signed compares would differ there. */
	uint32_t a = be32(P0 + 10), big[] = { 0x7fffffffu, 0x80000000u,
					      0xffffffffu, 0 };
	char name[64];

	big[3] = a;
	for (size_t i = 0; i < ARRAY_SIZE(big); i++) {
		uint32_t k = big[i];

		snprintf(name, sizeof(name), "jeq #0x%x", k);
		jmp_k(name, BPF_JEQ, k, a == k ? 100 : 200);
		snprintf(name, sizeof(name), "jgt #0x%x", k);
		jmp_k(name, BPF_JGT, k, a > k ? 100 : 200);
		snprintf(name, sizeof(name), "jge #0x%x", k);
		jmp_k(name, BPF_JGE, k, a >= k ? 100 : 200);
		snprintf(name, sizeof(name), "jset #0x%x", k);
		jmp_k(name, BPF_JSET, k, a & k ? 100 : 200);
		snprintf(name, sizeof(name), "jeq x=0x%x", k);
		jmp_x(name, BPF_JEQ, k, a == k ? 100 : 200);
		snprintf(name, sizeof(name), "jgt x=0x%x", k);
		jmp_x(name, BPF_JGT, k, a > k ? 100 : 200);
		snprintf(name, sizeof(name), "jge x=0x%x", k);
		jmp_x(name, BPF_JGE, k, a >= k ? 100 : 200);
		snprintf(name, sizeof(name), "jset x=0x%x", k);
		jmp_x(name, BPF_JSET, k, a & k ? 100 : 200);
	}
}

static void test_ret_k_and_a(void **state)
{
	DIFF("ret #0", 0, S(BPF_RET | BPF_K, 0));
	DIFF("ret #1", 1, S(BPF_RET | BPF_K, 1));
	DIFF("ret #0xffffffff", 0xffffffffu, S(BPF_RET | BPF_K, 0xffffffffu));
	DIFF("ret #snaplen", SNAP, S(BPF_RET | BPF_K, SNAP));
	DIFF("ret a (>= 2^31)", 0x80000000u, S(BPF_LD | BPF_IMM, 0x80000000u),
	     S(BPF_RET | BPF_A, 0));
	/* Code after a ret is never run. */
	DIFF("ret stops", 5, S(BPF_RET | BPF_K, 5), S(BPF_RET | BPF_K, 6));
}

/* Out-of-bounds loads end the filter with 0 and pass the packet (the probe
 * runs return 0 and report no match). */
static void test_out_of_bounds_loads_are_no_match(void **state)
{
	DIFF("ld [126] on 128", 0, S(BPF_LD | BPF_W | BPF_ABS, 126),
	     S(BPF_RET | BPF_K, 1));
	DIFF("ldh [127] on 128", 0, S(BPF_LD | BPF_H | BPF_ABS, 127),
	     S(BPF_RET | BPF_K, 1));
	DIFF("ldb [128] on 128", 0, S(BPF_LD | BPF_B | BPF_ABS, 128),
	     S(BPF_RET | BPF_K, 1));
	DIFF("ldb [1499] (only P5)", 0, S(BPF_LD | BPF_B | BPF_ABS, 1499),
	     S(BPF_RET | BPF_K, 1));
	DIFF("ldb [70000] (>= 64 KiB)", 0, S(BPF_LD | BPF_B | BPF_ABS, 70000),
	     S(BPF_RET | BPF_K, 1));
	DIFF("ld [0x7fffffff]", 0, S(BPF_LD | BPF_W | BPF_ABS, 0x7fffffffu),
	     S(BPF_RET | BPF_K, 1));
	DIFF("ld [x+0] x=0xfffffff0", 0, S(BPF_LDX | BPF_W | BPF_IMM, 0xfffffff0u),
	     S(BPF_LD | BPF_W | BPF_IND, 0), S(BPF_RET | BPF_K, 1));
	DIFF("ldb [x+100] x=30", 0, S(BPF_LDX | BPF_W | BPF_IMM, 30),
	     S(BPF_LD | BPF_B | BPF_IND, 100), S(BPF_RET | BPF_K, 1));
	DIFF("ldh [x+1] x=0x7fffffff", 0, S(BPF_LDX | BPF_W | BPF_IMM, 0x7fffffffu),
	     S(BPF_LD | BPF_H | BPF_IND, 1), S(BPF_RET | BPF_K, 1));
	DIFF("msh [200]", 0, S(BPF_LDX | BPF_B | BPF_MSH, 200), S(BPF_RET | BPF_K, 1));
	/* OOB on a path that is taken only on short packets. */
	DIFF("ldb [60] then ret (cut record)", 1, S(BPF_LD | BPF_B | BPF_ABS, 60),
	     S(BPF_RET | BPF_K, 1));
	/* A load after an earlier match decision still ends with 0. */
	DIFF("oob after jump", 0, S(BPF_LD | BPF_H | BPF_ABS, 12),
	     J(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 1), S(BPF_LD | BPF_B | BPF_ABS, 5000),
	     S(BPF_RET | BPF_K, 99));
}

static void test_invalid_programs_refused(void **state)
{
	REFUSED("ld [-4048] (Linux ancillary)", S(BPF_LD | BPF_W | BPF_ABS, (uint32_t)-4048),
		S(BPF_RET | BPF_A, 0));
	REFUSED("ldb [SKF_AD_OFF]", S(BPF_LD | BPF_B | BPF_ABS, 0xfffff000u),
		S(BPF_RET | BPF_A, 0));
	REFUSED("ldh [-1]", S(BPF_LD | BPF_H | BPF_ABS, 0xffffffffu),
		S(BPF_RET | BPF_A, 0));
	REFUSED("div #0", S(BPF_ALU | BPF_DIV | BPF_K, 0), S(BPF_RET | BPF_A, 0));
	REFUSED("mod #0", S(BPF_ALU | BPF_MOD | BPF_K, 0), S(BPF_RET | BPF_A, 0));
	REFUSED("lsh #32", S(BPF_ALU | BPF_LSH | BPF_K, 32), S(BPF_RET | BPF_A, 0));
	REFUSED("rsh #33", S(BPF_ALU | BPF_RSH | BPF_K, 33), S(BPF_RET | BPF_A, 0));
	REFUSED("jump past the end", J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
		S(BPF_RET | BPF_K, 1));
	REFUSED("ja past the end", S(BPF_JMP | BPF_JA, 5), S(BPF_RET | BPF_K, 1));
	REFUSED("ja to before insn 0 (wraps)", S(BPF_JMP | BPF_JA, 0xfffffffeu),
		S(BPF_RET | BPF_K, 1));
	REFUSED("ja 0x80000000 (out of range either way)", S(BPF_JMP | BPF_JA, 0x80000000u),
		S(BPF_RET | BPF_K, 1));
	REFUSED("no ret at end", S(BPF_LD | BPF_IMM, 1));
	REFUSED("unknown opcode", S(0xffff, 0), S(BPF_RET | BPF_K, 1));
	REFUSED("M[16]", S(BPF_ST, 16), S(BPF_RET | BPF_K, 1));
	{
		char err[FG_ERR_LEN] = "";
		struct fg_filter *f = NULL;

		assert_true(fg_from_cbpf(NULL, 0, SNAP, &f, err, sizeof(err)) < 0);
	}
}

/* M[] must be written on every path before it is read (like the kernel's
 * check); a program that does so is translated. */
static void test_uninitialised_scratch_refused(void **state)
{
	REFUSED("ld M[0] unset", S(BPF_LD | BPF_MEM, 0), S(BPF_RET | BPF_A, 0));
	REFUSED("ldx M[5] unset", S(BPF_LDX | BPF_MEM, 5), S(BPF_MISC | BPF_TXA, 0),
		S(BPF_RET | BPF_A, 0));
	REFUSED("M[1] set on one path only", S(BPF_LD | BPF_B | BPF_ABS, 0),
		J(BPF_JMP | BPF_JEQ | BPF_K, 11, 0, 1), S(BPF_ST, 1),
		S(BPF_LD | BPF_MEM, 1), S(BPF_RET | BPF_A, 0));
	REFUSED("M[2] set, M[3] read", S(BPF_ST, 2), S(BPF_LD | BPF_MEM, 3),
		S(BPF_RET | BPF_A, 0));
	DIFF("M[1] set on both paths", P0[0] == 11 ? 11 : 22,
	     S(BPF_LD | BPF_B | BPF_ABS, 0), J(BPF_JMP | BPF_JEQ | BPF_K, 11, 0, 2),
	     S(BPF_ST, 1), S(BPF_JMP | BPF_JA, 2), S(BPF_LD | BPF_IMM, 22),
	     S(BPF_ST, 1), S(BPF_LD | BPF_MEM, 1), S(BPF_RET | BPF_A, 0));
}

/* A loop that never ends (libpcap's interpreter would hang): refused, or
 * bounded and then "no match" on both hooks, never a hang or a match. */
static void endless_loop_refused_or_no_match(void)
{
	struct bpf_insn prog[] = {
		S(BPF_LD | BPF_IMM, 1),
		S(BPF_JMP | BPF_JA, 0xfffffffeu), /* back to insn 0 */
		S(BPF_RET | BPF_K, 1),
	};
	char err[FG_ERR_LEN] = "";
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	int rc = fg_from_cbpf(prog, ARRAY_SIZE(prog), SNAP, &f, err, sizeof(err));

	if (!rc)
		rc = fg_probe_load(f, &p, err, sizeof(err));
	if (rc) {
		fg_free(f);
		if (!err[0])
			fail_msg("endless loop: refused (%d) without a reason", rc);
		printf("endless loop: refused (%d): %s\n", rc, err);
		return;
	}
	for (int h = 0; h < 2; h++) {
		uint32_t got = 0xdeadbeef;

		rc = fg_probe_run(p, h ? FG_HOOK_TC : FG_HOOK_XDP, pkts[0].b,
				  pkts[0].len, pkts[0].wire, &got);
		if (rc || got) {
			fg_probe_free(p);
			fg_free(f);
			fail_msg("endless loop on %s: rc %d verdict %u, want 0/no match",
				 h ? "tc" : "xdp", rc, got);
		}
	}
	printf("endless loop: bounded, no match on both hooks\n");
	fg_probe_free(p);
	fg_free(f);
}

/* A loop (backward ja, as libpcap's protochain emits) is either refused with
 * a reason or runs like libpcap's interpreter; it is never silently wrong. */
static void test_backward_jump_refused_or_equal(void **state)
{
	/* A = 3; do A -= 1 while A != 0; ret 77 (terminates). */
	struct bpf_insn loop[] = {
		S(BPF_LD | BPF_IMM, 3),
		S(BPF_ALU | BPF_SUB | BPF_K, 1),
		J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
		S(BPF_JMP | BPF_JA, (uint32_t)-3),
		S(BPF_RET | BPF_K, 77),
	};
	char err[FG_ERR_LEN] = "";
	struct fg_filter *f = NULL;
	int rc = fg_from_cbpf(loop, ARRAY_SIZE(loop), SNAP, &f, err, sizeof(err));

	fg_free(f);
	if (rc) {
		refused("backward ja loop", loop, ARRAY_SIZE(loop));
	} else {
		/* libpcap's bpf_filter sign-extends ja: this ends with 77. */
		diff_prog("backward ja loop", loop, ARRAY_SIZE(loop), 77);
	}
	endless_loop_refused_or_no_match();
}

/* Programs the random-program fuzz found (minimised), kept so they stay
 * found. X = len makes an indirect load whose offset the verifier must be
 * shown to be bounded. */
static void test_fuzz_regressions(void **state)
{
	DIFF("ldx #len; ld [x+35] (fuzz seed 1 #6)", 0,
	     S(BPF_LDX | BPF_W | BPF_LEN, 0), S(BPF_LD | BPF_W | BPF_IND, 35),
	     S(BPF_RET | BPF_A, 0));
	DIFF("ldx #len; ld [x+78] (fuzz seed 1 #85)", 0,
	     S(BPF_LDX | BPF_W | BPF_LEN, 0), S(BPF_LD | BPF_W | BPF_IND, 78),
	     S(BPF_RET | BPF_A, 0));
	/* ether[len - 4:4], the last 4 bytes: in bounds on full records. */
	DIFF("ld [len-4] via x", be32(P0 + 124), S(BPF_LD | BPF_W | BPF_LEN, 0),
	     S(BPF_ALU | BPF_SUB | BPF_K, 4), S(BPF_MISC | BPF_TAX, 0),
	     S(BPF_LD | BPF_W | BPF_IND, 0), S(BPF_RET | BPF_A, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ld_abs_widths_big_endian),
		cmocka_unit_test(test_ld_ind_widths),
		cmocka_unit_test(test_ldx_msh),
		cmocka_unit_test(test_imm_mem_len_st_stx),
		cmocka_unit_test(test_alu_k_all_ops_wrapping),
		cmocka_unit_test(test_alu_x_all_ops),
		cmocka_unit_test(test_div_mod_by_zero_x_is_no_match),
		cmocka_unit_test(test_variable_shift_32_or_more_gives_zero),
		cmocka_unit_test(test_tax_txa_directions),
		cmocka_unit_test(test_ja_and_fallthrough),
		cmocka_unit_test(test_conditional_jumps_unsigned),
		cmocka_unit_test(test_ret_k_and_a),
		cmocka_unit_test(test_out_of_bounds_loads_are_no_match),
		cmocka_unit_test(test_invalid_programs_refused),
		cmocka_unit_test(test_uninitialised_scratch_refused),
		cmocka_unit_test(test_backward_jump_refused_or_equal),
		cmocka_unit_test(test_fuzz_regressions),
	};

	init_pkts();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
