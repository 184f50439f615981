/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest: server life cycle, authentication and routing. Every request goes
 * through begin_request(): token check, then the route table below (which
 * is also what the OpenAPI completeness test reads).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "api/rest_int.h"
#include "api/token.h"

struct route {
	struct api_rest_route_info info; /* method, path template */
	api_handler_fn fn;
	const char *arg;
};

#define FIELD_ROUTES(f)                                                          \
	{ { "GET", "/api/v1/captures/{name}/" f }, api_h_field_get, f },         \
	{ { "PUT", "/api/v1/captures/{name}/" f }, api_h_field_put, f }

static const struct route routes[] = {
	{ { "GET", "/" }, api_h_ui, NULL },
	{ { "GET", "/healthz" }, api_h_healthz, NULL },
	{ { "GET", "/api/v1/openapi.json" }, api_h_openapi, NULL },
	{ { "GET", "/metrics" }, api_h_metrics, NULL },
	{ { "GET", "/api/v1/captures" }, api_h_list, NULL },
	{ { "POST", "/api/v1/captures" }, api_h_create, NULL },
	{ { "GET", "/api/v1/captures/{name}" }, api_h_get, NULL },
	{ { "PATCH", "/api/v1/captures/{name}" }, api_h_patch, NULL },
	{ { "DELETE", "/api/v1/captures/{name}" }, api_h_delete, NULL },
	FIELD_ROUTES("capture"),
	FIELD_ROUTES("filter"),
	FIELD_ROUTES("snaplen"),
	/* GET .../dump is the download (or, asked for JSON, the field) */
	{ { "PUT", "/api/v1/captures/{name}/dump" }, api_h_field_put, "dump" },
	FIELD_ROUTES("networkmode"),
	FIELD_ROUTES("iface"),
	{ { "GET", "/api/v1/captures/{name}/stats" }, api_h_stats, NULL },
	{ { "GET", "/api/v1/captures/{name}/packets" }, api_h_packets, NULL },
	{ { "GET", "/api/v1/captures/{name}/dump" }, api_h_dump, "dump" },
	{ { "GET", "/api/v1/captures/{name}/files" }, api_h_files, NULL },
	{ { "GET", "/api/v1/captures/{name}/extract" }, api_h_extract, NULL },
	{ { "GET", "/api/v1/captures/{name}/files/{file}" }, api_h_file, NULL },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

size_t api_rest_route_count(void)
{
	return NROUTES;
}

const struct api_rest_route_info *api_rest_route_at(size_t i)
{
	return i < NROUTES ? &routes[i].info : NULL;
}

/* One non-empty path segment into out; false if there is none or it is too long. */
static bool segment(const char **uri, char *out, size_t len)
{
	size_t n = strcspn(*uri, "/");

	if (n == 0 || n >= len)
		return false;
	memcpy(out, *uri, n);
	out[n] = '\0';
	*uri += n;
	return true;
}

/* Matches uri against a template; {name} and {file} take one non-empty
 * segment each. */
static bool path_match(const char *tpl, const char *uri, struct api_req *q)
{
	while (*tpl && *uri) {
		if (!strncmp(tpl, "{name}", 6)) {
			if (!segment(&uri, q->name, sizeof(q->name)))
				return false;
			tpl += 6;
			continue;
		}
		if (!strncmp(tpl, "{file}", 6)) {
			if (!segment(&uri, q->file, sizeof(q->file)))
				return false;
			tpl += 6;
			continue;
		}
		if (*tpl++ != *uri++)
			return false;
	}
	return !*tpl && !*uri;
}

/* Constant time in the token's content (its length is not secret). */
static bool token_equal(const char *given, size_t glen, const char *tok, size_t tlen)
{
	size_t d = glen ^ tlen, i;

	for (i = 0; i < tlen; i++)
		d |= (unsigned char)((i < glen ? given[i] : 0) ^ tok[i]);
	return d == 0;
}

/* A one-time grant (fleet queries): only a GET of an extract stream, the
 * exact path and query it was made for. */
static bool granted(struct api_rest *r, struct mg_connection *conn, const char *tok)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri ? ri->local_uri : "", *tail;
	char *pq;
	bool ok;

	if (!r->grants || strcmp(ri->request_method, "GET") ||
	    strncmp(uri, "/api/v1/captures/", 17))
		return false;
	tail = strchr(uri + 17, '/');
	if (!tail || strcmp(tail, "/extract"))
		return false;
	if (asprintf(&pq, "%s?%s", uri, ri->query_string ? ri->query_string : "") < 0)
		return false;
	ok = api_grant_take(r->grants, tok, pq);
	free(pq);
	return ok;
}

static bool authorized(struct api_rest *r, struct mg_connection *conn)
{
	const char *h;

	if (!r->token)
		return true;
	h = mg_get_header(conn, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return token_equal(h, strlen(h), r->token, r->token_len) || granted(r, conn, h);
}

static int begin_request(struct mg_connection *conn)
{
	struct api_rest *r = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri ? ri->local_uri : "/";
	bool path_seen = false;
	char allow[64] = "";
	struct api_req q;
	size_t i;
	int st;

	if (r->metrics_port && ri->server_port == r->metrics_port) {
		/* the read-only listener: the metrics, nothing else */
		if (strcmp(uri, "/metrics"))
			return api_http_error(conn, 404, "only /metrics is served here");
		if (strcmp(ri->request_method, "GET"))
			return api_http_error_hdr(conn, 405, "Allow", "GET", "only GET here");
		memset(&q, 0, sizeof(q));
		q.r = r;
		q.conn = conn;
		return api_h_metrics(&q);
	}
	if ((st = api_guard(r, conn)))
		return st;
	/* the status page holds no data: the browser gets it without a token
	 * and sends the token the user types in on its own requests */
	if (!authorized(r, conn) &&
	    !(!strcmp(uri, "/") && !strcmp(ri->request_method, "GET")))
		return api_http_error_hdr(conn, 401, "WWW-Authenticate", "Bearer",
					  "missing or wrong token");
	memset(&q, 0, sizeof(q));
	q.r = r;
	q.conn = conn;
	q.query = ri->query_string;
	for (i = 0; i < NROUTES; i++) {
		if (!path_match(routes[i].info.path, uri, &q))
			continue;
		path_seen = true;
		if (strcmp(routes[i].info.method, ri->request_method)) {
			if (strlen(allow) + strlen(routes[i].info.method) + 3 < sizeof(allow)) {
				if (allow[0])
					strcat(allow, ", ");
				strcat(allow, routes[i].info.method);
			}
			continue;
		}
		q.arg = routes[i].arg;
		return routes[i].fn(&q);
	}
	if (!path_seen)
		return api_http_error(conn, 404, "no such resource: %s", uri);
	api_http_error_hdr(conn, 405, "Allow", allow, "method %s not allowed here",
			   ri->request_method);
	return 405;
}

static int log_message(const struct mg_connection *conn, const char *msg)
{
	fprintf(stderr, "capture-appliance: http: %s\n", msg);
	return 1;
}

/* 127.0.0.0/8, ::1 and "localhost" are loopback; everything else (incl.
 * a bare port, which civetweb binds to all addresses) is not. */
bool api_rest_listen_is_loopback(const char *listen)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	struct in_addr a;
	size_t n;

	if (!colon)
		return false;
	n = (size_t)(colon - listen);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (!strcmp(host, "[::1]") || !strcmp(host, "localhost"))
		return true;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static bool is_hostname(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return false;
	return n > 0 && s[0] != '-' && s[0] != '.';
}

int api_rest_check_listen(const char *listen, char *err, size_t errlen)
{
	const char *colon = strrchr(listen, ':'), *p;
	char host[128];
	unsigned long port = 0;
	struct in6_addr a6;
	size_t n;

	if (!colon || colon == listen)
		goto bad;
	/* digits only: civetweb would take a trailing 's'/'r' as TLS/redirect */
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p || port < 1 || port > 65535) {
		snprintf(err, errlen, "listen address '%s': port must be 1..65535", listen);
		return -EINVAL;
	}
	n = (size_t)(colon - listen);
	if (n >= sizeof(host))
		goto bad;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1)
			goto bad;
		return 0;
	}
	/* an IPv4 address is a host name as far as the characters go */
	if (is_hostname(host, n))
		return 0;
bad:
	snprintf(err, errlen, "bad listen address '%s' (ADDR:PORT, e.g. 127.0.0.1:9000 "
		 "or [::1]:9000)", listen);
	return -EINVAL;
}

int api_rest_start(const struct api_rest_opts *o, struct api_rest **out,
		   char *err, size_t errlen)
{
	const char *listen = o->listen ? o->listen : API_REST_LISTEN_DEFAULT;
	char ports[320], threads[16];
	const char *opts[20];
	struct mg_callbacks cb;
	struct api_rest *r;
	int ret, n = 0;

	ret = api_rest_check_listen(listen, err, errlen);
	if (ret)
		return ret;
	if (strlen(listen) + 2 > sizeof(ports)) {
		snprintf(err, errlen, "bad listen address '%s' (ADDR:PORT)", listen);
		return -EINVAL;
	}
	if (!o->core) {
		snprintf(err, errlen, "no capture core to serve");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->core = o->core;
	r->grants = o->grants;
	r->archive_stats = o->archive_stats;
	r->archive_arg = o->archive_arg;
	r->body_limit = o->body_limit ? o->body_limit : API_REST_BODY_LIMIT_DEFAULT;
	if (o->no_auth && !api_rest_listen_is_loopback(listen)) {
		snprintf(err, errlen, "--no-auth is refused on %s: without a token only a "
			 "loopback address may be served", listen);
		ret = -EINVAL;
		goto out;
	}
	r->loopback = api_rest_listen_is_loopback(listen);
	if (o->token_file)
		ret = api_token_read(o->token_file, &r->token, &r->token_len, err, errlen);
	else if (!o->no_auth)
		ret = api_token_default(&r->token, &r->token_len, err, errlen);
	if (ret)
		goto out;
	if (o->tls_cert && !mg_check_feature(MG_FEATURES_TLS)) {
		snprintf(err, errlen, "this civetweb has no TLS support");
		ret = -ENOTSUP;
		goto out;
	}
	if (o->tls_cert && access(o->tls_cert, R_OK)) {
		ret = -errno;
		snprintf(err, errlen, "TLS certificate %s: %s", o->tls_cert, strerror(errno));
		goto out;
	}
	if (o->tls_cert && (ret = api_rest_tls_prepare(err, errlen)))
		goto out;
	if (o->metrics_listen) {
		ret = api_rest_check_listen(o->metrics_listen, err, errlen);
		if (ret)
			goto out;
		r->metrics_port = atoi(strrchr(o->metrics_listen, ':') + 1);
		if (r->metrics_port == atoi(strrchr(listen, ':') + 1)) {
			snprintf(err, errlen, "--metrics-listen needs a port of its own");
			ret = -EINVAL;
			goto out;
		}
	}
	/* civetweb marks an HTTPS port with a trailing 's' */
	snprintf(ports, sizeof(ports), "%s%s%s%s", listen, o->tls_cert ? "s" : "",
		 o->metrics_listen ? "," : "", o->metrics_listen ? o->metrics_listen : "");
	snprintf(threads, sizeof(threads), "%u", o->threads ? o->threads : API_REST_THREADS_DEFAULT);
	opts[n++] = "listening_ports";
	opts[n++] = ports;
	opts[n++] = "num_threads";
	opts[n++] = threads;
	opts[n++] = "enable_keep_alive";
	opts[n++] = "yes";
	/* a connection holds a worker while its request is read: a half-sent
	 * or idle one lets go after this; for a pull it bounds a send that
	 * makes no progress at all (the client stopped reading) */
	opts[n++] = "request_timeout_ms";
	opts[n++] = "10000";
	if (o->tls_cert) {
		opts[n++] = "ssl_certificate";
		opts[n++] = o->tls_cert;
		opts[n++] = "ssl_protocol_version";
		opts[n++] = "4"; /* TLS 1.2 and newer */
	}
	opts[n] = NULL;

	memset(&cb, 0, sizeof(cb));
	cb.begin_request = begin_request;
	cb.log_message = log_message;
	mg_init_library(o->tls_cert ? MG_FEATURES_TLS : 0);
	r->ctx = mg_start(&cb, r, opts);
	if (!r->ctx) {
		snprintf(err, errlen, "can't serve on %s%s (address in use, bad address%s?)",
			 listen, o->tls_cert ? " with TLS" : "",
			 o->tls_cert ? " or bad certificate" : "");
		ret = -EADDRINUSE;
		goto out;
	}
	*out = r;
	return 0;
out:
	free(r->token);
	free(r);
	return ret;
}

void api_rest_stop(struct api_rest *r)
{
	if (!r)
		return;
	/* streams poll this and end; mg_stop waits for every handler */
	atomic_store(&r->stopping, true);
	mg_stop(r->ctx);
	if (r->token) {
		memset(r->token, 0, r->token_len);
		free(r->token);
	}
	free(r);
}
