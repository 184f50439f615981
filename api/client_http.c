/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_http: the CLI's requests through libcurl, one easy handle per
 * request. libcurl brings HTTPS with certificate and host-name checks,
 * IPv6 literals, connect timeouts and bodies handed over as they arrive;
 * this file maps its errors to messages a user can act on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <curl/curl.h>

#include "api/client.h"

#define COLLECT_MAX (64u << 20)
#define CONNECT_TIMEOUT_MS 10000

int api_cli_parse_url(const char *url, struct api_cli_server *s, char *err,
		      size_t errlen)
{
	const char *p = url, *hend;
	struct in6_addr a6;
	size_t n, plen;

	memset(s, 0, sizeof(*s));
	if (!strncasecmp(p, "https://", 8)) {
		s->tls = true;
		p += 8;
	} else if (!strncasecmp(p, "http://", 7)) {
		p += 7;
	} else if (strstr(p, "://")) {
		snprintf(err, errlen, "%s: only http:// and https:// URLs are supported", url);
		return -EINVAL;
	}
	if (*p == '[') { /* [v6]:port */
		hend = strchr(p, ']');
		if (!hend)
			goto bad;
		n = (size_t)(hend - p - 1);
		if (n == 0 || n >= sizeof(s->host))
			goto bad;
		memcpy(s->host, p + 1, n);
		if (inet_pton(AF_INET6, s->host, &a6) != 1)
			goto bad;
		p = hend + 1;
	} else {
		n = strcspn(p, ":/?#@");
		if (n == 0 || n >= sizeof(s->host))
			goto bad;
		memcpy(s->host, p, n);
		p += n;
	}
	if (*p == ':') {
		const char *ps = ++p;
		long port;

		n = strspn(p, "0123456789");
		port = n && n <= 5 ? atol(ps) : 0;
		if (port < 1 || port > 65535)
			goto bad;
		p += n;
	}
	if (*p && *p != '/')
		goto bad;
	/* no port: the scheme's (80, 443), as with any URL */
	plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	if (strpbrk(url, " \t\r\n?#"))
		goto bad;
	n = snprintf(s->base, sizeof(s->base), "%s%.*s",
		     strstr(url, "://") ? "" : "http://",
		     (int)(p - url + (ptrdiff_t)plen), url);
	if (n >= sizeof(s->base))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "bad server URL '%s' (http[s]://HOST[:PORT], IPv6 as [ADDR])",
		 url);
	return -EINVAL;
}

struct xfer {
	CURL *h;
	api_cli_sink_fn sink;
	void *arg;
	struct api_cli_resp *resp;
	const volatile int *cancel;
	bool started, sink_stopped, too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct api_cli_resp *r = x->resp;
	size_t n = size * nmemb;
	char *nb;

	if (!x->started) {
		long code = 0;
		curl_off_t cl = -1;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		r->status = (int)code;
		r->total = cl >= 0 ? (long long)cl : -1;
		x->started = true;
	}
	if (x->sink && r->status >= 200 && r->status < 300) {
		if (x->sink(p, n, x->arg)) {
			x->sink_stopped = true;
			return 0; /* ends the transfer */
		}
		return n;
	}
	if (r->len + n > COLLECT_MAX) {
		x->too_big = true;
		return 0;
	}
	nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Called by libcurl about once a second even on a quiet stream. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = arg;

	if (*x->cancel) {
		x->sink_stopped = true;
		return 1;
	}
	return 0;
}

/* A message that says what to do, for the failures people meet. */
static int describe(const struct api_cli_server *s, CURL *h, CURLcode rc,
		    const char *cerr, char *err, size_t errlen)
{
	const char *why = cerr[0] ? cerr : curl_easy_strerror(rc);
	long oserr = 0;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(err, errlen, "%s: unknown host (%s)", s->host, why);
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		snprintf(err, errlen, "can't connect to %s: %s", s->base,
			 oserr ? strerror((int)oserr) : why);
		return oserr ? -(int)oserr : -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "%s: timed out (%s)", s->base, why);
		return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
		snprintf(err, errlen, "%s: the server's certificate can't be verified (%s); "
			 "give the CA that signed it (or the self-signed certificate itself) "
			 "with --cacert FILE", s->base, why);
		return -EACCES;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(err, errlen, "--cacert %s: can't read a CA certificate from it (%s)",
			 s->cacert ? s->cacert : "", why);
		return -EINVAL;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(err, errlen, "%s: TLS handshake failed (%s)", s->base, why);
		return -EPROTO;
	case CURLE_GOT_NOTHING:
		snprintf(err, errlen, "no HTTP answer from %s%s", s->base,
			 s->tls ? "" : " (an HTTPS server? use https://)");
		return -EPROTO;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(err, errlen, "%s: %s", s->base, why);
		return -ENOTSUP;
	default:
		snprintf(err, errlen, "%s: %s", s->base, why);
		return -EIO;
	}
}

int api_cli_request(const struct api_cli_server *s, const char *method,
		    const char *path, const char *body, api_cli_sink_fn sink,
		    void *arg, struct api_cli_resp *resp, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", *url = NULL, *auth = NULL;
	struct curl_slist *hdrs = NULL, *nh;
	struct xfer x = { .sink = sink, .arg = arg, .resp = resp, .cancel = s->cancel };
	CURLcode rc;
	int ret = -ENOMEM;
	long code = 0;

	memset(resp, 0, sizeof(*resp));
	resp->total = -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "libcurl failed to start");
		return -ENOMEM;
	}
	x.h = curl_easy_init();
	if (!x.h || asprintf(&url, "%s%s", s->base, path) < 0) {
		url = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (s->token && asprintf(&auth, "Authorization: Bearer %s", s->token) < 0) {
		auth = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
#define ADD_HDR(v)                                                \
	do {                                                      \
		nh = curl_slist_append(hdrs, (v));                \
		if (!nh) {                                        \
			snprintf(err, errlen, "out of memory");   \
			goto out;                                 \
		}                                                 \
		hdrs = nh;                                        \
	} while (0)
	ADD_HDR(sink ? "Accept: */*" : "Accept: application/json");
	ADD_HDR("Expect:"); /* no 100-continue round trip */
	if (auth)
		ADD_HDR(auth);
	if (body)
		ADD_HDR("Content-Type: application/json");
#undef ADD_HDR
	curl_easy_setopt(x.h, CURLOPT_URL, url);
	curl_easy_setopt(x.h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x.h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x.h, CURLOPT_USERAGENT, "capture-appliance");
	curl_easy_setopt(x.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x.h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(x.h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x.h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(s->connect_timeout_ms ? s->connect_timeout_ms
						      : CONNECT_TIMEOUT_MS));
	if (s->timeout_ms)
		curl_easy_setopt(x.h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	if (s->cancel) {
		curl_easy_setopt(x.h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(x.h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(x.h, CURLOPT_XFERINFODATA, &x);
	}
	if (s->cacert)
		curl_easy_setopt(x.h, CURLOPT_CAINFO, s->cacert);
	if (s->insecure) {
		curl_easy_setopt(x.h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(x.h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* never send the token anywhere a redirect points */
	curl_easy_setopt(x.h, CURLOPT_FOLLOWLOCATION, 0L);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(x.h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(x.h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(x.h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(x.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}

	rc = curl_easy_perform(x.h);
	curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &code);
	resp->status = (int)code;
	if ((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) && x.sink_stopped) {
		ret = 0; /* the sink had enough */
	} else if (rc == CURLE_WRITE_ERROR && x.too_big) {
		snprintf(err, errlen, "the answer is larger than %u MiB", COLLECT_MAX >> 20);
		ret = -EFBIG;
	} else if (rc == CURLE_OK && code == 0) {
		snprintf(err, errlen, "no HTTP answer from %s", s->base);
		ret = -EPROTO;
	} else if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR) {
		snprintf(err, errlen, "reading the answer: connection closed early (%s)",
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		ret = -EPROTO;
	} else if (rc != CURLE_OK) {
		ret = describe(s, x.h, rc, cerr, err, errlen);
	} else {
		ret = 0;
	}
out:
	curl_slist_free_all(hdrs);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	free(url);
	if (x.h)
		curl_easy_cleanup(x.h);
	curl_global_cleanup();
	if (ret) {
		free(resp->body);
		resp->body = NULL;
		resp->len = 0;
	}
	return ret;
}
