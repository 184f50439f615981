/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the CLI client: a minimal HTTP/1.1 client (plain sockets,
 * chunked and Content-Length bodies) for talking to the REST server. */
#ifndef API_CLIENT_INT_H
#define API_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct api_cli_server {
	char host[256];
	char port[8];
	char prefix[256]; /* path prefix of the URL, "" usually */
	const char *token; /* NULL: no Authorization header */
	int timeout_ms;	   /* per connect/read; 0: none (pull) */
};

/* Parses http://HOST[:PORT][/PREFIX] (IPv6 as [ADDR]). -EINVAL with a
 * reason in err; -ENOTSUP for https (the CLI speaks plain HTTP). */
int api_cli_parse_url(const char *url, struct api_cli_server *s, char *err,
		      size_t errlen);

/* Receives the body bytes as they arrive; a non-zero return aborts. */
typedef int (*api_cli_sink_fn)(const void *buf, size_t len, void *arg);

struct api_cli_resp {
	int status;
	char *body; /* collected body (NUL-terminated) when no sink took it */
	size_t len;
};

/* One request. With sink, a 2xx body streams into it; otherwise (and for
 * errors) the body is collected in resp->body (free it). -errno with err
 * on connection or protocol errors. */
int api_cli_request(const struct api_cli_server *s, const char *method,
		    const char *path, const char *body, api_cli_sink_fn sink,
		    void *arg, struct api_cli_resp *resp, char *err, size_t errlen);

#endif
