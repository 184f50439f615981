/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A file's MD5 (Content-MD5, and the ETag S3 gives a single-part object)
 * and SHA-256 (x-amz-content-sha256, signed with the request), in one
 * read, by OpenSSL's libcrypto; the same for each part of a multipart
 * upload, and the ETag S3 gives the whole (the MD5 of the parts' MD5s).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archive/ar_internal.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[2 * n] = 0;
}

int ar_digest_range(int fd, uint64_t from, uint64_t len, struct ar_digest *d)
{
	const size_t chunk = 1 << 20;
	EVP_MD_CTX *m = EVP_MD_CTX_new(), *s = EVP_MD_CTX_new();
	unsigned char *buf = malloc(chunk), sha[32];
	unsigned int ml = 0, sl = 0;
	uint64_t off = 0;
	ssize_t got = 0;
	int ret = -ENOMEM;

	if (!m || !s || !buf)
		goto out;
	ret = -EIO;
	if (!EVP_DigestInit_ex(m, EVP_md5(), NULL) || !EVP_DigestInit_ex(s, EVP_sha256(), NULL))
		goto out;
	while (off < len &&
	       (got = pread(fd, buf, len - off < chunk ? (size_t)(len - off) : chunk,
			    (off_t)(from + off))) > 0) {
		if (!EVP_DigestUpdate(m, buf, (size_t)got) || !EVP_DigestUpdate(s, buf, (size_t)got))
			goto out;
		off += (uint64_t)got;
	}
	if (got < 0) {
		ret = -errno;
		goto out;
	}
	if (!EVP_DigestFinal_ex(m, d->md5, &ml) || !EVP_DigestFinal_ex(s, sha, &sl) ||
	    ml != 16 || sl != 32)
		goto out;
	d->bytes = off;
	hex(d->md5, 16, d->md5hex);
	hex(sha, 32, d->sha256hex);
	EVP_EncodeBlock((unsigned char *)d->md5b64, d->md5, 16);
	ret = 0;
out:
	EVP_MD_CTX_free(m);
	EVP_MD_CTX_free(s);
	free(buf);
	return ret;
}

int ar_digest_fd(int fd, struct ar_digest *d)
{
	return ar_digest_range(fd, 0, UINT64_MAX, d);
}

int ar_multipart_etag(const struct ar_digest *parts, unsigned int n, char *out, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char md5[16];
	unsigned int ml = 0;
	char h[33];
	int ret = -EIO;

	if (!m)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(m, EVP_md5(), NULL))
		goto out;
	for (unsigned int i = 0; i < n; i++)
		if (!EVP_DigestUpdate(m, parts[i].md5, 16))
			goto out;
	if (!EVP_DigestFinal_ex(m, md5, &ml) || ml != 16)
		goto out;
	hex(md5, 16, h);
	snprintf(out, len, "%s-%u", h, n);
	ret = 0;
out:
	EVP_MD_CTX_free(m);
	return ret;
}

int ar_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char sha[32];
	unsigned int sl = 0;

	if (!EVP_Digest(buf, len, sha, &sl, EVP_sha256(), NULL) || sl != 32)
		return -EIO;
	hex(sha, 32, out);
	return 0;
}
