/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `fleet extract`: the catalog picks the sensor captures whose files meet
 * the window (or whose running capture's open file may); each is asked
 * over NATS (request/reply, a timeout) where its answer is, and the answer
 * streams over HTTP from the sensor's own REST extraction straight into
 * the merge (ex_extract, the same window), which reads every stream at
 * once: the query takes about as long as the slowest sensor's extraction.
 *
 * One worker thread per sensor, its captures one after the other (a
 * sensor serves two extractions at once, no more): all but the last go to
 * private temporary files (unlinked at once), the last one streams through
 * a pipe. The merge starts once every stream has begun (or failed). A
 * stream that stalls for the timeout (counted only while waiting for the
 * network, not while the merge is busy elsewhere) is cut; the merge then
 * ends that stream early and the answer is partial.
 *
 * Files the sensors no longer hold (retention deleted them: they end
 * before a sensor's oldest local record) or whose sensor gives no answer
 * come from the archive (S3, archive/: ar_get) when the catalog records
 * them archived and an archive is given.
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
#include "archive/archive.h"
#include "extract/extract.h"
#include "fleet/fl_internal.h"

#define TARGETS_MAX 256
#define PIPE_BYTES (1 << 20)
#define HEAD_BYTES 24 /* a pcap file header; a pcapng SHB is longer */

enum { T_PENDING = 0, T_READY, T_FAILED, T_EMPTY /* answered: nothing */ };

struct fetch;

struct target {
	struct fetch *x;
	const struct fl_cat_cap *cap;
	size_t nfiles;	      /* of its sealed files that meet the window */
	bool piped;	      /* streamed through a pipe (else a temporary file) */
	int fd;		      /* what the merge reads; -1: none */
	int wfd;	      /* the pipe's write end; -1: none */
	char head[HEAD_BYTES];
	size_t nhead;
	uint64_t bytes;
	double t0, seconds;
	int state;	      /* T_*, under x->lock */
	int ret;
	char err[1024];
	/* stall watch: the time of the last byte, and whether the sink is
	 * blocked writing (the merge reads another stream meanwhile) */
	_Atomic double last_rx;
	atomic_bool in_write, active, stalled;
	volatile int cancel;
	int *afd;	      /* files read from the archive (temporary files) */
	size_t nafd;
	unsigned int afailed; /* archived files that could not be read */
};

struct fetch {
	const struct fl_extract_opts *o;
	natsConnection *nc;
	unsigned int timeout_s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool done;
	struct target *t;
	size_t n;
	struct ar_client *ar; /* NULL: no archive */
	pthread_mutex_t ar_lock;
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

static void set_state(struct target *t, int state)
{
	pthread_mutex_lock(&t->x->lock);
	t->state = state;
	pthread_cond_broadcast(&t->x->cond);
	pthread_mutex_unlock(&t->x->lock);
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sink(const void *buf, size_t len, void *arg)
{
	struct target *t = arg;
	const char *p = buf;
	size_t k;
	int ret = 0;

	atomic_store(&t->last_rx, mono_s());
	t->bytes += len;
	if (t->piped && t->state == T_PENDING) {
		/* the merge opens the stream at its header: hand it over once
		 * the header is there, so a stream that fails before it is
		 * left out instead of failing the merge */
		k = len < HEAD_BYTES - t->nhead ? len : HEAD_BYTES - t->nhead;
		memcpy(t->head + t->nhead, p, k);
		t->nhead += k;
		p += k;
		len -= k;
		if (t->nhead < HEAD_BYTES)
			return 0;
		atomic_store(&t->in_write, true);
		ret = write_all(t->wfd, t->head, t->nhead);
		atomic_store(&t->in_write, false);
		if (ret)
			return -1;
		set_state(t, T_READY);
	}
	atomic_store(&t->in_write, true);
	ret = write_all(t->piped ? t->wfd : t->fd, p, len);
	atomic_store(&t->in_write, false);
	atomic_store(&t->last_rx, mono_s());
	return ret ? -1 : 0;
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

/*
 * The archive: files of t's capture that only the archive can give, into
 * temporary files merged like the sensors' answers: archived files that
 * meet the window and start before the sensor's oldest local record
 * (local_from: retention deleted them there; 0: it holds none), or every
 * archived one when the sensor gave no answer (UINT64_MAX).
 */
static void fetch_archived(struct target *t, uint64_t local_from)
{
	struct fetch *x = t->x;
	bool have_local = local_from && local_from != UINT64_MAX;
	const struct fl_cat_file *f;
	char err[512];
	uint64_t bytes;
	size_t i;
	int *v, fd, ret;

	if (!x->ar)
		return;
	for (i = 0; i < t->cap->nfiles; i++) {
		f = &t->cap->files[i];
		/* the sensor's oldest local file starts at local_from; those
		 * that start before are gone there */
		if (!f->archived || !meets(x->o, f) || (have_local && f->first_ns >= local_from))
			continue;
		fd = temp_fd(err, sizeof(err));
		v = fd >= 0 ? realloc(t->afd, (t->nafd + 1) * sizeof(*v)) : NULL;
		if (!v) {
			if (fd >= 0)
				close(fd);
			t->afailed++;
			continue;
		}
		t->afd = v;
		pthread_mutex_lock(&x->ar_lock);
		ret = ar_get(x->ar, f->key, fd, &bytes, err, sizeof(err));
		pthread_mutex_unlock(&x->ar_lock);
		if (ret) {
			fprintf(x->o->progress ? x->o->progress : stderr,
				"capture-appliance fleet: archive %s: %s\n", f->key, err);
			close(fd);
			t->afailed++;
			continue;
		}
		t->afd[t->nafd++] = fd;
	}
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

	if (!u && !k)
		return 0; /* the capture holds no file: nothing to fetch */
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
	srv.cacert = t->x->o->rest_cacert;
	srv.cancel = &t->cancel; /* the stall watch */
	atomic_store(&t->last_rx, mono_s());
	atomic_store(&t->active, true);
	ret = api_cli_request(&srv, "GET", path, NULL, sink, t, &resp, t->err, sizeof(t->err));
	atomic_store(&t->active, false);
	if (!ret && atomic_load(&t->stalled)) {
		snprintf(t->err, sizeof(t->err), "the stream stalled: nothing for %u s",
			 t->x->timeout_s);
		ret = -ETIMEDOUT;
	} else if (!ret && (resp.status < 200 || resp.status > 299)) {
		snprintf(t->err, sizeof(t->err), "HTTP %d from %s: %.200s", resp.status, base,
			 resp.body ? resp.body : "");
		ret = -EPROTO;
	}
	free(resp.body);
	return ret;
}

/* Asks the sensor, then fetches the answer into t->fd (file or pipe). */
static void ask(struct target *t)
{
	const struct fl_extract_opts *o = t->x->o;
	char subj[128], ns[24], *req = NULL;
	cJSON *q = NULL, *a = NULL, *streams, *s;
	natsMsg *m = NULL;
	const cJSON *e;
	natsStatus st;
	int p[2];

	t->t0 = mono_s();
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
	st = req ? natsConnection_RequestString(&m, t->x->nc, subj, req,
						(int64_t)t->x->timeout_s * 1000)
		 : NATS_NO_MEMORY;
	if (st == NATS_TIMEOUT) {
		snprintf(t->err, sizeof(t->err), "no answer within %u s", t->x->timeout_s);
		t->ret = -ETIMEDOUT;
		fetch_archived(t, UINT64_MAX);
		goto out;
	}
	if (st == NATS_NO_RESPONDERS) {
		snprintf(t->err, sizeof(t->err), "no answer: nobody listens on %s (stopped?)", subj);
		t->ret = -ETIMEDOUT;
		fetch_archived(t, UINT64_MAX);
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
	s = cJSON_GetArrayItem(streams, 0);
	e = cJSON_GetObjectItemCaseSensitive(s, "local_from_ns");
	fetch_archived(t, cJSON_IsString(e) ? strtoull(e->valuestring, NULL, 10) : 0);
	if (t->piped) {
		if (pipe2(p, O_CLOEXEC)) {
			t->ret = -errno;
			snprintf(t->err, sizeof(t->err), "pipe: %s", strerror(errno));
			goto out;
		}
		fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES); /* fewer wake-ups; a hint */
		t->fd = p[0];
		t->wfd = p[1];
	} else {
		t->fd = temp_fd(t->err, sizeof(t->err));
		if (t->fd < 0) {
			t->ret = t->fd;
			t->fd = -1;
			goto out;
		}
	}
	/* the capture asked is one name: one stream (or none: gone since) */
	cJSON_ArrayForEach(s, streams) {
		t->ret = download(t, s);
		if (t->ret)
			break;
	}
out:
	t->seconds = mono_s() - t->t0;
	if (t->piped && t->state == T_PENDING && !t->ret && t->nhead > 0 &&
	    !write_all(t->wfd, t->head, t->nhead))
		set_state(t, T_READY); /* shorter than a header: the merge says so */
	if (t->wfd >= 0) {
		close(t->wfd); /* the end of the stream, for the merge */
		t->wfd = -1;
	}
	if (t->state == T_PENDING)
		set_state(t, t->ret ? T_FAILED : t->bytes ? T_READY : T_EMPTY);
	natsMsg_Destroy(m);
	cJSON_free(req);
	cJSON_Delete(q);
	cJSON_Delete(a);
}

struct worker {
	struct fetch *x;
	const char *sensor;
	pthread_t thr;
};

/* A sensor's captures, one after the other; the last one is streamed. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct fetch *x = w->x;
	size_t i, last = x->n;

	for (i = 0; i < x->n; i++)
		if (!strcmp(x->t[i].cap->sensor, w->sensor))
			last = i;
	for (i = 0; i < x->n; i++)
		if (i != last && !strcmp(x->t[i].cap->sensor, w->sensor))
			ask(&x->t[i]);
	if (last < x->n) {
		x->t[last].piped = true;
		ask(&x->t[last]);
	}
	return NULL;
}

/* Cuts a stream that received nothing for the timeout while it waited for
 * the network. */
static void *watch(void *arg)
{
	struct fetch *x = arg;
	struct timespec until;
	double now;
	size_t i;

	for (;;) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&x->lock);
		if (!atomic_load(&x->done))
			pthread_cond_timedwait(&x->cond, &x->lock, &until);
		pthread_mutex_unlock(&x->lock);
		if (atomic_load(&x->done))
			break;
		now = mono_s();
		for (i = 0; i < x->n; i++) {
			struct target *t = &x->t[i];

			if (atomic_load(&t->active) && !atomic_load(&t->in_write) &&
			    now - atomic_load(&t->last_rx) > x->timeout_s) {
				atomic_store(&t->stalled, true);
				t->cancel = 1;
			}
		}
	}
	return NULL;
}

static double t_start;

static void say(const struct fl_extract_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
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

/* Picks the targets: the sensor captures of the catalog (and status) that
 * the globs and the window select. */
static int pick(struct fetch *x, const struct fl_catalog *c, char *err, size_t errlen)
{
	const struct fl_extract_opts *o = x->o;
	bool open_meets;
	size_t i, j, m;

	for (i = 0; i < c->ncaps; i++) {
		const struct fl_cat_cap *k = &c->caps[i];

		if ((o->sensor_glob && fnmatch(o->sensor_glob, k->sensor, 0)) ||
		    (o->capture_glob && fnmatch(o->capture_glob, k->capture, 0)))
			continue;
		for (j = 0, m = 0; j < k->nfiles; j++)
			m += meets(o, &k->files[j]);
		/* a running capture's open file is in no catalog record: it
		 * holds what came after the last sealed file, until now */
		open_meets = k->running && (!o->has_to || o->to_ns > (int64_t)k->last_ns) &&
			     (!o->has_from || o->from_ns <= (int64_t)k->seen_ns);
		if (!m && !open_meets)
			continue;
		if (x->n == TARGETS_MAX) {
			snprintf(err, errlen, "more than %d sensor captures: narrow --sensor or "
				 "--capture", TARGETS_MAX);
			return -E2BIG;
		}
		x->t[x->n] = (struct target){ .x = x, .cap = k, .nfiles = m, .fd = -1, .wfd = -1 };
		say(o, "asking %s for capture %s (%zu of its %zu sealed files meet the window%s)",
		    k->sensor, k->capture, m, k->nfiles, open_meets ? ", and its open file may" : "");
		x->n++;
	}
	return 0;
}

int fl_extract(const struct fl_extract_opts *o, struct fl_extract_result *res, char *err,
	       size_t errlen)
{
	struct fetch x = { .o = o, .timeout_s = o->timeout_s ? o->timeout_s : 10 };
	struct fl_catalog c = { 0 };
	struct worker *w = NULL;
	jsCtx *js = NULL;
	cJSON *status = NULL;
	char (*paths)[32] = NULL;
	const char **files = NULL;
	struct ex_opts xo = { 0 };
	struct ex_stats xs;
	size_t i, j, nw = 0, nf = 0;
	pthread_t watcher;
	bool curl = false, watching = false;
	int ret;

	memset(res, 0, sizeof(*res));
	t_start = mono_s();
	pthread_mutex_init(&x.lock, NULL);
	pthread_cond_init(&x.cond, NULL);
	pthread_mutex_init(&x.ar_lock, NULL);
	if (o->archive && (ret = ar_client_open(o->archive, &x.ar, err, errlen)))
		goto out;
	ret = fl_connect(&o->conn, "capture-appliance fleet", NULL, NULL, &x.nc, &js, err, errlen);
	if (ret)
		goto out;
	ret = fl_catalog_read(x.nc, js, &c, err, errlen);
	if (!ret)
		ret = fl_status_read(js, &status, err, errlen);
	if (!ret)
		ret = fl_catalog_add_running(&c, status);
	say(o, "catalog and status read");
	x.t = calloc(c.ncaps ? c.ncaps : 1, sizeof(*x.t));
	w = calloc(c.ncaps ? c.ncaps : 1, sizeof(*w));
	for (i = 0, j = 1; i < c.ncaps; i++)
		j += 1 + c.caps[i].nfiles; /* a stream and its archived files */
	paths = calloc(j, sizeof(*paths));
	files = calloc(j, sizeof(*files));
	if (!ret && (!x.t || !w || !paths || !files))
		ret = -ENOMEM;
	if (!ret)
		ret = pick(&x, &c, err, errlen);
	if (ret)
		goto out;
	if (!x.n)
		say(o, "no file in the catalog meets the window");
	curl = curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
	watching = !pthread_create(&watcher, NULL, watch, &x);
	/* one worker per sensor */
	for (i = 0; i < x.n; i++) {
		for (j = 0; j < nw && strcmp(w[j].sensor, x.t[i].cap->sensor); j++)
			;
		if (j < nw)
			continue;
		w[nw] = (struct worker){ .x = &x, .sensor = x.t[i].cap->sensor };
		if (pthread_create(&w[nw].thr, NULL, work, &w[nw])) {
			ret = -EAGAIN;
			snprintf(err, errlen, "no thread for sensor %s", w[nw].sensor);
			break;
		}
		nw++;
	}
	/* every stream begun (or failed): the merge reads them all at once */
	pthread_mutex_lock(&x.lock);
	for (i = 0; !ret && i < x.n;) {
		if (x.t[i].state == T_PENDING)
			pthread_cond_wait(&x.cond, &x.lock);
		else
			i++;
	}
	pthread_mutex_unlock(&x.lock);
	if (ret)
		goto join;
	res->asked = (unsigned int)x.n;
	for (i = 0; i < x.n; i++) {
		for (j = 0; j < x.t[i].nafd; j++) {
			lseek(x.t[i].afd[j], 0, SEEK_SET);
			snprintf(paths[nf], sizeof(paths[nf]), "/proc/self/fd/%d", x.t[i].afd[j]);
			files[nf] = paths[nf];
			nf++;
			res->archived++;
		}
		if (x.t[i].state != T_READY)
			continue;
		/* ex_extract opens by name: the unlinked file's, the pipe's */
		if (!x.t[i].piped)
			lseek(x.t[i].fd, 0, SEEK_SET);
		snprintf(paths[nf], sizeof(paths[nf]), "/proc/self/fd/%d", x.t[i].fd);
		files[nf] = paths[nf];
		nf++;
	}
	say(o, "%zu streams begun (%u files from the archive), merging", nf, res->archived);
	xo.files = files;
	xo.nfiles = nf;
	/* each answer is filtered already; archived files are whole */
	xo.expr = res->archived ? o->expr : NULL;
	xo.has_from = o->has_from;
	xo.from_ns = o->from_ns;
	xo.has_to = o->has_to;
	xo.to_ns = o->to_ns;
	xo.format = o->pcapng ? EX_FMT_PCAPNG : EX_FMT_PCAP;
	xo.out = o->out;
	ret = ex_extract(&xo, &xs, err, errlen);
join:
	/* the merge read every stream to its end; one that ended early left
	 * writers blocked: the read ends go, the writers see EPIPE */
	for (i = 0; i < x.n; i++)
		if (x.t[i].piped && x.t[i].fd >= 0) {
			close(x.t[i].fd);
			x.t[i].fd = -1;
		}
	for (i = 0; i < nw; i++)
		pthread_join(w[i].thr, NULL);
	pthread_mutex_lock(&x.lock);
	atomic_store(&x.done, true);
	pthread_cond_broadcast(&x.cond);
	pthread_mutex_unlock(&x.lock);
	if (watching)
		pthread_join(watcher, NULL);
	for (i = 0; i < x.n; i++) {
		if (x.t[i].afailed)
			res->failed++;
		if (x.t[i].ret || x.t[i].state == T_FAILED) {
			res->failed++;
			fprintf(o->progress ? o->progress : stderr,
				"capture-appliance fleet: sensor %s (capture %s): %s\n",
				x.t[i].cap->sensor, x.t[i].cap->capture,
				x.t[i].err[0] ? x.t[i].err : "failed");
		} else {
			res->answered++;
			say(o, "%s/%s: %" PRIu64 " bytes in %.2f s", x.t[i].cap->sensor,
			    x.t[i].cap->capture, x.t[i].bytes, x.t[i].seconds);
		}
	}
	if (!ret) {
		res->records = xs.records_out;
		say(o, "%" PRIu64 " records from %u of %u sensor captures%s", xs.records_out,
		    res->answered, res->asked, res->failed ? ": PARTIAL answer" : "");
		if (res->failed)
			ret = -EAGAIN;
	}
out:
	for (i = 0; x.t && i < x.n; i++) {
		for (j = 0; j < x.t[i].nafd; j++)
			close(x.t[i].afd[j]);
		free(x.t[i].afd);
		if (x.t[i].fd >= 0)
			close(x.t[i].fd);
		if (x.t[i].wfd >= 0)
			close(x.t[i].wfd);
	}
	if (curl)
		curl_global_cleanup();
	free(files);
	free(paths);
	free(w);
	free(x.t);
	fl_catalog_free(&c);
	cJSON_Delete(status);
	fl_disconnect(x.nc, js);
	ar_client_close(x.ar);
	pthread_mutex_destroy(&x.ar_lock);
	pthread_cond_destroy(&x.cond);
	pthread_mutex_destroy(&x.lock);
	return ret;
}
