/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * archive: sealed capture files and their indexes copied to an S3 object
 * store (any S3 endpoint: AWS, Ceph RGW, MinIO, Swift's s3api), verified,
 * and recorded as archived in a durable local state, so that local
 * retention may delete them. libcurl signs the requests (AWS SigV4);
 * OpenSSL's libcrypto computes the MD5 and SHA-256 every upload carries.
 *
 * An archiver (ar_open) has one upload thread; ar_enqueue never blocks on
 * I/O or the network. A failed upload (endpoint down, 5xx, timeout) is
 * retried with exponential back-off until it succeeds; nothing is dropped
 * from the queue. A client (ar_client_open) alone reads the archive:
 * listing and download, for queries over files only the archive holds.
 *
 * Functions return 0 or a negative errno; user-facing reasons go to err
 * (always NUL-terminated when errlen > 0). See archive/README.md.
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AR_REGION_DEFAULT "us-east-1"
#define AR_STATE_DIR_DEFAULT "/var/lib/capture-appliance/archive"
#define AR_KEY_MAX 1024
/* S3's limit for one PUT, and for one part of a multipart upload */
#define AR_PUT_MAX (5ull << 30)
/* Files larger than the part size go up in parts of that size (S3's
 * multipart upload, at most 10,000 parts); S3's smallest part is 5 MiB. */
#define AR_PART_MIN (5ull << 20)
#define AR_PART_DEFAULT (1ull << 30)

/* Where the archive is. */
struct ar_target {
	const char *url;	/* s3://BUCKET[/PREFIX] */
	const char *endpoint;	/* http[s]://HOST[:PORT] (path-style requests) */
	const char *cred_file;	/* see ar_cred_load */
	const char *region;	/* NULL: AR_REGION_DEFAULT */
};

/* ---- pieces, for the command line's checks and for tests ---- */

/* s3://BUCKET[/PREFIX]: BUCKET 3..63 of [a-z0-9.-] starting and ending
 * with a letter or digit; PREFIX of [A-Za-z0-9._-] segments joined by '/'
 * (no empty segment, no "." or ".."; a trailing '/' is dropped). -EINVAL
 * with the reason in err. */
int ar_parse_url(const char *url, char *bucket, size_t blen, char *prefix, size_t plen,
		 char *err, size_t errlen);
/* http://HOST[:PORT] or https://...; nothing after the authority but an
 * optional '/'. -EINVAL with the reason in err. */
int ar_check_endpoint(const char *endpoint, char *err, size_t errlen);
/* The object key of a file: PREFIX/SENSOR/CAPTURE/BASENAME (PREFIX/ left
 * out when empty). sensor and capture: 1..255 of [A-Za-z0-9._-], not "."
 * or ".."; the base name: the same characters. -EINVAL, -ENAMETOOLONG. */
int ar_object_key(const char *prefix, const char *sensor, const char *capture,
		  const char *basename, char *out, size_t len);
/*
 * Reads the credentials file: lines "access_key = KEY" and
 * "secret_key = SECRET" (or aws_access_key_id / aws_secret_access_key;
 * '#' and ';' comments, a "[default]" line, blank lines allowed). Refused
 * (-EPERM) when it is a symbolic link, not a regular file, owned by
 * another user than the caller or root, or readable or writable by group
 * or others; -EINVAL for a bad line (its number in err) or a missing key.
 */
int ar_cred_load(const char *path, char *key, size_t klen, char *secret, size_t slen,
		 char *err, size_t errlen);

/* ---- reading the archive ---- */

struct ar_client;

/* Checks the target (URL, endpoint, credentials file); no request. */
int ar_client_open(const struct ar_target *t, struct ar_client **out, char *err,
		   size_t errlen);
void ar_client_close(struct ar_client *c); /* NULL is fine */
/* Asks the bucket (HEAD): 0 it answers; -EACCES credentials refused,
 * -ENOENT no such bucket, -EHOSTUNREACH no answer (connection refused,
 * timeout), -EIO other answers. */
int ar_probe(struct ar_client *c, char *err, size_t errlen);
/* Downloads object key to fd (written from its current position); the
 * bytes in *bytes (may be NULL). -ENOENT no such object; on any error
 * what was written to fd is incomplete. */
int ar_get(struct ar_client *c, const char *key, int fd, uint64_t *bytes, char *err,
	   size_t errlen);
/* Every object whose key starts with prefix (ListObjectsV2, page after
 * page), in key order: fn(arg, key, bytes, etag without quotes); a
 * non-zero return of fn stops the listing and is returned. */
typedef int (*ar_list_fn)(void *arg, const char *key, uint64_t bytes, const char *etag);
int ar_list(struct ar_client *c, const char *prefix, ar_list_fn fn, void *arg, char *err,
	    size_t errlen);
/* The prefix of the URL (may be ""), for building keys. */
const char *ar_client_prefix(const struct ar_client *c);

/* ---- the archiver ---- */

struct ar_opts {
	struct ar_target target;
	const char *sensor;	/* key part; NULL: the host name */
	const char *state_dir;	/* NULL: AR_STATE_DIR_DEFAULT (created 0700) */
	uint64_t rate;		/* upload bytes/s; 0: unlimited */
	uint64_t part_size;	/* AR_PART_MIN..AR_PUT_MAX; 0: AR_PART_DEFAULT */
	unsigned int retry_min_ms; /* first back-off; 0: 1000 */
	unsigned int retry_max_ms; /* back-off ceiling; 0: 60000 */
	/* Called first by the upload thread (e.g. cap_background_thread:
	 * nice 19, idle I/O class); NULL: none. */
	void (*thread_init)(void);
	/* Called from the upload thread once a file is archived: its object
	 * (and, when the file had an index, key + ".idx") verified and the
	 * file recorded in the state. md5hex: the file's MD5, the object's
	 * ETag. Not called again for files archived before a restart. */
	void (*on_archived)(void *arg, const char *capture, const char *path,
			    const char *key, uint64_t bytes, const char *md5hex);
	void *archived_arg;
	void (*log)(void *arg, const char *msg); /* NULL: stderr */
	void *log_arg;
};

struct ar_stats {
	uint64_t uploaded_files;  /* objects PUT and verified (files and indexes) */
	uint64_t uploaded_bytes;
	uint64_t failures;	  /* failed attempts (each retried) */
	uint64_t queue;		  /* files waiting (the one in flight included) */
	uint64_t archived;	  /* capture files recorded archived, since ar_open */
	uint64_t already;	  /* offered again, archived before: skipped */
	uint64_t gone;		  /* deleted before they were archived */
};

struct ar;

/*
 * Checks everything (URL, endpoint, credentials file), asks the bucket
 * once: credentials refused or no such bucket is an error; no answer is
 * only logged (uploads wait for the endpoint). Then opens the state
 * (state_dir/archived; the folder must be a real folder owned by the
 * caller and writable by nobody else; made 0700 if missing) and starts
 * the upload thread. On error nothing is left behind but a state folder
 * it made.
 */
int ar_open(const struct ar_opts *o, struct ar **out, char *err, size_t errlen);
/* Stops the thread (an upload in flight is abandoned: the file is not
 * recorded, and is uploaded again at the next start). NULL is fine. */
void ar_close(struct ar *a);
/* Queues the sealed file path of capture (copied). Files already recorded
 * archived are skipped (counted in already). -ENOMEM, -EINVAL (a capture
 * name or path unfit for a key). */
int ar_enqueue(struct ar *a, const char *capture, const char *path);
/* Whether path is recorded archived (in memory: never blocks on I/O).
 * The writer's retention asks it (wr_opts.may_delete). */
bool ar_is_archived(struct ar *a, const char *path);
void ar_get_stats(struct ar *a, struct ar_stats *st);
/* Waits until the queue is empty or timeout_ms passed: 0 or -ETIMEDOUT. */
int ar_drain(struct ar *a, unsigned int timeout_ms);

#endif
