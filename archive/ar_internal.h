/* SPDX-License-Identifier: BSD-2-Clause */
/* What the files of archive/ share. */
#ifndef AR_INTERNAL_H
#define AR_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "archive/archive.h"

struct ar_client {
	char bucket[64];
	char prefix[512];
	char endpoint[512]; /* without a trailing '/' */
	char region[64];
	char key[256], secret[256];
	/* set: a transfer stops once it is true (ar_close) */
	const _Atomic bool *cancel;
	/* the archiver's client (one thread): one handle for every request,
	 * so its connections are kept alive; else a handle per request */
	bool keep_handle;
	void *h; /* CURL * */
};

/* A file's digests (libcrypto), computed from fd. */
struct ar_digest {
	uint64_t bytes;
	unsigned char md5[16];
	char md5hex[33];
	char md5b64[25];
	char sha256hex[65];
};
int ar_digest_fd(int fd, struct ar_digest *d);
/* The whole file's digests and, in the same read, those of each part of
 * part bytes: *parts (n of them, the caller frees) only for a file larger
 * than one part and of at most AR_PARTS_MAX parts, else NULL and 0. */
int ar_digest_file(int fd, uint64_t part, struct ar_digest *whole, struct ar_digest **parts,
		   unsigned int *n);
/* The ETag S3 gives a multipart object: hex MD5 of the parts' MD5s, "-N". */
int ar_multipart_etag(const struct ar_digest *parts, unsigned int n, char *out, size_t len);
int ar_sha256_hex(const void *buf, size_t len, char out[65]);
/* S3's limits of a multipart upload */
#define AR_PARTS_MAX 10000u

/* ar_s3.c: one signed request each. */
int ar_s3_put(struct ar_client *c, const char *key, int fd, const struct ar_digest *d,
	      uint64_t rate, char *err, size_t errlen);
int ar_s3_head(struct ar_client *c, const char *key, uint64_t *bytes, char *etag,
	       size_t etaglen, char *err, size_t errlen);
/* A multipart upload of fd's bytes in parts of part bytes (parts[i]: the
 * digests of part i, n of them): create, each part (its ETag checked),
 * complete; aborted on failure. */
int ar_s3_multipart(struct ar_client *c, const char *key, int fd, uint64_t part,
		    const struct ar_digest *parts, unsigned int n, uint64_t rate, char *err,
		    size_t errlen);
/* The S3 error answer's Code and Message (or the body's start) in err. */
void ar_s3_error(long status, const char *body, char *err, size_t errlen);

/* ar_state.c: which files are archived, durable. */
struct ar_state;
int ar_state_open(const char *dir, struct ar_state **out, char *err, size_t errlen);
void ar_state_close(struct ar_state *s);
bool ar_state_has(struct ar_state *s, const char *path, uint64_t *bytes);
/* Appends and syncs the record, then adds it to the set. */
int ar_state_add(struct ar_state *s, const char *path, uint64_t bytes, const char *md5hex);

void ar_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
