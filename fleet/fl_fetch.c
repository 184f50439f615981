/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `fleet extract`: the catalog picks the sensor captures whose files meet
 * the window; each is asked over NATS (request/reply, a timeout) where its
 * answer is, and its answer streams over HTTP from the sensor's own REST
 * extraction into a private temporary file (unlinked at once: only this
 * process can read it); then ex_extract merges them in time order with
 * the same window. All sensors are asked and read at once, one thread
 * each, so the query takes about as long as the slowest sensor.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api/client.h"
#include "extract/extract.h"
#include "fleet/fl_internal.h"

#define TARGETS_MAX 256

struct target {
	const struct fl_extract_opts *o;
	natsConnection *nc;
	const struct fl_cat_cap *cap;
	size_t nfiles;	      /* of its files that meet the window */
	int fd;		      /* the answer, unlinked; -1: none */
	uint64_t bytes;
	double seconds;
	int ret;
	char err[1024];
	pthread_t thr;
};

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool meets(const struct fl_extract_opts *o, const struct fl_cat_file *f)
{
	if (!f->records)
		return false;
	if (o->has_to && (int64_t)f->first_ns >= o->to_ns)
		return false;
	if (o->has_from && (int64_t)f->last_ns < o->from_ns)
		return false;
	return true;
}

/*
 * ARCHIVE HOOK: files the catalog records as archived whose sensor no
 * longer holds them (or that do not answer) would be read here from the
 * object store (archive/: ar_get) into a temporary file and merged like a
 * sensor's answer. Not built yet: archived-only files are reported and
 * left out (the answer is then partial).
 */
static int fl_fetch_archived(const struct fl_cat_cap *cap, const struct fl_cat_file *f,
			     int *fd, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s/%s %s: reading archived files is not built yet", cap->sensor,
		 cap->capture, f->file);
	return -ENOTSUP;
}

static int sink(const void *buf, size_t len, void *arg)
{
	struct target *t = arg;
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(t->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		t->bytes += (uint64_t)n;
	}
	return 0;
}

static int temp_fd(char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/ca-fleet.XXXXXX", dir && dir[0] ? dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "temporary file in %s: %s", dir && dir[0] ? dir : "/tmp",
			 strerror(errno));
		return -errno;
	}
	unlink(path);
	return fd;
}

/* One stream of the answer: {capture, url, token}. */
static int download(struct target *t, const cJSON *stream)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(stream, "url");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(stream, "token");
	struct api_cli_server srv;
	struct api_cli_resp resp;
	char base[512];
	const char *path;
	int ret;

	if (!cJSON_IsString(u) || !cJSON_IsString(k) ||
	    !(path = strstr(u->valuestring, "/api/v1/captures/")) ||
	    (size_t)(path - u->valuestring) >= sizeof(base)) {
		snprintf(t->err, sizeof(t->err), "a malformed answer");
		return -EPROTO;
	}
	snprintf(base, sizeof(base), "%.*s", (int)(path - u->valuestring), u->valuestring);
	ret = api_cli_parse_url(base, &srv, t->err, sizeof(t->err));
	if (ret)
		return ret;
	srv.token = k->valuestring;
	srv.cacert = t->o->rest_cacert;
	srv.stall_timeout_s = (int)(t->o->timeout_s ? t->o->timeout_s : 10);
	ret = api_cli_request(&srv, "GET", path, NULL, sink, t, &resp, t->err, sizeof(t->err));
	if (!ret && (resp.status < 200 || resp.status > 299)) {
		snprintf(t->err, sizeof(t->err), "HTTP %d from %s: %.200s", resp.status, base,
			 resp.body ? resp.body : "");
		ret = -EPROTO;
	}
	free(resp.body);
	return ret;
}

static void *ask(void *arg)
{
	struct target *t = arg;
	const struct fl_extract_opts *o = t->o;
	unsigned int tmo = o->timeout_s ? o->timeout_s : 10;
	char subj[128], ns[24], *req = NULL;
	cJSON *q = NULL, *a = NULL, *streams, *s;
	natsMsg *m = NULL;
	const cJSON *e;
	natsStatus st;
	double t0 = mono_s();

	q = cJSON_CreateObject();
	if (!q) {
		t->ret = -ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(q, "capture", t->cap->capture);
	if (o->has_from) {
		snprintf(ns, sizeof(ns), "%" PRId64, o->from_ns);
		cJSON_AddStringToObject(q, "from_ns", ns);
	}
	if (o->has_to) {
		snprintf(ns, sizeof(ns), "%" PRId64, o->to_ns);
		cJSON_AddStringToObject(q, "to_ns", ns);
	}
	cJSON_AddStringToObject(q, "filter", o->expr ? o->expr : "");
	cJSON_AddStringToObject(q, "format", o->pcapng ? "pcapng" : "pcap");
	req = cJSON_PrintUnformatted(q);
	snprintf(subj, sizeof(subj), FL_QUERY_PREFIX ".%s", t->cap->sensor);
	st = req ? natsConnection_RequestString(&m, t->nc, subj, req, (int64_t)tmo * 1000)
		 : NATS_NO_MEMORY;
	if (st == NATS_TIMEOUT || st == NATS_NO_RESPONDERS) {
		if (st == NATS_TIMEOUT)
			snprintf(t->err, sizeof(t->err), "no answer within %u s", tmo);
		else
			snprintf(t->err, sizeof(t->err), "no answer: nobody listens on %s "
				 "(stopped?)", subj);
		t->ret = -ETIMEDOUT;
		goto out;
	}
	if (st != NATS_OK) {
		fl_nats_err(st, 0, subj, t->err, sizeof(t->err));
		t->ret = -EIO;
		goto out;
	}
	a = cJSON_ParseWithLength(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
	e = cJSON_GetObjectItemCaseSensitive(a, "error");
	streams = cJSON_GetObjectItemCaseSensitive(a, "streams");
	if (cJSON_IsString(e) || !cJSON_IsArray(streams)) {
		snprintf(t->err, sizeof(t->err), "%s",
			 cJSON_IsString(e) ? e->valuestring : "a malformed answer");
		t->ret = cJSON_IsString(e) ? -EINVAL : -EPROTO;
		goto out;
	}
	t->fd = temp_fd(t->err, sizeof(t->err));
	if (t->fd < 0) {
		t->ret = t->fd;
		t->fd = -1;
		goto out;
	}
	/* the capture asked is one name: one stream (or none: gone since) */
	cJSON_ArrayForEach(s, streams) {
		t->ret = download(t, s);
		if (t->ret)
			break;
	}
out:
	t->seconds = mono_s() - t0;
	natsMsg_Destroy(m);
	cJSON_free(req);
	cJSON_Delete(q);
	cJSON_Delete(a);
	return NULL;
}

static void say(const struct fl_extract_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static double t_start;

static void say(const struct fl_extract_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->progress)
		return;
	va_start(ap, fmt);
	fprintf(o->progress, "capture-appliance fleet: [%.3f s] ", mono_s() - t_start);
	vfprintf(o->progress, fmt, ap);
	fputc('\n', o->progress);
	va_end(ap);
}

/* Names each sensor capture that failed, always (not only with progress). */
static void report_failed(struct target *t, size_t n, FILE *where)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].ret)
			fprintf(where, "capture-appliance fleet: sensor %s (capture %s): %s\n",
				t[i].cap->sensor, t[i].cap->capture, t[i].err);
}

int fl_extract(const struct fl_extract_opts *o, struct fl_extract_result *res, char *err,
	       size_t errlen)
{
	struct target *t = NULL;
	struct fl_catalog c = { 0 };
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	char (*paths)[32] = NULL;
	const char **files = NULL;
	struct ex_opts xo = { 0 };
	struct ex_stats xs;
	cJSON *status = NULL;
	bool open_meets;
	size_t n = 0, i, j, nf = 0;
	bool curl = false;
	int ret;

	memset(res, 0, sizeof(*res));
	t_start = mono_s();
	ret = fl_connect(&o->conn, "capture-appliance fleet", NULL, NULL, &nc, &js, err, errlen);
	if (ret)
		return ret;
	say(o, "connected to NATS");
	ret = fl_catalog_read(nc, js, &c, err, errlen);
	say(o, "catalog read");
	if (!ret)
		ret = fl_status_read(js, &status, err, errlen);
	say(o, "status read");
	if (!ret)
		ret = fl_catalog_add_running(&c, status);
	if (ret)
		goto out;
	t = calloc(c.ncaps ? c.ncaps : 1, sizeof(*t));
	if (!t) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c.ncaps; i++) {
		const struct fl_cat_cap *k = &c.caps[i];
		size_t m = 0;

		if ((o->sensor_glob && fnmatch(o->sensor_glob, k->sensor, 0)) ||
		    (o->capture_glob && fnmatch(o->capture_glob, k->capture, 0)))
			continue;
		for (j = 0; j < k->nfiles; j++)
			m += meets(o, &k->files[j]);
		/* a running capture's open file is in no catalog record: it
		 * holds what came after the last sealed file, until now */
		open_meets = k->running && (!o->has_to || o->to_ns > (int64_t)k->last_ns) &&
			     (!o->has_from || o->from_ns <= (int64_t)k->seen_ns);
		if (!m && !open_meets)
			continue;
		if (n == TARGETS_MAX) {
			snprintf(err, errlen, "more than %d sensor captures: narrow --sensor or "
				 "--capture", TARGETS_MAX);
			ret = -E2BIG;
			goto out;
		}
		t[n] = (struct target){ .o = o, .nc = nc, .cap = k, .nfiles = m, .fd = -1 };
		say(o, "asking %s for capture %s (%zu of its %zu sealed files meet the window%s)",
		    k->sensor, k->capture, m, k->nfiles, open_meets ? ", and its open file may" : "");
		n++;
	}
	(void)fl_fetch_archived;
	if (!n)
		say(o, "no file in the catalog meets the window");
	curl = curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
	for (i = 0; i < n; i++) {
		ret = -pthread_create(&t[i].thr, NULL, ask, &t[i]);
		if (ret) {
			t[i].ret = ret;
			snprintf(t[i].err, sizeof(t[i].err), "thread: %s", strerror(-ret));
			t[i].thr = 0;
		}
	}
	for (i = 0; i < n; i++)
		if (t[i].thr)
			pthread_join(t[i].thr, NULL);
	res->asked = (unsigned int)n;
	paths = calloc(n ? n : 1, sizeof(*paths));
	files = calloc(n ? n : 1, sizeof(*files));
	if (!paths || !files) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (t[i].ret) {
			res->failed++;
			continue;
		}
		say(o, "%s/%s: %" PRIu64 " bytes in %.2f s", t[i].cap->sensor, t[i].cap->capture,
		    t[i].bytes, t[i].seconds);
		if (t[i].bytes == 0)
			continue;
		/* ex_extract opens by name: the unlinked file's /proc name */
		snprintf(paths[nf], sizeof(paths[nf]), "/proc/self/fd/%d", t[i].fd);
		files[nf] = paths[nf];
		nf++;
		res->answered++;
	}
	report_failed(t, n, o->progress ? o->progress : stderr);
	xo.files = files;
	xo.nfiles = nf;
	xo.expr = NULL; /* each answer is filtered already */
	xo.has_from = o->has_from;
	xo.from_ns = o->from_ns;
	xo.has_to = o->has_to;
	xo.to_ns = o->to_ns;
	xo.format = o->pcapng ? EX_FMT_PCAPNG : EX_FMT_PCAP;
	xo.out = o->out;
	ret = ex_extract(&xo, &xs, err, errlen);
	if (!ret) {
		res->records = xs.records_out;
		say(o, "%" PRIu64 " records from %u of %u sensor captures%s", xs.records_out,
		    res->answered, res->asked, res->failed ? ": PARTIAL answer" : "");
		if (res->failed)
			ret = -EAGAIN;
	}
out:
	for (i = 0; t && i < n; i++)
		if (t[i].fd >= 0)
			close(t[i].fd);
	if (curl)
		curl_global_cleanup();
	free(files);
	free(paths);
	free(t);
	fl_catalog_free(&c);
	cJSON_Delete(status);
	fl_disconnect(nc, js);
	return ret;
}
