/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json_scan: every request body is checked here before cJSON sees it.
 *
 * cJSON parses recursively: about 800 levels of `[` overflow a civetweb
 * worker's stack long before cJSON's own limit (1000). So the nesting is
 * counted first, without recursion, and the body must be strict RFC 8259
 * JSON (cJSON alone takes `064`, control characters as whitespace, invalid
 * UTF-8). Strings may not hold NUL (`\u0000`): cJSON would cut them there.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/rest_int.h"

struct scan {
	const unsigned char *s, *p, *end;
	char *err;
	size_t errlen;
};

static int bad(struct scan *s, const char *why)
{
	snprintf(s->err, s->errlen, "malformed JSON near byte %zu: %s",
		 (size_t)(s->p - s->s), why);
	return -EINVAL;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end &&
	       (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(struct scan *s, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	if (s->end - s->p < 4)
		return bad(s, "\\u needs 4 hex digits");
	for (i = 0; i < 4; i++) {
		unsigned char c = s->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return bad(s, "\\u needs 4 hex digits");
	}
	s->p += 4;
	*out = v;
	return 0;
}

/* After a backslash. */
static int escape(struct scan *s)
{
	unsigned int u, lo;
	int ret;

	if (s->p == s->end)
		return bad(s, "unterminated string");
	switch (*s->p++) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return 0;
	case 'u':
		break;
	default:
		s->p--;
		return bad(s, "unknown escape in a string");
	}
	if ((ret = hex4(s, &u)))
		return ret;
	if (u == 0) {
		snprintf(s->err, s->errlen, "strings must not contain NUL (\\u0000)");
		return -EINVAL;
	}
	if (u >= 0xdc00 && u <= 0xdfff)
		return bad(s, "lone low surrogate in a string");
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
		return bad(s, "high surrogate without its low surrogate");
	s->p += 2;
	if ((ret = hex4(s, &lo)))
		return ret;
	if (lo < 0xdc00 || lo > 0xdfff)
		return bad(s, "high surrogate without its low surrogate");
	return 0;
}

/* One UTF-8 sequence starting with a byte >= 0x80 (RFC 3629 table). */
static int utf8(struct scan *s)
{
	unsigned char c = *s->p, lo = 0x80, hi = 0xbf;
	int i, n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3;
	else
		return bad(s, "invalid UTF-8");
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (s->end - s->p <= n)
		return bad(s, "invalid UTF-8");
	for (i = 1; i <= n; i++) {
		if (s->p[i] < lo || s->p[i] > hi)
			return bad(s, "invalid UTF-8");
		lo = 0x80;
		hi = 0xbf;
	}
	s->p += n + 1;
	return 0;
}

/* At the opening quote. */
static int string(struct scan *s)
{
	int ret;

	s->p++;
	for (;;) {
		if (s->p == s->end)
			return bad(s, "unterminated string");
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if (*s->p < 0x20)
			return bad(s, "control character in a string (escape it)");
		if (*s->p == '\\') {
			s->p++;
			ret = escape(s);
		} else if (*s->p >= 0x80) {
			ret = utf8(s);
		} else {
			s->p++;
			ret = 0;
		}
		if (ret)
			return ret;
	}
}

static bool digit(struct scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static int number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (!digit(s))
		return bad(s, "a number needs a digit");
	if (*s->p == '0') {
		s->p++;
		if (digit(s))
			return bad(s, "numbers must not have leading zeros");
	} else {
		while (digit(s))
			s->p++;
	}
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digit(s))
			return bad(s, "a digit must follow the decimal point");
		while (digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digit(s))
			return bad(s, "a digit must follow the exponent");
		while (digit(s))
			s->p++;
	}
	return 0;
}

static int literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return bad(s, "unexpected character");
	s->p += n;
	return 0;
}

/* A value that is no container. */
static int scalar(struct scan *s)
{
	switch (*s->p) {
	case '"':
		return string(s);
	case 't':
		return literal(s, "true", 4);
	case 'f':
		return literal(s, "false", 5);
	case 'n':
		return literal(s, "null", 4);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return number(s);
	default:
		return bad(s, "unexpected character");
	}
}

int api_json_scan(const char *text, size_t len, char *err, size_t errlen)
{
	struct scan s = { (const unsigned char *)text, (const unsigned char *)text,
			  (const unsigned char *)text + len, err, errlen };
	char open[API_JSON_DEPTH_MAX]; /* '{' or '[' per level */
	enum { VALUE, KEY, AFTER } want = VALUE;
	unsigned int depth = 0;
	int ret;

	for (;;) {
		skip_ws(&s);
		if (want == AFTER) {
			if (!depth)
				return s.p == s.end ? 0 :
				       bad(&s, "more after the end of the JSON value");
			if (s.p == s.end)
				return bad(&s, "unexpected end (a bracket is not closed)");
			if (*s.p == ',') {
				s.p++;
				want = open[depth - 1] == '{' ? KEY : VALUE;
			} else if (*s.p == (open[depth - 1] == '{' ? '}' : ']')) {
				s.p++;
				depth--;
			} else {
				return bad(&s, open[depth - 1] == '{' ? "expected ',' or '}'" :
									"expected ',' or ']'");
			}
			continue;
		}
		if (s.p == s.end)
			return bad(&s, want == KEY ? "expected a key" : "expected a value");
		if (want == KEY) {
			if (*s.p != '"')
				return bad(&s, "expected a key (a string)");
			if ((ret = string(&s)))
				return ret;
			skip_ws(&s);
			if (s.p == s.end || *s.p != ':')
				return bad(&s, "expected ':' after the key");
			s.p++;
			want = VALUE;
			continue;
		}
		if (*s.p != '{' && *s.p != '[') {
			if ((ret = scalar(&s)))
				return ret;
			want = AFTER;
			continue;
		}
		if (depth == API_JSON_DEPTH_MAX) {
			snprintf(err, errlen, "JSON nested too deeply (more than %d levels)",
				 API_JSON_DEPTH_MAX);
			return -EINVAL;
		}
		open[depth++] = (char)*s.p++;
		skip_ws(&s);
		/* an empty container closes at once */
		if (s.p < s.end && *s.p == (open[depth - 1] == '{' ? '}' : ']')) {
			s.p++;
			depth--;
			want = AFTER;
		} else {
			want = open[depth - 1] == '{' ? KEY : VALUE;
		}
	}
}

int api_json_parse(const char *text, size_t len, cJSON **out, char *err, size_t errlen)
{
	int ret;

	*out = NULL;
	ret = api_json_scan(text, len, err, errlen);
	if (ret)
		return ret;
	/* text passed the stricter scan: a refusal here is cJSON's malloc */
	*out = cJSON_ParseWithOpts(text, NULL, true);
	if (!*out) {
		snprintf(err, errlen, "out of memory parsing the body");
		return -ENOMEM;
	}
	return 0;
}
