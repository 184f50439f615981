/* SPDX-License-Identifier: BSD-2-Clause */
/* writer: pcapng. Usage: test_wr_ng [TEST-NAME-PATTERN] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	f->path = t_path(f->dir, "cap.pcapng");
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

/* What a pcapng file holds, read block by block (independently of the
 * writer's code). */
struct ng_file {
	int shb, idb, epb, isb;
	int bad;		/* malformed blocks */
	bool isb_last;		/* the ISBs come after every EPB */
	char userappl[64];
	char if_name[2][32];
	char filter[2][64];
	int tsresol[2];
	uint32_t snaplen[2];
	uint16_t linktype[2];
	uint64_t dir_count[2][4]; /* per interface, by epb_flags direction */
	struct {
		uint64_t start, end, v[9];
		bool has[9];
	} isb_of[2];
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void opts_walk(struct ng_file *n, uint32_t type, uint32_t ifid, const uint8_t *p,
		      const uint8_t *end, uint32_t *epb_dir)
{
	while (p + 4 <= end) {
		uint16_t code, len;

		memcpy(&code, p, 2);
		memcpy(&len, p + 2, 2);
		if (!code)
			return;
		const uint8_t *v = p + 4;

		if (v + len > end) {
			n->bad++;
			return;
		}
		if (type == 0x0a0d0d0a && code == 4)
			snprintf(n->userappl, sizeof(n->userappl), "%.*s", len, v);
		if (type == 1 && ifid < 2) {
			if (code == 2)
				snprintf(n->if_name[ifid], 32, "%.*s", len, v);
			if (code == 9)
				n->tsresol[ifid] = v[0];
			if (code == 11 && len > 0)
				snprintf(n->filter[ifid], 64, "%.*s", len - 1, v + 1);
		}
		if (type == 6 && code == 2)
			*epb_dir = rd32(v) & 3;
		if (type == 5 && ifid < 2 && code >= 2 && code <= 8 && len == 8) {
			uint64_t x;

			if (code == 2 || code == 3)
				x = (uint64_t)rd32(v) << 32 | rd32(v + 4);
			else
				memcpy(&x, v, 8);
			if (code == 2)
				n->isb_of[ifid].start = x;
			else if (code == 3)
				n->isb_of[ifid].end = x;
			n->isb_of[ifid].v[code] = x;
			n->isb_of[ifid].has[code] = true;
		}
		p += 4 + ((len + 3u) & ~3u);
	}
}

static void ng_read(const char *path, struct ng_file *n)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long size;
	uint32_t nidb = 0;

	memset(n, 0, sizeof(*n));
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	b = malloc((size_t)size + 1);
	assert_int_equal(fread(b, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	n->isb_last = true;
	for (long off = 0; off + 12 <= size;) {
		uint32_t type = rd32(b + off), len = rd32(b + off + 4);
		uint32_t dir = 0;

		if (len < 12 || len % 4 || off + len > size || rd32(b + off + len - 4) != len) {
			n->bad++;
			break;
		}
		switch (type) {
		case 0x0a0d0d0a:
			n->shb++;
			opts_walk(n, type, 0, b + off + 24, b + off + len - 4, NULL);
			break;
		case 1:
			if (nidb < 2) {
				memcpy(&n->linktype[nidb], b + off + 8, 2);
				n->snaplen[nidb] = rd32(b + off + 12);
			}
			opts_walk(n, type, nidb, b + off + 16, b + off + len - 4, NULL);
			nidb++;
			n->idb++;
			break;
		case 6: {
			uint32_t ifid = rd32(b + off + 8), cap = rd32(b + off + 20);

			if (n->isb)
				n->isb_last = false;
			opts_walk(n, type, ifid, b + off + 28 + ((cap + 3) & ~3u),
				  b + off + len - 4, &dir);
			if (ifid < 2)
				n->dir_count[ifid][dir]++;
			n->epb++;
			break;
		}
		case 5: {
			uint32_t ifid = rd32(b + off + 8);

			opts_walk(n, type, ifid, b + off + 20, b + off + len - 4, NULL);
			n->isb++;
			break;
		}
		default:
			n->bad++;
		}
		off += len;
	}
	free(b);
}

static bool stats_cb(void *arg, unsigned int ifid, struct wr_if_stats *st)
{
	const uint64_t *base = arg;

	*st = (struct wr_if_stats){
		.ifrecv = *base + 100 + ifid, .ifdrop = 3 + ifid, .filteraccept = *base + 50 + ifid,
		.osdrop = 7 + ifid, .usrdeliv = *base + 40 + ifid,
	};
	return true;
}

static void put_dirs(struct wr_stream *s, uint64_t first, uint64_t n, uint64_t cnt[3])
{
	struct timespec ts = { 0, 200000 };
	struct t_rec t;

	for (uint64_t id = first; id < first + n; id++) {
		t_make(&t, 1, id, T_SNAPLEN);
		t.r.dir = (uint8_t)(id % 3);
		while (wr_put(s, &t.r) == -ENOBUFS)
			nanosleep(&ts, NULL);
		if (cnt)
			cnt[id % 3]++;
	}
}

/* A bidirectional pcapng file: libpcap reads every record exactly
 * (tcpdump, capinfos too); tshark sees each record's direction; the SHB,
 * IDBs and ISBs say what they must. */
static void pcapng_bidirectional_read_by_tools(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 3000;
	uint64_t base = 1000000, cnt[3] = { 0 };
	struct wr_opts o = {
		.path = f->path, .snaplen = T_SNAPLEN, .format = WR_FMT_PCAPNG,
		.if_name = "veth-cap0", .filter = "udp or icmp", .start_ns = 1700000000123456789ull,
		.if_stats = stats_cb, .if_stats_arg = &base, .file_gid = (gid_t)-1,
	};
	struct wr_writer *w;
	struct wr_stream *s;
	struct ng_file ng;

	assert_int_equal(wr_open(&o, &w), 0);
	/* valid before any record: SHB and IDBs */
	ng_read(f->path, &ng);
	assert_int_equal(ng.shb, 1);
	assert_int_equal(ng.idb, 2);
	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	put_dirs(s, 0, n, cnt);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);

	assert_int_equal(t_read_check(f->path, T_SNAPLEN, NULL, 0), n);
	assert_int_equal(t_sh("test \"$(capinfos -c -M -T -r %s | cut -f2)\" = %lu", f->path,
			      (unsigned long)n), 0);
	assert_int_equal(t_sh("test \"$(tcpdump -nr %s 2>/dev/null | grep -cv '^[[:space:]]')\" = %lu", f->path,
			      (unsigned long)n), 0);
	assert_int_equal(t_sh("capinfos %s | grep -q 'Capture application: *capture-appliance'",
			      f->path), 0);
	/* tshark: directions from epb_flags */
	assert_int_equal(t_sh("test \"$(tshark -r %s -T fields -e frame.packet_flags_direction "
			      "2>/dev/null | grep -c '^0x00000001$')\" = %lu", f->path,
			      (unsigned long)cnt[1]), 0);
	assert_int_equal(t_sh("test \"$(tshark -r %s -T fields -e frame.packet_flags_direction "
			      "2>/dev/null | grep -c '^0x00000002$')\" = %lu", f->path,
			      (unsigned long)cnt[2]), 0);

	ng_read(f->path, &ng);
	assert_int_equal(ng.bad, 0);
	assert_int_equal(ng.shb, 1);
	assert_string_equal(ng.userappl, "capture-appliance");
	assert_int_equal(ng.idb, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(ng.if_name[i], "veth-cap0");
		assert_string_equal(ng.filter[i], "udp or icmp");
		assert_int_equal(ng.tsresol[i], 9);
		assert_int_equal(ng.snaplen[i], T_SNAPLEN);
		assert_int_equal(ng.linktype[i], 1);
	}
	assert_int_equal(ng.epb, n);
	/* unknown and inbound on interface 0, outbound on 1 */
	assert_int_equal(ng.dir_count[0][0], cnt[0]);
	assert_int_equal(ng.dir_count[0][1], cnt[1]);
	assert_int_equal(ng.dir_count[1][2], cnt[2]);
	assert_int_equal(ng.isb, 2);
	assert_true(ng.isb_last);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ng.isb_of[i].start, o.start_ns);
		assert_true(ng.isb_of[i].end > o.start_ns);
		assert_int_equal(ng.isb_of[i].v[4], base + 100 + i);
		assert_int_equal(ng.isb_of[i].v[5], 3 + i);
		assert_int_equal(ng.isb_of[i].v[6], base + 50 + i);
		assert_int_equal(ng.isb_of[i].v[7], 7 + i);
		assert_int_equal(ng.isb_of[i].v[8], base + 40 + i);
	}
}

/* Rotation in pcapng: every file is a complete section (SHB, IDBs, EPBs,
 * ISBs at the end), named .pcapng, read by tcpdump; records contiguous;
 * the filter set meanwhile is in the IDBs of the files started after it;
 * the counters in each file's ISBs are those at its sealing. */
static void pcapng_rotation_and_filter_change(void **state)
{
	struct fx *f = *state;
	char *prefix = t_path(f->dir, "cap");
	uint64_t base = 0, next = 0;
	struct wr_opts o = {
		.prefix = prefix, .snaplen = T_SNAPLEN, .format = WR_FMT_PCAPNG,
		.rotate_bytes = 80000, .if_name = "eth9", .filter = "udp",
		.if_stats = stats_cb, .if_stats_arg = &base, .file_gid = (gid_t)-1,
		.buf_size = 32768,
	};
	struct t_seen *seen = calloc(4000, sizeof(*seen));
	struct wr_file_info *v;
	struct wr_writer *w;
	struct wr_stream *s;
	bool saw_new_filter = false;
	size_t k;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	put_dirs(s, 0, 1000, NULL);
	wr_stream_flush(s, true);
	assert_true(t_wait_records(w, 1000, 5000));
	assert_int_equal(wr_set_filter(w, "tcp port 80"), 0);
	put_dirs(s, 1000, 1000, NULL);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);

	assert_int_equal(wr_scan_prefix(prefix, &v, &k), 0);
	assert_true(k > 5);
	for (size_t i = 0; i < k; i++) {
		char *p = t_path(f->dir, v[i].name);
		struct ng_file ng;
		long r;

		assert_int_equal(strcmp(strrchr(v[i].name, '.'), ".pcapng"), 0);
		r = t_read_check(p, T_SNAPLEN, seen, 4000);
		assert_true(r >= 0);
		assert_int_equal((uint64_t)r, v[i].records);
		for (long j = 0; j < r; j++)
			assert_int_equal(seen[j].id, next++);
		ng_read(p, &ng);
		assert_int_equal(ng.bad, 0);
		assert_int_equal(ng.shb, 1);
		assert_int_equal(ng.idb, 2);
		assert_int_equal(ng.isb, 2);
		assert_true(ng.isb_last);
		assert_int_equal(ng.isb_of[1].v[8], 41);
		if (!strcmp(ng.filter[0], "tcp port 80"))
			saw_new_filter = true;
		else
			assert_string_equal(ng.filter[0], "udp");
		if (i == 0)
			assert_string_equal(ng.filter[0], "udp");
		/* at most rotate_bytes plus one record, plus the ISBs */
		assert_true(v[i].bytes <= 80000 + 48 + T_SNAPLEN + 2 * 128);
		assert_int_equal(t_sh("tcpdump -r %s >/dev/null 2>&1", p), 0);
		free(p);
	}
	assert_int_equal(next, 2000);
	assert_true(saw_new_filter);
	free(v);
	free(seen);
	free(prefix);
}

/* Network mode streams pcapng: what a subscriber reads is a pcapng file
 * tcpdump reads, every record exact. */
static void pcapng_network_stream(void **state)
{
	struct fx *f = *state;
	struct wr_opts o = { .path = f->path, .snaplen = T_SNAPLEN, .format = WR_FMT_PCAPNG,
			     .network = true, .if_name = "lo", .file_gid = (gid_t)-1 };
	char *out = t_path(f->dir, "stream.pcapng");
	uint8_t *buf = malloc(1 << 20);
	struct wr_writer *w;
	struct wr_stream *s;
	struct wr_sub *sub;
	struct ng_file ng;
	FILE *fp;
	ssize_t r;

	assert_int_equal(wr_open(&o, &w), 0);
	assert_int_equal(wr_subscribe(w, &sub), 0);
	assert_int_equal(wr_stream_new(w, &s), 0);
	put_dirs(s, 0, 500, NULL);
	wr_stream_free(s);
	assert_int_equal(wr_close(w), 0);
	fp = fopen(out, "wb");
	while ((r = wr_sub_read(sub, buf, 1 << 20, 1000)) > 0)
		fwrite(buf, 1, (size_t)r, fp);
	fclose(fp);
	assert_int_equal(r, -EPIPE);
	wr_unsubscribe(sub);
	assert_int_equal(t_read_check(out, T_SNAPLEN, NULL, 0), 500);
	assert_int_equal(t_sh("test \"$(tcpdump -nr %s 2>/dev/null | grep -cv '^[[:space:]]')\" = 500", out), 0);
	ng_read(out, &ng);
	assert_int_equal(ng.bad, 0);
	assert_int_equal(ng.idb, 2);
	assert_int_equal(ng.epb, 500);
	assert_int_equal(ng.dir_count[1][2], 166);
	free(buf);
	free(out);
}

/* A subscriber may ask for the other format: pcapng from a pcap writer,
 * pcap from a pcapng writer; both exact for libpcap. */
static void subscriber_gets_other_format(void **state)
{
	struct fx *f = *state;
	char *out = t_path(f->dir, "stream");
	uint8_t *buf = malloc(1 << 20);

	for (int wf = 0; wf < 2; wf++) {
		struct wr_opts o = { .snaplen = T_SNAPLEN, .network = true, .if_name = "lo",
				     .format = wf ? WR_FMT_PCAPNG : WR_FMT_PCAP,
				     .filter = "ip", .file_gid = (gid_t)-1 };
		enum wr_format sf = wf ? WR_FMT_PCAP : WR_FMT_PCAPNG;
		struct wr_writer *w;
		struct wr_stream *s;
		struct wr_sub *sub;
		uint32_t magic;
		FILE *fp;
		ssize_t r;

		assert_int_equal(wr_open(&o, &w), 0);
		assert_int_equal(wr_subscribe_fmt(w, sf, &sub), 0);
		assert_int_equal(wr_stream_new(w, &s), 0);
		put_dirs(s, 0, 300, NULL);
		wr_stream_free(s);
		assert_int_equal(wr_close(w), 0);
		fp = fopen(out, "wb");
		while ((r = wr_sub_read(sub, buf, 1 << 20, 1000)) > 0)
			fwrite(buf, 1, (size_t)r, fp);
		fclose(fp);
		assert_int_equal(r, -EPIPE);
		wr_unsubscribe(sub);
		fp = fopen(out, "rb");
		assert_int_equal(fread(&magic, 4, 1, fp), 1);
		fclose(fp);
		assert_int_equal(magic, sf == WR_FMT_PCAPNG ? 0x0a0d0d0a : 0xa1b23c4d);
		assert_int_equal(t_read_check(out, T_SNAPLEN, NULL, 0), 300);
		assert_int_equal(t_sh("tcpdump -r %s >/dev/null 2>&1", out), 0);
		if (sf == WR_FMT_PCAPNG) {
			struct ng_file ng;

			ng_read(out, &ng);
			assert_int_equal(ng.bad, 0);
			assert_int_equal(ng.epb, 300);
			assert_string_equal(ng.filter[0], "ip");
		}
	}
	free(buf);
	free(out);
}

/* Child: pcapng rotation as fast as it can until it is killed. */
static void crash_child(const char *prefix)
{
	struct wr_opts o = { .prefix = prefix, .snaplen = T_SNAPLEN, .rotate_bytes = 70000,
			     .format = WR_FMT_PCAPNG, .buf_size = 32768, .file_gid = (gid_t)-1 };
	struct wr_writer *w;
	struct wr_stream *s;

	if (wr_open(&o, &w) || wr_stream_new(w, &s))
		_exit(1);
	for (uint64_t id = 0;; id += 100)
		put_dirs(s, id, 100, NULL);
}

/* SIGKILL: every pcapng file is complete blocks afterwards (the guardian
 * walks blocks), read by libpcap. */
static void pcapng_complete_after_sigkill(void **state)
{
	struct fx *f = *state;
	char *prefix = t_path(f->dir, "cap");

	for (int round = 0; round < 4; round++) {
		struct wr_file_info *v = NULL;
		size_t k = 0;
		bool ok = false;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(prefix);
		sleep_ms(100 + round * 53);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		for (int i = 0; i < 100 && !ok; i++) {
			sleep_ms(20);
			free(v);
			assert_int_equal(wr_scan_prefix(prefix, &v, &k), 0);
			ok = true;
			for (size_t j = 0; j < k && ok; j++) {
				char *p = t_path(f->dir, v[j].name);
				struct ng_file ng;

				ng_read(p, &ng);
				ok = !ng.bad && t_read_check(p, T_SNAPLEN, NULL, 0) >= 0;
				free(p);
			}
		}
		assert_true(ok);
		assert_true(k > 0);
		free(v);
	}
	free(prefix);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(pcapng_bidirectional_read_by_tools),
		T(pcapng_rotation_and_filter_change),
		T(pcapng_network_stream),
		T(subscriber_gets_other_format),
		T(pcapng_complete_after_sigkill),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
