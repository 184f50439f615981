/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Limits of the compiler: the instruction cap on every path into it, the
 * time limits of libpcap's compiler and of clang, clang's priority. The slow compile is real clang on a
 * header that includes itself twice per level (2^60 inclusions: it never
 * ends, in constant memory).
 * The compiler helper: compiles while other threads allocate (a fork of
 * a process with threads could deadlock in the allocator), libpcap's
 * messages and the time limit through it, a name lookup through it, the
 * helper itself as nobody with no capability, nothing left after it stops.
 * test_fg_limits insn_cap | timeout | pcap_timeout | priority | helper
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pcap/bpf.h>

#include "filtergen/filtergen.h"

static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
			failures++;                                            \
		}                                                              \
	} while (0)

/* "(tcp dst port 1000 and ip[8] > 0) or ..." with n terms (about 2.3
 * instructions per term after libpcap's optimiser, 4 before). */
static char *long_expr(int n)
{
	size_t cap = (size_t)n * 48 + 1, len = 0;
	char *s = malloc(cap);
	int i;

	if (!s)
		exit(1);
	s[0] = 0;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s(tcp dst port %d and ip[8] > %d)",
					i ? " or " : "", 1000 + i, i % 200);
	return s;
}

static void t_insn_cap(void)
{
	struct fg_compile_opts unopt = { .unoptimized = 1 };
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "";
	char *big = long_expr(2000), *ok = long_expr(300);
	struct bpf_insn *insns;
	int ret;

	/* under the cap: compiles */
	ret = fg_compile(ok, 65535, &f, err, sizeof(err));
	CHECK(!ret && fg_cbpf_len(f) > 1000 && fg_cbpf_len(f) <= FG_CBPF_MAX_INSNS,
	      "300 terms: %d %s", ret, err);
	fg_free(f);
	f = NULL;
	/* over it, on each way in */
	ret = fg_compile(big, 65535, &f, err, sizeof(err));
	CHECK(ret == -EINVAL && !f && strstr(err, "longer than the 4096"),
	      "fg_compile of 2000 terms: %d %s", ret, err);
	ret = fg_compile_dlt(big, 65535, FG_DLT_RAW, &f, err, sizeof(err));
	CHECK(ret == -EINVAL && !f && strstr(err, "longer than the 4096"),
	      "fg_compile_dlt(RAW) of 2000 terms: %d %s", ret, err);
	ret = fg_compile_ex(ok, 65535, &unopt, &f, err, sizeof(err));
	CHECK(ret == -EINVAL || (!ret && fg_cbpf_len(f) <= FG_CBPF_MAX_INSNS),
	      "unoptimised 300 terms: %d %s", ret, err);
	fg_free(f);
	f = NULL;
	ret = fg_compile_ex(big, 65535, &unopt, &f, err, sizeof(err));
	CHECK(ret == -EINVAL && !f && strstr(err, "longer than the 4096"),
	      "unoptimised 2000 terms: %d %s", ret, err);
	insns = calloc(FG_CBPF_MAX_INSNS + 1, sizeof(*insns));
	for (int i = 0; i <= FG_CBPF_MAX_INSNS; i++)
		insns[i] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, 0);
	ret = fg_from_cbpf(insns, FG_CBPF_MAX_INSNS + 1, 65535, &f, err, sizeof(err));
	CHECK(ret == -EINVAL && !f && strstr(err, "longer than the 4096"),
	      "fg_from_cbpf of 4097: %d %s", ret, err);
	ret = fg_from_cbpf(insns, FG_CBPF_MAX_INSNS, 65535, &f, err, sizeof(err));
	CHECK(!ret, "fg_from_cbpf of 4096: %d %s", ret, err);
	fg_free(f);
	free(insns);
	free(big);
	free(ok);
}

static char slow_name[64];
static const char slow_h[] = "#if __INCLUDE_LEVEL__ < 60\n"
			     "#include \"slow.h\"\n"
			     "#include \"slow.h\"\n"
			     "#endif\n";
static const char slow_c[] = "#include \"fg_filter.h\"\n#include \"slow.h\"\nint x;\n";

struct build {
	struct fg_build_opts o;
	int ret;
	char err[FG_ERR_LEN];
};

static void *slow_build(void *arg)
{
	struct build *b = arg;
	struct fg_src srcs[2] = { { slow_name, slow_c }, { "slow.h", slow_h } };
	struct fg_filter *f = NULL;
	void *elf = NULL;
	size_t len = 0;

	b->ret = fg_compile("udp", 65535, &f, b->err, sizeof(b->err));
	if (!b->ret)
		b->ret = fg_build_ex(f, srcs, 2, &b->o, &elf, &len, b->err, sizeof(b->err));
	free(elf);
	fg_free(f);
	return NULL;
}

/* pid of the process whose command line names our slow source, or 0. */
static pid_t find_clang(void)
{
	char path[300], buf[4096];
	struct dirent *e;
	pid_t found = 0;
	DIR *d = opendir("/proc");
	FILE *f;
	size_t n, i;

	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[n] = 0;
		if (strstr(buf, slow_name))
			found = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

/* No clang, no child, no build directory holding our source. */
static void assert_nothing_left(void)
{
	char path[600];
	struct dirent *e;
	DIR *d = opendir("/tmp");
	int st;

	CHECK(find_clang() == 0, "a clang process is still running (pid %d)", find_clang());
	errno = 0;
	CHECK(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "a child process is left");
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "fg-build-", 9))
			continue;
		snprintf(path, sizeof(path), "/tmp/%s/%s", e->d_name, slow_name);
		CHECK(access(path, F_OK), "build directory left: /tmp/%s", e->d_name);
	}
	if (d)
		closedir(d);
}

/* "host 10.0.0.0 or host 10.0.0.1 or ..." with 2000 terms: libpcap's
 * optimiser takes minutes on it. */
static char *hosts_2000(void)
{
	size_t cap = 2000 * 24, len = 0;
	char *e = malloc(cap);

	if (!e)
		exit(1);
	e[0] = 0;
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(e + len, cap - len, "%shost 10.0.%d.%d", i ? " or " : "",
					i / 250, i % 250);
	return e;
}

/* libpcap's compiler: 2000 `host` terms take minutes to optimise. */
static void t_pcap_timeout(void)
{
	struct fg_compile_opts o = { .timeout_s = 1 };
	struct fg_filter *f = NULL;
	char err[FG_ERR_LEN] = "";
	char *e = hosts_2000();
	int ret, st;

	ret = fg_compile_ex(e, 65535, &o, &f, err, sizeof(err));
	CHECK(ret == -ETIMEDOUT && !f, "2000 hosts: %d %s", ret, err);
	CHECK(!strcmp(err, "filter compile timed out after 1 s"), "message: %s", err);
	errno = 0;
	CHECK(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "a child process is left");
	/* the default limit still lets a normal expression through, libpcap's
	 * message still comes back */
	ret = fg_compile("tcp port 80", 65535, &f, err, sizeof(err));
	CHECK(!ret && fg_cbpf_len(f) > 1, "tcp port 80: %d %s", ret, err);
	fg_free(f);
	f = NULL;
	ret = fg_compile("tcp port", 65535, &f, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "syntax error"), "tcp port: %d %s", ret, err);
	free(e);
}

static void t_timeout(void)
{
	struct build b = { .o = { .timeout_s = 1 } };

	slow_build(&b);
	CHECK(b.ret == -ETIMEDOUT, "slow build: %d %s", b.ret, b.err);
	CHECK(!strcmp(b.err, "filter compile timed out after 1 s"), "message: %s", b.err);
	assert_nothing_left();
}

/* Field n (1-based) of /proc/pid/stat. */
static long stat_field(pid_t pid, int n)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	p += 2; /* field 3 */
	for (i = 3; i < n && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtol(p, NULL, 10) : -1;
}

/* clang runs in its own process group at the asked priority. */
static void one_prio(enum fg_build_prio prio, long want_nice, long want_policy)
{
	struct build b = { .o = { .timeout_s = 3, .prio = prio } };
	pthread_t th;
	pid_t pid = 0;
	long nice = -100, policy = -1, pgrp = -1;
	int i;

	CHECK(!pthread_create(&th, NULL, slow_build, &b), "thread");
	for (i = 0; i < 200 && !pid; i++) {
		usleep(10000);
		pid = find_clang();
	}
	CHECK(pid > 0, "clang not found running");
	if (pid > 0) {
		/* setpriority follows posix_spawn: look twice */
		usleep(50000);
		nice = stat_field(pid, 19);
		policy = stat_field(pid, 41);
		pgrp = stat_field(pid, 5);
	}
	pthread_join(th, NULL);
	CHECK(b.ret == -ETIMEDOUT, "prio %d: %d %s", prio, b.ret, b.err);
	CHECK(nice == want_nice, "prio %d: clang ran at nice %ld, want %ld", prio, nice,
	      want_nice);
	CHECK(policy == want_policy, "prio %d: clang ran with policy %ld, want %ld", prio,
	      policy, want_policy);
	CHECK(pgrp == pid, "clang's process group %ld, want its own (%d)", pgrp, (int)pid);
	assert_nothing_left();
}

static void t_priority(void)
{
	errno = 0;
	int self = nice(0);

	CHECK(errno == 0, "nice");
	one_prio(FG_PRIO_NICE, 19, SCHED_OTHER);
	one_prio(FG_PRIO_IDLE, self, SCHED_IDLE);
	one_prio(FG_PRIO_INHERIT, self, SCHED_OTHER);
}

/* Our children (pids) from /proc; n of them. */
static int children_of(pid_t pid, pid_t *out, int cap)
{
	char path[64];
	FILE *f;
	int n = 0, v;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (n < cap && fscanf(f, "%d", &v) == 1)
		out[n++] = v;
	fclose(f);
	return n;
}

static atomic_bool churn_stop;

/* Allocates and frees all the time: a fork from this process could copy
 * an allocator lock this thread holds. */
static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	void *keep[64] = { 0 };
	int i;

	while (!atomic_load(&churn_stop)) {
		i = (int)(rand_r(&seed) % 64);
		free(keep[i]);
		keep[i] = malloc(16 + rand_r(&seed) % 4096);
	}
	for (i = 0; i < 64; i++)
		free(keep[i]);
	return NULL;
}

/* The line "Key:\tvalue" of /proc/PID/status, value only ("" if none). */
static void status_of(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t k = strlen(key);
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':') {
			snprintf(out, len, "%s", line + k + 1 + strspn(line + k + 1, " \t"));
			out[strcspn(out, "\n")] = 0;
			break;
		}
	fclose(f);
}

/* The helper gave up what it could: root becomes nobody (this test runs as
 * root in CI, with every capability), no capability, no way back. */
static void helper_unprivileged(pid_t pid)
{
	char v[128];
	unsigned int r, e, s, fs;

	status_of(pid, "Uid", v, sizeof(v));
	CHECK(sscanf(v, "%u %u %u %u", &r, &e, &s, &fs) == 4, "helper Uid: '%s'", v);
	if (geteuid() == 0)
		CHECK(r == 65534 && e == 65534 && s == 65534 && fs == 65534,
		      "the helper kept root: Uid %s", v);
	else
		CHECK(r == getuid() && e == geteuid(), "the helper's Uid: %s", v);
	status_of(pid, "Gid", v, sizeof(v));
	if (geteuid() == 0)
		CHECK(!strncmp(v, "65534\t65534\t65534\t65534", 23), "the helper's Gid: '%s'", v);
	status_of(pid, "Groups", v, sizeof(v));
	if (geteuid() == 0)
		CHECK(v[0] == 0, "the helper kept groups: '%s'", v);
	status_of(pid, "CapEff", v, sizeof(v));
	CHECK(!strcmp(v, "0000000000000000"), "the helper's CapEff: '%s'", v);
	status_of(pid, "CapPrm", v, sizeof(v));
	CHECK(!strcmp(v, "0000000000000000"), "the helper's CapPrm: '%s'", v);
	status_of(pid, "CapAmb", v, sizeof(v));
	CHECK(!strcmp(v, "0000000000000000"), "the helper's CapAmb: '%s'", v);
	status_of(pid, "NoNewPrivs", v, sizeof(v));
	CHECK(!strcmp(v, "1"), "the helper's NoNewPrivs: '%s'", v);
}

static void t_helper(void)
{
	static const char *const exprs[] = { "udp port 7", "tcp port 80", "vlan and ip",
					     "ip and tcp[tcpflags] & tcp-syn != 0" };
	struct fg_compile_opts o = { 0 }, slow = { .timeout_s = 1 };
	struct fg_filter *ref[4] = { 0 }, *f = NULL, *g = NULL;
	char err[FG_ERR_LEN] = "";
	struct fg_pcapd *d = NULL;
	pthread_t th[2];
	pid_t kids[8], helper_pid;
	char *e, *big;
	int i, ret, st, n;

	/* references by the caller's own fork, while we have one thread */
	for (i = 0; i < 4; i++) {
		ret = fg_compile(exprs[i], 65535, &ref[i], err, sizeof(err));
		CHECK(!ret, "%s: %d %s", exprs[i], ret, err);
	}
	ret = fg_pcapd_start(&d);
	CHECK(!ret && d, "fg_pcapd_start: %d", ret);
	if (ret)
		return;
	n = children_of(getpid(), kids, 8);
	CHECK(n == 1, "%d children after the helper started, want 1", n);
	helper_pid = n ? kids[0] : 0;
	helper_unprivileged(helper_pid);
	o.pcapd = d;
	slow.pcapd = d;
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)(i + 1));
	for (i = 0; i < 400; i++) {
		const struct fg_filter *r = ref[i % 4];

		ret = fg_compile_ex(exprs[i % 4], 65535, &o, &f, err, sizeof(err));
		CHECK(!ret && fg_cbpf_len(f) == fg_cbpf_len(r) &&
			      !memcmp(fg_cbpf_insns(f), fg_cbpf_insns(r),
				      fg_cbpf_len(r) * sizeof(struct bpf_insn)),
		      "compile %d (%s) through the helper: %d %s", i, exprs[i % 4], ret, err);
		fg_free(f);
		f = NULL;
		if (failures)
			break;
	}
	/* a name lookup as nobody: /etc/hosts through NSS */
	ret = fg_compile("host localhost", 65535, &f, err, sizeof(err));
	CHECK(!ret, "host localhost: %d %s", ret, err);
	ret = fg_compile_ex("host localhost", 65535, &o, &g, err, sizeof(err));
	CHECK(!ret && f && g && fg_cbpf_len(f) == fg_cbpf_len(g) &&
		      !memcmp(fg_cbpf_insns(f), fg_cbpf_insns(g),
			      fg_cbpf_len(f) * sizeof(struct bpf_insn)),
	      "host localhost through the helper: %d %s", ret, err);
	fg_free(f);
	fg_free(g);
	f = g = NULL;
	ret = fg_compile_ex("tcp port", 65535, &o, &f, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "syntax error"), "tcp port: %d %s", ret, err);
	e = hosts_2000();
	ret = fg_compile_ex(e, 65535, &slow, &f, err, sizeof(err));
	CHECK(ret == -ETIMEDOUT && !f, "2000 hosts: %d %s", ret, err);
	CHECK(!strcmp(err, "filter compile timed out after 1 s"), "message: %s", err);
	/* the helper's child ends itself at its alarm */
	for (i = 0; i < 30 && children_of(helper_pid, kids, 8); i++)
		usleep(100000);
	CHECK(!children_of(helper_pid, kids, 8), "the timed-out child is still there after 3 s");
	big = malloc(FG_PCAPD_EXPR_MAX + 16);
	memset(big, ' ', FG_PCAPD_EXPR_MAX + 8);
	memcpy(big, "udp", 3);
	big[FG_PCAPD_EXPR_MAX + 8] = 0;
	ret = fg_compile_ex(big, 65535, &o, &f, err, sizeof(err));
	CHECK(ret == -E2BIG && strstr(err, "longer than 65536"), "long: %d %s", ret, err);
	atomic_store(&churn_stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	fg_pcapd_stop(d);
	errno = 0;
	CHECK(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "a child process is left");
	for (i = 0; i < 4; i++)
		fg_free(ref[i]);
	free(big);
	free(e);
}

int main(int argc, char **argv)
{
	snprintf(slow_name, sizeof(slow_name), "fg-limits-slow-%d.c", (int)getpid());
	if (argc == 2 && !strcmp(argv[1], "insn_cap"))
		t_insn_cap();
	else if (argc == 2 && !strcmp(argv[1], "timeout"))
		t_timeout();
	else if (argc == 2 && !strcmp(argv[1], "pcap_timeout"))
		t_pcap_timeout();
	else if (argc == 2 && !strcmp(argv[1], "priority"))
		t_priority();
	else if (argc == 2 && !strcmp(argv[1], "helper"))
		t_helper();
	else {
		fprintf(stderr, "usage: test_fg_limits insn_cap|timeout|pcap_timeout|priority|helper\n");
		return 2;
	}
	if (failures)
		return 1;
	printf("PASS %s\n", argv[1]);
	return 0;
}
