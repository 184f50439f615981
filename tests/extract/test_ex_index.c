/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * extract: the index format (round trip, damage and staleness detected,
 * nothing half-written), the keys of a packet and what a compiled
 * expression requires. Usage: test_ex_index [TEST-NAME-PATTERN]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include "extract/extract.h"

#define NREC 20000
#define T0 1796284800000000000ull

struct fx {
	char dir[64];
	char pcap[128];
};

/* Frame i: Ethernet (every 3rd with an 802.1Q tag, VID i%50), IPv4 UDP
 * 10.0.(i%200).1 -> 10.9.0.(i%7) ports 1000+i%300 -> 53, 100 bytes. */
static size_t frame(uint32_t i, uint8_t *f)
{
	size_t o = 12;

	memset(f, 0, 128);
	memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	if (i % 3 == 0) {
		f[o] = 0x81;
		f[o + 3] = (uint8_t)(i % 50);
		o += 4;
	}
	f[o] = 0x08;
	o += 2;
	uint8_t *ip = f + o;
	ip[0] = 0x45;
	ip[3] = 72;
	ip[8] = 64;
	ip[9] = 17;
	uint8_t src[4] = { 10, 0, (uint8_t)(i % 200), 1 }, dst[4] = { 10, 9, 0, (uint8_t)(i % 7) };
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t sp = htons((uint16_t)(1000 + i % 300)), dp = htons(53);
	memcpy(ip + 20, &sp, 2);
	memcpy(ip + 22, &dp, 2);
	return 100;
}

/* A pcap (ns) of NREC frames, 1 ms apart. */
static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	uint8_t f[128];

	strcpy(fx->dir, "/tmp/test_ex_index.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->pcap, sizeof(fx->pcap), "%s/c.pcap", fx->dir);
	FILE *fp = fopen(fx->pcap, "wb");
	assert_non_null(fp);
	uint32_t h[6] = { 0xa1b23c4d, 2 | 4 << 16, 0, 0, 65535, 1 };
	fwrite(h, sizeof(h), 1, fp);
	for (uint32_t i = 0; i < NREC; i++) {
		uint64_t ns = T0 + (uint64_t)i * 1000000;
		size_t len = frame(i, f);
		uint32_t r[4] = { (uint32_t)(ns / 1000000000), (uint32_t)(ns % 1000000000), (uint32_t)len,
				  (uint32_t)len };
		fwrite(r, sizeof(r), 1, fp);
		fwrite(f, len, 1, fp);
	}
	assert_int_equal(fclose(fp), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void idx_path(struct fx *fx, char *buf, size_t len)
{
	snprintf(buf, len, "%s.idx", fx->pcap);
}

static void build(struct fx *fx)
{
	char err[256] = "";

	if (ex_index_file(fx->pcap, err, sizeof(err)))
		fail_msg("%s", err);
}

static struct ex_key k4(const char *a)
{
	struct ex_key k = { .type = EX_KEY_IP4, .len = 4 };

	assert_int_equal(inet_pton(AF_INET, a, k.val), 1);
	return k;
}

static struct ex_key kport(uint16_t p)
{
	struct ex_key k = { .type = EX_KEY_PORT, .len = 2, .val = { (uint8_t)(p >> 8), (uint8_t)p } };
	return k;
}

static void round_trip(void **state)
{
	struct fx *fx = *state;
	struct ex_index *ix;
	char err[256];
	struct stat st;

	build(fx);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), 0);
	assert_int_equal(stat(fx->pcap, &st), 0);
	assert_int_equal(ix->pcap_size, (uint64_t)st.st_size);
	assert_int_equal(ix->records, NREC);
	assert_int_equal(ix->dlt, DLT_EN10MB);
	assert_int_equal(ix->snaplen, 65535);
	assert_true(ix->keys && ix->seekable);
	assert_int_equal(ix->min_ns, T0);
	assert_int_equal(ix->max_ns, T0 + (uint64_t)(NREC - 1) * 1000000);
	assert_true(ix->nblocks > 5);
	/* blocks: in order, each starting on a record, covering them all */
	uint64_t recs = 0, off = 24;
	for (uint32_t b = 0; b < ix->nblocks; b++) {
		assert_int_equal(ix->blocks[b].offset, off);
		assert_int_equal(ix->blocks[b].min_ns, T0 + recs * 1000000);
		assert_int_equal(ix->blocks[b].max_ns, T0 + (recs + ix->blocks[b].records - 1) * 1000000);
		/* every frame's keys are in its block's filter */
		for (uint32_t i = (uint32_t)recs; i < recs + ix->blocks[b].records; i++) {
			uint8_t f[128];
			struct ex_key keys[64];
			size_t n = ex_pkt_keys(DLT_EN10MB, f, (uint32_t)frame(i, f), keys, 64);
			assert_true(n >= 7 + (i % 3 == 0)); /* proto, 2 addrs (+3 nets each), 2 ports */
			for (size_t k = 0; k < n; k++)
				assert_true(ex_index_may_have(ix, b, &keys[k]));
		}
		recs += ix->blocks[b].records;
		off += (uint64_t)ix->blocks[b].records * (16 + 100);
	}
	assert_int_equal(recs, NREC);
	/* absent keys: mostly ruled out (false positives are allowed, rare) */
	unsigned int fp = 0, tries = 0;
	for (uint32_t b = 0; b < ix->nblocks; b++) {
		for (int h = 0; h < 100; h++, tries++) {
			char a[32];
			snprintf(a, sizeof(a), "172.16.%d.%u", h, b & 255);
			struct ex_key k = k4(a);
			fp += ex_index_may_have(ix, b, &k);
		}
	}
	assert_true(fp * 20 < tries);
	/* the budget */
	char ip[160];
	struct stat ist;
	idx_path(fx, ip, sizeof(ip));
	assert_int_equal(stat(ip, &ist), 0);
	assert_true((uint64_t)ist.st_size * 50 <= (uint64_t)st.st_size);
	ex_index_free(ix);
	/* no temporary file left beside it */
	DIR *d = opendir(fx->dir);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 2);
}

static void flip(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void damage_detected(void **state)
{
	struct fx *fx = *state;
	struct ex_index *ix;
	char err[256], ip[160];
	struct stat st;

	idx_path(fx, ip, sizeof(ip));
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), -ENOENT);
	build(fx);
	assert_int_equal(stat(ip, &st), 0);
	/* every byte of the header and of the block table */
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), 0);
	off_t table_end = 96 + (off_t)ix->nblocks * 48;
	ex_index_free(ix);
	for (off_t off = 0; off < table_end; off += (off < 96 ? 1 : 7)) {
		flip(ip, off);
		int r = ex_index_load(fx->pcap, &ix, err, sizeof(err));
		if (r != -EBADMSG)
			fail_msg("byte %lld flipped: %d", (long long)off, r);
		assert_non_null(strstr(err, "damaged"));
		flip(ip, off);
	}
	/* a Bloom filter byte: that block may match anything, the others not */
	flip(ip, table_end + 5);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), 0);
	struct ex_key absent = k4("172.31.1.1"), present = k4("10.9.0.3");
	assert_true(ex_index_may_have(ix, 0, &absent));
	assert_false(ix->blocks[0].bloom_ok);
	assert_true(ex_index_may_have(ix, 1, &present));
	assert_true(ix->blocks[1].bloom_ok);
	ex_index_free(ix);
	flip(ip, table_end + 5);
	/* cut short, or longer */
	assert_int_equal(truncate(ip, st.st_size - 1), 0);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), -EBADMSG);
	build(fx);
	int fd = open(ip, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), -EBADMSG);
	/* empty */
	assert_int_equal(truncate(ip, 0), 0);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), -EBADMSG);
}

static void stale_detected(void **state)
{
	struct fx *fx = *state;
	struct ex_index *ix;
	char err[256];

	build(fx);
	FILE *fp = fopen(fx->pcap, "ab");
	uint8_t f[128];
	uint32_t r[4] = { (uint32_t)(T0 / 1000000000) + 100, 0, 100, 100 };
	fwrite(r, sizeof(r), 1, fp);
	fwrite(f, frame(0, f), 1, fp);
	fclose(fp);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "stale"));
	build(fx);
	/* another capture of the same size in its place */
	fp = fopen(fx->pcap, "r+b");
	fseek(fp, -50, SEEK_END);
	fputc('!', fp);
	fclose(fp);
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "stale"));
	build(fx); /* rebuilt: good again */
	assert_int_equal(ex_index_load(fx->pcap, &ix, err, sizeof(err)), 0);
	assert_int_equal(ix->records, NREC + 1);
	ex_index_free(ix);
}

static void bad_input_leaves_nothing(void **state)
{
	struct fx *fx = *state;
	char err[256] = "", p[160];

	snprintf(p, sizeof(p), "%s/junk", fx->dir);
	FILE *fp = fopen(p, "wb");
	fputs("this is not a capture file at all\n", fp);
	fclose(fp);
	assert_int_not_equal(ex_index_file(p, err, sizeof(err)), 0);
	assert_true(strlen(err) > 0);
	snprintf(p, sizeof(p), "%s/missing", fx->dir);
	assert_int_equal(ex_index_file(p, err, sizeof(err)), -ENOENT);
	DIR *d = opendir(fx->dir);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 2); /* c.pcap and junk: no index, no temporary */
}

static void packet_keys(void **state)
{
	/* QinQ 10/100, IPv6 UDP 2001:db8::1 -> 2001:db8::2, 5353 -> 53 */
	uint8_t f[128] = { 0 };
	struct ex_key k[64];

	f[12] = 0x88, f[13] = 0xa8, f[15] = 10, f[16] = 0x81, f[17] = 0x00, f[18] = 0x10, f[19] = 100;
	f[20] = 0x86, f[21] = 0xdd;
	uint8_t *ip = f + 22;
	ip[0] = 0x60, ip[6] = 17, ip[7] = 64;
	inet_pton(AF_INET6, "2001:db8::1", ip + 8);
	inet_pton(AF_INET6, "2001:db8::2", ip + 24);
	ip[40] = 5353 >> 8, ip[41] = 5353 & 255, ip[43] = 53;
	size_t n = ex_pkt_keys(DLT_EN10MB, f, 22 + 48, k, 64);
	assert_int_equal(n, 7);
	assert_int_equal(k[0].type, EX_KEY_VLAN);
	assert_int_equal(k[0].val[1], 10);
	assert_int_equal(k[1].type, EX_KEY_VLAN);
	assert_int_equal(k[1].val[1], 100);
	assert_int_equal(k[1].val[0], 0); /* priority bits dropped */
	assert_int_equal(k[2].type, EX_KEY_PROTO);
	assert_int_equal(k[3].type, EX_KEY_IP6);
	assert_int_equal(k[3].val[15], 1);
	assert_int_equal(k[4].val[15], 2);
	assert_int_equal(k[5].type, EX_KEY_PORT);
	assert_int_equal(k[6].val[1], 53);
	/* cut after the addresses: no ports; raw IP; another link type: none */
	assert_int_equal(ex_pkt_keys(DLT_EN10MB, f, 22 + 40, k, 64), 5);
	assert_int_equal(ex_pkt_keys(DLT_RAW, ip, 48, k, 64), 5);
	assert_int_equal(ex_pkt_keys(DLT_LINUX_SLL, f, 70, k, 64), 0);
	/* a tag but no room for the inner ethertype: its VLAN key still */
	assert_int_equal(ex_pkt_keys(DLT_EN10MB, f, 16, k, 64), 1);
}

/* What `expr` requires, for link type dlt. */
static void need(int dlt, const char *expr, struct ex_need *nd)
{
	pcap_t *p = pcap_open_dead(dlt, 262144);
	struct bpf_program prog;

	assert_non_null(p);
	if (pcap_compile(p, &prog, expr, 1, 0))
		fail_msg("%s: %s", expr, pcap_geterr(p));
	assert_int_equal(ex_need_from_bpf(dlt, prog.bf_insns, prog.bf_len, nd), 0);
	pcap_freecode(&prog);
	pcap_close(p);
}

static bool alt_has(const struct ex_need_alt *a, const struct ex_key *k)
{
	for (size_t i = 0; i < a->nkeys; i++)
		if (a->keys[i].type == k->type && a->keys[i].len == k->len &&
		    !memcmp(a->keys[i].val, k->val, k->len))
			return true;
	return false;
}

/* Every alternative of expr requires key k. */
static void all_need(int dlt, const char *expr, struct ex_key k)
{
	struct ex_need nd;

	need(dlt, expr, &nd);
	if (!nd.narrowable)
		fail_msg("'%s' not narrowed", expr);
	for (size_t i = 0; i < nd.nalt; i++)
		if (!alt_has(&nd.alts[i], &k))
			fail_msg("'%s': alternative %zu lacks the key", expr, i);
	ex_need_free(&nd);
}

static void not_narrowed(int dlt, const char *expr)
{
	struct ex_need nd;

	need(dlt, expr, &nd);
	if (nd.narrowable)
		fail_msg("'%s' narrowed", expr);
	ex_need_free(&nd);
}

static void query_keys(void **state)
{
	struct ex_key v100 = { .type = EX_KEY_VLAN, .len = 2, .val = { 0, 100 } };
	struct ex_key p17 = { .type = EX_KEY_PROTO, .len = 1, .val = { 47 } };
	struct ex_key n16 = { .type = EX_KEY_NET4, .len = 5, .val = { 10, 1, 0, 0, 16 } };
	struct ex_key a6 = { .type = EX_KEY_IP6, .len = 16 };

	inet_pton(AF_INET6, "2001:db8::1f", a6.val);
	all_need(DLT_EN10MB, "host 10.0.0.1", k4("10.0.0.1"));
	all_need(DLT_EN10MB, "src host 10.0.0.1 and tcp", k4("10.0.0.1"));
	all_need(DLT_EN10MB, "port 53", kport(53));
	all_need(DLT_EN10MB, "udp port 53 and host 10.0.0.1", kport(53));
	all_need(DLT_EN10MB, "udp port 53 and host 10.0.0.1", k4("10.0.0.1"));
	all_need(DLT_EN10MB, "vlan 100", v100);
	all_need(DLT_EN10MB, "vlan 100 and host 10.0.0.1", k4("10.0.0.1"));
	all_need(DLT_EN10MB, "vlan 100 and port 53", kport(53));
	all_need(DLT_EN10MB, "ip proto 47", p17);
	all_need(DLT_EN10MB, "ip6 host 2001:db8::1f", a6);
	all_need(DLT_EN10MB, "net 10.1.0.0/16", n16);
	all_need(DLT_RAW, "host 10.0.0.1", k4("10.0.0.1"));
	all_need(DLT_RAW, "port 53", kport(53));
	/* udp narrows to the protocol (which every block of mixed traffic has) */
	struct ex_key p_udp = { .type = EX_KEY_PROTO, .len = 1, .val = { 17 } };
	all_need(DLT_EN10MB, "udp", p_udp);
	not_narrowed(DLT_EN10MB, "udp or arp");
	not_narrowed(DLT_EN10MB, "len > 100");
	not_narrowed(DLT_EN10MB, "ip[2:2] > 500");
	not_narrowed(DLT_EN10MB, "not host 10.0.0.1");
	not_narrowed(DLT_EN10MB, "host 10.0.0.1 or len > 100");
	not_narrowed(DLT_EN10MB, "net 10.1.128.0/17");
	not_narrowed(DLT_EN10MB, "ether host 02:00:00:00:00:01");
	not_narrowed(DLT_EN10MB, "");
	not_narrowed(DLT_LINUX_SLL, "host 10.0.0.1");
	/* either of two hosts: two alternatives, one each */
	struct ex_need nd;
	need(DLT_EN10MB, "host 10.0.0.1 or host 10.0.0.2", &nd);
	assert_true(nd.narrowable);
	struct ex_key a = k4("10.0.0.1"), b = k4("10.0.0.2");
	for (size_t i = 0; i < nd.nalt; i++)
		assert_true(alt_has(&nd.alts[i], &a) != alt_has(&nd.alts[i], &b));
	ex_need_free(&nd);
}

struct membuf {
	char *p;
	size_t len, cap;
	int fail_after; /* calls; -1 never */
};

static ssize_t mem_write(void *arg, const char *buf, size_t len)
{
	struct membuf *m = arg;

	if (m->fail_after >= 0 && m->fail_after-- == 0)
		return -1;
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return (ssize_t)len;
}

/* The REST route's way: the answer through a write callback, the same
 * bytes as through a FILE; a callback refusing stops the query. */
static void write_callback(void **state)
{
	struct fx *fx = *state;
	const char *files[] = { fx->pcap };
	struct ex_opts o = { .files = files, .nfiles = 1, .expr = "udp and not vlan" };
	struct membuf m = { .fail_after = -1 };
	struct ex_stats st;
	char err[256], *fbuf = NULL;
	size_t flen = 0;

	build(fx);
	o.out = open_memstream(&fbuf, &flen);
	assert_int_equal(ex_extract(&o, &st, err, sizeof(err)), 0);
	fclose(o.out);
	assert_int_equal(st.records_out, NREC - (NREC + 2) / 3);
	assert_int_equal(flen, 24 + st.records_out * (16 + 100));
	o.out = NULL;
	o.write = mem_write;
	o.write_arg = &m;
	assert_int_equal(ex_extract(&o, &st, err, sizeof(err)), 0);
	assert_int_equal(m.len, flen);
	assert_memory_equal(m.p, fbuf, flen);
	m.len = 0;
	m.fail_after = 2;
	assert_int_equal(ex_extract(&o, &st, err, sizeof(err)), -EIO);
	assert_true(st.records_out < NREC - (NREC + 2) / 3);
	free(m.p);
	free(fbuf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(round_trip), T(damage_detected), T(stale_detected), T(bad_input_leaves_nothing),
		T(packet_keys), T(query_keys), T(write_callback),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
