/* SPDX-License-Identifier: BSD-2-Clause */
/* The entry points that take a filtergen filter: build with fg_build (clang
 * at run time), then load/swap the ELF objects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filtergen/filtergen.h"
#include "xdp/xp.h"

int xp_build(const struct fg_filter *f, struct xp_elf *out, char *err, size_t errlen)
{
	const struct fg_src *srcs;
	size_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = xp_sources(0, &srcs, &n);
	if (!ret)
		ret = fg_build(f, srcs, n, &out->xdp, &out->xdp_len, err, errlen);
	if (!ret)
		ret = xp_sources(1, &srcs, &n);
	if (!ret)
		ret = fg_build(f, srcs, n, &out->tc, &out->tc_len, err, errlen);
	if (ret)
		xp_elf_free(out);
	return ret;
}

void xp_elf_free(struct xp_elf *e)
{
	free(e->xdp);
	free(e->tc);
	memset(e, 0, sizeof(*e));
}

int xp_open(const struct xp_opts *o, const struct fg_filter *f, struct xp **out,
	    char *err, size_t errlen)
{
	struct xp_elf e;
	int ret;

	*out = NULL;
	ret = xp_build(f, &e, err, errlen);
	if (ret)
		return ret;
	ret = xp_open_elf(o, &e, out, err, errlen);
	xp_elf_free(&e);
	return ret;
}

int xp_set_filter(struct xp *x, const struct fg_filter *f, char *err, size_t errlen)
{
	struct xp_elf e;
	int ret;

	ret = xp_build(f, &e, err, errlen);
	if (ret)
		return ret;
	ret = xp_set_filter_elf(x, &e, err, errlen);
	xp_elf_free(&e);
	return ret;
}
