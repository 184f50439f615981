/* SPDX-License-Identifier: BSD-2-Clause */
/* writer: pcap files. Usage: test_wr_file [TEST-NAME-PATTERN] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/writer/wr_test_util.h"

struct fx {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = t_tmpdir();
	f->path = t_path(f->dir, "cap.pcap");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_rmdir(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct wr_writer *open_w(const char *path, enum wr_backend be, enum wr_direct dir,
				size_t buf_size, unsigned int nbufs)
{
	struct wr_opts o = {
		.path = path, .snaplen = T_SNAPLEN, .backend = be, .direct = dir,
		.buf_size = buf_size, .nbufs = nbufs,
	};
	struct wr_writer *w = NULL;

	assert_int_equal(wr_open(&o, &w), 0);
	return w;
}

/* Puts n records, closes, reads back: every byte, length, timestamp. */
static void byte_exact(const char *path, enum wr_backend be, enum wr_direct dir,
		       size_t buf_size, bool want_direct)
{
	const uint64_t n = 20000;
	struct wr_writer *w = open_w(path, be, dir, buf_size, 8);
	struct t_seen *seen = calloc(n + 1, sizeof(*seen));
	struct wr_stream *s;
	struct wr_stats st;
	struct stat sb;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 1, 0, n, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_get_stats(w, &st), 0);
	assert_int_equal(st.backend, be);
	assert_int_equal(st.direct, want_direct);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(path, T_SNAPLEN, seen, n + 1), n);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(seen[i].p, 1);
		assert_int_equal(seen[i].id, i);
	}
	/* the file ends right after the last record: preallocation cut off */
	assert_int_equal(stat(path, &sb), 0);
	assert_true((uint64_t)sb.st_blocks * 512 < (uint64_t)sb.st_size + (1u << 20));
	free(seen);
}

static void records_byte_exact_uring(void **state)
{
	byte_exact(((struct fx *)*state)->path, WR_BACKEND_URING, WR_DIRECT_OFF, 0, false);
}

static void records_byte_exact_pwrite(void **state)
{
	byte_exact(((struct fx *)*state)->path, WR_BACKEND_PWRITE, WR_DIRECT_OFF, 0, false);
}

static void records_byte_exact_uring_direct(void **state)
{
	/* odd small buffers: records straddle 4 KiB blocks everywhere */
	byte_exact(((struct fx *)*state)->path, WR_BACKEND_URING, WR_DIRECT_ON, 12288, true);
}

static void records_byte_exact_pwrite_direct(void **state)
{
	byte_exact(((struct fx *)*state)->path, WR_BACKEND_PWRITE, WR_DIRECT_ON, 0, true);
}

static void direct_refused_falls_back_to_buffered(void **state)
{
	/* /dev/shm is tmpfs: it may refuse O_DIRECT; either way the file must
	 * be right and the stats must say what was used */
	char *dir = strdup("/dev/shm/wr-test-XXXXXX");
	char *path;
	struct wr_writer *w;
	struct wr_stream *s;
	struct wr_stats st;
	int fd;
	bool direct_ok;

	assert_non_null(mkdtemp(dir));
	path = t_path(dir, "d.pcap");
	fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0644);
	direct_ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	w = open_w(path, WR_BACKEND_URING, WR_DIRECT_ON, 0, 4);
	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 2, 0, 1000, T_SNAPLEN);
	wr_stream_free(s);
	wr_get_stats(w, &st);
	assert_int_equal(st.direct, direct_ok);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(path, T_SNAPLEN, NULL, 0), 1000);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

static void caplen_cut_to_snaplen(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .path = f->path, .snaplen = 100 };
	struct wr_writer *w;
	struct wr_stream *s;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	/* records longer than the snaplen are cut by the writer, too */
	for (uint64_t id = 0; id < 500; id++) {
		struct t_rec t;
		uint32_t full;

		t_make(&t, 3, id, T_SNAPLEN);
		full = t.r.cap_len;
		assert_int_equal(wr_put(s, &t.r), 0);
		t_make(&t, 3, id, 100);
		assert_true(t.r.cap_len == (full < 100 ? full : 100));
	}
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(f->path, 100, NULL, 0), 500);
	/* and the standard tools agree */
	assert_int_equal(t_sh("test \"$(capinfos -c -M -T -r %s | cut -f2)\" = 500", f->path), 0);
	assert_int_equal(t_sh("test \"$(tshark -r %s 2>/dev/null | wc -l)\" = 500", f->path), 0);
}

static void bad_paths_refused_nothing_created(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = NULL;
	char *p1 = t_path(f->dir, "missing/x.pcap");
	char *p2 = t_path(f->path, "x.pcap"); /* f->path is a file */
	struct wr_opts o = { .path = p1, .snaplen = 1500 };
	int fd;

	assert_int_equal(wr_open(&o, &w), -ENOENT);
	fd = open(f->path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	o.path = p2;
	assert_int_equal(wr_open(&o, &w), -ENOTDIR);
	o.path = f->dir; /* a folder */
	assert_int_equal(wr_open(&o, &w), -EISDIR);
	o.path = "";
	assert_int_equal(wr_open(&o, &w), -EINVAL);
	o.path = f->path;
	o.snaplen = 1u << 22; /* larger than a buffer */
	assert_int_equal(wr_open(&o, &w), -EINVAL);
	assert_null(w);
	assert_int_equal(access(p1, F_OK), -1);
	/* the folder holds only the file the test made */
	assert_int_equal(t_sh("test \"$(ls -A %s)\" = cap.pcap", f->dir), 0);
	free(p1);
	free(p2);
}

static void read_file(const char *path, char *buf, size_t cap, ssize_t *len)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	*len = read(fd, buf, cap);
	close(fd);
	assert_true(*len >= 0);
}

/* A device or FIFO at the path is refused (-EPERM) and left as it is;
 * neither is opened (a FIFO without a reader would block an open). */
static void device_and_fifo_refused(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .path = "/dev/null", .snaplen = T_SNAPLEN };
	struct wr_writer *w = NULL;
	struct stat sb;

	assert_int_equal(wr_open(&o, &w), -EPERM);
	assert_int_equal(stat("/dev/null", &sb), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(mkfifo(f->path, 0600), 0);
	o.path = f->path;
	assert_int_equal(wr_open(&o, &w), -EPERM);
	assert_null(w);
	assert_int_equal(lstat(f->path, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	/* and a switch to it changes nothing either */
	unlink(f->path);
	char *ok = t_path(f->dir, "ok.pcap");

	o.path = ok;
	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(wr_reopen(w, f->path), -EPERM);
	assert_string_equal(wr_path(w), ok);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(lstat(f->path, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_int_equal(t_read_check(ok, T_SNAPLEN, NULL, 0), 0);
	/* only the FIFO and ok.pcap: no temporary file left behind */
	assert_int_equal(t_sh("test \"$(ls -A %s | tr '\\n' ' ')\" = 'cap.pcap ok.pcap '", f->dir), 0);
	free(ok);
}

/* A symlink planted at the path, pointing at a file elsewhere: refused with
 * -ELOOP, the target byte-identical, the link still a link. */
static void planted_symlink_refused_target_untouched(void **state)
{
	struct fx *f = *state;
	char *outside = t_tmpdir();
	char *target = t_path(outside, "shadow");
	static const char secret[] = "root:$6$precious:19000:0:99999:7:::\n";
	struct wr_opts o = { .path = f->path, .snaplen = T_SNAPLEN };
	struct wr_writer *w = NULL;
	char buf[256];
	ssize_t len;
	struct stat sb;
	int fd;

	fd = open(target, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, secret, sizeof(secret) - 1), sizeof(secret) - 1);
	close(fd);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(wr_open(&o, &w), -ELOOP);
	assert_null(w);
	read_file(target, buf, sizeof(buf), &len);
	assert_int_equal(len, sizeof(secret) - 1);
	assert_memory_equal(buf, secret, len);
	assert_int_equal(lstat(f->path, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	/* a dangling link (the target does not exist yet) is refused too:
	 * following it would create a file wherever it points */
	unlink(target);
	assert_int_equal(wr_open(&o, &w), -ELOOP);
	assert_int_equal(access(target, F_OK), -1);
	/* switching to a linked path from a running writer: the same */
	char *ok = t_path(f->dir, "ok.pcap");

	fd = open(target, O_WRONLY | O_CREAT, 0640);
	assert_int_equal(write(fd, secret, sizeof(secret) - 1), sizeof(secret) - 1);
	close(fd);
	o.path = ok;
	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_reopen(w, f->path), -ELOOP);
	assert_int_equal(wr_close(w), 0);
	read_file(target, buf, sizeof(buf), &len);
	assert_int_equal(len, sizeof(secret) - 1);
	assert_memory_equal(buf, secret, len);
	free(ok);
	free(target);
	t_rmdir(outside);
}

/* New files are 0600 whatever the umask; file_mode and file_gid apply. */
static void new_files_mode_and_group(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .path = f->path, .snaplen = T_SNAPLEN, .file_gid = (gid_t)-1 };
	struct wr_writer *w;
	mode_t old = umask(0);
	struct stat sb;

	assert_int_equal(wr_open(&o, &w), 0);
	umask(old);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(wr_close(w), 0);
	/* replacing the file: the new one gets the options' mode and group */
	o.file_mode = 0640;
	o.file_gid = 4242;
	old = umask(077);
	assert_int_equal(wr_open(&o, &w), 0);
	umask(old);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_gid, 4242);
	/* the same for a file switched to */
	char *p2 = t_path(f->dir, "two.pcap");

	assert_int_equal(wr_reopen(w, p2), 0);
	assert_int_equal(stat(p2, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_gid, 4242);
	assert_int_equal(wr_close(w), 0);
	o.file_mode = 01777; /* only permission bits */
	assert_int_equal(wr_open(&o, &w), -EINVAL);
	free(p2);
}

/* The link type of the options goes into the file header and the network
 * stream's header. */
static void linktype_in_header(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .path = f->path, .snaplen = T_SNAPLEN, .linktype = 101 };
	struct wr_writer *w;
	struct wr_sub *sub;
	uint32_t h[6];
	ssize_t len;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_close(w), 0);
	read_file(f->path, (char *)h, sizeof(h), &len);
	assert_int_equal(len, 24);
	assert_int_equal(h[0], 0xa1b23c4d);
	assert_int_equal(h[5], 101);
	assert_int_equal(t_sh("tcpdump -r %s 2>&1 | grep -q 'link-type RAW'", f->path), 0);
	o.network = true;
	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_subscribe(w, &sub), 0);
	assert_int_equal(wr_sub_read(sub, h, sizeof(h), 100), 24);
	assert_int_equal(h[5], 101);
	wr_unsubscribe(sub);
	assert_int_equal(wr_close(w), 0);
	/* default: Ethernet */
	o.network = false;
	o.linktype = 0;
	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_close(w), 0);
	read_file(f->path, (char *)h, sizeof(h), &len);
	assert_int_equal(h[5], 1);
}

struct prod {
	struct wr_writer *w;
	uint32_t p;
	uint64_t n;
	bool slow; /* pauses now and then: the writer peeks its buffers */
};

static void *producer(void *arg)
{
	struct prod *pr = arg;
	struct wr_stream *s;

	assert_int_equal(wr_stream_new(pr->w, &s), 0);
	for (uint64_t id = 0; id < pr->n; id += 20) {
		t_put_all(s, pr->p, id, pr->n - id < 20 ? pr->n - id : 20, T_SNAPLEN);
		if (pr->slow)
			sleep_ms(1 + (int)(id / 20 + pr->p) % 4);
	}
	wr_stream_free(s);
	return NULL;
}

static void check_per_producer_order(const struct t_seen *seen, long n, unsigned int np,
				     uint64_t per)
{
	uint64_t next[8] = { 0 };

	assert_true(np <= 8);
	for (long i = 0; i < n; i++) {
		assert_true(seen[i].p < np);
		/* each producer's records in order, none lost, none twice */
		assert_int_equal(seen[i].id, next[seen[i].p]);
		next[seen[i].p]++;
	}
	for (unsigned int p = 0; p < np; p++)
		assert_int_equal(next[p], per);
}

static void producers(const char *path, enum wr_backend be, bool slow)
{
	const unsigned int np = 4;
	const uint64_t per = slow ? 3000 : 30000;
	struct wr_opts o = { .path = path, .snaplen = T_SNAPLEN, .backend = be,
			     .buf_size = 64 * 1024, .nbufs = 16, .flush_ms = slow ? 3 : 0 };
	struct wr_writer *w;
	struct t_seen *seen = calloc(np * per + 1, sizeof(*seen));
	struct prod pr[4];
	pthread_t th[4];
	struct wr_stats st;

	assert_int_equal(wr_open(&o, &w), 0);
	for (unsigned int i = 0; i < np; i++) {
		pr[i] = (struct prod){ w, i, per, slow };
		pthread_create(&th[i], NULL, producer, &pr[i]);
	}
	for (unsigned int i = 0; i < np; i++)
		pthread_join(th[i], NULL);
	assert_true(t_wait_records(w, np * per, 5000));
	wr_get_stats(w, &st);
	assert_int_equal(wr_close(w), 0);

	assert_int_equal(t_read_check(path, T_SNAPLEN, seen, np * per + 1), np * per);
	check_per_producer_order(seen, (long)(np * per), np, per);
	assert_int_equal(st.records, np * per);
	assert_int_equal(st.write_errors, 0);
	/* the slow ones were written in pieces, not only buffer by buffer */
	if (slow)
		assert_true(st.writes > st.bytes / o.buf_size + 50);
	free(seen);
}

static void multiple_producer_threads_lose_nothing(void **state)
{
	producers(((struct fx *)*state)->path, WR_BACKEND_URING, false);
}

static void multiple_producer_threads_lose_nothing_pwrite(void **state)
{
	producers(((struct fx *)*state)->path, WR_BACKEND_PWRITE, false);
}

/* Producers that pause (flush_ms 3): the writer thread keeps taking the
 * aged prefixes of their buffers; order and count must still be exact. */
static void writer_peeks_keep_order_of_slow_producers(void **state)
{
	producers(((struct fx *)*state)->path, WR_BACKEND_URING, true);
}

struct live_reader {
	const char *path;
	_Atomic bool stop;
	long reads, max_seen;
	bool bad;
};

/* Reads the growing file again and again: every record it sees is complete
 * and exact except, while a write is in progress, possibly the last one;
 * the count never goes back. */
static void *live_reader(void *arg)
{
	struct live_reader *lr = arg;

	while (!atomic_load(&lr->stop)) {
		long n = t_read_check2(lr->path, T_SNAPLEN, NULL, 0, true);

		if (n < lr->max_seen)
			lr->bad = true;
		else
			lr->max_seen = n;
		lr->reads++;
	}
	return NULL;
}

/* The file is valid pcap after every flush (libpcap, capinfos, tcpdump),
 * and a reader during the writes never sees garbage or a lost record. */
static void file_valid_while_writing(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_w(f->path, WR_BACKEND_URING, WR_DIRECT_AUTO, 8192, 16);
	struct live_reader lr = { .path = f->path };
	struct wr_stream *s;
	uint64_t put = 0;
	pthread_t th;

	assert_int_equal(wr_stream_new(w, &s), 0);
	/* straight after open the file is a valid, empty capture */
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), 0);
	pthread_create(&th, NULL, live_reader, &lr);
	for (int round = 0; round < 40; round++) {
		uint64_t k = 1 + (uint64_t)round * 13;

		t_put_all(s, 4, put, k, T_SNAPLEN);
		put += k;
		assert_int_equal(wr_stream_flush(s, true), 0);
		assert_true(t_wait_records(w, put, 2000));
		/* nothing in flight: exactly the records put, nothing cut */
		assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), put);
		if (round % 10 == 0)
			assert_int_equal(t_sh("capinfos -c %s >/dev/null && tcpdump -r %s >/dev/null 2>&1",
					      f->path, f->path), 0);
	}
	atomic_store(&lr.stop, true);
	pthread_join(th, NULL);
	assert_false(lr.bad);
	assert_true(lr.reads > 0);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), put);
}

static void idle_flush_within_a_second(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_w(f->path, WR_BACKEND_URING, WR_DIRECT_AUTO, 0, 0);
	struct wr_stream *s;
	struct timespec t0, t1;
	bool seen = false;
	long ms = 0;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 5, 0, 3, T_SNAPLEN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* the way a capture worker behaves when idle: poll timeout, flush */
	while (ms < 3000) {
		wr_stream_flush(s, false);
		if (t_read_check(f->path, T_SNAPLEN, NULL, 0) == 3) {
			seen = true;
			break;
		}
		sleep_ms(20);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	}
	assert_true(seen);
	assert_true(ms < 1000);
	/* and it is not written before it is due (default flush_ms 200):
	 * a second batch, one non-forced flush right away keeps it */
	t_put_all(s, 5, 3, 2, T_SNAPLEN);
	wr_stream_flush(s, false);
	sleep_ms(50);
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), 3);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), 5);
}

/* A producer that stops calling anything: the writer thread writes the
 * complete records of its aged buffer by itself, and the producer goes on
 * filling the same buffer without losing or repeating a record. */
static void aged_buffer_written_without_producer(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_w(f->path, WR_BACKEND_URING, WR_DIRECT_AUTO, 0, 0);
	struct t_seen seen[20];
	struct wr_stream *s;
	long n = 0;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 12, 0, 3, T_SNAPLEN);
	for (int i = 0; i < 100 && n < 3; i++) {
		sleep_ms(20);
		n = t_read_check(f->path, T_SNAPLEN, NULL, 0);
	}
	assert_int_equal(n, 3); /* within 2 s, no flush called */
	t_put_all(s, 12, 3, 4, T_SNAPLEN);
	for (int i = 0; i < 100 && n < 7; i++) {
		sleep_ms(20);
		n = t_read_check(f->path, T_SNAPLEN, NULL, 0);
	}
	assert_int_equal(n, 7);
	t_put_all(s, 12, 7, 5, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, seen, 20), 12);
	for (uint64_t i = 0; i < 12; i++)
		assert_int_equal(seen[i].id, i);
}

static void enobufs_counted_when_writer_stalled(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_w(f->path, WR_BACKEND_URING, WR_DIRECT_AUTO, 16384, 4);
	struct t_seen seen[2000];
	uint64_t ok = 0, refused = 0;
	struct wr_stream *s;
	struct wr_stats st;

	assert_int_equal(wr_pause(w, true), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 1000; id++) {
		struct t_rec t;
		int r;

		t_make(&t, 6, id, T_SNAPLEN);
		r = wr_put(s, &t.r);
		assert_true(r == 0 || r == -ENOBUFS);
		if (r)
			refused++;
		else
			seen[ok++] = (struct t_seen){ 6, id };
	}
	/* 4 x 16 KiB buffers hold a few dozen of these records */
	assert_true(refused > 800);
	wr_get_stats(w, &st);
	assert_int_equal(st.dropped_behind, refused);
	assert_int_equal(st.records, 0);
	assert_int_equal(wr_pause(w, false), 0);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	struct t_seen got[2000];

	assert_int_equal(t_read_check(f->path, T_SNAPLEN, got, 2000), ok);
	for (uint64_t i = 0; i < ok; i++)
		assert_int_equal(got[i].id, seen[i].id);
}

struct reopen_prod {
	struct wr_writer *w;
	_Atomic bool stop;
	uint64_t n;
};

static void *reopen_producer(void *arg)
{
	struct reopen_prod *rp = arg;
	struct wr_stream *s;
	struct timespec ts = { 0, 50000 };

	assert_int_equal(wr_stream_new(rp->w, &s), 0);
	while (!atomic_load(&rp->stop)) {
		t_put_all(s, 7, rp->n, 50, T_SNAPLEN);
		rp->n += 50;
		wr_stream_flush(s, false);
		nanosleep(&ts, NULL);
	}
	wr_stream_free(s);
	return NULL;
}

static void reopen_loses_nothing(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_w(f->path, WR_BACKEND_URING, WR_DIRECT_AUTO, 32768, 16);
	struct reopen_prod rp = { .w = w };
	const int nfiles = 6;
	uint64_t total = 0, next = 0;
	struct t_seen *seen;
	pthread_t th;
	char *paths[6];

	paths[0] = strdup(f->path);
	pthread_create(&th, NULL, reopen_producer, &rp);
	for (int i = 1; i < nfiles; i++) {
		char name[32];

		sleep_ms(60);
		snprintf(name, sizeof(name), "cap%d.pcap", i);
		paths[i] = t_path(f->dir, name);
		assert_int_equal(wr_reopen(w, paths[i]), 0);
		assert_string_equal(wr_path(w), paths[i]);
	}
	/* a path that cannot be created changes nothing */
	assert_int_equal(wr_reopen(w, "/nonexistent-wr/x.pcap"), -ENOENT);
	assert_string_equal(wr_path(w), paths[nfiles - 1]);
	sleep_ms(60);
	atomic_store(&rp.stop, true);
	pthread_join(th, NULL);
	assert_int_equal(wr_close(w), 0);
	seen = calloc(rp.n + 1, sizeof(*seen));
	/* the files in order hold every record once, in order */
	for (int i = 0; i < nfiles; i++) {
		long k = t_read_check(paths[i], T_SNAPLEN, seen, rp.n + 1);

		assert_true(k >= 0);
		for (long j = 0; j < k; j++)
			assert_int_equal(seen[j].id, next++);
		total += (uint64_t)k;
		free(paths[i]);
	}
	assert_int_equal(total, rp.n);
	assert_true(rp.n > 0);
	free(seen);
}

static void close_refused_while_stream_exists(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_w(f->path, WR_BACKEND_PWRITE, WR_DIRECT_AUTO, 0, 0);
	struct wr_stream *s;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 8, 0, 10, T_SNAPLEN);
	assert_int_equal(wr_close(w), -EBUSY);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), 10);
}

/* Child: writes records as fast as it can until it is killed. */
static void crash_child(const char *path)
{
	struct wr_opts o = { .path = path, .snaplen = T_SNAPLEN };
	struct wr_writer *w;
	struct wr_stream *s;

	if (wr_open(&o, &w) || wr_stream_new(w, &s))
		_exit(1);
	for (uint64_t id = 0;; id += 1000)
		t_put_all(s, 10, id, 1000, T_SNAPLEN);
}

/* SIGKILL in the middle of writing: what is in the file afterwards is
 * complete records only (the kernel may stop a write at any page; the
 * writer's guardian process then cuts the file back to the last complete
 * record). */
static void file_complete_after_sigkill(void **state)
{
	struct fx *f = *state;
	long total = 0;

	for (int round = 0; round < 8; round++) {
		long n = -1;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(f->path);
		sleep_ms(150 + round * 37);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		for (int i = 0; i < 100 && n < 0; i++) {
			sleep_ms(20);
			n = t_read_check2(f->path, T_SNAPLEN, NULL, 0, false);
		}
		if (n < 0)
			t_sh("ls -l %s", f->path);
		assert_true(n >= 0);
		total += n;
	}
	assert_true(total > 0); /* it was killed while writing, not before */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(records_byte_exact_uring),
		T(records_byte_exact_pwrite),
		T(records_byte_exact_uring_direct),
		T(records_byte_exact_pwrite_direct),
		T(direct_refused_falls_back_to_buffered),
		T(caplen_cut_to_snaplen),
		T(bad_paths_refused_nothing_created),
		T(device_and_fifo_refused),
		T(planted_symlink_refused_target_untouched),
		T(new_files_mode_and_group),
		T(linktype_in_header),
		T(multiple_producer_threads_lose_nothing),
		T(multiple_producer_threads_lose_nothing_pwrite),
		T(writer_peeks_keep_order_of_slow_producers),
		T(file_valid_while_writing),
		T(idle_flush_within_a_second),
		T(aged_buffer_written_without_producer),
		T(enobufs_counted_when_writer_stalled),
		T(reopen_loses_nothing),
		T(close_refused_while_stream_exists),
		T(file_complete_after_sigkill),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
