/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core's thread priorities: where each of its threads stands against
 * the threads that empty the kernel's rings, which must never wait.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture/internal.h"

/* ioprio_set(IOPRIO_WHO_PROCESS, thread, IOPRIO_CLASS_IDLE): no glibc wrapper */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

void cap_background_thread(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	/* a real-time policy inherited from the process (chrt) would make
	 * nice meaningless: back to the normal one first */
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &(struct sched_param){ 0 });
	setpriority(PRIO_PROCESS, (id_t)tid, 19);
	syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
}

/* A ring consumer a scheduler slice late loses frames (the kernel's ring
 * buffer is full, and 1.5-KB frames fill 32 MiB in 20 ms); a writer that
 * late only lets the pool (64 MiB) fill a little. So where the writer
 * thread and its io_uring workers (which take its priority) share a CPU
 * with the consumers, the consumers go first: the writer runs at nice +5
 * from the process's, or, under a real-time policy, one step lower. */
#define CAP_WRITER_NICE_UP 5

void cap_writer_thread(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct sched_param sp = { 0 };
	int policy = SCHED_OTHER, nice;

	if (!pthread_getschedparam(pthread_self(), &policy, &sp) &&
	    (policy == SCHED_FIFO || policy == SCHED_RR)) {
		if (sp.sched_priority > 1) {
			sp.sched_priority--;
			pthread_setschedparam(pthread_self(), policy, &sp);
		}
		return;
	}
	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (nice == -1 && errno)
		return;
	nice = nice + CAP_WRITER_NICE_UP > 19 ? 19 : nice + CAP_WRITER_NICE_UP;
	setpriority(PRIO_PROCESS, (id_t)tid, nice);
}
