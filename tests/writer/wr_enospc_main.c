/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fills a small file system (run by wr_enospc.sh inside a private tmpfs of
 * 1 MiB): usage: wr_enospc_main PATH uring|pwrite on|off
 * Checks: close reports ENOSPC, the lost records are counted, every record
 * is either in the file or counted, and the file is valid pcap of exactly
 * the records that fit.
 *   wr_enospc_main PATH open-fails
 * Checks that wr_open on the full file system fails with -ENOSPC (the
 * script checks the existing file at PATH is unchanged).
 *   wr_enospc_main PREFIX min-free
 * Rotation with min_free_pct 50 on a 4 MiB file system, 3 MB of records:
 * retention keeps half of it free (plus the open file), nothing is lost.
 */
#include <sys/statfs.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/writer/wr_test_util.h"

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); return 1; } while (0)

int main(int argc, char **argv)
{
	const uint64_t n = 3000; /* ~3 MB of records into 1 MiB */
	struct wr_opts o = { .snaplen = T_SNAPLEN, .buf_size = 256 * 1024 };
	struct timespec ts = { 0, 1000000 };
	struct wr_writer *w;
	struct wr_stream *s;
	struct wr_stats st;
	long inf;
	int ret;

	if (argc == 3 && !strcmp(argv[2], "open-fails")) {
		o.path = argv[1];
		ret = wr_open(&o, &w);
		if (ret != -ENOSPC)
			FAIL("wr_open on a full file system returned %d, want -ENOSPC\n", ret);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[2], "min-free")) {
		struct statfs sf;
		double free_pct;

		o.prefix = argv[1];
		o.rotate_bytes = 100000;
		o.min_free_pct = 50;
		o.file_gid = (gid_t)-1;
		ret = wr_open(&o, &w);
		if (ret)
			FAIL("wr_open: %s\n", strerror(-ret));
		if (wr_stream_new(w, &s))
			FAIL("wr_stream_new\n");
		t_put_all(s, 9, 0, n, T_SNAPLEN);
		wr_stream_free(s);
		if (!t_wait_records(w, n, 10000))
			FAIL("not all records written\n");
		wr_get_stats(w, &st);
		ret = wr_close(w);
		if (statfs(argv[1], &sf) && statfs(".", &sf))
			FAIL("statfs\n");
		free_pct = 100.0 * (double)sf.f_bavail / (double)sf.f_blocks;
		printf("min-free: close %d records %lu errors %lu deleted %lu files %lu free %.1f%%\n",
		       ret, (unsigned long)st.records, (unsigned long)st.write_errors,
		       (unsigned long)st.files_deleted, (unsigned long)st.files, free_pct);
		if (ret || st.write_errors || st.records != n)
			FAIL("records lost\n");
		if (!st.files_deleted)
			FAIL("nothing deleted\n");
		/* half free, but for the open file (100 kB + a record of 4 MiB) */
		if (free_pct < 50.0 - 100.0 * 102500 / (4 << 20) - 0.5)
			FAIL("only %.1f%% free\n", free_pct);
		return 0;
	}
	if (argc != 4)
		FAIL("usage: %s PATH uring|pwrite on|off\n", argv[0]);
	o.path = argv[1];
	o.backend = strcmp(argv[2], "pwrite") ? WR_BACKEND_URING : WR_BACKEND_PWRITE;
	o.direct = strcmp(argv[3], "on") ? WR_DIRECT_OFF : WR_DIRECT_ON;
	ret = wr_open(&o, &w);
	if (ret)
		FAIL("wr_open: %s\n", strerror(-ret));
	if (wr_stream_new(w, &s))
		FAIL("wr_stream_new\n");
	t_put_all(s, 9, 0, n, T_SNAPLEN);
	wr_stream_free(s);
	for (int i = 0; i < 10000; i++) {
		wr_get_stats(w, &st);
		if (st.records + st.write_errors >= n)
			break;
		nanosleep(&ts, NULL);
	}
	ret = wr_close(w);
	printf("%s %s: close %d records %lu write_errors %lu writes %lu\n", argv[2], argv[3],
	       ret, (unsigned long)st.records, (unsigned long)st.write_errors,
	       (unsigned long)st.writes);
	if (ret != -ENOSPC)
		FAIL("wr_close returned %d, want -ENOSPC\n", ret);
	if (st.records + st.write_errors != n)
		FAIL("records %lu + errors %lu != %lu put\n", (unsigned long)st.records,
		     (unsigned long)st.write_errors, (unsigned long)n);
	if (!st.write_errors || st.records < 100)
		FAIL("expected some records written and some lost\n");
	/* the stats name the reason of the loss */
	if (st.first_error != -ENOSPC)
		FAIL("stats first_error %d, want -ENOSPC\n", st.first_error);
	inf = t_read_check(o.path, T_SNAPLEN, NULL, 0);
	if (inf != (long)st.records)
		FAIL("file holds %ld records, stats say %lu\n", inf, (unsigned long)st.records);
	return 0;
}
