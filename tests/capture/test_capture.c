/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The capture core end to end (the real xdp/ programs, afxdp, writer), run in a
 * netns by run_capture.sh:
 *   test_capture IFACE OUTDIR SEND_CMD_SLOW SEND_CMD_SHORT
 * SEND_CMD_SLOW sends datagrams alternating ports 40100/40101 until
 * OUTDIR/stop exists (then writes their number to OUTDIR/stop.count); while
 * it runs the filter is widened from port 40100 to both ports, the snaplen
 * is cut to 100, and a refused change (bad filter + snaplen) must change
 * nothing. Then the dump moves to a second file and
 * SEND_CMD_SHORT sends 100 more. Checks: no datagram to 40100 lost across
 * the changes, 40101 captured only after the widening, caplen cut after the
 * snaplen change, the second file holds exactly the last 100, the final
 * counters add up, and a delete leaves no program, filter or socket behind.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "filtergen/filtergen.h"
#include "afxdp/test_afxdp_util.h"

static int failures;
#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			failures++;                                                       \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
		}                                                                         \
	} while (0)

#define HDR 42u
#define NSEQ_MAX 10000000u
#define NSHORT 100u

static uint32_t payload_len(uint32_t seq) /* as send_udp.py */
{
	return 18 + (seq * 37) % 1400;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

struct final {
	bool called;
	struct cap_stats st;
};

static void on_final(const struct cap_cfg *cfg, const struct cap_stats *st,
		     void *arg)
{
	struct final *f = arg;

	f->called = true;
	f->st = *st;
}

struct file_check {
	uint32_t records, port0, port1, cut, full, bad;
	uint64_t first_port1_ts, last_full_ts, first_cut_ts;
	uint8_t *hit0; /* seqs seen on port 40100 */
};

static void read_pcap(const char *path, uint32_t nseq, struct file_check *c)
{
	static uint8_t p[65536];
	uint32_t fh[6], h[4];
	FILE *f = fopen(path, "rb");

	memset(c, 0, sizeof(*c));
	c->hit0 = calloc(nseq, 1);
	CHECK(f, "%s: %s", path, strerror(errno));
	if (!f)
		return;
	CHECK(fread(fh, sizeof(fh), 1, f) == 1 && fh[0] == 0xa1b23c4d, "%s: header", path);
	while (fread(h, sizeof(h), 1, f) == 1) {
		uint64_t ts = (uint64_t)h[0] * 1000000000ull + h[1];
		uint32_t seq, port, len;

		if (h[2] > sizeof(p) || fread(p, 1, h[2], f) != h[2]) {
			CHECK(0, "%s: truncated", path);
			break;
		}
		c->records++;
		if (h[2] < HDR + 4) {
			c->bad++;
			continue;
		}
		seq = (uint32_t)p[HDR] << 24 | p[HDR + 1] << 16 | p[HDR + 2] << 8 | p[HDR + 3];
		port = (uint32_t)p[36] << 8 | p[37];
		len = HDR + payload_len(seq);
		if (seq >= nseq || h[3] != len || (port != 40100 && port != 40101)) {
			c->bad++;
			continue;
		}
		if (port == 40100) {
			c->port0++;
			c->hit0[seq] = 1;
		} else {
			c->port1++;
			if (!c->first_port1_ts || ts < c->first_port1_ts)
				c->first_port1_ts = ts;
		}
		if (h[2] == len) {
			c->full++;
			if (ts > c->last_full_ts && len > 100)
				c->last_full_ts = ts;
		} else if (h[2] == 100) {
			c->cut++;
			if (!c->first_cut_ts || ts < c->first_cut_ts)
				c->first_cut_ts = ts;
		} else {
			c->bad++;
		}
	}
	fclose(f);
}

static pid_t spawn(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st = 0;

	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	struct cap_cfg cfg = { 0 }, now, change;
	struct cap_stats st;
	struct cap_core *k = NULL;
	struct fg_pcapd *pcapd = NULL;
	struct file_check a, b;
	struct final fin = { 0 };
	char err[2048], cmd[512], run_dir[4200], path[4200];
	uint64_t t_widen, t_snap, t_snap_end;
	uint32_t i, nslow = 0, missing = 0;
	pid_t sender;
	int ret;

	if (argc != 5) {
		fprintf(stderr, "usage: %s IFACE OUTDIR SEND_SLOW SEND_SHORT\n", argv[0]);
		return 2;
	}
	snprintf(cfg.name, sizeof(cfg.name), "dpbcap");
	snprintf(cfg.iface, sizeof(cfg.iface), "%s", argv[1]);
	cfg.mode = CAP_MODE_INGRESS;
	snprintf(cfg.filter, sizeof(cfg.filter), "udp dst port 40100");
	cfg.snaplen = 262144;
	snprintf(cfg.dump, sizeof(cfg.dump), "%s/first", argv[2]);
	snprintf(run_dir, sizeof(run_dir), "%s/run", argv[2]);
	/* 8192 frames per queue: seconds of slack if a loaded machine
	 * keeps a worker from running. */
	struct cap_core_opts opts = { .dp = { .run_dir = run_dir,
					      .ring_size = 8192,
					      .ingress_path = CAP_INGRESS_AFXDP },
				      .on_final = on_final,
				      .final_arg = &fin };

	/* as start does: the core's threads run while filters compile */
	ret = fg_pcapd_start(&pcapd);
	if (ret) {
		fprintf(stderr, "the compiler helper: %s\n", strerror(-ret));
		return 1;
	}
	opts.pcapd = pcapd;
	ret = cap_core_open(&opts, &k, err, sizeof(err));
	if (!ret)
		ret = cap_add(k, &cfg, CAP_F_MODE | CAP_F_FILTER | CAP_F_SNAPLEN | CAP_F_DUMP,
			      NULL, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "create: %s\n", err);
		return 1;
	}
	cap_get(k, cfg.name, NULL, &st);
	CHECK(st.queues == 4, "%u AF_XDP workers on a 4-queue veth", st.queues);
	CHECK(xdp_sockets() == 4, "%d AF_XDP sockets", xdp_sockets());

	sender = spawn(argv[3]);
	usleep(600000);
	change = cfg;
	snprintf(change.filter, sizeof(change.filter), "udp dst portrange 40100-40101");
	t_widen = now_ns();
	ret = cap_set(k, cfg.name, &change, CAP_F_FILTER, NULL, err, sizeof(err));
	CHECK(!ret, "widen the filter: %s", err);
	usleep(300000);
	change.snaplen = 100;
	t_snap = now_ns();
	ret = cap_set(k, cfg.name, &change, CAP_F_SNAPLEN, NULL, err, sizeof(err));
	t_snap_end = now_ns();
	CHECK(!ret, "snaplen 100: %s", err);
	/* All or nothing: a bad filter also refuses the snaplen with it. */
	change.snaplen = 50;
	snprintf(change.filter, sizeof(change.filter), "udp dst port");
	err[0] = 0;
	ret = cap_set(k, cfg.name, &change, CAP_F_FILTER | CAP_F_SNAPLEN, NULL, err,
		      sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "syntax error"), "bad filter: %d %s", ret, err);
	cap_get(k, cfg.name, &now, NULL);
	CHECK(now.snaplen == 100 && !strcmp(now.filter, "udp dst portrange 40100-40101"),
	      "refused change changed things: snaplen %u filter '%s'", now.snaplen, now.filter);
	/* A missing dump folder is refused as well. */
	snprintf(change.dump, sizeof(change.dump), "%s/no/such/dir/x", argv[2]);
	ret = cap_set(k, cfg.name, &change, CAP_F_DUMP, NULL, err, sizeof(err));
	CHECK(ret < 0, "missing dump folder accepted");
	usleep(300000);
	snprintf(path, sizeof(path), "%s/stop", argv[2]);
	fclose(fopen(path, "w"));
	CHECK(reap(sender) == 0, "slow sender failed");
	snprintf(path, sizeof(path), "%s/stop.count", argv[2]);
	FILE *cf = fopen(path, "r");
	CHECK(cf && fscanf(cf, "%u", &nslow) == 1 && nslow > 0, "no count from the sender");
	if (cf)
		fclose(cf);
	usleep(300000);

	snprintf(change.dump, sizeof(change.dump), "%s/second", argv[2]);
	ret = cap_set(k, cfg.name, &change, CAP_F_DUMP, NULL, err, sizeof(err));
	CHECK(!ret, "dump change: %s", err);
	snprintf(cmd, sizeof(cmd), "%s", argv[4]);
	CHECK(reap(spawn(cmd)) == 0, "short sender failed");
	usleep(300000);

	ret = cap_del(k, cfg.name, err, sizeof(err));
	CHECK(!ret, "delete: %s", err);
	CHECK(fin.called, "no final counters");
	st = fin.st;
	printf("final: seen %llu matched %llu written %llu dropped %llu received %llu\n",
	       (unsigned long long)st.seen, (unsigned long long)st.matched,
	       (unsigned long long)st.written, (unsigned long long)st.dropped,
	       (unsigned long long)st.received);
	CHECK(st.matched == st.written + st.dropped, "counters don't add up");
	CHECK(st.dropped == 0, "%llu dropped", (unsigned long long)st.dropped);
	CHECK(st.received == st.written, "received %llu written %llu",
	      (unsigned long long)st.received, (unsigned long long)st.written);

	/* Nothing left on the interface. */
	snprintf(cmd, sizeof(cmd), "ip link show dev %s | grep -q xdp", argv[1]);
	CHECK(system(cmd) != 0, "an XDP program is still attached");
	snprintf(cmd, sizeof(cmd), "tc filter show dev %s egress | grep -q .", argv[1]);
	CHECK(system(cmd) != 0, "a TC egress filter is still there");
	CHECK(xdp_sockets() == 0, "%d AF_XDP sockets left", xdp_sockets());

	snprintf(path, sizeof(path), "%s/first.pcap", argv[2]);
	read_pcap(path, NSEQ_MAX, &a);
	snprintf(path, sizeof(path), "%s/second.pcap", argv[2]);
	read_pcap(path, NSEQ_MAX, &b);
	printf("first: %u records (40100: %u, 40101: %u, cut %u); second: %u\n", a.records,
	       a.port0, a.port1, a.cut, b.records);
	CHECK(a.records + b.records == st.written, "files hold %u, written %llu",
	      a.records + b.records, (unsigned long long)st.written);
	CHECK(!a.bad && !b.bad, "bad records: %u %u", a.bad, b.bad);
	for (i = 0; i < nslow; i += 2)
		missing += !a.hit0[i];
	CHECK(a.port0 == (nslow + 1) / 2 && !missing, "port 40100: %u of %u, %u missing",
	      a.port0, (nslow + 1) / 2, missing);
	CHECK(a.port1 > 0 && a.port1 < nslow / 2, "port 40101: %u of %u", a.port1, nslow / 2);
	/* Stamps vs. our clock: allow 1 ms for the offset's accuracy. */
	CHECK(a.first_port1_ts + 1000000 >= t_widen,
	      "40101 captured before the filter change: first %llu, change at %llu",
	      (unsigned long long)a.first_port1_ts, (unsigned long long)t_widen);
	CHECK(a.cut > 0 && a.first_cut_ts + 1000000 >= t_snap,
	      "snaplen cut: %u records, first at %llu (set at %llu)", a.cut,
	      (unsigned long long)a.first_cut_ts, (unsigned long long)t_snap);
	CHECK(a.last_full_ts <= t_snap_end + 1000000,
	      "a record of more than 100 bytes kept whole after the snaplen change");
	CHECK(b.records == NSHORT && b.port0 == NSHORT, "second file: %u records", b.records);
	CHECK(b.full + b.cut == NSHORT, "second file: caplen not min(len, 100)");
	free(a.hit0);
	free(b.hit0);
	cap_core_close(k);
	fg_pcapd_stop(pcapd);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
