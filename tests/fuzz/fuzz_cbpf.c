// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: raw classic BPF programs through fg_from_cbpf()
 * (validation and C generation), its accept/refuse decision compared with
 * the running kernel's own classic checker (SO_ATTACH_FILTER on a socket:
 * bpf_check_classic + check_load_and_stores).
 *
 * Running every program (cBPF -> C -> clang -> eBPF -> BPF_PROG_TEST_RUN)
 * takes about a second: far too slow here. That differential against
 * libpcap's bpf_filter() is test_fg_opcodes_fuzz (tests/filtergen).
 *
 * Input: byte 0 picks the snaplen (two of the eight choices are invalid),
 * then the instructions (cbpf_decode.h).
 *
 * Expected differences, both documented in filtergen.h / fg_validate.c:
 *  - negative packet offsets (Linux ancillary loads): filtergen refuses
 *    them, the kernel may take them;
 *  - backward `ja` (libpcap's protochain loops): the kernel refuses them,
 *    filtergen runs them as bounded loops;
 *  - the kernel does not reset its scratch-memory state after a `ret`, so
 *    it refuses a read in code that only a jump reaches, where filtergen
 *    (correctly) accepts: allowed when a model of the kernel's check says so.
 * Anything else that one accepts and the other refuses aborts.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filtergen/filtergen.h"
#include "cbpf_decode.h"

#define CHECK(c, ...)                                                         \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_cbpf: %s:%d: %s: ", __FILE__,        \
				__LINE__, #c);                                \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* The kernel's check_load_and_stores() (net/core/filter.c), forward jumps
 * only: true if it refuses a scratch-memory read. */
static bool kernel_mem_refuses(const struct sock_filter *f, size_t n)
{
	uint16_t masks[4096], valid = 0;
	size_t pc;

	memset(masks, 0xff, sizeof(masks));
	for (pc = 0; pc < n; pc++) {
		valid &= masks[pc];
		if (f[pc].code == BPF_ST || f[pc].code == BPF_STX)
			valid |= (uint16_t)(1u << f[pc].k);
		else if (f[pc].code == (BPF_LD | BPF_MEM) || f[pc].code == (BPF_LDX | BPF_MEM)) {
			if (!(valid & (1u << f[pc].k)))
				return true;
		} else if (f[pc].code == (BPF_JMP | BPF_JA)) {
			masks[pc + 1 + f[pc].k] &= valid;
			valid = 0xffff;
		} else if (fz_is_cond(f[pc].code)) {
			masks[pc + 1 + f[pc].jt] &= valid;
			masks[pc + 1 + f[pc].jf] &= valid;
			valid = 0xffff;
		}
	}
	return false;
}

static void dump(const struct sock_filter *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  (%03zu) { 0x%02x, %u, %u, 0x%08x },\n", i, f[i].code,
			f[i].jt, f[i].jf, f[i].k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t snaplens[8] = { 262144, 1, 64, 96, 1514, 65535,
					      0, FG_SNAPLEN_MAX + 1 };
	static int sock = -1;
	struct sock_filter f[FG_CBPF_MAX_INSNS + 1];
	bool neg = false, back = false, kern_ok, fg_ok;
	struct sock_fprog prog;
	struct fg_filter *out = NULL;
	char err[FG_ERR_LEN];
	uint32_t snaplen;
	size_t n, pc;
	int ret, kerr;

	if (size < 1)
		return 0;
	if (sock < 0) {
		sock = socket(AF_UNIX, SOCK_DGRAM, 0);
		CHECK(sock >= 0, "socket: %s", strerror(errno));
	}
	snaplen = snaplens[data[0] % 8];
	n = (size - 1) / 8;
	if (n > FG_CBPF_MAX_INSNS + 1)
		n = FG_CBPF_MAX_INSNS + 1;
	for (pc = 0; pc < n; pc++) {
		struct fz_insn in;

		fz_decode(data + 1 + 8 * pc, pc, n, &in);
		f[pc] = (struct sock_filter){ in.code, in.jt, in.jf, in.k };
		neg |= fz_is_pkt_load(f[pc].code) && (int32_t)f[pc].k < 0;
		back |= f[pc].code == (BPF_JMP | BPF_JA) && (int32_t)f[pc].k < 0;
	}

	err[0] = '\0';
	/* struct sock_filter is struct bpf_insn, field for field */
	ret = fg_from_cbpf((const struct bpf_insn *)f, n, snaplen, &out, err, sizeof(err));
	fg_ok = ret == 0;
	if (fg_ok) {
		const char *c = fg_c_source(out);

		CHECK(c && c[0], "no C source");
		CHECK(fg_cbpf_len(out) == n, "length %zu != %zu", fg_cbpf_len(out), n);
		CHECK(!memcmp(fg_cbpf_insns(out), f, n * sizeof(f[0])), "program changed");
		CHECK(fg_snaplen(out) == snaplen, "snaplen changed");
		fg_free(out);
	} else {
		CHECK(ret == -EINVAL && err[0], "ret %d, err '%s'", ret, err);
	}

	prog.len = (unsigned short)n;
	prog.filter = f;
	kern_ok = setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0;
	kerr = kern_ok ? 0 : errno;

	if (snaplen < 1 || snaplen > FG_SNAPLEN_MAX || n == 0 || n > FG_CBPF_MAX_INSNS) {
		CHECK(!fg_ok, "snaplen %u, %zu insns accepted", snaplen, n);
		return 0;
	}
	if (neg) {
		CHECK(!fg_ok, "negative offset accepted");
		return 0;
	}
	if (back)
		return 0; /* the kernel refuses; filtergen may loop */
	if (kern_ok && !fg_ok) {
		dump(f, n);
		CHECK(0, "the kernel takes it, filtergen refuses: %s", err);
	}
	if (!kern_ok && fg_ok && kerr == EINVAL && !kernel_mem_refuses(f, n)) {
		dump(f, n);
		CHECK(0, "filtergen takes it, the kernel refuses (EINVAL)");
	}
	return 0;
}
