/* SPDX-License-Identifier: BSD-2-Clause */
/* The classic pcap file format, nanosecond variant, in host byte order. */
#ifndef WR_PCAP_H
#define WR_PCAP_H

#include <stdint.h>

#define WR_PCAP_MAGIC_NS 0xa1b23c4du
#define WR_LINKTYPE_ETHERNET 1u

struct wr_pcap_fhdr {
	uint32_t magic;
	uint16_t version_major; /* 2 */
	uint16_t version_minor; /* 4 */
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct wr_pcap_rhdr {
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t incl_len;
	uint32_t orig_len;
};

_Static_assert(sizeof(struct wr_pcap_fhdr) == 24, "pcap file header");
_Static_assert(sizeof(struct wr_pcap_rhdr) == 16, "pcap record header");

static inline void wr_pcap_fhdr_init(struct wr_pcap_fhdr *h, uint32_t snaplen,
				     uint32_t linktype)
{
	*h = (struct wr_pcap_fhdr){
		.magic = WR_PCAP_MAGIC_NS,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = snaplen,
		.linktype = linktype,
	};
}

#endif
