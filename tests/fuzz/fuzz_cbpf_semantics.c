// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: what filtergen's generated C computes, against
 * libpcap's bpf_filter(), on the host.
 *
 * The generated fg_filter.h is plain C behind its contract (filtergen.h):
 * a host program defines FG_CTX_T and FG_LOAD_BYTES and calls fg_filter().
 * Here that host is a shared object built with clang -O1
 * -fsanitize=undefined (undefined behaviour in the generated C, which the
 * BPF backend could silently exploit, aborts; unaligned reads aside), loaded
 * with dlopen and run on
 * packets: its verdict must equal bpf_filter()'s, with the packet handed over
 * whole (direct reads) and with only its first bytes direct (the rest through
 * FG_LOAD_BYTES, the slow path). clang per program is slow (~0.1 s), so the
 * last program's object is reused while only the packet bytes change.
 * Programs filtergen refuses, and loops (backward ja: bpf_filter may never
 * return), are skipped; fuzz_cbpf covers the refusals. What this does not
 * cover, the BPF backend and the verifier, test_fg_opcodes_fuzz does.
 *
 * Input: byte 0: number of instructions (1 + b % 64); then the
 * instructions (cbpf_decode.h); the rest is a packet (up to 1514 bytes).
 * Byte 0's top bit makes the packet's wire length larger than its bytes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cbpf_decode.h"
#include "filtergen/filtergen.h"

#ifndef FUZZ_CLANG
#define FUZZ_CLANG "clang"
#endif

#define MAX_INSNS 64
#define MAX_PKT 1514

#define CHECK(c, ...)                                                         \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_cbpf_semantics: %s:%d: %s: ",       \
				__FILE__, __LINE__, #c);                      \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* The host, written only against the contract in filtergen.h. */
static const char host_src[] =
	"#include <string.h>\n"
	"#include <linux/types.h>\n"
	"struct fz_ctx { const unsigned char *pkt; __u32 len; };\n"
	"#define FG_CTX_T struct fz_ctx\n"
	"static int fz_load(struct fz_ctx *c, __u32 off, void *dst, __u32 len)\n"
	"{\n"
	"\tif (off > c->len || len > c->len - off)\n"
	"\t\treturn -1;\n"
	"\tmemcpy(dst, c->pkt + off, len);\n"
	"\treturn 0;\n"
	"}\n"
	"#define FG_LOAD_BYTES(ctx, off, dst, len) fz_load(ctx, off, dst, len)\n"
	"#include \"fg_filter.h\"\n"
	"__u32 fz_run(const unsigned char *pkt, __u32 len, __u32 direct, __u32 wire)\n"
	"{\n"
	"\tstruct fz_ctx c = { pkt, len };\n"
	"\treturn fg_filter(&c, pkt, pkt + direct, wire);\n"
	"}\n";

typedef uint32_t (*run_fn)(const unsigned char *pkt, uint32_t len, uint32_t direct,
			   uint32_t wire);

static char dir[] = "/tmp/fuzz-cbpf-sem.XXXXXX";
static unsigned long nbuilt, ncompared;

/* The last program and its loaded host. */
static struct bpf_insn last[MAX_INSNS];
static size_t last_n;
static void *last_so;
static run_fn last_run;

static void write_file(const char *name, const char *text)
{
	char p[sizeof(dir) + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	CHECK(f, "%s: %s", p, strerror(errno));
	CHECK(fputs(text, f) >= 0 && fclose(f) == 0, "%s: write failed", p);
}

/* Builds and loads the host around f's C; NULL if clang fails (a bug). */
static run_fn build(const struct fg_filter *f, void **so)
{
	char src[sizeof(dir) + 16], obj[sizeof(dir) + 32], inc[sizeof(dir) + 4];
	pid_t pid, ret;
	int status;

	write_file("fg_filter.h", fg_c_source(f));
	snprintf(src, sizeof(src), "%s/host.c", dir);
	snprintf(obj, sizeof(obj), "%s/h%lu.so", dir, nbuilt++);
	snprintf(inc, sizeof(inc), "-I%s", dir);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		/* the sanitizer options of this process are not clang's */
		unsetenv("ASAN_OPTIONS");
		execlp(FUZZ_CLANG, FUZZ_CLANG, "-O1", "-w", "-shared", "-fPIC",
		       "-fsanitize=undefined", "-fno-sanitize-recover=undefined",
		       /* FG_BE2/FG_BE4 read through casts at any address on
			* purpose (fine in BPF and on x86, see fg_filter.h) */
		       "-fno-sanitize=alignment",
		       inc, "-o", obj, src, (char *)NULL);
		_exit(127);
	}
	/* libFuzzer's timer (SIGALRM) interrupts the wait */
	while ((ret = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	CHECK(ret == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "clang failed on the generated C (%s/fg_filter.h)", dir);
	*so = dlopen(obj, RTLD_NOW | RTLD_LOCAL);
	CHECK(*so, "dlopen: %s", dlerror());
	unlink(obj);
	return (run_fn)(uintptr_t)dlsym(*so, "fz_run");
}

static run_fn host_for(const struct bpf_insn *p, size_t n)
{
	char err[FG_ERR_LEN];
	struct fg_filter *f;

	if (last_so && n == last_n && !memcmp(p, last, n * sizeof(*p)))
		return last_run;
	if (fg_from_cbpf(p, n, FG_SNAPLEN_MAX, &f, err, sizeof(err)))
		return NULL;
	if (last_so)
		dlclose(last_so);
	last_so = NULL;
	last_run = build(f, &last_so);
	CHECK(last_run, "no fz_run in the host");
	fg_free(f);
	memcpy(last, p, n * sizeof(*p));
	last_n = n;
	return last_run;
}

static void dump(const struct bpf_insn *p, size_t n, const uint8_t *pkt, uint32_t len,
		 uint32_t direct, uint32_t wire)
{
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "    %s\n", bpf_image(&p[i], (int)i));
	fprintf(stderr, "    packet len=%u direct=%u wire=%u:", len, direct, wire);
	for (uint32_t i = 0; i < len && i < 96; i++)
		fprintf(stderr, " %02x", pkt[i]);
	fputc('\n', stderr);
}

/* One packet, whole and with only 14 bytes (or fewer) direct. */
static void compare(run_fn run, const struct bpf_insn *p, size_t n, const uint8_t *pkt,
		    uint32_t len, uint32_t wire)
{
	uint32_t want = bpf_filter(p, pkt, wire, len), got;
	uint32_t directs[2] = { len, len < 14 ? len / 2 : 14 };
	int i;

	for (i = 0; i < 2; i++) {
		got = run(pkt, len, directs[i], wire);
		ncompared++;
		if (got != want) {
			dump(p, n, pkt, len, directs[i], wire);
			CHECK(got == want, "bpf_filter %u, generated C %u", want, got);
		}
	}
}

/* An Ethernet/IPv4/TCP frame, so that real filters match something. */
static const uint8_t tcp4[] = {
	0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
	0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
	0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int self_check(void)
{
	/* ldb [13]; ret a on the frame above: 0 (low byte of 0x0800) */
	struct bpf_insn p[] = { { BPF_LD | BPF_B | BPF_ABS, 0, 0, 13 },
				{ BPF_RET | BPF_A, 0, 0, 0 } };
	run_fn run = host_for(p, 2);

	/* the host runs the generated code: ldb [12] would say 8 */
	CHECK(run && run(tcp4, sizeof(tcp4), sizeof(tcp4), sizeof(tcp4)) == 0 &&
		      bpf_filter(p, tcp4, sizeof(tcp4), sizeof(tcp4)) == 0,
	      "self-check: ldb [13]");
	p[0].k = 12;
	run = host_for(p, 2);
	CHECK(run && run(tcp4, sizeof(tcp4), sizeof(tcp4), sizeof(tcp4)) == 8 &&
		      run(tcp4, sizeof(tcp4), 4, sizeof(tcp4)) == 8,
	      "self-check: ldb [12]");
	return 0;
}

static void cleanup(void)
{
	char p[sizeof(dir) + 16];

	snprintf(p, sizeof(p), "%s/host.c", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/fg_filter.h", dir);
	unlink(p);
	rmdir(dir);
	fprintf(stderr, "fuzz_cbpf_semantics: %lu programs built, %lu runs compared\n",
		nbuilt, ncompared);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	atexit(cleanup);
	write_file("host.c", host_src);
	return self_check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpf_insn p[MAX_INSNS];
	uint32_t len, wire;
	const uint8_t *pkt;
	size_t n, pc;
	run_fn run;

	if (size < 1)
		return 0;
	n = 1 + data[0] % MAX_INSNS;
	if (size < 1 + 8 * n)
		return 0;
	for (pc = 0; pc < n; pc++) {
		struct fz_insn in;

		fz_decode(data + 1 + 8 * pc, pc, n, &in);
		p[pc] = (struct bpf_insn){ in.code, in.jt, in.jf, in.k };
		/* bpf_filter() follows a loop for ever */
		if (in.code == (BPF_JMP | BPF_JA) && (int32_t)in.k < 0)
			return 0;
	}
	run = host_for(p, n);
	if (!run)
		return 0;
	pkt = data + 1 + 8 * n;
	len = (uint32_t)(size - 1 - 8 * n);
	if (len > MAX_PKT)
		len = MAX_PKT;
	wire = len + (data[0] & 0x80 ? 100 : 0);
	compare(run, p, n, pkt, len, wire);
	compare(run, p, n, tcp4, sizeof(tcp4), sizeof(tcp4));
	compare(run, p, n, tcp4, 20, sizeof(tcp4)); /* cut short */
	return 0;
}
