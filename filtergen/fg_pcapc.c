/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpcap's compiler in a child process, with a time limit. pcap_compile's
 * time and memory grow much faster than the expression: 500 `host A.B.C.D`
 * terms (9 KB) took 9.5 s to optimise, 1000 terms 96 s (this 2-core VM), and
 * it can't be interrupted in-process. The child (a fork: the caller's
 * libpcap, no exec) compiles, sends the program through a pipe and exits; on
 * time-out it is killed. With the helper (fg_pcapd.c) the child is the
 * helper's and ends itself with alarm() at the limit; without it, the
 * caller's own fork, safe only in a program with one thread.
 *
 * Pipe protocol: struct fg_pcapc_hdr, then msg_len bytes of libpcap's message
 * (ret != 0) or n instructions (ret == 0 and n <= FG_CBPF_MAX_INSNS; a longer
 * program is only counted, the parent refuses it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filtergen/fg_internal.h"

struct fg_pcapc_hdr {
	int32_t ret; /* 0 or a negative errno */
	uint32_t n;  /* instructions (ret == 0) */
	uint32_t msg_len;
};

static int fg_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

void fg_child_detach(int keep_fd)
{
	sigset_t none;
	int sig;

	/* The parent's handlers (e.g. a clean-up on SIGTERM) and blocked
	 * signals are not ours; a terminal's signals to the parent's group
	 * don't reach us; we die with the parent. */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpriority(PRIO_PROCESS, 0, 19);
	/* nor do we hold the parent's files (sockets, lock files, BPF links) */
	if (keep_fd > 3)
		close_range(3, (unsigned int)keep_fd - 1, 0);
	close_range((unsigned int)keep_fd + 1, ~0u, 0);
}

/* In the child: compile, report, _exit. Nothing of the parent's is used
 * after the fork but the pipe and libpcap on our own copy of the heap. */
void fg_pcapc_child(int wfd, const char *expr, uint32_t snaplen, int dlt, int optimize,
		    uint32_t netmask)
{
	struct fg_pcapc_hdr h = { 0 };
	struct bpf_program prog = { 0 };
	const char *msg = NULL;
	pcap_t *p;

	fg_child_detach(wfd);

	p = pcap_open_dead(dlt, (int)snaplen);
	if (!p) {
		h.ret = -ENOMEM;
		msg = "pcap_open_dead failed";
	} else if (pcap_compile(p, &prog, expr, optimize, netmask) < 0) {
		h.ret = -EINVAL;
		msg = pcap_geterr(p);
	} else {
		h.n = prog.bf_len;
	}
	if (msg)
		h.msg_len = (uint32_t)strlen(msg);
	if (h.msg_len >= FG_ERR_LEN)
		h.msg_len = FG_ERR_LEN - 1;
	if (fg_write_all(wfd, &h, sizeof(h)) ||
	    (msg && fg_write_all(wfd, msg, h.msg_len)) ||
	    (!msg && h.n <= FG_CBPF_MAX_INSNS &&
	     fg_write_all(wfd, prog.bf_insns, (size_t)h.n * sizeof(*prog.bf_insns))))
		_exit(1);
	_exit(0);
}

static int64_t fg_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes of the whole message once its header is in buf (0: not yet). */
static size_t fg_msg_len(const char *buf, size_t len)
{
	struct fg_pcapc_hdr h;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.ret)
		return sizeof(h) + (h.msg_len < FG_ERR_LEN ? h.msg_len : FG_ERR_LEN);
	return sizeof(h) + (h.n <= FG_CBPF_MAX_INSNS ? (size_t)h.n * sizeof(struct bpf_insn) : 0);
}

/* Reads the child's message (complete, or up to EOF) before the deadline:
 * 0, -ETIMEDOUT, or -E2BIG (more than cap). Not waiting for EOF: a child of
 * a concurrent fork may hold a copy of the pipe's write end. */
static int fg_read_msg(int fd, int64_t deadline, char *buf, size_t cap, size_t *len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t want;
	int64_t left;
	ssize_t r;

	*len = 0;
	for (;;) {
		want = fg_msg_len(buf, *len);
		if (want && *len >= want)
			return 0;
		left = deadline - fg_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (*len == cap)
			return -E2BIG;
		r = read(fd, buf + *len, cap - *len);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		*len += (size_t)r;
	}
}

int fg_pcap_compile(const struct fg_pcapd *d, const char *expr, uint32_t snaplen, int dlt,
		    int optimize, uint32_t netmask, unsigned int timeout_s,
		    struct bpf_insn **insns, size_t *n, char *err, size_t errlen)
{
	size_t cap = sizeof(struct fg_pcapc_hdr) + FG_ERR_LEN +
		     (size_t)FG_CBPF_MAX_INSNS * sizeof(struct bpf_insn);
	unsigned int limit = timeout_s ? timeout_s : FG_COMPILE_TIMEOUT_S;
	struct fg_pcapc_hdr h;
	char *buf = NULL;
	int fds[2] = { -1, -1 }, ret, status = 0;
	size_t len = 0;
	pid_t pid = -1;

	*insns = NULL;
	*n = 0;
	if (d && strlen(expr) > FG_PCAPD_EXPR_MAX)
		return fg_err(err, errlen, -E2BIG, "filter longer than %d bytes",
			      FG_PCAPD_EXPR_MAX);
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC)) {
		ret = fg_err(err, errlen, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	if (d) {
		struct fg_pcapd_req q = {
			.snaplen = snaplen, .dlt = dlt, .optimize = optimize,
			.netmask = netmask, .timeout_s = limit,
			.expr_len = (uint32_t)strlen(expr),
		};

		ret = fg_pcapd_send(d, &q, expr, fds[1]);
		if (ret) {
			ret = fg_err(err, errlen, ret, "the libpcap compiler helper: %s",
				     strerror(-ret));
			goto out;
		}
	} else {
		pid = fork();
		if (pid < 0) {
			ret = fg_err(err, errlen, -errno, "fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0) {
			close(fds[0]);
			fg_pcapc_child(fds[1], expr, snaplen, dlt, optimize, netmask);
		}
	}
	close(fds[1]);
	fds[1] = -1;
	ret = fg_read_msg(fds[0], fg_ms() + (int64_t)limit * 1000, buf, cap, &len);
	/* Closed first: a child still writing gets EPIPE (or SIGPIPE) and ends. */
	close(fds[0]);
	fds[0] = -1;
	/* the helper's child ends itself (alarm at the limit) */
	if (pid > 0 && ret == -ETIMEDOUT)
		kill(pid, SIGKILL); /* not reaped yet: pid can't name another process */
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret == -ETIMEDOUT) {
		ret = fg_err(err, errlen, -ETIMEDOUT, "filter compile timed out after %u s", limit);
		goto out;
	}
	/* The message decides, not the exit status (which a SIGCHLD set to
	 * SIG_IGN by the caller would hide). */
	if (ret || len < sizeof(h)) {
		ret = fg_err(err, errlen, ret ? ret : -EIO,
			     "the libpcap compiler process failed (%zu bytes received)", len);
		goto out;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.ret) {
		if (h.msg_len > len - sizeof(h))
			h.msg_len = (uint32_t)(len - sizeof(h));
		ret = fg_err(err, errlen, h.ret, "%.*s", (int)h.msg_len, buf + sizeof(h));
		goto out;
	}
	if (h.n > FG_CBPF_MAX_INSNS) {
		ret = fg_err(err, errlen, -EINVAL,
			     "program of %u instructions is longer than the %d a classic "
			     "BPF program may have", h.n, FG_CBPF_MAX_INSNS);
		goto out;
	}
	if (len < sizeof(h) + (size_t)h.n * sizeof(struct bpf_insn)) {
		ret = fg_err(err, errlen, -EIO, "the libpcap compiler process sent %zu bytes",
			     len);
		goto out;
	}
	*insns = malloc(h.n ? (size_t)h.n * sizeof(struct bpf_insn) : 1);
	if (!*insns) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(*insns, buf + sizeof(h), (size_t)h.n * sizeof(struct bpf_insn));
	*n = h.n;
	ret = 0;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(buf);
	return ret;
}
