/* SPDX-License-Identifier: BSD-2-Clause */
/* Times on the command line: RFC 3339 or Unix seconds with a fraction. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "extract/extract.h"

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

/* ".ddd" (1..9 digits) as nanoseconds; nothing there is 0. */
static bool fraction(const char **p, int64_t *ns)
{
	int n = 0;

	*ns = 0;
	if (**p != '.')
		return true;
	(*p)++;
	while (isdigit((unsigned char)**p)) {
		if (++n > 9)
			return false;
		*ns = *ns * 10 + (**p - '0');
		(*p)++;
	}
	if (!n)
		return false;
	for (int i = n; i < 9; i++)
		*ns *= 10;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date: 400-year eras,
 * years starting in March so the leap day comes last. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int mdays(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

static int parse_rfc3339(const char *p, int64_t *out)
{
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
	int64_t frac;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
	    !digits(&p, 2, &s) || !fraction(&p, &frac))
		return -EINVAL;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	/* a leap second (:60) is refused: Unix time has none */
	if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || h > 23 || mi > 59 || s > 59)
		return -EINVAL;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
		       sign * (oh * 3600 + om * 60);
	if (secs < 0)
		return -EINVAL;
	*out = secs * 1000000000 + frac;
	return 0;
}

int ex_parse_time(const char *s, int64_t *ns)
{
	const char *p = s;
	int64_t secs = 0, frac;
	int n = 0;

	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-')
		return parse_rfc3339(s, ns);
	while (isdigit((unsigned char)*p)) {
		if (++n > 11) /* beyond year 5000: a typo */
			return -EINVAL;
		secs = secs * 10 + (*p++ - '0');
	}
	if (!n || !fraction(&p, &frac) || *p)
		return -EINVAL;
	*ns = secs * 1000000000 + frac;
	return 0;
}
