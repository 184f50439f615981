/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sensor's fleet thread: the catalog stream and KV bucket, the queue of
 * records, their publication, the reconciliation and the heartbeat.
 *
 * The capture never waits for NATS: fl_note_sealed builds a record and
 * puts it in a bounded queue (a full queue is counted and leaves the file
 * to the next reconciliation); this thread alone talks to JetStream.
 * Nothing is published twice: every record carries the Nats-Msg-Id
 * <sensor>/<capture>/<file>/<kind>, which JetStream de-duplicates within
 * FL_DUP_WINDOW_S, and the thread keeps the ids the catalog holds (read
 * from it at each (re)connection), skipping those. Nothing is lost: the
 * reconciliation at each (re)connection publishes every local sealed file
 * the catalog lacks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/token.h"
#include "fleet/fl_internal.h"

#define TICK_MS 1000

void fl_log(struct fl_fleet *f, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->o.log)
		f->o.log(f->o.log_arg, msg);
	else
		fprintf(stderr, "capture-appliance: %s\n", msg);
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static bool connected(struct fl_fleet *f)
{
	return natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED;
}

int fl_catalog_ensure(struct fl_fleet *f, char *err, size_t errlen)
{
	const char *subjects[] = { FL_SUBJECT_PREFIX ".>" };
	jsErrCode jerr = 0;
	jsStreamConfig sc;
	kvConfig kc;
	natsStatus s;

	jsStreamConfig_Init(&sc);
	sc.Name = FL_STREAM;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Retention = js_LimitsPolicy;
	sc.Replicas = f->o.replicas;
	sc.MaxAge = (int64_t)f->o.max_age_s * 1000000000;
	sc.MaxBytes = (int64_t)f->o.max_bytes;
	sc.Duplicates = (int64_t)FL_DUP_WINDOW_S * 1000000000;
	s = js_AddStream(NULL, f->js, &sc, NULL, &jerr);
	if (s != NATS_OK && jerr == JSStreamNameExistErr) {
		/* another sensor made it: its settings become ours (give every
		 * sensor the same); one that can't change (replicas) stays */
		jerr = 0;
		s = js_UpdateStream(NULL, f->js, &sc, NULL, &jerr);
		if (s != NATS_OK) {
			fl_nats_err(s, jerr, "updating stream " FL_STREAM, err, errlen);
			fl_log(f, "fleet: %s; the stream keeps its settings", err);
			s = NATS_OK;
		}
	}
	if (s != NATS_OK) {
		fl_nats_err(s, jerr, "stream " FL_STREAM, err, errlen);
		return -EIO;
	}
	if (!f->kv) {
		kvConfig_Init(&kc);
		kc.Bucket = FL_KV_BUCKET;
		kc.History = 1;
		kc.Replicas = (int)f->o.replicas;
		kc.StorageType = js_FileStorage;
		s = js_CreateKeyValue(&f->kv, f->js, &kc);
		if (s != NATS_OK) {
			char why[512];

			/* there already, with other settings: use it */
			fl_nats_err(s, 0, "making KV bucket " FL_KV_BUCKET, why, sizeof(why));
			f->kv = NULL;
			s = js_KeyValue(&f->kv, f->js, FL_KV_BUCKET);
			if (s != NATS_OK) {
				f->kv = NULL;
				snprintf(err, errlen, "%s", why);
				return -EIO;
			}
		}
	}
	return 0;
}

int fl_publish(struct fl_fleet *f, const struct fl_item *it, char *err, size_t errlen)
{
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	jsPubOptions po;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.MsgId = it->id;
	po.ExpectStream = FL_STREAM;
	s = js_Publish(&pa, f->js, it->subject, it->json, (int)strlen(it->json), &po, &jerr);
	if (s != NATS_OK) {
		atomic_fetch_add(&f->st.publish_errors, 1);
		fl_nats_err(s, jerr, it->id, err, errlen);
		return s == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
	}
	if (pa->Duplicate)
		atomic_fetch_add(&f->st.duplicates, 1);
	else
		atomic_fetch_add(&f->st.published, 1);
	jsPubAck_Destroy(pa);
	return fl_set_add(&f->known, it->id);
}

static int add_known(void *arg, const char *id, uint64_t seq, const char *data, size_t len)
{
	struct fl_fleet *f = arg;

	return id[0] ? fl_set_add(&f->known, id) : 0;
}

/* Every sealed file of one capture the catalog lacks. */
static int reconcile_capture(struct fl_fleet *f, const char *name, char *err, size_t errlen)
{
	struct cap_cfg *cfg = malloc(sizeof(*cfg));
	struct cap_file *fl = NULL;
	struct fl_item it = { 0 };
	char path[PATH_MAX + 256], *slash;
	size_t n = 0, i;
	int ret = 0;

	if (!cfg)
		return -ENOMEM;
	if (cap_get(f->o.core, name, cfg, NULL) || cap_files(f->o.core, name, &fl, &n))
		goto out; /* deleted meanwhile: nothing of it to publish */
	slash = strrchr(cfg->dump, '/');
	if (!slash)
		goto out;
	*slash = '\0';
	fl_subject(f->sensor, name, it.subject, sizeof(it.subject));
	for (i = 0; i < n && !ret; i++) {
		if (!fl[i].sealed)
			continue;
		fl_msg_id(f->sensor, name, fl[i].name, "sealed", it.id, sizeof(it.id));
		if (fl_set_has(&f->known, it.id))
			continue;
		snprintf(path, sizeof(path), "%s/%s", cfg->dump, fl[i].name);
		if (fl_record_sealed(f->o.core, f->sensor, name, path, &it.json))
			continue; /* gone meanwhile (retention) */
		ret = fl_publish(f, &it, err, errlen);
		if (!ret)
			atomic_fetch_add(&f->st.reconciled, 1);
		cJSON_free(it.json);
		it.json = NULL;
	}
out:
	free(fl);
	free(cfg);
	return ret;
}

int fl_reconcile(struct fl_fleet *f, char *err, size_t errlen)
{
	char filter[128];
	char(*names)[CAP_NAME_MAX] = NULL;
	size_t i, n = 0;
	int ret;

	snprintf(filter, sizeof(filter), FL_SUBJECT_PREFIX ".%s.>", f->sensor);
	ret = fl_scan(f->nc, f->js, filter, add_known, f, err, errlen);
	if (ret)
		return ret;
	ret = cap_names(f->o.core, &names, &n);
	for (i = 0; i < n && !ret; i++)
		ret = reconcile_capture(f, names[i], err, errlen);
	free(names);
	return ret;
}

/* ---- the queue ---- */

static int enqueue(struct fl_fleet *f, struct fl_item *it)
{
	int ret = 0;

	pthread_mutex_lock(&f->lock);
	if (f->qn == f->qmax) {
		/* found again by the next reconciliation (sealed files) */
		f->rescan = true;
		ret = -ENOSPC;
	} else {
		f->q[(f->qhead + f->qn++) % f->qmax] = *it;
		pthread_cond_signal(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	atomic_fetch_add(ret ? &f->st.queue_full : &f->st.queued, 1);
	return ret;
}

void fl_note_sealed(struct fl_fleet *f, const char *capture, const char *path)
{
	struct fl_item it = { 0 };
	const char *file;

	if (!f)
		return;
	file = strrchr(path, '/');
	file = file ? file + 1 : path;
	fl_subject(f->sensor, capture, it.subject, sizeof(it.subject));
	fl_msg_id(f->sensor, capture, file, "sealed", it.id, sizeof(it.id));
	if (fl_record_sealed(f->o.core, f->sensor, capture, path, &it.json))
		return; /* gone already */
	if (enqueue(f, &it))
		cJSON_free(it.json);
}

int fl_note_archived(struct fl_fleet *f, const char *capture, const char *path,
		     const char *key, uint64_t bytes, const char *md5hex)
{
	struct fl_item it = { 0 };
	const char *file;
	int ret;

	if (!f || !cap_name_ok(capture) || !path || !key || !key[0])
		return -EINVAL;
	file = strrchr(path, '/');
	file = file ? file + 1 : path;
	fl_subject(f->sensor, capture, it.subject, sizeof(it.subject));
	fl_msg_id(f->sensor, capture, file, "archived", it.id, sizeof(it.id));
	ret = fl_record_archived(f->sensor, capture, path, key, bytes, md5hex, &it.json);
	if (ret)
		return ret;
	ret = enqueue(f, &it);
	if (ret)
		cJSON_free(it.json);
	return ret;
}

/* Publishes the queue's head until it is empty or NATS fails. */
static void drain(struct fl_fleet *f)
{
	struct fl_item it;
	char err[512];
	bool have;

	for (;;) {
		pthread_mutex_lock(&f->lock);
		have = f->qn > 0 && !f->stop;
		if (have)
			it = f->q[f->qhead];
		pthread_mutex_unlock(&f->lock);
		if (!have)
			return;
		if (fl_set_has(&f->known, it.id))
			atomic_fetch_add(&f->st.known, 1);
		else if (fl_publish(f, &it, err, sizeof(err)))
			return; /* stays at the head; next tick */
		pthread_mutex_lock(&f->lock);
		cJSON_free(f->q[f->qhead].json);
		f->qhead = (f->qhead + 1) % f->qmax;
		f->qn--;
		pthread_mutex_unlock(&f->lock);
	}
}

static void reconnected_cb(natsConnection *nc, void *arg)
{
	struct fl_fleet *f = arg;

	atomic_store(&f->reconnected, true);
}

static void *fleet_main(void *arg)
{
	struct fl_fleet *f = arg;
	uint64_t next_beat = 0, now;
	bool was_up = false, up, stop, rescan = true;
	struct timespec until;
	char err[1024];

	cap_background_thread();
	for (;;) {
		up = connected(f);
		if (up != was_up)
			fl_log(f, "fleet: %s %s", up ? "connected to" : "lost", f->conn.servers);
		was_up = up;
		/* after a reconnection: the stream and bucket again (a cluster
		 * may come back without them), then a reconciliation */
		if (atomic_exchange(&f->reconnected, false)) {
			f->ready = false;
			rescan = true;
		}
		if (up && !f->ready) {
			if (fl_catalog_ensure(f, err, sizeof(err)))
				fl_log(f, "fleet: %s", err);
			else
				f->ready = true;
		}
		if (up && f->ready && !f->qsub && fl_query_start(f, err, sizeof(err)))
			fl_log(f, "fleet: %s", err);

		pthread_mutex_lock(&f->lock);
		rescan |= f->rescan;
		f->rescan = false;
		pthread_mutex_unlock(&f->lock);
		if (up && f->ready && rescan) {
			if (fl_reconcile(f, err, sizeof(err)))
				fl_log(f, "fleet: reconciling the catalog: %s (again later)", err);
			else
				rescan = false;
		}
		if (up && f->ready)
			drain(f);
		now = mono_ms();
		if (up && f->ready && now >= next_beat) {
			if (fl_heartbeat(f, err, sizeof(err)))
				fl_log(f, "fleet: heartbeat: %s", err);
			next_beat = now + FL_HEARTBEAT_S * 1000;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TICK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&f->lock);
		/* a new record wakes it; a record stuck on NATS waits a tick */
		if (!f->stop)
			pthread_cond_timedwait(&f->cond, &f->lock, &until);
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			break;
	}
	return NULL;
}

int fl_start(const struct fl_sensor_opts *o, struct fl_fleet **out, char *err, size_t errlen)
{
	struct fl_fleet *f;
	int ret;

	if (!o->sensor || !fl_sensor_name_ok(o->sensor)) {
		snprintf(err, errlen, "--sensor: '%s' is not a sensor name (1..%d of "
			 "A-Z a-z 0-9 _ -)", o->sensor ? o->sensor : "", FL_SENSOR_MAX - 1);
		return -EINVAL;
	}
	if (!o->core || !o->advertise || strlen(o->advertise) >= sizeof(f->advertise)) {
		snprintf(err, errlen, "fleet: no capture core or advertised URL");
		return -EINVAL;
	}
	ret = fl_check_conn(&o->conn, err, errlen);
	if (ret)
		return ret;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->o = *o;
	if (!f->o.replicas)
		f->o.replicas = 1;
	if (!f->o.max_age_s)
		f->o.max_age_s = FL_MAX_AGE_DEFAULT_S;
	if (!f->o.max_bytes)
		f->o.max_bytes = FL_MAX_BYTES_DEFAULT;
	f->qmax = o->queue_max ? o->queue_max : FL_QUEUE_DEFAULT;
	snprintf(f->sensor, sizeof(f->sensor), "%s", o->sensor);
	snprintf(f->advertise, sizeof(f->advertise), "%s", o->advertise);
	f->servers = strdup(o->conn.servers);
	f->creds = o->conn.creds ? strdup(o->conn.creds) : NULL;
	f->tls_ca = o->conn.tls_ca ? strdup(o->conn.tls_ca) : NULL;
	f->q = calloc(f->qmax, sizeof(*f->q));
	if (!f->servers || (o->conn.creds && !f->creds) || (o->conn.tls_ca && !f->tls_ca) ||
	    !f->q) {
		ret = -ENOMEM;
		goto fail;
	}
	f->conn = o->conn;
	f->conn.servers = f->servers;
	f->conn.creds = f->creds;
	f->conn.tls_ca = f->tls_ca;
	f->o.conn = f->conn;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	ret = fl_connect(&f->conn, f->sensor, reconnected_cb, f, &f->nc, &f->js, err, errlen);
	if (ret)
		goto fail_lock;
	ret = -pthread_create(&f->thr, NULL, fleet_main, f);
	if (ret) {
		snprintf(err, errlen, "fleet thread: %s", strerror(-ret));
		fl_disconnect(f->nc, f->js);
		goto fail_lock;
	}
	pthread_setname_np(f->thr, "ca-fleet"); /* its CPU time shows apart */
	*out = f;
	return 0;
fail_lock:
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
fail:
	free(f->q);
	free(f->servers);
	free(f->creds);
	free(f->tls_ca);
	free(f);
	return ret;
}

void fl_stop(struct fl_fleet *f)
{
	size_t i;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thr, NULL);
	if (f->qsub) {
		/* a query being answered finishes before f goes */
		if (natsSubscription_Drain(f->qsub) == NATS_OK)
			natsSubscription_WaitForDrainCompletion(f->qsub, 2000);
		else
			natsSubscription_Unsubscribe(f->qsub);
		natsSubscription_Destroy(f->qsub);
	}
	kvStore_Destroy(f->kv);
	fl_disconnect(f->nc, f->js);
	for (i = 0; i < f->qn; i++)
		cJSON_free(f->q[(f->qhead + i) % f->qmax].json);
	fl_set_clear(&f->known);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f->q);
	free(f->servers);
	free(f->creds);
	free(f->tls_ca);
	free(f);
}

void fl_stats_get(struct fl_fleet *f, struct fl_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	out->queued = atomic_load(&f->st.queued);
	out->published = atomic_load(&f->st.published);
	out->duplicates = atomic_load(&f->st.duplicates);
	out->known = atomic_load(&f->st.known);
	out->queue_full = atomic_load(&f->st.queue_full);
	out->publish_errors = atomic_load(&f->st.publish_errors);
	out->reconciled = atomic_load(&f->st.reconciled);
	out->queries = atomic_load(&f->st.queries);
	pthread_mutex_lock(&f->lock);
	out->waiting = (unsigned int)f->qn;
	pthread_mutex_unlock(&f->lock);
	out->connected = f->nc && connected(f);
}
