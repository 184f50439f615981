/* SPDX-License-Identifier: BSD-2-Clause */
/* extract: time parsing. Usage: test_ex_time [TEST-NAME-PATTERN] */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "extract/extract.h"

static int64_t t(const char *s)
{
	int64_t ns = -1;

	assert_int_equal(ex_parse_time(s, &ns), 0);
	return ns;
}

static void rfc3339_forms(void **state)
{
	/* 2026-12-03T08:00:00Z = 1796284800 (date -u -d ... +%s) */
	assert_int_equal(t("2026-12-03T08:00:00Z"), 1796284800LL * 1000000000);
	assert_int_equal(t("2026-12-03T08:00:00.5Z"), 1796284800LL * 1000000000 + 500000000);
	assert_int_equal(t("2026-12-03t08:00:00.000000001z"), 1796284800LL * 1000000000 + 1);
	assert_int_equal(t("2026-12-03 08:00:00.123456789Z"), 1796284800123456789LL);
	assert_int_equal(t("2026-12-03T09:30:00+01:30"), 1796284800LL * 1000000000);
	assert_int_equal(t("2026-12-03T06:00:00-02:00"), 1796284800LL * 1000000000);
	assert_int_equal(t("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(t("2024-02-29T23:59:59Z"), 1709251199LL * 1000000000);
	assert_int_equal(t("2000-03-01T00:00:00Z"), 951868800LL * 1000000000);
}

static void unix_seconds(void **state)
{
	assert_int_equal(t("1796284800"), 1796284800LL * 1000000000);
	assert_int_equal(t("1796284800.5"), 1796284800LL * 1000000000 + 500000000);
	assert_int_equal(t("1796284800.000000007"), 1796284800LL * 1000000000 + 7);
	assert_int_equal(t("0.25"), 250000000);
}

static void refused(void **state)
{
	static const char *bad[] = {
		"", "x", "1796284800.", ".5", "1796284800.1234567891", "17962848001234",
		"1796284800 ", "-5", "2026-12-03T08:00:00", "2026-12-03T08:00:00.Z",
		"2026-12-03T08:00:60Z", "2026-13-03T08:00:00Z", "2026-02-29T08:00:00Z",
		"2026-04-31T08:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03T08:00:00+1:00",
		"2026-12-03T08:00:00Zjunk", "2026-12-03X08:00:00Z", "1969-12-31T23:59:59Z",
		"2026-12-03T08:00:00.1234567890Z",
	};
	int64_t ns = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ex_parse_time(bad[i], &ns) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(ns, 42);
}

#define T(f) cmocka_unit_test(f)
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { T(rfc3339_forms), T(unix_seconds), T(refused) };

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
