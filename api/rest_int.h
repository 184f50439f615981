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

#include "api/capture.h"
#include "api/rest.h"

struct mg_connection;
struct mg_context;

/* ---- registry (registry.c): the named captures of one daemon ---- */

/* A first-come-first-served lock: a filter change holds it for a compile
 * (a second or so), and a plain mutex lets a busy client starve others. */
struct api_fifo_lock {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long next, serving;
};

void api_fifo_init(struct api_fifo_lock *l);
void api_fifo_destroy(struct api_fifo_lock *l);
void api_fifo_lock(struct api_fifo_lock *l);
void api_fifo_unlock(struct api_fifo_lock *l);

struct api_reg_entry {
	char name[API_NAME_MAX];
	char iface[IF_NAMESIZE];   /* reserved even while (re)creating */
	char held[IF_NAMESIZE];	   /* the old iface, held during a move */
	struct api_capture *c;	   /* NULL while creating or once deleted */
	struct api_fifo_lock chg;  /* serialises changes (PATCH, PUT, DELETE) */
	pthread_rwlock_t use;	   /* read: using c; write: replacing c */
	/* below: under the registry lock */
	unsigned int refs;
	unsigned int streams;	   /* pull clients streaming from c */
	unsigned int gen;	   /* bumped when c is replaced or deleted */
	bool visible;		   /* false while being created */
	bool network;		   /* cached networkmode, for streams */
	struct api_reg_entry *next;
};

struct api_registry {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* streams ended */
	struct api_reg_entry *head;
};

int api_reg_init(struct api_registry *g);
/* Destroys every capture (streams must have ended). */
void api_reg_fini(struct api_registry *g);
/* Reserves name and iface for a capture being created (invisible until
 * committed). -EEXIST: name taken, -EBUSY: iface taken. */
int api_reg_reserve(struct api_registry *g, const char *name, const char *iface,
		    struct api_reg_entry **out);
void api_reg_commit(struct api_registry *g, struct api_reg_entry *e,
		    struct api_capture *c, bool network);
void api_reg_cancel(struct api_registry *g, struct api_reg_entry *e);
/* A reference to a visible capture, or NULL. */
struct api_reg_entry *api_reg_get(struct api_registry *g, const char *name);
void api_reg_put(struct api_registry *g, struct api_reg_entry *e);
/* Calls fn for each visible entry (with a reference held), in name order
 * of creation; stops at the first non-zero return. */
int api_reg_each(struct api_registry *g,
		 int (*fn)(struct api_reg_entry *e, void *arg), void *arg);
/* Reserves another interface for e (-EBUSY if taken), keeping the old
 * one until api_reg_move_done() says which one stays. */
int api_reg_move_iface(struct api_registry *g, struct api_reg_entry *e,
		       const char *iface);
void api_reg_move_done(struct api_registry *g, struct api_reg_entry *e, bool moved);
void api_reg_set_network(struct api_registry *g, struct api_reg_entry *e, bool on);
/* Ends the streams of e (bumps gen) and waits until they are gone. Called
 * with e->use write-locked (so no stream can begin); the caller then
 * replaces or destroys e->c. */
void api_reg_quiesce(struct api_registry *g, struct api_reg_entry *e);
/* Stream bookkeeping; begin with e->use read-locked: -ESHUTDOWN when e is
 * gone, -EAGAIN when networkmode is off. */
int api_reg_stream_begin(struct api_registry *g, struct api_reg_entry *e,
			 unsigned int *gen);
/* true while the stream may go on (same capture, still in network mode). */
bool api_reg_stream_ok(struct api_registry *g, struct api_reg_entry *e,
		       unsigned int gen);
void api_reg_stream_end(struct api_registry *g, struct api_reg_entry *e);
/* Unlinks e (DELETE); the caller still holds its reference. */
void api_reg_unlink(struct api_registry *g, struct api_reg_entry *e);

/* ---- JSON (json.c) ---- */

/* Which keys a request may carry. */
enum {
	API_J_CREATE = 1u << 0, /* name, iface, transparent too (POST) */
	API_J_IFACE = 1u << 1,	/* iface (PATCH, PUT .../iface) */
};

/* Applies a JSON object of capture fields onto cfg. Checks keys, types and
 * ranges (not the filter nor the dump folder: the caller does, knowing the
 * final snaplen and the dump root). *fields gets API_F_* bits; *iface_set
 * whether iface was given. */
int api_json_apply(const cJSON *obj, unsigned int allow,
		   struct api_capture_cfg *cfg, unsigned int *fields,
		   bool *iface_set, char *err, size_t errlen);
cJSON *api_json_cfg(const struct api_capture_cfg *cfg);
cJSON *api_json_stats(const struct api_capture_stats *st);
/* The value of one field (capture, filter, snaplen, dump, networkmode,
 * iface, ...) of cfg, or NULL for an unknown name. */
cJSON *api_json_cfg_field(const struct api_capture_cfg *cfg, const char *field);
bool api_json_name_ok(const char *name);
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
	struct api_registry reg;
	char *token; /* NULL: no auth */
	size_t token_len;
	char *dump_root; /* realpath, or NULL */
	size_t body_limit;
	api_rest_create_fn create;
	void *create_arg;
	atomic_bool stopping;
};

/* One request, as the handlers see it. */
struct api_req {
	struct api_rest *r;
	struct mg_connection *conn;
	const char *query;	     /* may be NULL */
	char name[API_NAME_MAX + 1]; /* the {name} of the path, if any */
	const char *arg;	     /* the route's argument (field name) */
};

typedef int (*api_handler_fn)(struct api_req *q);

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

/* Creates a capture through the configured hook. */
int api_rest_create_capture(struct api_rest *r, const struct api_capture_cfg *cfg,
			    struct api_capture **out, char *err, size_t errlen);

/* Loads the libssl shim civetweb needs with OpenSSL 3 (rest_tls.c). */
int api_rest_tls_prepare(char *err, size_t errlen);

/* The embedded OpenAPI document (generated by ca_embed). */
extern const unsigned char api_openapi_json[];
extern const size_t api_openapi_json_len;

#endif
