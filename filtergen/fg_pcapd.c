/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The compiler helper: a process forked while its caller is still
 * single-threaded, which forks one child per libpcap compile.
 *
 * Why: fg_pcap_compile's child runs pcap_compile, which allocates. A fork of
 * a process with threads copies whatever lock another thread held at that
 * moment; a child that then allocates can wait forever. glibc's malloc
 * survives that, AddressSanitizer's did not (1 start in 10 of the sanitized
 * appliance: "filter compile timed out", the child asleep in the
 * allocator). The helper has one thread, so its children can allocate.
 *
 * Protocol (SOCK_SEQPACKET): one message per compile, struct fg_pcapd_req
 * then the expression's bytes, with the write end of the caller's pipe
 * (SCM_RIGHTS). The child answers on that pipe as fg_pcapc.c describes; it
 * ends itself with alarm() at the time limit (the caller stops waiting
 * then). The helper ends when the caller's socket closes, or with it.
 *
 * The helper holds no privilege: libpcap's parser needs none, and the
 * expressions come from REST clients. Before its first request it gives up
 * root for nobody (when it may), every capability, and any way back; it
 * then says it is ready with one int (0 or -errno) on the socket.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>

#include "filtergen/fg_internal.h"

/* Debian's nobody and nogroup */
#define FG_PCAPD_NOBODY 65534

struct fg_pcapd {
	int sock;	/* the caller's end */
	pid_t pid;
};

/* 0 or -errno. Without CAP_SETUID and CAP_SETGID (a container may have
 * taken them) root stays root, with no capability. */
static int helper_unprivilege(void)
{
	bool can_switch;

	if (capng_get_caps_process())
		return -EPERM;
	can_switch = geteuid() == 0 &&
		     capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
		     capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID);
	if (can_switch && (setgroups(0, NULL) ||
			   setresgid(FG_PCAPD_NOBODY, FG_PCAPD_NOBODY, FG_PCAPD_NOBODY) ||
			   setresuid(FG_PCAPD_NOBODY, FG_PCAPD_NOBODY, FG_PCAPD_NOBODY)))
		return -errno;
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	/* a change of credentials clears the death signal: set it again */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		return -errno;
	return 0;
}

/* The helper's loop: never returns. */
static void __attribute__((noreturn)) helper(int sock)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	size_t cap = sizeof(struct fg_pcapd_req) + FG_PCAPD_EXPR_MAX + 1;
	char *msg = malloc(cap);
	struct fg_pcapd_req q;
	struct cmsghdr *c;
	ssize_t n;
	pid_t pid;
	int wfd, ret;

	fg_child_detach(sock);
	signal(SIGCHLD, SIG_IGN); /* children reap themselves */
	ret = helper_unprivilege();
	if (!ret && !msg)
		ret = -ENOMEM;
	if (send(sock, &ret, sizeof(ret), MSG_NOSIGNAL) != sizeof(ret) || ret)
		_exit(1);
	for (;;) {
		struct iovec iov = { .iov_base = msg, .iov_len = cap };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };

		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the caller is gone or closed us */
		wfd = -1;
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&wfd, CMSG_DATA(c), sizeof(int));
		if (wfd < 0)
			continue;
		memcpy(&q, msg, (size_t)n < sizeof(q) ? (size_t)n : sizeof(q));
		/* a short or cut message: the caller reads EOF and says so */
		if ((size_t)n < sizeof(q) || (mh.msg_flags & MSG_TRUNC) ||
		    q.expr_len > FG_PCAPD_EXPR_MAX || (size_t)n != sizeof(q) + q.expr_len) {
			close(wfd);
			continue;
		}
		msg[n] = 0;
		pid = fork();
		if (pid == 0) {
			close(sock);
			alarm(q.timeout_s ? q.timeout_s : FG_COMPILE_TIMEOUT_S);
			fg_pcapc_child(wfd, msg + sizeof(q), q.snaplen, q.dlt, q.optimize,
				       q.netmask);
		}
		/* fork failed: the caller reads EOF on its pipe */
		close(wfd);
	}
}

int fg_pcapd_start(struct fg_pcapd **out)
{
	struct fg_pcapd *d = calloc(1, sizeof(*d));
	int sv[2] = { -1, -1 }, ret, ready = 0;
	ssize_t n;

	if (!d)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		goto out_free;
	}
	d->pid = fork();
	if (d->pid < 0) {
		ret = -errno;
		goto out_close;
	}
	if (d->pid == 0) {
		close(sv[0]);
		helper(sv[1]);
	}
	close(sv[1]);
	sv[1] = -1;
	/* the helper's word that it gave its privileges up */
	do
		n = recv(sv[0], &ready, sizeof(ready), 0);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(ready) || ready) {
		ret = n < 0 ? -errno : n != sizeof(ready) ? -EIO : ready;
		goto out_wait;
	}
	d->sock = sv[0];
	*out = d;
	return 0;

out_wait:
	close(sv[0]);
	sv[0] = -1;
	while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
		;
out_close:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
out_free:
	free(d);
	return ret;
}

void fg_pcapd_stop(struct fg_pcapd *d)
{
	if (!d)
		return;
	close(d->sock); /* the helper reads EOF and ends */
	while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(d);
}

int fg_pcapd_send(const struct fg_pcapd *d, const struct fg_pcapd_req *q, const char *expr,
		  int wfd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov[2] = {
		{ .iov_base = (void *)q, .iov_len = sizeof(*q) },
		{ .iov_base = (void *)expr, .iov_len = q->expr_len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
			     .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	ssize_t n;

	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &wfd, sizeof(int));
	do
		n = sendmsg(d->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(*q) + q->expr_len ? 0 : -EIO;
}
