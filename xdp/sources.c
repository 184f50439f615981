/* SPDX-License-Identifier: BSD-2-Clause */
/* The BPF sources embedded in the library (ca_embed), for fg_build. */
#include <errno.h>

#include "filtergen/filtergen.h"
#include "xdp/xp.h"

extern const unsigned char xp_src_capture[], xp_src_egress[], xp_src_maps[],
	xp_src_shared[];

int xp_sources(int which, const struct fg_src **srcs, size_t *n)
{
	static const struct fg_src xdp_srcs[] = {
		{ "capture.bpf.c", (const char *)xp_src_capture },
		{ "ca_maps.bpf.h", (const char *)xp_src_maps },
		{ "ca_shared.h", (const char *)xp_src_shared },
	};
	static const struct fg_src tc_srcs[] = {
		{ "egress.bpf.c", (const char *)xp_src_egress },
		{ "ca_maps.bpf.h", (const char *)xp_src_maps },
		{ "ca_shared.h", (const char *)xp_src_shared },
	};

	if (which != 0 && which != 1)
		return -EINVAL;
	*srcs = which ? tc_srcs : xdp_srcs;
	*n = 3;
	return 0;
}
