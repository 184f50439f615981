/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OpenAPI document describes exactly the routes the server has: every
 * (method, path) of the server's route table is in api/openapi.json, every
 * operation in the document is served, and the served copy is the file.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api/rest.h"

extern const unsigned char api_openapi_json[];
extern const size_t api_openapi_json_len;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static cJSON *load_doc(void)
{
	size_t len;
	char *text = slurp(API_SRC_DIR "/openapi.json", &len);
	cJSON *doc = cJSON_Parse(text);

	free(text);
	assert_non_null(doc);
	return doc;
}

static void lower(const char *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static void every_server_route_is_documented(void **state)
{
	cJSON *doc = load_doc(), *paths = cJSON_GetObjectItem(doc, "paths");
	size_t i, n = api_rest_route_count();
	char m[16];

	assert_true(cJSON_IsObject(paths));
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		const struct api_rest_route_info *r = api_rest_route_at(i);
		cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, r->path);

		lower(r->method, m, sizeof(m));
		if (!p || !cJSON_GetObjectItemCaseSensitive(p, m))
			fail_msg("route %s %s is not in openapi.json", r->method, r->path);
		/* an operation needs its responses */
		assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(p, m), "responses"));
	}
	assert_null(api_rest_route_at(n));
	cJSON_Delete(doc);
}

static void every_documented_operation_is_served(void **state)
{
	static const char *const methods[] = { "get", "put", "post", "patch", "delete",
					       "head", "options" };
	cJSON *doc = load_doc(), *paths = cJSON_GetObjectItem(doc, "paths"), *p;
	size_t i, k, n = api_rest_route_count(), ops = 0;
	char m[16];

	cJSON_ArrayForEach(p, paths) {
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
			bool found = false;

			if (!cJSON_GetObjectItemCaseSensitive(p, methods[k]))
				continue;
			ops++;
			for (i = 0; i < n && !found; i++) {
				const struct api_rest_route_info *r = api_rest_route_at(i);

				lower(r->method, m, sizeof(m));
				found = !strcmp(r->path, p->string) && !strcmp(m, methods[k]);
			}
			if (!found)
				fail_msg("openapi.json has %s %s, the server has not",
					 methods[k], p->string);
		}
	}
	assert_int_equal(ops, n);
	cJSON_Delete(doc);
}

static void served_document_is_the_file(void **state)
{
	size_t len;
	char *text = slurp(API_SRC_DIR "/openapi.json", &len);
	cJSON *doc;

	assert_int_equal(api_openapi_json_len, len);
	assert_memory_equal(api_openapi_json, text, len);
	doc = cJSON_Parse((const char *)api_openapi_json);
	assert_non_null(doc);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "openapi")));
	assert_int_equal(strncmp(cJSON_GetObjectItem(doc, "openapi")->valuestring, "3.", 2), 0);
	cJSON_Delete(doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_server_route_is_documented),
		cmocka_unit_test(every_documented_operation_is_served),
		cmocka_unit_test(served_document_is_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
