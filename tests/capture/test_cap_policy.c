/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core's policy without a capture: cap_check_dump() refuses missing
 * folders, files posing as folders, `..` and escapes from the dump root
 * (also through a symlink), and resolves relative prefixes; cap_name_ok()
 * takes only names that are safe in a URL and a file name.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture/capture.h"

static char tmpdir[] = "/tmp/cap-policy-test.XXXXXX";

static int make_tree(void **state)
{
	char p[PATH_MAX + 64];
	FILE *f;

	assert_non_null(mkdtemp(tmpdir));
	snprintf(p, sizeof(p), "%s/root", tmpdir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/root/sub", tmpdir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/outside", tmpdir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/root/afile", tmpdir);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	{
		char target[PATH_MAX + 16];

		snprintf(target, sizeof(target), "%s/outside", tmpdir);
		snprintf(p, sizeof(p), "%s/root/escape", tmpdir);
		assert_int_equal(symlink(target, p), 0);
	}
	return 0;
}

static int remove_tree(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int dump(const char *root_rel, const char *d, char *out, char *err)
{
	char root[PATH_MAX + 16];

	if (root_rel)
		snprintf(root, sizeof(root), "%s/%s", tmpdir, root_rel);
	return cap_check_dump(root_rel ? root : NULL, d, out, PATH_MAX, err, 512);
}

static void dump_paths_checked(void **state)
{
	char out[PATH_MAX], want[PATH_MAX + 64], err[512], d[PATH_MAX];

	/* relative prefix: inside the root */
	assert_int_equal(dump("root", "sub/cap", out, err), 0);
	snprintf(want, sizeof(want), "%s/root/sub/cap", tmpdir);
	assert_string_equal(out, want);
	/* absolute prefix inside the root */
	snprintf(d, sizeof(d), "%s/root/cap", tmpdir);
	assert_int_equal(dump("root", d, out, err), 0);
	assert_string_equal(out, d);
	/* `..` is refused even when it would stay inside */
	assert_int_equal(dump("root", "sub/../cap", out, err), -EINVAL);
	assert_non_null(strstr(err, ".."));
	assert_int_equal(dump("root", "../outside/cap", out, err), -EINVAL);
	/* outside the root, directly and through a symlink */
	snprintf(d, sizeof(d), "%s/outside/cap", tmpdir);
	assert_int_equal(dump("root", d, out, err), -EPERM);
	assert_non_null(strstr(err, "outside the dump root"));
	assert_int_equal(dump("root", "escape/cap", out, err), -EPERM);
	/* a missing folder, a file as folder, a folder as prefix */
	assert_int_equal(dump("root", "nope/cap", out, err), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(dump("root", "afile/cap", out, err), -ENOTDIR);
	assert_int_equal(dump("root", "sub/", out, err), -EINVAL);
	/* an existing folder without the slash: it would write "sub.pcap" */
	assert_int_equal(dump("root", "sub", out, err), -EISDIR);
	assert_non_null(strstr(err, "is a folder"));
	/* without a root: anywhere that exists, `..` allowed */
	assert_int_equal(dump(NULL, d, out, err), 0);
	snprintf(d, sizeof(d), "%s/root/../outside/cap", tmpdir);
	assert_int_equal(dump(NULL, d, out, err), 0);
	snprintf(want, sizeof(want), "%s/outside/cap", tmpdir);
	assert_string_equal(out, want);
	assert_int_equal(dump(NULL, "/no/such/folder/cap", out, err), -ENOENT);
}

static void names_checked(void **state)
{
	char long_name[CAP_NAME_MAX + 1];

	assert_true(cap_name_ok("eth1"));
	assert_true(cap_name_ok("a.b_c-9"));
	assert_false(cap_name_ok(""));
	assert_false(cap_name_ok(".hidden"));
	assert_false(cap_name_ok("a/b"));
	assert_false(cap_name_ok("a b"));
	assert_false(cap_name_ok("a\nb"));
	memset(long_name, 'x', CAP_NAME_MAX);
	long_name[CAP_NAME_MAX] = '\0';
	assert_false(cap_name_ok(long_name));
	long_name[CAP_NAME_MAX - 1] = '\0';
	assert_true(cap_name_ok(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(dump_paths_checked, make_tree, remove_tree),
		cmocka_unit_test(names_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
