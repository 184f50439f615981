/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * S3 requests with libcurl: path-style URLs, AWS SigV4 by curl itself
 * (CURLOPT_AWS_SIGV4), the payload's SHA-256 in x-amz-content-sha256 (S3
 * and Swift's s3api require it, and it is signed), Content-MD5 on every
 * PUT (the server refuses a body that arrived damaged), and on each part
 * of a multipart upload (files above the part size). One easy handle
 * per request: requests are seconds apart, and nothing is shared between
 * threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "archive/ar_internal.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define BODY_MAX (8u << 20) /* an error answer or one listing page */

struct req {
	const char *method;
	char url[2048];
	const char *sha256hex;
	const char *md5b64;
	int in_fd;
	uint64_t in_bytes, in_off; /* PUT: file bytes [in_off, in_bytes) */
	const char *post;	/* POST: the body (post_len bytes) */
	size_t post_len;
	int out_fd;		/* GET: a 2xx body goes here */
	uint64_t out_bytes;
	int out_err;
	CURL *h;
	char *body;		/* other bodies (capped) */
	size_t body_len;
	uint64_t rate;
	uint64_t clen;
	bool has_clen;
	char etag[80];
	long status;
};

int ar_client_open(const struct ar_target *t, struct ar_client **out, char *err,
		   size_t errlen)
{
	struct ar_client *c;
	size_t n;
	int ret;

	/* once, before any request (thread-safe in this libcurl) */
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = ar_parse_url(t->url, c->bucket, sizeof(c->bucket), c->prefix, sizeof(c->prefix),
			   err, errlen);
	if (!ret)
		ret = ar_check_endpoint(t->endpoint, err, errlen);
	if (!ret && !t->cred_file) {
		ar_errf(err, errlen, "an S3 credentials file is required");
		ret = -EINVAL;
	}
	if (!ret)
		ret = ar_cred_load(t->cred_file, c->key, sizeof(c->key), c->secret,
				   sizeof(c->secret), err, errlen);
	if (ret)
		goto fail;
	snprintf(c->endpoint, sizeof(c->endpoint), "%s", t->endpoint);
	n = strlen(c->endpoint);
	if (n && c->endpoint[n - 1] == '/')
		c->endpoint[n - 1] = 0;
	n = strlen(t->region ? t->region : AR_REGION_DEFAULT);
	if (!n || n >= sizeof(c->region) ||
	    strspn(t->region ? t->region : AR_REGION_DEFAULT,
		   "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
		ar_errf(err, errlen, "S3 region '%s': lower-case letters, digits and '-'",
			t->region);
		ret = -EINVAL;
		goto fail;
	}
	snprintf(c->region, sizeof(c->region), "%s", t->region ? t->region : AR_REGION_DEFAULT);
	*out = c;
	return 0;
fail:
	ar_client_close(c);
	return ret;
}

void ar_client_close(struct ar_client *c)
{
	if (!c)
		return;
	explicit_bzero(c->secret, sizeof(c->secret));
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c);
}

const char *ar_client_prefix(const struct ar_client *c)
{
	return c->prefix;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t want = size * n;
	ssize_t got;

	if (r->in_off >= r->in_bytes)
		return 0;
	if (want > r->in_bytes - r->in_off)
		want = (size_t)(r->in_bytes - r->in_off);
	got = pread(r->in_fd, buf, want, (off_t)r->in_off);
	if (got <= 0)
		return CURL_READFUNC_ABORT; /* shorter than hashed: the file changed */
	r->in_off += (uint64_t)got;
	return (size_t)got;
}

static size_t on_write(char *buf, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;

	if (!r->status)
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->out_fd >= 0 && r->status / 100 == 2) {
		for (size_t done = 0; done < len;) {
			ssize_t w = write(r->out_fd, buf + done, len - done);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				r->out_err = -errno;
				return 0;
			}
			done += (size_t)w;
		}
		r->out_bytes += len;
		return len;
	}
	if (r->body_len + len > BODY_MAX)
		return 0;
	char *b = realloc(r->body, r->body_len + len + 1);

	if (!b)
		return 0;
	memcpy(b + r->body_len, buf, len);
	r->body = b;
	r->body_len += len;
	b[r->body_len] = 0;
	return len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;
	char line[256];

	if (len >= sizeof(line))
		return len;
	memcpy(line, buf, len);
	line[len] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (!strncasecmp(line, "HTTP/", 5)) { /* a new answer (after 100 Continue) */
		r->has_clen = false;
		r->etag[0] = 0;
	} else if (!strncasecmp(line, "content-length:", 15)) {
		r->clen = strtoull(line + 15, NULL, 10);
		r->has_clen = true;
	} else if (!strncasecmp(line, "etag:", 5)) {
		const char *v = line + 5;
		size_t vl;

		v += strspn(v, " \t\"");
		vl = strcspn(v, "\"");
		if (vl < sizeof(r->etag)) {
			memcpy(r->etag, v, vl);
			r->etag[vl] = 0;
		}
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const _Atomic bool *cancel = arg;

	return atomic_load(cancel) ? 1 : 0;
}

/* Runs r: 0 with r->status, or -EHOSTUNREACH/-ETIMEDOUT/-EIO when no
 * answer came (the reason in err). */
static int perform(struct ar_client *c, struct req *r, char *err, size_t errlen)
{
	struct curl_slist *hd = NULL;
	char sigv4[128], h[160];
	CURLcode cc;
	int ret = 0;

	if (c->keep_handle && c->h) {
		r->h = c->h;
		curl_easy_reset(r->h); /* options go, open connections stay */
	} else {
		r->h = curl_easy_init();
		if (!r->h)
			return -ENOMEM;
		if (c->keep_handle)
			c->h = r->h;
	}
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", c->region);
	snprintf(h, sizeof(h), "x-amz-content-sha256: %s",
		 r->sha256hex ? r->sha256hex : EMPTY_SHA256);
	hd = curl_slist_append(hd, h);
	if (r->md5b64) {
		snprintf(h, sizeof(h), "Content-MD5: %s", r->md5b64);
		hd = curl_slist_append(hd, h);
		hd = curl_slist_append(hd, "Content-Type: application/octet-stream");
	}
	if (!hd) {
		ret = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(r->h, CURLOPT_URL, r->url);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(r->h, CURLOPT_USERNAME, c->key);
	curl_easy_setopt(r->h, CURLOPT_PASSWORD, c->secret);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* stalled (or the server gone mid-transfer): give up, retry later */
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->cancel) {
		curl_easy_setopt(r->h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(r->h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(r->h, CURLOPT_XFERINFODATA, (void *)c->cancel);
	}
	if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(r->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(r->h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(r->h, CURLOPT_READDATA, r);
		curl_easy_setopt(r->h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(r->in_bytes - r->in_off));
		if (r->rate)
			curl_easy_setopt(r->h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)r->rate);
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(r->h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(r->h, CURLOPT_POST, 1L);
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->post ? r->post : "");
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->post_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	cc = curl_easy_perform(r->h);
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->out_err) {
		ret = r->out_err;
		ar_errf(err, errlen, "writing the download: %s", strerror(-ret));
	} else if (cc != CURLE_OK) {
		ret = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
		      : cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
											: -EIO;
		ar_errf(err, errlen, "%s %s: %s", r->method, c->endpoint, curl_easy_strerror(cc));
	}
out:
	curl_slist_free_all(hd);
	if (r->h != c->h)
		curl_easy_cleanup(r->h);
	r->h = NULL;
	return ret;
}

static void xml_text(const char *from, const char *to, char *out, size_t len)
{
	static const struct { const char *e; char c; } ent[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t o = 0;

	while (from < to && o + 1 < len) {
		size_t i;

		for (i = 0; i < 5; i++) {
			size_t el = strlen(ent[i].e);

			if ((size_t)(to - from) >= el && !strncmp(from, ent[i].e, el)) {
				out[o++] = ent[i].c;
				from += el;
				break;
			}
		}
		if (i == 5)
			out[o++] = *from++;
	}
	out[o] = 0;
}

/* The text of the first <tag> in [s, end) into out; false if none. */
static bool xml_get(const char *s, const char *end, const char *tag, char *out, size_t len)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(s, open);
	if (!a || a >= end)
		return false;
	a += strlen(open);
	b = strstr(a, close);
	if (!b || b > end)
		return false;
	xml_text(a, b, out, len);
	return true;
}

void ar_s3_error(long status, const char *body, char *err, size_t errlen)
{
	char code[128] = "", msg[256] = "";

	if (body) {
		xml_get(body, body + strlen(body), "Code", code, sizeof(code));
		xml_get(body, body + strlen(body), "Message", msg, sizeof(msg));
	}
	if (code[0])
		ar_errf(err, errlen, "HTTP %ld: %s: %s", status, code, msg);
	else
		ar_errf(err, errlen, "HTTP %ld", status);
}

static int object_url(struct ar_client *c, const char *key, struct req *r)
{
	int n = snprintf(r->url, sizeof(r->url), "%s/%s/%s", c->endpoint, c->bucket, key);

	return n < 0 || (size_t)n >= sizeof(r->url) ? -ENAMETOOLONG : 0;
}

static int status_err(struct req *r, const char *what, char *err, size_t errlen)
{
	char e[400];

	ar_s3_error(r->status, r->body, e, sizeof(e));
	ar_errf(err, errlen, "%s: %s", what, e);
	switch (r->status) {
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int ar_s3_put(struct ar_client *c, const char *key, int fd, const struct ar_digest *d,
	      uint64_t rate, char *err, size_t errlen)
{
	struct req r = { .method = "PUT", .sha256hex = d->sha256hex, .md5b64 = d->md5b64,
			 .in_fd = fd, .in_bytes = d->bytes, .out_fd = -1, .rate = rate };
	int ret = object_url(c, key, &r);

	if (!ret)
		ret = perform(c, &r, err, errlen);
	if (!ret && r.status / 100 != 2)
		ret = status_err(&r, key, err, errlen);
	else if (!ret && strcasecmp(r.etag, d->md5hex)) {
		ar_errf(err, errlen, "PUT %s: ETag '%s' is not the MD5 sent (%s)", key, r.etag,
			d->md5hex);
		ret = -EIO;
	}
	free(r.body);
	return ret;
}

int ar_s3_head(struct ar_client *c, const char *key, uint64_t *bytes, char *etag,
	       size_t etaglen, char *err, size_t errlen)
{
	struct req r = { .method = "HEAD", .out_fd = -1 };
	int ret = object_url(c, key, &r);

	if (!ret)
		ret = perform(c, &r, err, errlen);
	if (!ret && r.status / 100 != 2)
		ret = status_err(&r, key, err, errlen);
	if (!ret) {
		*bytes = r.has_clen ? r.clen : UINT64_MAX;
		snprintf(etag, etaglen, "%s", r.etag);
	}
	free(r.body);
	return ret;
}

/* key's URL with a query (given in the order SigV4 sorts parameters). */
static int query_url(struct ar_client *c, const char *key, struct req *r, const char *fmt,
		     const char *id, unsigned int part)
{
	char q[1024];
	int n;

	if (fmt)
		n = snprintf(q, sizeof(q), fmt, part, id);
	else
		n = snprintf(q, sizeof(q), "uploadId=%s", id);
	if (n < 0 || (size_t)n >= sizeof(q))
		return -ENAMETOOLONG;
	n = snprintf(r->url, sizeof(r->url), "%s/%s/%s?%s", c->endpoint, c->bucket, key, q);
	return n < 0 || (size_t)n >= sizeof(r->url) ? -ENAMETOOLONG : 0;
}

/* POST with body (NUL-terminated): 0 with r->body, or an error. S3 may
 * answer 200 with an <Error> inside (CompleteMultipartUpload). */
static int post(struct ar_client *c, struct req *r, const char *what, const char *body,
		char *err, size_t errlen)
{
	char sha[65];
	int ret;

	r->method = "POST";
	r->out_fd = -1;
	r->post = body;
	r->post_len = strlen(body);
	ret = ar_sha256_hex(body, r->post_len, sha);
	if (ret)
		return ret;
	r->sha256hex = sha;
	ret = perform(c, r, err, errlen);
	r->sha256hex = NULL;
	if (!ret && (r->status / 100 != 2 || (r->body && strstr(r->body, "<Error>"))))
		ret = status_err(r, what, err, errlen);
	if (!ret && r->status / 100 != 2)
		ret = -EIO;
	return ret;
}

int ar_s3_multipart(struct ar_client *c, const char *key, int fd, uint64_t part,
		    const struct ar_digest *parts, unsigned int n, uint64_t rate, char *err,
		    size_t errlen)
{
	char id[512], *eid = NULL, *xml = NULL, what[AR_KEY_MAX + 64];
	struct req r = { .out_fd = -1 };
	size_t cap = 128 + (size_t)n * 128, len;
	unsigned int i;
	CURL *e = NULL;
	int ret;

	snprintf(what, sizeof(what), "%s (multipart)", key);
	ret = object_url(c, key, &r);
	if (ret)
		return ret;
	/* create: "uploads" with an empty value, as SigV4 signs it */
	len = strlen(r.url);
	if (len + 10 >= sizeof(r.url))
		return -ENAMETOOLONG;
	memcpy(r.url + len, "?uploads=", 10);
	ret = post(c, &r, what, "", err, errlen);
	if (!ret && (!r.body || !xml_get(r.body, r.body + r.body_len, "UploadId", id, sizeof(id)) ||
		     !id[0])) {
		ar_errf(err, errlen, "%s: no UploadId in the answer", what);
		ret = -EIO;
	}
	free(r.body);
	if (ret)
		return ret;
	e = curl_easy_init();
	eid = e ? curl_easy_escape(e, id, 0) : NULL;
	xml = malloc(cap);
	if (!eid || !xml) {
		ret = -ENOMEM;
		goto abort;
	}
	len = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
	for (i = 0; i < n; i++) {
		r = (struct req){ .method = "PUT", .sha256hex = parts[i].sha256hex,
				  .md5b64 = parts[i].md5b64, .in_fd = fd, .in_off = i * part,
				  .in_bytes = i * part + parts[i].bytes, .out_fd = -1,
				  .rate = rate };
		ret = query_url(c, key, &r, "partNumber=%u&uploadId=%s", eid, i + 1);
		if (!ret)
			ret = perform(c, &r, err, errlen);
		if (!ret && r.status / 100 != 2)
			ret = status_err(&r, what, err, errlen);
		else if (!ret && strcasecmp(r.etag, parts[i].md5hex)) {
			ar_errf(err, errlen, "%s: part %u: ETag '%s' is not the MD5 sent (%s)",
				what, i + 1, r.etag, parts[i].md5hex);
			ret = -EIO;
		}
		free(r.body);
		if (ret)
			goto abort;
		len += (size_t)snprintf(xml + len, cap - len,
					"<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
					i + 1, parts[i].md5hex);
	}
	snprintf(xml + len, cap - len, "</CompleteMultipartUpload>");
	r = (struct req){ .out_fd = -1 };
	ret = query_url(c, key, &r, NULL, eid, 0);
	if (!ret)
		ret = post(c, &r, what, xml, err, errlen);
	free(r.body);
	if (!ret)
		goto out;
abort:
	/* best effort: the parts would otherwise stay, billed and invisible */
	r = (struct req){ .method = "DELETE", .out_fd = -1 };
	if (eid && !query_url(c, key, &r, NULL, eid, 0)) {
		char ignore[256];

		perform(c, &r, ignore, sizeof(ignore));
		free(r.body);
	}
out:
	curl_free(eid);
	curl_easy_cleanup(e);
	free(xml);
	return ret;
}

int ar_probe(struct ar_client *c, char *err, size_t errlen)
{
	struct req r = { .method = "HEAD", .out_fd = -1 };
	char what[128];
	int ret;

	snprintf(r.url, sizeof(r.url), "%s/%s", c->endpoint, c->bucket);
	ret = perform(c, &r, err, errlen);
	if (ret)
		return ret == -EIO ? -EHOSTUNREACH : ret;
	if (r.status / 100 == 2)
		ret = 0;
	else if (r.status == 403 || r.status == 401)
		ret = -EACCES;
	else if (r.status == 404)
		ret = -ENOENT;
	else
		ret = -EIO;
	snprintf(what, sizeof(what), "bucket %s", c->bucket);
	if (ret == -EACCES)
		ar_errf(err, errlen, "bucket %s at %s: HTTP %ld: access refused (wrong "
			"credentials, or no rights on the bucket)", c->bucket, c->endpoint, r.status);
	else if (ret == -ENOENT)
		ar_errf(err, errlen, "bucket %s at %s: no such bucket", c->bucket, c->endpoint);
	else if (ret)
		status_err(&r, what, err, errlen);
	free(r.body);
	return ret;
}

int ar_get(struct ar_client *c, const char *key, int fd, uint64_t *bytes, char *err,
	   size_t errlen)
{
	struct req r = { .method = "GET", .out_fd = fd };
	int ret = object_url(c, key, &r);

	if (!ret)
		ret = perform(c, &r, err, errlen);
	if (!ret && r.status / 100 != 2)
		ret = status_err(&r, key, err, errlen);
	if (!ret && r.has_clen && r.clen != r.out_bytes) {
		ar_errf(err, errlen, "GET %s: %llu of %llu bytes", key,
			(unsigned long long)r.out_bytes, (unsigned long long)r.clen);
		ret = -EIO;
	}
	if (!ret && bytes)
		*bytes = r.out_bytes;
	free(r.body);
	return ret;
}

int ar_list(struct ar_client *c, const char *prefix, ar_list_fn fn, void *arg, char *err,
	    size_t errlen)
{
	char token[1024] = "", trunc[16], key[AR_KEY_MAX], size[32], etag[80];
	CURL *e = curl_easy_init();
	int ret = 0;

	if (!e)
		return -ENOMEM;
	do {
		struct req r = { .method = "GET", .out_fd = -1 };
		char *ep = curl_easy_escape(e, prefix ? prefix : "", 0);
		char *et = curl_easy_escape(e, token, 0);
		const char *s, *end;
		int n;

		if (!ep || !et) {
			curl_free(ep);
			curl_free(et);
			ret = -ENOMEM;
			break;
		}
		/* query parameters in the order SigV4 sorts them */
		n = snprintf(r.url, sizeof(r.url), "%s/%s?%s%s%slist-type=2&prefix=%s", c->endpoint,
			     c->bucket, token[0] ? "continuation-token=" : "", token[0] ? et : "",
			     token[0] ? "&" : "", ep);
		curl_free(ep);
		curl_free(et);
		if (n < 0 || (size_t)n >= sizeof(r.url)) {
			ret = -ENAMETOOLONG;
			break;
		}
		ret = perform(c, &r, err, errlen);
		if (!ret && r.status / 100 != 2)
			ret = status_err(&r, "listing", err, errlen);
		if (!ret && !r.body) {
			ar_errf(err, errlen, "listing: empty answer");
			ret = -EIO;
		}
		token[0] = 0;
		for (s = ret ? NULL : r.body; s && (s = strstr(s, "<Contents>"));) {
			end = strstr(s, "</Contents>");
			if (!end)
				break;
			if (!xml_get(s, end, "Key", key, sizeof(key)) ||
			    !xml_get(s, end, "Size", size, sizeof(size))) {
				ar_errf(err, errlen, "listing: an entry without Key or Size");
				ret = -EIO;
				break;
			}
			if (!xml_get(s, end, "ETag", etag, sizeof(etag)))
				etag[0] = 0;
			/* quotes around ETags are part of S3's value; ours go without */
			size_t el = strlen(etag);

			if (el >= 2 && etag[0] == '"' && etag[el - 1] == '"') {
				memmove(etag, etag + 1, el - 2);
				etag[el - 2] = 0;
			}
			ret = fn(arg, key, strtoull(size, NULL, 10), etag);
			if (ret)
				break;
			s = end;
		}
		if (!ret && r.body && xml_get(r.body, r.body + r.body_len, "IsTruncated", trunc,
					      sizeof(trunc)) && !strcmp(trunc, "true") &&
		    !xml_get(r.body, r.body + r.body_len, "NextContinuationToken", token,
			     sizeof(token))) {
			ar_errf(err, errlen, "listing: truncated without a continuation token");
			ret = -EIO;
		}
		free(r.body);
	} while (!ret && token[0]);
	curl_easy_cleanup(e);
	return ret;
}
