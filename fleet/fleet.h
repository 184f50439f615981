/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleet: many appliances, one catalog, one query, over NATS JetStream.
 *
 * Sensor side (in `start --fleet`): a heartbeat and status record per
 * sensor in the KV bucket FL_KV_BUCKET; one catalog record per sealed file
 * (and per archived file) on the stream FL_STREAM, published from a
 * bounded queue by a thread of its own, never from the data path; the
 * answers to fleet queries (ca.query.<sensor>): a one-time URL of the
 * sensor's own REST extract stream. Client side (`capture-appliance
 * fleet`): ls and extract over the catalog. Packet data never goes through
 * NATS. See fleet/README.md.
 *
 * Functions return 0 or a negative errno; user-facing reasons go to err.
 */
#ifndef FLEET_H
#define FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"

#define FL_STREAM "CA_CATALOG"
#define FL_SUBJECT_PREFIX "ca.catalog" /* ca.catalog.<sensor>.<capture> */
#define FL_QUERY_PREFIX "ca.query"     /* ca.query.<sensor> */
#define FL_KV_BUCKET "ca_sensors"
#define FL_HEARTBEAT_S 5
#define FL_DUP_WINDOW_S 600	       /* the stream's de-duplication window */
#define FL_MAX_AGE_DEFAULT_S (30u * 86400)
#define FL_MAX_BYTES_DEFAULT (1ull << 30)
#define FL_QUEUE_DEFAULT 4096u
#define FL_GRANT_TTL_S 60
#define FL_SENSOR_MAX 64

/* How to reach the NATS cluster (sensor and client alike). */
struct fl_conn_opts {
	const char *servers; /* "nats://HOST:PORT[,nats://...]" (tls:// too) */
	const char *creds;   /* NULL, or a file: a NATS .creds file, "user:password"
			      * or a token; root-only (refused when group- or
			      * world-readable, or a symlink) */
	const char *tls_ca;  /* NULL, or a PEM CA file: TLS to NATS */
	int timeout_ms;	     /* connect and request timeout; 0: 5000 */
};

/* A sensor name: 1..FL_SENSOR_MAX-1 of [A-Za-z0-9_-] (a subject token and a
 * KV key). */
bool fl_sensor_name_ok(const char *name);
/* Checks the options before anything starts: server URLs, the creds file
 * (owner, mode, no link), the CA file. -EINVAL/-EPERM/-errno with err. */
int fl_check_conn(const struct fl_conn_opts *c, char *err, size_t errlen);

struct fl_sensor_opts {
	struct fl_conn_opts conn;
	const char *sensor;	      /* required, fl_sensor_name_ok */
	const char *advertise;	      /* http[s]://HOST:PORT of this sensor's REST API */
	unsigned int replicas;	      /* stream and KV replicas; 0: 1 */
	uint64_t max_age_s;	      /* catalog retention; 0: FL_MAX_AGE_DEFAULT_S */
	uint64_t max_bytes;	      /* 0: FL_MAX_BYTES_DEFAULT */
	unsigned int queue_max;	      /* records waiting for NATS; 0: FL_QUEUE_DEFAULT */
	struct cap_core *core;	      /* the captures (required) */
	struct api_grants *grants;    /* where query answers' one-time tokens go
				       * (the REST server's, api/token.h); NULL:
				       * queries are refused */
	void (*log)(void *arg, const char *msg); /* NULL: stderr */
	void *log_arg;
};

struct fl_fleet;

/* Starts the fleet thread: it connects (and reconnects) on its own, so NATS
 * may be down at start; the capture never waits for it. */
int fl_start(const struct fl_sensor_opts *o, struct fl_fleet **out, char *err,
	     size_t errlen);
/* Stops the thread (what is still queued is published at the next start by
 * the reconciliation), closes the connection, frees f. NULL is fine. */
void fl_stop(struct fl_fleet *f);

/* A file the capture sealed (the core's on_sealed; call after its index is
 * written): its catalog record is queued, never waited for. When the queue
 * is full the record is counted and found again by the next
 * reconciliation. NULL f is fine. */
void fl_note_sealed(struct fl_fleet *f, const char *capture, const char *path);
/* A sealed file stored in the archive under key (bytes, MD5 in hex): an
 * "archived" catalog record is queued. -ENOSPC queue full (counted,
 * not lost from the archive: the caller may note it again), -EINVAL. */
int fl_note_archived(struct fl_fleet *f, const char *capture, const char *path,
		     const char *key, uint64_t bytes, const char *md5hex);

struct fl_stats {
	uint64_t queued;	/* records queued */
	uint64_t published;	/* stored by JetStream (acknowledged) */
	uint64_t duplicates;	/* acknowledged as a duplicate (already stored) */
	uint64_t known;		/* skipped: already in the catalog */
	uint64_t queue_full;	/* not queued: the queue was full */
	uint64_t publish_errors; /* failed attempts (retried) */
	uint64_t reconciled;	/* published by a reconciliation */
	uint64_t queries;	/* ca.query requests answered */
	unsigned int waiting;	/* in the queue now */
	bool connected;
};
void fl_stats_get(struct fl_fleet *f, struct fl_stats *out);

/* ---- the client: capture-appliance fleet ---- */

/* `fleet ls`: the sensors of the KV bucket (last seen, advertised URL) and
 * their captures with the time range the catalog covers. */
int fl_ls(const struct fl_conn_opts *c, bool json, FILE *out, char *err, size_t errlen);
/* `fleet catalog`: every record of the stream, one JSON object a line with
 * its stream sequence ("seq") and message id ("id"). */
int fl_catalog_dump(const struct fl_conn_opts *c, const char *sensor_glob, FILE *out,
		    char *err, size_t errlen);

struct ar_target; /* archive/archive.h */

struct fl_extract_opts {
	struct fl_conn_opts conn;
	/* the archive (S3) holding files the sensors no longer do, or that
	 * sensors which do not answer archived; NULL: sensors only */
	const struct ar_target *archive;
	const char *sensor_glob;  /* NULL: every sensor */
	const char *capture_glob; /* NULL: every capture */
	bool has_from, has_to;
	int64_t from_ns, to_ns;	  /* [from, to) */
	const char *expr;	  /* tcpdump expression; NULL/"": everything */
	unsigned int timeout_s;	  /* per sensor's answer (0: 10) */
	bool pcapng;
	const char *rest_cacert;  /* CA of sensors' HTTPS REST APIs; NULL: the system's */
	FILE *out;		  /* the merged answer */
	FILE *progress;		  /* NULL: quiet */
};
struct fl_extract_result {
	unsigned int asked;	  /* sensor captures asked */
	unsigned int answered;	  /* streams merged */
	unsigned int failed;	  /* no answer in time, an error, a cut stream */
	unsigned int archived;	  /* files read from the archive */
	uint64_t records;	  /* records written */
};
/* Asks the sensors whose catalog meets the window, streams their answers
 * into private temporary files, merges them in time order into o->out.
 * Returns 0 (complete), -EAGAIN (partial: a sensor failed; each is named on
 * o->progress or stderr, and so is the partial answer), other -errno. */
int fl_extract(const struct fl_extract_opts *o, struct fl_extract_result *res, char *err,
	       size_t errlen);

#endif
