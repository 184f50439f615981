/* SPDX-License-Identifier: BSD-2-Clause */
/* writer: rotation, retention, listing. Usage: test_wr_rotate [TEST-NAME-PATTERN] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/writer/wr_test_util.h"

#define MAXREC_FILE (16u + T_SNAPLEN) /* one record at most */

struct fx {
	char *dir;
	char *prefix;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = t_tmpdir();
	f->prefix = t_path(f->dir, "cap");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_rmdir(f->dir);
	free(f->prefix);
	free(f);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *file_path(const struct fx *f, const struct wr_file_info *fi)
{
	return t_path(f->dir, fi->name);
}

/* Every file: a valid pcap (libpcap, tcpdump, capinfos), its records those
 * of t_make in put order, continuing the previous file's; the listing's
 * counts and times right. Returns the next id expected. */
static uint64_t check_files_b(const struct fx *f, const char *base,
			      const struct wr_file_info *v, size_t n, uint64_t next, bool tools)
{
	struct t_seen *seen = calloc(200000, sizeof(*seen));
	uint32_t prev_seq = 0;

	for (size_t i = 0; i < n; i++) {
		char *p = file_path(f, &v[i]);
		long k = t_read_check(p, T_SNAPLEN, seen, 200000);
		struct stat st;
		struct t_rec t;

		assert_true(k >= 0);
		assert_int_equal((uint64_t)k, v[i].records);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal((uint64_t)st.st_size, v[i].bytes);
		assert_int_equal(st.st_mode & 07777, 0600);
		/* names start with the prefix, sort by sequence, end in .pcap */
		assert_int_equal(strncmp(v[i].name, base, strlen(base)), 0);
		assert_non_null(strstr(v[i].name, ".pcap"));
		assert_int_equal(strcmp(strstr(v[i].name, ".pcap"), ".pcap"), 0);
		assert_true(v[i].seq > prev_seq);
		if (i)
			assert_true(strcmp(v[i - 1].name, v[i].name) < 0);
		prev_seq = v[i].seq;
		for (long j = 0; j < k; j++)
			assert_int_equal(seen[j].id, next + (uint64_t)j);
		if (k) {
			t_make(&t, 1, next, T_SNAPLEN);
			assert_int_equal(v[i].first_ns, t.r.ts_ns);
			t_make(&t, 1, next + (uint64_t)k - 1, T_SNAPLEN);
			assert_int_equal(v[i].last_ns, t.r.ts_ns);
		}
		next += (uint64_t)k;
		if (tools)
			assert_int_equal(t_sh("test \"$(capinfos -c -M -T -r %s | cut -f2)\" = %ld && "
					      "tcpdump -r %s >/dev/null 2>&1", p, k, p), 0);
		free(p);
	}
	free(seen);
	return next;
}

static uint64_t check_files(const struct fx *f, const struct wr_file_info *v, size_t n,
			    uint64_t next, bool tools)
{
	return check_files_b(f, "cap-", v, n, next, tools);
}

static struct wr_writer *open_rot(const char *prefix, uint64_t bytes, uint32_t secs,
				  uint64_t retain_bytes, uint32_t retain_files)
{
	struct wr_opts o = {
		.prefix = prefix, .snaplen = T_SNAPLEN, .buf_size = 16384, .nbufs = 16,
		.rotate_bytes = bytes, .rotate_seconds = secs,
		.retain_bytes = retain_bytes, .retain_files = retain_files,
		.file_gid = (gid_t)-1,
	};
	struct wr_writer *w = NULL;

	assert_int_equal(wr_open(&o, &w), 0);
	return w;
}

struct prod {
	struct wr_writer *w;
	uint32_t p;
	uint64_t n;
};

static void *producer(void *arg)
{
	struct prod *pr = arg;
	struct wr_stream *s;

	assert_int_equal(wr_stream_new(pr->w, &s), 0);
	for (uint64_t id = 0; id < pr->n; id += 50) {
		t_put_all(s, pr->p, id, 50, T_SNAPLEN);
		if (id % 500 == 0)
			sleep_ms(1); /* now and then idle: aged peeks too */
	}
	wr_stream_free(s);
	return NULL;
}

/* Four producer threads, small buffers, aged peeks (flush_ms 3) and size
 * rotation: every record once, each producer's in order across the files,
 * each file within rotate_bytes plus one record. A buffer whose records
 * were all peeked, handed over while a peek of it still waits behind a
 * rotation, must not be reused before that peek is written (it was: one
 * run in about 20 had another life's bytes in a file); several rounds. */
static void four_producers_round(struct fx *f, const char *prefix)
{
	const uint64_t per = 3000, rot = 150000;
	struct wr_opts o = {
		.prefix = prefix, .snaplen = T_SNAPLEN, .buf_size = 16384, .nbufs = 16,
		.flush_ms = 3, .rotate_bytes = rot, .file_gid = (gid_t)-1,
	};
	struct t_seen *seen = calloc(4 * per, sizeof(*seen));
	uint64_t next[4] = { 0 }, total = 0;
	struct wr_file_info *v;
	struct wr_writer *w;
	struct prod pr[4];
	pthread_t th[4];
	size_t k;

	assert_int_equal(wr_open(&o, &w), 0);
	for (int i = 0; i < 4; i++) {
		pr[i] = (struct prod){ w, (uint32_t)i, per };
		pthread_create(&th[i], NULL, producer, &pr[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(prefix, &v, &k), 0);
	assert_true(k > 20);
	for (size_t i = 0; i < k; i++) {
		char *p = file_path(f, &v[i]);
		long n = t_read_check(p, T_SNAPLEN, seen, 4 * per);

		assert_true(n >= 0);
		assert_true(v[i].bytes <= rot + MAXREC_FILE);
		for (long j = 0; j < n; j++) {
			assert_true(seen[j].p < 4);
			assert_int_equal(seen[j].id, next[seen[j].p]);
			next[seen[j].p]++;
		}
		total += (uint64_t)n;
		free(p);
	}
	assert_int_equal(total, 4 * per);
	for (int i = 0; i < 4; i++)
		assert_int_equal(next[i], per);
	free(v);
	free(seen);
}

static void rotate_by_size_four_producers(void **state)
{
	struct fx *f = *state;

	for (int r = 0; r < 6; r++) {
		char *prefix;

		assert_true(asprintf(&prefix, "%s%d-", f->prefix, r) > 0);
		four_producers_round(f, prefix);
		free(prefix);
	}
}

/* The same through O_DIRECT and the pwrite backend: every new file gets
 * its own direct descriptor and tail block. */
static void rotate_by_size_direct_pwrite(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 3000, rot = 70000;
	struct wr_opts o = {
		.prefix = f->prefix, .snaplen = T_SNAPLEN, .buf_size = 12288, .nbufs = 8,
		.rotate_bytes = rot, .backend = WR_BACKEND_PWRITE, .direct = WR_DIRECT_ON,
		.file_gid = (gid_t)-1,
	};
	struct wr_file_info *v;
	struct wr_writer *w;
	struct wr_stream *s;
	size_t k;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, n, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_true(k > 10);
	assert_int_equal(check_files(f, v, k, 0, false), n);
	for (size_t i = 0; i < k; i++)
		assert_true(v[i].bytes <= rot + MAXREC_FILE);
	free(v);
}

/* A new prefix (wr_reopen) seals the open file and starts the new
 * prefix's series; network mode on and off continues the sequence. No
 * record lost or written twice. */
static void reopen_and_network_mode_continue(void **state)
{
	struct fx *f = *state;
	char *other = t_path(f->dir, "other");
	struct wr_writer *w = open_rot(f->prefix, 50000, 0, 0, 0);
	struct wr_file_info *v;
	struct wr_stream *s;
	struct wr_sub *sub;
	uint8_t buf[1 << 16];
	uint64_t next;
	size_t k;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, 300, T_SNAPLEN);
	assert_int_equal(wr_reopen(w, other), 0);
	assert_string_equal(wr_path(w), other);
	t_put_all(s, 1, 300, 300, T_SNAPLEN);
	assert_int_equal(wr_reopen(w, f->prefix), 0);
	t_put_all(s, 1, 600, 100, T_SNAPLEN);
	assert_int_equal(wr_subscribe(w, &sub), 0);
	assert_int_equal(wr_set_network(w, true), 0);
	t_put_all(s, 1, 700, 5, T_SNAPLEN);
	wr_stream_flush(s, true);
	ssize_t got = 0;

	for (int i = 0; i < 20 && got <= 24; i++) {
		ssize_t r = wr_sub_read(sub, buf, sizeof(buf), 200);

		assert_true(r >= 0);
		got += r;
	}
	assert_true(got > 24); /* the 5 records went to the network */
	wr_unsubscribe(sub);
	assert_int_equal(wr_set_network(w, false), 0);
	t_put_all(s, 1, 705, 295, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);

	/* prefix "cap": records 0..299, then (a second run of the series,
	 * numbers continued) 600..699, then 705..999 */
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	next = 0;
	size_t i = 0;

	for (; i < k && next < 300; i++)
		next = check_files(f, v + i, 1, next, false);
	assert_int_equal(next, 300);
	uint32_t seq = v[i - 1].seq;

	for (; i < k && next < 700; i++) {
		assert_true(v[i].seq > seq);
		seq = v[i].seq;
		next = check_files(f, v + i, 1, next == 300 ? 600 : next, false);
	}
	assert_int_equal(next, 700);
	for (; i < k; i++) {
		assert_true(v[i].seq > seq);
		seq = v[i].seq;
		next = check_files(f, v + i, 1, next == 700 ? 705 : next, false);
	}
	assert_int_equal(next, 1000);
	free(v);
	/* prefix "other": 300..599 */
	assert_int_equal(wr_scan_prefix(other, &v, &k), 0);
	assert_true(k > 0);
	for (i = 0; i < k; i++)
		assert_int_equal(strncmp(v[i].name, "other-", 6), 0);
	assert_int_equal(check_files_b(f, "other-", v, k, 300, false), 600);
	free(v);
	free(other);
}

/* Size rotation over a known number of records: none lost, none twice, in
 * order across the files; each file at most rotate_bytes plus one record
 * (and below rotate_bytes without its last record); every file read by
 * libpcap, tcpdump and capinfos; the listing right while writing too. */
static void rotate_by_size(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 6000, rot = 100000;
	struct wr_writer *w = open_rot(f->prefix, rot, 0, 0, 0);
	struct wr_file_info *v;
	struct wr_stream *s;
	size_t k;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, n / 2, T_SNAPLEN);
	assert_int_equal(wr_stream_flush(s, true), 0);
	assert_true(t_wait_records(w, n / 2, 5000));
	/* live: every file but the last sealed, all readable */
	assert_int_equal(wr_list_files(w, &v, &k), 0);
	assert_true(k > 5);
	for (size_t i = 0; i < k; i++)
		assert_int_equal(v[i].sealed, i + 1 < k);
	assert_int_equal(check_files(f, v, k, 0, false), n / 2);
	free(v);
	t_put_all(s, 1, n / 2, n - n / 2, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);

	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_true(k > 10);
	assert_int_equal(check_files(f, v, k, 0, true), n);
	for (size_t i = 0; i < k; i++) {
		assert_int_equal(v[i].seq, i + 1);
		assert_true(v[i].bytes <= rot + MAXREC_FILE);
		if (i + 1 < k) /* it ended with the record that reached rot */
			assert_true(v[i].bytes >= rot);
	}
	free(v);
}

/* Time rotation with injected timestamps (t_make: 1.23 ms apart, from
 * 2023-11-14T22:13:20Z): every file's records lie in one window aligned to
 * a multiple of 2 s since the epoch, and every window's records are in one
 * file. */
static void rotate_by_time(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 9000, period = 2000000000ull;
	struct wr_writer *w = open_rot(f->prefix, 0, 2, 0, 0);
	struct wr_file_info *v;
	struct wr_stream *s;
	uint64_t prev_win = 0;
	size_t k;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, n, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	/* 9000 x 1.23 ms = 11.1 s: 6 or 7 windows (the writer may seal an
	 * idle file of a long-past window early: then more files) */
	assert_true(k >= 6);
	assert_int_equal(check_files(f, v, k, 0, true), n);
	for (size_t i = 0; i < k; i++) {
		uint64_t win = v[i].first_ns / period;

		assert_true(v[i].records > 0);
		assert_int_equal(v[i].last_ns / period, win);
		assert_true(win >= prev_win);
		prev_win = win;
	}
	free(v);
}

/* Two streams crossing a window boundary at different moments: the one
 * behind still holds records of the old window when the other starts the
 * new file. They are gathered into the old file first, so every file still
 * holds one window only, and each stream's records stay in order. */
static void rotate_by_time_two_streams(void **state)
{
	struct fx *f = *state;
	const uint64_t period = 2000000000ull;
	/* no aged flush during the test: only the gathering can take b's
	 * records before the new file starts */
	struct wr_opts o = { .prefix = f->prefix, .snaplen = T_SNAPLEN, .rotate_seconds = 2,
			     .flush_ms = 20000, .file_gid = (gid_t)-1 };
	struct t_seen *seen = calloc(10000, sizeof(*seen));
	struct wr_writer *w;
	uint64_t last[3] = { 0 }, total = 0;
	struct wr_file_info *v;
	struct wr_stream *a, *b;
	size_t k;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_stream_new(w, &a), 0);
	assert_int_equal(wr_stream_new(w, &b), 0);
	/* ids up to 1620 lie in the first 2-s window, from 1621 in the next:
	 * b holds old-window records in its buffer while a starts the new
	 * window */
	t_put_all(a, 1, 0, 1000, T_SNAPLEN);
	t_put_all(b, 2, 0, 1621, T_SNAPLEN);
	t_put_all(a, 1, 1000, 2000, T_SNAPLEN);
	assert_int_equal(wr_stream_flush(a, true), 0);
	assert_true(t_wait_records(w, 3000 + 1621, 5000)); /* b's gathered */
	t_put_all(b, 2, 1621, 1379, T_SNAPLEN);
	wr_stream_free(a);
	wr_stream_free(b);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_true(k >= 2);
	for (size_t i = 0; i < k; i++) {
		char *p = file_path(f, &v[i]);
		long n = t_read_check(p, T_SNAPLEN, seen, 10000);
		uint64_t win = v[i].first_ns / period;

		assert_true(n > 0);
		for (long j = 0; j < n; j++) {
			struct t_rec t;

			t_make(&t, seen[j].p, seen[j].id, T_SNAPLEN);
			assert_int_equal(t.r.ts_ns / period, win);
			/* each stream's records in order, none twice */
			assert_true(seen[j].id + 1 > last[seen[j].p]);
			last[seen[j].p] = seen[j].id + 1;
		}
		total += (uint64_t)n;
		free(p);
	}
	assert_int_equal(total, 6000);
	free(v);
	free(seen);
}

/* Both: whichever comes first. */
static void rotate_by_size_and_time(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 6000, period = 2000000000ull, rot = 400000;
	struct wr_writer *w = open_rot(f->prefix, rot, 2, 0, 0);
	struct wr_file_info *v;
	struct wr_stream *s;
	size_t k;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, n, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_int_equal(check_files(f, v, k, 0, false), n);
	bool by_size = false, by_time = false;

	for (size_t i = 0; i < k; i++) {
		assert_int_equal(v[i].last_ns / period, v[i].first_ns / period);
		assert_true(v[i].bytes <= rot + MAXREC_FILE);
		if (i + 1 < k) {
			by_size |= v[i].bytes >= rot;
			by_time |= v[i].bytes < rot;
		}
	}
	assert_true(by_size && by_time);
	free(v);
}

static uint64_t sum_bytes(const struct wr_file_info *v, size_t k)
{
	uint64_t b = 0;

	for (size_t i = 0; i < k; i++)
		b += v[i].bytes;
	return b;
}

/* Retention by bytes: the oldest sealed files go; the total never exceeds
 * the budget plus one file. A second writer on the same prefix counts the
 * files already there, continues the sequence (no name reused) and keeps
 * the budget. */
static void retention_by_bytes_then_reopen(void **state)
{
	struct fx *f = *state;
	const uint64_t rot = 50000, budget = 200000;
	struct wr_writer *w = open_rot(f->prefix, rot, 0, budget, 0);
	struct wr_file_info *v;
	struct wr_stream *s;
	struct wr_stats st;
	uint32_t last_seq;
	size_t k;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 4000; id += 100) {
		t_put_all(s, 1, id, 100, T_SNAPLEN);
		wr_stream_flush(s, true);
		assert_true(t_wait_records(w, id + 100, 5000));
		assert_int_equal(wr_get_stats(w, &st), 0);
		/* the file being written may pass the budget by itself */
		assert_true(st.bytes_kept <= budget + rot + MAXREC_FILE);
	}
	wr_stream_free(s);
	assert_int_equal(wr_get_stats(w, &st), 0);
	assert_true(st.files_deleted > 5);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_true(sum_bytes(v, k) <= budget + rot + MAXREC_FILE);
	assert_int_equal(v[0].seq, st.files_deleted + 1); /* the oldest went */
	/* what is left is the newest records, complete and in order */
	{
		struct t_seen seen[1];
		char *p = file_path(f, &v[0]);

		assert_true(t_read_check(p, T_SNAPLEN, seen, 1) > 0);
		free(p);
		assert_int_equal(check_files(f, v, k, seen[0].id, false), 4000);
	}
	last_seq = v[k - 1].seq;
	free(v);

	/* restart with the same prefix and more records */
	w = open_rot(f->prefix, rot, 0, budget, 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 2000; id += 100) {
		t_put_all(s, 1, id, 100, T_SNAPLEN);
		wr_stream_flush(s, true);
		assert_true(t_wait_records(w, id + 100, 5000));
		assert_int_equal(wr_get_stats(w, &st), 0);
		assert_true(st.bytes_kept <= budget + rot + MAXREC_FILE);
	}
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_true(sum_bytes(v, k) <= budget + rot + MAXREC_FILE);
	/* the first run's files were counted and deleted first */
	assert_true(v[0].seq > last_seq);
	for (size_t i = 0; i < k; i++) {
		assert_true(v[i].seq > last_seq); /* no name reused */
		assert_true(i == 0 || v[i].seq == v[i - 1].seq + 1);
	}
	free(v);
}

/* A file retention deletes takes its index (NAME.idx) with it; the kept
 * files' indexes stay. */
static void retention_deletes_index_beside(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_rot(f->prefix, 50000, 0, 0, 3);
	struct wr_file_info *v;
	struct wr_stream *s;
	struct stat sb;
	size_t k;
	char *p, *first = NULL;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 3000; id += 100) {
		t_put_all(s, 1, id, 100, T_SNAPLEN);
		wr_stream_flush(s, true);
		assert_true(t_wait_records(w, id + 100, 5000));
		/* an index beside every file the listing shows sealed */
		assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
		for (size_t i = 0; i < k; i++) {
			if (!v[i].sealed)
				continue;
			assert_true(asprintf(&p, "%s/%s.idx", f->dir, v[i].name) > 0);
			close(open(p, O_WRONLY | O_CREAT, 0600));
			if (!first)
				first = strdup(p);
			free(p);
		}
		free(v);
	}
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_non_null(first);
	assert_int_equal(stat(first, &sb), -1); /* the first file went, with it its index */
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_int_equal(k, 3);
	for (size_t i = 0; i < k; i++) {
		if (!v[i].sealed || i == k - 1)
			continue;
		assert_true(asprintf(&p, "%s/%s.idx", f->dir, v[i].name) > 0);
		assert_int_equal(stat(p, &sb), 0); /* a kept file's index stays */
		free(p);
	}
	free(v);
	free(first);
}

/* Retention by number of files; the files found at wr_open count. */
static void retention_by_files_counts_existing(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_rot(f->prefix, 30000, 0, 0, 0);
	struct wr_file_info *v;
	struct wr_stream *s;
	struct wr_stats st;
	size_t k;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, 1000, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_true(k > 10);
	free(v);
	/* a writer keeping 3 files trims the folder without a record put */
	w = open_rot(f->prefix, 30000, 0, 0, 3);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(wr_get_stats(w, &st), 0);
		if (st.files <= 3)
			break;
		sleep_ms(10);
	}
	assert_int_equal(st.files, 3);
	assert_int_equal(st.files_deleted, k + 1 - 3);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_int_equal(k, 3);
	free(v);
}

/* Rotation options are checked; without them a prefix gives PREFIX.pcap. */
static void options_checked_and_plain_prefix(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .prefix = f->prefix, .snaplen = T_SNAPLEN, .retain_files = 3 };
	struct wr_writer *w = NULL;
	struct wr_file_info *v;
	struct wr_stream *s;
	size_t k;

	assert_int_equal(wr_open(&o, &w), -EINVAL); /* retention without rotation */
	o.retain_files = 0;
	o.rotate_bytes = 1000;
	o.prefix = NULL;
	assert_int_equal(wr_open(&o, &w), -EINVAL); /* rotation without prefix */
	o.prefix = f->dir;
	char *slash;

	assert_true(asprintf(&slash, "%s/", f->dir) > 0);
	o.prefix = slash;
	assert_int_equal(wr_open(&o, &w), -EISDIR);
	free(slash);
	o.prefix = "/nonexistent-wr/cap";
	assert_int_equal(wr_open(&o, &w), -ENOENT);
	o.prefix = f->prefix;
	o.rotate_bytes = 0;
	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, 10, T_SNAPLEN);
	wr_stream_free(s);
	assert_true(t_wait_records(w, 10, 5000));
	assert_int_equal(wr_list_files(w, &v, &k), 0);
	assert_int_equal(k, 1);
	assert_string_equal(v[0].name, "cap.pcap");
	assert_int_equal(v[0].records, 10);
	assert_false(v[0].sealed);
	free(v);
	/* listed again after more records: the walk goes on where it was */
	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 10, 15, T_SNAPLEN);
	wr_stream_free(s);
	assert_true(t_wait_records(w, 25, 5000));
	assert_int_equal(wr_list_files(w, &v, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(v[0].records, 25);
	{
		struct t_rec t0, t1;
		struct stat sb;
		char *p = t_path(f->dir, "cap.pcap");

		t_make(&t0, 1, 0, T_SNAPLEN);
		t_make(&t1, 1, 24, T_SNAPLEN);
		assert_int_equal(v[0].first_ns, t0.r.ts_ns);
		assert_int_equal(v[0].last_ns, t1.r.ts_ns);
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(v[0].bytes, (uint64_t)sb.st_size);
		free(p);
	}
	free(v);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_sh("test \"$(ls %s)\" = cap.pcap", f->dir), 0);
}

/* A link planted under the next file name is neither followed nor
 * replaced: the sequence skips it. */
static void planted_link_in_sequence_skipped(void **state)
{
	struct fx *f = *state;
	char *outside = t_tmpdir();
	char *target = t_path(outside, "precious");
	char *link = t_path(f->dir, "cap-00000002-20240101T000000.000000000Z.pcap");
	struct wr_writer *w;
	struct wr_file_info *v;
	struct wr_stream *s;
	struct stat sb;
	size_t k;

	assert_int_equal(t_sh("echo precious >%s", target), 0);
	assert_int_equal(symlink(target, link), 0);
	w = open_rot(f->prefix, 20000, 0, 0, 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, 200, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_sh("test \"$(cat %s)\" = precious", target), 0);
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_int_equal(check_files(f, v, k, 0, false), 200);
	for (size_t i = 0; i < k; i++)
		assert_true(v[i].seq != 2);
	free(v);
	unlink(link);
	free(link);
	free(target);
	t_rmdir(outside);
}

/* An idle file is sealed once its window is over by the wall clock, without
 * any further record. */
static void idle_file_sealed_by_wall_clock(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = {
		.prefix = f->prefix, .snaplen = T_SNAPLEN, .rotate_seconds = 1,
		.flush_ms = 50, .file_gid = (gid_t)-1,
	};
	struct wr_writer *w;
	struct wr_file_info *v;
	struct wr_stream *s;
	struct wr_stats st = { 0 };
	struct timespec now;
	struct t_rec t;
	size_t k;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	clock_gettime(CLOCK_REALTIME, &now);
	t_make(&t, 1, 0, T_SNAPLEN);
	t.r.ts_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	assert_int_equal(wr_put(s, &t.r), 0);
	wr_stream_flush(s, true);
	for (int i = 0; i < 500 && !st.files_sealed; i++) {
		sleep_ms(10);
		wr_get_stats(w, &st);
	}
	assert_int_equal(st.files_sealed, 1);
	assert_int_equal(wr_list_files(w, &v, &k), 0);
	assert_int_equal(k, 1);
	assert_true(v[0].sealed);
	assert_int_equal(v[0].records, 1);
	free(v);
	/* the next record opens the next file */
	t.r.ts_ns += 3000000000ull;
	assert_int_equal(wr_put(s, &t.r), 0);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
	assert_int_equal(k, 2);
	assert_int_equal(v[1].records, 1);
	assert_int_equal(v[1].seq, 2);
	free(v);
}

/* Child: rotates as fast as it can until it is killed. */
static void crash_child(const char *prefix, uint64_t first)
{
	struct wr_opts o = { .prefix = prefix, .snaplen = T_SNAPLEN, .rotate_bytes = 60000,
			     .buf_size = 32768, .file_gid = (gid_t)-1 };
	struct wr_writer *w;
	struct wr_stream *s;

	if (wr_open(&o, &w) || wr_stream_new(w, &s))
		_exit(1);
	for (uint64_t id = first;; id += 100)
		t_put_all(s, 1, id, 100, T_SNAPLEN);
}

/* SIGKILL while rotating: every file is complete records (tcpdump,
 * capinfos), the records are contiguous across files, and the next writer
 * continues the sequence. */
static void sigkill_during_rotation(void **state)
{
	struct fx *f = *state;
	uint64_t next = 0;
	uint32_t last_seq = 0;

	for (int round = 0; round < 5; round++) {
		struct wr_file_info *v;
		size_t k, from = 0;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(f->prefix, next);
		sleep_ms(120 + round * 41);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* the guardian repairs the open file: wait until every file
		 * reads complete (2 s at most) */
		for (int i = 0; i < 100; i++) {
			bool ok = true;

			sleep_ms(20);
			assert_int_equal(wr_scan_prefix(f->prefix, &v, &k), 0);
			for (size_t j = 0; j < k && ok; j++) {
				char *p = file_path(f, &v[j]);

				ok = t_read_check(p, T_SNAPLEN, NULL, 0) >= 0;
				free(p);
			}
			if (ok)
				break;
			free(v);
			v = NULL;
		}
		assert_non_null(v);
		while (from < k && v[from].seq <= last_seq)
			from++;
		assert_true(from < k);
		/* this run's first file continues the sequence */
		assert_int_equal(v[from].seq, last_seq + 1);
		next = check_files(f, v + from, k - from, next, round == 0);
		last_seq = v[k - 1].seq;
		free(v);
	}
	assert_true(next > 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(rotate_by_size),
		T(rotate_by_size_four_producers),
		T(rotate_by_size_direct_pwrite),
		T(reopen_and_network_mode_continue),
		T(rotate_by_time),
		T(rotate_by_time_two_streams),
		T(rotate_by_size_and_time),
		T(retention_by_bytes_then_reopen),
		T(retention_deletes_index_beside),
		T(retention_by_files_counts_existing),
		T(options_checked_and_plain_prefix),
		T(planted_link_in_sequence_skipped),
		T(idle_file_sealed_by_wall_clock),
		T(sigkill_during_rotation),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
