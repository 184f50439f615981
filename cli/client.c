/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client: the polycubectl-style command line client of a running
 * appliance (`capture-appliance add|del|set|show|stats|files|pull|get|dump`,
 * and `extract NAME`). Each command is one REST request; the server's error
 * message is printed and the exit status is non-zero on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture/capture.h"
#include "api/client.h"
#include "api/token.h"
#include "cli/cli.h"
#include "extract/extract.h"

#define DEFAULT_SERVER "http://127.0.0.1:9000"
#define ERRLEN 1024

struct cmd {
	const char *name;
	int (*run)(struct api_cli_server *s, int argc, char **argv);
	const char *usage;
};

static const struct cmd *find_cmd(const char *name);

static void print_help(FILE *out, const struct cmd *c)
{
	fprintf(out, "Usage: capture-appliance [--server URL] [--token-file FILE] "
		     "[--cacert FILE] %s\n", c->usage);
	fprintf(out, "  --server URL       the appliance, http:// or https:// (default %s,\n"
		     "                     or $CAPTURE_APPLIANCE_SERVER); IPv6 as http://[ADDR]:PORT\n"
		     "  --token-file FILE  send the bearer token in FILE (default: "
		     API_TOKEN_DEFAULT ",\n"
		     "                     the server's own, readable by root only)\n"
		     "  --cacert FILE      https: trust the CA certificate(s) in FILE (PEM), e.g. the\n"
		     "                     server's self-signed certificate, instead of the system's\n"
		     "  --insecure         https: don't check the certificate at all (anyone on the\n"
		     "                     path can then read the token and impersonate the server)\n",
		     DEFAULT_SERVER);
}

/* Sends one request; prints the server's error. Returns the response (body
 * to free) or -1. */
static int call(struct api_cli_server *s, const char *method, const char *path,
		const char *body, struct api_cli_resp *resp)
{
	char err[ERRLEN] = "";
	cJSON *j;

	if (api_cli_request(s, method, path, body, NULL, NULL, resp, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return -1;
	}
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	j = resp->body ? cJSON_Parse(resp->body) : NULL;
	if (cJSON_IsString(cJSON_GetObjectItem(j, "error")))
		fprintf(stderr, "capture-appliance: error: %s\n",
			cJSON_GetObjectItem(j, "error")->valuestring);
	else
		fprintf(stderr, "capture-appliance: HTTP %d%s%s\n", resp->status,
			resp->body ? ": " : "", resp->body ? resp->body : "");
	cJSON_Delete(j);
	free(resp->body);
	resp->body = NULL;
	return -1;
}

/* N[kMGT] (powers of 1024) as a number; -1 if it isn't one. */
static double size_value(const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	int shift = 0;

	if (end == v || v[0] == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	return *end ? -1 : (double)n * (double)(1ull << shift);
}

static bool numeric_key(const char *k)
{
	return !strcmp(k, "snaplen") || !strcmp(k, "rotate_time") || !strcmp(k, "retain_files") ||
	       !strcmp(k, "min_free") || !strcmp(k, "rotate_size") || !strcmp(k, "retain_bytes");
}

/* FIELD=VALUE -> typed JSON member: numbers for snaplen, rotation and
 * retention (sizes may say k, M, G, T), booleans for networkmode/transparent;
 * anything unexpected goes as a string and the server says what is wrong
 * with it. */
static int add_kv(cJSON *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[64];
	const char *v;
	cJSON *item;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		fprintf(stderr, "capture-appliance: expected FIELD=VALUE, got '%s'\n", kv);
		return -1;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	v = eq + 1;
	if (numeric_key(key) && *v) {
		double n = size_value(v);

		item = n < 0 ? cJSON_CreateString(v) : cJSON_CreateNumber(n);
	} else if (!strcmp(key, "networkmode") || !strcmp(key, "transparent")) {
		if (!strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "yes"))
			item = cJSON_CreateTrue();
		else if (!strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "no"))
			item = cJSON_CreateFalse();
		else
			item = cJSON_CreateString(v);
	} else {
		item = cJSON_CreateString(v);
	}
	if (cJSON_GetObjectItemCaseSensitive(o, key)) {
		fprintf(stderr, "capture-appliance: '%s' given twice\n", key);
		cJSON_Delete(item);
		return -1;
	}
	return item && cJSON_AddItemToObject(o, key, item) ? 0 : -1;
}

static void print_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	char *p = j ? cJSON_Print(j) : NULL;

	if (cJSON_IsString(j))
		printf("%s\n", j->valuestring); /* a bare field value */
	else
		printf("%s\n", p ? p : text);
	free(p);
	cJSON_Delete(j);
}

/* A NAME argument (an option-looking one is not). Says why a name is bad:
 * a bare usage text left users guessing. */
static bool name_arg_ok(const char *name)
{
	if (name[0] == '-')
		return false;
	if (!name[0] || strlen(name) >= CAP_NAME_MAX || strpbrk(name, "/?#% ")) {
		fprintf(stderr, "capture-appliance: bad name '%s': 1..%d characters, "
				"none of '/', '?', '#', '%%' or space\n", name, CAP_NAME_MAX - 1);
		return false;
	}
	return true;
}

/* add/set: NAME FIELD=VALUE... -> POST or PATCH. */
static int send_fields(struct api_cli_server *s, int argc, char **argv, bool add)
{
	struct api_cli_resp resp;
	char path[CAP_NAME_MAX + 32];
	char *text = NULL;
	cJSON *o;
	int i, ret = 1;

	if (argc < 2 || !name_arg_ok(argv[1]) || (!add && argc < 3)) {
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	o = cJSON_CreateObject();
	if (!o)
		return 1;
	if (add && !cJSON_AddStringToObject(o, "name", argv[1]))
		goto out;
	for (i = 2; i < argc; i++)
		if (add_kv(o, argv[i]))
			goto out_usage;
	text = cJSON_PrintUnformatted(o);
	if (!text)
		goto out;
	if (add)
		snprintf(path, sizeof(path), "/api/v1/captures");
	else
		snprintf(path, sizeof(path), "/api/v1/captures/%s", argv[1]);
	if (!call(s, add ? "POST" : "PATCH", path, text, &resp)) {
		if (resp.body)
			print_json(resp.body);
		free(resp.body);
		ret = 0;
	}
	goto out;
out_usage:
	ret = 2;
out:
	free(text);
	cJSON_Delete(o);
	return ret;
}

static int cmd_add(struct api_cli_server *s, int argc, char **argv)
{
	return send_fields(s, argc, argv, true);
}

static int cmd_set(struct api_cli_server *s, int argc, char **argv)
{
	return send_fields(s, argc, argv, false);
}

static int cmd_del(struct api_cli_server *s, int argc, char **argv)
{
	struct api_cli_resp resp;
	char path[CAP_NAME_MAX + 32];

	if (argc != 2 || !name_arg_ok(argv[1])) {
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/captures/%s", argv[1]);
	if (call(s, "DELETE", path, NULL, &resp))
		return 1;
	free(resp.body);
	return 0;
}

/* Takes "--json" out of argv (anywhere after the command). */
static bool take_flag(int *argc, char **argv, const char *flag)
{
	bool found = false;
	int i, j;

	for (i = j = 0; i < *argc; i++) {
		if (i > 0 && !strcmp(argv[i], flag))
			found = true;
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	return found;
}

/* A scalar as people read it: strings bare, integers without ".0". */
static void scalar_text(const cJSON *v, char *out, size_t len)
{
	if (cJSON_IsString(v))
		snprintf(out, len, "%s", v->valuestring);
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		snprintf(out, len, "%lld", (long long)v->valuedouble);
	else if (cJSON_IsNumber(v))
		snprintf(out, len, "%g", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(out, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else
		snprintf(out, len, "-"); /* absent */
}

/* An object as "key  value" lines, keys padded to one width; a nested
 * object follows as its own indented block under "key:". */
static void print_kv(const cJSON *o, int indent)
{
	const cJSON *v;
	char text[4096];
	int w = 0, n;

	cJSON_ArrayForEach(v, o)
		if (!cJSON_IsObject(v) && !cJSON_IsArray(v) && (n = (int)strlen(v->string)) > w)
			w = n;
	cJSON_ArrayForEach(v, o) {
		if (cJSON_IsObject(v) || cJSON_IsArray(v))
			continue;
		scalar_text(v, text, sizeof(text));
		printf("%*s%-*s  %s\n", indent, "", w, v->string, text);
	}
	cJSON_ArrayForEach(v, o) {
		if (!cJSON_IsObject(v))
			continue;
		printf("%*s%s:\n", indent, "", v->string);
		print_kv(v, indent + 2);
	}
}

/* An array of objects as a table: one column per key (the first row's
 * keys, in order), each as wide as its widest cell, the last one free. */
static void print_table(const cJSON *arr, const char *const *cols, size_t ncols)
{
	char cell[4096];
	int w[32] = { 0 };
	const cJSON *row;
	size_t c;

	if (ncols > 32)
		ncols = 32;
	for (c = 0; c < ncols; c++)
		w[c] = (int)strlen(cols[c]);
	cJSON_ArrayForEach(row, arr)
		for (c = 0; c < ncols; c++) {
			scalar_text(cJSON_GetObjectItemCaseSensitive(row, cols[c]), cell,
				    sizeof(cell));
			if ((int)strlen(cell) > w[c])
				w[c] = (int)strlen(cell);
		}
	for (c = 0; c < ncols; c++)
		printf("%-*s%s", c + 1 < ncols ? w[c] : 0, cols[c], c + 1 < ncols ? "  " : "\n");
	cJSON_ArrayForEach(row, arr)
		for (c = 0; c < ncols; c++) {
			scalar_text(cJSON_GetObjectItemCaseSensitive(row, cols[c]), cell,
				    sizeof(cell));
			printf("%-*s%s", c + 1 < ncols ? w[c] : 0, cell, c + 1 < ncols ? "  " : "\n");
		}
}

enum out_fmt { OUT_JSON, OUT_KV, OUT_CAPTURES, OUT_FILES };

/* The captures as one line each (the list holds settings, no counters:
 * `stats NAME` has them); the filter, of any length, last. */
static void print_captures(const cJSON *arr)
{
	static const char *const cols[] = { "name", "iface", "capture", "snaplen",
					    "networkmode", "ingress_path", "format", "dump",
					    "filter" };
	cJSON *rows = cJSON_CreateArray(), *row, *st;
	const cJSON *c, *v;

	if (!rows)
		return;
	/* flatten: stats.* next to the settings */
	cJSON_ArrayForEach(c, arr) {
		row = cJSON_Duplicate(c, true);
		if (!row)
			break;
		st = cJSON_DetachItemFromObjectCaseSensitive(row, "stats");
		cJSON_ArrayForEach(v, st)
			cJSON_AddItemToObject(row, v->string, cJSON_Duplicate(v, true));
		cJSON_Delete(st);
		cJSON_AddItemToArray(rows, row);
	}
	print_table(rows, cols, sizeof(cols) / sizeof(cols[0]));
	cJSON_Delete(rows);
}

static void print_as(const char *text, enum out_fmt fmt)
{
	static const char *const file_cols[] = { "name", "records", "bytes", "first_ns",
						 "last_ns", "sealed" };
	cJSON *j = cJSON_Parse(text);

	if (!j || fmt == OUT_JSON || (!cJSON_IsObject(j) && !cJSON_IsArray(j))) {
		print_json(text);
	} else if (fmt == OUT_CAPTURES && cJSON_IsArray(j)) {
		print_captures(j);
	} else if (fmt == OUT_FILES && cJSON_IsArray(j)) {
		print_table(j, file_cols, sizeof(file_cols) / sizeof(file_cols[0]));
	} else {
		print_kv(j, 0);
	}
	cJSON_Delete(j);
}

static int get_print(struct api_cli_server *s, const char *path, enum out_fmt fmt)
{
	struct api_cli_resp resp;

	if (call(s, "GET", path, NULL, &resp))
		return 1;
	if (resp.body)
		print_as(resp.body, fmt);
	free(resp.body);
	return 0;
}

static bool field_ok(const char *f)
{
	static const char *const fields[] = { "capture", "filter", "snaplen", "dump",
					      "networkmode", "iface", "stats" };
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(f, fields[i]))
			return true;
	return false;
}

static int cmd_show(struct api_cli_server *s, int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json");
	char path[CAP_NAME_MAX + 64];

	if (argc > 3 || (argc > 1 && !name_arg_ok(argv[1])) ||
	    (argc > 2 && !name_arg_ok(argv[2]))) {
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	if (argc == 1)
		return get_print(s, "/api/v1/captures", json ? OUT_JSON : OUT_CAPTURES);
	if (argc == 3 && !field_ok(argv[2])) {
		fprintf(stderr, "capture-appliance: unknown field '%s' (capture, filter, "
				"snaplen, dump, networkmode, iface, stats)\n", argv[2]);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/captures/%s%s%s", argv[1],
		 argc == 3 ? "/" : "", argc == 3 ? argv[2] : "");
	if (json && argc == 3) { /* the field's JSON value, strings quoted */
		struct api_cli_resp resp;

		if (call(s, "GET", path, NULL, &resp))
			return 1;
		printf("%s\n", resp.body ? resp.body : "");
		free(resp.body);
		return 0;
	}
	return get_print(s, path, json ? OUT_JSON : OUT_KV);
}

static int cmd_files(struct api_cli_server *s, int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json");
	char path[CAP_NAME_MAX + 64];

	if (argc != 2 || !name_arg_ok(argv[1])) {
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/captures/%s/files", argv[1]);
	return get_print(s, path, json ? OUT_JSON : OUT_FILES);
}

static int parse_pos(const char *opt, const char *v, unsigned long long *out);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double stat_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* One stats sample: parsed body or NULL (the error is printed). */
static cJSON *stats_sample(struct api_cli_server *s, const char *path)
{
	struct api_cli_resp resp;
	cJSON *j;

	if (call(s, "GET", path, NULL, &resp))
		return NULL;
	j = resp.body ? cJSON_Parse(resp.body) : NULL;
	free(resp.body);
	if (!cJSON_IsObject(j)) {
		fprintf(stderr, "capture-appliance: the server sent no counters\n");
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* `stats NAME --watch S`: like vmstat, one line of rates per interval,
 * from the differences of two samples over the time really elapsed. */
static int stats_watch(struct api_cli_server *s, const char *path, double interval,
		       unsigned long long count)
{
	static const char *const keys[] = { "seen", "matched", "written", "bytes_written" };
	cJSON *prev, *cur;
	struct timespec next;
	double t0, t1, dt, drops0, drops1;
	unsigned long long line;
	char tbuf[16];
	time_t wall;
	size_t i;

	prev = stats_sample(s, path);
	if (!prev)
		return 1;
	t0 = now_s();
	printf("%-8s %12s %12s %12s %14s %10s\n", "time", "seen/s", "matched/s",
	       "written/s", "bytes/s", "drops/s");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (line = 0; !count || line < count; line++) {
		next.tv_sec += (time_t)interval;
		next.tv_nsec += (long)((interval - (double)(time_t)interval) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		cur = stats_sample(s, path);
		if (!cur) {
			cJSON_Delete(prev);
			return 1;
		}
		t1 = now_s();
		dt = t1 > t0 ? t1 - t0 : 1e-9;
		wall = time(NULL);
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&wall));
		printf("%-8s", tbuf);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			printf(i == 3 ? " %14.0f" : " %12.0f",
			       (stat_num(cur, keys[i]) - stat_num(prev, keys[i])) / dt);
		/* every loss: the datapath's drops, then the network backlog's */
		drops0 = stat_num(prev, "dropped") + stat_num(prev, "net_dropped");
		drops1 = stat_num(cur, "dropped") + stat_num(cur, "net_dropped");
		printf(" %10.0f\n", (drops1 - drops0) / dt);
		fflush(stdout);
		cJSON_Delete(prev);
		prev = cur;
		t0 = t1;
	}
	cJSON_Delete(prev);
	return 0;
}

static int cmd_stats(struct api_cli_server *s, int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json"), watch = false;
	unsigned long long count = 0, secs = 1;
	char path[CAP_NAME_MAX + 64];
	const char *name = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--watch")) {
			watch = true;
			/* an optional SECONDS: the next word if it is all digits */
			if (i + 1 < argc && argv[i + 1][0] &&
			    strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]) &&
			    parse_pos("--watch", argv[++i], &secs))
				return 2;
		} else if (!strcmp(argv[i], "--count")) {
			if (parse_pos("--count", i + 1 < argc ? argv[++i] : NULL, &count))
				return 2;
		} else if (!name && name_arg_ok(argv[i])) {
			name = argv[i];
		} else {
			print_help(stderr, find_cmd(argv[0]));
			return 2;
		}
	}
	if (!name || (count && !watch) || (watch && json)) {
		if (name && json)
			fprintf(stderr, "capture-appliance: --watch prints lines, not JSON\n");
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/captures/%s/stats", name);
	if (watch)
		return stats_watch(s, path, (double)secs, count);
	return get_print(s, path, json ? OUT_JSON : OUT_KV);
}

/* Progress of a long transfer on stderr, only when it is a terminal,
 * at most 10 times a second; the line is wiped at the end. */
struct progress {
	bool on, shown;
	double last;
};

static void progress_init(struct progress *pr)
{
	pr->on = isatty(STDERR_FILENO);
	pr->shown = false;
	pr->last = 0;
}

/* 1536 -> "1.5 KiB" */
static const char *human(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
	return buf;
}

static void progress_show(struct progress *pr, unsigned long long records,
			  unsigned long long want, unsigned long long bytes, long long total)
{
	char a[32], b[32];
	double t;

	if (!pr->on)
		return;
	t = now_s();
	if (pr->shown && t - pr->last < 0.1 && !(want && records == want) &&
	    !(total > 0 && bytes == (unsigned long long)total))
		return;
	pr->last = t;
	pr->shown = true;
	if (want)
		fprintf(stderr, "\r\033[K%llu/%llu packets (%.0f%%), %s", records, want,
			100.0 * (double)records / (double)want, human((double)bytes, a, sizeof(a)));
	else if (total > 0)
		fprintf(stderr, "\r\033[K%s of %s (%.0f%%)", human((double)bytes, a, sizeof(a)),
			human((double)total, b, sizeof(b)), 100.0 * (double)bytes / (double)total);
	else
		fprintf(stderr, "\r\033[K%llu packets, %s", records,
			human((double)bytes, a, sizeof(a)));
}

static void progress_end(struct progress *pr)
{
	if (pr->on && pr->shown)
		fprintf(stderr, "\r\033[K");
}

struct pull_out {
	int fd;
	unsigned long long bytes, records;
	int err;
	/* record counting: the 24-byte file header, then 16-byte record headers */
	unsigned char hdr[24];
	size_t hlen, skip;
	bool fhdr_done, swap, count_records; /* pcap: count its records */
	unsigned long long want; /* the count asked for, for the progress */
	struct progress pr;
	const struct api_cli_resp *resp; /* its total, for the progress */
};

/* Counts the records in the pcap stream, so the summary can say packets
 * like client.py does (the server only ever sends whole records). */
static void count_records(struct pull_out *p, const unsigned char *c, size_t len)
{
	uint32_t v;
	size_t want, n;

	while (len) {
		if (p->skip) {
			n = p->skip < len ? p->skip : len;
			p->skip -= n;
			c += n;
			len -= n;
			continue;
		}
		want = p->fhdr_done ? 16 : 24;
		n = want - p->hlen < len ? want - p->hlen : len;
		memcpy(p->hdr + p->hlen, c, n);
		p->hlen += n;
		c += n;
		len -= n;
		if (p->hlen < want)
			break;
		p->hlen = 0;
		if (!p->fhdr_done) {
			memcpy(&v, p->hdr, 4); /* magic: the other byte order? */
			p->swap = v == 0x4d3cb2a1 || v == 0xd4c3b2a1;
			p->fhdr_done = true;
			continue;
		}
		memcpy(&v, p->hdr + 8, 4); /* incl_len */
		p->skip = p->swap ? __builtin_bswap32(v) : v;
		p->records++;
	}
}

static int pull_sink(const void *buf, size_t len, void *arg)
{
	struct pull_out *p = arg;
	const char *c = buf;
	ssize_t w;

	if (p->count_records)
		count_records(p, buf, len);

	while (len) {
		w = write(p->fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			p->err = errno;
			return -1;
		}
		c += w;
		len -= (size_t)w;
		p->bytes += (unsigned long long)w;
	}
	progress_show(&p->pr, p->records, p->want, p->bytes, p->resp ? p->resp->total : -1);
	return 0;
}

static int parse_pos(const char *opt, const char *v, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = v ? strtoull(v, &end, 10) : 0;
	if (!v || errno || *end || !*v || *v == '-' || *out == 0) {
		fprintf(stderr, "capture-appliance: %s needs a positive integer\n", opt);
		return -1;
	}
	return 0;
}

/* GETs path into out->fd as it arrives; prints what went wrong (the
 * server's message for an HTTP error, whose status goes to *status).
 * label names the output in messages. 0 or -1. */
static int transfer(struct api_cli_server *s, const char *path, const char *label,
		    struct pull_out *out, int *status)
{
	char err[ERRLEN] = "";
	struct api_cli_resp resp;
	int ret;

	progress_init(&out->pr);
	out->resp = &resp;
	signal(SIGPIPE, SIG_IGN); /* `pull -w - | head`: end quietly */
	s->timeout_ms = 0;	  /* a quiet link is no error here */
	ret = api_cli_request(s, "GET", path, NULL, pull_sink, out, &resp, err, sizeof(err));
	out->resp = NULL;
	progress_end(&out->pr);
	*status = resp.status;
	if (ret) {
		fprintf(stderr, "capture-appliance: %s\n", err);
	} else if (resp.status != 200) {
		cJSON *j = resp.body ? cJSON_Parse(resp.body) : NULL;
		cJSON *e = cJSON_GetObjectItem(j, "error");

		fprintf(stderr, "capture-appliance: error: %s\n",
			cJSON_IsString(e) ? e->valuestring : "unexpected answer");
		cJSON_Delete(j);
		ret = -EPROTO;
	} else if (out->err && out->err != EPIPE) {
		fprintf(stderr, "capture-appliance: writing %s: %s\n", label, strerror(out->err));
		ret = -out->err;
	} else if (resp.total >= 0 && out->bytes != (unsigned long long)resp.total &&
		   !out->err) {
		fprintf(stderr, "capture-appliance: %s: %llu of %lld bytes arrived\n", label,
			out->bytes, resp.total);
		ret = -EPROTO;
	}
	free(resp.body);
	return ret ? -1 : 0;
}

/* GETs path into file ('-': stdout) as it arrives; on any error no file
 * is left behind. out->count_records/want set by the caller. */
static int download(struct api_cli_server *s, const char *path, const char *file,
		    struct pull_out *out)
{
	bool to_stdout = !strcmp(file, "-");
	int ret, status;

	if (to_stdout) {
		out->fd = STDOUT_FILENO;
	} else {
		out->fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out->fd < 0) {
			fprintf(stderr, "capture-appliance: %s: %s\n", file, strerror(errno));
			return 1;
		}
	}
	ret = transfer(s, path, file, out, &status);
	if (!to_stdout && close(out->fd) && !ret) {
		fprintf(stderr, "capture-appliance: writing %s: %s\n", file, strerror(errno));
		ret = -1;
	}
	if (ret && !to_stdout)
		unlink(file); /* no half-made file on error */
	return ret ? 1 : 0;
}

/* Appends "&key=VALUE" (or "?key=" first), VALUE percent-encoded. */
static int add_param(char *path, size_t len, const char *key, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	int w = snprintf(path + n, len - n, "%c%s=", strchr(path, '?') ? '&' : '?', key);

	if (w < 0 || (size_t)w >= len - n)
		return -1;
	n += (size_t)w;
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (n + 4 > len)
			return -1;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c)) {
			path[n++] = (char)c;
		} else {
			path[n++] = '%';
			path[n++] = hex[c >> 4];
			path[n++] = hex[c & 15];
		}
	}
	path[n] = '\0';
	return 0;
}

/* --opt VALUE or --opt=VALUE at argv[*i]: the value (and *i moved past
 * it), or NULL if argv[*i] is not opt. *missing set when opt lacks one. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=' && opt[1] == '-')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], opt))
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

/*
 * extract NAME [--from T] [--to T] [-w OUT|-] [--format pcap|pcapng]
 * [EXPRESSION]: the appliance runs the query on the capture's files
 * (GET .../extract) and the answer is written here as the offline extract
 * writes it: a failed query (bad expression, unknown capture, a cut
 * stream) leaves no OUT. Exit status 2 for what the server refuses as a
 * bad request (400: an expression libpcap refuses, a bad time).
 */
static int cmd_extract(struct api_cli_server *s, int argc, char **argv)
{
	const char *name = NULL, *file = NULL, *from = NULL, *to = NULL, *fmt = NULL, *v;
	struct pull_out out = { .fd = -1 };
	struct cli_out ow = { .fd = -1 };
	char *expr = NULL, *path = NULL;
	size_t elen = 1, plen;
	int64_t from_ns = 0, to_ns = 0;
	bool missing = false, rest = false;
	int i, status = 0, ret = 2;

	expr = calloc(1, 1);
	if (!expr)
		return 1;
	for (i = 1; i < argc; i++) {
		if (!rest && !strcmp(argv[i], "--")) {
			rest = true;
		} else if (!rest && (v = opt_value(argc, argv, &i, "--from", &missing))) {
			from = v;
		} else if (!rest && (v = opt_value(argc, argv, &i, "--to", &missing))) {
			to = v;
		} else if (!rest && (v = opt_value(argc, argv, &i, "--format", &missing))) {
			fmt = v;
		} else if (!rest && (v = opt_value(argc, argv, &i, "-w", &missing))) {
			file = v;
		} else if (missing) {
			fprintf(stderr, "capture-appliance: extract: %s needs a value\n", argv[i]);
			goto out;
		} else if (!rest && !name) {
			if (!name_arg_ok(argv[i])) {
				if (argv[i][0] == '-')
					fprintf(stderr, "capture-appliance: extract: unknown option "
						"'%s' (-r, --reindex, --no-index and --stats read "
						"files: they need -r)\n", argv[i]);
				goto out;
			}
			name = argv[i];
		} else if (!rest && argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "capture-appliance: extract: unknown option '%s' (-r, "
				"--reindex, --no-index and --stats read files: they need -r)\n",
				argv[i]);
			goto out;
		} else { /* the expression: the remaining words, as tcpdump joins them */
			char *e = realloc(expr, elen + strlen(argv[i]) + 1);

			if (!e) {
				ret = 1;
				goto out;
			}
			expr = e;
			if (elen > 1)
				strcat(expr, " ");
			strcat(expr, argv[i]);
			elen = strlen(expr) + 1;
		}
	}
	if (!name) {
		fprintf(stderr, "capture-appliance: extract: no capture NAME (or -r FILE to "
				"read files)\n");
		print_help(stderr, find_cmd(argv[0]));
		goto out;
	}
	if ((from && ex_parse_time(from, &from_ns)) || (to && ex_parse_time(to, &to_ns))) {
		fprintf(stderr, "capture-appliance: extract: bad time '%s' (RFC 3339 or Unix "
				"seconds)\n", from && ex_parse_time(from, &from_ns) ? from : to);
		goto out;
	}
	if (from && to && to_ns < from_ns) {
		fprintf(stderr, "capture-appliance: extract: --to is before --from\n");
		goto out;
	}
	if (fmt && strcmp(fmt, "pcap") && strcmp(fmt, "pcapng")) {
		fprintf(stderr, "capture-appliance: extract: --format is pcap or pcapng\n");
		goto out;
	}
	if (!file) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "capture-appliance: extract: not writing a capture to a "
					"terminal: -w OUT or -w -\n");
			goto out;
		}
		file = "-";
	}
	plen = 3 * strlen(expr) + 3 * (from ? strlen(from) : 0) + 3 * (to ? strlen(to) : 0) +
	       CAP_NAME_MAX + 128;
	path = malloc(plen);
	if (!path) {
		ret = 1;
		goto out;
	}
	snprintf(path, plen, "/api/v1/captures/%s/extract", name);
	if ((expr[0] && add_param(path, plen, "filter", expr)) ||
	    (from && add_param(path, plen, "from", from)) ||
	    (to && add_param(path, plen, "to", to)) ||
	    (fmt && add_param(path, plen, "format", fmt))) {
		ret = 1;
		goto out;
	}
	if (cli_out_open("capture-appliance", file, &ow)) {
		ret = 1;
		goto out;
	}
	out.fd = ow.fd;
	out.count_records = !fmt || !strcmp(fmt, "pcap");
	if (transfer(s, path, file, &out, &status)) {
		cli_out_close("capture-appliance", &ow, false);
		ret = status == 400 ? 2 : 1;
		goto out;
	}
	ret = cli_out_close("capture-appliance", &ow, true);
	if (!ret && strcmp(file, "-"))
	{
		if (out.count_records)
			fprintf(stderr, "capture-appliance: %llu packets (%llu bytes) written to %s\n",
				out.records, out.bytes, file);
		else
			fprintf(stderr, "capture-appliance: %llu bytes written to %s\n", out.bytes,
				file);
	}
out:
	free(path);
	free(expr);
	return ret;
}

static int cmd_pull(struct api_cli_server *s, int argc, char **argv)
{
	unsigned long long count = 0, seconds = 0;
	struct pull_out out = { .fd = -1, .count_records = true };
	char path[CAP_NAME_MAX + 96];
	const char *name = NULL, *file = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-w") && i + 1 < argc) {
			file = argv[++i];
		} else if (!strcmp(argv[i], "--count")) {
			if (parse_pos("--count", i + 1 < argc ? argv[++i] : NULL, &count))
				return 2;
		} else if (!strcmp(argv[i], "--seconds")) {
			if (parse_pos("--seconds", i + 1 < argc ? argv[++i] : NULL, &seconds))
				return 2;
		} else if (!name && name_arg_ok(argv[i])) {
			name = argv[i];
		} else {
			print_help(stderr, find_cmd(argv[0]));
			return 2;
		}
	}
	if (!name || !file) {
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	snprintf(path, sizeof(path), "/api/v1/captures/%s/packets", name);
	if (count)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "?count=%llu", count);
	if (seconds)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%cseconds=%llu",
			 count ? '&' : '?', seconds);
	out.want = count;
	if (download(s, path, file, &out))
		return 1;
	if (strcmp(file, "-"))
		fprintf(stderr, "capture-appliance: %llu packets (%llu bytes) written to %s\n",
			out.records, out.bytes, file);
	return 0;
}

/* get NAME FILE -w OUT (a sealed file) and dump NAME -w OUT (the file being
 * written, local mode). */
static int get_file(struct api_cli_server *s, int argc, char **argv, bool current)
{
	struct pull_out out = { .fd = -1 };
	const char *name = NULL, *fname = NULL, *file = NULL;
	char path[CAP_NAME_MAX + 320];
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-w") && i + 1 < argc) {
			file = argv[++i];
		} else if (!name && name_arg_ok(argv[i])) {
			name = argv[i];
		} else if (!current && !fname && argv[i][0] != '-' && !strchr(argv[i], '/') &&
			   strlen(argv[i]) < 256) {
			fname = argv[i];
		} else {
			print_help(stderr, find_cmd(argv[0]));
			return 2;
		}
	}
	if (!name || !file || (!current && !fname)) {
		print_help(stderr, find_cmd(argv[0]));
		return 2;
	}
	if (current)
		snprintf(path, sizeof(path), "/api/v1/captures/%s/dump", name);
	else
		snprintf(path, sizeof(path), "/api/v1/captures/%s/files/%s", name, fname);
	if (download(s, path, file, &out))
		return 1;
	if (strcmp(file, "-"))
		fprintf(stderr, "capture-appliance: %llu bytes written to %s\n", out.bytes, file);
	return 0;
}

static int cmd_get(struct api_cli_server *s, int argc, char **argv)
{
	return get_file(s, argc, argv, false);
}

static int cmd_dump(struct api_cli_server *s, int argc, char **argv)
{
	return get_file(s, argc, argv, true);
}

static const struct cmd cmds[] = {
	{ "add", cmd_add,
	  "add NAME iface=IFACE [capture=MODE] [filter=EXPR] [snaplen=N] [dump=PREFIX] "
	  "[networkmode=true|false] [transparent=true|false]\n"
	  "    [format=pcap|pcapng] [rotate_size=BYTES] [rotate_time=S] [retain_bytes=BYTES]\n"
	  "    [retain_files=N] [min_free=PCT]\n"
	  "  Adds a capture and attaches it. MODE: ingress, egress, bidirectional (default), off." },
	{ "del", cmd_del, "del NAME\n  Detaches the capture, writes out and closes its file." },
	{ "set", cmd_set,
	  "set NAME FIELD=VALUE...\n"
	  "  Changes capture, filter, snaplen, dump, networkmode or iface, all or nothing.\n"
	  "  Example: set web filter=\"tcp port 80\" snaplen=80" },
	{ "show", cmd_show,
	  "show [NAME [FIELD]] [--json]\n"
	  "  Without NAME: all captures, one line each. FIELD: capture, filter, snaplen, dump,\n"
	  "  networkmode, iface, stats (a bare value). --json: the server's JSON." },
	{ "stats", cmd_stats,
	  "stats NAME [--json] | stats NAME --watch [SECONDS] [--count N]\n"
	  "  The capture's counters. --watch: one line of rates (packets/s, bytes/s, drops/s)\n"
	  "  every SECONDS (default 1) until interrupted, or N lines." },
	{ "files", cmd_files,
	  "files NAME [--json]\n  The capture's files, oldest first: name, records, bytes,\n"
	  "  first and last record time (ns), sealed." },
	{ "get", cmd_get,
	  "get NAME FILE -w OUT\n"
	  "  Downloads a sealed file of the capture (see files) to OUT ('-': stdout)." },
	{ "dump", cmd_dump,
	  "dump NAME -w OUT\n"
	  "  Downloads the file being written (local mode) to OUT ('-': stdout)." },
	{ "extract", cmd_extract,
	  "extract NAME [--from T] [--to T] [-w OUT|-] [--format pcap|pcapng] [EXPRESSION]\n"
	  "  The time machine, run by the appliance on the capture's files: the records\n"
	  "  `tcpdump -r FILE EXPRESSION` returns with from <= time < to, merged in time\n"
	  "  order, as one pcap or pcapng, written to OUT ('-': stdout; default: stdout if it\n"
	  "  is not a terminal). T: RFC 3339 or Unix seconds. A failed query leaves no OUT.\n"
	  "  With -r PREFIX_OR_FILE instead of NAME it reads the files itself (see\n"
	  "  'capture-appliance extract --help')." },
	{ "pull", cmd_pull,
	  "pull NAME -w FILE [--count N] [--seconds S]\n"
	  "  Network mode: writes the pulled pcap stream to FILE ('-': stdout) until N packets,\n"
	  "  S seconds or the server ends the stream." },
};

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int cli_client(int argc, char **argv)
{
	const char *server = getenv("CAPTURE_APPLIANCE_SERVER");
	const char *token_file = NULL, *cacert = NULL;
	bool insecure = false;
	char **args, err[ERRLEN], *token = NULL;
	size_t toklen;
	struct api_cli_server s;
	const struct cmd *c;
	int i, n = 0, ret = 2;
	bool help = false;

	/* global options may come before or after the command */
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return 1;
	for (i = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "--server") || !strcmp(argv[i], "--token-file") ||
		     !strcmp(argv[i], "--cacert")) && i + 1 < argc) {
			if (argv[i][2] == 's')
				server = argv[++i];
			else if (argv[i][2] == 't')
				token_file = argv[++i];
			else
				cacert = argv[++i];
		} else if (!strcmp(argv[i], "--insecure")) {
			insecure = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help = true;
		} else {
			args[n++] = argv[i];
		}
	}
	c = n ? find_cmd(args[0]) : NULL;
	if (!c && help) {
		for (i = 0; i < (int)(sizeof(cmds) / sizeof(cmds[0])); i++)
			print_help(stdout, &cmds[i]);
		ret = 0;
		goto out;
	}
	if (!c) {
		fprintf(stderr, "capture-appliance: unknown command '%s' (try --help)\n",
			n ? args[0] : "");
		goto out;
	}
	if (help) {
		print_help(stdout, c);
		ret = 0;
		goto out;
	}
	if (api_cli_parse_url(server ? server : DEFAULT_SERVER, &s, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		goto out;
	}
	if (cacert && access(cacert, R_OK)) {
		fprintf(stderr, "capture-appliance: --cacert %s: %s\n", cacert, strerror(errno));
		ret = 1;
		goto out;
	}
	s.cacert = cacert;
	s.insecure = insecure;
	/* root reads the server's own token; anyone else must be given one */
	if (!token_file && !access(API_TOKEN_DEFAULT, R_OK))
		token_file = API_TOKEN_DEFAULT;
	if (token_file && api_token_read(token_file, &token, &toklen, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		ret = 1;
		goto out;
	}
	s.token = token;
	s.timeout_ms = 120000; /* adding a capture compiles a filter: be patient */
	ret = c->run(&s, n, args);
out:
	free(token);
	free(args);
	return ret;
}
