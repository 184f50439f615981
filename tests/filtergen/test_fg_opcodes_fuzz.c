// SPDX-License-Identifier: BSD-2-Clause
/*
 * Differential fuzz: random valid classic BPF programs (every opcode, forward
 * jumps, scratch memory written before read) on random packets (short, cut
 * short, ordinary), fg_from_cbpf + both probe hooks vs libpcap's bpf_filter.
 *
 *   test_fg_opcodes_fuzz NPROGS SEED [WORKERS]
 *
 * Fixed seed: the same programs on every run; a failure prints the program
 * (like tcpdump -d) and the packet.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filtergen/filtergen.h"

#define MAX_INSNS 48
#define NPKTS 10
#define SNAP 262144u

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r, uint32_t n)
{
	/* xorshift64*: reproducible on every platform */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return n ? (uint32_t)((r->s * 2685821657736338717ull) >> 32) % n : 0;
}

static uint32_t interesting(struct rng *r)
{
	static const uint32_t v[] = { 0, 1, 2, 4, 14, 31, 32, 33, 63, 0xff,
				      0x7fffffff, 0x80000000, 0x80000001,
				      0xfffffffe, 0xffffffff, 0x10000 };

	if (rnd(r, 3))
		return v[rnd(r, sizeof(v) / sizeof(v[0]))];
	return rnd(r, 0xffffffffu) ^ (rnd(r, 2) << 31);
}

static uint32_t offset(struct rng *r)
{
	switch (rnd(r, 20)) {
	case 0:
		return 100 + rnd(r, 1500);
	case 1:
		return (uint32_t[]){ 0xffff, 0x10000, 70000, 0x7fffffff }[rnd(r, 4)];
	default:
		return rnd(r, 100);
	}
}

static const uint16_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV,
				    BPF_OR,  BPF_AND, BPF_LSH, BPF_RSH,
				    BPF_MOD, BPF_XOR };
static const uint16_t jmp_ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
static const uint16_t sizes[] = { BPF_W, BPF_H, BPF_B };

/* A valid program for the kernel's classic checker: forward jumps inside
 * the program, last insn ret, no constant div by 0 or shift >= 32, M[k]
 * read only for cells stored in the straight-line prologue. */
static size_t gen_prog(struct rng *r, struct bpf_insn *p)
{
	size_t len = 4 + rnd(r, MAX_INSNS - 4), n = 0;
	uint16_t stored = 0;

	for (uint32_t i = rnd(r, 4); i > 0 && n + 2 < len - 1; i--) {
		uint32_t k = rnd(r, 16);

		if (rnd(r, 2)) {
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_IMM, interesting(r));
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_ST, k);
		} else {
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, interesting(r));
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_STX, k);
		}
		stored |= (uint16_t)(1u << k);
	}
	while (n < len - 1) {
		/* insns after this one, the final ret included: a jump may skip
		 * at most left - 1 of them */
		size_t left = len - 1 - n;
		uint16_t op;
		uint32_t k;

		switch (rnd(r, 16)) {
		case 0:
		case 1:
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | sizes[rnd(r, 3)] | BPF_ABS, offset(r));
			break;
		case 2:
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | sizes[rnd(r, 3)] | BPF_IND, offset(r));
			break;
		case 3:
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, offset(r));
			break;
		case 4:
			p[n++] = rnd(r, 2) ?
				(struct bpf_insn)BPF_STMT(BPF_LD | BPF_IMM, interesting(r)) :
				(struct bpf_insn)BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, rnd(r, 2) ? rnd(r, 64) : interesting(r));
			break;
		case 5:
			p[n++] = rnd(r, 2) ? (struct bpf_insn)BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0) :
					     (struct bpf_insn)BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0);
			break;
		case 6:
			if (!stored)
				break;
			do
				k = rnd(r, 16);
			while (!(stored & (1u << k)));
			p[n++] = rnd(r, 2) ? (struct bpf_insn)BPF_STMT(BPF_LD | BPF_MEM, k) :
					     (struct bpf_insn)BPF_STMT(BPF_LDX | BPF_MEM, k);
			break;
		case 7:
			p[n++] = rnd(r, 2) ? (struct bpf_insn)BPF_STMT(BPF_ST, rnd(r, 16)) :
					     (struct bpf_insn)BPF_STMT(BPF_STX, rnd(r, 16));
			break;
		case 8:
		case 9:
			op = alu_ops[rnd(r, 10)];
			k = interesting(r);
			if ((op == BPF_DIV || op == BPF_MOD) && !k)
				k = 3;
			if (op == BPF_LSH || op == BPF_RSH)
				k %= 32;
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_ALU | op | BPF_K, k);
			break;
		case 10:
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_ALU | alu_ops[rnd(r, 10)] | BPF_X, 0);
			break;
		case 11:
			p[n++] = (struct bpf_insn)BPF_STMT(
				rnd(r, 3) ? (rnd(r, 2) ? BPF_MISC | BPF_TAX : BPF_MISC | BPF_TXA) :
					    BPF_ALU | BPF_NEG, 0);
			break;
		case 12:
		case 13: {
			uint32_t lim = left < 12 ? (uint32_t)left : 12;

			op = jmp_ops[rnd(r, 4)];
			p[n++] = (struct bpf_insn)BPF_JUMP(BPF_JMP | op | (rnd(r, 2) ? BPF_X : BPF_K),
							   interesting(r), rnd(r, lim),
							   rnd(r, lim));
			break;
		}
		case 14:
			p[n++] = (struct bpf_insn)BPF_STMT(BPF_JMP | BPF_JA, rnd(r, (uint32_t)(left < 6 ? left : 6)));
			break;
		default:
			p[n++] = rnd(r, 2) ? (struct bpf_insn)BPF_STMT(BPF_RET | BPF_A, 0) :
					     (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, interesting(r));
			break;
		}
	}
	p[n++] = rnd(r, 2) ? (struct bpf_insn)BPF_STMT(BPF_RET | BPF_A, 0) :
			     (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, 1 + rnd(r, 0xffff));
	return n;
}

struct pkt {
	uint8_t b[1600];
	uint32_t len, wire;
};

static void gen_pkt(struct rng *r, struct pkt *k)
{
	switch (rnd(r, 8)) {
	case 0:
		k->len = 1 + rnd(r, 13); /* shorter than an Ethernet header */
		break;
	case 1:
		k->len = 1000 + rnd(r, 500);
		break;
	default:
		k->len = 14 + rnd(r, 120);
		break;
	}
	for (uint32_t i = 0; i < k->len; i++)
		k->b[i] = (uint8_t)(rnd(r, 4) ? rnd(r, 256) : (uint32_t[]){ 0, 0xff, 0x45, 0x80 }[rnd(r, 4)]);
	k->wire = k->len + (rnd(r, 4) ? 0 : rnd(r, 2000));
}

static void dump(const struct bpf_insn *p, size_t n, const struct pkt *k)
{
	for (size_t i = 0; i < n; i++)
		printf("    %s\n", bpf_image(&p[i], (int)i));
	/* The same as C, to paste into a regression test. */
	printf("    insns:");
	for (size_t i = 0; i < n; i++)
		printf(" { 0x%x, %u, %u, 0x%x },", p[i].code, p[i].jt, p[i].jf, p[i].k);
	printf("\n");
	if (k) {
		printf("    packet len=%u wire=%u: ", k->len, k->wire);
		for (uint32_t i = 0; i < k->len && i < 160; i++)
			printf("%02x", k->b[i]);
		printf("\n");
	}
}

struct stats {
	unsigned long progs, comparisons, disagreements, errors;
};

/* Compares fg running prog with libpcap running oracle (the same program,
 * except in the self-check). */
static void diff_one(unsigned long idx, const struct bpf_insn *prog, size_t n,
		     const struct bpf_insn *oracle, struct rng *r,
		     struct stats *st, int quiet)
{
	char err[FG_ERR_LEN] = "";
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	int rc, shown = 0;

	rc = fg_from_cbpf(prog, n, SNAP, &f, err, sizeof(err));
	if (!rc)
		rc = fg_probe_load(f, &p, err, sizeof(err));
	if (rc) {
		st->errors++;
		printf("program %lu: refused (%d): %s\n", idx, rc, err);
		dump(prog, n, NULL);
		goto out;
	}
	st->progs++;
	for (int i = 0; i < NPKTS; i++) {
		struct pkt k;
		uint32_t want;

		gen_pkt(r, &k);
		want = bpf_filter(oracle, k.b, k.wire, k.len);
		for (int h = 0; h < 2; h++) {
			uint32_t got = 0xdeadbeef;

			rc = fg_probe_run(p, h ? FG_HOOK_TC : FG_HOOK_XDP, k.b, k.len,
					  k.wire, &got);
			if (rc) {
				st->errors++;
				if (!quiet)
					printf("program %lu: %s run error %d len=%u\n", idx,
					       h ? "tc" : "xdp", rc, k.len);
				continue;
			}
			st->comparisons++;
			if (got == want)
				continue;
			st->disagreements++;
			if (!quiet && shown++ < 2) {
				printf("program %lu: %s libpcap=%u fg=%u\n", idx,
				       h ? "tc" : "xdp", want, got);
				dump(prog, n, &k);
			}
		}
	}
out:
	fg_probe_free(p);
	fg_free(f);
	fflush(stdout);
}

static int self_check(void)
{
	struct bpf_insn fg_prog[] = { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 3),
				      BPF_STMT(BPF_RET | BPF_A, 0) };
	struct bpf_insn oracle[] = { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 4),
				     BPF_STMT(BPF_RET | BPF_A, 0) };
	struct rng r = { 0x9e3779b97f4a7c15ull };
	struct stats st = { 0 };

	diff_one(0, fg_prog, 2, oracle, &r, &st, 1);
	printf("SELF-CHECK fg \"ldb [3]\" vs libpcap \"ldb [4]\": %lu disagreements of %lu (must be > 0), %lu errors\n",
	       st.disagreements, st.comparisons, st.errors);
	return st.disagreements && !st.errors ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned long nprogs = argc > 1 ? strtoul(argv[1], NULL, 0) : 100;
	unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;
	int workers = argc > 3 ? atoi(argv[3]) : 2;
	struct stats total = { 0 };
	pid_t pids[16];
	int fds[16], w, self;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (workers < 1 || workers > 16)
		workers = 2;
	self = self_check();
	for (w = 0; w < workers; w++) {
		int pfd[2];

		if (pipe(pfd))
			return 1;
		pids[w] = fork();
		if (pids[w] < 0)
			return 1;
		if (!pids[w]) {
			struct stats st = { 0 };

			close(pfd[0]);
			for (unsigned long i = w; i < nprogs; i += workers) {
				/* One stream per program: same programs for any
				 * number of workers. */
				struct rng r = { (seed * 1000003ull + i) * 0x9e3779b97f4a7c15ull | 1 };
				struct bpf_insn prog[MAX_INSNS];
				size_t n;

				for (int j = 0; j < 4; j++)
					rnd(&r, 1);
				n = gen_prog(&r, prog);
				diff_one(i, prog, n, prog, &r, &st, 0);
			}
			_exit(write(pfd[1], &st, sizeof(st)) == sizeof(st) ? 0 : 2);
		}
		close(pfd[1]);
		fds[w] = pfd[0];
	}
	for (w = 0; w < workers; w++) {
		struct stats st = { 0 };
		int status;

		if (read(fds[w], &st, sizeof(st)) != sizeof(st))
			st.errors++;
		close(fds[w]);
		waitpid(pids[w], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			st.errors++;
		total.progs += st.progs;
		total.comparisons += st.comparisons;
		total.disagreements += st.disagreements;
		total.errors += st.errors;
	}
	printf("SUMMARY fuzz seed=%lu: programs=%lu/%lu packets_per_program=%d comparisons=%lu disagreements=%lu errors=%lu\n",
	       seed, total.progs, nprogs, NPKTS, total.comparisons,
	       total.disagreements, total.errors);
	if (self || total.disagreements || total.errors || total.progs != nprogs) {
		printf("FAIL\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
