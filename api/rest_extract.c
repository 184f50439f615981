/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_extract: GET /api/v1/captures/NAME/extract?from=T&to=T&filter=EXPR
 * [&format=pcapng]: the records of the capture's files that the filter
 * takes inside [from, to), merged in time order, as one chunked pcap (or
 * pcapng) stream: the same answer as `capture-appliance extract -r PREFIX`.
 *
 * A query never starves the capture: it runs in a thread of its own at
 * nice 19 (SCHED_OTHER even when the appliance runs under a real-time
 * policy) in the idle I/O class (I/O schedulers that honour priorities
 * serve its reads after everyone else's); the answer leaves through one 256 KiB
 * buffer that is sent before it is refilled, so a slow client slows the
 * query instead of filling memory; and at most API_EXTRACT_MAX run at once
 * (503 beyond).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "api/rest_int.h"
#include "extract/extract.h"

#define API_EXTRACT_MAX 2

static atomic_int running;

struct query {
	struct api_req *q;
	struct ex_opts o;
	struct ex_stats st;
	char err[1024];
	int ret;
	bool sent; /* the response has begun */
};

static void begin(struct query *x)
{
	if (x->sent)
		return;
	x->sent = true;
	mg_response_header_start(x->q->conn, 200);
	mg_response_header_add(x->q->conn, "Content-Type",
			       x->o.format == EX_FMT_PCAPNG ? "application/x-pcapng"
							    : "application/vnd.tcpdump.pcap",
			       -1);
	mg_response_header_add(x->q->conn, "Transfer-Encoding", "chunked", -1);
	mg_response_header_add(x->q->conn, "Cache-Control", "no-store", -1);
	mg_response_header_add(x->q->conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_send(x->q->conn);
}

static ssize_t send_piece(void *arg, const char *buf, size_t len)
{
	struct query *x = arg;

	begin(x);
	return mg_send_chunk(x->q->conn, buf, (unsigned int)len) > 0 ? (ssize_t)len : -1;
}

static void *run(void *arg)
{
	struct query *x = arg;
	struct sched_param sp = { 0 };

	/* a real-time policy inherited from the appliance (chrt) would make
	 * nice 19 meaningless: back to the normal policy first */
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	cap_background_thread();
	x->ret = ex_extract(&x->o, &x->st, x->err, sizeof(x->err));
	return NULL;
}

/* A query parameter (decoded) into buf; 0 absent, 1 present, -1 too long. */
static int param(const char *query, const char *key, char *buf, size_t len)
{
	int n;

	if (!query)
		return 0;
	n = mg_get_var(query, strlen(query), key, buf, len);
	return n == -1 ? 0 : n < 0 ? -1 : 1;
}

int api_h_extract(struct api_req *q)
{
	char from[64], to[64], fmt[16], *filter = NULL, path[PATH_MAX], err[1024] = "";
	struct cap_cfg *cfg = NULL;
	struct query *x = NULL;
	char **files = NULL;
	size_t nfiles = 0;
	pthread_t thr;
	int st, ret;

	if (atomic_fetch_add(&running, 1) >= API_EXTRACT_MAX) {
		atomic_fetch_sub(&running, 1);
		return api_http_error(q->conn, 503, "%d extractions are running; try later",
				      API_EXTRACT_MAX);
	}
	cfg = malloc(sizeof(*cfg));
	x = calloc(1, sizeof(*x));
	filter = malloc(CAP_FILTER_MAX);
	if (!cfg || !x || !filter) {
		st = api_http_error(q->conn, 500, "out of memory");
		goto out;
	}
	x->q = q;
	filter[0] = '\0';
	if (param(q->query, "filter", filter, CAP_FILTER_MAX) < 0 ||
	    param(q->query, "from", from, sizeof(from)) < 0 ||
	    param(q->query, "to", to, sizeof(to)) < 0 ||
	    param(q->query, "format", fmt, sizeof(fmt)) < 0) {
		st = api_http_error(q->conn, 400, "a query parameter is too long");
		goto out;
	}
	if (param(q->query, "from", from, sizeof(from)) == 1) {
		x->o.has_from = true;
		if (ex_parse_time(from, &x->o.from_ns)) {
			st = api_http_error(q->conn, 400, "from: '%s' is neither RFC 3339 nor "
					    "Unix seconds", from);
			goto out;
		}
	}
	if (param(q->query, "to", to, sizeof(to)) == 1) {
		x->o.has_to = true;
		if (ex_parse_time(to, &x->o.to_ns)) {
			st = api_http_error(q->conn, 400, "to: '%s' is neither RFC 3339 nor "
					    "Unix seconds", to);
			goto out;
		}
	}
	if (x->o.has_from && x->o.has_to && x->o.to_ns < x->o.from_ns) {
		st = api_http_error(q->conn, 400, "to is before from");
		goto out;
	}
	if (param(q->query, "format", fmt, sizeof(fmt)) == 1) {
		if (!strcmp(fmt, "pcapng"))
			x->o.format = EX_FMT_PCAPNG;
		else if (strcmp(fmt, "pcap")) {
			st = api_http_error(q->conn, 400, "format must be pcap or pcapng");
			goto out;
		}
	}
	ret = cap_get(q->r->core, q->name, cfg, NULL);
	if (ret) {
		st = api_http_error(q->conn, 404, "no capture named '%s'", q->name);
		goto out;
	}
	/* the expression with libpcap first: a refusal is a 400, not a cut stream */
	ret = cap_check_expr(q->r->core, q->name, filter, err, sizeof(err));
	if (ret) {
		st = api_http_error(q->conn, 400, "%s", err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s", cfg->dump);
	if (cfg->rotate_bytes || cfg->rotate_seconds)
		ret = ex_expand_input(path, &files, &nfiles);
	else {
		cap_dump_file(cfg->dump, cfg->format, path, sizeof(path));
		ret = ex_expand_input(path, &files, &nfiles);
	}
	if (ret) {
		st = api_http_error(q->conn, 404, "no files of capture '%s' yet", q->name);
		goto out;
	}
	x->o.files = (const char *const *)files;
	x->o.nfiles = nfiles;
	x->o.expr = filter;
	x->o.write = send_piece;
	x->o.write_arg = x;
	ret = -pthread_create(&thr, NULL, run, x);
	if (ret) {
		st = api_http_error(q->conn, 500, "can't start the query: %s", strerror(-ret));
		goto out;
	}
	pthread_join(thr, NULL);
	if (x->ret && !x->sent) {
		st = api_http_error(q->conn, x->ret == -EINVAL ? 400 : 500, "%s",
				    x->err[0] ? x->err : strerror(-x->ret));
		goto out;
	}
	begin(x); /* an empty answer is still a pcap: its header */
	if (!x->ret) {
		mg_send_chunk(q->conn, "", 0);
	} else {
		/* failed after the answer began: no last chunk but a line that
		 * is no chunk size, so the client sees a broken stream, not a
		 * short answer that looks complete */
		mg_printf(q->conn, "\r\nquery failed: %s\r\n",
			  x->err[0] ? x->err : strerror(-x->ret));
	}
	st = 200;
out:
	ex_paths_free(files);
	free(filter);
	free(x);
	free(cfg);
	atomic_fetch_sub(&running, 1);
	return st;
}
