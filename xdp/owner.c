/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Who holds an interface: RUN_DIR/<netns inode>-<ifindex>.pid, flock'ed by
 * the holder for as long as it runs. The kernel drops the lock when the
 * process dies (even on SIGKILL), so "file there but not locked" means a
 * dead holder whose leftovers may still be on the interface. The netns
 * inode is in the name because ifindexes repeat across namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xdp/internal.h"

static void read_old(struct xp_owner *ow)
{
	char buf[256], *p;
	ssize_t n;

	n = pread(ow->fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = 0;
	p = strstr(buf, "pid ");
	if (p)
		ow->old_pid = atoi(p + 4);
	p = strstr(buf, "qdisc ");
	if (p)
		ow->old_qdisc = atoi(p + 6) == 1;
}

int xp_owner_take(struct xp_owner *ow, const char *run_dir, int ifindex,
		  const char *ifname, char *err, size_t errlen)
{
	struct stat ns, a, b;
	char buf[256];
	ssize_t n;
	int fd = -1, ret, tries;

	ow->fd = -1;
	ow->old_pid = 0;
	ow->old_qdisc = false;
	if (stat("/proc/self/ns/net", &ns))
		ns.st_ino = 0;
	if (mkdir(run_dir, 0755) && errno != EEXIST) {
		ret = -errno;
		goto fail_dir;
	}
	snprintf(ow->path, sizeof(ow->path), "%s/%lu-%d.pid", run_dir,
		 (unsigned long)ns.st_ino, ifindex);

	/* Lock, then make sure the file we locked is still the one at path
	 * (a holder that closes unlinks it). */
	for (tries = 0; tries < 10; tries++) {
		fd = open(ow->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			ret = -errno;
			goto fail_dir;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			ret = -errno;
			if (ret == -EWOULDBLOCK) {
				n = pread(fd, buf, sizeof(buf) - 1, 0);
				buf[n > 0 ? n : 0] = 0;
				if (!strncmp(buf, "pid ", 4))
					xp_err(err, errlen, "%s: held by a running capture-appliance "
					       "(pid %d)", ifname, atoi(buf + 4));
				else
					xp_err(err, errlen, "%s: held by a running capture-appliance "
					       "(lock %s)", ifname, ow->path);
				ret = -EBUSY;
			} else {
				xp_err(err, errlen, "%s: locking %s: %s", ifname, ow->path,
				       strerror(-ret));
			}
			close(fd);
			return ret;
		}
		if (!fstat(fd, &a) && !stat(ow->path, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		xp_err(err, errlen, "%s: %s keeps changing", ifname, ow->path);
		return -EAGAIN;
	}
	ow->fd = fd;
	read_old(ow);
	return 0;

fail_dir:
	if (ret == -EACCES || ret == -EPERM || ret == -EROFS) {
		xp_err(err, errlen, "%s: can't create the lock file in %s (%s): run as root",
		       ifname, run_dir, strerror(-ret));
		return -EPERM;
	}
	xp_err(err, errlen, "%s: lock file in %s: %s", ifname, run_dir, strerror(-ret));
	return ret;
}

int xp_owner_write(struct xp_owner *ow, const char *ifname, bool qdisc_created)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "pid %d\nifname %s\nqdisc %d\n", (int)getpid(),
		     ifname, qdisc_created ? 1 : 0);
	if (ftruncate(ow->fd, 0) || pwrite(ow->fd, buf, n, 0) != n)
		return -errno;
	return 0;
}

void xp_owner_release(struct xp_owner *ow)
{
	if (ow->fd < 0)
		return;
	/* Unlink while still locked: a waiting opener then re-checks. */
	unlink(ow->path);
	close(ow->fd);
	ow->fd = -1;
}
