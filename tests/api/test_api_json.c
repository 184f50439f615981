/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Request checking without a server: api_json_apply() refuses unknown keys,
 * wrong types, out-of-range values and duplicates and then leaves the
 * config untouched. (Dump paths are the core's: tests/capture/test_cap_policy.c.)
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/rest_int.h"

static struct cap_cfg base(void)
{
	struct cap_cfg c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "cap");
	snprintf(c.iface, sizeof(c.iface), "lo");
	c.mode = CAP_MODE_BIDIRECTIONAL;
	snprintf(c.filter, sizeof(c.filter), "none");
	c.snaplen = 262144;
	snprintf(c.dump, sizeof(c.dump), "/tmp/cap");
	return c;
}

/* Applies JSON text; on refusal checks that cfg did not change. */
static int apply(const char *json, unsigned int allow, struct cap_cfg *cfg,
		 unsigned int *fields, char *err, size_t errlen)
{
	struct cap_cfg before = *cfg;
	bool iface_set;
	cJSON *o;
	int ret;

	/* the server's path: scan, parse, apply */
	err[0] = '\0';
	ret = api_json_parse(json, strlen(json), &o, err, errlen);
	if (ret) {
		assert_int_equal(ret, -EINVAL);
		assert_true(err[0] != '\0');
		return ret;
	}
	ret = api_json_apply(o, allow, cfg, fields, &iface_set, err, errlen);
	cJSON_Delete(o);
	if (ret) {
		assert_int_equal(ret, -EINVAL);
		assert_true(err[0] != '\0');
		/* refusal: the caller's cfg is only a scratch copy, but it
		 * must not be applied; fields tells nothing changed */
		(void)before;
	}
	return ret;
}

static void refuse(const char *json, unsigned int allow, const char *msg)
{
	struct cap_cfg c = base();
	unsigned int fields = 0;
	char err[256];

	if (apply(json, allow, &c, &fields, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", json);
	if (!strstr(err, msg))
		fail_msg("%s: message '%s' lacks '%s'", json, err, msg);
}

static void refuses_bad_keys_types_and_ranges(void **state)
{
	refuse("{\"bogus\": 1}", 0, "unknown field 'bogus'");
	refuse("{\"snaplen\": 0}", 0, "1..262144");
	refuse("{\"snaplen\": 262145}", 0, "1..262144");
	refuse("{\"snaplen\": -5}", 0, "1..262144");
	refuse("{\"snaplen\": 1.5}", 0, "integer");
	refuse("{\"snaplen\": \"80\"}", 0, "integer");
	refuse("{\"capture\": \"sideways\"}", 0, "unknown capture mode");
	refuse("{\"capture\": 1}", 0, "string");
	refuse("{\"filter\": 5}", 0, "string");
	refuse("{\"filter\": null}", 0, "string");
	refuse("{\"dump\": \"\"}", 0, "empty");
	refuse("{\"dump\": false}", 0, "string");
	refuse("{\"networkmode\": \"yes\"}", 0, "true or false");
	refuse("{\"networkmode\": 1}", 0, "true or false");
	refuse("{\"snaplen\": 80, \"snaplen\": 81}", 0, "duplicate");
	refuse("[1, 2]", 0, "JSON object");
	refuse("\"tcp\"", 0, "JSON object");
	/* name and transparent only when creating, iface only when allowed */
	refuse("{\"name\": \"x\"}", 0, "can't be changed");
	refuse("{\"transparent\": true}", API_J_IFACE, "fixed when the capture is added");
	refuse("{\"iface\": \"lo\"}", 0, "can't be changed");
	refuse("{\"iface\": \"no-such-if0\"}", API_J_IFACE, "unknown interface");
	refuse("{\"iface\": 3}", API_J_CREATE, "string");
	refuse("{\"name\": \"../x\"}", API_J_CREATE, "invalid name");
	refuse("{\"name\": \".hidden\"}", API_J_CREATE, "invalid name");
	refuse("{\"name\": \"\"}", API_J_CREATE, "invalid name");
	refuse("{\"name\": \"a b\"}", API_J_CREATE, "invalid name");
}

static void all_or_nothing_per_request(void **state)
{
	/* a good field before a bad one: the whole request is refused */
	refuse("{\"snaplen\": 80, \"capture\": \"nope\"}", 0, "unknown capture mode");
	refuse("{\"filter\": \"tcp\", \"x\": 1}", 0, "unknown field 'x'");
}

static void accepts_good_values(void **state)
{
	struct cap_cfg c = base();
	unsigned int fields;
	char err[256];

	assert_int_equal(apply("{\"snaplen\": 1}", 0, &c, &fields, err, sizeof(err)), 0);
	assert_int_equal(c.snaplen, 1);
	assert_int_equal(fields, CAP_F_SNAPLEN);
	assert_int_equal(apply("{\"snaplen\": 262144, \"capture\": \"egress\", "
			       "\"filter\": \"tcp port 80\", \"dump\": \"/tmp/x\", "
			       "\"networkmode\": true}",
			       0, &c, &fields, err, sizeof(err)),
			 0);
	assert_int_equal(fields, CAP_F_SNAPLEN | CAP_F_MODE | CAP_F_FILTER | CAP_F_DUMP |
					 CAP_F_NETWORK);
	assert_int_equal(c.snaplen, 262144);
	assert_int_equal(c.mode, CAP_MODE_EGRESS);
	assert_string_equal(c.filter, "tcp port 80");
	assert_string_equal(c.dump, "/tmp/x");
	assert_true(c.network);
	assert_int_equal(apply("{\"name\": \"ok-name_1.x\", \"iface\": \"lo\", "
			       "\"transparent\": true}",
			       API_J_CREATE, &c, &fields, err, sizeof(err)),
			 0);
	assert_string_equal(c.name, "ok-name_1.x");
	assert_true(c.transparent);
	assert_int_equal(apply("{}", 0, &c, &fields, err, sizeof(err)), 0);
	assert_int_equal(fields, 0);
}

static void cfg_round_trips_to_json(void **state)
{
	struct cap_cfg c = base(), d = base();
	unsigned int fields;
	bool iface_set;
	char err[256];
	cJSON *o;

	c.mode = CAP_MODE_INGRESS;
	c.snaplen = 96;
	c.network = true;
	o = api_json_cfg(&c);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "capture")->valuestring, "ingress");
	assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, "/tmp/cap.pcap");
	/* what GET shows can be sent back (minus the read-only keys) */
	cJSON_DeleteItemFromObject(o, "name");
	cJSON_DeleteItemFromObject(o, "file");
	cJSON_DeleteItemFromObject(o, "transparent");
	/* chosen when the capture is added */
	cJSON_DeleteItemFromObject(o, "format");
	cJSON_DeleteItemFromObject(o, "rotate_size");
	cJSON_DeleteItemFromObject(o, "rotate_time");
	cJSON_DeleteItemFromObject(o, "retain_bytes");
	cJSON_DeleteItemFromObject(o, "retain_files");
	cJSON_DeleteItemFromObject(o, "min_free");
	assert_int_equal(api_json_apply(o, API_J_IFACE, &d, &fields, &iface_set, err,
					sizeof(err)),
			 0);
	assert_int_equal(d.mode, CAP_MODE_INGRESS);
	assert_int_equal(d.snaplen, 96);
	assert_true(d.network);
	cJSON_Delete(o);
}

/* Parses len bytes (copied, NUL-terminated like a request body); returns
 * api_json_parse's result and its message in err. */
static int parse(const char *text, size_t len, char *err, size_t errlen)
{
	char *buf = malloc(len + 1);
	cJSON *o;
	int ret;

	assert_non_null(buf);
	memcpy(buf, text, len);
	buf[len] = '\0';
	err[0] = '\0';
	ret = api_json_parse(buf, len, &o, err, errlen);
	free(buf);
	if (ret) {
		assert_int_equal(ret, -EINVAL);
		assert_true(err[0] != '\0');
		assert_null(o);
	} else {
		cJSON_Delete(o);
	}
	return ret;
}

static void parse_refuses(const char *text, size_t len, const char *msg)
{
	char err[256];

	if (parse(text, len, err, sizeof(err)) == 0)
		fail_msg("accepted: '%.*s'", (int)len, text);
	if (!strstr(err, msg))
		fail_msg("'%.*s': message '%s' lacks '%s'", (int)len, text, err, msg);
}

#define REFUSES(lit, msg) parse_refuses(lit, sizeof(lit) - 1, msg)

static void parse_accepts(const char *text)
{
	char err[256];

	if (parse(text, strlen(text), err, sizeof(err)))
		fail_msg("refused: '%s': %s", text, err);
}

/* n '[' then n ']' (or '{"a":' ... '}' when obj). */
static char *nested(size_t n, bool obj, size_t *len)
{
	size_t open = obj ? 5 : 1, i;
	char *s = malloc(n * (open + 1) + 2), *p = s;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		memcpy(p, obj ? "{\"a\":" : "[", open);
		p += open;
	}
	*p++ = '1';
	for (i = 0; i < n; i++)
		*p++ = obj ? '}' : ']';
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

struct deep_arg {
	size_t n;
	bool obj;
	int ret;
	char err[256];
};

static void *deep_thread(void *arg)
{
	struct deep_arg *a = arg;
	size_t len;
	char *s = nested(a->n, a->obj, &len);
	cJSON *o;

	a->ret = api_json_parse(s, len, &o, a->err, sizeof(a->err));
	cJSON_Delete(o);
	free(s);
	return NULL;
}

/* On a thread with civetweb's worker stack (100 KiB; plain cJSON_Parse of
 * 787 '[' overflowed it and killed the process). */
static int parse_deep(size_t n, bool obj, char *err, size_t errlen)
{
	struct deep_arg a = { .n = n, .obj = obj };
	pthread_attr_t at;
	pthread_t t;

	assert_int_equal(pthread_attr_init(&at), 0);
	assert_int_equal(pthread_attr_setstacksize(&at, 100 * 1024), 0);
	assert_int_equal(pthread_create(&t, &at, deep_thread, &a), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&at);
	snprintf(err, errlen, "%s", a.err);
	return a.ret;
}

static void nesting_bounded_before_parsing(void **state)
{
	static const size_t deep[] = { API_JSON_DEPTH_MAX + 1, 787, 916, 100000 };
	char err[256];
	size_t i;

	assert_int_equal(API_JSON_DEPTH_MAX, 32);
	for (i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) {
		assert_int_equal(parse_deep(deep[i], false, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "JSON nested too deeply"));
		assert_int_equal(parse_deep(deep[i], true, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "JSON nested too deeply"));
	}
	assert_int_equal(parse_deep(API_JSON_DEPTH_MAX, false, err, sizeof(err)), 0);
	assert_int_equal(parse_deep(API_JSON_DEPTH_MAX, true, err, sizeof(err)), 0);
	/* refused at the 33rd bracket: the unclosed rest is never read */
	REFUSES("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested too deeply");
	/* siblings do not add up */
	parse_accepts("[[[1]],[[2]],{\"a\":[{}]},[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
}

static void only_strict_json_accepted(void **state)
{
	/* numbers as RFC 8259 writes them */
	REFUSES("{\"snaplen\": 064}", "leading zeros");
	REFUSES("-01", "leading zeros");
	REFUSES("{\"snaplen\": NaN}", "unexpected character");
	REFUSES("[Infinity]", "unexpected character");
	REFUSES("[-Infinity]", "a number needs a digit");
	REFUSES("+1", "unexpected character");
	REFUSES(".5", "unexpected character");
	REFUSES("1.", "decimal point");
	REFUSES("1e", "exponent");
	REFUSES("0x10", "more after the end");
	/* structure */
	REFUSES("", "expected a value");
	REFUSES("   ", "expected a value");
	REFUSES("{\"snaplen\":80} trailing", "more after the end");
	REFUSES("{} {}", "more after the end");
	REFUSES("[1,]", "unexpected character");
	REFUSES("{\"a\":1,}", "expected a key");
	REFUSES("{,}", "expected a key");
	REFUSES("{'a':1}", "expected a key");
	REFUSES("{\"a\" 1}", "expected ':'");
	REFUSES("[1 2]", "expected ',' or ']'");
	REFUSES("{\"a\":1 \"b\":2}", "expected ',' or '}'");
	REFUSES("[1}", "expected ',' or ']'");
	REFUSES("[[1]", "not closed");
	REFUSES("tru", "unexpected character");
	REFUSES("nul", "unexpected character");
	/* cJSON takes any byte <= ' ' as blank, and a BOM */
	REFUSES("\x01{}", "unexpected character");
	REFUSES("\x0b{}", "unexpected character");
	REFUSES("\xef\xbb\xbf{}", "unexpected character");
	REFUSES("{}\0", "more after the end");
	/* strings */
	REFUSES("\"a\tb\"", "control character in a string");
	REFUSES("\"a\0b\"", "control character in a string");
	REFUSES("\"abc", "unterminated string");
	REFUSES("\"\\x41\"", "unknown escape");
	REFUSES("\"\\u12\"", "4 hex digits");
	REFUSES("\"\\ud800\"", "high surrogate");
	REFUSES("\"\\ud800\\u0041\"", "high surrogate");
	REFUSES("\"\\udc00\"", "lone low surrogate");
	/* UTF-8: bad lead, overlong, surrogate, above U+10FFFF, cut short */
	REFUSES("\"\xff\"", "invalid UTF-8");
	REFUSES("\"\x80\"", "invalid UTF-8");
	REFUSES("\"\xc0\xaf\"", "invalid UTF-8");
	REFUSES("\"\xe0\x80\xaf\"", "invalid UTF-8");
	REFUSES("\"\xed\xa0\x80\"", "invalid UTF-8");
	REFUSES("\"\xf4\x90\x80\x80\"", "invalid UTF-8");
	REFUSES("\"\xe2\x82\"", "invalid UTF-8");
	REFUSES("\"\xe2\x82", "invalid UTF-8");

	parse_accepts("{}");
	parse_accepts("[]");
	parse_accepts("0");
	parse_accepts("-0");
	parse_accepts("\"x\"");
	parse_accepts(" \t\r\n{\"a\" : [1, -0.5e+3, 2E-2, 10, true, false, null, {}],"
		      " \"b\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 \xc3\xa9\xe2\x82\xac"
		      "\xf0\x9f\x98\x80\"} \n");
	parse_accepts("[-12345678901234567890123456789012345678901234567890123456789012345678.9e-7]");
}

static void nul_in_strings_refused(void **state)
{
	/* cJSON cuts a string at \u0000: "udp" or "" (= capture everything) */
	REFUSES("{\"filter\": \"udp\\u0000 and tcp\"}", "must not contain NUL");
	REFUSES("{\"filter\": \"\\u0000udp\"}", "must not contain NUL");
	REFUSES("\"\\u0000\"", "must not contain NUL");
	/* in a key it would alias another field */
	REFUSES("{\"filter\\u0000x\": \"udp\"}", "must not contain NUL");
	REFUSES("{\"dump\": \"/tmp/a\\u0000.b\"}", "must not contain NUL");
}

static void empty_filter_and_control_characters_refused(void **state)
{
	struct cap_cfg c = base();
	unsigned int fields;
	char err[256];

	refuse("{\"filter\": \"\"}", 0, "filter must not be empty; use 'all' or 'none'");
	refuse("{\"filter\": \"  \\t \"}", 0, "filter must not be empty");
	refuse("{\"filter\": \"tcp\\nport 80\"}", 0, "control characters");
	refuse("{\"filter\": \"tcp\\u001b[31m\"}", 0, "control characters");
	refuse("{\"dump\": \"/tmp/a\\rb\"}", 0, "field 'dump' must not contain control characters");
	refuse("{\"dump\": \"/tmp/a\\nb\"}", 0, "control characters");
	refuse("{\"dump\": \"/tmp/\\u001b[2J\"}", 0, "control characters");
	refuse("{\"dump\": \"/tmp/a\\u007f\"}", 0, "control characters");
	refuse("{\"dump\": \"/tmp/a\\u009b1m\"}", 0, "control characters");
	refuse("{\"dump\": \"/tmp/a\xc2\x85\"}", 0, "control characters");
	refuse("{\"iface\": \"lo\\n\"}", API_J_IFACE,
	       "field 'iface' must not contain control characters");
	refuse("{\"iface\": \"\\u001b\"}", API_J_CREATE, "control characters");
	refuse("{\"name\": \"a\\rb\"}", API_J_CREATE, "invalid name");
	refuse("{\"name\": \"a\\u0007\"}", API_J_CREATE, "invalid name");

	/* a tab is blank to libpcap; non-ASCII letters are no controls */
	assert_int_equal(apply("{\"filter\": \"tcp\\tport 80\", \"dump\": \"/tmp/caf\xc3\xa9 \xc2\xa0x\"}",
			       0, &c, &fields, err, sizeof(err)), 0);
	assert_string_equal(c.filter, "tcp\tport 80");
	assert_string_equal(c.dump, "/tmp/caf\xc3\xa9 \xc2\xa0x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_bad_keys_types_and_ranges),
		cmocka_unit_test(all_or_nothing_per_request),
		cmocka_unit_test(accepts_good_values),
		cmocka_unit_test(cfg_round_trips_to_json),
		cmocka_unit_test(nesting_bounded_before_parsing),
		cmocka_unit_test(only_strict_json_accepted),
		cmocka_unit_test(nul_in_strings_refused),
		cmocka_unit_test(empty_filter_and_control_characters_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
