/* SPDX-License-Identifier: BSD-2-Clause */
/* Generated C -> eBPF ELF object: clang in a private temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static int fg_run_clang(const char *dir, const char *src, char *err, size_t errlen)
{
	char in[PATH_MAX], obj[PATH_MAX], inc[PATH_MAX], log[PATH_MAX];
	/* the environment may name another clang (a newer one, a wrapper) */
	const char *clang = getenv("CAPTURE_APPLIANCE_CLANG");
	char *argv[] = { NULL, "-O2", "-g", "-target", "bpf", "-mcpu=v3",
			 "-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu",
			 inc, "-c", in, "-o", obj, NULL };
	posix_spawn_file_actions_t fa;
	char *msg = NULL;
	size_t msglen = 0;
	int status, ret;
	pid_t pid;

	if (!clang || !clang[0])
		clang = FG_CLANG;
	argv[0] = (char *)clang;
	snprintf(in, sizeof(in), "%s/%s", dir, src);
	snprintf(obj, sizeof(obj), "%s/fg.o", dir);
	snprintf(inc, sizeof(inc), "-I%s", dir);
	snprintf(log, sizeof(log), "%s/clang.log", dir);
	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ret = posix_spawnp(&pid, clang, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return fg_err(err, errlen, -ret, "cannot run %s: %s", clang, strerror(ret));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!fg_read_file(log, &msg, &msglen))
		fg_err(err, errlen, -EINVAL, "clang failed: %s", msg);
	else
		fg_err(err, errlen, -EINVAL, "clang failed (status %d)", status);
	free(msg);
	return -EINVAL;
}

int fg_build(const struct fg_filter *f, const struct fg_src *srcs, size_t nsrcs,
	     void **elf, size_t *elf_len, char *err, size_t errlen)
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
	ret = fg_run_clang(dir, srcs[0].name, err, errlen);
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
	/* the directory holds only the files written above plus clang's */
	for (i = 0; i < nsrcs; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, srcs[i].name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/fg_filter.h", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fg.o", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/clang.log", dir);
	unlink(path);
	rmdir(dir);
	return ret;
}
