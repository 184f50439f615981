/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the REST server: registry, JSON mapping, HTTP helpers,
 * handlers. Not part of the public interface (that is api/rest.h). */
#ifndef API_REST_INT_H
#define API_REST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "capture/capture.h"
#include "api/rest.h"

struct mg_connection;
struct mg_context;

/* ---- JSON (json.c) ---- */

/* Which keys a request may carry. */
enum {
	API_J_CREATE = 1u << 0, /* name, iface, transparent too (POST) */
	API_J_IFACE = 1u << 1,	/* iface (PATCH, PUT .../iface) */
};

/* Applies a JSON object of capture fields onto cfg. Checks keys, types and
 * ranges (not the filter nor the dump folder: the caller does, knowing the
 * final snaplen and the dump root). *fields gets CAP_F_* bits; *iface_set
 * whether iface was given. */
int api_json_apply(const cJSON *obj, unsigned int allow,
		   struct cap_cfg *cfg, unsigned int *fields,
		   bool *iface_set, char *err, size_t errlen);
cJSON *api_json_cfg(const struct cap_cfg *cfg);
cJSON *api_json_stats(const struct cap_stats *st);
/* The value of one field (capture, filter, snaplen, dump, networkmode,
 * iface, ...) of cfg, or NULL for an unknown name. */
cJSON *api_json_cfg_field(const struct cap_cfg *cfg, const char *field);
/* Nesting limit of a request body (objects and arrays), far below what
 * cJSON's recursion needs on a civetweb worker's stack. */
#define API_JSON_DEPTH_MAX 32
/* Checks that text (len bytes) is strict RFC 8259 JSON, nested at most
 * API_JSON_DEPTH_MAX deep, with no NUL in any string (json_scan.c).
 * 0 or -EINVAL with the reason in err. */
int api_json_scan(const char *text, size_t len, char *err, size_t errlen);
/* api_json_scan() then cJSON; text[len] must be '\0'. 0, -EINVAL (refused:
 * err says why) or -ENOMEM. */
int api_json_parse(const char *text, size_t len, cJSON **out, char *err,
		   size_t errlen);

/* ---- the server (rest.c) ---- */

struct api_rest {
	struct mg_context *ctx;
	struct cap_core *core; /* the captures; not ours to close */
	char *token; /* NULL: no auth */
	size_t token_len;
	bool loopback; /* listening on a loopback address only */
	int metrics_port; /* the read-only metrics listener's, or 0 */
	struct api_grants *grants; /* one-time tokens for extract streams; may be NULL */
	size_t body_limit;
	void (*archive_stats)(void *arg, struct api_archive_stats *st);
	void *archive_arg;
	atomic_bool stopping;
};

/* One request, as the handlers see it. */
struct api_req {
	struct api_rest *r;
	struct mg_connection *conn;
	const char *query;	     /* may be NULL */
	char name[CAP_NAME_MAX + 1]; /* the {name} of the path, if any */
	char file[256];		     /* the {file} of the path, if any */
	const char *arg;	     /* the route's argument (field name) */
};

typedef int (*api_handler_fn)(struct api_req *q);

/* ---- request guard (rest_guard.c) ---- */

/* 0 when the request may go on; else the status of the refusal it sent. */
int api_guard(struct api_rest *r, struct mg_connection *conn);

/* ---- HTTP helpers (rest_http.c) ---- */

/* Sends body (freed) with status; returns status. */
int api_http_json(struct mg_connection *conn, int status, cJSON *body);
int api_http_error(struct mg_connection *conn, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with one extra header (WWW-Authenticate, Allow). */
int api_http_error_hdr(struct mg_connection *conn, int status, const char *hname,
		       const char *hval, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int api_http_no_content(struct mg_connection *conn);
/* Reads the request body (NUL-terminated) up to limit bytes: -E2BIG above
 * it, -EIO on a read error. */
int api_http_body(struct mg_connection *conn, size_t limit, char **out,
		  size_t *len);
/* Body parsed as JSON; on failure sends 400 and returns NULL. */
cJSON *api_http_json_body(struct api_req *q);
/* Query parameter as an unsigned integer: 0 = absent, 1 = set, -EINVAL. */
int api_http_query_u64(const char *query, const char *key, unsigned long long *v);

/* ---- handlers (rest_captures.c, rest_stream.c) ---- */

int api_h_healthz(struct api_req *q);
int api_h_openapi(struct api_req *q);
int api_h_list(struct api_req *q);
int api_h_create(struct api_req *q);
int api_h_get(struct api_req *q);
int api_h_patch(struct api_req *q);
int api_h_delete(struct api_req *q);
int api_h_field_get(struct api_req *q);
int api_h_field_put(struct api_req *q);
int api_h_stats(struct api_req *q);
int api_h_packets(struct api_req *q);
int api_h_dump(struct api_req *q);
int api_h_metrics(struct api_req *q);
int api_h_files(struct api_req *q);
int api_h_extract(struct api_req *q);
int api_h_file(struct api_req *q);
int api_h_ui(struct api_req *q);

/* Loads the libssl shim civetweb needs with OpenSSL 3 (rest_tls.c). */
int api_rest_tls_prepare(char *err, size_t errlen);

/* The embedded status page, api/ui/index.html (generated by ca_embed). */
extern const unsigned char api_ui_html[];
extern const size_t api_ui_html_len;

/* The embedded OpenAPI document (generated by ca_embed). */
extern const unsigned char api_openapi_json[];
extern const size_t api_openapi_json_len;

#endif
