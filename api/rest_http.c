/* SPDX-License-Identifier: BSD-2-Clause */
/* rest_http: small response/request helpers over civetweb. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "api/rest_int.h"

static int send_bytes(struct mg_connection *conn, int status, const char *type,
		      const char *body, size_t len, const char *hname, const char *hval)
{
	char clen[32];

	snprintf(clen, sizeof(clen), "%zu", len);
	mg_response_header_start(conn, status);
	if (hname)
		mg_response_header_add(conn, hname, hval, -1);
	if (type)
		mg_response_header_add(conn, "Content-Type", type, -1);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	mg_response_header_send(conn);
	if (len)
		mg_write(conn, body, len);
	return status;
}

int api_http_json(struct mg_connection *conn, int status, cJSON *body)
{
	char *text;

	if (!body)
		return api_http_error(conn, 500, "out of memory");
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!text)
		return api_http_error(conn, 500, "out of memory");
	send_bytes(conn, status, "application/json", text, strlen(text), NULL, NULL);
	free(text);
	return status;
}

static int verror(struct mg_connection *conn, int status, const char *hname,
		  const char *hval, const char *fmt, va_list ap)
{
	char msg[1536];
	cJSON *o;
	char *text;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "error", msg) &&
	    (text = cJSON_PrintUnformatted(o))) {
		send_bytes(conn, status, "application/json", text, strlen(text), hname, hval);
		free(text);
	} else {
		static const char oom[] = "{\"error\":\"out of memory\"}";

		send_bytes(conn, status, "application/json", oom, sizeof(oom) - 1, hname,
			   hval);
	}
	cJSON_Delete(o);
	return status;
}

int api_http_error(struct mg_connection *conn, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(conn, status, NULL, NULL, fmt, ap);
	va_end(ap);
	return status;
}

int api_http_error_hdr(struct mg_connection *conn, int status, const char *hname,
		       const char *hval, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(conn, status, hname, hval, fmt, ap);
	va_end(ap);
	return status;
}

int api_http_no_content(struct mg_connection *conn)
{
	mg_response_header_start(conn, 204);
	mg_response_header_send(conn);
	return 204;
}

int api_http_body(struct mg_connection *conn, size_t limit, char **out, size_t *len)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	size_t cap = 4096, n = 0;
	char *buf, *nb;
	int r;

	/* refuse early on a declared length; chunked bodies are counted */
	if (ri->content_length > 0 && (unsigned long long)ri->content_length > limit)
		return -E2BIG;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > limit) {
				free(buf);
				return -E2BIG;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = mg_read(conn, buf + n, cap - n);
		if (r < 0) {
			free(buf);
			return -EIO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > limit) {
			free(buf);
			return -E2BIG;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

cJSON *api_http_json_body(struct api_req *q)
{
	char *body, err[256];
	cJSON *v = NULL;
	size_t len;
	int ret;

	ret = api_http_body(q->conn, q->r->body_limit, &body, &len);
	if (ret == -E2BIG) {
		/* the rest stays unread; civetweb then closes the connection */
		api_http_error(q->conn, 400, "request body larger than %zu bytes",
			       q->r->body_limit);
		return NULL;
	}
	if (ret) {
		api_http_error(q->conn, 400, "can't read the request body");
		return NULL;
	}
	/* nesting bounded and strict JSON before cJSON recurses into it */
	ret = api_json_parse(body, len, &v, err, sizeof(err));
	if (ret)
		api_http_error(q->conn, ret == -EINVAL ? 400 : 500, "%s", err);
	free(body);
	return v;
}

int api_http_query_u64(const char *query, const char *key, unsigned long long *v)
{
	char buf[64], *end;
	int n;

	if (!query)
		return 0;
	n = mg_get_var(query, strlen(query), key, buf, sizeof(buf));
	if (n == -1)
		return 0;
	if (n < 0 || !buf[0] || buf[0] == '-' || buf[0] == '+')
		return -EINVAL;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 1;
}
