/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer: time order across streams (wr_opts.reorder_ns).
 * Usage: test_wr_order [TEST-NAME-PATTERN]
 *
 * The record times lie a day ahead of the wall clock, so only the records'
 * own times let anything go before wr_close (never the wall clock), and
 * producers advance in rounds (a barrier) whose times are disjoint: what
 * a producer puts in round r is older than anything of round r + 2, so
 * with a window of two rounds no record can come too late, however the
 * threads are scheduled. Within a round every producer puts its records
 * in a random order (a stream need not be sorted either).
 *
 * WR_TEST_NO_MERGE=1 opens every writer with reorder_ns 0: then each of
 * these tests fails (but pool_short_merge_writes_oldest, which tests the
 * merge's memory bound).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/writer/wr_test_util.h"

#define ROUND_NS 1000000ull /* one round's times */
#define WINDOW_NS (2 * ROUND_NS)

static uint64_t base_ns; /* the first round's start, a day ahead */

struct fx {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* a second boundary plus 0.3 s, a day from now */
	base_ns = ((uint64_t)ts.tv_sec + 86400) * 1000000000ull + 300000000ull;
	f->dir = t_tmpdir();
	f->path = t_path(f->dir, "cap");
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

static uint32_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return (uint32_t)x;
}

static uint32_t window(uint32_t ns)
{
	return getenv("WR_TEST_NO_MERGE") ? 0 : ns;
}

/* Record id of producer p in rounds of k records: its time somewhere in
 * its round, its direction (pcapng) from a hash. */
static uint64_t ts_of(uint32_t p, uint64_t id, uint32_t k, uint64_t round_ns)
{
	return base_ns + id / k * round_ns + mix((uint64_t)p << 40 ^ id) % round_ns;
}

static uint8_t dir_of(uint32_t p, uint64_t id)
{
	return (uint8_t)(mix((uint64_t)p << 40 ^ id ^ 0x5555) % 3); /* 0, 1 or 2 */
}

static void put_retry(struct wr_stream *s, struct t_rec *t)
{
	struct timespec ts = { 0, 200000 };

	while (wr_put(s, &t->r) == -ENOBUFS)
		nanosleep(&ts, NULL);
}

/* Producers: rounds of k records each, a barrier between rounds. */
struct prod {
	struct wr_writer *w;
	pthread_barrier_t *bar;
	uint32_t p, k, rounds;
	uint64_t round_ns;
	bool dirs;
};

static void *producer(void *arg)
{
	struct prod *a = arg;
	struct wr_stream *s;
	struct t_rec t;

	if (wr_stream_new(a->w, &s))
		abort();
	for (uint32_t r = 0; r < a->rounds; r++) {
		/* the round's records in a random order: a permutation of
		 * 0..k-1 by a stride coprime to k (k a power of two) */
		uint32_t start = mix((uint64_t)a->p << 32 | r) % a->k;
		uint32_t stride = (mix((uint64_t)r << 32 | a->p) % a->k) | 1;

		for (uint32_t i = 0; i < a->k; i++) {
			uint64_t id = (uint64_t)r * a->k + (start + (uint64_t)i * stride) % a->k;

			t_make(&t, a->p, id, T_SNAPLEN);
			t.r.ts_ns = ts_of(a->p, id, a->k, a->round_ns);
			t.r.dir = a->dirs ? dir_of(a->p, id) : 0;
			put_retry(s, &t);
		}
		pthread_barrier_wait(a->bar);
	}
	wr_stream_free(s);
	return NULL;
}

static void run_producers(struct wr_writer *w, uint32_t np, uint32_t k, uint32_t rounds,
			  uint64_t round_ns, bool dirs)
{
	pthread_barrier_t bar;
	struct prod a[8];
	pthread_t th[8];

	pthread_barrier_init(&bar, NULL, np);
	for (uint32_t i = 0; i < np; i++) {
		a[i] = (struct prod){ w, &bar, i + 1, k, rounds, round_ns, dirs };
		pthread_create(&th[i], NULL, producer, &a[i]);
	}
	for (uint32_t i = 0; i < np; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
}

/* One record read back. */
struct rec {
	uint32_t p;
	uint64_t id, ts;
	uint32_t ifid;
	int flags; /* epb_flags, -1 if none */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Checks a record's bytes and lengths against t_make. */
static bool rec_ok(const uint8_t *data, uint32_t cap, uint32_t len, struct rec *r)
{
	struct t_rec t;

	if (cap < 12)
		return false;
	memcpy(&r->p, data, 4);
	memcpy(&r->id, data + 4, 8);
	t_make(&t, r->p, r->id, T_SNAPLEN);
	return cap == t.r.cap_len && len == t.r.wire_len && !memcmp(data, t.buf, cap);
}

/* A pcap or pcapng image (a file, or a network stream) read independently
 * of the writer: every record checked, in file order into v. Returns the
 * number of records, -1 if anything is malformed. */
static long parse(const uint8_t *b, size_t len, struct rec *v, size_t max)
{
	size_t off;
	long n = 0;

	if (len < 24)
		return -1;
	if (rd32(b) == 0xa1b23c4du) {
		for (off = 24; off < len; n++) {
			if (off + 16 > len || (size_t)n >= max)
				return -1;
			uint32_t cap = rd32(b + off + 8);

			if (off + 16 + cap > len ||
			    !rec_ok(b + off + 16, cap, rd32(b + off + 12), &v[n]))
				return -1;
			v[n].ts = (uint64_t)rd32(b + off) * 1000000000ull + rd32(b + off + 4);
			v[n].ifid = 0;
			v[n].flags = -1;
			off += 16 + cap;
		}
		return n;
	}
	if (rd32(b) != 0x0a0d0d0au)
		return -1;
	for (off = 0; off < len;) {
		uint32_t type, bl;

		if (off + 12 > len)
			return -1;
		type = rd32(b + off);
		bl = rd32(b + off + 4);
		if (bl < 12 || bl % 4 || off + bl > len || rd32(b + off + bl - 4) != bl)
			return -1;
		if (type == 6) { /* EPB */
			const uint8_t *e = b + off;
			uint32_t cap = rd32(e + 20);
			size_t o = 28 + ((cap + 3) & ~3u);

			if ((size_t)n >= max || 28 + cap + 4 > bl ||
			    !rec_ok(e + 28, cap, rd32(e + 24), &v[n]))
				return -1;
			v[n].ifid = rd32(e + 8);
			v[n].ts = (uint64_t)rd32(e + 12) << 32 | rd32(e + 16);
			v[n].flags = -1;
			while (o + 4 <= bl - 4) {
				uint16_t code, ol;

				memcpy(&code, e + o, 2);
				memcpy(&ol, e + o + 2, 2);
				if (!code)
					break;
				if (code == 2 && ol == 4)
					v[n].flags = (int)rd32(e + o + 4);
				o += 4 + ((ol + 3u) & ~3u);
			}
			n++;
		}
		off += bl;
	}
	return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static long read_file(const char *path, struct rec *v, size_t max)
{
	size_t len;
	uint8_t *b = slurp(path, &len);
	long n = parse(b, len, v, max);

	free(b);
	return n;
}

/* The records of all producers, each once: per producer a bitmap of ids. */
static void check_all_once(const struct rec *v, long n, uint32_t np, uint64_t per)
{
	uint8_t *seen = calloc((size_t)np * per, 1);

	assert_int_equal((uint64_t)n, np * per);
	for (long i = 0; i < n; i++) {
		assert_true(v[i].p >= 1 && v[i].p <= np);
		assert_true(v[i].id < per);
		assert_int_equal(seen[(v[i].p - 1) * per + v[i].id], 0);
		seen[(v[i].p - 1) * per + v[i].id] = 1;
	}
	free(seen);
}

/* Non-decreasing times; the times those of ts_of. */
static void check_order(const struct rec *v, long n, uint32_t k, uint64_t round_ns)
{
	for (long i = 0; i < n; i++) {
		assert_int_equal(v[i].ts, ts_of(v[i].p, v[i].id, k, round_ns));
		if (i && v[i].ts < v[i - 1].ts) {
			fprintf(stderr, "record %ld (p %u id %lu ts %lu) is older than the one before (p %u id %lu ts %lu)\n",
				i, v[i].p, (unsigned long)v[i].id, (unsigned long)(v[i].ts - base_ns), v[i-1].p, (unsigned long)v[i-1].id, (unsigned long)(v[i-1].ts - base_ns));
			fail();
		}
	}
}

static struct wr_writer *open_w(struct wr_opts *o)
{
	struct wr_writer *w;

	o->snaplen = T_SNAPLEN;
	if (!o->buf_size)
		o->buf_size = 65536;
	/* a pool larger than all the records of a test: a writer thread
	 * that gets no CPU for a while must not make the merge write before
	 * the window because the pool ran short (the last test does that) */
	if (!o->nbufs)
		o->nbufs = 256;
	/* nor may a stall of flush_ms (all held records then go) */
	o->flush_ms = 600000;
	o->file_gid = (gid_t)-1;
	assert_int_equal(wr_open(o, &w), 0);
	return w;
}

/* Four producers, jittered and interleaved times within the window:
 * the file strictly in time order, every record once, none late. */
static void jittered(void **state, enum wr_backend be, enum wr_direct dio)
{
	struct fx *f = *state;
	const uint32_t np = 4, k = 8, rounds = 150;
	struct wr_opts o = { .path = f->path, .backend = be, .direct = dio,
			     .reorder_ns = window(WINDOW_NS) };
	struct wr_writer *w = open_w(&o);
	struct rec *v = calloc(np * k * rounds, sizeof(*v));
	struct wr_stats st;
	long n;

	run_producers(w, np, k, rounds, ROUND_NS, false);
	assert_int_equal(wr_get_stats(w, &st), 0);
	assert_int_equal(wr_close(w), 0);
	n = read_file(f->path, v, np * k * rounds);
	check_all_once(v, n, np, (uint64_t)k * rounds);
	check_order(v, n, k, ROUND_NS);
	assert_int_equal(st.late, 0);
	assert_int_equal(st.direct, dio == WR_DIRECT_ON);
	assert_int_equal(t_sh("tcpdump -r %s >/dev/null 2>&1", f->path), 0);
	free(v);
}

static void producers_jittered_file_in_order(void **state)
{
	jittered(state, WR_BACKEND_URING, WR_DIRECT_OFF);
}

static void producers_jittered_in_order_direct_pwrite(void **state)
{
	jittered(state, WR_BACKEND_PWRITE, WR_DIRECT_ON);
}

/* A record older than what was written already (more than the window
 * late) is written after it, and counted. */
static void late_record_written_and_counted(void **state)
{
	struct fx *f = *state;
	const uint64_t step = 1000000, win = 10 * step;
	struct wr_opts o = { .path = f->path, .reorder_ns = window((uint32_t)win) };
	struct wr_writer *w = open_w(&o);
	struct wr_stream *s;
	struct rec v[128];
	struct wr_stats st;
	struct t_rec t;
	long n;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 100; id++) {
		t_make(&t, 1, id, T_SNAPLEN);
		t.r.ts_ns = base_ns + id * step;
		put_retry(s, &t);
	}
	assert_int_equal(wr_stream_flush(s, true), 0);
	/* those older than the newest minus the window: ids 0..89 */
	assert_true(t_wait_records(w, 90, 10000));
	/* the merge holds the rest back: nothing newer than the bound went */
	assert_int_equal(wr_get_stats(w, &st), 0);
	assert_int_equal(st.records, 90);
	t_make(&t, 1, 100, T_SNAPLEN);
	t.r.ts_ns = base_ns + 5 * step; /* older than id 89's */
	put_retry(s, &t);
	wr_stream_free(s);
	/* it is older than the bound: written at once, after id 89 */
	assert_true(t_wait_records(w, 91, 10000));
	assert_int_equal(wr_get_stats(w, &st), 0);
	assert_int_equal(st.records, 91);
	assert_int_equal(wr_close(w), 0);
	n = read_file(f->path, v, 128);
	assert_int_equal(n, 101);
	/* 0..89, the late one (first of what was held), 90..99 */
	for (long i = 0; i < 90; i++)
		assert_int_equal(v[i].id, (uint64_t)i);
	assert_int_equal(v[90].id, 100);
	for (long i = 91; i < 101; i++)
		assert_int_equal(v[i].id, (uint64_t)i - 1);
	assert_int_equal(st.late, 1);
}

/* Rotation by time (1 s) with the merge: every file's records lie in its
 * aligned window, in order; all records once over the files. */
static void rotate_by_time_merged(void **state)
{
	struct fx *f = *state;
	const uint32_t np = 3, k = 8, rounds = 170;
	const uint64_t round_ns = 20000000; /* 3.4 s of records */
	struct wr_opts o = { .prefix = f->path, .rotate_seconds = 1,
			     .reorder_ns = window(2 * round_ns) };
	struct wr_writer *w = open_w(&o);
	struct rec *v = calloc(np * k * rounds, sizeof(*v));
	struct wr_file_info *fi;
	size_t nf, total = 0;
	uint64_t prev_win = 0;

	run_producers(w, np, k, rounds, round_ns, false);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(wr_scan_prefix(f->path, &fi, &nf), 0);
	assert_true(nf >= 4);
	for (size_t i = 0; i < nf; i++) {
		char *p = t_path(f->dir, fi[i].name);
		long n = read_file(p, v + total, np * k * rounds - total);

		assert_true(n >= 0);
		if (n) {
			uint64_t win = v[total].ts / 1000000000ull;

			assert_true(win > prev_win);
			prev_win = win;
			for (long j = 0; j < n; j++)
				assert_int_equal(v[total + j].ts / 1000000000ull, win);
			check_order(v + total, n, k, round_ns);
		}
		total += (size_t)n;
		free(p);
	}
	check_all_once(v, (long)total, np, (uint64_t)k * rounds);
	free(fi);
	free(v);
}

/* Network mode: a subscriber gets the merged order. */
static void network_subscriber_gets_merged_order(void **state)
{
	const uint32_t np = 4, k = 8, rounds = 150;
	struct wr_opts o = { .network = true, .reorder_ns = window(WINDOW_NS) };
	struct wr_writer *w;
	struct rec *v = calloc(np * k * rounds, sizeof(*v));
	size_t cap = 64u << 20, len = 0;
	uint8_t *buf = malloc(cap);
	struct wr_sub *sub;
	ssize_t r;
	long n;

	(void)state;
	w = open_w(&o);
	assert_int_equal(wr_subscribe(w, &sub), 0);
	run_producers(w, np, k, rounds, ROUND_NS, false);
	assert_int_equal(wr_close(w), 0);
	while ((r = wr_sub_read(sub, buf + len, cap - len, 1000)) > 0)
		len += (size_t)r;
	assert_int_equal(r, -EPIPE);
	wr_unsubscribe(sub);
	n = parse(buf, len, v, np * k * rounds);
	check_all_once(v, n, np, (uint64_t)k * rounds);
	check_order(v, n, k, ROUND_NS);
	free(buf);
	free(v);
}

/* pcapng with the merge: in order, and every EPB keeps its direction
 * (interface and epb_flags). */
static void pcapng_merged_keeps_direction(void **state)
{
	struct fx *f = *state;
	const uint32_t np = 4, k = 8, rounds = 150;
	struct wr_opts o = { .path = f->path, .format = WR_FMT_PCAPNG,
			     .reorder_ns = window(WINDOW_NS), .if_name = "veth0" };
	struct wr_writer *w = open_w(&o);
	struct rec *v = calloc(np * k * rounds, sizeof(*v));
	uint64_t cnt[3] = { 0 };
	long n;

	run_producers(w, np, k, rounds, ROUND_NS, true);
	assert_int_equal(wr_close(w), 0);
	n = read_file(f->path, v, np * k * rounds);
	check_all_once(v, n, np, (uint64_t)k * rounds);
	check_order(v, n, k, ROUND_NS);
	for (long i = 0; i < n; i++) {
		uint8_t d = dir_of(v[i].p, v[i].id);

		assert_int_equal(v[i].ifid, d == 2);
		assert_int_equal(v[i].flags, d ? (int)d : -1);
		cnt[d]++;
	}
	assert_true(cnt[0] && cnt[1] && cnt[2]);
	assert_int_equal(t_sh("tshark -r %s -T fields -e frame.packet_flags_direction 2>/dev/null"
			      " | sort | uniq -c | grep -c 0x0000000 | grep -qx 2", f->path), 0);
	free(v);
}

/* A window that lets nothing go and a small pool: the merge writes its
 * oldest records when the pool runs short instead of holding every
 * buffer (the producer would wait for ever). */
static void pool_short_merge_writes_oldest(void **state)
{
	struct fx *f = *state;
	const uint64_t nrec = 20000;
	struct wr_opts o = { .path = f->path, .buf_size = 16384, .nbufs = 4,
			     .reorder_ns = window(4000000000u) };
	struct wr_writer *w = open_w(&o);
	struct timespec ts = { 0, 200000 };
	struct rec *v = calloc(nrec, sizeof(*v));
	struct wr_stream *s;
	struct t_rec t;
	long n, waits = 0;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < nrec; id++) {
		t_make(&t, 1, id, T_SNAPLEN);
		t.r.ts_ns = base_ns + id * 1000; /* all within the window */
		while (wr_put(s, &t.r) == -ENOBUFS) {
			/* 20 s without a free buffer: the merge holds the pool */
			assert_true(++waits < 100000);
			nanosleep(&ts, NULL);
		}
	}
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	n = read_file(f->path, v, nrec);
	assert_int_equal(n, (long)nrec);
	for (long i = 0; i < n; i++)
		assert_int_equal(v[i].id, (uint64_t)i);
	free(v);
}

/* wr_reopen with the merge: what was put before is all in the old file,
 * in order (the merge gives up the old generation's records first), the
 * rest in the new one, in order. */
static void reopen_with_merge_splits_exactly(void **state)
{
	struct fx *f = *state;
	const uint32_t k = 8;
	const uint64_t half = 2000;
	char *b = t_path(f->dir, "second");
	struct wr_opts o = { .path = f->path, .reorder_ns = window(WINDOW_NS) };
	struct wr_writer *w = open_w(&o);
	struct rec *v = calloc(half, sizeof(*v));
	struct wr_stream *s;
	struct t_rec t;
	long n;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 2 * half; id++) {
		if (id == half)
			assert_int_equal(wr_reopen(w, b), 0);
		t_make(&t, 1, id, T_SNAPLEN);
		t.r.ts_ns = ts_of(1, id, k, ROUND_NS);
		put_retry(s, &t);
	}
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	n = read_file(f->path, v, half);
	assert_int_equal(n, (long)half);
	check_all_once(v, n, 1, half);
	check_order(v, n, k, ROUND_NS);
	n = read_file(b, v, half);
	assert_int_equal(n, (long)half);
	for (long i = 0; i < n; i++)
		assert_true(v[i].id >= half);
	check_order(v, n, k, ROUND_NS);
	free(v);
	free(b);
}

/* Record times on the wall clock, traffic stops: the wall clock lets the
 * last records go within about a window, without newer ones or wr_close
 * (and flush_ms, the last resort, is 10 minutes here). */
static void idle_records_go_by_wall_clock(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .path = f->path, .reorder_ns = window(WINDOW_NS) };
	struct wr_writer *w = open_w(&o);
	struct wr_stream *s;
	struct timespec now;
	struct t_rec t;

	assert_int_equal(wr_stream_new(w, &s), 0);
	for (uint64_t id = 0; id < 10; id++) {
		clock_gettime(CLOCK_REALTIME, &now);
		t_make(&t, 1, id, T_SNAPLEN);
		t.r.ts_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		put_retry(s, &t);
	}
	assert_int_equal(wr_stream_flush(s, true), 0);
	assert_true(t_wait_records(w, 10, 20000));
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
}

#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(producers_jittered_file_in_order),
		T(producers_jittered_in_order_direct_pwrite),
		T(late_record_written_and_counted),
		T(rotate_by_time_merged),
		T(network_subscriber_gets_merged_order),
		T(pcapng_merged_keeps_direction),
		T(pool_short_merge_writes_oldest),
		T(reopen_with_merge_splits_exactly),
		T(idle_records_go_by_wall_clock),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
