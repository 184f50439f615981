/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_guard: what a request must be before anyone looks at its token or
 * route. Against web pages in a browser on this host: the Host header must
 * name a loopback server when we serve loopback (DNS rebinding), a request
 * that says where it comes from (Origin) must come from us, and a body must
 * be declared JSON (a "simple" cross-site POST can't send that type without
 * a preflight, which we never answer).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>

#include "api/rest_int.h"

/* host[:port] or [v6]:port -> host, without brackets */
static bool host_part(const char *h, char *out, size_t len)
{
	const char *end;
	size_t n;

	if (h[0] == '[') {
		end = strchr(h, ']');
		if (!end)
			return false;
		h++;
	} else {
		end = strchr(h, ':');
		if (!end)
			end = h + strlen(h);
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= len)
		return false;
	memcpy(out, h, n);
	out[n] = '\0';
	return true;
}

static bool loopback_name(const char *host)
{
	struct in_addr a;

	if (!strcasecmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static bool json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct || strncasecmp(ct, "application/json", n))
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* The Origin, if any, must be this very server as the client named it. */
static bool same_origin(const char *origin, const char *host)
{
	const char *rest;

	if (!strncasecmp(origin, "http://", 7))
		rest = origin + 7;
	else if (!strncasecmp(origin, "https://", 8))
		rest = origin + 8;
	else
		return false;
	return host && !strcasecmp(rest, host);
}

int api_guard(struct api_rest *r, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *host = mg_get_header(conn, "Host");
	const char *origin = mg_get_header(conn, "Origin");
	char name[256];

	if (r->loopback && (!host || !host_part(host, name, sizeof(name)) ||
			    !loopback_name(name)))
		return api_http_error(conn, 421, "this server answers only requests for a "
					      "loopback host name (Host: 127.0.0.1:PORT)");
	if (origin && !same_origin(origin, host))
		return api_http_error(conn, 403, "cross-origin requests are refused");
	bool body = ri->content_length > 0 || mg_get_header(conn, "Transfer-Encoding");

	if (body && !json_type(mg_get_header(conn, "Content-Type")))
		return api_http_error(conn, 415, "a request body must be sent as "
					      "Content-Type: application/json");
	return 0;
}
