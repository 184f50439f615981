/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The capabilities a capture core needs, and dropping all others. Called
 * before any thread exists (capabilities are per thread; every thread made
 * later inherits the reduced sets), so the whole process, its writer's
 * guardian and the clang it runs keep only these.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <linux/capability.h>

#include "capture/capture.h"

static const int keep[] = {
	CAP_BPF,	  /* load programs, maps */
	CAP_PERFMON,	  /* programs that read packet pointers */
	CAP_NET_ADMIN,	  /* attach XDP and TC, AF_XDP */
	CAP_NET_RAW,	  /* AF_XDP sockets */
	CAP_IPC_LOCK,	  /* AF_XDP UMEM past the 8 MiB memlock limit */
	CAP_SYS_ADMIN,	  /* find a dead run's programs by id (leftovers) */
	CAP_CHOWN,	  /* capture files handed to a group */
};

static bool kept(int c, bool bind_low_port)
{
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (keep[i] == c)
			return true;
	return bind_low_port && c == CAP_NET_BIND_SERVICE;
}

static bool only_kept(bool bind_low_port)
{
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (!kept(c, bind_low_port) &&
		    (capng_have_capability(CAPNG_EFFECTIVE, (unsigned int)c) ||
		     capng_have_capability(CAPNG_PERMITTED, (unsigned int)c) ||
		     capng_have_capability(CAPNG_BOUNDING_SET, (unsigned int)c)))
			return false;
	return true;
}

int cap_drop_privileges(bool bind_low_port, char *err, size_t errlen)
{
	int ret;
	bool have[CAP_LAST_CAP + 1] = { false };
	int c;

	/* keep only what we hold: a container may have taken some already */
	if (capng_get_caps_process()) {
		snprintf(err, errlen, "can't read the process's capabilities");
		return -EPERM;
	}
	for (c = 0; c <= CAP_LAST_CAP; c++)
		have[c] = capng_have_capability(CAPNG_PERMITTED, (unsigned int)c);
	capng_clear(CAPNG_SELECT_BOTH);
	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (have[c] && kept(c, bind_low_port))
			capng_update(CAPNG_ADD,
				     CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				     (unsigned int)c);
	ret = capng_apply(CAPNG_SELECT_BOTH);
	/* what the kernel now holds is the answer */
	if (capng_get_caps_process() || !only_kept(bind_low_port)) {
		snprintf(err, errlen, "can't drop capabilities (libcap-ng error %d)", ret);
		return -EPERM;
	}
	/* and no way back through a setuid program */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
