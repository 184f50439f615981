/* SPDX-License-Identifier: BSD-2-Clause */
/* Build-time stand-in for filtergen's generated fg_filter.h: matches IPv4
 * frames (one direct and one slow-path load), so a syntax or verifier-shape
 * error in the BPF sources breaks the build, not the user. */
#ifndef FG_FILTER_H
#define FG_FILTER_H

static __always_inline __u32 fg_filter(FG_CTX_T *ctx, const void *data,
				       const void *data_end, __u32 wire_len)
{
	const __u8 *p = data;
	__u8 b[2];

	if (p + 14 > (const __u8 *)data_end) {
		if (FG_LOAD_BYTES(ctx, 12, b, 2))
			return 0;
	} else {
		b[0] = p[12];
		b[1] = p[13];
	}
	return b[0] == 0x08 && b[1] == 0x00 ? 262144 : 0;
}

#endif
