/* SPDX-License-Identifier: BSD-2-Clause */
/* A set of strings (the message ids already in the catalog): open
 * addressing, FNV-1a, grown at half full. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fl_internal.h"

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static char **slot(char **v, size_t cap, const char *key)
{
	size_t i = hash(key) & (cap - 1);

	while (v[i] && strcmp(v[i], key))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

bool fl_set_has(const struct fl_set *s, const char *key)
{
	return s->cap && *slot(s->v, s->cap, key);
}

int fl_set_add(struct fl_set *s, const char *key)
{
	char **nv, **p;
	size_t ncap, i;

	if (fl_set_has(s, key))
		return 0;
	if (2 * (s->n + 1) > s->cap) {
		ncap = s->cap ? 2 * s->cap : 1024;
		nv = calloc(ncap, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->v[i])
				*slot(nv, ncap, s->v[i]) = s->v[i];
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	p = slot(s->v, s->cap, key);
	*p = strdup(key);
	if (!*p)
		return -ENOMEM;
	s->n++;
	return 0;
}

void fl_set_clear(struct fl_set *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
