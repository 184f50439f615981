/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest: the REST control plane of a running appliance (embedded civetweb).
 *
 * Serves the captures of a capture core (capture/capture.h) as a JSON API
 * under /api/v1 (see api/openapi.json), the network-mode pcap stream and
 * /healthz. Every request is validated; a refused request changes nothing.
 * All it does to a capture goes through the core.
 *
 * Functions return 0 or a negative errno; user-facing reasons go to err.
 */
#ifndef API_REST_H
#define API_REST_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/capture.h"

#define API_REST_LISTEN_DEFAULT "127.0.0.1:9000"
#define API_REST_BODY_LIMIT_DEFAULT (64u * 1024)
/* Workers: the core's pull streams (CAP_PULLS_DEFAULT) and half-sent
 * requests (10 s each at most) leave most of them to the control routes. */
#define API_REST_THREADS_DEFAULT 128u

/* The archive's counters (archive/), the daemon's: GET /metrics has them,
 * and each capture's stats (archive_* keys). */
struct api_archive_stats {
	uint64_t uploaded_files, uploaded_bytes; /* objects verified */
	uint64_t failures;			 /* failed attempts (retried) */
	uint64_t queue;				 /* files waiting */
	uint64_t gone;				 /* deleted before archived */
};

struct api_rest_opts {
	const char *listen;	/* "ADDR:PORT"; NULL: API_REST_LISTEN_DEFAULT */
	const char *token_file; /* the bearer token; NULL: API_TOKEN_DEFAULT (api/token.h) */
	bool no_auth;		/* no token at all (refused beyond loopback) */
	const char *tls_cert;	/* PEM with certificate and key: HTTPS */
	size_t body_limit;	/* request body bytes; 0: default */
	unsigned int threads;	/* civetweb worker threads; 0: API_REST_THREADS_DEFAULT */
	struct cap_core *core;	/* the captures it serves (required) */
	const char *metrics_listen; /* "ADDR:PORT": GET /metrics only, no token; NULL: none */
	/* one-time tokens (api/token.h) also accepted, each for the one GET
	 * of .../captures/NAME/extract?QUERY it was made for; NULL: none.
	 * Not ours: it must outlive the server. */
	struct api_grants *grants;
	/* NULL: no archive. Called from request threads. */
	void (*archive_stats)(void *arg, struct api_archive_stats *st);
	void *archive_arg;
};

struct api_rest;

/* Reads the token, binds and starts serving (civetweb's own threads).
 * Prints a warning to stderr when listening beyond loopback without a
 * token. -EINVAL with err for bad options, -EADDRINUSE etc. when the bind
 * fails. */
int api_rest_start(const struct api_rest_opts *o, struct api_rest **out,
		   char *err, size_t errlen);

/* Stops serving (ends streams), frees r. The captures stay in the core. */
void api_rest_stop(struct api_rest *r);

/* Checks a listen address before anything is started: ADDR:PORT with ADDR
 * an IPv4 address, [IPv6] or a host name, PORT 1..65535. -EINVAL with err. */
int api_rest_check_listen(const char *listen, char *err, size_t errlen);

/* 127.0.0.0/8, [::1] or localhost (a bare port or 0.0.0.0 is not). */
bool api_rest_listen_is_loopback(const char *listen);

/* The server's route table, for the OpenAPI completeness test. Paths use
 * OpenAPI templating: /api/v1/captures/{name}. */
struct api_rest_route_info {
	const char *method; /* "GET", "POST", ... */
	const char *path;
};
size_t api_rest_route_count(void);
const struct api_rest_route_info *api_rest_route_at(size_t i);

#endif
