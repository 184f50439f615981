/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Request checking without a server: api_json_apply() refuses unknown keys,
 * wrong types, out-of-range values and duplicates and then leaves the
 * config untouched. (Dump paths are the core's: tests/capture/test_cap_policy.c.)
 */
#include <errno.h>
#include <limits.h>
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
	cJSON *o = cJSON_Parse(json);
	bool iface_set;
	int ret;

	assert_non_null(o);
	err[0] = '\0';
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
	assert_int_equal(api_json_apply(o, API_J_IFACE, &d, &fields, &iface_set, err,
					sizeof(err)),
			 0);
	assert_int_equal(d.mode, CAP_MODE_INGRESS);
	assert_int_equal(d.snaplen, 96);
	assert_true(d.network);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_bad_keys_types_and_ranges),
		cmocka_unit_test(all_or_nothing_per_request),
		cmocka_unit_test(accepts_good_values),
		cmocka_unit_test(cfg_round_trips_to_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
