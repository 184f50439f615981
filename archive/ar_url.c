/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Names: the archive URL, the endpoint and object keys. Keys and prefixes
 * are kept to characters that need no escaping in a URL path, so the path
 * curl signs is the path the server sees.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "archive/ar_internal.h"

void ar_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* 1..max of name_char, not "." or "..". */
static bool seg_ok(const char *s, size_t n, size_t max)
{
	if (!n || n > max || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

int ar_parse_url(const char *url, char *bucket, size_t blen, char *prefix, size_t plen,
		 char *err, size_t errlen)
{
	const char *b, *slash, *p;
	size_t n, pl;

	if (!url || strncmp(url, "s3://", 5)) {
		ar_errf(err, errlen, "archive URL '%s': must be s3://BUCKET[/PREFIX]",
			url ? url : "");
		return -EINVAL;
	}
	b = url + 5;
	slash = strchr(b, '/');
	n = slash ? (size_t)(slash - b) : strlen(b);
	if (n < 3 || n > 63 || n >= blen) {
		ar_errf(err, errlen, "archive URL '%s': a bucket name has 3 to 63 characters", url);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && ((ch != '.' && ch != '-') || i == 0 || i == n - 1)) {
			ar_errf(err, errlen, "archive URL '%s': a bucket name is lower-case letters, "
				"digits, '.' and '-', starting and ending with a letter or digit", url);
			return -EINVAL;
		}
	}
	memcpy(bucket, b, n);
	bucket[n] = 0;
	p = slash ? slash + 1 : "";
	pl = strlen(p);
	if (pl && p[pl - 1] == '/')
		pl--;
	if (pl >= plen || pl > 512) {
		ar_errf(err, errlen, "archive URL '%s': prefix too long", url);
		return -EINVAL;
	}
	for (const char *s = p; s < p + pl;) {
		const char *e = memchr(s, '/', (size_t)(p + pl - s));
		size_t sl = e ? (size_t)(e - s) : (size_t)(p + pl - s);

		if (!seg_ok(s, sl, 255)) {
			ar_errf(err, errlen, "archive URL '%s': the prefix is made of names of "
				"letters, digits, '.', '_' and '-' joined by '/'", url);
			return -EINVAL;
		}
		s += sl + (e ? 1 : 0);
	}
	memcpy(prefix, p, pl);
	prefix[pl] = 0;
	return 0;
}

int ar_check_endpoint(const char *ep, char *err, size_t errlen)
{
	const char *h;
	size_t n;

	if (!ep || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))) {
		ar_errf(err, errlen, "S3 endpoint '%s': must be http://HOST[:PORT] or "
			"https://HOST[:PORT]", ep ? ep : "");
		return -EINVAL;
	}
	h = strstr(ep, "//") + 2;
	n = strcspn(h, "/?#@ ");
	if (!n || strlen(ep) >= sizeof(((struct ar_client *)0)->endpoint) ||
	    (h[n] && (h[n] != '/' || h[n + 1]))) {
		ar_errf(err, errlen, "S3 endpoint '%s': must be http[s]://HOST[:PORT], "
			"nothing after it", ep);
		return -EINVAL;
	}
	return 0;
}

int ar_object_key(const char *prefix, const char *sensor, const char *capture,
		  const char *basename, char *out, size_t len)
{
	int n;

	if (!sensor || !capture || !basename || !seg_ok(sensor, strlen(sensor), 255) ||
	    !seg_ok(capture, strlen(capture), 255) || !seg_ok(basename, strlen(basename), 255))
		return -EINVAL;
	n = snprintf(out, len, "%s%s%s/%s/%s", prefix && *prefix ? prefix : "",
		     prefix && *prefix ? "/" : "", sensor, capture, basename);
	return n < 0 || (size_t)n >= len || n >= AR_KEY_MAX ? -ENAMETOOLONG : 0;
}
