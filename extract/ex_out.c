/* SPDX-License-Identifier: BSD-2-Clause */
/* The answer: one pcap (nanosecond magic) or pcapng stream. */
#include <errno.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "extract/ex_out.h"

/* libpcap DLT -> the LINKTYPE a file carries (they differ for raw IP). */
static uint32_t linktype(int dlt)
{
	return dlt == DLT_RAW ? 101u : (uint32_t)dlt;
}

static int put(struct ex_out *o, const void *p, size_t len)
{
	if (len && fwrite(p, 1, len, o->f) != len)
		return -EIO;
	return 0;
}

int ex_out_begin(struct ex_out *o, FILE *f, enum ex_format fmt, const int *dlts, size_t ndlt,
		 uint32_t snaplen)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->fmt = fmt;
	o->ndlt = ndlt;
	for (size_t i = 0; i < ndlt && i < EX_OUT_MAX_IF; i++)
		o->dlts[i] = dlts[i];
	if (fmt == EX_FMT_PCAP) {
		uint32_t h[6] = { 0xa1b23c4du, 2u | 4u << 16, 0, 0, snaplen,
				  linktype(ndlt ? dlts[0] : DLT_EN10MB) };
		return put(o, h, sizeof(h));
	}
	/* SHB (no options, section length unknown), then an IDB per link
	 * type with if_tsresol 9 (nanoseconds) */
	uint32_t shb[7] = { 0x0a0d0d0au, 28, 0x1a2b3c4du, 1, 0xffffffffu, 0xffffffffu, 28 };
	int ret = put(o, shb, sizeof(shb));
	for (size_t i = 0; !ret && i < o->ndlt; i++) {
		uint32_t idb[8] = { 1, 32, linktype(o->dlts[i]), snaplen,
				    9u | 1u << 16, 9, 0, 32 };
		ret = put(o, idb, sizeof(idb));
	}
	return ret;
}

int ex_out_rec(struct ex_out *o, int dlt, uint64_t ns, uint32_t caplen, uint32_t wirelen,
	       const void *data)
{
	if (o->fmt == EX_FMT_PCAP) {
		uint32_t h[4] = { (uint32_t)(ns / 1000000000u), (uint32_t)(ns % 1000000000u),
				  caplen, wirelen };
		int ret = put(o, h, sizeof(h));
		return ret ? ret : put(o, data, caplen);
	}
	uint32_t ifid = 0;
	while (ifid + 1 < o->ndlt && o->dlts[ifid] != dlt)
		ifid++;
	uint32_t pad = (4 - (caplen & 3)) & 3, len = 32 + caplen + pad;
	uint32_t h[7] = { 6, len, ifid, (uint32_t)(ns >> 32), (uint32_t)ns, caplen, wirelen };
	static const uint8_t zero[4];
	int ret = put(o, h, sizeof(h));
	if (!ret)
		ret = put(o, data, caplen);
	if (!ret)
		ret = put(o, zero, pad);
	if (!ret)
		ret = put(o, &len, 4);
	return ret;
}

int ex_out_end(struct ex_out *o)
{
	return fflush(o->f) ? -errno : 0;
}
