/* SPDX-License-Identifier: BSD-2-Clause */
/* --pcap: the frames of a capture file, for replay one by one. */
#ifndef BN_REPLAY_H
#define BN_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct frame {
	uint8_t *data;
	uint32_t len;
};

/* Reads every record of an Ethernet pcap file whose captured length fits a
 * live frame (14..BN_FRAME_MAX bytes), as captured; says on stderr how many
 * it skipped. *out is an array of *n frames (free each data, then the array;
 * also on error). -EINVAL: unreadable, not Ethernet, or nothing usable. */
int bn_replay_load(const char *path, struct frame **out, size_t *n);

#endif
