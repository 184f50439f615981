/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Generated C -> eBPF ELF object: clang in a private temporary directory,
 * in its own process group, at low CPU priority, killed (the whole group)
 * when it runs longer than the time limit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filtergen/fg_internal.h"

#ifndef FG_CLANG
#define FG_CLANG "clang"
#endif

extern char **environ;

static int fg_write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0) {
			ret = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated, len excludes it). */
static int fg_read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t off = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, *buf + off, (size_t)st.st_size - off);
		if (r <= 0) {
			ret = r < 0 ? -errno : -EIO;
			free(*buf);
			*buf = NULL;
			goto out;
		}
		off += (size_t)r;
	}
	(*buf)[off] = 0;
	*len = off;
out:
	close(fd);
	return ret;
}

static int64_t fg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for pid until deadline (CLOCK_MONOTONIC ms). 0: exited (*status);
 * -ETIMEDOUT: still running. A pidfd wakes us when it exits; without one
 * (old kernel) we look every 10 ms. */
static int fg_wait(pid_t pid, int64_t deadline, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), ret;
	int64_t left;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid) {
			ret = 0;
			break;
		}
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		left = deadline - fg_now_ms();
		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		} else {
			struct timespec ts = { 0, 10 * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return ret;
}

static int fg_run_clang(const char *dir, const char *src, const struct fg_build_opts *o,
			char *err, size_t errlen)
{
	char in[PATH_MAX], obj[PATH_MAX], inc[PATH_MAX], log[PATH_MAX];
	/* the environment may name another clang (a newer one, a wrapper) */
	const char *clang = getenv("CAPTURE_APPLIANCE_CLANG");
	char *argv[] = { NULL, "-O2", "-g", "-target", "bpf", "-mcpu=v3",
			 "-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu",
			 inc, "-c", in, "-o", obj, NULL };
	unsigned int timeout = o && o->timeout_s ? o->timeout_s : FG_BUILD_TIMEOUT_S;
	enum fg_build_prio prio = o ? o->prio : FG_PRIO_NICE;
	struct sched_param sp = { .sched_priority = 0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *msg = NULL;
	size_t msglen = 0;
	int status, ret;
	pid_t pid;

	if (prio != FG_PRIO_NICE && prio != FG_PRIO_IDLE && prio != FG_PRIO_INHERIT)
		return fg_err(err, errlen, -EINVAL, "fg_build: bad priority %d", (int)prio);
	if (!clang || !clang[0])
		clang = FG_CLANG;
	argv[0] = (char *)clang;
	snprintf(in, sizeof(in), "%s/%s", dir, src);
	snprintf(obj, sizeof(obj), "%s/fg.o", dir);
	snprintf(inc, sizeof(inc), "-I%s", dir);
	snprintf(log, sizeof(log), "%s/clang.log", dir);
	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	if (posix_spawnattr_init(&at)) {
		posix_spawn_file_actions_destroy(&fa);
		return -ENOMEM;
	}
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	/* Its own process group: on time-out the whole group is killed, in
	 * case clang runs its stages as child processes. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	ret = posix_spawnp(&pid, clang, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (ret)
		return fg_err(err, errlen, -ret, "cannot run %s: %s", clang, strerror(ret));
	/* Set right after the start (clang runs its first microseconds at our
	 * priority): posix_spawn has no nice attribute, and glibc's
	 * POSIX_SPAWN_SETSCHEDULER did not apply SCHED_IDLE here. */
	if (prio == FG_PRIO_NICE)
		setpriority(PRIO_PROCESS, (id_t)pid, 19);
	else if (prio == FG_PRIO_IDLE)
		sched_setscheduler(pid, SCHED_IDLE, &sp);
	ret = fg_wait(pid, fg_now_ms() + (int64_t)timeout * 1000, &status);
	if (ret == -ETIMEDOUT) {
		/* clang is not reaped yet, so its pid (the group's id) can't
		 * have been reused: the kill reaches only its group */
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return fg_err(err, errlen, -ETIMEDOUT, "filter compile timed out after %u s",
			      timeout);
	}
	if (ret)
		return fg_err(err, errlen, ret, "waiting for clang: %s", strerror(-ret));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!fg_read_file(log, &msg, &msglen))
		fg_err(err, errlen, -EINVAL, "clang failed: %s", msg);
	else
		fg_err(err, errlen, -EINVAL, "clang failed (status %d)", status);
	free(msg);
	return -EINVAL;
}

/* Empties and removes the private build directory (clang may leave a
 * temporary object behind when it is killed). */
static void fg_rmdir(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

int fg_build(const struct fg_filter *f, const struct fg_src *srcs, size_t nsrcs,
	     void **elf, size_t *elf_len, char *err, size_t errlen)
{
	return fg_build_ex(f, srcs, nsrcs, NULL, elf, elf_len, err, errlen);
}

int fg_build_ex(const struct fg_filter *f, const struct fg_src *srcs, size_t nsrcs,
		const struct fg_build_opts *opts, void **elf, size_t *elf_len, char *err,
		size_t errlen)
{
	char dir[] = "/tmp/fg-build-XXXXXX", path[PATH_MAX];
	char *obj = NULL;
	size_t i, len = 0;
	int ret;

	if (!f || !srcs || !nsrcs || !elf || !elf_len)
		return fg_err(err, errlen, -EINVAL, "fg_build: missing argument");
	for (i = 0; i < nsrcs; i++)
		if (!srcs[i].name || !srcs[i].text || strchr(srcs[i].name, '/') ||
		    !strcmp(srcs[i].name, "fg_filter.h") || srcs[i].name[0] == '.')
			return fg_err(err, errlen, -EINVAL, "fg_build: bad source name");
	if (!mkdtemp(dir))
		return fg_err(err, errlen, -errno, "mkdtemp: %s", strerror(errno));
	ret = fg_write_file(dir, "fg_filter.h", f->c_src);
	for (i = 0; !ret && i < nsrcs; i++)
		ret = fg_write_file(dir, srcs[i].name, srcs[i].text);
	if (ret) {
		fg_err(err, errlen, ret, "writing sources: %s", strerror(-ret));
		goto out;
	}
	ret = fg_run_clang(dir, srcs[0].name, opts, err, errlen);
	if (ret)
		goto out;
	snprintf(path, sizeof(path), "%s/fg.o", dir);
	ret = fg_read_file(path, &obj, &len);
	if (ret) {
		fg_err(err, errlen, ret, "reading the object: %s", strerror(-ret));
		goto out;
	}
	*elf = obj;
	*elf_len = len;
out:
	fg_rmdir(dir);
	return ret;
}
