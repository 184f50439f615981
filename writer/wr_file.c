/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Creating capture files safely. The appliance runs as root and writes into
 * folders other users may be able to write to, so:
 *
 * - every file lives under a directory fd opened once (wr_dir_open), and
 *   only the last component of a name is ever looked up under it;
 * - an existing entry that is not a regular file is refused: a symlink with
 *   -ELOOP, a folder with -EISDIR, anything else (FIFO, device, socket)
 *   with -EPERM;
 * - a file is never opened by name for writing: it is created unnamed
 *   (O_TMPFILE; or, where the file system has none, under a fresh
 *   O_CREAT|O_EXCL|O_NOFOLLOW temporary name), gets its mode, group and
 *   header, and only then is linked under its name. Linking replaces the
 *   directory entry itself (renameat) and never follows a link, so even an
 *   entry swapped between the check and the rename is only replaced, never
 *   written through. Until the commit nothing under the name changed, so a
 *   failure leaves an existing file byte-identical.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

/* Splits path into its folder (opened) and its last component. A path that
 * ends in '/' names a folder: -EISDIR. */
int wr_dir_open(const char *path, int *dirfd, char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!*path)
		return -EINVAL;
	if (slash && !slash[1])
		return -EISDIR;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	*base = strdup(slash ? slash + 1 : path);
	if (!dir || !*base) {
		free(dir);
		free(*base);
		return -ENOMEM;
	}
	/* the folder itself may be reached through links (e.g. /var/run);
	 * what other users could plant is the last component */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0) {
		free(*base);
		*base = NULL;
		return -errno;
	}
	*dirfd = fd;
	return 0;
}

/* What an existing entry name under dirfd means for creating a file there. */
int wr_file_check(int dirfd, const char *name, bool replace)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EPERM;
	return replace ? 0 : -EEXIST;
}

static int write_all(int fd, const void *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p = (const uint8_t *)p + n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static void tmp_name(char *buf, size_t len, const char *name)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* a dot name: never taken for a capture file by a folder scan */
	snprintf(buf, len, ".%s.wr-%d-%lx", name, (int)getpid(),
		 (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 20)));
}

/* Creates the file's contents without a name: f->fd holds hdr, has the
 * mode and group. On error nothing is left behind. */
int wr_file_prepare(int dirfd, const char *name, const struct wr_fmode *m,
		    const void *hdr, size_t len, struct wr_newfile *f)
{
	int fd, ret;

	f->fd = -1;
	f->tmp[0] = 0;
	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* no unnamed files here: a fresh temporary name, never an
		 * existing entry (O_EXCL does not follow links either) */
		for (int i = 0; i < 16 && fd < 0; i++) {
			tmp_name(f->tmp, sizeof(f->tmp), name);
			fd = openat(dirfd, f->tmp,
				    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0 && errno != EEXIST)
				break;
		}
		if (fd < 0)
			f->tmp[0] = 0;
	}
	if (fd < 0)
		return -errno;
	/* exact mode whatever the umask; the group before anyone can read
	 * (a file that has that group already needs no fchown: a caller
	 * that is not root may then ask for its own group) */
	if (m->gid != (gid_t)-1) {
		struct stat st;

		if (fstat(fd, &st) || (st.st_gid != m->gid && fchown(fd, (uid_t)-1, m->gid))) {
			ret = -errno;
			goto out;
		}
	}
	if (fchmod(fd, m->mode)) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, hdr, len, 0);
	if (ret)
		goto out;
	f->fd = fd;
	return 0;
out:
	close(fd);
	if (f->tmp[0])
		unlinkat(dirfd, f->tmp, 0);
	f->tmp[0] = 0;
	return ret;
}

/* Gives the prepared file its name: replaces an existing regular file when
 * replace, else fails with -EEXIST if the name is taken. */
int wr_file_commit(int dirfd, const char *name, bool replace, struct wr_newfile *f)
{
	char proc[64];
	int ret;

	ret = wr_file_check(dirfd, name, replace);
	if (ret && !replace && ret != -ENOENT && ret != -EACCES)
		return -EEXIST; /* the name is taken, whatever by */
	if (ret)
		return ret;
	if (!f->tmp[0]) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
		if (!replace) {
			/* linkat never replaces: a name taken meanwhile fails */
			if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW))
				return -errno;
			return 0;
		}
		for (int i = 0;; i++) {
			tmp_name(f->tmp, sizeof(f->tmp), name);
			if (!linkat(AT_FDCWD, proc, dirfd, f->tmp, AT_SYMLINK_FOLLOW))
				break;
			if (errno != EEXIST || i == 15) {
				ret = -errno;
				f->tmp[0] = 0;
				return ret;
			}
		}
	}
	if (replace) {
		ret = renameat(dirfd, f->tmp, dirfd, name) ? -errno : 0;
	} else {
		ret = linkat(dirfd, f->tmp, dirfd, name, 0) ? -errno : 0;
		if (!ret)
			unlinkat(dirfd, f->tmp, 0);
	}
	/* on failure the temporary name stays for wr_file_abort */
	if (!ret)
		f->tmp[0] = 0;
	return ret;
}

/* Drops a prepared file that was not committed. */
void wr_file_abort(int dirfd, struct wr_newfile *f)
{
	if (f->tmp[0])
		unlinkat(dirfd, f->tmp, 0);
	f->tmp[0] = 0;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
