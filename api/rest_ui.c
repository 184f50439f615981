/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_ui: the status page at "/" (api/ui/index.html, embedded at build
 * time). It is static and holds no data, so it is served without the token
 * (rest.c); everything it shows it fetches from the API with the token the
 * user types in. The headers keep it from being framed or from loading or
 * sending anything anywhere but this server.
 */
#include <stdio.h>

#include <civetweb.h>

#include "api/rest_int.h"

int api_h_ui(struct api_req *q)
{
	char clen[32];

	snprintf(clen, sizeof(clen), "%zu", api_ui_html_len);
	mg_response_header_start(q->conn, 200);
	mg_response_header_add(q->conn, "Content-Type", "text/html; charset=utf-8", -1);
	mg_response_header_add(q->conn, "Content-Length", clen, -1);
	mg_response_header_add(q->conn, "Cache-Control", "no-store", -1);
	/* inline script and style are the page's own (no data is ever put in
	 * as markup); requests only to this origin; no framing, no forms
	 * posted anywhere, no referrer */
	mg_response_header_add(q->conn, "Content-Security-Policy",
			       "default-src 'none'; script-src 'unsafe-inline'; "
			       "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
			       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'", -1);
	mg_response_header_add(q->conn, "X-Frame-Options", "DENY", -1);
	mg_response_header_add(q->conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_add(q->conn, "Referrer-Policy", "no-referrer", -1);
	mg_response_header_send(q->conn);
	mg_write(q->conn, api_ui_html, api_ui_html_len);
	return 200;
}
