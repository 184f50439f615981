// SPDX-License-Identifier: BSD-2-Clause
/*
 * The name database libpcap's TESTrun expects (hosts, ethers, networks from
 * libpcap_test_namedb.txt), visible to this process only: a private mount
 * namespace with an overlay on /etc whose upper layer is a tmpfs. Nothing
 * is written to the machine's /etc; it all goes away with the process.
 */
#include "test_fg_corpus.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define FGT_NS_TMP "/mnt" /* mount point inside the private namespace */

/* Appends the lines of section `sect` of the namedb file to path. */
static int append_section(const char *db, const char *sect, const char *path)
{
	char line[512];
	FILE *in, *out;
	int on = 0, err = 0;

	in = fopen(db, "r");
	if (!in)
		return -errno;
	out = fopen(path, "a");
	if (!out) {
		err = -errno;
		fclose(in);
		return err;
	}
	while (fgets(line, sizeof(line), in)) {
		if (!strncmp(line, "## ", 3)) {
			/* "## /etc/hosts (OpenBSD only, ...)" is another section */
			line[strcspn(line, "\n")] = '\0';
			on = !strcmp(line + 3, sect);
			continue;
		}
		if (on && line[0] != '#')
			fputs(line, out);
	}
	if (fclose(out))
		err = -errno;
	fclose(in);
	return err;
}

int fgt_namedb_enter(const char *corpus, char *why, size_t whylen)
{
	static const char *const files[] = { "/etc/hosts", "/etc/ethers",
					     "/etc/networks" };
	char db[4096];
	int err;

	snprintf(db, sizeof(db), "%s/libpcap_test_namedb.txt", corpus);
	if (unshare(CLONE_NEWNS)) {
		err = -errno;
		snprintf(why, whylen, "unshare(CLONE_NEWNS): %s", strerror(errno));
		return err;
	}
	/* Nothing mounted below may propagate back to the machine. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("fgt-namedb", FGT_NS_TMP, "tmpfs", 0, "size=1m") ||
	    mkdir(FGT_NS_TMP "/upper", 0755) || mkdir(FGT_NS_TMP "/work", 0755) ||
	    mount("fgt-etc", "/etc", "overlay", 0,
		  "lowerdir=/etc,upperdir=" FGT_NS_TMP "/upper,workdir=" FGT_NS_TMP "/work")) {
		err = -errno;
		snprintf(why, whylen, "private /etc overlay: %s", strerror(errno));
		return err;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		err = append_section(db, files[i], files[i]);
		if (err) {
			snprintf(why, whylen, "%s: %s", files[i], strerror(-err));
			return err;
		}
	}
	return 0;
}
