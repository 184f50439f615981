/* SPDX-License-Identifier: BSD-2-Clause */
/* The entry points that take a filtergen filter: build with fg_build (clang
 * at run time), then load/swap the ELF objects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filtergen/filtergen.h"
#include "xdp/internal.h"

int xp_build(const struct fg_filter *f, struct xp_elf *out, char *err, size_t errlen)
{
	return xp_build_ex(f, NULL, out, err, errlen);
}

int xp_build_ex(const struct fg_filter *f, const struct fg_build_opts *bo, struct xp_elf *out,
		char *err, size_t errlen)
{
	const struct fg_src *srcs;
	size_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = xp_sources(0, &srcs, &n);
	if (!ret)
		ret = fg_build_ex(f, srcs, n, bo, &out->xdp, &out->xdp_len, err, errlen);
	if (!ret)
		ret = xp_sources(1, &srcs, &n);
	if (!ret)
		ret = fg_build_ex(f, srcs, n, bo, &out->tc, &out->tc_len, err, errlen);
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

_Static_assert(XP_DLT_EN10MB == FG_DLT_EN10MB && XP_DLT_RAW == FG_DLT_RAW &&
		       XP_LINKTYPE_ETHERNET == FG_LINKTYPE_ETHERNET &&
		       XP_LINKTYPE_RAW == FG_LINKTYPE_RAW,
	       "xp.h and filtergen.h name the same link types");

/* A filter compiled for another link type reads the wrong offsets: refuse. */
static int check_dlt(const char *ifname, int dlt, const struct fg_filter *f, char *err,
		     size_t errlen)
{
	if (fg_dlt(f) == dlt)
		return 0;
	xp_err(err, errlen, "%s: the filter was compiled for %s but the interface's packets "
	       "start at the %s header (compile it with fg_compile_dlt, DLT %d)", ifname,
	       fg_dlt(f) == XP_DLT_RAW ? "raw IP" : "Ethernet",
	       dlt == XP_DLT_RAW ? "IP" : "Ethernet", dlt);
	return -EINVAL;
}

int xp_open(const struct xp_opts *o, const struct fg_filter *f, struct xp **out,
	    char *err, size_t errlen)
{
	struct xp_elf e;
	int dlt, ret;

	*out = NULL;
	if (!o || !o->ifname || !f) {
		xp_err(err, errlen, "xp_open: missing argument");
		return -EINVAL;
	}
	/* Before the clang run; xp_open_elf checks the device type again. */
	ret = xp_iface_linktype(o->ifname, NULL, &dlt, err, errlen);
	if (!ret)
		ret = check_dlt(o->ifname, dlt, f, err, errlen);
	if (ret)
		return ret;
	ret = xp_build_ex(f, &(struct fg_build_opts){ .timeout_s = o->build_timeout_s }, &e,
			  err, errlen);
	if (ret)
		return ret;
	ret = xp_open_elf(o, &e, out, err, errlen);
	xp_elf_free(&e);
	return ret;
}

int xp_set_filter(struct xp *x, const struct fg_filter *f, char *err, size_t errlen)
{
	struct xp_info info;
	struct xp_elf e;
	int ret;

	xp_info(x, &info);
	ret = check_dlt(info.ifname, info.dlt, f, err, errlen);
	if (ret)
		return ret;
	ret = xp_build_ex(f, &(struct fg_build_opts){ .timeout_s = x->build_timeout_s }, &e,
			  err, errlen);
	if (ret)
		return ret;
	ret = xp_set_filter_elf(x, &e, err, errlen);
	xp_elf_free(&e);
	return ret;
}
