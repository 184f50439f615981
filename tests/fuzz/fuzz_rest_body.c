// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: a REST request body, taken the way the server takes it
 * (api_http_json_body: api_json_parse = nesting scan + strict JSON + cJSON),
 * then api_json_apply() onto a config as a POST (name, iface, ...), as a
 * PATCH, and, for a bare value, as the PUT of each field.
 *
 * Besides crashes and sanitizer reports it aborts when
 *  - the scan accepts a body that cJSON then refuses (that would be a 500);
 *  - an accepted body holds a raw NUL byte, or nests deeper than
 *    API_JSON_DEPTH_MAX;
 *  - what cJSON prints back from an accepted body is refused by the scan;
 *  - an accepted config has an empty or blank filter, or a control
 *    character in its filter (tab aside), interface name or dump path;
 *  - a refusal comes without a message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest_int.h"

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_rest_body: %s:%d: %s\n", __FILE__,   \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

static unsigned int depth(const cJSON *v)
{
	unsigned int d = 0, c;
	const cJSON *ch;

	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return 0;
	cJSON_ArrayForEach(ch, v) {
		c = depth(ch);
		if (c > d)
			d = c;
	}
	return d + 1;
}

static bool printable(const char *s, bool tab_ok)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if ((*p < 0x20 && !(tab_ok && *p == '\t')) || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return false;
	return true;
}

static void apply(const cJSON *obj, unsigned int allow)
{
	struct cap_cfg cfg;
	unsigned int fields;
	bool iface_set;
	char err[512];
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.filter, sizeof(cfg.filter), "none");
	cfg.snaplen = 262144;
	err[0] = '\0';
	ret = api_json_apply(obj, allow, &cfg, &fields, &iface_set, err, sizeof(err));
	if (ret) {
		CHECK(ret == -EINVAL);
		CHECK(err[0]);
		return;
	}
	if (fields & CAP_F_FILTER) {
		CHECK(cfg.filter[strspn(cfg.filter, " \t")]);
		CHECK(printable(cfg.filter, true));
	}
	if (fields & CAP_F_DUMP)
		CHECK(cfg.dump[0] && printable(cfg.dump, false));
	if (iface_set)
		CHECK(cfg.iface[0] && printable(cfg.iface, false));
	if (fields & CAP_F_SNAPLEN)
		CHECK(cfg.snaplen >= 1 && cfg.snaplen <= 262144);
	if (cfg.name[0])
		CHECK(cap_name_ok(cfg.name));
}

/* A bare value as the PUT of one field: {field: value}. */
static void put(const cJSON *v, const char *field)
{
	cJSON *o = cJSON_CreateObject(), *dup = cJSON_Duplicate(v, true);

	if (o && dup && cJSON_AddItemToObject(o, field, dup))
		apply(o, API_J_IFACE);
	else
		cJSON_Delete(dup);
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "capture", "filter", "snaplen", "dump",
					      "networkmode", "iface" };
	char *body = malloc(size + 1), err[256], *text;
	cJSON *v;
	size_t i;
	int ret;

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0'; /* api_http_body() terminates what it read */
	err[0] = '\0';
	ret = api_json_parse(body, size, &v, err, sizeof(err));
	CHECK(ret != -ENOMEM); /* scan accepted, cJSON refused */
	if (ret) {
		CHECK(ret == -EINVAL && err[0] && !v);
		goto out;
	}
	CHECK(!memchr(body, '\0', size));
	CHECK(depth(v) <= API_JSON_DEPTH_MAX);
	/* what GET shows must be accepted back */
	text = cJSON_PrintUnformatted(v);
	if (text) {
		CHECK(api_json_scan(text, strlen(text), err, sizeof(err)) == 0);
		free(text);
	}
	apply(v, API_J_CREATE);
	apply(v, API_J_IFACE);
	if (!cJSON_IsObject(v))
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			put(v, fields[i]);
	cJSON_Delete(v);
out:
	free(body);
	return 0;
}
