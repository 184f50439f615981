/* SPDX-License-Identifier: BSD-2-Clause */
/* fleet: records, subjects, ids, the id set, option checks, one-time REST
 * grants. Usage: test_fl_units [TEST-NAME-PATTERN] */
#include <errno.h>
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

#include "api/token.h"
#include "fleet/fl_internal.h"

static void subjects_and_ids(void **state)
{
	char s[256];

	fl_subject("s1", "eth1", s, sizeof(s));
	assert_string_equal(s, "ca.catalog.s1.eth1");
	/* a '.' would split the capture into two subject tokens */
	fl_subject("s1", "span.0", s, sizeof(s));
	assert_string_equal(s, "ca.catalog.s1.span%2E0");
	fl_msg_id("s1", "span.0", "cap-00000001-X.pcap", "sealed", s, sizeof(s));
	assert_string_equal(s, "s1/span.0/cap-00000001-X.pcap/sealed");
	assert_true(fl_sensor_name_ok("site-a_01"));
	assert_false(fl_sensor_name_ok(""));
	assert_false(fl_sensor_name_ok("a.b"));
	assert_false(fl_sensor_name_ok("a*"));
	assert_false(fl_sensor_name_ok("a>"));
	assert_false(fl_sensor_name_ok("a b"));
}

static void archived_record_round_trip(void **state)
{
	struct fl_rec r;
	char *json = NULL;

	assert_int_equal(fl_record_archived("s1", "eth1", "/var/x/cap-00000007-T.pcap",
					    "pfx/s1/eth1/cap-00000007-T.pcap", 123456789012ull,
					    "0123456789abcdef0123456789abcdef", &json),
			 0);
	assert_non_null(strstr(json, "\"kind\":\"archived\""));
	assert_int_equal(fl_record_parse(json, strlen(json), &r), 0);
	assert_string_equal(r.kind, "archived");
	assert_string_equal(r.sensor, "s1");
	assert_string_equal(r.capture, "eth1");
	assert_string_equal(r.file, "cap-00000007-T.pcap"); /* the base name only */
	assert_string_equal(r.key, "pfx/s1/eth1/cap-00000007-T.pcap");
	assert_true(r.bytes == 123456789012ull);
	cJSON_free(json);
}

static void time_stamps_exact(void **state)
{
	/* ns beyond 2^53 must survive (strings, not doubles) */
	static const char rec[] = "{\"kind\":\"sealed\",\"sensor\":\"s1\",\"capture\":\"c\","
				  "\"file\":\"f.pcap\",\"first_ns\":\"1796284800123456789\","
				  "\"last_ns\":\"1796284801987654321\",\"records\":5,\"bytes\":900}";
	struct fl_rec r;

	assert_int_equal(fl_record_parse(rec, strlen(rec), &r), 0);
	assert_true(r.first_ns == 1796284800123456789ull);
	assert_true(r.last_ns == 1796284801987654321ull);
	assert_true(r.records == 5 && r.bytes == 900);
}

static void bad_records_refused(void **state)
{
	static const char *bad[] = {
		"", "[]", "{}", "not json",
		"{\"kind\":\"sealed\",\"sensor\":\"s1\",\"capture\":\"c\"}",
		"{\"kind\":\"sealed\",\"sensor\":\"s.1\",\"capture\":\"c\",\"file\":\"f\"}",
		"{\"kind\":\"sealed\",\"sensor\":\"s1\",\"capture\":\"c/d\",\"file\":\"f\"}",
		"{\"kind\":\"sealed\",\"sensor\":\"s1\",\"capture\":\"c\",\"file\":\"../f\"}",
		"{\"kind\":\"sealed\",\"sensor\":\"s1\",\"capture\":\"c\",\"file\":\"\"}",
		"{\"kind\":7,\"sensor\":\"s1\",\"capture\":\"c\",\"file\":\"f\"}",
	};
	struct fl_rec r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fl_record_parse(bad[i], strlen(bad[i]), &r) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
}

static void id_set(void **state)
{
	struct fl_set s = { 0 };
	char k[64];
	int i;

	for (i = 0; i < 5000; i++) { /* grows several times */
		snprintf(k, sizeof(k), "s1/c/f%d/sealed", i);
		assert_int_equal(fl_set_add(&s, k), 0);
	}
	assert_int_equal(fl_set_add(&s, "s1/c/f7/sealed"), 0);
	assert_int_equal((int)s.n, 5000);
	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "s1/c/f%d/sealed", i);
		assert_true(fl_set_has(&s, k));
	}
	assert_false(fl_set_has(&s, "s1/c/f5000/sealed"));
	assert_false(fl_set_has(&s, "s1/c/f7/archived"));
	fl_set_clear(&s);
	assert_false(fl_set_has(&s, "s1/c/f7/sealed"));
}

static void conn_options_checked(void **state)
{
	char dir[] = "/tmp/fl-units.XXXXXX", f[128], l[128], err[512];
	struct fl_conn_opts c = { .servers = "nats://127.0.0.1:4222,tls://h:4443" };
	FILE *fp;

	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), 0);
	c.servers = "http://127.0.0.1:4222";
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), -EINVAL);
	c.servers = "nats://a:1,,";
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), 0);
	c.servers = "";
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), -EINVAL);
	c.servers = "nats://127.0.0.1:4222";

	assert_non_null(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/creds", dir);
	snprintf(l, sizeof(l), "%s/link", dir);
	fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("user:secret\n", fp);
	fclose(fp);
	c.creds = f;
	assert_int_equal(chmod(f, 0644), 0);
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), -EPERM); /* world-readable */
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(f, 0640), 0);
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), -EPERM); /* group-readable */
	assert_int_equal(chmod(f, 0600), 0);
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), 0);
	assert_int_equal(symlink(f, l), 0);
	c.creds = l;
	assert_int_equal(fl_check_conn(&c, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	c.creds = dir;
	assert_int_not_equal(fl_check_conn(&c, err, sizeof(err)), 0); /* a folder */
	unlink(l);
	unlink(f);
	rmdir(dir);
}

static void grants_once_for_one_path(void **state)
{
	struct api_grants *g = NULL;
	char tok[API_GRANT_TOKEN_LEN + 1], tok2[API_GRANT_TOKEN_LEN + 1], bad[API_GRANT_TOKEN_LEN + 1];
	const char *pq = "/api/v1/captures/eth1/extract?from=1.000000000&format=pcap&filter=udp";
	uint64_t exp = 0;

	assert_int_equal(api_grants_new(&g), 0);
	assert_int_equal(api_grant_add(g, pq, 60, tok, &exp), 0);
	assert_int_equal((int)strlen(tok), API_GRANT_TOKEN_LEN);
	assert_true(exp > 0);
	/* another path or query, or another token: refused, the grant stays */
	assert_false(api_grant_take(g, tok, "/api/v1/captures/eth2/extract?from=1.000000000&format=pcap&filter=udp"));
	assert_false(api_grant_take(g, tok, "/api/v1/captures/eth1/extract?from=1.000000000&format=pcap&filter=tcp"));
	memcpy(bad, tok, sizeof(bad));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	assert_false(api_grant_take(g, bad, pq));
	assert_false(api_grant_take(g, "short", pq));
	/* once */
	assert_true(api_grant_take(g, tok, pq));
	assert_false(api_grant_take(g, tok, pq));
	/* expired (ttl 0): never */
	assert_int_equal(api_grant_add(g, pq, 0, tok2, NULL), 0);
	assert_false(api_grant_take(g, tok2, pq));
	/* bounded: at most API_GRANTS_MAX live */
	for (int i = 0; i < API_GRANTS_MAX; i++)
		assert_int_equal(api_grant_add(g, pq, 60, tok2, NULL), 0);
	assert_int_equal(api_grant_add(g, pq, 60, tok2, NULL), -ENOSPC);
	api_grants_free(g);
}

#define T(f) cmocka_unit_test(f)
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(subjects_and_ids), T(archived_record_round_trip), T(time_stamps_exact),
		T(bad_records_refused), T(id_set), T(conn_options_checked),
		T(grants_once_for_one_path),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
