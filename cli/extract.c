/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `capture-appliance extract`: the offline time machine (extract/). Reads
 * capture files directly; no daemon needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "extract/extract.h"

void cli_extract_usage(FILE *out)
{
	fprintf(out,
		"Usage: capture-appliance extract [--from T] [--to T] [-w OUT|-] [--format pcap|pcapng]\n"
		"           -r PREFIX_OR_FILE [-r ...] [--no-index] [--stats] [EXPRESSION]\n"
		"       capture-appliance extract --reindex -r PREFIX_OR_FILE [-r ...]\n"
		"       capture-appliance [--server URL] [--token-file FILE] [--cacert FILE] [--insecure]\n"
		"           extract NAME [--from T] [--to T] [-w OUT|-] [--format pcap|pcapng] [EXPRESSION]\n"
		"\n"
		"Writes the records `tcpdump -r FILE EXPRESSION` returns with from <= time < to,\n"
		"merged in time order across all files, as one pcap (nanosecond) or pcapng.\n"
		"With -r, extract reads the files itself (no appliance needed). Without -r, the\n"
		"first word that is not an option names a capture of the running appliance,\n"
		"which answers from that capture's files (GET /api/v1/captures/NAME/extract).\n"
		"  -r PREFIX_OR_FILE  a capture file, or a dump prefix (all its rotation files);\n"
		"                     any number of times\n"
		"  --from T, --to T   RFC 3339 (2026-12-03T08:00:00.5Z) or Unix seconds (1764748800.5)\n"
		"  -w OUT|-           the answer (default: standard output if it is not a terminal);\n"
		"                     a failed query leaves no OUT (an existing one untouched)\n"
		"  --format F         pcap (default) or pcapng\n"
		"  --reindex          with -r: (re)build FILE.idx beside each file instead\n"
		"  --no-index         with -r: ignore the indexes (full scan)\n"
		"  --stats            with -r: end with a line of counters on standard error\n"
		"  --server URL       without -r: the appliance (default http://127.0.0.1:9000,\n"
		"                     or $CAPTURE_APPLIANCE_SERVER)\n"
		"  --token-file FILE  without -r: the bearer token (default: the server's own,\n"
		"                     /run/capture-appliance/api.token, if readable)\n"
		"  --cacert FILE      without -r: trust this CA for an https server\n"
		"  --insecure         without -r: don't check an https server's certificate\n"
		"Files with an index (FILE.idx) are read only where a match is possible;\n"
		"others, and stale or damaged indexes, mean a full scan of that file.\n"
		"Exit status: 0 done, 1 failed, 2 usage or an expression libpcap refuses.\n");
}

static void usage(FILE *out)
{
	cli_extract_usage(out);
}

struct prog {
	bool tty;
	struct timespec last;
	bool shown;
};

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void show(void *arg, const struct ex_stats *st)
{
	struct prog *p = arg;
	static const double every = 0.2;
	double now = mono(), last = (double)p->last.tv_sec + p->last.tv_nsec / 1e9;

	if (!p->tty || now - last < every)
		return;
	p->last.tv_sec = (time_t)now;
	p->last.tv_nsec = (long)((now - (double)(time_t)now) * 1e9);
	p->shown = true;
	fprintf(stderr, "\rextract: %llu files (%llu skipped), %.1f of %.1f MB read, %llu records out  ",
		(unsigned long long)st->files, (unsigned long long)st->files_skipped,
		st->bytes_read / 1e6, st->bytes_total / 1e6, (unsigned long long)st->records_out);
}

static void warn(void *arg, const char *msg)
{
	fprintf(stderr, "extract: %s\n", msg);
}

static int reindex(char **files, size_t n, bool tty)
{
	char err[512];
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (ex_index_file(files[i], err, sizeof(err))) {
			fprintf(stderr, "extract: %s\n", err);
			bad = 1;
		} else if (tty) {
			fprintf(stderr, "indexed %s\n", files[i]);
		}
	}
	return bad;
}

int cli_out_open(const char *prog, const char *path, struct cli_out *o)
{
	struct stat st;
	mode_t um;

	o->fd = -1;
	o->path = path;
	o->tmp = NULL;
	if (!strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		/* a device (/dev/null), a FIFO: written in place, never
		 * replaced; a link or a folder is refused */
		if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
			fprintf(stderr, "%s: %s: a %s, not written\n", prog, path,
				S_ISLNK(st.st_mode) ? "symbolic link" : "folder");
			return 1;
		}
		o->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (o->fd < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
			return 1;
		}
		return 0;
	}
	/* a temporary name, renamed at the end: a failed query leaves no
	 * file and an existing OUT untouched (regular files only) */
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0) {
		o->tmp = NULL;
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return 1;
	}
	um = umask(0);
	umask(um);
	(void)!fchmod(o->fd, 0666 & ~um); /* as a plain create would */
	return 0;
}

int cli_out_close(const char *prog, struct cli_out *o, bool ok)
{
	int ret = ok ? 0 : 1;

	if (o->fd > STDOUT_FILENO && close(o->fd) && ok) {
		fprintf(stderr, "%s: %s: %s\n", prog, o->path, strerror(errno));
		ret = 1;
	}
	o->fd = -1;
	if (o->tmp) {
		if (!ret && rename(o->tmp, o->path)) {
			fprintf(stderr, "%s: %s: %s\n", prog, o->path, strerror(errno));
			ret = 1;
		}
		if (ret)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	return ret;
}

/* -r (or -rFILE) or --reindex before "--", an option's value not counted:
 * the offline form. */
static bool offline_form(int argc, char **argv)
{
	static const char *const with_value[] = { "--from", "--to", "-w", "--format",
						   "--server", "--token-file", "--cacert" };
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if ((a[0] == '-' && a[1] == 'r') || !strcmp(a, "--reindex"))
			return true;
		for (k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			if (!strcmp(a, with_value[k]))
				i++;
	}
	return false;
}

int cli_extract(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' },
		{ "reindex", no_argument, NULL, 'R' },
		{ "no-index", no_argument, NULL, 'N' },
		{ "stats", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ex_opts o = { .format = EX_FMT_PCAP };
	struct prog pr = { .tty = isatty(2) };
	const char *outp = NULL;
	char **files = NULL, *expr = NULL, err[1024] = "";
	size_t nfiles = 0;
	bool do_reindex = false, stats = false;
	FILE *out = NULL;
	char *obuf = NULL;
	struct cli_out ow = { .fd = -1 };
	int c, ret = 2;

	if (!offline_form(argc, argv)) {
		for (c = 1; c < argc && strcmp(argv[c], "--"); c++)
			if (!strcmp(argv[c], "--help") || !strcmp(argv[c], "-h")) {
				usage(stdout);
				return 0;
			}
		return cli_client(argc, argv); /* its `extract` verb */
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'F':
		case 'T': {
			int64_t ns;
			if (ex_parse_time(optarg, &ns)) {
				fprintf(stderr, "extract: bad time '%s' (RFC 3339 or Unix seconds)\n", optarg);
				goto out;
			}
			if (c == 'F') {
				o.has_from = true;
				o.from_ns = ns;
			} else {
				o.has_to = true;
				o.to_ns = ns;
			}
			break;
		}
		case 'f':
			if (!strcmp(optarg, "pcap")) {
				o.format = EX_FMT_PCAP;
			} else if (!strcmp(optarg, "pcapng")) {
				o.format = EX_FMT_PCAPNG;
			} else {
				fprintf(stderr, "extract: --format is pcap or pcapng\n");
				goto out;
			}
			break;
		case 'w':
			outp = optarg;
			break;
		case 'R':
			do_reindex = true;
			break;
		case 'N':
			o.no_index = true;
			break;
		case 'S':
			stats = true;
			break;
		case 'r': {
			char **more;
			size_t nmore;
			int e = ex_expand_input(optarg, &more, &nmore);
			if (e) {
				fprintf(stderr, "extract: %s: %s\n", optarg,
					e == -ENOENT ? "no such file or dump prefix" : strerror(-e));
				goto out;
			}
			char **v = realloc(files, (nfiles + nmore + 1) * sizeof(*v));
			if (!v) {
				ex_paths_free(more);
				goto fail;
			}
			files = v;
			memcpy(files + nfiles, more, nmore * sizeof(*more));
			nfiles += nmore;
			files[nfiles] = NULL;
			free(more); /* the strings now belong to files */
			break;
		}
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (!nfiles) {
		fprintf(stderr, "extract: no input: -r PREFIX_OR_FILE\n");
		usage(stderr);
		goto out;
	}
	if (do_reindex) {
		if (optind < argc || outp || o.has_from || o.has_to) {
			fprintf(stderr, "extract: --reindex takes only -r\n");
			goto out;
		}
		ret = reindex(files, nfiles, pr.tty);
		goto out;
	}
	if (o.has_from && o.has_to && o.to_ns < o.from_ns) {
		fprintf(stderr, "extract: --to is before --from\n");
		goto out;
	}
	/* the expression: the remaining words, as tcpdump joins them */
	size_t len = 1;
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	expr = calloc(1, len);
	if (!expr)
		goto fail;
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			strcat(expr, " ");
		strcat(expr, argv[i]);
	}
	if (!outp) {
		if (isatty(1)) {
			fprintf(stderr, "extract: not writing a capture to a terminal: -w OUT or -w -\n");
			goto out;
		}
		outp = "-";
	}
	if (cli_out_open("extract", outp, &ow)) {
		ret = 1;
		goto out;
	}
	out = ow.fd == STDOUT_FILENO ? stdout : fdopen(ow.fd, "wb");
	if (!out) {
		fprintf(stderr, "extract: %s: %s\n", outp, strerror(errno));
		ret = 1;
		goto out;
	}
	obuf = malloc(1 << 20);
	if (obuf)
		setvbuf(out, obuf, _IOFBF, 1 << 20);
	/* files without an index are all open at once during the merge */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max &&
	    rl.rlim_cur < nfiles + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	o.files = (const char *const *)files;
	o.nfiles = nfiles;
	o.expr = expr;
	o.out = out;
	o.progress = show;
	o.progress_arg = &pr;
	o.warn = warn;
	struct ex_stats st;
	int e = ex_extract(&o, &st, err, sizeof(err));
	if (pr.shown)
		fputc('\n', stderr);
	if (e) {
		fprintf(stderr, "extract: %s\n", err);
		ret = e == -EINVAL ? 2 : 1;
		goto out;
	}
	if (out != stdout) {
		FILE *f = out;
		out = NULL;
		ow.fd = -1; /* fclose closes it */
		if (fclose(f)) {
			fprintf(stderr, "extract: %s: %s\n", outp, strerror(errno));
			cli_out_close("extract", &ow, false);
			ret = 1;
			goto out;
		}
	} else if (fflush(stdout)) {
		fprintf(stderr, "extract: standard output: %s\n", strerror(errno));
		ret = 1;
		goto out;
	}
	if (cli_out_close("extract", &ow, true)) {
		ret = 1;
		goto out;
	}
	if (stats)
		fprintf(stderr, "extract-stats files=%llu files_skipped=%llu files_indexed=%llu "
			"index_ignored=%llu blocks=%llu blocks_skipped=%llu records_read=%llu "
			"bytes_read=%llu bytes_total=%llu records_out=%llu files_cut=%llu files_gone=%llu\n",
			(unsigned long long)st.files, (unsigned long long)st.files_skipped,
			(unsigned long long)st.files_indexed, (unsigned long long)st.index_ignored,
			(unsigned long long)st.blocks, (unsigned long long)st.blocks_skipped,
			(unsigned long long)st.records_read, (unsigned long long)st.bytes_read,
			(unsigned long long)st.bytes_total, (unsigned long long)st.records_out,
			(unsigned long long)st.files_cut, (unsigned long long)st.files_gone);
	else if (pr.tty)
		fprintf(stderr, "extract: %llu records from %llu files (%llu skipped by the index), "
			"%.1f of %.1f MB read\n", (unsigned long long)st.records_out,
			(unsigned long long)st.files, (unsigned long long)st.files_skipped,
			st.bytes_read / 1e6, st.bytes_total / 1e6);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "extract: out of memory\n");
	ret = 1;
out:
	if (out && out != stdout) {
		fclose(out);
		ow.fd = -1;
	} else if (out == stdout) {
		fflush(stdout);
	}
	if (ret)
		cli_out_close("extract", &ow, false);
	free(obuf);
	free(expr);
	ex_paths_free(files);
	return ret;
}
