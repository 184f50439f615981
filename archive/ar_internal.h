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

/* ar_s3.c: one signed request each. */
int ar_s3_put(struct ar_client *c, const char *key, int fd, const struct ar_digest *d,
	      uint64_t rate, char *err, size_t errlen);
int ar_s3_head(struct ar_client *c, const char *key, uint64_t *bytes, char *etag,
	       size_t etaglen, char *err, size_t errlen);
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
