/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-written stand-ins for filtergen's fg_filter.h (same contract, see
 * filtergen.h), so the xdp tests don't depend on the filter compiler. Each
 * filters/<name>/fg_filter.h sets TF_KIND and includes this.
 *   TF_ALL: everything; TF_UDP: IPv4 UDP;
 *   TF_UDP9: IPv4 UDP to port 9; TF_RET100: IPv4 UDP, capture length 100.
 */
#ifndef TF_COMMON_H
#define TF_COMMON_H

#define TF_ALL 0
#define TF_UDP 2
#define TF_UDP9 3
#define TF_RET100 4

static __always_inline __u32 fg_filter(FG_CTX_T *ctx, const void *data,
				       const void *data_end, __u32 wire_len)
{
	__u8 h[38]; /* Ethernet + IPv4 (no options) + UDP ports */

	if (TF_KIND == TF_ALL)
		return 262144;
	/* Through the slow path on purpose: it works for non-linear skbs. */
	if (FG_LOAD_BYTES(ctx, 0, h, sizeof(h)))
		return 0;
	if (h[12] != 0x08 || h[13] != 0x00 || h[14] != 0x45 || h[23] != 17)
		return 0;
	if (TF_KIND == TF_UDP9 && (h[36] != 0 || h[37] != 9))
		return 0;
	return TF_KIND == TF_RET100 ? 100 : 262144;
}

#endif
