/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic BPF validation, like the kernel's bpf_check_classic(): known
 * opcodes, jump targets in range (overflow-safe), ends in ret, no constant
 * division by zero or shift >= 32, scratch memory index < 16 and never read
 * before written on every path. Negative offsets (Linux ancillary loads,
 * which only a live capture handle emits) are refused.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include <pcap/bpf.h>

#include "filtergen/fg_internal.h"

#define FG_MAX_INSNS 65536

/* Target of the jump at pc; INT64_MIN if insn is no jump. */
static int64_t fg_ja_target(const struct bpf_insn *in, size_t pc)
{
	/* libpcap's bpf_filter sign-extends ja's k: backward jumps are loops */
	return (int64_t)pc + 1 + (int32_t)in->k;
}

static int fg_is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

int fg_has_loop(const struct bpf_insn *insns, size_t n)
{
	size_t pc;

	for (pc = 0; pc < n; pc++)
		if (insns[pc].code == (BPF_JMP | BPF_JA) && (int32_t)insns[pc].k < 0)
			return 1;
	return 0;
}

static int fg_check_insn(const struct bpf_insn *in, size_t pc, size_t n,
			 char *err, size_t errlen)
{
	int64_t t;

	switch (in->code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
	case BPF_LDX | BPF_B | BPF_MSH:
		if ((int32_t)in->k < 0)
			return fg_err(err, errlen, -EINVAL,
				      "insn %zu: negative packet offset %d (Linux ancillary load; "
				      "only a live capture handle emits these)", pc, (int32_t)in->k);
		return 0;
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_W | BPF_IMM:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_ALU | BPF_NEG:
		return 0;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
		if (in->k >= BPF_MEMWORDS)
			return fg_err(err, errlen, -EINVAL,
				      "insn %zu: scratch memory index %u >= %d", pc, in->k, BPF_MEMWORDS);
		return 0;
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_K:
		if (!in->k)
			return fg_err(err, errlen, -EINVAL, "insn %zu: division by constant 0", pc);
		return 0;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		if (in->k >= 32)
			return fg_err(err, errlen, -EINVAL, "insn %zu: shift by %u >= 32", pc, in->k);
		return 0;
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X:
		return 0;
	case BPF_JMP | BPF_JA:
		t = fg_ja_target(in, pc);
		if (t < 0 || t >= (int64_t)n)
			return fg_err(err, errlen, -EINVAL,
				      "insn %zu: jump target %lld out of range", pc, (long long)t);
		return 0;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_X:
		if (pc + 1 + in->jt >= n || pc + 1 + in->jf >= n)
			return fg_err(err, errlen, -EINVAL,
				      "insn %zu: jump target out of range", pc);
		return 0;
	default:
		return fg_err(err, errlen, -EINVAL, "insn %zu: unknown opcode 0x%04x", pc, in->code);
	}
}

/* Scratch memory: a cell read must be written on every path reaching the
 * read. Forward data flow over the masks of valid cells; with loops
 * (backward ja) the pass repeats until the masks no longer shrink. */
static int fg_check_mem(const struct bpf_insn *insns, size_t n, char *err, size_t errlen)
{
	uint16_t *in_mask, valid;
	int changed, ret = 0;
	size_t pc, rounds = 0;
	int64_t t;

	in_mask = malloc(n * sizeof(*in_mask));
	if (!in_mask)
		return -ENOMEM;
	memset(in_mask, 0xff, n * sizeof(*in_mask));
	in_mask[0] = 0;
	do {
		changed = 0;
		valid = 0xffff; /* nothing falls into insn 0 except the entry */
		for (pc = 0; pc < n; pc++) {
			const struct bpf_insn *in = &insns[pc];
			uint16_t m;

			valid &= in_mask[pc];
			if (pc == 0)
				valid = 0;
			if (in->code == BPF_ST || in->code == BPF_STX)
				valid |= (uint16_t)(1u << in->k);
			if (in->code == (BPF_JMP | BPF_JA)) {
				t = fg_ja_target(in, pc);
				m = in_mask[t] & valid;
				changed |= m != in_mask[t];
				in_mask[t] = m;
				valid = 0xffff;
			} else if (fg_is_cond_jump(in->code)) {
				m = in_mask[pc + 1 + in->jt] & valid;
				in_mask[pc + 1 + in->jt] = m;
				m = in_mask[pc + 1 + in->jf] & valid;
				in_mask[pc + 1 + in->jf] = m;
				valid = 0xffff;
			} else if (BPF_CLASS(in->code) == BPF_RET) {
				valid = 0xffff;
			}
		}
		/* forward edges settle in one pass; only back edges need more */
	} while (changed && ++rounds < 64);

	valid = 0xffff;
	for (pc = 0; pc < n; pc++) {
		const struct bpf_insn *in = &insns[pc];

		valid &= in_mask[pc];
		if (in->code == BPF_ST || in->code == BPF_STX)
			valid |= (uint16_t)(1u << in->k);
		if ((in->code == (BPF_LD | BPF_MEM) || in->code == (BPF_LDX | BPF_MEM)) &&
		    !(valid & (1u << in->k))) {
			ret = fg_err(err, errlen, -EINVAL,
				     "insn %zu: reads scratch memory M[%u] before it is written", pc, in->k);
			goto out;
		}
		if (BPF_CLASS(in->code) == BPF_JMP || BPF_CLASS(in->code) == BPF_RET)
			valid = 0xffff;
	}
out:
	free(in_mask);
	return ret;
}

int fg_validate(const struct bpf_insn *insns, size_t n, int flags, char *err,
		size_t errlen)
{
	size_t pc;
	int ret;

	if (n == 0 || n > FG_MAX_INSNS)
		return fg_err(err, errlen, -EINVAL, "program length %zu out of range 1..%d",
			      n, FG_MAX_INSNS);
	for (pc = 0; pc < n; pc++) {
		ret = fg_check_insn(&insns[pc], pc, n, err, errlen);
		if (ret)
			return ret;
		/* the only loop that never ends whatever the packet */
		if (insns[pc].code == (BPF_JMP | BPF_JA) && fg_ja_target(&insns[pc], pc) == (int64_t)pc)
			return fg_err(err, errlen, -EINVAL, "insn %zu: ja to itself (endless loop)", pc);
	}
	if (BPF_CLASS(insns[n - 1].code) != BPF_RET)
		return fg_err(err, errlen, -EINVAL, "last instruction must be ret");
	/* libpcap's optimiser may leave a read of a cell that no path of the
	 * static flow graph wrote (the kernel refuses those programs); such
	 * cells read as 0 in the generated C. */
	if (flags & FG_V_LENIENT_MEM)
		return 0;
	return fg_check_mem(insns, n, err, errlen);
}
