/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The writer's retention with an archive (wr_opts.may_delete, the
 * predicate start.c answers with ar_is_archived): retain_files skips files
 * not allowed and takes them once allowed; min_free_pct takes the oldest
 * whatever the predicate says and counts it; keep_archived_bytes 0 keeps
 * no allowed file but the open one. In a 4 MiB tmpfs of a private mount
 * namespace (root). Usage: test_ar_retain
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "tests/writer/wr_test_util.h"

static _Atomic bool allow;
static _Atomic unsigned int asked;
static char dir[64];

static bool may_delete(void *arg, const char *path)
{
	/* the path is the prefix's folder and the file's name */
	assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
	assert_non_null(strstr(path, "/cap-"));
	atomic_fetch_add(&asked, 1);
	return atomic_load(&allow);
}

static struct wr_writer *open_w(const char *prefix, uint32_t retain_files, uint32_t min_free,
				bool keep)
{
	struct wr_opts o = {
		.prefix = prefix, .snaplen = T_SNAPLEN, .buf_size = 16384, .nbufs = 16,
		.flush_ms = 20, .rotate_bytes = 65536, .retain_files = retain_files,
		.min_free_pct = min_free, .may_delete = may_delete, .keep_archived = keep,
		.file_gid = (gid_t)-1,
	};
	struct wr_writer *w = NULL;

	assert_int_equal(wr_open(&o, &w), 0);
	return w;
}

static void put(struct wr_writer *w, uint64_t first, uint64_t n)
{
	struct wr_stream *s;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = first; id < first + n; id += 20) {
		t_put_all(s, 1, id, 20, T_SNAPLEN);
		usleep(2000);
	}
	wr_stream_free(s);
}

static void stats(struct wr_writer *w, struct wr_stats *st)
{
	assert_int_equal(wr_get_stats(w, st), 0);
}

/* Waits up to 5 s for the writer's files to be at most n. */
static void wait_files(struct wr_writer *w, uint64_t n)
{
	struct wr_stats st;

	for (int i = 0; i < 250; i++) {
		stats(w, &st);
		if (st.files <= n)
			return;
		usleep(20000);
	}
	fail_msg("%llu files, want at most %llu", (unsigned long long)st.files,
		 (unsigned long long)n);
}

static void retention_asks_archive(void **state)
{
	char prefix[96];
	struct wr_writer *w;
	struct wr_stats st;

	assert_int_equal(unshare(CLONE_NEWNS), 0);
	assert_int_equal(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(dir, sizeof(dir), "/tmp/test_ar_retain.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mount("ar-retain", dir, "tmpfs", 0, "size=4m"), 0);
	snprintf(prefix, sizeof(prefix), "%s/cap", dir);

	/* nothing archived: retain_files 2 deletes nothing */
	w = open_w(prefix, 2, 0, false);
	put(w, 0, 600); /* ~1.2 MB: about 19 files */
	usleep(500000);
	stats(w, &st);
	assert_true(st.files >= 8);
	assert_int_equal(st.files_deleted, 0);
	assert_true(atomic_load(&asked) > 0);
	/* archived: down to 2 */
	atomic_store(&allow, true);
	wait_files(w, 2);
	stats(w, &st);
	assert_true(st.files_deleted >= 6);
	assert_int_equal(st.files_deleted_unarchived, 0);
	assert_int_equal(wr_close(w), 0);

	/* min_free: the oldest go, archived or not, counted */
	atomic_store(&allow, false);
	w = open_w(prefix, 0, 90, false); /* at most ~400 KiB of 4 MiB used */
	put(w, 600, 600);
	wait_files(w, 8);
	stats(w, &st);
	assert_true(st.files_deleted > 0);
	assert_int_equal(st.files_deleted_unarchived, st.files_deleted);
	assert_int_equal(wr_close(w), 0);

	/* keep_archived_bytes 0: every archived file goes, the open one stays */
	atomic_store(&allow, true);
	w = open_w(prefix, 0, 0, true);
	put(w, 1200, 300);
	wait_files(w, 1);
	stats(w, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.files_deleted_unarchived, 0);
	assert_int_equal(wr_close(w), 0);

	umount(dir);
	rmdir(dir);
}

static void keep_archived_needs_may_delete(void **state)
{
	struct wr_opts o = { .prefix = "/tmp/x", .snaplen = T_SNAPLEN, .rotate_bytes = 65536,
			     .keep_archived = true, .file_gid = (gid_t)-1 };
	struct wr_writer *w = NULL;

	assert_int_equal(wr_open(&o, &w), -EINVAL);
	o.rotate_bytes = 0;
	o.prefix = NULL;
	o.path = "/tmp/x.pcap";
	o.may_delete = may_delete;
	assert_int_equal(wr_open(&o, &w), -EINVAL); /* without rotation */
	assert_null(w);
}

#define T(f) cmocka_unit_test(f)
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { T(retention_asks_archive),
					    T(keep_archived_needs_may_delete) };

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
