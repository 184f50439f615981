/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of fleet/: what its files share. Not part of the interface. */
#ifndef FL_INTERNAL_H
#define FL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <cjson/cJSON.h>
#include <nats/nats.h>

#include "fleet/fleet.h"

/* ---- the connection (fl_conn.c) ---- */

/* Connects to c->servers. With on_reconnect (the sensor): keep trying in
 * the background, forever (NATS may be down at start; *nc is usable at
 * once, publishes fail until connected), on_reconnect(nc, arg) after each
 * reconnection; without: one attempt (the client). The js context waits
 * c->timeout_ms for acks and API answers. */
int fl_connect(const struct fl_conn_opts *c, const char *name,
	       natsConnectionHandler on_reconnect, void *arg, natsConnection **nc, jsCtx **js,
	       char *err, size_t errlen);
void fl_disconnect(natsConnection *nc, jsCtx *js);
/* A NATS status (and JetStream error code) as text: "timeout", ... */
void fl_nats_err(natsStatus s, jsErrCode jerr, const char *what, char *err, size_t errlen);

/* ---- records (fl_record.c) ---- */

/* A capture name as a subject token: '.' becomes "%2E" (capture names are
 * [A-Za-z0-9._-]). out needs 3 * CAP_NAME_MAX. */
void fl_subject_token(const char *capture, char *out, size_t len);
/* ca.catalog.<sensor>.<capture token> */
void fl_subject(const char *sensor, const char *capture, char *out, size_t len);
/* <sensor>/<capture>/<file>/<kind>: the Nats-Msg-Id */
void fl_msg_id(const char *sensor, const char *capture, const char *file,
	       const char *kind, char *out, size_t len);

/* What the catalog says about one file (parsed from a record). */
struct fl_rec {
	char kind[16];	      /* "sealed", "archived" */
	char sensor[FL_SENSOR_MAX];
	char capture[CAP_NAME_MAX];
	char file[256];
	uint64_t first_ns, last_ns, records, bytes;
	char key[1024];	      /* archived: the object key */
};
/* The record of a sealed file: read from its index if present (else from
 * the core's file list), the capture's settings and counters. *json is
 * malloc'd. -ENOENT when the file or capture is gone. */
int fl_record_sealed(struct cap_core *k, const char *sensor, const char *capture,
		     const char *path, char **json);
/* The record of an archived file. */
int fl_record_archived(const char *sensor, const char *capture, const char *path,
		       const char *key, uint64_t bytes, const char *md5hex, char **json);
/* Parses a record; -EINVAL when it is not one. */
int fl_record_parse(const char *data, size_t len, struct fl_rec *r);

/* ---- a set of strings (fl_set.c) ---- */

struct fl_set {
	char **v;
	size_t cap, n;
};
bool fl_set_has(const struct fl_set *s, const char *key);
int fl_set_add(struct fl_set *s, const char *key); /* 0 (also when present) or -ENOMEM */
void fl_set_clear(struct fl_set *s);

/* ---- reading the catalog (fl_scan.c) ---- */

/* Calls fn for every record on subjects filter (e.g. "ca.catalog.s1.>"),
 * oldest first, with its message id and stream sequence, through an
 * ordered consumer; ends when none is pending. A non-zero fn return stops
 * (returned). */
typedef int (*fl_scan_fn)(void *arg, const char *id, uint64_t seq, const char *data,
			  size_t len);
int fl_scan(natsConnection *nc, jsCtx *js, const char *filter, fl_scan_fn fn, void *arg,
	    char *err, size_t errlen);

/* ---- the client's view of the catalog (fl_client.c) ---- */

/* Sensor captures and the files of each (sealed records, de-duplicated by
 * id). */
struct fl_cat_file {
	char file[256];
	uint64_t first_ns, last_ns, records, bytes;
	bool archived;
	char key[1024];
};
struct fl_cat_cap {
	char sensor[FL_SENSOR_MAX];
	char capture[CAP_NAME_MAX];
	struct fl_cat_file *files;
	size_t nfiles;
	uint64_t first_ns, last_ns, records, bytes;
	size_t archived;
	/* from the sensor's status record: the capture runs, so its open
	 * file (never in the catalog) holds [last sealed, seen_ns] */
	bool running;
	uint64_t seen_ns;
};
struct fl_catalog {
	struct fl_cat_cap *caps;
	size_t ncaps;
};
int fl_catalog_read(natsConnection *nc, jsCtx *js, struct fl_catalog *c, char *err,
		    size_t errlen);
void fl_catalog_free(struct fl_catalog *c);
/* The sensors' status records (KV), a JSON array by sensor name. */
int fl_status_read(jsCtx *js, cJSON **out, char *err, size_t errlen);
/* Marks (adds) the captures the status records say run. */
int fl_catalog_add_running(struct fl_catalog *c, const cJSON *status);

/* ---- the sensor (fl_catalog.c, fl_status.c, fl_query.c) ---- */

struct fl_item {
	char subject[128 + 3 * CAP_NAME_MAX];
	char id[FL_SENSOR_MAX + 3 * CAP_NAME_MAX + 512];
	char *json;
};

struct fl_fleet {
	struct fl_sensor_opts o;
	char sensor[FL_SENSOR_MAX];
	char advertise[512];
	struct fl_conn_opts conn;
	char *servers, *creds, *tls_ca; /* copies */
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	natsSubscription *qsub;
	pthread_t thr;
	pthread_mutex_t lock; /* the queue, stop, the flags */
	pthread_cond_t cond;
	bool stop, rescan;
	struct fl_item *q; /* ring of queue_max */
	size_t qhead, qn, qmax;
	struct fl_set known; /* message ids in the catalog (the thread's) */
	bool ready;	     /* stream and KV in place */
	atomic_bool reconnected;
	struct {
		_Atomic uint64_t queued, published, duplicates, known, queue_full,
			publish_errors, reconciled, queries;
	} st;
};

void fl_log(struct fl_fleet *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stream and KV bucket in place (made or updated). */
int fl_catalog_ensure(struct fl_fleet *f, char *err, size_t errlen);
/* Known ids from the catalog, then every local sealed file not in it
 * published. */
int fl_reconcile(struct fl_fleet *f, char *err, size_t errlen);
/* Publishes one record with its id; 0 stored or duplicate. */
int fl_publish(struct fl_fleet *f, const struct fl_item *it, char *err, size_t errlen);
/* The status record into the KV bucket. */
int fl_heartbeat(struct fl_fleet *f, char *err, size_t errlen);
/* Subscribes ca.query.<sensor>. */
int fl_query_start(struct fl_fleet *f, char *err, size_t errlen);

#endif
