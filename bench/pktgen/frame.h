/* SPDX-License-Identifier: BSD-2-Clause */
/* Test frames for the generator: Ethernet + IPv4 + UDP, any size 60..1514. */
#ifndef BN_FRAME_H
#define BN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BN_FRAME_MIN 60
#define BN_FRAME_MAX 1514

/* Writes a size-byte frame (no FCS) into buf: src_mac -> dst_mac,
 * 10.1.0.0:1024 -> 10.2.0.1:9 UDP, payload filled with a counter pattern.
 * Returns 0 or -EINVAL for a size outside BN_FRAME_MIN..BN_FRAME_MAX. */
int bn_frame_udp(uint8_t *buf, size_t size, const uint8_t src_mac[6],
		 const uint8_t dst_mac[6]);

/* "aa:bb:cc:dd:ee:ff" -> 6 bytes; 0 or -EINVAL. */
int bn_parse_mac(const char *s, uint8_t mac[6]);

#endif
