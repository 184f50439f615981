/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cBPF -> C (the text of fg_filter.h). One labelled block per cBPF
 * instruction, the instruction as a comment, explicit gotos for every jump.
 *
 * Two shapes:
 *  - straight (every libpcap filter but protochain): one test at entry that
 *    the packet's linear part holds the farthest constant offset read (the
 *    guard); then the L copy reads [k] directly with no further test (the
 *    verifier knows the range) and [x + k] with a test each, falling back to
 *    FG_LOAD_BYTES. Shorter or non-linear packets run the S copy (a
 *    subprogram), which reads everything through FG_LOAD_BYTES. One guard instead of a test per load
 *    keeps the verifier's work linear (with a test per load it is quadratic:
 *    each merge of a fast and a slow path differs in the packet range it
 *    proved) and makes the common case fast (cbpfc's guard hoisting);
 *  - loop (programs with a backward ja, i.e. `ip6 protochain`): the program
 *    runs as a bpf_loop() callback that stops at every backward jump, so the
 *    verifier checks the body once and the loop is bounded (FG_LOOP_MAX
 *    iterations, then no match). Loads use FG_LOAD_BYTES only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/bpf.h>

#include "filtergen/fg_internal.h"

static const char fg_common[] =
	"#include <linux/types.h>\n"
	"\n"
	"#ifndef FG_FILTER_COMMON\n"
	"#define FG_FILTER_COMMON\n"
	"#ifndef __always_inline\n"
	"#define __always_inline inline __attribute__((always_inline))\n"
	"#endif\n"
	"#define FG_XCAT_(a, b) a##b\n"
	"#define FG_XCAT(a, b) FG_XCAT_(a, b)\n"
	"/* Big-endian reads; unaligned access is fine on x86 (verifier: non-strict). */\n"
	"#define FG_BE1(p) ((__u32) * (const __u8 *)(p))\n"
	"#define FG_BE2(p) ((__u32)__builtin_bswap16(*(const __u16 *)(p)))\n"
	"#define FG_BE4(p) ((__u32)__builtin_bswap32(*(const __u32 *)(p)))\n"
	"/* dst = size bytes at packet offset off through the host's slow path;\n"
	" * `fail` when they are not all in the packet (cBPF: no match). Offsets\n"
	" * above 0xFFFF are no match on both hooks: the kernel's XDP helpers read\n"
	" * nothing there (MAX_PACKET_OFF). */\n"
	"#define FG_LD_SLOW(dst, off, size, fail)                                       \\\n"
	"\tdo {                                                                   \\\n"
	"\t\t__u64 fg_so = (off), fg_v;                                   \\\n"
	"\t\tif (fg_so > 0xFFFF)                                            \\\n"
	"\t\t\tfail;                                                   \\\n"
	"\t\tfg_v = FG_XCAT(FG_FN, _ld)(ctx, (__u32)fg_so, size);          \\\n"
	"\t\tif (fg_v >> 32)                                                \\\n"
	"\t\t\tfail;                                                   \\\n"
	"\t\tdst = (__u32)fg_v;                                             \\\n"
	"\t} while (0)\n"
	"/* dst = size bytes at packet offset off (u64, no wrap), or return 0.\n"
	" * Direct access needs a bounded offset (the verifier's packet range is\n"
	" * 0xFFFF; 0xFF00 leaves room for a small variable offset the host adds\n"
	" * to data) and a check of the very pointer that is read; the empty asm\n"
	" * keeps clang from rebuilding that pointer from data after the check.\n"
	" * Farther offsets take the slow path. */\n"
	"#define FG_LD_(dst, off, size, hide)                                           \\\n"
	"\tdo {                                                                   \\\n"
	"\t\t__u64 fg_o = (off);                                            \\\n"
	"\t\thide;                                                           \\\n"
	"\t\tif (fg_o <= 0xFF00 - (size)) {                                 \\\n"
	"\t\t\tconst __u8 *fg_p = (const __u8 *)data + fg_o;           \\\n"
	"\t\t\tasm volatile(\"\" : \"+r\"(fg_p));                            \\\n"
	"\t\t\tif ((const void *)(fg_p + (size)) <= data_end) {        \\\n"
	"\t\t\t\tdst = FG_BE##size(fg_p);                       \\\n"
	"\t\t\t\tbreak;                                         \\\n"
	"\t\t\t}                                                       \\\n"
	"\t\t}                                                               \\\n"
	"\t\tFG_LD_SLOW(dst, fg_o, size, return 0);                         \\\n"
	"\t} while (0)\n"
	"/* [k] past the guard (constant offset: clang folds the range test) */\n"
	"#define FG_LD(dst, off, size) FG_LD_(dst, off, size, (void)0)\n"
	"/* [k] within the guard: the entry test proved it */\n"
	"#define FG_LD_DIRECT(dst, off, size) dst = FG_BE##size((const __u8 *)data + (off))\n"
	"/* [x + k]: the empty asm makes clang test the very register it adds to\n"
	" * data, not X before the + k, or the verifier loses the bound. */\n"
	"#define FG_LD_IND(dst, off, size) \\\n"
	"\tFG_LD_(dst, off, size, asm volatile(\"\" : \"+r\"(fg_o)))\n"
	"#ifndef FG_LOOP_MAX\n"
	"#define FG_LOOP_MAX 65536 /* backward jumps taken before giving up (no match) */\n"
	"#endif\n"
	"#endif /* FG_FILTER_COMMON */\n"
	"\n"
	"#ifndef FG_FN\n"
	"#define FG_FN fg_filter\n"
	"#endif\n"
	"#pragma clang diagnostic push\n"
	"#pragma clang diagnostic ignored \"-Wunused-label\"\n"
	"#pragma clang diagnostic ignored \"-Wunused-function\"\n"
	"\n"
	"/* The slow path of every load, one subprogram (small code, fast clang):\n"
	" * size bytes at off through FG_LOAD_BYTES, big-endian in the low 32 bits;\n"
	" * bit 32 set when they are not all in the packet. */\n"
	"static __attribute__((noinline)) __u64\n"
	"FG_XCAT(FG_FN, _ld)(FG_CTX_T *ctx, __u32 off, __u32 size)\n"
	"{\n"
	"\t__u8 b[4] = {};\n"
	"\n"
	"\tif (size == 4)\n"
	"\t\treturn FG_LOAD_BYTES(ctx, off, b, 4) ? 1ULL << 32 : FG_BE4(b);\n"
	"\tif (size == 2)\n"
	"\t\treturn FG_LOAD_BYTES(ctx, off, b, 2) ? 1ULL << 32 : FG_BE2(b);\n"
	"\treturn FG_LOAD_BYTES(ctx, off, b, 1) ? 1ULL << 32 : b[0];\n"
	"}\n\n";

struct fg_gen {
	FILE *out;
	const struct fg_filter *f;
	int loop;       /* loop shape */
	int slow;       /* emitting the S copy (loads through FG_LOAD_BYTES) */
	uint32_t guard; /* [k] loads ending at or before this are direct */
	uint16_t mem;   /* scratch cells used */
};

static void fg_mem_name(struct fg_gen *g, uint32_t k, char *buf, size_t len)
{
	if (g->loop)
		snprintf(buf, len, "s->M[%u]", k);
	else
		snprintf(buf, len, "M%u", k);
}

static const char *fg_size_of(uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return "4";
	case BPF_H:
		return "2";
	default:
		return "1";
	}
}

static const char *fg_alu_op(uint16_t code)
{
	switch (BPF_OP(code)) {
	case BPF_ADD: return "+";
	case BPF_SUB: return "-";
	case BPF_MUL: return "*";
	case BPF_DIV: return "/";
	case BPF_MOD: return "%";
	case BPF_OR: return "|";
	case BPF_AND: return "&";
	case BPF_XOR: return "^";
	case BPF_LSH: return "<<";
	default: return ">>";
	}
}

static const char *fg_jmp_op(uint16_t code)
{
	switch (BPF_OP(code)) {
	case BPF_JEQ: return "==";
	case BPF_JGT: return ">";
	case BPF_JGE: return ">=";
	default: return "&";
	}
}

/* "return v" in either shape. */
static void fg_ret(struct fg_gen *g, const char *v)
{
	if (g->loop)
		fprintf(g->out, "\t{ s->ret = %s; return 1; }\n", v);
	else
		fprintf(g->out, "\treturn %s;\n", v);
}

/* end: offset + size of a [k] load, 0 for [x + k]. */
static void fg_load(struct fg_gen *g, const char *dst, const char *off, const char *size,
		    uint64_t end)
{
	const char *how = "FG_LD";

	if (g->loop) {
		fprintf(g->out, "\tFG_LD_SLOW(%s, %s, %s, { s->ret = 0; return 1; });\n",
			dst, off, size);
		return;
	}
	if (g->slow) {
		fprintf(g->out, "\tFG_LD_SLOW(%s, %s, %s, return 0);\n", dst, off, size);
		return;
	}
	if (!end)
		how = "FG_LD_IND";
	else if (end <= g->guard)
		how = "FG_LD_DIRECT";
	fprintf(g->out, "\t%s(%s, %s, %s);\n", how, dst, off, size);
}

static uint32_t fg_width(uint16_t code)
{
	return BPF_SIZE(code) == BPF_W ? 4 : BPF_SIZE(code) == BPF_H ? 2 : 1;
}

/* The farthest end of a [k] (or MSH) load that direct access can reach. */
static uint32_t fg_guard(const struct fg_filter *f)
{
	uint64_t end, max = 0;
	size_t pc;

	for (pc = 0; pc < f->n; pc++) {
		uint16_t c = f->insns[pc].code;

		if (c == (BPF_LDX | BPF_B | BPF_MSH))
			end = (uint64_t)f->insns[pc].k + 1;
		else if (BPF_CLASS(c) == BPF_LD && BPF_MODE(c) == BPF_ABS)
			end = (uint64_t)f->insns[pc].k + fg_width(c);
		else
			continue;
		if (end <= 0xFF00 && end > max)
			max = end;
	}
	return (uint32_t)max;
}

static void fg_goto(struct fg_gen *g, size_t from, size_t to)
{
	if (g->loop && to <= from)
		fprintf(g->out, "{ s->A = A; s->X = X; s->pc = %zu; return 0; }", to);
	else
		fprintf(g->out, "goto %c%zu;", g->slow ? 'S' : 'L', to);
}

static void fg_insn(struct fg_gen *g, size_t pc)
{
	const struct bpf_insn *in = &g->f->insns[pc];
	FILE *o = g->out;
	char a[64], m[32], img[128];
	uint16_t c = in->code;

	fg_image(in, (int)pc, img, sizeof(img));
	fprintf(o, "%c%zu: /* %s */\n", g->slow ? 'S' : 'L', pc, img);
	switch (BPF_CLASS(c)) {
	case BPF_LD:
	case BPF_LDX:
		if (c == (BPF_LDX | BPF_B | BPF_MSH)) {
			snprintf(a, sizeof(a), "%uU", in->k);
			fg_load(g, "X", a, "1", (uint64_t)in->k + 1);
			fprintf(o, "\tX = (X & 0xf) << 2;\n");
			break;
		}
		switch (BPF_MODE(c)) {
		case BPF_ABS:
			snprintf(a, sizeof(a), "%uU", in->k);
			fg_load(g, "A", a, fg_size_of(c), (uint64_t)in->k + fg_width(c));
			break;
		case BPF_IND:
			snprintf(a, sizeof(a), "(__u64)X + %uU", in->k);
			fg_load(g, "A", a, fg_size_of(c), 0);
			break;
		case BPF_IMM:
			fprintf(o, "\t%s = 0x%xU;\n", BPF_CLASS(c) == BPF_LD ? "A" : "X", in->k);
			break;
		case BPF_MEM:
			fg_mem_name(g, in->k, m, sizeof(m));
			fprintf(o, "\t%s = %s;\n", BPF_CLASS(c) == BPF_LD ? "A" : "X", m);
			break;
		case BPF_LEN:
			fprintf(o, "\t%s = wire_len;\n", BPF_CLASS(c) == BPF_LD ? "A" : "X");
			break;
		}
		break;
	case BPF_ST:
	case BPF_STX:
		fg_mem_name(g, in->k, m, sizeof(m));
		fprintf(o, "\t%s = %s;\n", m, BPF_CLASS(c) == BPF_ST ? "A" : "X");
		break;
	case BPF_ALU:
		if (BPF_OP(c) == BPF_NEG) {
			fprintf(o, "\tA = -A;\n");
		} else if (BPF_SRC(c) == BPF_K) {
			fprintf(o, "\tA %s= 0x%xU;\n", fg_alu_op(c), in->k);
		} else if (BPF_OP(c) == BPF_DIV || BPF_OP(c) == BPF_MOD) {
			fprintf(o, "\tif (X == 0)\n\t");
			fg_ret(g, "0");
			fprintf(o, "\tA %s= X;\n", fg_alu_op(c));
		} else if (BPF_OP(c) == BPF_LSH || BPF_OP(c) == BPF_RSH) {
			/* libpcap: a count of 32 or more gives 0 (C and eBPF differ) */
			fprintf(o, "\tA = X < 32 ? A %s X : 0;\n", fg_alu_op(c));
		} else {
			fprintf(o, "\tA %s= X;\n", fg_alu_op(c));
		}
		break;
	case BPF_JMP:
		if (BPF_OP(c) == BPF_JA) {
			fprintf(o, "\t");
			fg_goto(g, pc, pc + 1 + (int64_t)(int32_t)in->k);
			fprintf(o, "\n");
			break;
		}
		if (BPF_SRC(c) == BPF_K)
			snprintf(a, sizeof(a), "0x%xU", in->k);
		else
			snprintf(a, sizeof(a), "X");
		fprintf(o, "\tif (A %s %s)\n\t\t", fg_jmp_op(c), a);
		fg_goto(g, pc, pc + 1 + in->jt);
		fprintf(o, "\n\telse\n\t\t");
		fg_goto(g, pc, pc + 1 + in->jf);
		fprintf(o, "\n");
		break;
	case BPF_RET:
		if (BPF_RVAL(c) == BPF_A) {
			fg_ret(g, "A");
		} else {
			snprintf(a, sizeof(a), "%uU", in->k);
			fg_ret(g, a);
		}
		break;
	case BPF_MISC:
		fprintf(o, "\t%s;\n", BPF_MISCOP(c) == BPF_TAX ? "X = A" : "A = X");
		break;
	}
}

static void fg_body(struct fg_gen *g)
{
	size_t pc;

	for (pc = 0; pc < g->f->n; pc++)
		fg_insn(g, pc);
}

static void fg_locals(struct fg_gen *g)
{
	unsigned int k;

	fprintf(g->out, "\t__u32 A = 0, X = 0;\n");
	for (k = 0; k < BPF_MEMWORDS; k++)
		if (g->mem & (1u << k))
			fprintf(g->out, "\t__u32 M%u = 0;\n", k);
}

static void fg_gen_straight(struct fg_gen *g)
{
	FILE *o = g->out;

	g->guard = fg_guard(g->f);
	if (g->guard) {
		/* its own function: clang 14 emits 16-bit jump offsets, and both
		 * copies of a large filter in one function would overflow them */
		fprintf(o, "/* S copy: every load through FG_LOAD_BYTES, for packets whose\n"
			   " * linear part is shorter than the guard (see FG_FN). */\n"
			   "static __attribute__((noinline)) __u32\n"
			   "FG_XCAT(FG_FN, _slow)(FG_CTX_T *ctx, __u32 wire_len)\n"
			   "{\n");
		fg_locals(g);
		fprintf(o, "\n\t(void)ctx, (void)wire_len, (void)A, (void)X;\n");
		g->slow = 1;
		fg_body(g);
		g->slow = 0;
		fprintf(o, "}\n\n");
	}
	fprintf(o, "static __always_inline __u32\n"
		   "FG_FN(FG_CTX_T *ctx, const void *data, const void *data_end, __u32 wire_len)\n"
		   "{\n");
	fg_locals(g);
	fprintf(o, "\n\t(void)ctx, (void)data, (void)data_end, (void)wire_len, (void)A, (void)X;\n");
	if (g->guard)
		fprintf(o, "\t/* guard: the [k] loads end by byte %u; shorter or non-linear\n"
			   "\t * packets run the S copy */\n"
			   "\tif ((const void *)((const __u8 *)data + %uU) > data_end)\n"
			   "\t\treturn FG_XCAT(FG_FN, _slow)(ctx, wire_len);\n", g->guard, g->guard);
	fg_body(g);
	fprintf(o, "}\n");
}

static void fg_gen_loop(struct fg_gen *g)
{
	FILE *o = g->out;
	unsigned char *target;
	size_t pc;

	target = calloc(g->f->n, 1);
	if (!target) {
		fprintf(o, "#error out of memory\n");
		return;
	}
	fprintf(o, "/* State kept across bpf_loop() iterations. */\n"
		   "struct FG_XCAT(FG_FN, _state) {\n"
		   "\tFG_CTX_T *ctx;\n"
		   "\t__u32 A, X, pc, ret, wire_len;\n"
		   "\t__u32 M[16];\n"
		   "};\n\n"
		   "/* Runs from s->pc to the next ret (returns 1) or backward jump (0). */\n"
		   "static long FG_XCAT(FG_FN, _step)(__u32 i, void *arg)\n"
		   "{\n"
		   "\tstruct FG_XCAT(FG_FN, _state) *s = arg;\n"
		   "\tFG_CTX_T *ctx = s->ctx;\n"
		   "\t__u32 A = s->A, X = s->X, wire_len = s->wire_len;\n\n"
		   "\t(void)i, (void)ctx, (void)wire_len;\n"
		   "\tswitch (s->pc) {\n"
		   "\tcase 0:\n\t\tgoto L0;\n");
	for (pc = 0; pc < g->f->n; pc++) {
		const struct bpf_insn *in = &g->f->insns[pc];
		int64_t t = (int64_t)pc + 1 + (int32_t)in->k;

		if (in->code == (BPF_JMP | BPF_JA) && t <= (int64_t)pc && t > 0 &&
		    !target[t]++)
			fprintf(o, "\tcase %lld:\n\t\tgoto L%lld;\n", (long long)t, (long long)t);
	}
	free(target);
	fprintf(o, "\tdefault:\n\t\ts->ret = 0;\n\t\treturn 1;\n\t}\n");
	fg_body(g);
	fprintf(o, "}\n\n"
		   "static __always_inline __u32\n"
		   "FG_FN(FG_CTX_T *ctx, const void *data, const void *data_end, __u32 wire_len)\n"
		   "{\n"
		   "\tstruct FG_XCAT(FG_FN, _state) s = { .ctx = ctx, .wire_len = wire_len };\n\n"
		   "\t(void)data, (void)data_end;\n"
		   "\ts.ret = 0;\n"
		   "\ts.pc = 0;\n"
		   "\t/* ends at a ret (s.ret set) or after FG_LOOP_MAX rounds (no match) */\n"
		   "\tif (bpf_loop(FG_LOOP_MAX, FG_XCAT(FG_FN, _step), &s, 0) >= FG_LOOP_MAX)\n"
		   "\t\treturn 0;\n"
		   "\treturn s.ret;\n"
		   "}\n");
}

char *fg_cgen(const struct fg_filter *f)
{
	struct fg_gen g = { .f = f };
	char *buf = NULL;
	size_t len = 0, pc;

	g.out = open_memstream(&buf, &len);
	if (!g.out)
		return NULL;
	g.loop = fg_has_loop(f->insns, f->n);
	for (pc = 0; pc < f->n; pc++) {
		uint16_t c = f->insns[pc].code;

		if (c == BPF_ST || c == BPF_STX || c == (BPF_LD | BPF_MEM) ||
		    c == (BPF_LDX | BPF_MEM))
			g.mem |= (uint16_t)(1u << f->insns[pc].k);
	}
	fprintf(g.out, "/* fg_filter.h: generated by capture-appliance filtergen; do not edit.\n"
		       " * Expression: ");
	/* keep the expression from closing the comment */
	for (const char *p = f->expr; *p; p++)
		fputs(p[0] == '*' && p[1] == '/' ? "* " : (char[]){ *p, 0 }, g.out);
	fprintf(g.out, "\n * Snaplen %u; %zu cBPF instructions; %s shape.\n"
		       " * Contract: filtergen/filtergen.h. */\n",
		f->snaplen, f->n, g.loop ? "loop (bpf_loop)" : "straight");
	fputs(fg_common, g.out);
	if (g.loop)
		fg_gen_loop(&g);
	else
		fg_gen_straight(&g);
	fprintf(g.out, "#pragma clang diagnostic pop\n#undef FG_FN\n");
	if (fclose(g.out)) {
		free(buf);
		return NULL;
	}
	return buf;
}
