/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The cBPF input format shared by fuzz_cbpf and fuzz_cbpf_semantics: 8
 * bytes per instruction, code (u16 LE), jt, jf, k (u32 LE). To reach valid
 * programs often, values that would be out of range are folded into range
 * unless a marker bit keeps them raw (see fz_decode()); values already in
 * range are kept, so real programs (tcpdump -ddd) encode as themselves.
 */
#ifndef FUZZ_CBPF_DECODE_H
#define FUZZ_CBPF_DECODE_H

/* BPF_* from <linux/filter.h> or <pcap/bpf.h> (not both: they clash),
 * included first. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct sock_filter and libpcap's struct bpf_insn, field for field */
struct fz_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* Every opcode the kernel's classic checker knows. */
static const uint16_t fz_codes[] = {
	BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
	BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
	BPF_LD | BPF_W | BPF_LEN, BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
	BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM,
	BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
	BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X,
	BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_SUB | BPF_X,
	BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_MUL | BPF_X,
	BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X,
	BPF_ALU | BPF_MOD | BPF_K, BPF_ALU | BPF_MOD | BPF_X,
	BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_AND | BPF_X,
	BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_OR | BPF_X,
	BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X,
	BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_LSH | BPF_X,
	BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_RSH | BPF_X,
	BPF_ALU | BPF_NEG,
	BPF_JMP | BPF_JA,
	BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JEQ | BPF_X,
	BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X,
	BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGE | BPF_X,
	BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JSET | BPF_X,
	BPF_RET | BPF_K, BPF_RET | BPF_A,
	BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
};
#define FZ_NCODES (sizeof(fz_codes) / sizeof(fz_codes[0]))

static inline bool fz_is_mem(uint16_t c)
{
	return c == (BPF_LD | BPF_MEM) || c == (BPF_LDX | BPF_MEM) || c == BPF_ST ||
	       c == BPF_STX;
}

static inline bool fz_is_cond(uint16_t c)
{
	return BPF_CLASS(c) == BPF_JMP && BPF_OP(c) != BPF_JA;
}

static inline bool fz_is_pkt_load(uint16_t c)
{
	return (BPF_CLASS(c) == BPF_LD && (BPF_MODE(c) == BPF_ABS || BPF_MODE(c) == BPF_IND)) ||
	       c == (BPF_LDX | BPF_B | BPF_MSH);
}

static inline uint32_t fz_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void fz_decode(const uint8_t *p, size_t pc, size_t n, struct fz_insn *in)
{
	uint16_t raw = (uint16_t)(p[0] | p[1] << 8);
	size_t ahead = n - pc - 1; /* instructions after this one */
	uint32_t k = fz_le32(p + 4);

	/* codes < 0x100 as they are (known or not), others pick a known one */
	in->code = raw < 0x100 ? raw : fz_codes[raw % FZ_NCODES];
	in->jt = p[2];
	in->jf = p[3];
	in->k = k;
	/* jt/jf: bit 7 keeps an out-of-range target */
	if (fz_is_cond(in->code) && ahead) {
		if (in->jt >= ahead && !(in->jt & 0x80))
			in->jt %= ahead;
		if (in->jf >= ahead && !(in->jf & 0x80))
			in->jf %= ahead;
	}
	/* ja: in range forward or backward as is; bit 30 keeps it raw */
	if (in->code == (BPF_JMP | BPF_JA) && !(k & 0x40000000)) {
		int64_t t = (int64_t)pc + 1 + (int32_t)k;

		if ((t < 0 || t >= (int64_t)n) && ahead)
			in->k = (uint32_t)(k % ahead);
	}
	/* scratch cells: bit 31 keeps an invalid index */
	if (fz_is_mem(in->code) && k >= 16 && !(k & 0x80000000))
		in->k = k % 16;
}

#endif
