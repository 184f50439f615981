/* SPDX-License-Identifier: BSD-2-Clause */
/* The probe: the generated filter as an XDP and a TC program, run with
 * BPF_PROG_TEST_RUN. Always passes the packet; the verdict is read back from
 * the object's .bss. */
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "filtergen/fg_internal.h"

extern const unsigned char fg_probe_bpf_src[];

/* Same layout as struct fg_probe_io in bpf/fg_probe.bpf.c. */
struct fg_probe_io {
	uint32_t wire_len;
	uint32_t wire_len_set;
	uint32_t skip;
	uint32_t verdict;
	uint64_t runs;
};

#define FG_ETH_HLEN 14
/* Test-run frame limits (x86, 4 KiB pages): TC's skb is one page minus
 * NET_SKB_PAD and skb_shared_info; XDP adds up to 17 fragment pages. */
#define FG_TC_RUN_MAX (4096u - 64u - 320u)
#define FG_XDP_RUN_MAX (4096u - 256u - 320u + 17u * 4096u)

struct fg_probe {
	struct bpf_object *obj;
	int fd[2]; /* by enum fg_hook */
	volatile struct fg_probe_io *io;
	size_t io_len;
	uint8_t tc_frame[FG_TC_RUN_MAX]; /* pad header + record, for TC runs */
};

/* The verifier's complaint (log level BPF_LOG_STATS: the error lines, then
 * "verification time", "stack depth", "processed" lines): the last line
 * that is not one of those. */
static int fg_verifier_summary(const char *log, char *err, size_t errlen)
{
	static const char *stats[] = { "verification time", "stack depth", "processed " };
	const char *line = NULL, *p = log, *nl;
	size_t len = 0, i;
	int complex, stat;

	while (*p) {
		nl = strchrnul(p, '\n');
		for (stat = 0, i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
			stat |= !strncmp(p, stats[i], strlen(stats[i]));
		if (nl > p && !stat) {
			line = p;
			len = (size_t)(nl - p);
		}
		p = *nl ? nl + 1 : nl;
	}
	complex = strstr(log, "too large") || strstr(log, "too complex") ||
		  strstr(log, "BPF_COMPLEXITY") || strstr(log, "combined stack") ||
		  strstr(log, "jump out of range"); /* clang's 16-bit jumps overflowed */
	return fg_err(err, errlen, -EINVAL, "%s: %.*s",
		      complex ? "filter too complex for the verifier" : "the verifier refused the filter",
		      (int)(line ? len : 0), line ? line : "(no verifier log)");
}

static int fg_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!getenv("FG_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fg_libbpf_quiet(void)
{
	libbpf_set_print(fg_libbpf_print);
}

int fg_probe_load(const struct fg_filter *f, struct fg_probe **out, char *err,
		  size_t errlen)
{
	const struct fg_src src = { "fg_probe.bpf.c", (const char *)fg_probe_bpf_src };
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "fg_probe");
	static const char *names[2] = { "fg_probe_xdp", "fg_probe_tc" };
	struct fg_probe *p = NULL;
	struct bpf_program *prog[2];
	struct bpf_map *bss;
	size_t elf_len = 0, sz = 0;
	char *log = NULL;
	void *elf = NULL, *io;
	int ret, i;

	if (!f || !out)
		return -EINVAL;
	ret = fg_build(f, &src, 1, &elf, &elf_len, err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	log = calloc(1, 1 << 20);
	if (!p || !log) {
		ret = -ENOMEM;
		goto out;
	}
	p->obj = bpf_object__open_mem(elf, elf_len, &oo);
	if (!p->obj) {
		ret = -errno;
		fg_err(err, errlen, ret, "libbpf cannot open the object: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		prog[i] = bpf_object__find_program_by_name(p->obj, names[i]);
		if (!prog[i]) {
			ret = fg_err(err, errlen, -ENOENT, "program %s missing", names[i]);
			goto out;
		}
	}
	/* BPF_LOG_STATS (4): the verifier writes its complaint and a summary,
	 * no trace; libbpf's default (retry with a full trace on failure)
	 * would verify a too complex filter twice */
	for (i = 0; i < 2; i++) {
		bpf_program__set_log_buf(prog[i], log, 1 << 20);
		bpf_program__set_log_level(prog[i], 4);
	}
	ret = bpf_object__load(p->obj);
	if (ret && getenv("FG_DEBUG_LOG"))
		fprintf(stderr, "---- verifier log ----\n%s\n----\n", log);
	if (ret) {
		if (log[0])
			ret = fg_verifier_summary(log, err, errlen);
		else
			fg_err(err, errlen, ret, "loading the filter failed: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < 2; i++)
		p->fd[i] = bpf_program__fd(prog[i]);
	/* libbpf 1.1 maps .bss into the kernel's memory only for skeletons */
	bss = bpf_object__find_map_by_name(p->obj, ".bss");
	sz = bss ? bpf_map__value_size(bss) : 0;
	if (sz < sizeof(struct fg_probe_io)) {
		ret = fg_err(err, errlen, -ENOENT, "probe .bss missing");
		goto out;
	}
	p->io_len = (sz + 4095) & ~(size_t)4095;
	io = mmap(NULL, p->io_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(bss), 0);
	if (io == MAP_FAILED) {
		ret = -errno;
		fg_err(err, errlen, ret, "mapping the probe .bss: %s", strerror(errno));
		goto out;
	}
	p->io = io;
	*out = p;
	p = NULL;
out:
	fg_probe_free(p);
	free(log);
	free(elf);
	return ret;
}

/* One test run (repeat times); fills *caplen and/or *ns. */
static int fg_probe_exec(struct fg_probe *p, enum fg_hook hook, const void *pkt,
			 uint32_t len, uint32_t wire_len, uint32_t repeat,
			 uint32_t *caplen, uint64_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = repeat);
	uint8_t small[FG_ETH_HLEN] = { 0 };
	uint32_t frame_len = len, skip = 0;
	const void *frame = pkt;
	uint64_t runs;
	int ret;

	if (!p || (hook != FG_HOOK_XDP && hook != FG_HOOK_TC) || (!pkt && len))
		return -EINVAL;
	if (hook == FG_HOOK_TC) {
		/* The skb test run parses what follows the Ethernet header (it
		 * refuses an IPv4 ethertype without a whole IP header): the
		 * record goes behind a neutral pad header, hidden by skip. */
		if (len > FG_TC_RUN_MAX - FG_ETH_HLEN)
			return -E2BIG;
		memset(p->tc_frame, 0, FG_ETH_HLEN);
		if (len)
			memcpy(p->tc_frame + FG_ETH_HLEN, pkt, len);
		skip = FG_ETH_HLEN;
		frame = p->tc_frame;
		frame_len = FG_ETH_HLEN + len;
	} else if (len < FG_ETH_HLEN) {
		/* the kernel wants an Ethernet header's worth: pad in front */
		skip = FG_ETH_HLEN - len;
		if (len)
			memcpy(small + skip, pkt, len);
		frame = small;
		frame_len = FG_ETH_HLEN;
	}
	if (frame_len > (hook == FG_HOOK_TC ? FG_TC_RUN_MAX : FG_XDP_RUN_MAX))
		return -E2BIG;
	opts.data_in = frame;
	opts.data_size_in = frame_len;
	p->io->skip = skip;
	p->io->wire_len = wire_len;
	p->io->wire_len_set = 1;
	p->io->verdict = 0;
	runs = p->io->runs;
	ret = bpf_prog_test_run_opts(p->fd[hook], &opts);
	if (ret)
		return ret < 0 ? ret : -EIO;
	if (p->io->runs == runs ||
	    opts.retval != (hook == FG_HOOK_XDP ? XDP_PASS : TC_ACT_OK))
		return -EIO; /* the probe did not run or did not pass the packet */
	if (caplen)
		*caplen = p->io->verdict;
	if (ns)
		*ns = opts.duration;
	return 0;
}

int fg_probe_run(struct fg_probe *p, enum fg_hook hook, const void *pkt,
		 uint32_t len, uint32_t wire_len, uint32_t *caplen)
{
	return fg_probe_exec(p, hook, pkt, len, wire_len, 1, caplen, NULL);
}

int fg_probe_bench(struct fg_probe *p, enum fg_hook hook, const void *pkt,
		   uint32_t len, uint32_t repeat, uint64_t *ns_per_run)
{
	return fg_probe_exec(p, hook, pkt, len, len, repeat ? repeat : 1, NULL,
			     ns_per_run);
}

uint32_t fg_probe_insn_count(const struct fg_probe *p, enum fg_hook hook)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (!p || (hook != FG_HOOK_XDP && hook != FG_HOOK_TC))
		return 0;
	if (bpf_obj_get_info_by_fd(p->fd[hook], &info, &len))
		return 0;
	return info.xlated_prog_len / sizeof(struct bpf_insn);
}

uint32_t fg_probe_verified_insns(const struct fg_probe *p, enum fg_hook hook)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (!p || (hook != FG_HOOK_XDP && hook != FG_HOOK_TC))
		return 0;
	if (bpf_obj_get_info_by_fd(p->fd[hook], &info, &len))
		return 0;
	return info.verified_insns;
}

int fg_probe_dump_ebpf(const struct fg_probe *p, enum fg_hook hook, FILE *out)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), n;
	struct bpf_insn *insns;
	int ret;

	n = fg_probe_insn_count(p, hook);
	if (!n)
		return -ENOENT;
	insns = calloc(n, sizeof(*insns));
	if (!insns)
		return -ENOMEM;
	info.xlated_prog_len = n * sizeof(*insns);
	info.xlated_prog_insns = (uint64_t)(uintptr_t)insns;
	ret = bpf_obj_get_info_by_fd(p->fd[hook], &info, &len);
	if (ret)
		ret = -errno;
	else
		ret = fg_ebpf_print(insns, n, out);
	free(insns);
	return ret;
}

void fg_probe_free(struct fg_probe *p)
{
	if (!p)
		return;
	if (p->io)
		munmap((void *)p->io, p->io_len);
	bpf_object__close(p->obj);
	free(p);
}
