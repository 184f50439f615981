/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest: the REST control plane of a running appliance (embedded civetweb).
 *
 * Holds a registry of named captures (the first one usually comes from
 * `start --iface`), serves the JSON API under /api/v1 (see api/openapi.json),
 * the network-mode pcap stream and /healthz. Every request is validated;
 * a refused request changes nothing.
 *
 * Functions return 0 or a negative errno; user-facing reasons go to err.
 */
#ifndef API_REST_H
#define API_REST_H

#include <stdbool.h>
#include <stddef.h>

#include "api/capture.h"

#define API_REST_LISTEN_DEFAULT "127.0.0.1:9000"
#define API_REST_BODY_LIMIT_DEFAULT (64u * 1024)

/* How the server creates a capture for POST /api/v1/captures (and for a
 * PUT of iface). Lets `start` pass its own options (writer backend, network
 * backlog size, ...). NULL in api_rest_opts: api_capture_create(). */
typedef int (*api_rest_create_fn)(const struct api_capture_cfg *cfg,
				  struct api_capture **out, char *err,
				  size_t errlen, void *arg);

struct api_rest_opts {
	const char *listen;	/* "ADDR:PORT"; NULL: API_REST_LISTEN_DEFAULT */
	const char *token_file; /* Bearer token required when set */
	const char *tls_cert;	/* PEM with certificate and key: HTTPS */
	const char *dump_root;	/* dump paths must lie inside; NULL: anywhere */
	size_t body_limit;	/* request body bytes; 0: default */
	unsigned int threads;	/* civetweb worker threads; 0: default (32) */
	api_rest_create_fn create;
	void *create_arg;
};

struct api_rest;

/* Reads the token, binds and starts serving (civetweb's own threads).
 * Prints a warning to stderr when listening beyond loopback without a
 * token. -EINVAL with err for bad options, -EADDRINUSE etc. when the bind
 * fails. */
int api_rest_start(const struct api_rest_opts *o, struct api_rest **out,
		   char *err, size_t errlen);

/* Hands a capture over to the server (it is destroyed by api_rest_stop or
 * a DELETE). -EEXIST if the name or the interface is already taken (the
 * capture then still belongs to the caller). */
int api_rest_add_capture(struct api_rest *r, struct api_capture *c,
			 char *err, size_t errlen);

/* Stops serving (ends streams), destroys every capture, frees r. */
void api_rest_stop(struct api_rest *r);

/* Checks a dump prefix the way the server does (folder exists and is
 * writable, inside root when root is set, no `..` component) and writes the
 * absolute prefix to out (a relative dump is taken relative to root, or to
 * the current directory without root). `start` uses it for --dump. */
int api_rest_check_dump(const char *root, const char *dump, char *out,
			size_t outlen, char *err, size_t errlen);

/* Checks a listen address before anything is started: ADDR:PORT with ADDR
 * an IPv4 address, [IPv6] or a host name, PORT 1..65535. -EINVAL with err. */
int api_rest_check_listen(const char *listen, char *err, size_t errlen);

/* The server's route table, for the OpenAPI completeness test. Paths use
 * OpenAPI templating: /api/v1/captures/{name}. */
struct api_rest_route_info {
	const char *method; /* "GET", "POST", ... */
	const char *path;
};
size_t api_rest_route_count(void);
const struct api_rest_route_info *api_rest_route_at(size_t i);

#endif
