/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A file's MD5 (Content-MD5, and the ETag S3 gives a single-part object)
 * and SHA-256 (x-amz-content-sha256, signed with the request), in one
 * read, by OpenSSL's libcrypto; in the same read, the same for each part of
 * a multipart upload, and the ETag S3 gives the whole (the MD5 of the
 * parts' MD5s).
 */
#include <errno.h>
#include <stdbool.h>
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

/* One running MD5 and SHA-256. */
struct ar_md {
	EVP_MD_CTX *md5, *sha;
	uint64_t bytes;
};

static int md_begin(struct ar_md *m)
{
	m->bytes = 0;
	if (!m->md5 && !(m->md5 = EVP_MD_CTX_new()))
		return -ENOMEM;
	if (!m->sha && !(m->sha = EVP_MD_CTX_new()))
		return -ENOMEM;
	if (!EVP_DigestInit_ex(m->md5, EVP_md5(), NULL) ||
	    !EVP_DigestInit_ex(m->sha, EVP_sha256(), NULL))
		return -EIO;
	return 0;
}

static int md_add(struct ar_md *m, const void *buf, size_t len)
{
	if (!EVP_DigestUpdate(m->md5, buf, len) || !EVP_DigestUpdate(m->sha, buf, len))
		return -EIO;
	m->bytes += len;
	return 0;
}

static int md_end(struct ar_md *m, struct ar_digest *d)
{
	unsigned char sha[32];
	unsigned int ml = 0, sl = 0;

	if (!EVP_DigestFinal_ex(m->md5, d->md5, &ml) || !EVP_DigestFinal_ex(m->sha, sha, &sl) ||
	    ml != 16 || sl != 32)
		return -EIO;
	d->bytes = m->bytes;
	hex(d->md5, 16, d->md5hex);
	hex(sha, 32, d->sha256hex);
	EVP_EncodeBlock((unsigned char *)d->md5b64, d->md5, 16);
	return 0;
}

static void md_free(struct ar_md *m)
{
	EVP_MD_CTX_free(m->md5);
	EVP_MD_CTX_free(m->sha);
}

/* Ends the running part p as the next of *pd (n so far, cap room), and
 * begins the next part. Past AR_PARTS_MAX parts nothing more is kept:
 * *over is set, and the caller refuses the file by its size. */
static int part_end(struct ar_md *p, struct ar_digest **pd, unsigned int *n, unsigned int *cap,
		    bool *over)
{
	struct ar_digest d, *grown;
	int ret = md_end(p, &d);

	if (ret)
		return ret;
	if (*n == AR_PARTS_MAX)
		*over = true;
	if (*over)
		return md_begin(p);
	if (*n == *cap) {
		grown = realloc(*pd, (*cap ? 2 * *cap : 16) * sizeof(**pd));
		if (!grown)
			return -ENOMEM;
		*pd = grown;
		*cap = *cap ? 2 * *cap : 16;
	}
	(*pd)[(*n)++] = d;
	return md_begin(p);
}

int ar_digest_file(int fd, uint64_t part, struct ar_digest *whole, struct ar_digest **parts,
		   unsigned int *n)
{
	const size_t chunk = 1 << 20;
	struct ar_md w = { 0 }, p = { 0 };
	struct ar_digest *pd = NULL;
	unsigned char *buf = malloc(chunk);
	unsigned int np = 0, cap = 0;
	bool over = false;
	size_t take, at;
	uint64_t off = 0;
	ssize_t got;
	int ret;

	if (parts) {
		*parts = NULL;
		*n = 0;
	}
	ret = buf ? md_begin(&w) : -ENOMEM;
	if (!ret && parts)
		ret = md_begin(&p);
	while (!ret && (got = pread(fd, buf, chunk, (off_t)off)) != 0) {
		if (got < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		off += (uint64_t)got;
		ret = md_add(&w, buf, (size_t)got);
		/* the parts: cut at every multiple of part bytes */
		for (at = 0; !ret && parts && at < (size_t)got; at += take) {
			take = (size_t)got - at;
			if (take > part - p.bytes)
				take = (size_t)(part - p.bytes);
			ret = md_add(&p, buf + at, take);
			if (!ret && p.bytes == part)
				ret = part_end(&p, &pd, &np, &cap, &over);
		}
	}
	if (!ret)
		ret = md_end(&w, whole);
	/* the last, shorter part */
	if (!ret && parts && p.bytes)
		ret = part_end(&p, &pd, &np, &cap, &over);
	/* parts only for a file above one part, and not past S3's limit */
	if (!ret && parts && whole->bytes > part && !over) {
		*parts = pd;
		*n = np;
		pd = NULL;
	}
	md_free(&w);
	md_free(&p);
	free(pd);
	free(buf);
	return ret;
}

int ar_digest_fd(int fd, struct ar_digest *d)
{
	return ar_digest_file(fd, 0, d, NULL, NULL);
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
