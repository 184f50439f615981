/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The cBPF semantics the translation must keep (pitfalls.md 1-13, 16, 24,
 * 25), each checked on the XDP and the TC flavour against an explicit
 * expectation and against libpcap's bpf_filter on the same bytes.
 * Usage: test_fg_semantics CASE (see main).
 */
#include <pcap/pcap.h>
#include <string.h>

#include "test_fg_util.h"

#define S(code, k) ((struct bpf_insn)BPF_STMT(code, k))
#define J(code, k, jt, jf) ((struct bpf_insn)BPF_JUMP(code, k, jt, jf))
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SNAP 65535

static uint32_t rnd_state = 0x12345678;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Out-of-bounds loads (ABS, IND, MSH, every width) return 0: no match. */
static void t_oob_load_is_no_match(void)
{
	static const uint16_t widths[3] = { BPF_W, BPF_H, BPF_B };
	static const uint32_t wlen[3] = { 4, 2, 1 };
	uint8_t pkt[64];
	struct fgu u = { 0 };
	uint32_t len, x, w;
	char what[64];

	memset(pkt, 0x5a, sizeof(pkt));
	for (w = 0; w < 3; w++) {
		/* ABS at 20: in bounds iff len >= 20 + size */
		struct bpf_insn abs[] = { S(BPF_LD | widths[w] | BPF_ABS, 20), S(BPF_RET | BPF_K, 77) };
		/* IND at X + 1 with X from the first byte */
		struct bpf_insn ind[] = { S(BPF_LDX | BPF_W | BPF_IMM, 0), S(BPF_LD | BPF_B | BPF_ABS, 0),
					  S(BPF_MISC | BPF_TAX, 0),
					  S(BPF_LD | widths[w] | BPF_IND, 1), S(BPF_RET | BPF_K, 77) };

		fgu_load(&u, NULL, abs, N(abs), SNAP);
		for (len = 14; len <= 30; len++) {
			snprintf(what, sizeof(what), "abs width %u len %u", wlen[w], len);
			fgu_run(&u, pkt, len, len, len >= 20 + wlen[w] ? 77 : 0, what);
			fgu_same(&u, pkt, len, len, what);
		}
		fgu_free(&u);
		fgu_load(&u, NULL, ind, N(ind), SNAP);
		for (x = 0; x < 40; x += 3) {
			pkt[0] = (uint8_t)x;
			snprintf(what, sizeof(what), "ind width %u x %u", wlen[w], x);
			fgu_run(&u, pkt, 40, 40, x + 1 + wlen[w] <= 40 ? 77 : 0, what);
			fgu_same(&u, pkt, 40, 40, what);
		}
		fgu_free(&u);
	}
	/* X + k past 2^32 must not wrap to a small offset */
	struct bpf_insn wrap[] = { S(BPF_LDX | BPF_W | BPF_IMM, 0xffffffff),
				   S(BPF_LD | BPF_B | BPF_IND, 2), S(BPF_RET | BPF_K, 77) };
	fgu_load(&u, NULL, wrap, N(wrap), SNAP);
	fgu_run(&u, pkt, 64, 64, 0, "ind X+k wraps");
	fgu_same(&u, pkt, 64, 64, "ind X+k wraps");
	fgu_free(&u);
	/* MSH past the end */
	struct bpf_insn msh[] = { S(BPF_LDX | BPF_B | BPF_MSH, 30), S(BPF_RET | BPF_K, 77) };
	fgu_load(&u, NULL, msh, N(msh), SNAP);
	fgu_run(&u, pkt, 30, 30, 0, "msh oob");
	fgu_run(&u, pkt, 31, 31, 77, "msh in bounds");
	fgu_free(&u);
	/* a record cut short: a load past the captured bytes is no match even
	 * though the wire length covers it */
	fgu_load(&u, "ether[40] = 0x5a", NULL, 0, SNAP);
	fgu_run(&u, pkt, 40, 1500, 0, "cut record");
	fgu_run(&u, pkt, 41, 1500, SNAP, "cut record, byte present");
	fgu_free(&u);
}

/* ld/ldh/ldb read 4/2/1 bytes big-endian, ABS and IND. */
static void t_load_widths_big_endian(void)
{
	static const uint16_t widths[3] = { BPF_W, BPF_H, BPF_B };
	static const uint32_t want[3] = { 0x11223344, 0x1122, 0x11 };
	uint8_t pkt[64] = { 0 };
	struct fgu u = { 0 };
	int w;

	pkt[20] = 0x11, pkt[21] = 0x22, pkt[22] = 0x33, pkt[23] = 0x44;
	for (w = 0; w < 3; w++) {
		struct bpf_insn abs[] = { S(BPF_LD | widths[w] | BPF_ABS, 20), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn ind[] = { S(BPF_LDX | BPF_W | BPF_IMM, 15),
					  S(BPF_LD | widths[w] | BPF_IND, 5), S(BPF_RET | BPF_A, 0) };

		fgu_load(&u, NULL, abs, N(abs), SNAP);
		fgu_run(&u, pkt, 64, 64, want[w], "abs width");
		fgu_same(&u, pkt, 64, 64, "abs width");
		fgu_free(&u);
		fgu_load(&u, NULL, ind, N(ind), SNAP);
		fgu_run(&u, pkt, 64, 64, want[w], "ind width");
		fgu_same(&u, pkt, 64, 64, "ind width");
		fgu_free(&u);
	}
}

/* ldx 4*([k]&0xf) is X = (P[k] & 0xf) << 2, its own mode. */
static void t_msh_is_ip_header_length(void)
{
	struct bpf_insn prog[] = { S(BPF_LDX | BPF_B | BPF_MSH, 14), S(BPF_MISC | BPF_TXA, 0),
				   S(BPF_ALU | BPF_ADD | BPF_K, 1000), S(BPF_RET | BPF_A, 0) };
	uint8_t pkt[60] = { 0 };
	struct fgu u = { 0 };
	int b;

	fgu_load(&u, NULL, prog, N(prog), SNAP);
	for (b = 0; b < 256; b += 7) {
		pkt[14] = (uint8_t)b;
		fgu_run(&u, pkt, 60, 60, 1000 + ((uint32_t)(b & 0xf) << 2), "msh");
		fgu_same(&u, pkt, 60, 60, "msh");
	}
	fgu_free(&u);
}

/* IMM, MEM, LEN, st/stx are no packet accesses; len is the wire length. */
static void t_imm_mem_len_store(void)
{
	struct bpf_insn prog[] = {
		S(BPF_LD | BPF_IMM, 5),		S(BPF_ST, 3),
		S(BPF_LDX | BPF_W | BPF_IMM, 7), S(BPF_STX, 15),
		S(BPF_LD | BPF_MEM, 15),	S(BPF_MISC | BPF_TAX, 0),
		S(BPF_LD | BPF_MEM, 3),		S(BPF_ALU | BPF_ADD | BPF_X, 0),
		S(BPF_ST, 0),			S(BPF_LDX | BPF_W | BPF_LEN, 0),
		S(BPF_LD | BPF_MEM, 0),		S(BPF_ALU | BPF_ADD | BPF_X, 0),
		S(BPF_LDX | BPF_MEM, 3),	S(BPF_ALU | BPF_ADD | BPF_X, 0),
		S(BPF_ST, 1), S(BPF_LD | BPF_W | BPF_LEN, 0), S(BPF_LDX | BPF_MEM, 1),
		S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_RET | BPF_A, 0),
	};
	uint8_t pkt[60] = { 0 };
	struct fgu u = { 0 };

	fgu_load(&u, NULL, prog, N(prog), SNAP);
	/* (5 + 7) + len + 5, then + len */
	fgu_run(&u, pkt, 60, 60, 12 + 5 + 120, "full record");
	fgu_run(&u, pkt, 20, 1000, 12 + 5 + 2000, "cut record: len is the wire length");
	fgu_same(&u, pkt, 20, 1000, "cut record");
	fgu_free(&u);
	fgu_load(&u, "greater 1000", NULL, 0, SNAP);
	fgu_run(&u, pkt, 60, 1500, SNAP, "greater uses wire length");
	fgu_run(&u, pkt, 60, 60, 0, "greater, short packet");
	fgu_free(&u);
}

static const uint32_t edge[] = { 0, 1, 2, 3, 7, 31, 32, 33, 64, 255, 0x7fffffff,
				 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff };

/* Every ALU op, K and X, 32-bit wrapping; div/mod by X == 0 is no match;
 * shifts by X >= 32 give 0; neg. Result + 1 is returned so "A = 0" and
 * "returned 0" differ. */
static void t_alu_ops(void)
{
	static const uint16_t ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD,
					BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH };
	static const uint32_t ks[] = { 1, 3, 31, 0x80000001, 0xffffffff };
	uint8_t pkt[60] = { 0 };
	struct fgu u = { 0 };
	char what[64];
	size_t o, i, j;

	for (o = 0; o < N(ops); o++) {
		struct bpf_insn px[] = { S(BPF_LD | BPF_W | BPF_ABS, 18), S(BPF_MISC | BPF_TAX, 0),
					 S(BPF_LD | BPF_W | BPF_ABS, 14),
					 S(BPF_ALU | ops[o] | BPF_X, 0),
					 S(BPF_ALU | BPF_ADD | BPF_K, 1), S(BPF_RET | BPF_A, 0) };

		fgu_load(&u, NULL, px, N(px), SNAP);
		for (i = 0; i < N(edge) + 20; i++) {
			uint32_t a = i < N(edge) ? edge[i] : rnd(), x;

			for (j = 0; j < N(edge) + 2; j++) {
				x = j < N(edge) ? edge[j] : rnd() & 63;
				put32(pkt + 14, a);
				put32(pkt + 18, x);
				snprintf(what, sizeof(what), "op 0x%x X a=%#x x=%#x", ops[o], a, x);
				uint32_t v = fgu_same(&u, pkt, 60, 60, what);
				if ((ops[o] == BPF_DIV || ops[o] == BPF_MOD) && x == 0)
					FGU_CHECK(v == 0, "%s: div/mod by 0 must not match", what);
				if ((ops[o] == BPF_LSH || ops[o] == BPF_RSH) && x >= 32)
					FGU_CHECK(v == 1, "%s: shift >= 32 must give 0", what);
			}
		}
		fgu_free(&u);
		for (j = 0; j < N(ks); j++) {
			if ((ops[o] == BPF_LSH || ops[o] == BPF_RSH) && ks[j] >= 32)
				continue;
			struct bpf_insn pk[] = { S(BPF_LD | BPF_W | BPF_ABS, 14),
						 S(BPF_ALU | ops[o] | BPF_K, ks[j]),
						 S(BPF_ALU | BPF_ADD | BPF_K, 1), S(BPF_RET | BPF_A, 0) };

			fgu_load(&u, NULL, pk, N(pk), SNAP);
			for (i = 0; i < N(edge) + 10; i++) {
				put32(pkt + 14, i < N(edge) ? edge[i] : rnd());
				snprintf(what, sizeof(what), "op 0x%x K %#x", ops[o], ks[j]);
				fgu_same(&u, pkt, 60, 60, what);
			}
			fgu_free(&u);
		}
	}
	/* neg and the explicit wrap values */
	struct bpf_insn neg[] = { S(BPF_LD | BPF_W | BPF_ABS, 14), S(BPF_ALU | BPF_NEG, 0),
				  S(BPF_RET | BPF_A, 0) };
	fgu_load(&u, NULL, neg, N(neg), SNAP);
	put32(pkt + 14, 1);
	fgu_run(&u, pkt, 60, 60, 0xffffffff, "neg 1");
	put32(pkt + 14, 0x80000000);
	fgu_run(&u, pkt, 60, 60, 0x80000000, "neg INT_MIN");
	for (i = 0; i < 20; i++) {
		put32(pkt + 14, rnd());
		fgu_same(&u, pkt, 60, 60, "neg");
	}
	fgu_free(&u);
	struct bpf_insn mul[] = { S(BPF_LD | BPF_W | BPF_ABS, 14),
				  S(BPF_ALU | BPF_MUL | BPF_K, 0x10000), S(BPF_RET | BPF_A, 0) };
	fgu_load(&u, NULL, mul, N(mul), SNAP);
	put32(pkt + 14, 0x12345);
	fgu_run(&u, pkt, 60, 60, 0x23450000, "mul wraps at 32 bits");
	fgu_free(&u);
}

/* tax is X <- A, txa is A <- X. */
static void t_tax_txa(void)
{
	struct bpf_insn prog[] = { S(BPF_LD | BPF_IMM, 3), S(BPF_MISC | BPF_TAX, 0),
				   S(BPF_LD | BPF_IMM, 9), S(BPF_ALU | BPF_MUL | BPF_X, 0),
				   S(BPF_ST, 0), S(BPF_LD | BPF_IMM, 100), S(BPF_MISC | BPF_TXA, 0),
				   S(BPF_LDX | BPF_MEM, 0), S(BPF_ALU | BPF_ADD | BPF_X, 0),
				   S(BPF_RET | BPF_A, 0) };
	uint8_t pkt[60] = { 0 };
	struct fgu u = { 0 };

	fgu_load(&u, NULL, prog, N(prog), SNAP);
	fgu_run(&u, pkt, 60, 60, 3 + 27, "tax/txa");
	fgu_same(&u, pkt, 60, 60, "tax/txa");
	fgu_free(&u);
}

/* jeq/jgt/jge/jset with K and X compare unsigned 32-bit; ja; jt == jf. */
static void t_jumps_unsigned(void)
{
	static const uint16_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	static const uint32_t ks[] = { 0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };
	uint8_t pkt[60] = { 0 };
	struct fgu u = { 0 };
	char what[64];
	size_t o, j, i;

	for (o = 0; o < N(ops); o++) {
		struct bpf_insn px[] = { S(BPF_LD | BPF_W | BPF_ABS, 18), S(BPF_MISC | BPF_TAX, 0),
					 S(BPF_LD | BPF_W | BPF_ABS, 14),
					 J(BPF_JMP | ops[o] | BPF_X, 0, 1, 0),
					 S(BPF_RET | BPF_K, 20), S(BPF_RET | BPF_K, 10) };

		fgu_load(&u, NULL, px, N(px), SNAP);
		for (i = 0; i < N(edge); i++)
			for (j = 0; j < N(edge); j++) {
				put32(pkt + 14, edge[i]);
				put32(pkt + 18, edge[j]);
				snprintf(what, sizeof(what), "jmp 0x%x X %#x %#x", ops[o], edge[i], edge[j]);
				fgu_same(&u, pkt, 60, 60, what);
			}
		fgu_free(&u);
		for (j = 0; j < N(ks); j++) {
			struct bpf_insn pk[] = { S(BPF_LD | BPF_W | BPF_ABS, 14),
						 J(BPF_JMP | ops[o] | BPF_K, ks[j], 1, 0),
						 S(BPF_RET | BPF_K, 20), S(BPF_RET | BPF_K, 10) };

			fgu_load(&u, NULL, pk, N(pk), SNAP);
			for (i = 0; i < N(edge); i++) {
				put32(pkt + 14, edge[i]);
				snprintf(what, sizeof(what), "jmp 0x%x K %#x %#x", ops[o], ks[j], edge[i]);
				fgu_same(&u, pkt, 60, 60, what);
			}
			fgu_free(&u);
		}
	}
	/* explicit: 0xffffffff > 1 unsigned (signed would say no) */
	struct bpf_insn gt[] = { S(BPF_LD | BPF_W | BPF_ABS, 14), J(BPF_JMP | BPF_JGT | BPF_K, 1, 1, 0),
				 S(BPF_RET | BPF_K, 20), S(BPF_RET | BPF_K, 10) };
	fgu_load(&u, NULL, gt, N(gt), SNAP);
	put32(pkt + 14, 0xffffffff);
	fgu_run(&u, pkt, 60, 60, 10, "jgt unsigned");
	fgu_free(&u);
	/* ja over a ret, and jt == jf == 0 falls through */
	struct bpf_insn ja[] = { J(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 0), S(BPF_JMP | BPF_JA, 1),
				 S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 2) };
	fgu_load(&u, NULL, ja, N(ja), SNAP);
	fgu_run(&u, pkt, 60, 60, 2, "ja");
	fgu_free(&u);
}

/* "all" returns the snaplen, "none" 0; ret #k returns k. */
static void t_all_none_ret(void)
{
	uint8_t pkt[60] = { 0 };
	struct fgu u = { 0 };

	fgu_load(&u, "all", NULL, 0, 1234);
	fgu_run(&u, pkt, 60, 60, 1234, "all");
	fgu_run(&u, pkt, 0, 0, 1234, "all, empty record");
	fgu_free(&u);
	fgu_load(&u, " none ", NULL, 0, 1234);
	fgu_run(&u, pkt, 60, 60, 0, "none");
	fgu_free(&u);
	fgu_load(&u, "ether[0] = 0", NULL, 0, 96);
	fgu_run(&u, pkt, 60, 60, 96, "snaplen is the return");
	fgu_free(&u);
}

static size_t eth(uint8_t *p, uint16_t type, int vlan)
{
	size_t o = 12;

	memset(p, 0, 12);
	p[0] = 0x02, p[6] = 0x02, p[11] = 1;
	if (vlan >= 0) {
		p[o++] = 0x81, p[o++] = 0x00;
		p[o++] = (uint8_t)(vlan >> 8), p[o++] = (uint8_t)vlan;
	}
	p[o++] = (uint8_t)(type >> 8), p[o++] = (uint8_t)type;
	return o;
}

static size_t ipv4_tcp(uint8_t *p, size_t o, uint16_t dport)
{
	memset(p + o, 0, 40);
	p[o] = 0x45, p[o + 3] = 40, p[o + 8] = 64, p[o + 9] = 6;
	p[o + 12] = 10, p[o + 15] = 1, p[o + 16] = 10, p[o + 19] = 2;
	p[o + 22] = (uint8_t)(dport >> 8), p[o + 23] = (uint8_t)dport;
	p[o + 20] = 0x30, p[o + 21] = 0x39, p[o + 32] = 0x50;
	return o + 40;
}

/* VLAN tags in the frame: `vlan N` matches them, and untagged-style
 * filters do not match tagged traffic (libpcap semantics). */
static void t_vlan_in_frame(void)
{
	uint8_t tagged[128], plain[128];
	size_t lt, lp;
	struct fgu u = { 0 };

	lt = ipv4_tcp(tagged, eth(tagged, 0x0800, 100), 80);
	lp = ipv4_tcp(plain, eth(plain, 0x0800, -1), 80);
	fgu_load(&u, "vlan 100 and tcp port 80", NULL, 0, SNAP);
	fgu_run(&u, tagged, (uint32_t)lt, (uint32_t)lt, SNAP, "vlan 100 tagged");
	fgu_run(&u, plain, (uint32_t)lp, (uint32_t)lp, 0, "vlan 100 untagged");
	fgu_free(&u);
	fgu_load(&u, "tcp port 80", NULL, 0, SNAP);
	fgu_run(&u, tagged, (uint32_t)lt, (uint32_t)lt, 0, "untagged filter, tagged frame");
	fgu_run(&u, plain, (uint32_t)lp, (uint32_t)lp, SNAP, "untagged filter, plain frame");
	fgu_free(&u);
	fgu_load(&u, "vlan 101", NULL, 0, SNAP);
	fgu_run(&u, tagged, (uint32_t)lt, (uint32_t)lt, 0, "vlan 101 on 100");
	fgu_free(&u);
	fgu_load(&u, "vlan and vlan 200", NULL, 0, SNAP);
	fgu_same(&u, tagged, (uint32_t)lt, (uint32_t)lt, "qinq on single tag");
	fgu_free(&u);
}

/* IPv6 with a chain of extension headers (next header values in hdrs,
 * each 8 bytes; 44 = fragment), ending in final (6 TCP, 17 UDP). */
static size_t ipv6_chain(uint8_t *p, const uint8_t *hdrs, size_t n, uint8_t final)
{
	size_t o = eth(p, 0x86dd, -1), i, h;

	memset(p + o, 0, 40);
	p[o] = 0x60;
	p[o + 6] = n ? hdrs[0] : final;
	p[o + 7] = 64;
	h = o + 40;
	for (i = 0; i < n; i++) {
		memset(p + h, 0, 8);
		p[h] = i + 1 < n ? hdrs[i + 1] : final;
		p[h + 1] = 0; /* (0 + 1) * 8 bytes */
		h += 8;
	}
	memset(p + h, 0, 20);
	p[h + 2] = 0, p[h + 3] = 80;
	h += 20;
	p[o + 4] = (uint8_t)((h - o - 40) >> 8), p[o + 5] = (uint8_t)(h - o - 40);
	return h;
}

/* `ip6 protochain` (a backward jump in libpcap's code) walks the chain in a
 * bounded loop and agrees with libpcap. */
static void t_protochain_loops(void)
{
	static const uint8_t hbh[] = { 0 }, hbh_dst[] = { 0, 60 }, frag[] = { 44 },
			     three[] = { 0, 43, 60 };
	uint8_t pkt[2048], many[40];
	struct fgu u = { 0 };
	size_t len, i;

	memset(many, 60, sizeof(many));
	fgu_load(&u, "ip6 protochain 6", NULL, 0, SNAP);
	len = ipv6_chain(pkt, NULL, 0, 6);
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, SNAP, "ip6 tcp");
	len = ipv6_chain(pkt, hbh, 1, 6);
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, SNAP, "ip6 hbh tcp");
	len = ipv6_chain(pkt, hbh_dst, 2, 17);
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, 0, "ip6 hbh dst udp");
	len = ipv6_chain(pkt, three, 3, 6);
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, SNAP, "ip6 hbh rt dst tcp");
	fgu_same(&u, pkt, (uint32_t)len, (uint32_t)len, "ip6 three headers");
	len = ipv6_chain(pkt, frag, 1, 6);
	fgu_same(&u, pkt, (uint32_t)len, (uint32_t)len, "ip6 frag tcp");
	len = ipv6_chain(pkt, many, sizeof(many), 6);
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, SNAP, "ip6 40 dst headers tcp");
	/* the chain cut by the end of the record */
	fgu_run(&u, pkt, 60 + 8 * 10, (uint32_t)len, 0, "ip6 chain cut short");
	fgu_same(&u, pkt, 60 + 8 * 10, (uint32_t)len, "ip6 chain cut short");
	for (i = 0; i < 200; i++) {
		size_t k;

		len = ipv6_chain(pkt, many, rnd() % 8, (uint8_t)(rnd() % 2 ? 6 : 17));
		for (k = 14; k < len; k++)
			if (rnd() % 16 == 0)
				pkt[k] = (uint8_t)rnd();
		fgu_same(&u, pkt, (uint32_t)len, (uint32_t)len, "ip6 random chain");
	}
	fgu_free(&u);
	fgu_load(&u, "ip protochain 6", NULL, 0, SNAP);
	len = ipv4_tcp(pkt, eth(pkt, 0x0800, -1), 80);
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, SNAP, "ip protochain tcp");
	pkt[14 + 9] = 17;
	fgu_run(&u, pkt, (uint32_t)len, (uint32_t)len, 0, "ip protochain udp");
	fgu_free(&u);
}

/* Records shorter than an Ethernet header and frames beyond one page. */
static void t_short_and_large_records(void)
{
	static uint8_t big[70001];
	uint8_t pkt[14];
	struct fgu u = { 0 };
	uint32_t len;

	memset(pkt, 0xaa, sizeof(pkt));
	fgu_load(&u, "len <= 5", NULL, 0, SNAP);
	fgu_run(&u, pkt, 0, 0, SNAP, "empty record");
	fgu_run(&u, pkt, 0, 60, 0, "empty record, wire 60");
	fgu_free(&u);
	fgu_load(&u, "ether[0] = 0xaa or len <= 5", NULL, 0, SNAP);
	for (len = 0; len <= 14; len++) {
		/* a failed load ends the whole cBPF program: 0 for len 0 */
		fgu_run(&u, pkt, len, 60, len ? SNAP : 0, "short record");
		fgu_same(&u, pkt, len, len, "short record");
	}
	fgu_free(&u);
	fgu_load(&u, "ether[12:2] = 0xaaaa", NULL, 0, SNAP);
	for (len = 0; len <= 14; len++)
		fgu_run(&u, pkt, len, len, len == 14 ? SNAP : 0, "short record, ethertype");
	fgu_free(&u);
	/* an IPv4 ethertype with less than an IP header: the TC test run
	 * would refuse the bare frame; the probe still gives both verdicts */
	{
		uint8_t v4[40] = { 0 };

		v4[12] = 0x08, v4[14] = 0x45, v4[23] = 6;
		fgu_load(&u, "ip or ether[0] = 0", NULL, 0, SNAP);
		for (len = 14; len <= 34; len++)
			fgu_same(&u, v4, len, len, "short ipv4 frame");
		fgu_free(&u);
		fgu_load(&u, "ip[9] = 6", NULL, 0, SNAP);
		fgu_run(&u, v4, 24, 24, SNAP, "ip proto in a 24-byte record");
		fgu_run(&u, v4, 23, 23, 0, "ip proto past a 23-byte record");
		fgu_free(&u);
	}
	big[8999] = 0x5a;
	big[70000] = 0x01;
	fgu_load(&u, "ether[8999] = 0x5a", NULL, 0, 262144);
	fgu_run(&u, big, 9000, 9000, 262144, "jumbo frame, last byte (XDP frags)");
	fgu_run(&u, big, 8999, 9000, 0, "jumbo frame cut short");
	fgu_free(&u);
	/* the last offset XDP helpers can read */
	big[65535] = 0x01;
	fgu_load(&u, "ether[65535] = 1", NULL, 0, 262144);
	fgu_run(&u, big, 65536, 65536, 262144, "offset 0xFFFF");
	fgu_same(&u, big, 65536, 65536, "offset 0xFFFF");
	fgu_free(&u);
	/* beyond 0xFFFF the kernel reads nothing at XDP: no match (documented
	 * difference: libpcap would read it) */
	fgu_load(&u, "ether[70000] = 1", NULL, 0, 262144);
	FGU_CHECK(fgu_pcap(&u, big, 70001, 70001) == 262144, "libpcap reads ether[70000]");
	fgu_run(&u, big, 70001, 70001, 0, "offset above 0xFFFF is no match");
	fgu_free(&u);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "oob_load_is_no_match", t_oob_load_is_no_match },
	{ "load_widths_big_endian", t_load_widths_big_endian },
	{ "msh_is_ip_header_length", t_msh_is_ip_header_length },
	{ "imm_mem_len_store", t_imm_mem_len_store },
	{ "alu_ops_wrap_divzero_shift", t_alu_ops },
	{ "tax_txa", t_tax_txa },
	{ "jumps_unsigned", t_jumps_unsigned },
	{ "all_none_ret", t_all_none_ret },
	{ "vlan_in_frame", t_vlan_in_frame },
	{ "protochain_loops", t_protochain_loops },
	{ "short_and_large_records", t_short_and_large_records },
};

int main(int argc, char **argv)
{
	size_t i;
	int found = 0;

	for (i = 0; i < N(cases); i++)
		if (argc < 2 || !strcmp(argv[1], cases[i].name)) {
			cases[i].fn();
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "unknown case %s\n", argv[1]);
		return 2;
	}
	return fgu_done(argc < 2 ? "all" : argv[1]);
}
