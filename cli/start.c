/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `capture-appliance start`: the foreground daemon. Parses the options,
 * opens a capture core with the first capture from the command line, serves
 * REST (other captures come from there), prints counters, and on
 * SIGINT/SIGTERM closes every capture cleanly (final counters printed) and
 * exits 0. Every decision about captures is the core's.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "api/rest.h"
#include "api/token.h"
#include "archive/archive.h"
#include "capture/capture.h"
#include "cli/cli.h"
#include "extract/extract.h"
#include "filtergen/filtergen.h"
#include "fleet/fleet.h"

struct start {
	struct cap_cfg cfg;
	unsigned int fields; /* CAP_F_* the command line gave */
	struct cap_core_opts core;
	const char *listen; /* NULL: no REST server */
	struct api_rest_opts rest;
	unsigned int interval; /* seconds between counter lines; 0 = only on SIGUSR1 */
	struct cli_config *conf; /* argv with --config FILE's options */
	bool no_index; /* --no-index: sealed files get no FILE.idx */
	struct fl_sensor_opts fleet_opts; /* conn.servers NULL: no fleet */
	/* the fleet, once started; the sealed-file hook reads it under the lock */
	pthread_mutex_t fleet_lock;
	struct fl_fleet *fleet;
	struct ar_opts archive;	 /* target.url NULL: no archive */
	struct ar *ar;
	/* files archived before the fleet ran (the archive starts first):
	 * their notes wait here, under fleet_lock, for start_fleet */
	struct archived_note {
		char capture[CAP_NAME_MAX];
		char *path, *key;
		uint64_t bytes;
		char md5[33];
	} *early;
	size_t nearly;
	bool fleet_on; /* a fleet is configured and not stopped yet */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: capture-appliance start --iface IFACE [options]\n"
		"\n"
		"Captures the traffic of IFACE into DUMP.pcap, in the foreground, until\n"
		"SIGINT, SIGTERM, SIGHUP or SIGQUIT (each stops cleanly: everything taken is\n"
		"written, nothing stays attached). SIGUSR1 prints the counters.\n"
		"\n"
		"  --iface IFACE        interface to capture on (required)\n"
		"  --config FILE        read options from FILE first, one per line ('option\n"
		"                       value', 'option=value' or a flag, '#' comments);\n"
		"                       the command line's own options win\n"
		"  --name NAME          capture name (default: IFACE)\n"
		"  --mode MODE          ingress|egress|bidirectional|off (default: bidirectional)\n"
		"  --filter EXPR        tcpdump filter; 'all', 'none' (default: none)\n"
		"  --snaplen N          bytes kept per packet, 1..%u (default: %u)\n"
		"  --dump PATH          file prefix, writes PATH.pcap; its folder must exist\n"
		"                       (default: ${TMPDIR:-/tmp}/NAME)\n"
		"  --format F           pcap|pcapng (default: pcap); pcapng records say\n"
		"                       their direction, each file ends with statistics\n"
		"  --rotate-size BYTES  a new file when this size is reached (k, M, G, T:\n"
		"                       powers of 1024): files DUMP-NNNNNNNN-TIME.pcap[ng],\n"
		"                       names in time order, the sequence goes on after a\n"
		"                       restart (default: no rotation, one DUMP.pcap)\n"
		"  --rotate-time S      a new file every S seconds, at UTC multiples of S\n"
		"                       (with --rotate-size: whichever comes first)\n"
		"  --retain-bytes BYTES with rotation: delete the oldest sealed files while\n"
		"                       the capture's files take more (never the open one;\n"
		"                       files already there count)\n"
		"  --retain-files N     with rotation: keep at most N files\n"
		"  --min-free PCT       with rotation: keep PCT %% of the file system free\n"
		"  --no-index           don't write FILE.idx beside sealed files (extract then\n"
		"                       reads them in full; for comparisons, see bench/)\n"
		"  --archive s3://BUCKET[/PREFIX]\n"
		"                       upload each sealed file and its index (FILE.idx) to\n"
		"                       this S3 bucket as PREFIX/HOSTNAME/NAME/FILE[.idx],\n"
		"                       verified (size, MD5), from a background thread;\n"
		"                       failures are retried with back-off. With it,\n"
		"                       --retain-bytes and --retain-files delete only\n"
		"                       archived files (the files may take more while the\n"
		"                       archive is behind); --min-free still deletes the\n"
		"                       oldest, archived or not (counted)\n"
		"  --s3-endpoint URL    http[s]://HOST[:PORT] of the S3 service (required\n"
		"                       with --archive)\n"
		"  --s3-credentials FILE\n"
		"                       'access_key = KEY' and 'secret_key = SECRET' lines;\n"
		"                       refused if a link or readable by group or others\n"
		"  --s3-region R        SigV4 signing region (default: us-east-1)\n"
		"  --archive-rate BYTES upload at most BYTES per second (k, M, G; default:\n"
		"                       no limit)\n"
		"  --s3-part-size BYTES files larger than BYTES go up in parts of BYTES\n"
		"                       (S3 multipart upload; 5M to 5G, default 1G)\n"
		"  --archive-keep-local BYTES\n"
		"                       with rotation: keep at most BYTES of archived files\n"
		"                       locally, the oldest deleted first (0: delete each\n"
		"                       once archived); files not archived yet stay\n"
		"  --archive-state DIR  where the record of archived files lives (default:\n"
		"                       " AR_STATE_DIR_DEFAULT ")\n"
		"  --reorder-window MS  records of every queue and both directions are\n"
		"                       written in time order through a merge window of MS\n"
		"                       ms (default 5; 0: no merge, each queue's order only);\n"
		"                       a record later than that is written and counted (late)\n"
		"  --file-mode MODE     capture files' permissions, octal (default: 0600)\n"
		"  --file-group GROUP   capture files' group (name or gid; default: root's)\n"
		"  --listen ADDR:PORT   REST API address (default: 127.0.0.1:9000; 'off': none)\n"
		"  --ingress-path P     auto|afxdp|ringbuf|transparent (default: auto): how\n"
		"                       ingress matches reach user space. transparent: a\n"
		"                       copy through the BPF ring buffer, every frame goes\n"
		"                       on to the host. afxdp, ringbuf: capture-port paths\n"
		"                       that take matching frames away from the host (AF_XDP\n"
		"                       sockets; XDP copies into the ring buffer). auto: an\n"
		"                       interface the host uses (an address, a bridge/bond/\n"
		"                       team port, a default route) is captured transparently;\n"
		"                       any other is a capture port: afxdp where it binds\n"
		"                       zero-copy, else ringbuf\n"
		"  --transparent        the same as --ingress-path transparent\n"
		"  --ringbuf-size BYTES BPF ring buffer size per CPU, a power of 2 (default:\n"
		"                       64 MiB shared over the CPUs, at least 8 MiB each)\n"
		"  --token-file FILE    REST: the bearer token every request must carry\n"
		"                       ('Authorization: Bearer <token>'; default: a random\n"
		"                       one in /run/capture-appliance/api.token, root only,\n"
		"                       which the CLI reads by itself)\n"
		"  --no-auth            REST: no token at all: any local user may drive the\n"
		"                       appliance (refused unless --listen is loopback)\n"
		"  --tls-cert FILE      REST: HTTPS with this PEM (certificate and key)\n"
		"  --metrics-listen ADDR:PORT\n"
		"                       also serve GET /metrics (Prometheus), and nothing\n"
		"                       else, on this address, without a token (default:\n"
		"                       none; /metrics is always on the REST API too)\n"
		"  --allow-iface LIST   captures only on interfaces matching one of these\n"
		"                       comma-separated glob patterns (e.g. 'eth1,span*'),\n"
		"                       names of the appliance's own network namespace;\n"
		"                       --iface too (default: any)\n"
		"  --dump-root DIR      --dump and REST dump paths must lie under DIR\n"
		"                       (relative ones are taken relative to DIR)\n"
		"  --net-buffer BYTES   network-mode backlog per capture (default: 64 MiB)\n"
		"  --write-buffer BYTES the writer's buffers per capture, between the rings\n"
		"                       and the file, 2M to 1G in whole MiB (default: 64 MiB)\n"
		"  --xdp-mode M         auto|native|generic (default: auto = native, else generic)\n"
		"  --bind M             auto|copy|zerocopy AF_XDP bind (default: auto)\n"
		"  --stats-interval S   counter line every S seconds, 0 = off (default: 10)\n"
		"  --ring N             AF_XDP RX/fill ring entries per queue, a power of 2\n"
		"                       (default: 4096; UMEM = N x 4 KiB per queue)\n"
		"  --batch N            AF_XDP frames taken per RX ring peek (default: 256)\n"
		"  --no-pin             don't pin AF_XDP workers to CPUs (default: worker of\n"
		"                       queue q on the q-th CPU the process may use, when\n"
		"                       there are enough; not on veth)\n"
		"  --fleet URLS         join a fleet: NATS servers nats://HOST:PORT[,...]\n"
		"                       (tls:// too): a heartbeat in the KV bucket ca_sensors,\n"
		"                       a catalog record per sealed file on the stream\n"
		"                       CA_CATALOG, fleet queries answered (needs --sensor)\n"
		"  --sensor NAME        this appliance's name in the fleet (A-Z a-z 0-9 _ -)\n"
		"  --fleet-creds FILE   NATS credentials: a .creds file, 'user:password' or a\n"
		"                       token; refused if group/world-readable or a link\n"
		"  --fleet-tls-ca FILE  TLS to NATS, servers checked against this CA (PEM)\n"
		"  --fleet-advertise URL\n"
		"                       the URL other machines reach this REST API at\n"
		"                       (default: http[s]://LISTEN)\n"
		"  --fleet-replicas N   replicas of the catalog stream and KV bucket (default: 1)\n"
		"  --fleet-max-age S    catalog records kept S seconds (default: 2592000, 30 days)\n"
		"  --fleet-max-bytes BYTES\n"
		"                       catalog kept under this size (default: 1G)\n"
		"  --fleet-queue N      catalog records waiting for NATS at most (default: 4096;\n"
		"                       beyond, found again when NATS is back)\n"
		"  --help               this text\n",
		FG_SNAPLEN_MAX, FG_SNAPLEN_MAX);
}

static void log_line(void *arg, const char *msg)
{
	fprintf(stderr, "capture-appliance: %s\n", msg);
}

static void print_stats(const char *what, const char *name, const struct cap_stats *s)
{
	fprintf(stderr,
		"capture-appliance: %s %s: seen %llu matched %llu written %llu dropped %llu "
		"(redirect failed %llu, rb full %llu, xsk dropped %llu, xsk ring full %llu, "
		"xsk fill empty %llu, bad meta %llu, writer behind %llu, write errors %llu) "
		"received %llu bytes %llu net dropped %llu%s%s\n",
		what, name, (unsigned long long)s->seen, (unsigned long long)s->matched,
		(unsigned long long)s->written, (unsigned long long)s->dropped,
		(unsigned long long)s->redirect_failed, (unsigned long long)s->rb_full,
		(unsigned long long)s->xsk_rx_dropped, (unsigned long long)s->xsk_rx_ring_full,
		(unsigned long long)s->xsk_fill_ring_empty, (unsigned long long)s->bad_meta,
		(unsigned long long)s->writer_behind, (unsigned long long)s->write_errors,
		(unsigned long long)s->received, (unsigned long long)s->bytes_written,
		(unsigned long long)s->net_dropped,
		s->write_error ? ", first write error: " : "",
		s->write_error ? strerror(-s->write_error) : "");
}

static void on_final(const struct cap_cfg *cfg, const struct cap_stats *st,
		     void *arg)
{
	print_stats("final", cfg->name, st);
	if (st->matched != st->written + st->dropped)
		fprintf(stderr,
			"capture-appliance: %s: counters don't add up: matched %llu != "
			"written %llu + dropped %llu\n",
			cfg->name, (unsigned long long)st->matched,
			(unsigned long long)st->written, (unsigned long long)st->dropped);
	if (cfg->network)
		fprintf(stderr, "capture-appliance: %s: stopped (network mode)\n", cfg->name);
	else
		fprintf(stderr, "capture-appliance: %s: closed %s.pcap\n", cfg->name, cfg->dump);
}

static bool has_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	uint64_t eff;

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	/* BPF programs + links: CAP_BPF (or CAP_SYS_ADMIN); attaching:
	 * CAP_NET_ADMIN; AF_XDP sockets: CAP_NET_RAW. */
	return (eff & (1ull << CAP_NET_ADMIN)) && (eff & (1ull << CAP_NET_RAW)) &&
	       ((eff & (1ull << CAP_BPF)) || (eff & (1ull << CAP_SYS_ADMIN)));
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* N[kMGT]: powers of 1024, as ls -h and tcpdump -C read them. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The archive options' syntax, before anything is opened. */
static int check_archive(struct start *S)
{
	const struct ar_target *t = &S->archive.target;
	char bucket[64], prefix[512], err[512];

	if (!t->url) {
		if (t->endpoint || t->cred_file || t->region || S->archive.rate ||
		    S->archive.part_size ||
		    S->archive.state_dir || S->core.dp.keep_archived) {
			fprintf(stderr, "capture-appliance: --s3-*, --archive-rate, "
					"--archive-keep-local and --archive-state need --archive\n");
			return -EINVAL;
		}
		return 0;
	}
	if (ar_parse_url(t->url, bucket, sizeof(bucket), prefix, sizeof(prefix), err,
			 sizeof(err)) ||
	    (t->endpoint && ar_check_endpoint(t->endpoint, err, sizeof(err)))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return -EINVAL;
	}
	if (!t->endpoint || !t->cred_file) {
		fprintf(stderr, "capture-appliance: --archive needs --s3-endpoint URL and "
				"--s3-credentials FILE\n");
		return -EINVAL;
	}
	if (S->core.dp.keep_archived && !S->cfg.rotate_bytes && !S->cfg.rotate_seconds) {
		fprintf(stderr, "capture-appliance: --archive-keep-local needs rotation "
				"(--rotate-size or --rotate-time)\n");
		return -EINVAL;
	}
	return 0;
}

static int parse_args(struct start *S, int argc, char **argv)
{
	enum { O_TOKEN = 256, O_TLS, O_ROOT, O_XDP, O_BIND, O_INTERVAL, O_NETBUF, O_WRBUF, O_RING, O_NOPIN, O_INGRESS, O_RBSIZE, O_BATCH, O_NOAUTH, O_ALLOW, O_METRICS,
	       O_FORMAT, O_ROT_SIZE, O_ROT_TIME, O_RET_BYTES, O_RET_FILES, O_MIN_FREE, O_FMODE,
	       O_FGROUP, O_CONFIG, O_REORDER, O_FLEET, O_SENSOR, O_FL_CREDS, O_FL_CA, O_FL_ADV,
	       O_FL_REPL, O_FL_AGE, O_FL_BYTES, O_FL_QUEUE, O_ARCHIVE, O_S3_EP, O_S3_CRED,
	       O_S3_REGION, O_AR_RATE, O_AR_KEEP, O_AR_STATE, O_NOINDEX, O_AR_PART };
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "name", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "filter", required_argument, NULL, 'f' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "dump", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "transparent", no_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "no-auth", no_argument, NULL, O_NOAUTH },
		{ "allow-iface", required_argument, NULL, O_ALLOW },
		{ "metrics-listen", required_argument, NULL, O_METRICS },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "rotate-size", required_argument, NULL, O_ROT_SIZE },
		{ "rotate-time", required_argument, NULL, O_ROT_TIME },
		{ "retain-bytes", required_argument, NULL, O_RET_BYTES },
		{ "retain-files", required_argument, NULL, O_RET_FILES },
		{ "min-free", required_argument, NULL, O_MIN_FREE },
		{ "file-mode", required_argument, NULL, O_FMODE },
		{ "file-group", required_argument, NULL, O_FGROUP },
		{ "reorder-window", required_argument, NULL, O_REORDER },
		{ "archive", required_argument, NULL, O_ARCHIVE },
		{ "s3-endpoint", required_argument, NULL, O_S3_EP },
		{ "s3-credentials", required_argument, NULL, O_S3_CRED },
		{ "s3-region", required_argument, NULL, O_S3_REGION },
		{ "archive-rate", required_argument, NULL, O_AR_RATE },
		{ "s3-part-size", required_argument, NULL, O_AR_PART },
		{ "archive-keep-local", required_argument, NULL, O_AR_KEEP },
		{ "archive-state", required_argument, NULL, O_AR_STATE },
		{ "tls-cert", required_argument, NULL, O_TLS },
		{ "dump-root", required_argument, NULL, O_ROOT },
		{ "xdp-mode", required_argument, NULL, O_XDP },
		{ "bind", required_argument, NULL, O_BIND },
		{ "stats-interval", required_argument, NULL, O_INTERVAL },
		{ "ring", required_argument, NULL, O_RING },
		{ "no-pin", no_argument, NULL, O_NOPIN },
		{ "ingress-path", required_argument, NULL, O_INGRESS },
		{ "ringbuf-size", required_argument, NULL, O_RBSIZE },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "net-buffer", required_argument, NULL, O_NETBUF },
		{ "write-buffer", required_argument, NULL, O_WRBUF },
		{ "no-index", no_argument, NULL, O_NOINDEX },
		{ "fleet", required_argument, NULL, O_FLEET },
		{ "sensor", required_argument, NULL, O_SENSOR },
		{ "fleet-creds", required_argument, NULL, O_FL_CREDS },
		{ "fleet-tls-ca", required_argument, NULL, O_FL_CA },
		{ "fleet-advertise", required_argument, NULL, O_FL_ADV },
		{ "fleet-replicas", required_argument, NULL, O_FL_REPL },
		{ "fleet-max-age", required_argument, NULL, O_FL_AGE },
		{ "fleet-max-bytes", required_argument, NULL, O_FL_BYTES },
		{ "fleet-queue", required_argument, NULL, O_FL_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fl_sensor_opts *fo = &S->fleet_opts;
	struct cap_cfg *c = &S->cfg;
	const char *iface = NULL, *name = NULL, *dump = NULL;
	char err[512];
	int o;

	o = cli_config_load(lo, argc, argv, S->conf);
	if (o)
		return o;
	argc = S->conf->argc;
	argv = S->conf->argv;
	cap_cfg_init(c);
	S->listen = API_REST_LISTEN_DEFAULT;
	S->interval = 10;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'i':
			iface = optarg;
			break;
		case O_CONFIG: /* read by cli_config_load */
			break;
		case 'n':
			name = optarg;
			break;
		case 'm':
			if (cap_mode_parse(optarg, &c->mode)) {
				fprintf(stderr, "capture-appliance: unknown mode '%s' "
						"(ingress|egress|bidirectional|off)\n", optarg);
				return 2;
			}
			break;
		case 'f':
			if (strlen(optarg) >= sizeof(c->filter)) {
				fprintf(stderr, "capture-appliance: filter longer than %d bytes\n",
					CAP_FILTER_MAX - 1);
				return 2;
			}
			snprintf(c->filter, sizeof(c->filter), "%s", optarg);
			break;
		case 's':
			if (parse_u32(optarg, &c->snaplen) || !c->snaplen ||
			    c->snaplen > FG_SNAPLEN_MAX) {
				fprintf(stderr, "capture-appliance: snaplen '%s' is not in 1..%u\n", optarg,
					FG_SNAPLEN_MAX);
				return 2;
			}
			break;
		case 'd':
			dump = optarg;
			break;
		case 'l':
			S->listen = strcmp(optarg, "off") ? optarg : NULL;
			break;
		case 't':
			S->core.dp.ingress_path = CAP_INGRESS_TRANSPARENT;
			break;
		case O_TOKEN:
			S->rest.token_file = optarg;
			break;
		case O_FORMAT:
			if (cap_format_parse(optarg, &c->format)) {
				fprintf(stderr, "capture-appliance: --format pcap|pcapng\n");
				return 2;
			}
			break;
		case O_ROT_SIZE:
		case O_RET_BYTES: {
			uint64_t v;

			if (parse_size(optarg, &v) || !v) {
				fprintf(stderr, "capture-appliance: --%s takes a byte count (suffixes "
						"k, M, G, T: powers of 1024)\n",
					o == O_ROT_SIZE ? "rotate-size" : "retain-bytes");
				return 2;
			}
			*(o == O_ROT_SIZE ? &c->rotate_bytes : &c->retain_bytes) = v;
			S->fields |= CAP_F_ROTATE;
			break;
		}
		case O_ROT_TIME:
		case O_RET_FILES:
		case O_MIN_FREE: {
			uint32_t v;

			if (parse_u32(optarg, &v) || !v) {
				fprintf(stderr, "capture-appliance: --%s takes a positive number\n",
					o == O_ROT_TIME	   ? "rotate-time"
					: o == O_RET_FILES ? "retain-files"
							   : "min-free");
				return 2;
			}
			*(o == O_ROT_TIME    ? &c->rotate_seconds
			  : o == O_RET_FILES ? &c->retain_files
					     : &c->min_free_pct) = v;
			S->fields |= CAP_F_ROTATE;
			break;
		}
		case O_FMODE: {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (!*optarg || *end || m > 0777 || (m & 0600) != 0600) {
				fprintf(stderr, "capture-appliance: --file-mode takes octal permissions "
						"with at least 0600, e.g. 0640\n");
				return 2;
			}
			S->core.file_mode = (mode_t)m;
			break;
		}
		case O_REORDER: {
			uint32_t ms;

			if (parse_u32(optarg, &ms) || ms > 4000) {
				fprintf(stderr, "capture-appliance: --reorder-window takes 0..4000 ms\n");
				return 2;
			}
			S->core.dp.reorder_ns = ms ? ms * 1000000u : UINT32_MAX;
			break;
		}
		case O_FGROUP: {
			struct group *g = getgrnam(optarg);
			uint32_t gid;

			if (g)
				gid = g->gr_gid;
			else if (parse_u32(optarg, &gid)) {
				fprintf(stderr, "capture-appliance: --file-group: no group '%s'\n",
					optarg);
				return 2;
			}
			S->core.file_gid = gid;
			S->core.file_group_set = true;
			break;
		}
		case O_METRICS:
			S->rest.metrics_listen = optarg;
			break;
		case O_ARCHIVE:
			S->archive.target.url = optarg;
			break;
		case O_S3_EP:
			S->archive.target.endpoint = optarg;
			break;
		case O_S3_CRED:
			S->archive.target.cred_file = optarg;
			break;
		case O_S3_REGION:
			S->archive.target.region = optarg;
			break;
		case O_AR_STATE:
			S->archive.state_dir = optarg;
			break;
		case O_AR_PART: {
			uint64_t v;

			if (parse_size(optarg, &v) || v < AR_PART_MIN || v > AR_PUT_MAX) {
				fprintf(stderr, "capture-appliance: --s3-part-size takes a byte "
						"count from 5M to 5G (S3's smallest and largest part)\n");
				return 2;
			}
			S->archive.part_size = v;
			break;
		}
		case O_AR_RATE:
		case O_AR_KEEP: {
			uint64_t v;

			if (parse_size(optarg, &v) || (o == O_AR_RATE && !v)) {
				fprintf(stderr, "capture-appliance: --%s takes a byte count (suffixes "
						"k, M, G, T: powers of 1024)\n",
					o == O_AR_RATE ? "archive-rate" : "archive-keep-local");
				return 2;
			}
			if (o == O_AR_RATE) {
				S->archive.rate = v;
			} else {
				S->core.dp.keep_archived = true;
				S->core.dp.keep_archived_bytes = v;
			}
			break;
		}
		case O_ALLOW:
			S->core.allow_iface = optarg;
			break;
		case O_NOAUTH:
			S->rest.no_auth = true;
			break;
		case O_TLS:
			S->rest.tls_cert = optarg;
			break;
		case O_ROOT:
			S->core.dump_root = optarg;
			break;
		case O_NETBUF: { /* (API) network-mode backlog size */
			uint32_t v;

			if (parse_u32(optarg, &v) || v == 0) {
				fprintf(stderr, "capture-appliance: --net-buffer needs a byte count\n");
				return 2;
			}
			S->core.dp.net_buffer_bytes = v;
			break;
		}
		case O_WRBUF: { /* the writer's pool: 1 MiB buffers */
			uint64_t v;

			if (parse_size(optarg, &v) || v < (2u << 20) || v > (1024u << 20)) {
				fprintf(stderr, "capture-appliance: --write-buffer needs a byte count "
						"from 2M to 1G\n");
				return 2;
			}
			S->core.dp.write_buffer_bytes = v;
			break;
		}
		case O_XDP:
			if (!strcmp(optarg, "auto"))
				S->core.dp.xdp_mode = CAP_XDP_AUTO;
			else if (!strcmp(optarg, "native"))
				S->core.dp.xdp_mode = CAP_XDP_NATIVE;
			else if (!strcmp(optarg, "generic"))
				S->core.dp.xdp_mode = CAP_XDP_GENERIC;
			else {
				fprintf(stderr, "capture-appliance: --xdp-mode auto|native|generic\n");
				return 2;
			}
			break;
		case O_BIND:
			if (!strcmp(optarg, "auto"))
				S->core.dp.bind = CAP_BIND_AUTO;
			else if (!strcmp(optarg, "copy"))
				S->core.dp.bind = CAP_BIND_COPY;
			else if (!strcmp(optarg, "zerocopy"))
				S->core.dp.bind = CAP_BIND_ZEROCOPY;
			else {
				fprintf(stderr, "capture-appliance: --bind auto|copy|zerocopy\n");
				return 2;
			}
			break;
		case O_INTERVAL:
			if (parse_u32(optarg, &S->interval)) {
				fprintf(stderr, "capture-appliance: --stats-interval takes seconds\n");
				return 2;
			}
			break;
		case O_NOPIN:
			S->core.dp.no_pin = true;
			break;
		case O_NOINDEX:
			S->no_index = true;
			break;
		case O_BATCH:
			if (parse_u32(optarg, &S->core.dp.batch) || !S->core.dp.batch ||
			    S->core.dp.batch > 4096) {
				fprintf(stderr, "capture-appliance: --batch takes 1..4096 frames\n");
				return 2;
			}
			break;
		case O_RBSIZE:
			if (parse_u32(optarg, &S->core.dp.rb_size) || S->core.dp.rb_size < 65536 ||
			    S->core.dp.rb_size > (1u << 30) ||
			    (S->core.dp.rb_size & (S->core.dp.rb_size - 1))) {
				fprintf(stderr, "capture-appliance: --ringbuf-size takes a power of 2, "
						"65536..1073741824\n");
				return 2;
			}
			break;
		case O_INGRESS:
			if (cap_ingress_parse(optarg, &S->core.dp.ingress_path)) {
				fprintf(stderr, "capture-appliance: --ingress-path "
						"auto|afxdp|ringbuf|transparent\n");
				return 2;
			}
			break;
		case O_RING:
			if (parse_u32(optarg, &S->core.dp.ring_size) || S->core.dp.ring_size < 64 ||
			    S->core.dp.ring_size > 65536 ||
			    (S->core.dp.ring_size & (S->core.dp.ring_size - 1))) {
				fprintf(stderr, "capture-appliance: --ring takes a power of 2, 64..65536\n");
				return 2;
			}
			break;
		case O_FLEET:
			fo->conn.servers = optarg;
			break;
		case O_SENSOR:
			fo->sensor = optarg;
			break;
		case O_FL_CREDS:
			fo->conn.creds = optarg;
			break;
		case O_FL_CA:
			fo->conn.tls_ca = optarg;
			break;
		case O_FL_ADV:
			fo->advertise = optarg;
			break;
		case O_FL_REPL:
		case O_FL_QUEUE: {
			uint32_t v;

			if (parse_u32(optarg, &v) || !v || (o == O_FL_REPL && v > 5) ||
			    (o == O_FL_QUEUE && v > 1000000)) {
				fprintf(stderr, "capture-appliance: --%s takes %s\n",
					o == O_FL_REPL ? "fleet-replicas" : "fleet-queue",
					o == O_FL_REPL ? "1..5" : "1..1000000");
				return 2;
			}
			*(o == O_FL_REPL ? &fo->replicas : &fo->queue_max) = v;
			break;
		}
		case O_FL_AGE:
		case O_FL_BYTES: {
			uint64_t v;
			uint32_t secs;

			if (o == O_FL_AGE ? parse_u32(optarg, &secs) || !secs
					  : parse_size(optarg, &v) || !v) {
				fprintf(stderr, "capture-appliance: --%s takes a positive %s\n",
					o == O_FL_AGE ? "fleet-max-age" : "fleet-max-bytes",
					o == O_FL_AGE ? "number of seconds" : "byte count");
				return 2;
			}
			if (o == O_FL_AGE)
				fo->max_age_s = secs;
			else
				fo->max_bytes = v;
			break;
		}
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (S->rest.no_auth && S->rest.token_file) {
		fprintf(stderr, "capture-appliance: --no-auth and --token-file contradict\n");
		return 2;
	}
	if (S->listen && api_rest_check_listen(S->listen, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return 2;
	}
	if (S->rest.metrics_listen &&
	    api_rest_check_listen(S->rest.metrics_listen, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: --metrics-listen: %s\n", err);
		return 2;
	}
	if (S->listen && S->rest.no_auth && !api_rest_listen_is_loopback(S->listen)) {
		fprintf(stderr, "capture-appliance: --no-auth is refused on %s: without a "
				"token only a loopback address may be served\n", S->listen);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "capture-appliance: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!fo->conn.servers != !fo->sensor) {
		fprintf(stderr, "capture-appliance: --fleet and --sensor go together\n");
		return 2;
	}
	if (!fo->conn.servers && (fo->conn.creds || fo->conn.tls_ca || fo->advertise ||
				  fo->replicas || fo->max_age_s || fo->max_bytes || fo->queue_max)) {
		fprintf(stderr, "capture-appliance: --fleet-* options need --fleet\n");
		return 2;
	}
	if (fo->conn.servers) {
		if (!fl_sensor_name_ok(fo->sensor)) {
			fprintf(stderr, "capture-appliance: --sensor '%s': 1..%d of A-Z a-z 0-9 _ -\n",
				fo->sensor, FL_SENSOR_MAX - 1);
			return 2;
		}
		if (fo->advertise && strncmp(fo->advertise, "http://", 7) &&
		    strncmp(fo->advertise, "https://", 8)) {
			fprintf(stderr, "capture-appliance: --fleet-advertise takes "
					"http[s]://HOST:PORT\n");
			return 2;
		}
		if (fl_check_conn(&fo->conn, err, sizeof(err))) {
			fprintf(stderr, "capture-appliance: %s\n", err);
			return 2;
		}
	}
	if (check_archive(S))
		return 2;
	if (!iface) {
		fprintf(stderr, "capture-appliance: --iface IFACE is required\n");
		usage(stderr);
		return 2;
	}
	if (strlen(iface) >= sizeof(c->iface)) {
		fprintf(stderr, "capture-appliance: %s: no such interface\n", iface);
		return 1;
	}
	snprintf(c->iface, sizeof(c->iface), "%s", iface);
	name = name ? name : iface;
	if (!name[0] || strlen(name) >= sizeof(c->name) || strchr(name, '/')) {
		fprintf(stderr, "capture-appliance: bad capture name '%s'\n", name);
		return 2;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (dump) {
		if (strlen(dump) >= sizeof(c->dump) - 5) {
			fprintf(stderr, "capture-appliance: dump path too long\n");
			return 2;
		}
		snprintf(c->dump, sizeof(c->dump), "%s", dump);
		S->fields |= CAP_F_DUMP;
	}
	return 0;
}

/* Each sealed file gets its index (extract/), in the core's background
 * thread: queries then skip what can't match; then, in a fleet, its
 * catalog record (queued: never waits for NATS). */
static void on_sealed(void *arg, const char *capture, const char *path)
{
	struct start *S = arg;
	char err[512] = "";
	int ret;

	if (!S->no_index && ex_index_file(path, err, sizeof(err)))
		fprintf(stderr, "capture-appliance: index of %s: %s\n", path, err);
	pthread_mutex_lock(&S->fleet_lock);
	fl_note_sealed(S->fleet, capture, path);
	pthread_mutex_unlock(&S->fleet_lock);
	/* then the file and its index to the archive (its own thread) */
	if (S->ar) {
		ret = ar_enqueue(S->ar, capture, path);
		if (ret)
			fprintf(stderr, "capture-appliance: archive: %s: %s\n", path,
				strerror(-ret));
	}
}

#define EARLY_MAX 4096

/* An archived file (the archive's upload thread): its catalog record,
 * queued by the fleet; before the fleet runs, kept for it (at most
 * EARLY_MAX). */
static void on_archived(void *arg, const char *capture, const char *path, const char *key,
			uint64_t bytes, const char *md5hex)
{
	struct start *S = arg;
	struct archived_note *v, *n;

	pthread_mutex_lock(&S->fleet_lock);
	if (S->fleet) {
		fl_note_archived(S->fleet, capture, path, key, bytes, md5hex);
	} else if (S->fleet_on && S->nearly < EARLY_MAX &&
		   (v = realloc(S->early, (S->nearly + 1) * sizeof(*v)))) {
		S->early = v;
		n = &v[S->nearly];
		snprintf(n->capture, sizeof(n->capture), "%s", capture);
		snprintf(n->md5, sizeof(n->md5), "%s", md5hex ? md5hex : "");
		n->bytes = bytes;
		n->path = strdup(path);
		n->key = strdup(key);
		if (n->path && n->key) {
			S->nearly++;
		} else {
			free(n->path);
			free(n->key);
		}
	}
	pthread_mutex_unlock(&S->fleet_lock);
}

/* Hands the early notes to the fleet (f NULL: drops them). Under fleet_lock. */
static void flush_early(struct start *S, struct fl_fleet *f)
{
	size_t i;

	for (i = 0; i < S->nearly; i++) {
		struct archived_note *n = &S->early[i];

		if (f)
			fl_note_archived(f, n->capture, n->path, n->key, n->bytes, n->md5);
		free(n->path);
		free(n->key);
	}
	free(S->early);
	S->early = NULL;
	S->nearly = 0;
}

/* Joins the fleet once the core and REST run: one-time tokens of query
 * answers go to the REST server's grants. */
static int start_fleet(struct start *S, struct cap_core *k, struct api_grants *grants)
{
	char adv[512], err[1024] = "";
	struct fl_fleet *f = NULL;
	int ret;

	if (!S->fleet_opts.advertise && S->listen)
		snprintf(adv, sizeof(adv), "%s://%s", S->rest.tls_cert ? "https" : "http",
			 S->listen);
	else
		snprintf(adv, sizeof(adv), "%s", S->fleet_opts.advertise ? S->fleet_opts.advertise : "");
	if (S->listen && !S->fleet_opts.advertise && api_rest_listen_is_loopback(S->listen))
		fprintf(stderr, "capture-appliance: fleet: this REST API listens on loopback "
				"(%s): other machines can't fetch query answers; "
				"--fleet-advertise or --listen\n", S->listen);
	S->fleet_opts.advertise = adv;
	S->fleet_opts.core = k;
	S->fleet_opts.grants = grants;
	S->fleet_opts.log = log_line;
	ret = fl_start(&S->fleet_opts, &f, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "capture-appliance: fleet: %s\n", err[0] ? err : strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&S->fleet_lock);
	S->fleet = f;
	flush_early(S, f);
	pthread_mutex_unlock(&S->fleet_lock);
	fprintf(stderr, "capture-appliance: fleet: sensor %s, NATS %s, REST advertised as %s\n",
		S->fleet_opts.sensor, S->fleet_opts.conn.servers, adv[0] ? adv : "(none)");
	return 0;
}

static void stop_fleet(struct start *S)
{
	struct fl_fleet *f;

	pthread_mutex_lock(&S->fleet_lock);
	f = S->fleet;
	S->fleet = NULL;
	S->fleet_on = false;
	flush_early(S, NULL);
	pthread_mutex_unlock(&S->fleet_lock);
	fl_stop(f);
}

/* Writer retention (its thread): only archived files may go. */
static bool archived(void *arg, const char *path)
{
	return ar_is_archived(arg, path);
}

static void archive_stats(void *arg, struct api_archive_stats *st)
{
	struct ar_stats as;

	ar_get_stats(arg, &as);
	*st = (struct api_archive_stats){ .uploaded_files = as.uploaded_files,
					  .uploaded_bytes = as.uploaded_bytes,
					  .failures = as.failures,
					  .queue = as.queue,
					  .gone = as.gone };
}

static void print_archive(const char *what, struct ar *a)
{
	struct ar_stats as;

	if (!a)
		return;
	ar_get_stats(a, &as);
	fprintf(stderr,
		"capture-appliance: archive %s: uploaded %llu objects %llu bytes, archived %llu "
		"files, failures %llu, queue %llu, already archived %llu, deleted before "
		"archived %llu\n",
		what, (unsigned long long)as.uploaded_files, (unsigned long long)as.uploaded_bytes,
		(unsigned long long)as.archived, (unsigned long long)as.failures,
		(unsigned long long)as.queue, (unsigned long long)as.already,
		(unsigned long long)as.gone);
}

static bool low_port(const char *listen)
{
	const char *colon = strrchr(listen, ':');

	return colon && atoi(colon + 1) < 1024;
}

static void print_first(struct start *S, struct cap_core *k)
{
	struct cap_stats st;

	/* REST may have deleted it */
	print_archive("counters", S->ar);
	if (!cap_get(k, S->cfg.name, NULL, &st)) {
		print_stats("counters", S->cfg.name, &st);
		/* systemctl status shows it; without NOTIFY_SOCKET a no-op */
		sd_notifyf(0, "STATUS=%s: seen %llu matched %llu written %llu dropped %llu",
			   S->cfg.name, (unsigned long long)st.seen,
			   (unsigned long long)st.matched, (unsigned long long)st.written,
			   (unsigned long long)st.dropped);
	}
}

static uint64_t mono_usec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

static int run(int argc, char **argv, struct cli_config *conf)
{
	struct start S = { .conf = conf, .fleet_lock = PTHREAD_MUTEX_INITIALIZER };
	struct api_grants *grants = NULL;
	uint64_t wd_usec = 0, next_stats = 0, wait, now;
	struct api_rest *rest = NULL;
	struct cap_core *k = NULL;
	struct fg_pcapd *pcapd = NULL;
	struct timespec tmo;
	char err[2048], path[sizeof(S.cfg.dump) - 5]; /* room for ".pcap" */
	const char *tmp;
	sigset_t sigs;
	int ret, sig;

	ret = parse_args(&S, argc, argv);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!if_nametoindex(S.cfg.iface)) {
		fprintf(stderr, "capture-appliance: %s: no such interface\n", S.cfg.iface);
		return 1;
	}
	if (!has_caps()) {
		fprintf(stderr, "capture-appliance: not permitted: run as root (needs CAP_BPF or "
				"CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_NET_RAW)\n");
		return 1;
	}
	/* The core's check, before anything is attached: no "/tmp" that writes
	 * /tmp.pcap, no "DIR/" that writes DIR/.pcap, the folder must exist.
	 * The dump root binds an explicit --dump; the default is ours. */
	if (S.fields & CAP_F_DUMP) {
		err[0] = 0;
		ret = cap_check_dump(S.core.dump_root, S.cfg.dump, path, sizeof(path), err,
				     sizeof(err));
		if (ret) {
			fprintf(stderr, "capture-appliance: %s\n", err[0] ? err : strerror(-ret));
			return 1;
		}
	}
	/* libpcap's compiler helper, forked while we have one thread: compile
	 * children forked from a process with threads could inherit a held
	 * allocator lock. Forked before the drop below, so that it can still
	 * become nobody; it gives up every privilege itself. */
	ret = fg_pcapd_start(&pcapd);
	if (ret) {
		fprintf(stderr, "capture-appliance: the filter compiler helper: %s\n",
			strerror(-ret));
		return 1;
	}
	/* Before any thread exists: every thread inherits what is left. */
	err[0] = 0;
	ret = cap_drop_privileges(S.listen && low_port(S.listen), err, sizeof(err));
	if (ret) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		fg_pcapd_stop(pcapd);
		return 1;
	}
	S.core.pcapd = pcapd;
	/* Signals go to this thread only (sigtimedwait below): block them
	 * before any worker thread exists, so every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	/* a closed terminal or a quit key stops as cleanly as SIGTERM: nothing
	 * may stay attached */
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	tmp = getenv("TMPDIR");
	S.core.default_dir = tmp && tmp[0] ? tmp : "/tmp";
	S.core.log = log_line;
	S.core.on_final = on_final;
	S.core.on_sealed = on_sealed;
	S.core.sealed_arg = &S;
	S.fleet_on = S.fleet_opts.conn.servers != NULL;
	/* The archive before the core: a bad credentials file or bucket stops
	 * here, before anything is attached or any file created. */
	if (S.archive.target.url) {
		S.archive.thread_init = cap_background_thread;
		S.archive.on_archived = on_archived;
		S.archive.archived_arg = &S;
		/* in a fleet, the object keys name the sensor as the catalog does */
		if (S.fleet_opts.sensor)
			S.archive.sensor = S.fleet_opts.sensor;
		err[0] = 0;
		ret = ar_open(&S.archive, &S.ar, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "capture-appliance: archive: %s\n",
				err[0] ? err : strerror(-ret));
			goto fail;
		}
		S.core.dp.may_delete = archived;
		S.core.dp.may_delete_arg = S.ar;
		S.rest.archive_stats = archive_stats;
		S.rest.archive_arg = S.ar;
		fprintf(stderr, "capture-appliance: archive to %s at %s\n", S.archive.target.url,
			S.archive.target.endpoint);
	}
	err[0] = 0;
	ret = cap_core_open(&S.core, &k, err, sizeof(err));
	if (!ret)
		ret = cap_add(k, &S.cfg, S.fields, &S.cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "capture-appliance: %s\n", err[0] ? err : strerror(-ret));
		goto fail;
	}
	if (S.fleet_opts.conn.servers && S.listen && (ret = api_grants_new(&grants))) {
		fprintf(stderr, "capture-appliance: %s\n", strerror(-ret));
		goto fail;
	}
	if (S.listen) {
		S.rest.listen = S.listen;
		S.rest.core = k;
		S.rest.grants = grants;
		err[0] = 0;
		ret = api_rest_start(&S.rest, &rest, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "capture-appliance: REST API on %s: %s\n", S.listen,
				err[0] ? err : strerror(-ret));
			goto fail;
		}
		fprintf(stderr, "capture-appliance: REST API on %s\n", S.listen);
	}
	if (S.fleet_opts.conn.servers && start_fleet(&S, k, grants))
		goto fail;
	/* systemd (Type=notify): the first capture runs and REST listens. Each
	 * sd_notify is a no-op without NOTIFY_SOCKET. */
	sd_notifyf(0, "READY=1\nSTATUS=capturing %s on %s, REST API %s", S.cfg.name,
		   S.cfg.iface, S.listen ? S.listen : "off");
	/* WatchdogSec=: ping at half the period, from this loop */
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	if (S.interval)
		next_stats = mono_usec() + (uint64_t)S.interval * 1000000;

	for (;;) {
		wait = 3600ull * 1000000;
		if (S.interval) {
			now = mono_usec();
			wait = next_stats > now ? next_stats - now : 0;
		}
		if (wd_usec && wait > wd_usec / 2)
			wait = wd_usec / 2;
		tmo = (struct timespec){ .tv_sec = (time_t)(wait / 1000000),
					 .tv_nsec = (long)(wait % 1000000) * 1000 };
		sig = sigtimedwait(&sigs, NULL, &tmo);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT)
			break;
		/* after a call into the core (its registry and the first
		 * capture's lock; -ENOENT once REST deleted it is an answer
		 * too): a core wedged on a lock stops the pings */
		if (wd_usec) {
			cap_get(k, S.cfg.name, NULL, NULL);
			sd_notify(0, "WATCHDOG=1");
		}
		if (sig == SIGUSR1) {
			print_first(&S, k);
		} else if (S.interval && mono_usec() >= next_stats) {
			print_first(&S, k);
			next_stats = mono_usec() + (uint64_t)S.interval * 1000000;
		}
	}
	sd_notifyf(0, "STOPPING=1\nSTATUS=%s, stopping", strsignal(sig));
	fprintf(stderr, "capture-appliance: %s, stopping\n", strsignal(sig));
	stop_fleet(&S); /* its thread reads the core: first */
	api_rest_stop(rest);
	cap_core_close(k); /* closes every capture */
	api_grants_free(grants);
	print_archive("final", S.ar);
	ar_close(S.ar); /* what is still queued goes at the next start */
	fg_pcapd_stop(pcapd);
	return 0;
fail:
	stop_fleet(&S);
	api_rest_stop(rest);
	cap_core_close(k);
	api_grants_free(grants);
	ar_close(S.ar);
	fg_pcapd_stop(pcapd);
	return 1;
}

int cli_start(int argc, char **argv)
{
	struct cli_config conf = { 0 };
	int ret;

	ret = run(argc, argv, &conf);
	cli_config_free(&conf);
	return ret;
}
