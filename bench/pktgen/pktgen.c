// SPDX-License-Identifier: BSD-2-Clause
/*
 * bn-pktgen: sends frames out of a veth with BPF_PROG_RUN + LIVE_FRAMES so
 * they arrive on its peer (the capture interface). Run it inside the
 * generator's namespace (ip netns exec ...).
 *
 * Pacing: a BPF_PROG_RUN call with repeat > 1 costs milliseconds of set-up
 * (page pool), one frame tens of microseconds, so low rates go frame by frame
 * and higher rates in bursts, each burst sent as fast as the kernel can.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "gen.h"
#include "replay.h"

#define MAX_THREADS 64
#define FRAME_BY_FRAME_MAX_PPS 10000 /* per thread */
#define SLOT_NS 100000000ull	     /* burst period when pacing high rates */
#define MAX_BURST (1u << 21)	     /* frames per call at rate 0 */

struct opts {
	const char *iface;
	uint64_t count;
	double duration;
	uint32_t size;
	double rate;
	uint32_t flows;
	unsigned int threads;
	const char *pcap;
	uint32_t burst;
	uint32_t batch;
	int cpus[MAX_THREADS];
	unsigned int ncpus;
	uint8_t dst_mac[6];
	bool json;
};

struct worker {
	pthread_t tid;
	const struct opts *o;
	const struct gen_prog *g;
	int ifindex;
	int cpu;
	const struct frame *frames;
	size_t nframes;
	bool replay;	/* --pcap: frames one by one, in file order */
	uint64_t count; /* 0: until duration/signal */
	double rate;	/* this thread's share; 0 = max */
	uint64_t sent;	/* frames in successful calls */
	uint64_t calls;
	int err;
};

static volatile sig_atomic_t stop;
static uint64_t deadline_ns; /* 0 = none; read-only once threads run */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

static bool done(const struct worker *w)
{
	if (stop)
		return true;
	if (w->count && w->sent >= w->count)
		return true;
	return deadline_ns && now_ns() >= deadline_ns;
}

static int send_n(struct worker *w, const struct frame *f, uint32_t n)
{
	int err = gen_send(w->g, w->ifindex, f->data, f->len, n, w->o->batch);

	if (err)
		return err;
	w->sent += n;
	w->calls++;
	return 0;
}

/* How many frames the next call may send without passing count. */
static uint32_t clamp(const struct worker *w, uint64_t want)
{
	if (w->count && want > w->count - w->sent)
		want = w->count - w->sent;
	return (uint32_t)(want ? want : 1);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t start, k = 0;
	uint32_t burst;
	cpu_set_t set;

	if (w->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	start = now_ns();
	if (w->replay || (w->rate > 0 && w->rate <= FRAME_BY_FRAME_MAX_PPS)) {
		/* replay, or a low rate: one frame per call, paced per frame */
		while (!done(w)) {
			if (w->rate > 0)
				sleep_until(start + (uint64_t)((double)k * 1e9 / w->rate));
			w->err = send_n(w, &w->frames[k % w->nframes], 1);
			if (w->err)
				break;
			k++;
			if (!w->count && w->replay && !deadline_ns && k == w->nframes)
				break; /* replay once */
		}
		return NULL;
	}
	if (w->rate <= 0) {
		burst = w->o->burst ? w->o->burst : MAX_BURST;
		while (!done(w) && !(w->err = send_n(w, &w->frames[0], clamp(w, burst))))
			;
		return NULL;
	}
	/* high rate: when the schedule has caught up with what was sent, send
	 * what falls due until the end of the next slot. A call's set-up time
	 * varies (it waits for RCU, slow on a busy machine), so a late call
	 * sends more instead of the average rate falling behind. */
	while (!done(w)) {
		uint64_t due;

		sleep_until(start + (uint64_t)((double)w->sent * 1e9 / w->rate));
		if (done(w))
			break;
		due = (uint64_t)((double)(now_ns() - start + SLOT_NS) * w->rate / 1e9);
		due = due > w->sent ? due - w->sent : 1;
		if (w->o->burst)
			due = w->o->burst;
		w->err = send_n(w, &w->frames[0], clamp(w, due < MAX_BURST ? due : MAX_BURST));
		if (w->err)
			break;
	}
	/* the last burst's slot is part of the offered time */
	if (!stop)
		sleep_until(start + (uint64_t)((double)w->sent * 1e9 / w->rate));
	return NULL;
}

static int iface_mac(const char *iface, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bn-pktgen --iface IFACE [options]\n"
		"Sends UDP/IPv4 frames out of IFACE (a veth) with BPF_PROG_RUN live frames;\n"
		"they arrive on its peer, which must have an XDP program attached.\n"
		"  -i, --iface IFACE    sending veth (run inside its namespace)\n"
		"  -n, --count N        frames to send in total (default 1000000, or none with\n"
		"                       --duration/--pcap; 0 = until --duration or a signal)\n"
		"  -d, --duration S     stop after S seconds\n"
		"  -s, --size B         frame size without FCS, 60..1514 (default 64)\n"
		"  -r, --rate PPS       offered rate in frames/s (default 0 = as fast as possible)\n"
		"  -f, --flows N        rewrite source IP/port so frames form N flows (default 1)\n"
		"  -t, --threads N      sending threads, pinned to CPUs (default 1)\n"
		"  -c, --cpus LIST      CPUs for the threads, e.g. 0,1 (default 0,1,..)\n"
		"  -p, --pcap FILE      replay the Ethernet frames of FILE (one thread; once,\n"
		"                       or looped until --count/--duration)\n"
		"  -m, --dst-mac MAC    destination MAC (default 02:00:00:00:00:02)\n"
		"  -b, --burst N        frames per call (default: 2M at max rate; paced: what\n"
		"                       falls due in the next 100 ms)\n"
		"  -B, --batch N        frames per kernel batch, 1..256 (default 64)\n"
		"  -j, --json           print the result as one JSON line\n");
}

static int parse_cpus(const char *s, struct opts *o)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int err = 0;

	if (!dup)
		return -ENOMEM;
	o->ncpus = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->ncpus == MAX_THREADS) {
			err = -E2BIG;
			break;
		}
		o->cpus[o->ncpus++] = atoi(tok);
	}
	free(dup);
	return err;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "burst", required_argument, NULL, 'b' },
		{ "batch", required_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool count_set = false;
	int c;

	*o = (struct opts){ .count = 1000000, .size = 64, .flows = 1, .threads = 1,
			    .dst_mac = { 2, 0, 0, 0, 0, 2 } };
	while ((c = getopt_long(argc, argv, "i:n:d:s:r:f:t:c:p:m:b:B:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'n':
			o->count = strtoull(optarg, NULL, 0);
			count_set = true;
			break;
		case 'd': o->duration = atof(optarg); break;
		case 's': o->size = (uint32_t)atoi(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 'f': o->flows = (uint32_t)atoi(optarg); break;
		case 't': o->threads = (unsigned int)atoi(optarg); break;
		case 'c':
			if (parse_cpus(optarg, o))
				return -EINVAL;
			break;
		case 'p': o->pcap = optarg; break;
		case 'm':
			if (bn_parse_mac(optarg, o->dst_mac)) {
				fprintf(stderr, "bn-pktgen: bad MAC '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'b': o->burst = (uint32_t)atoi(optarg); break;
		case 'B': o->batch = (uint32_t)atoi(optarg); break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (!o->iface || optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->size < BN_FRAME_MIN || o->size > BN_FRAME_MAX) {
		fprintf(stderr, "bn-pktgen: --size must be %d..%d\n", BN_FRAME_MIN, BN_FRAME_MAX);
		return -EINVAL;
	}
	if (o->threads < 1 || o->threads > MAX_THREADS || o->flows < 1 || o->batch > 256 ||
	    o->rate < 0 || o->duration < 0) {
		fprintf(stderr, "bn-pktgen: bad --threads, --flows, --batch, --rate or --duration\n");
		return -EINVAL;
	}
	if ((o->pcap || o->duration > 0) && !count_set)
		o->count = 0; /* the file once, or until the duration ends */
	if (o->pcap && o->threads > 1) {
		fprintf(stderr, "bn-pktgen: --pcap replays with one thread\n");
		o->threads = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_THREADS] = { 0 };
	struct frame one = { 0 }, *frames = &one;
	size_t nframes = 1;
	struct gen_prog g = { 0 };
	uint64_t t0, t1, sent = 0, calls = 0, counted = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint8_t src_mac[6];
	struct opts o;
	double secs;
	int ifindex, err, rc = 1;
	unsigned int i;

	if (parse_opts(argc, argv, &o))
		return 2;
	ifindex = (int)if_nametoindex(o.iface);
	if (!ifindex) {
		fprintf(stderr, "bn-pktgen: no interface %s in this namespace\n", o.iface);
		return 1;
	}
	if (o.pcap) {
		err = bn_replay_load(o.pcap, &frames, &nframes);
		if (err)
			goto out;
	} else {
		one.len = o.size;
		one.data = malloc(o.size);
		err = one.data ? iface_mac(o.iface, src_mac) : -ENOMEM;
		if (!err)
			err = bn_frame_udp(one.data, o.size, src_mac, o.dst_mac);
		if (err) {
			fprintf(stderr, "bn-pktgen: building the frame: %s\n", strerror(-err));
			goto out;
		}
	}
	err = gen_prog_load(&g, o.pcap ? 1 : o.flows);
	if (err) {
		fprintf(stderr, "bn-pktgen: loading the XDP program: %s\n", strerror(-err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	t0 = now_ns();
	if (o.duration > 0)
		deadline_ns = t0 + (uint64_t)(o.duration * 1e9);
	for (i = 0; i < o.threads; i++) {
		w[i] = (struct worker){ .o = &o, .g = &g, .ifindex = ifindex,
					.frames = frames, .nframes = nframes,
					.replay = o.pcap != NULL,
					.rate = o.rate / o.threads };
		w[i].cpu = o.ncpus ? o.cpus[i % o.ncpus] : (int)(i % (unsigned long)ncpu);
		w[i].count = o.count / o.threads + (i < o.count % o.threads);
		if (o.count && !w[i].count)
			continue;
		err = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
		if (err) {
			stop = 1;
			o.threads = i;
			fprintf(stderr, "bn-pktgen: thread: %s\n", strerror(err));
			break;
		}
	}
	for (i = 0; i < o.threads; i++) {
		if (w[i].tid)
			pthread_join(w[i].tid, NULL);
		sent += w[i].sent;
		calls += w[i].calls;
		if (w[i].err && w[i].err != -EINTR && !err) {
			err = w[i].err;
			fprintf(stderr, "bn-pktgen: BPF_PROG_RUN: %s\n", strerror(-err));
		}
	}
	t1 = now_ns();
	if (gen_prog_sent(&g, &counted))
		counted = sent;
	secs = (double)(t1 - t0) / 1e9;
	if (o.json)
		printf("{\"sent\":%llu,\"seconds\":%.6f,\"rate_pps\":%.0f,\"calls\":%llu,"
		       "\"size\":%u,\"flows\":%u,\"threads\":%u,\"target_pps\":%.0f,\"interrupted\":%s}\n",
		       (unsigned long long)counted, secs, secs > 0 ? (double)counted / secs : 0,
		       (unsigned long long)calls, o.pcap ? 0 : o.size, o.flows, o.threads,
		       o.rate, stop ? "true" : "false");
	else
		printf("sent %llu frames in %.3f s: %.0f frames/s (%llu calls, %u threads)\n",
		       (unsigned long long)counted, secs, secs > 0 ? (double)counted / secs : 0,
		       (unsigned long long)calls, o.threads);
	if (counted != sent)
		fprintf(stderr, "bn-pktgen: note: program counted %llu, calls asked for %llu\n",
			(unsigned long long)counted, (unsigned long long)sent);
	rc = err ? 1 : 0;
out:
	gen_prog_close(&g);
	for (size_t k = 0; k < nframes; k++)
		free(frames[k].data);
	if (frames != &one)
		free(frames);
	return rc;
}
