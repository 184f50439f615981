/* SPDX-License-Identifier: BSD-2-Clause */
/* The HTTP client of the CLI and of the Wireshark extcap program, on
 * libcurl: HTTP and HTTPS (certificates checked), IPv6, a connect timeout,
 * bodies streamed to a sink as they arrive. */
#ifndef API_CLIENT_INT_H
#define API_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct api_cli_server {
	char base[512];	    /* scheme://host[:port][/prefix], no trailing '/' */
	char host[256];	    /* for messages; IPv6 without brackets */
	bool tls;	    /* https:// */
	const char *token;  /* NULL: no Authorization header */
	const char *cacert; /* PEM file of the CA(s) to trust; NULL: the system's */
	bool insecure;	    /* https without certificate checks (--insecure) */
	int connect_timeout_ms; /* 0: 10 s */
	int timeout_ms;	    /* whole request; 0: none (pull, download) */
	/* when set and *cancel becomes non-zero (a signal handler), the
	 * request ends within about a second as if the sink had had enough */
	const volatile int *cancel;
};

/* Parses http[s]://HOST[:PORT][/PREFIX] (IPv6 as [ADDR]) into s (zeroed
 * first). -EINVAL with a reason in err. */
int api_cli_parse_url(const char *url, struct api_cli_server *s, char *err,
		      size_t errlen);

/* Receives the body bytes as they arrive; a non-zero return aborts. */
typedef int (*api_cli_sink_fn)(const void *buf, size_t len, void *arg);

struct api_cli_resp {
	int status;
	char *body; /* collected body (NUL-terminated) when no sink took it */
	size_t len;
	long long total; /* Content-Length, -1 if unknown; set before the sink's
			  * first call */
};

/* One request. With sink, a 2xx body streams into it; otherwise (and for
 * errors) the body is collected in resp->body (free it). -errno with err
 * on connection, TLS or protocol errors. A sink that returns non-zero ends
 * the transfer without an error. */
int api_cli_request(const struct api_cli_server *s, const char *method,
		    const char *path, const char *body, api_cli_sink_fn sink,
		    void *arg, struct api_cli_resp *resp, char *err, size_t errlen);

#endif
