/* SPDX-License-Identifier: BSD-2-Clause */
/* The classic pcap file format, nanosecond variant, in host byte order. */
#ifndef WR_PCAP_H
#define WR_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* pcapng (draft-ietf-opsawg-pcapng): the blocks the writer uses. */
#define WR_NG_SHB 0x0a0d0d0au
#define WR_NG_IDB 0x00000001u
#define WR_NG_ISB 0x00000005u
#define WR_NG_EPB 0x00000006u
#define WR_NG_BOM 0x1a2b3c4du

/* Enhanced Packet Block up to the data. */
struct wr_ng_epb {
	uint32_t type;
	uint32_t len;	 /* block total length */
	uint32_t ifid;
	uint32_t ts_hi, ts_lo; /* if_tsresol 9: nanoseconds */
	uint32_t cap_len;
	uint32_t orig_len;
};

_Static_assert(sizeof(struct wr_ng_epb) == 28, "EPB header");

/* Bytes of an EPB beyond the data: header, padding (at most 3), epb_flags
 * option and end of options, trailing length. */
#define WR_NG_EPB_OVERHEAD (28u + 3u + 12u + 4u)

/* A record (pcap record or pcapng block) at p, of which at least
 * WR_REC_MIN bytes are readable: its whole length; 0 if it cannot be
 * one (a pcapng block shorter than 12 bytes or not a multiple of 4). */
#define WR_REC_MIN 16u
static inline size_t wr_rec_len(const uint8_t *p, bool ng)
{
	uint32_t v;

	if (ng) {
		memcpy(&v, p + 4, 4);
		return v >= 12 && !(v & 3) ? v : 0;
	}
	memcpy(&v, p + 8, 4);
	return sizeof(struct wr_pcap_rhdr) + (size_t)v;
}

/* A record's time in ns (pcapng: only for an EPB, else 0). */
static inline uint64_t wr_rec_ts(const uint8_t *p, bool ng)
{
	uint32_t a, b;

	if (ng) {
		memcpy(&a, p, 4);
		if (a != WR_NG_EPB)
			return 0;
		memcpy(&a, p + 12, 4);
		memcpy(&b, p + 16, 4);
		return (uint64_t)a << 32 | b;
	}
	memcpy(&a, p, 4);
	memcpy(&b, p + 4, 4);
	return (uint64_t)a * 1000000000ull + b;
}

/* Whether the record at p is a packet (a pcap record, a pcapng EPB). */
static inline bool wr_rec_is_pkt(const uint8_t *p, bool ng)
{
	uint32_t t;

	if (!ng)
		return true;
	memcpy(&t, p, 4);
	return t == WR_NG_EPB;
}

#endif
