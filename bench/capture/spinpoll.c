// SPDX-License-Identifier: BSD-2-Clause
/*
 * libbn-spinpoll.so: an LD_PRELOAD experiment, not part of the appliance.
 * Makes a blocking poll() on an AF_XDP socket spin (poll with timeout 0 and
 * sched_yield) for up to BN_SPIN_US microseconds (default 200) before it
 * sleeps. It measures what busy polling would buy the AF_XDP workers (fewer
 * wake-ups on the receive CPU: no sleeper, no sock_def_readable wake-up)
 * without touching their code. Other poll() calls are passed through.
 */
#include <dlfcn.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

typedef int (*poll_fn)(struct pollfd *, nfds_t, int);

static long spin_ns(void)
{
	const char *s = getenv("BN_SPIN_US");

	return (s ? atol(s) : 200) * 1000;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int is_xsk(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	return !getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) && domain == AF_XDP;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	static poll_fn real;
	long long end;
	int r;

	if (!real)
		real = (poll_fn)dlsym(RTLD_NEXT, "poll");
	if (!timeout || !nfds || !is_xsk(fds[0].fd))
		return real(fds, nfds, timeout);
	end = now_ns() + spin_ns();
	do {
		r = real(fds, nfds, 0);
		if (r)
			return r;
		sched_yield(); /* let a same-priority writer thread run */
	} while (now_ns() < end);
	return real(fds, nfds, timeout);
}
