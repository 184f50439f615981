/* SPDX-License-Identifier: BSD-2-Clause */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/writer/wr_test_util.h"

static uint32_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

void t_make(struct t_rec *t, uint32_t p, uint64_t id, uint32_t snaplen)
{
	uint32_t h = mix(((uint64_t)p << 40) ^ id);
	uint32_t len = 14 + h % (T_MAXREC - 14);
	uint32_t cap = len < snaplen ? len : snaplen;

	memcpy(t->buf, &p, 4);
	memcpy(t->buf + 4, &id, 8);
	for (uint32_t i = 12; i < cap; i++)
		t->buf[i] = (uint8_t)(h + i * 7);
	t->r.data = t->buf;
	t->r.cap_len = cap;
	t->r.wire_len = len + (h >> 24) % 3;
	/* spread over seconds, with every nanosecond digit used */
	t->r.ts_ns = 1700000000ull * 1000000000ull + id * 1234567ull + p * 7ull;
}

long t_read_check(const char *path, uint32_t snaplen, struct t_seen *seen, size_t max)
{
	return t_read_check2(path, snaplen, seen, max, false);
}

long t_read_check2(const char *path, uint32_t snaplen, struct t_seen *seen, size_t max,
		   bool cut_tail_ok)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint32_t magic = 0;
	long n = 0;
	FILE *f;
	pcap_t *pc;
	int r;

	f = fopen(path, "rb");
	if (!f || fread(&magic, 4, 1, f) != 1) {
		fprintf(stderr, "%s: cannot read the magic\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	if (magic != 0xa1b23c4d && magic != 0x0a0d0d0a) {
		fprintf(stderr, "%s: magic %#x, not nanosecond pcap or pcapng\n", path, magic);
		return -1;
	}
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!pc) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB || (uint32_t)pcap_snapshot(pc) != snaplen) {
		fprintf(stderr, "%s: linktype %d snaplen %d\n", path, pcap_datalink(pc),
			pcap_snapshot(pc));
		goto bad;
	}
	while ((r = pcap_next_ex(pc, &ph, &data)) == 1) {
		struct t_rec t;
		uint32_t p;
		uint64_t id;

		if (ph->caplen < 12) {
			fprintf(stderr, "record %ld: caplen %u\n", n, ph->caplen);
			goto bad;
		}
		memcpy(&p, data, 4);
		memcpy(&id, data + 4, 8);
		t_make(&t, p, id, snaplen);
		uint64_t ts = (uint64_t)ph->ts.tv_sec * 1000000000ull + (uint64_t)ph->ts.tv_usec;

		if (ph->caplen != t.r.cap_len || ph->len != t.r.wire_len || ts != t.r.ts_ns ||
		    memcmp(data, t.buf, t.r.cap_len)) {
			fprintf(stderr, "record %ld (p %u id %lu): caplen %u/%u len %u/%u ts %lu/%lu or data differ\n",
				n, p, (unsigned long)id, ph->caplen, t.r.cap_len, ph->len,
				t.r.wire_len, (unsigned long)ts, (unsigned long)t.r.ts_ns);
			goto bad;
		}
		if (seen && (size_t)n < max)
			seen[n] = (struct t_seen){ p, id };
		n++;
	}
	if (r != PCAP_ERROR_BREAK &&
	    !(cut_tail_ok && strstr(pcap_geterr(pc), "truncated dump file"))) {
		/* -1: e.g. "truncated dump file": a partial record */
		fprintf(stderr, "%s: after %ld records: %s\n", path, n, pcap_geterr(pc));
		goto bad;
	}
	pcap_close(pc);
	return n;
bad:
	pcap_close(pc);
	return -1;
}

char *t_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *d;

	if (asprintf(&d, "%s/wr-test-XXXXXX", base && *base ? base : "/tmp") < 0)
		abort();
	if (!mkdtemp(d))
		abort();
	return d;
}

void t_rmdir(char *dir)
{
	DIR *d = getenv("WR_TEST_KEEP") ? NULL : opendir(dir); /* keep: debugging */
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = t_path(dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d) {
		closedir(d);
		rmdir(dir);
	}
	free(dir);
}

char *t_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

void t_put_all(struct wr_stream *s, uint32_t p, uint64_t first, uint64_t n, uint32_t snaplen)
{
	struct timespec ts = { 0, 200000 };
	struct t_rec t;

	for (uint64_t id = first; id < first + n; id++) {
		t_make(&t, p, id, snaplen);
		while (wr_put(s, &t.r) == -ENOBUFS)
			nanosleep(&ts, NULL);
	}
}

bool t_wait_records(struct wr_writer *w, uint64_t n, int ms)
{
	struct timespec ts = { 0, 1000000 };
	struct wr_stats st;

	for (int i = 0; i <= ms; i++) {
		wr_get_stats(w, &st);
		if (st.records >= n)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

int t_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	r = system(cmd);
	free(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}
