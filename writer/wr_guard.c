/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guardian: a tiny child process that makes the file complete records
 * only after the appliance is killed (SIGKILL, OOM). The kernel may stop a
 * write at any page when the writer dies, leaving part of a record at the
 * end; no ordering of writes avoids that. The writer publishes, per file,
 * the size up to which everything is complete records (a shared page). When
 * the parent goes away without saying goodbye (its end of the pipe closes),
 * the child waits for in-flight writes to settle, walks the records from
 * that size and cuts the file after the last complete one.
 *
 * The child shares the parent's memory (clone CLONE_VM, own small stack):
 * a fork would copy page tables and, for pinned memory such as AF_XDP UMEM,
 * the pages themselves. It closes every inherited descriptor at once (it
 * must not keep BPF links, sockets or the capture file open), ignores
 * terminal signals, and only makes plain system calls (no malloc, no locks).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

struct wr_guard_slot {
	_Atomic uint64_t seq;	/* odd while path/size change */
	_Atomic uint64_t size;	/* complete records up to here; 0 = nothing */
	uint32_t ng;		/* pcapng blocks, not pcap records */
	uint64_t dev, ino;	/* the file itself: a new file at the same
				 * path (a restart) is left alone */
	char path[PATH_MAX];
};

struct wr_guard_page {
	struct wr_guard_slot slot[2]; /* by generation: old and new file */
};

#define WR_GUARD_STACK (64 * 1024)
/* The child runs on its own stack in the parent's memory, with the parent
 * thread's TLS: it makes raw system calls only (no libc state, no
 * sanitizer runtime) and is not instrumented. */
#define WR_CHILD_CODE __attribute__((no_sanitize("address", "undefined", "thread")))

struct wr_guard {
	struct wr_guard_page *pg;
	void *stack;
	int rfd;
	const struct wr_dest *last[2]; /* what each slot describes (writer thread) */
	uint64_t last_fileno[2];      /* which of its files (rotation) */
	pid_t pid;
	int wfd;
};

WR_CHILD_CODE static void nap_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	syscall(SYS_nanosleep, &ts, NULL);
}

/* "/proc/self/fd/N" without libc. */
WR_CHILD_CODE static void fd_path(char *buf, int fd)
{
	static const char pre[] = "/proc/self/fd/";
	char digits[12];
	int n = 0, i;

	do {
		digits[n++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd && n < (int)sizeof(digits));
	for (i = 0; pre[i]; i++)
		buf[i] = pre[i];
	while (n)
		buf[i++] = digits[--n];
	buf[i] = 0;
}

/* Cuts the file after the last complete record at or after size. The name
 * is looked up without following a link (O_PATH opens nothing), and only
 * the very inode the writer created is opened for writing. */
WR_CHILD_CODE static void repair(const struct wr_guard_slot *s, uint64_t size)
{
	struct stat st;
	off_t last = -1;
	uint64_t off = size;
	char proc[32];
	int pfd = (int)syscall(SYS_openat, AT_FDCWD, s->path,
			       O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	int fd = -1;

	if (pfd < 0)
		return;
	if (syscall(SYS_fstat, pfd, &st) || st.st_dev != s->dev || st.st_ino != s->ino ||
	    !S_ISREG(st.st_mode))
		goto out;
	fd_path(proc, pfd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, proc, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	/* writes still in flight (io-wq, DIO completions) settle first */
	for (int i = 0; i < 50; i++) {
		if (syscall(SYS_fstat, fd, &st))
			goto out;
		if (st.st_size == last)
			break;
		last = st.st_size;
		nap_ms(20);
	}
	while (off + WR_REC_MIN <= (uint64_t)st.st_size) {
		uint8_t h[WR_REC_MIN];
		size_t rl;

		if (syscall(SYS_pread64, fd, h, sizeof(h), (off_t)off) != (long)sizeof(h))
			break;
		rl = wr_rec_len(h, s->ng);
		if (!rl || off + rl > (uint64_t)st.st_size)
			break;
		off += rl;
	}
	if (off < (uint64_t)st.st_size)
		syscall(SYS_ftruncate, fd, (off_t)off);
out:
	if (fd >= 0)
		syscall(SYS_close, fd);
	syscall(SYS_close, pfd);
}

WR_CHILD_CODE static int child(void *arg)
{
	struct wr_guard *g = arg;
	struct wr_guard_page *pg = g->pg;
	int rfd = g->rfd;
	/* terminal signals stay pending: Ctrl-C on the appliance must not
	 * take the guardian with it */
	uint64_t mask = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1)) |
			(1ull << (SIGHUP - 1)) | (1ull << (SIGQUIT - 1)) |
			(1ull << (SIGPIPE - 1));
	char c = 0;
	long n;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof(mask));
	if (rfd > 0)
		syscall(SYS_close_range, 0, (unsigned int)rfd - 1, 0);
	syscall(SYS_close_range, (unsigned int)rfd + 1, ~0u, 0);
	for (int i = 0; i < 1000; i++) { /* EINTR (stop/continue) only */
		n = syscall(SYS_read, rfd, &c, 1);
		if (n >= 0)
			break;
	}
	/* 'q': orderly close, the files are complete. A read that keeps
	 * failing says nothing about the parent: never touch a file then */
	if (n != 0)
		syscall(SYS_exit_group, 0);
	for (int i = 0; i < 2; i++) {
		struct wr_guard_slot *s = &pg->slot[i];
		uint64_t seq = atomic_load(&s->seq), size = atomic_load(&s->size);

		/* the writer died while changing this slot: its old file
		 * was finished, the new one not written yet */
		if ((seq & 1) || !size)
			continue;
		repair(s, size);
	}
	syscall(SYS_exit_group, 0);
	return 0;
}

int wr_guard_start(struct wr_guard **out)
{
	struct wr_guard *g = calloc(1, sizeof(*g));
	int p[2] = { -1, -1 };
	int ret;

	if (!g)
		return -ENOMEM;
	g->pg = mmap(NULL, sizeof(*g->pg), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->pg == MAP_FAILED) {
		ret = -errno;
		goto out_free;
	}
	if (pipe2(p, O_CLOEXEC)) {
		ret = -errno;
		goto out_unmap;
	}
	g->stack = mmap(NULL, WR_GUARD_STACK, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (g->stack == MAP_FAILED) {
		ret = -errno;
		goto out_pipe;
	}
	g->rfd = p[0];
#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer cannot follow a task sharing its memory */
	g->pid = fork();
	if (g->pid == 0)
		child(g);
#else
	g->pid = clone(child, (uint8_t *)g->stack + WR_GUARD_STACK, CLONE_VM | SIGCHLD, g);
#endif
	if (g->pid < 0) {
		ret = -errno;
		munmap(g->stack, WR_GUARD_STACK);
		goto out_pipe;
	}
	close(p[0]);
	g->wfd = p[1];
	*out = g;
	return 0;

out_pipe:
	close(p[0]);
	close(p[1]);
out_unmap:
	munmap(g->pg, sizeof(*g->pg));
out_free:
	free(g);
	return ret;
}

/* Writer thread: file d is complete records up to d->size. */
void wr_guard_note(struct wr_guard *g, const struct wr_dest *d)
{
	struct wr_guard_slot *s;

	if (!g || d->kind != WR_DEST_FILE || d->fd < 0)
		return;
	s = &g->pg->slot[d->gen & 1];
	if (g->last[d->gen & 1] != d || g->last_fileno[d->gen & 1] != d->fileno) {
		struct stat st;

		if (fstat(d->fd, &st))
			return;
		atomic_fetch_add(&s->seq, 1);
		s->ng = d->hdr_len && d->hdr && d->hdr[0] == 0x0a;
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		strncpy(s->path, d->path, sizeof(s->path) - 1);
		atomic_store(&s->size, d->size);
		atomic_fetch_add(&s->seq, 1);
		g->last[d->gen & 1] = d;
		g->last_fileno[d->gen & 1] = d->fileno;
		return;
	}
	atomic_store_explicit(&s->size, d->size, memory_order_release);
}

/* Writer thread: d is finished and about to be freed. */
void wr_guard_forget(struct wr_guard *g, const struct wr_dest *d)
{
	if (g && g->last[d->gen & 1] == d)
		g->last[d->gen & 1] = NULL;
}

void wr_guard_stop(struct wr_guard *g)
{
	if (!g)
		return;
	if (write(g->wfd, "q", 1) != 1)
		kill(g->pid, SIGKILL);
	close(g->wfd);
	while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	munmap(g->stack, WR_GUARD_STACK);
	munmap(g->pg, sizeof(*g->pg));
	free(g);
}
