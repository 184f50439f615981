/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `capture-appliance fleet`: the client of a fleet (fleet/): ls, catalog,
 * extract. Talks to NATS only; packets come from the sensors' REST APIs.
 */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cli/cli.h"
#include "extract/extract.h"
#include "fleet/fleet.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: capture-appliance fleet --fleet URLS [--fleet-creds FILE] [--fleet-tls-ca FILE] ls [--json]\n"
		"       capture-appliance fleet --fleet URLS ... catalog [--sensor GLOB]\n"
		"       capture-appliance fleet --fleet URLS ... extract [--sensor GLOB] [--capture GLOB]\n"
		"           [--from T] [--to T] [--timeout S] [--cacert FILE] [-w OUT|-]\n"
		"           [--format pcap|pcapng] [--archive s3://BUCKET[/PREFIX] --s3-endpoint URL\n"
		"           --s3-credentials FILE [--s3-region R]] [EXPRESSION]\n"
		"\n"
		"ls: the sensors (last seen, REST URL) and their captures with the time the\n"
		"catalog covers. catalog: every catalog record, one JSON object a line.\n"
		"extract: the records EXPRESSION takes in [from, to) from every sensor whose\n"
		"catalog meets the window, fetched from each sensor's REST API and merged in\n"
		"time order; a sensor that does not answer is named on standard error, the\n"
		"answer is partial and the exit status 3.\n"
		"\n"
		"  --fleet URLS         NATS servers, nats://HOST:PORT[,...] (tls:// too)\n"
		"                       (default: $CAPTURE_APPLIANCE_FLEET)\n"
		"  --fleet-creds FILE   a NATS .creds file, 'user:password' or a token (private)\n"
		"  --fleet-tls-ca FILE  TLS to NATS, servers checked against this CA\n"
		"  --json               ls: JSON instead of a table\n"
		"  --sensor GLOB        only sensors whose name matches\n"
		"  --capture GLOB       extract: only captures whose name matches\n"
		"  --from T             the window [from, to): RFC 3339 (2026-12-03T08:00:00.5Z)\n"
		"  --to T               or Unix seconds (1764748800.5)\n"
		"  --timeout S          seconds a sensor has to answer (default 10); also the\n"
		"                       longest a stream may stall\n"
		"  --cacert FILE        the CA of sensors' HTTPS REST APIs\n"
		"  -w OUT|-             the answer (default: standard output unless a terminal)\n"
		"  --format F           pcap (default) or pcapng\n"
		"  --archive s3://BUCKET[/PREFIX]\n"
		"                       extract: also read from this archive the files the\n"
		"                       sensors no longer hold (retention) or whose sensor\n"
		"                       does not answer (the catalog says which are archived)\n"
		"  --s3-endpoint URL    the archive's S3 endpoint, http[s]://HOST[:PORT]\n"
		"  --s3-credentials FILE\n"
		"                       access_key/secret_key lines (private to its owner)\n"
		"  --s3-region R        the archive's region (default us-east-1)\n"
		"Exit status: 0 done, 1 failed, 2 usage, 3 partial answer.\n");
}

static char *join(int argc, char **argv, int from)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (i = from; i < argc; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int do_ls(struct fl_conn_opts *c, int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					     { "help", no_argument, NULL, 'h' },
					     { 0 } };
	char err[1024] = "";
	bool json = false;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 'j') {
			json = true;
		} else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleet ls: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (fl_ls(c, json, stdout, err, sizeof(err))) {
		fprintf(stderr, "fleet ls: %s\n", err);
		return 1;
	}
	return 0;
}

static int do_catalog(struct fl_conn_opts *c, int argc, char **argv)
{
	static const struct option lo[] = { { "sensor", required_argument, NULL, 's' },
					     { "help", no_argument, NULL, 'h' },
					     { 0 } };
	const char *glob = NULL;
	char err[1024] = "";
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o == 's') {
			glob = optarg;
		} else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleet catalog: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (fl_catalog_dump(c, glob, stdout, err, sizeof(err))) {
		fprintf(stderr, "fleet catalog: %s\n", err);
		return 1;
	}
	return 0;
}

static int do_extract(struct fl_conn_opts *c, int argc, char **argv)
{
	enum { O_FROM = 256, O_TO, O_TIMEOUT, O_FORMAT, O_SENSOR, O_CAPTURE, O_CACERT, O_ARCHIVE,
	       O_S3_EP, O_S3_CRED, O_S3_REGION };
	static const struct option lo[] = {
		{ "sensor", required_argument, NULL, O_SENSOR },
		{ "capture", required_argument, NULL, O_CAPTURE },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "archive", required_argument, NULL, O_ARCHIVE },
		{ "s3-endpoint", required_argument, NULL, O_S3_EP },
		{ "s3-credentials", required_argument, NULL, O_S3_CRED },
		{ "s3-region", required_argument, NULL, O_S3_REGION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fl_extract_opts x = { .conn = *c, .progress = stderr };
	struct ar_target ar = { 0 };
	struct ar_client *arc = NULL;
	struct fl_extract_result res;
	const char *outp = NULL;
	char err[1024] = "", *tmp = NULL, *expr = NULL;
	struct stat ost;
	FILE *out = NULL;
	int o, ret = 1, fd;
	long v;

	optind = 1;
	while ((o = getopt_long(argc, argv, "w:", lo, NULL)) != -1) {
		switch (o) {
		case O_SENSOR:
			x.sensor_glob = optarg;
			break;
		case O_CAPTURE:
			x.capture_glob = optarg;
			break;
		case O_FROM:
		case O_TO:
			if (ex_parse_time(optarg, o == O_FROM ? &x.from_ns : &x.to_ns)) {
				fprintf(stderr, "fleet extract: --%s '%s': RFC 3339 or Unix seconds\n",
					o == O_FROM ? "from" : "to", optarg);
				return 2;
			}
			*(o == O_FROM ? &x.has_from : &x.has_to) = true;
			break;
		case O_TIMEOUT: {
			char *end;

			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 3600) {
				fprintf(stderr, "fleet extract: --timeout takes 1..3600 seconds\n");
				return 2;
			}
			x.timeout_s = (unsigned int)v;
			break;
		}
		case O_FORMAT:
			if (strcmp(optarg, "pcap") && strcmp(optarg, "pcapng")) {
				fprintf(stderr, "fleet extract: --format pcap|pcapng\n");
				return 2;
			}
			x.pcapng = !strcmp(optarg, "pcapng");
			break;
		case O_CACERT:
			x.rest_cacert = optarg;
			break;
		case O_ARCHIVE:
			ar.url = optarg;
			break;
		case O_S3_EP:
			ar.endpoint = optarg;
			break;
		case O_S3_CRED:
			ar.cred_file = optarg;
			break;
		case O_S3_REGION:
			ar.region = optarg;
			break;
		case 'w':
			outp = optarg;
			break;
		default:
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (ar.url || ar.endpoint || ar.cred_file || ar.region) {
		if (!ar.url || !ar.endpoint || !ar.cred_file) {
			fprintf(stderr, "fleet extract: --archive, --s3-endpoint and --s3-credentials "
					"go together\n");
			return 2;
		}
		/* checked before anything is asked (no request yet) */
		if (ar_client_open(&ar, &arc, err, sizeof(err))) {
			fprintf(stderr, "fleet extract: %s\n", err);
			return 2;
		}
		ar_client_close(arc);
		x.archive = &ar;
	}
	if (x.has_from && x.has_to && x.from_ns >= x.to_ns) {
		fprintf(stderr, "fleet extract: --from must be before --to\n");
		return 2;
	}
	expr = join(argc, argv, optind);
	if (!expr) {
		fprintf(stderr, "fleet extract: %s\n", strerror(ENOMEM));
		return 1;
	}
	x.expr = expr;
	if (!outp) {
		if (isatty(1)) {
			fprintf(stderr, "fleet extract: not writing a capture to a terminal: "
					"-w OUT or -w -\n");
			ret = 2;
			goto out;
		}
		outp = "-";
	}
	if (!strcmp(outp, "-")) {
		out = stdout;
	} else if (!lstat(outp, &ost) && !S_ISREG(ost.st_mode)) {
		/* a device (/dev/null), a FIFO: written in place, never
		 * replaced; a link or a folder is refused */
		if (S_ISLNK(ost.st_mode) || S_ISDIR(ost.st_mode)) {
			fprintf(stderr, "fleet extract: %s: a %s, not written\n", outp,
				S_ISLNK(ost.st_mode) ? "symbolic link" : "folder");
			goto out;
		}
		out = fopen(outp, "wb");
		if (!out) {
			fprintf(stderr, "fleet extract: %s: %s\n", outp, strerror(errno));
			goto out;
		}
	} else {
		/* a temporary name, renamed at the end: a failed query leaves
		 * no file and an existing OUT untouched */
		if (asprintf(&tmp, "%s.tmp.XXXXXX", outp) < 0) {
			tmp = NULL;
			goto out;
		}
		fd = mkstemp(tmp);
		if (fd < 0 || !(out = fdopen(fd, "wb"))) {
			fprintf(stderr, "fleet extract: %s: %s\n", outp, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(tmp);
			tmp = NULL;
			goto out;
		}
	}
	x.out = out;
	signal(SIGPIPE, SIG_IGN); /* a stream's reader gone: EPIPE, not death */
	ret = fl_extract(&x, &res, err, sizeof(err));
	if (ret && ret != -EAGAIN) {
		fprintf(stderr, "fleet extract: %s\n", err[0] ? err : strerror(-ret));
		ret = 1;
		goto out;
	}
	if (fflush(out) || ferror(out)) {
		fprintf(stderr, "fleet extract: writing %s: %s\n", outp, strerror(errno));
		ret = 1;
		goto out;
	}
	if (tmp) {
		fclose(out);
		out = NULL;
		if (rename(tmp, outp)) {
			fprintf(stderr, "fleet extract: %s: %s\n", outp, strerror(errno));
			ret = 1;
			goto out;
		}
		free(tmp);
		tmp = NULL;
	}
	if (ret == -EAGAIN)
		fprintf(stderr, "fleet extract: PARTIAL answer: %u of %u sensor captures did not "
				"answer in full (named above)%s\n", res.failed, res.asked,
			res.archived ? "; archived files read in their place" : "");
	ret = ret == -EAGAIN ? 3 : 0;
out:
	if (out && out != stdout)
		fclose(out);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(expr);
	return ret;
}

int cli_fleet(int argc, char **argv)
{
	enum { O_FLEET = 256, O_CREDS, O_CA };
	static const struct option lo[] = {
		{ "fleet", required_argument, NULL, O_FLEET },
		{ "fleet-creds", required_argument, NULL, O_CREDS },
		{ "fleet-tls-ca", required_argument, NULL, O_CA },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fl_conn_opts c = { 0 };
	char err[1024] = "";
	const char *verb;
	int o;

	optind = 1;
	/* '+': the options up to the verb; the verb has its own */
	while ((o = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (o) {
		case O_FLEET:
			c.servers = optarg;
			break;
		case O_CREDS:
			c.creds = optarg;
			break;
		case O_CA:
			c.tls_ca = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!c.servers)
		c.servers = getenv("CAPTURE_APPLIANCE_FLEET");
	if (!c.servers) {
		fprintf(stderr, "fleet: --fleet nats://HOST:PORT is required\n");
		return 2;
	}
	if (fl_check_conn(&c, err, sizeof(err))) {
		fprintf(stderr, "fleet: %s\n", err);
		return 2;
	}
	verb = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(verb, "ls"))
		return do_ls(&c, argc, argv);
	if (!strcmp(verb, "catalog"))
		return do_catalog(&c, argc, argv);
	if (!strcmp(verb, "extract"))
		return do_extract(&c, argc, argv);
	fprintf(stderr, "fleet: unknown verb '%s' (ls, catalog, extract)\n", verb);
	return 2;
}
