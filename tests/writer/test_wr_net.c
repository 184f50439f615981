/* SPDX-License-Identifier: BSD-2-Clause */
/* writer: network mode (backlog + pull subscribers). Usage: test_wr_net [NAME] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/writer/wr_test_util.h"

struct fx {
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = t_tmpdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_rmdir(f->dir);
	free(f);
	return 0;
}

static struct wr_writer *open_net(size_t backlog)
{
	struct wr_opts o = { .snaplen = T_SNAPLEN, .network = true,
			     .net_buffer_bytes = backlog, .buf_size = 32768 };
	struct wr_writer *w = NULL;

	assert_int_equal(wr_open(&o, &w), 0);
	return w;
}

/* A pull client: reads the stream into memory until it holds want records
 * (or times out). Checks every read returns whole records only. */
struct client {
	struct wr_sub *sub;
	uint8_t *data;
	size_t len, cap;
	uint64_t recs;
	size_t rdlen; /* bytes per wr_sub_read */
	uint64_t want; /* client_thread: records to read */
};

static void client_init(struct client *c, struct wr_writer *w, size_t rdlen)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(wr_subscribe(w, &c->sub), 0);
	c->rdlen = rdlen;
}

static void client_read(struct client *c, uint64_t want, int timeout_ms)
{
	uint8_t *buf = malloc(c->rdlen);

	for (int idle = 0; c->recs < want && idle < timeout_ms / 50;) {
		ssize_t n = wr_sub_read(c->sub, buf, c->rdlen, 50);
		size_t off = 0;

		assert_true(n >= 0);
		if (!n) {
			idle++;
			continue;
		}
		if (c->len + (size_t)n > c->cap) {
			c->cap = (c->len + (size_t)n) * 2;
			c->data = realloc(c->data, c->cap);
		}
		if (c->len == 0) { /* the file header comes first, alone or not */
			assert_true(n >= 24);
			off = 24;
		}
		/* whole records: they add up to exactly n bytes */
		while (off < (size_t)n) {
			uint32_t incl;

			assert_true(off + 16 <= (size_t)n);
			memcpy(&incl, buf + off + 8, 4);
			off += 16 + incl;
			c->recs++;
		}
		assert_int_equal(off, (size_t)n);
		memcpy(c->data + c->len, buf, (size_t)n);
		c->len += (size_t)n;
	}
	free(buf);
}

static void *client_thread(void *arg)
{
	struct client *c = arg;

	client_read(c, c->want, 10000);
	return NULL;
}

/* Saves what a client got as a file and checks it like a capture file. */
static long client_check(struct client *c, const char *dir, const char *name,
			 struct t_seen *seen, size_t max)
{
	char *p = t_path(dir, name);
	FILE *f = fopen(p, "wb");
	long n;

	assert_non_null(f);
	assert_int_equal(fwrite(c->data, 1, c->len, f), c->len);
	fclose(f);
	n = t_read_check(p, T_SNAPLEN, seen, max);
	free(p);
	return n;
}

static void client_fini(struct client *c)
{
	wr_unsubscribe(c->sub);
	free(c->data);
}

static void put_n(struct wr_writer *w, uint32_t p, uint64_t first, uint64_t n)
{
	struct wr_stream *s;

	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, p, first, n, T_SNAPLEN);
	wr_stream_free(s);
}

static void two_subscribers_get_identical_streams(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 3000;
	struct wr_writer *w = open_net(0);
	struct t_seen *seen = calloc(n + 1, sizeof(*seen));
	struct client a, b;
	struct wr_stats st;
	pthread_t ta, tb;

	client_init(&a, w, 65536);
	client_init(&b, w, 5000); /* a small reader: fewer records per read */
	a.want = b.want = n;
	/* both read live, in their own threads, while records arrive */
	pthread_create(&ta, NULL, client_thread, &a);
	pthread_create(&tb, NULL, client_thread, &b);
	put_n(w, 1, 0, n);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.recs, n);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(client_check(&a, f->dir, "a.pcap", seen, n + 1), n);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(seen[i].id, i);
	wr_get_stats(w, &st);
	assert_int_equal(st.records, n);
	assert_int_equal(st.net_dropped, 0);
	client_fini(&a);
	client_fini(&b);
	assert_int_equal(wr_close(w), 0);
	free(seen);
}

static void overflow_drops_oldest_and_counts(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 2000; /* about 2 MB through a 256 KiB backlog */
	struct wr_writer *w = open_net(256 * 1024);
	struct t_seen *seen = calloc(n + 1, sizeof(*seen));
	struct wr_stats st;
	struct client c;
	long k;

	put_n(w, 2, 0, n);
	assert_true(t_wait_records(w, n, 5000));
	wr_get_stats(w, &st);
	assert_true(st.net_dropped > 0);
	/* a subscriber now gets what is left: the newest records, whole */
	client_init(&c, w, 1 << 20);
	client_read(&c, n - st.net_dropped, 2000);
	k = client_check(&c, f->dir, "c.pcap", seen, n + 1);
	assert_int_equal((uint64_t)k + st.net_dropped, n);
	for (long i = 0; i < k; i++)
		assert_int_equal(seen[i].id, st.net_dropped + (uint64_t)i);
	assert_true(c.len - 24 <= 256 * 1024);
	client_fini(&c);
	assert_int_equal(wr_close(w), 0);
	free(seen);
}

static void late_subscriber_gets_only_unpulled_backlog(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_net(0);
	struct t_seen seen[600];
	struct client first, early, late;

	/* records put before anyone connects wait for the first client */
	put_n(w, 3, 0, 200);
	assert_true(t_wait_records(w, 200, 5000));
	client_init(&first, w, 65536);
	client_read(&first, 200, 5000);
	assert_int_equal(client_check(&first, f->dir, "first.pcap", seen, 200), 200);
	for (int i = 0; i < 200; i++)
		assert_int_equal(seen[i].id, (uint64_t)i);
	client_fini(&first);

	client_init(&early, w, 65536);
	put_n(w, 3, 200, 300);
	client_read(&early, 300, 5000);
	assert_true(t_wait_records(w, 500, 5000));
	client_fini(&early);
	/* captured while no client is connected: waits in the backlog */
	put_n(w, 3, 500, 100);
	assert_true(t_wait_records(w, 600, 5000));
	client_init(&late, w, 65536);
	client_read(&late, 100, 5000);
	/* the late client gets exactly those 100, nothing already pulled */
	assert_int_equal(client_check(&late, f->dir, "late.pcap", seen, 600), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(seen[i].id, (uint64_t)(500 + i));
	client_fini(&late);
	assert_int_equal(wr_close(w), 0);
}

static void unsubscribe_affects_nobody(void **state)
{
	struct fx *f = *state;
	struct wr_writer *w = open_net(0);
	struct client stay, leave;
	struct wr_stats st;

	client_init(&stay, w, 65536);
	client_init(&leave, w, 65536);
	put_n(w, 4, 0, 300);
	client_read(&leave, 100, 5000);
	client_fini(&leave);
	put_n(w, 4, 300, 300);
	client_read(&stay, 600, 5000);
	assert_int_equal(client_check(&stay, f->dir, "stay.pcap", NULL, 0), 600);
	wr_get_stats(w, &st);
	assert_int_equal(st.net_dropped, 0);
	client_fini(&stay);
	assert_int_equal(wr_close(w), 0);
}

static void read_returns_whole_records_only(void **state)
{
	struct wr_writer *w = open_net(0);
	struct wr_sub *s;
	uint8_t buf[4096];
	struct t_rec t;
	ssize_t n;

	assert_int_equal(wr_subscribe(w, &s), 0);
	/* nothing yet but the header */
	assert_int_equal(wr_sub_read(s, buf, 10, 0), -EMSGSIZE);
	assert_int_equal(wr_sub_read(s, buf, sizeof(buf), 0), 24);
	assert_int_equal(wr_sub_read(s, buf, sizeof(buf), 100), 0); /* timeout */
	put_n(w, 5, 0, 1);
	t_make(&t, 5, 0, T_SNAPLEN);
	assert_true(t_wait_records(w, 1, 5000));
	/* a buffer too small for the record: refused, nothing consumed */
	assert_int_equal(wr_sub_read(s, buf, 16 + t.r.cap_len - 1, 0), -EMSGSIZE);
	n = wr_sub_read(s, buf, sizeof(buf), 1000);
	assert_int_equal(n, 16 + t.r.cap_len);
	assert_memory_equal(buf + 16, t.buf, t.r.cap_len);
	wr_unsubscribe(s);
	assert_int_equal(wr_close(w), 0);
}

static void subscriber_outlives_writer(void **state)
{
	struct wr_writer *w = open_net(0);
	struct wr_sub *s;
	uint8_t buf[65536];
	ssize_t n;

	assert_int_equal(wr_subscribe(w, &s), 0);
	put_n(w, 6, 0, 10);
	assert_int_equal(wr_close(w), 0); /* writes out: the records are there */
	n = wr_sub_read(s, buf, sizeof(buf), 1000);
	assert_true(n > 24);
	assert_int_equal(wr_sub_read(s, buf, sizeof(buf), 1000), -EPIPE);
	wr_unsubscribe(s);
}

/* file -> network -> file: each record in exactly one place, no file while
 * in network mode. */
static void mode_switch_loses_nothing(void **state)
{
	struct fx *f = *state;
	char *p1 = t_path(f->dir, "one.pcap"), *p2 = t_path(f->dir, "two.pcap");
	struct wr_opts o = { .path = p1, .snaplen = T_SNAPLEN };
	struct wr_writer *w;
	struct wr_stream *s;
	struct t_seen seen[100];
	struct client c;
	struct wr_stats st;

	assert_int_equal(wr_open(&o, &w), 0);
	client_init(&c, w, 65536);
	assert_int_equal(wr_stream_new(w, &s), 0);
	t_put_all(s, 7, 0, 30, T_SNAPLEN); /* still in the stream's buffer */
	assert_int_equal(wr_set_network(w, true), 0);
	wr_get_stats(w, &st);
	assert_int_equal(st.records, 30); /* one.pcap was written and closed */
	assert_int_equal(t_read_check(p1, T_SNAPLEN, NULL, 0), 30);
	t_put_all(s, 7, 30, 30, T_SNAPLEN);
	wr_stream_flush(s, true);
	client_read(&c, 30, 5000);
	assert_int_equal(c.recs, 30);
	/* in network mode a new path only takes effect when it ends */
	assert_int_equal(wr_reopen(w, p2), 0);
	assert_int_equal(access(p2, F_OK), -1);
	assert_int_equal(wr_set_network(w, false), 0);
	t_put_all(s, 7, 60, 30, T_SNAPLEN);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	assert_int_equal(client_check(&c, f->dir, "net.pcap", seen, 100), 30);
	assert_int_equal(seen[0].id, 30);
	assert_int_equal(t_read_check(p2, T_SNAPLEN, seen, 100), 30);
	assert_int_equal(seen[0].id, 60);
	client_fini(&c);
	free(p1);
	free(p2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(two_subscribers_get_identical_streams),
		T(overflow_drops_oldest_and_counts),
		T(late_subscriber_gets_only_unpulled_backlog),
		T(unsubscribe_affects_nobody),
		T(read_returns_whole_records_only),
		T(subscriber_outlives_writer),
		T(mode_switch_loses_nothing),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
