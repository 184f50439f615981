/* SPDX-License-Identifier: BSD-2-Clause */
/* A small bpftool-like listing of (translated) eBPF instructions, so
 * `filter compile --emit ebpf` needs no external tool. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>

#include "filtergen/fg_internal.h"

static const char *fg_alu_name(unsigned int op)
{
	static const char *n[16] = { "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
				     "neg", "%=", "^=", "=", "s>>=", "end", "?", "?" };
	return n[(op >> 4) & 15];
}

static const char *fg_jmp_name(unsigned int op)
{
	static const char *n[16] = { "ja", "==", ">", ">=", "&", "!=", "s>", "s>=",
				     "call", "exit", "<", "<=", "s<", "s<=", "?", "?" };
	return n[(op >> 4) & 15];
}

static const char *fg_size_name(unsigned int code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return "u8";
	case BPF_H: return "u16";
	case BPF_W: return "u32";
	default: return "u64";
	}
}

int fg_ebpf_print(const void *v, uint32_t n, FILE *o)
{
	const struct bpf_insn *insns = v;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct bpf_insn *in = &insns[i];
		unsigned int cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
		char r = cls == BPF_ALU || cls == BPF_JMP32 ? 'w' : 'r';

		fprintf(o, "%4u: (%02x) ", i, in->code);
		switch (cls) {
		case BPF_ALU:
		case BPF_ALU64:
			if (op == BPF_NEG)
				fprintf(o, "%c%d = -%c%d", r, in->dst_reg, r, in->dst_reg);
			else if (op == BPF_END)
				fprintf(o, "r%d = %s%d r%d", in->dst_reg,
					BPF_SRC(in->code) == BPF_X ? "be" : "le", in->imm,
					in->dst_reg);
			else if (BPF_SRC(in->code) == BPF_X)
				fprintf(o, "%c%d %s %c%d", r, in->dst_reg, fg_alu_name(op), r,
					in->src_reg);
			else
				fprintf(o, "%c%d %s %d", r, in->dst_reg, fg_alu_name(op), in->imm);
			break;
		case BPF_LD:
			if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && i + 1 < n) {
				unsigned long long imm = (uint32_t)in->imm |
					((unsigned long long)(uint32_t)insns[i + 1].imm << 32);

				if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_IDX)
					fprintf(o, "r%d = map[fd:%d]", in->dst_reg, in->imm);
				else if (in->src_reg == BPF_PSEUDO_MAP_VALUE)
					fprintf(o, "r%d = map[fd:%d][0]+%d", in->dst_reg, in->imm,
						insns[i + 1].imm);
				else if (in->src_reg == BPF_PSEUDO_FUNC)
					fprintf(o, "r%d = subprog[%+d]", in->dst_reg, in->imm);
				else
					fprintf(o, "r%d = 0x%llx", in->dst_reg, imm);
				fprintf(o, "\n");
				i++;
				continue;
			}
			fprintf(o, "ld (legacy) imm %d", in->imm);
			break;
		case BPF_LDX:
			fprintf(o, "r%d = *(%s *)(r%d %+d)", in->dst_reg, fg_size_name(in->code),
				in->src_reg, in->off);
			break;
		case BPF_ST:
			fprintf(o, "*(%s *)(r%d %+d) = %d", fg_size_name(in->code), in->dst_reg,
				in->off, in->imm);
			break;
		case BPF_STX:
			if (BPF_MODE(in->code) == BPF_ATOMIC)
				fprintf(o, "atomic 0x%x *(%s *)(r%d %+d), r%d", in->imm,
					fg_size_name(in->code), in->dst_reg, in->off, in->src_reg);
			else
				fprintf(o, "*(%s *)(r%d %+d) = r%d", fg_size_name(in->code),
					in->dst_reg, in->off, in->src_reg);
			break;
		default: /* BPF_JMP, BPF_JMP32 */
			if (op == BPF_EXIT)
				fprintf(o, "exit");
			else if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_CALL)
				fprintf(o, "call pc%+d", in->imm);
			else if (op == BPF_CALL)
				fprintf(o, "call helper#%d", in->imm);
			else if (op == BPF_JA)
				fprintf(o, "goto pc%+d", in->off);
			else if (BPF_SRC(in->code) == BPF_X)
				fprintf(o, "if %c%d %s %c%d goto pc%+d", r, in->dst_reg,
					fg_jmp_name(op), r, in->src_reg, in->off);
			else
				fprintf(o, "if %c%d %s 0x%x goto pc%+d", r, in->dst_reg,
					fg_jmp_name(op), (unsigned int)in->imm, in->off);
			break;
		}
		fprintf(o, "\n");
	}
	return ferror(o) ? -EIO : 0;
}
