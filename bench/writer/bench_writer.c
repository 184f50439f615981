/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_writer: the pcap writer's backends head to head.
 *
 *   bench_writer [-d DIR] [-n RECORDS] [-s FRAME_BYTES] [-r RUNS] [-p PRODUCERS]
 *                [-b BUF_KIB] [-k NBUFS] [-m] [-R ROTATE_BYTES] [-T ROTATE_SECONDS]
 *                [-F] [-V VARIANT] [-W REORDER_NS] [-P MREC_PER_S]
 *
 * For each variant (io_uring/pwrite x buffered/O_DIRECT) it writes RECORDS
 * frames of FRAME_BYTES through wr_put from PRODUCERS threads, as fast as
 * the writer takes them (a refused put is retried, so nothing is lost and
 * the rate is the writer's). Reported per variant, median over RUNS:
 *   rec/s, GB/s until wr_close returned (everything handed to the kernel),
 *   GB/s including a final fdatasync (on the disk), CPU cores used, writes,
 *   and how often producers found no free buffer.
 * -R / -T rotate (files PREFIX-N-...; the record times are the wall clock),
 * -F writes pcapng, -V runs only variant VARIANT (0 io_uring buffered,
 * 1 io_uring O_DIRECT, 2 pwrite buffered, 3 pwrite O_DIRECT): the cost of
 * rotation and pcapng against the same variant without.
 * -W merges the producers' records into time order with that window
 * (wr_opts.reorder_ns; the records' times follow the wall clock, one step
 * per record, so the streams interleave record by record).
 * -P paces the producers to that total rate (records per second, in
 * millions; they sleep when ahead of schedule, and a record's time is its
 * place in the schedule, the producers' schedules interleaved): then the
 * CPU cores used are the figure, at a capture-like rate rather than the
 * writer's maximum.
 * -m prints a Markdown table row per variant. (-d /dev/null, the null
 * device, is no longer possible: the writer refuses to write to devices.)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "writer/writer.h"

struct cfg {
	const char *dir;
	uint64_t n;
	uint32_t size;
	int runs;
	int producers;
	size_t buf;
	unsigned int nbufs;
	bool md;
	uint64_t rotate_bytes;
	uint32_t rotate_seconds;
	bool ng;
	int only;
	uint32_t reorder_ns;
	double pace; /* records/s in all, 0 = as fast as possible */
};

struct result {
	double rps, gbps, gbps_sync, cpu, wcpu;
	uint64_t writes, retries, files, late;
	bool direct;
};

struct prod {
	struct wr_writer *w;
	uint64_t n;
	uint32_t size;
	uint64_t retries;
	int err;
	double pace; /* this producer's records/s, 0 = no pacing */
	int id, np;  /* which of how many producers */
	double cpu;  /* this thread's CPU seconds */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void *producer(void *arg)
{
	struct prod *p = arg;
	uint8_t frame[9000];
	struct wr_stream *s;
	struct wr_rec r = { .data = frame, .cap_len = p->size, .wire_len = p->size };
	struct timespec t;
	uint64_t t0 = 0, step = 0;
	double start = now_s();

	memset(frame, 0x5a, sizeof(frame));
	p->err = wr_stream_new(p->w, &s);
	if (p->err)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &t);
	t0 = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	for (uint64_t i = 0; i < p->n; i++) {
		if (p->pace > 0) {
			/* paced: a record's time is its arrival on schedule
			 * (the producers' schedules interleaved), taken no
			 * earlier than 64 records ahead of it */
			double at = (double)i / p->pace + (double)p->id / (p->pace * p->np);

			if ((i & 63) == 0 && at - (now_s() - start) > 0) {
				double ahead = at - (now_s() - start);
				struct timespec d = { (time_t)ahead,
						      (long)((ahead - (double)(time_t)ahead) * 1e9) };

				nanosleep(&d, NULL);
			}
			r.ts_ns = t0 + (uint64_t)(at * 1e9);
		} else if ((i & 1023) == 0) {
			/* the wall clock every 1024 records, in between a step
			 * per record of the last block's mean spacing */
			uint64_t now;

			clock_gettime(CLOCK_REALTIME, &t);
			now = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
			step = t0 && now > t0 ? (now - t0) / 1024 : 0;
			t0 = now;
			r.ts_ns = now;
		} else {
			r.ts_ns += step;
		}
		memcpy(frame, &i, sizeof(i));
		while (wr_put(s, &r) == -ENOBUFS) {
			p->retries++;
			sched_yield();
		}
	}
	wr_stream_free(s);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	p->cpu = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
	return NULL;
}

static int run_once(const struct cfg *c, enum wr_backend be, enum wr_direct dio,
		    struct result *res)
{
	char path[4096];
	struct wr_opts o = {
		.path = path, .snaplen = 9000, .backend = be, .direct = dio,
		.buf_size = c->buf, .nbufs = c->nbufs,
		.rotate_bytes = c->rotate_bytes, .rotate_seconds = c->rotate_seconds,
		.prefix = path, .format = c->ng ? WR_FMT_PCAPNG : WR_FMT_PCAP,
		.file_gid = (gid_t)-1, .reorder_ns = c->reorder_ns,
	};
	bool rot = c->rotate_bytes || c->rotate_seconds;
	struct wr_file_info *files = NULL;
	size_t nfiles = 0;
	struct prod p[16];
	pthread_t th[16];
	struct wr_writer *w;
	struct wr_stats st;
	double t0, t1, t2, c0, c1;
	int ret, fd;

	snprintf(path, sizeof(path), "%s/bench-writer-%d%s", c->dir, (int)getpid(),
		 rot ? "" : c->ng ? ".pcapng" : ".pcap");
	ret = wr_open(&o, &w);
	if (ret)
		return ret;
	t0 = now_s();
	c0 = cpu_s();
	for (int i = 0; i < c->producers; i++) {
		p[i] = (struct prod){ .w = w, .n = c->n / (uint64_t)c->producers, .size = c->size,
				      .pace = c->pace / c->producers, .id = i, .np = c->producers };
		pthread_create(&th[i], NULL, producer, &p[i]);
	}
	res->retries = 0;
	double pcpu = 0;

	for (int i = 0; i < c->producers; i++) {
		pthread_join(th[i], NULL);
		res->retries += p[i].retries;
		pcpu += p[i].cpu;
	}
	wr_get_stats(w, &st);
	ret = wr_close(w);
	t1 = now_s();
	c1 = cpu_s();
	fd = open(rot ? c->dir : path, O_RDONLY);
	if (fd >= 0) {
		if (rot)
			syncfs(fd);
		else
			fdatasync(fd);
		close(fd);
	}
	t2 = now_s();
	if (rot && !wr_scan_prefix(path, &files, &nfiles)) {
		for (size_t i = 0; i < nfiles; i++) {
			char p[4200];

			snprintf(p, sizeof(p), "%s/%s", c->dir, files[i].name);
			unlink(p);
		}
		res->files = nfiles;
		free(files);
	} else {
		struct stat sb;

		/* every record in the file (pcap: the size says so) */
		if (!c->ng && !stat(path, &sb) &&
		    (uint64_t)sb.st_size != 24 + c->n / (uint64_t)c->producers *
						   (uint64_t)c->producers * (16 + c->size)) {
			fprintf(stderr, "%s: %lld bytes, not what was put\n", path,
				(long long)sb.st_size);
			ret = -EIO;
		}
		unlink(path);
	}
	if (ret)
		return ret;
	double bytes = 24.0 + (double)c->n * (c->ng ? 32.0 + ((c->size + 3) & ~3u)
						  : 16.0 + c->size);

	res->rps = (double)c->n / (t1 - t0);
	res->gbps = bytes / (t1 - t0) / 1e9;
	res->gbps_sync = bytes / (t2 - t0) / 1e9;
	res->cpu = (c1 - c0) / (t1 - t0);
	/* the rest: writer thread, io_uring workers (and the main thread) */
	res->wcpu = (c1 - c0 - pcpu) / (t1 - t0);
	res->writes = st.writes;
	res->late = st.late;
	res->direct = st.direct;
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	struct cfg c = { .dir = "/var/tmp", .n = 10000000, .size = 64, .runs = 3,
			 .producers = 1, .buf = 0, .nbufs = 0 };
	static const struct {
		const char *name;
		enum wr_backend be;
		enum wr_direct dio;
	} var[] = {
		{ "io_uring buffered", WR_BACKEND_URING, WR_DIRECT_OFF },
		{ "io_uring O_DIRECT", WR_BACKEND_URING, WR_DIRECT_ON },
		{ "pwrite buffered", WR_BACKEND_PWRITE, WR_DIRECT_OFF },
		{ "pwrite O_DIRECT", WR_BACKEND_PWRITE, WR_DIRECT_ON },
	};
	int opt;

	c.only = -1;
	while ((opt = getopt(argc, argv, "d:n:s:r:p:b:k:mR:T:FV:W:P:h")) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'n': c.n = strtoull(optarg, NULL, 0); break;
		case 's': c.size = (uint32_t)atoi(optarg); break;
		case 'r': c.runs = atoi(optarg); break;
		case 'p': c.producers = atoi(optarg); break;
		case 'b': c.buf = (size_t)atoi(optarg) * 1024; break;
		case 'k': c.nbufs = (unsigned int)atoi(optarg); break;
		case 'm': c.md = true; break;
		case 'R': c.rotate_bytes = strtoull(optarg, NULL, 0); break;
		case 'T': c.rotate_seconds = (uint32_t)atoi(optarg); break;
		case 'F': c.ng = true; break;
		case 'V': c.only = atoi(optarg); break;
		case 'W': c.reorder_ns = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': c.pace = atof(optarg) * 1e6; break;
		default:
			fprintf(stderr, "usage: %s [-d DIR] [-n RECORDS] [-s FRAME_BYTES] [-r RUNS] "
				"[-p PRODUCERS] [-b BUF_KIB] [-k NBUFS] [-m] [-R BYTES] [-T SECONDS] "
				"[-F] [-V VARIANT] [-W REORDER_NS] [-P MREC_PER_S]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (c.runs < 1 || c.runs > 15 || c.producers < 1 || c.producers > 16 ||
	    c.size < 14 || c.size > 9000 || !c.n) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	if (!c.md)
		printf("%lu records of %u bytes, %d producer(s), %d runs (medians)\n",
		       (unsigned long)c.n, c.size, c.producers, c.runs);
	for (size_t v = 0; v < sizeof(var) / sizeof(var[0]); v++) {
		double rps[15], gb[15], gbs[15], cpu[15], wcpu[15];
		struct result r = { 0 };
		uint64_t retries = 0, late = 0;

		if (c.only >= 0 && (size_t)c.only != v)
			continue;
		for (int i = 0; i < c.runs; i++) {
			int ret = run_once(&c, var[v].be, var[v].dio, &r);

			if (ret) {
				fprintf(stderr, "%s: %s\n", var[v].name, strerror(-ret));
				return 1;
			}
			rps[i] = r.rps;
			gb[i] = r.gbps;
			gbs[i] = r.gbps_sync;
			cpu[i] = r.cpu;
			wcpu[i] = r.wcpu;
			retries += r.retries;
			late += r.late;
		}
		if (c.md)
			printf("| %u | %s%s%s%s | %.2f M | %.2f | %.2f | %.2f | %lu |\n", c.size,
			       var[v].name, r.direct || var[v].dio == WR_DIRECT_OFF ? "" : " (refused)",
			       c.ng ? ", pcapng" : "", r.files ? ", rotating" : "",
			       median(rps, c.runs) / 1e6, median(gb, c.runs), median(gbs, c.runs),
			       median(cpu, c.runs), (unsigned long)(retries / (uint64_t)c.runs));
		else
			printf("%-20s %s %7.2f Mrec/s %6.2f GB/s  %6.2f GB/s synced  %4.2f cores (%4.2f not producers)  %lu writes  %lu no-buffer retries/run\n",
			       var[v].name, r.direct ? "(direct)" : "        ",
			       median(rps, c.runs) / 1e6, median(gb, c.runs), median(gbs, c.runs),
			       median(cpu, c.runs), median(wcpu, c.runs), (unsigned long)r.writes,
			       (unsigned long)(retries / (uint64_t)c.runs));
		if (c.reorder_ns && !c.md)
			printf("  merged, window %u ns: %lu late records/run\n", c.reorder_ns,
			       (unsigned long)(late / (uint64_t)c.runs));
		fflush(stdout);
	}
	return 0;
}
