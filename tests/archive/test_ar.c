/* SPDX-License-Identifier: BSD-2-Clause */
/* archive: URL, endpoint, object keys, credentials file checks, a file's
 * digests and its parts' in one read.
 * Usage: test_ar [TEST-NAME-PATTERN] (root: a file of another owner) */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "archive/archive.h"
#include "archive/ar_internal.h"

static void url_parsed(void **state)
{
	char b[64], p[512], err[256];

	assert_int_equal(ar_parse_url("s3://pcaps/site1/span", b, sizeof(b), p, sizeof(p), err,
				      sizeof(err)), 0);
	assert_string_equal(b, "pcaps");
	assert_string_equal(p, "site1/span");
	assert_int_equal(ar_parse_url("s3://my.bucket-2/", b, sizeof(b), p, sizeof(p), err,
				      sizeof(err)), 0);
	assert_string_equal(b, "my.bucket-2");
	assert_string_equal(p, "");
	assert_int_equal(ar_parse_url("s3://abc", b, sizeof(b), p, sizeof(p), err, sizeof(err)), 0);
	assert_string_equal(p, "");
	assert_int_equal(ar_parse_url("s3://abc/x/", b, sizeof(b), p, sizeof(p), err, sizeof(err)),
			 0);
	assert_string_equal(p, "x");
}

static void url_refused(void **state)
{
	static const char *bad[] = {
		"", "http://bucket/x", "s3://", "s3://ab", "s3://Bucket", "s3://-abc", "s3://abc-",
		"s3://a_b_c", "s3://abc//x", "s3://abc/x//y", "s3://abc/../x", "s3://abc/x/./y",
		"s3://abc/x y", "s3://abc/x%20", "s3://abc/x?y",
		"s3://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	char b[64] = "keep", p[512] = "keep", err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (ar_parse_url(bad[i], b, sizeof(b), p, sizeof(p), err, sizeof(err)) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		if (!strstr(err, "archive URL"))
			fail_msg("'%s': message '%s'", bad[i], err);
	}
}

static void endpoint_checked(void **state)
{
	static const char *good[] = { "http://127.0.0.1:8080", "https://s3.example.com",
				       "http://[::1]:9000/", "http://minio" };
	static const char *bad[] = { "", "127.0.0.1:8080", "ftp://h", "http://", "http://h/x",
				     "http://user@h", "http://h?x", "https:///x" };
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ar_check_endpoint(good[i], err, sizeof(err)))
			fail_msg("refused '%s': %s", good[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (ar_check_endpoint(bad[i], err, sizeof(err)) != -EINVAL || !strstr(err, "endpoint"))
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void keys_built(void **state)
{
	char k[AR_KEY_MAX];
	char longname[300];

	assert_int_equal(ar_object_key("site1/span", "sensor-a", "span0",
				       "span0-00000001-20261203T100000.000000000Z.pcap", k, sizeof(k)),
			 0);
	assert_string_equal(k, "site1/span/sensor-a/span0/span0-00000001-20261203T100000.000000000Z.pcap");
	assert_int_equal(ar_object_key("", "h", "c", "f.pcap.idx", k, sizeof(k)), 0);
	assert_string_equal(k, "h/c/f.pcap.idx");
	assert_int_equal(ar_object_key(NULL, "h", "c", "f", k, sizeof(k)), 0);
	assert_string_equal(k, "h/c/f");
	assert_int_equal(ar_object_key("", "h/x", "c", "f", k, sizeof(k)), -EINVAL);
	assert_int_equal(ar_object_key("", "h", "..", "f", k, sizeof(k)), -EINVAL);
	assert_int_equal(ar_object_key("", "h", "c", "a b", k, sizeof(k)), -EINVAL);
	assert_int_equal(ar_object_key("", "", "c", "f", k, sizeof(k)), -EINVAL);
	memset(longname, 'a', 256);
	longname[256] = 0;
	assert_int_equal(ar_object_key("", "h", "c", longname, k, sizeof(k)), -EINVAL);
	assert_int_equal(ar_object_key("", "h", "c", "f", k, 5), -ENAMETOOLONG);
}

static char dir[64];

static const char *put_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int load(const char *path, char *k, char *s, char *err)
{
	err[0] = 0;
	return ar_cred_load(path, k, 256, s, 256, err, 512);
}

static void credentials_checked(void **state)
{
	char k[256], s[256], err[512], link[128];
	const char *p;

	snprintf(dir, sizeof(dir), "/tmp/test_ar.XXXXXX");
	assert_non_null(mkdtemp(dir));
	p = put_file("good", "# S3\n[default]\naccess_key = test:tester\n\nsecret_key=testing\n",
		     0600);
	assert_int_equal(load(p, k, s, err), 0);
	assert_string_equal(k, "test:tester");
	assert_string_equal(s, "testing");
	p = put_file("aws", "aws_access_key_id = AK\r\naws_secret_access_key = SK\r\n", 0400);
	assert_int_equal(load(p, k, s, err), 0);
	assert_string_equal(k, "AK");
	assert_string_equal(s, "SK");

	/* readable by group / others, or writable by them */
	p = put_file("open", "access_key = a\nsecret_key = b\n", 0640);
	assert_int_equal(load(p, k, s, err), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_string_equal(s, "");
	p = put_file("open2", "access_key = a\nsecret_key = b\n", 0602);
	assert_int_equal(load(p, k, s, err), -EPERM);

	/* a link to a good file */
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("good", link), 0);
	assert_int_equal(load(link, k, s, err), -EPERM);
	assert_non_null(strstr(err, "symbolic link"));

	/* not a regular file, missing */
	assert_int_equal(load(dir, k, s, err), -EPERM);
	snprintf(link, sizeof(link), "%s/none", dir);
	assert_int_equal(load(link, k, s, err), -ENOENT);
	assert_non_null(strstr(err, "No such file"));

	/* bad content */
	p = put_file("bad", "access_key = a\nsecret = b\n", 0600);
	assert_int_equal(load(p, k, s, err), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	p = put_file("nosecret", "access_key = a\n", 0600);
	assert_int_equal(load(p, k, s, err), -EINVAL);
	assert_non_null(strstr(err, "no secret_key"));
	p = put_file("space", "access_key = a b\nsecret_key = c\n", 0600);
	assert_int_equal(load(p, k, s, err), -EINVAL);

	/* another user's file */
	if (geteuid() == 0) {
		p = put_file("theirs", "access_key = a\nsecret_key = b\n", 0600);
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(load(p, k, s, err), -EPERM);
		assert_non_null(strstr(err, "owned by uid 65534"));
	}
	/* a client needs all of it */
	{
		struct ar_target t = { .url = "s3://bucket", .endpoint = "http://127.0.0.1:1",
				       .cred_file = link };
		struct ar_client *c = NULL;

		assert_int_equal(ar_client_open(&t, &c, err, sizeof(err)), -ENOENT);
		assert_null(c);
		t.cred_file = put_file("good", "access_key = a\nsecret_key = b\n", 0600);
		t.region = "US East";
		assert_int_equal(ar_client_open(&t, &c, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "region"));
		t.region = NULL;
		assert_int_equal(ar_client_open(&t, &c, err, sizeof(err)), 0);
		assert_string_equal(ar_client_prefix(c), "");
		/* nobody listens on port 1 */
		assert_int_equal(ar_probe(c, err, sizeof(err)), -EHOSTUNREACH);
		ar_client_close(c);
	}
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* One-shot hex MD5 and SHA-256 of buf, as the reference. */
static void ref_digest(const unsigned char *buf, size_t len, char md5[33], char sha[65])
{
	static const char x[] = "0123456789abcdef";
	unsigned char m[EVP_MAX_MD_SIZE];
	unsigned int ml, i;

	assert_true(EVP_Digest(buf, len, m, &ml, EVP_md5(), NULL) && ml == 16);
	for (i = 0; i < 16; i++) {
		md5[2 * i] = x[m[i] >> 4];
		md5[2 * i + 1] = x[m[i] & 15];
	}
	md5[32] = 0;
	assert_true(EVP_Digest(buf, len, m, &ml, EVP_sha256(), NULL) && ml == 32);
	for (i = 0; i < 32; i++) {
		sha[2 * i] = x[m[i] >> 4];
		sha[2 * i + 1] = x[m[i] & 15];
	}
	sha[64] = 0;
}

/* ar_digest_file on a file of size bytes cut in parts of part bytes (not a
 * multiple of its 1-MiB reads): the whole and every part equal one-shot
 * digests of the same bytes; want_n parts (0: none, not above one part). */
static void digest_case(uint64_t size, uint64_t part, unsigned int want_n)
{
	char path[] = "/tmp/test-ar-digest-XXXXXX", md5[33], sha[65], etag[80];
	struct ar_digest whole, *parts = (struct ar_digest *)1;
	unsigned char *buf = malloc(size + 1);
	unsigned int n = 99, i;
	uint64_t at, len;
	int fd;

	assert_non_null(buf);
	for (at = 0; at < size; at++)
		buf[at] = (unsigned char)(at * 2654435761u >> 13);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	assert_int_equal(ar_digest_file(fd, part, &whole, &parts, &n), 0);
	ref_digest(buf, size, md5, sha);
	assert_int_equal(whole.bytes, size);
	assert_string_equal(whole.md5hex, md5);
	assert_string_equal(whole.sha256hex, sha);
	assert_int_equal(n, want_n);
	if (!want_n)
		assert_null(parts);
	for (i = 0; i < n; i++) {
		len = size - i * part < part ? size - i * part : part;
		ref_digest(buf + i * part, len, md5, sha);
		assert_int_equal(parts[i].bytes, len);
		assert_string_equal(parts[i].md5hex, md5);
		assert_string_equal(parts[i].sha256hex, sha);
	}
	if (n) {
		assert_int_equal(ar_multipart_etag(parts, n, etag, sizeof(etag)), 0);
		assert_non_null(strstr(etag, n == 3 ? "-3" : "-2"));
	}
	free(parts);
	/* without parts asked: the whole alone */
	assert_int_equal(ar_digest_fd(fd, &whole), 0);
	assert_int_equal(whole.bytes, size);
	close(fd);
	free(buf);
}

static void digest_parts_in_one_read(void **state)
{
	(void)state;
	digest_case(2621447, 1048579, 3);     /* the last part shorter */
	digest_case(2 * 1048579, 1048579, 2); /* two whole parts */
	digest_case(1048579, 1048579, 0);     /* one part: a single PUT */
	digest_case(1000, 1048579, 0);
	digest_case(0, 1048579, 0);
}

#define T(f) cmocka_unit_test(f)
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { T(url_parsed), T(url_refused), T(endpoint_checked),
					    T(keys_built), T(credentials_checked),
					    T(digest_parts_in_one_read) };

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
