/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The keys of a packet and the Bloom filters that hold them.
 *
 * The keys are a superset of what the recognised query shapes test (see
 * ex_need.c): whenever libpcap's code for `host`, `net` (full-length),
 * `port`, `ip proto` or `vlan` can accept a packet, the packet's keys here
 * contain the value it compared. Extra keys only cost skipping power, a
 * missing one would lose records: so every VLAN tag of the stack is
 * walked, ports are taken whatever the fragment offset, and ARP/RARP
 * addresses count as IPv4 addresses (libpcap's `host` tests them).
 */
#include <pcap/dlt.h>
#include <string.h>

#include <zlib.h>

#include "extract/ex_internal.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void add(struct ex_key *keys, size_t max, size_t *n, uint8_t type,
		const uint8_t *val, uint8_t len)
{
	if (*n < max) {
		keys[*n].type = type;
		keys[*n].len = len;
		memset(keys[*n].val, 0, sizeof(keys[*n].val));
		memcpy(keys[*n].val, val, len);
	}
	(*n)++;
}

/* An IPv4 address: itself and its /8, /16, /24 networks (for `net`). */
static void ip4_keys(const uint8_t *a, struct ex_key *keys, size_t max, size_t *n)
{
	add(keys, max, n, EX_KEY_IP4, a, 4);
	for (int l = 1; l <= 3; l++) {
		uint8_t v[5] = { 0 };
		memcpy(v, a, (size_t)l);
		v[4] = (uint8_t)(8 * l);
		add(keys, max, n, EX_KEY_NET4, v, 5);
	}
}

static bool l4_proto(uint8_t p)
{
	return p == 6 || p == 17 || p == 132;
}

/* IPv4 or IPv6 at p (len bytes left), v = 4 or 6. */
static void ip_keys(int v, const uint8_t *p, uint32_t len, struct ex_key *keys,
		    size_t max, size_t *n)
{
	if (v == 4) {
		if (len >= 10)
			add(keys, max, n, EX_KEY_PROTO, p + 9, 1);
		if (len >= 16)
			ip4_keys(p + 12, keys, max, n);
		if (len >= 20)
			ip4_keys(p + 16, keys, max, n);
		if (len >= 10 && l4_proto(p[9])) {
			uint32_t hl = 4u * (p[0] & 0xf);
			if (len >= hl + 2)
				add(keys, max, n, EX_KEY_PORT, p + hl, 2);
			if (len >= hl + 4)
				add(keys, max, n, EX_KEY_PORT, p + hl + 2, 2);
		}
		return;
	}
	if (len >= 7) {
		add(keys, max, n, EX_KEY_PROTO, p + 6, 1);
		/* libpcap's ip6 proto also looks behind a fragment header */
		if (p[6] == 44 && len >= 41)
			add(keys, max, n, EX_KEY_PROTO, p + 40, 1);
	}
	if (len >= 24)
		add(keys, max, n, EX_KEY_IP6, p + 8, 16);
	if (len >= 40)
		add(keys, max, n, EX_KEY_IP6, p + 24, 16);
	if (len >= 7 && l4_proto(p[6])) {
		if (len >= 42)
			add(keys, max, n, EX_KEY_PORT, p + 40, 2);
		if (len >= 44)
			add(keys, max, n, EX_KEY_PORT, p + 42, 2);
	}
}

static bool is_vlan(uint16_t et)
{
	return et == 0x8100 || et == 0x88a8 || et == 0x9100;
}

size_t ex_pkt_keys(int dlt, const uint8_t *pkt, uint32_t caplen, struct ex_key *keys, size_t max)
{
	size_t n = 0;

	if (dlt == DLT_RAW) {
		if (caplen >= 1 && (pkt[0] >> 4 == 4 || pkt[0] >> 4 == 6))
			ip_keys(pkt[0] >> 4, pkt, caplen, keys, max, &n);
		return n;
	}
	if (dlt != DLT_EN10MB || caplen < 14)
		return 0;
	uint32_t off = 12;
	uint16_t et = be16(pkt + off);
	for (int depth = 0; is_vlan(et) && depth < EX_VLAN_DEPTH; depth++) {
		if (caplen < off + 4)
			return n;
		uint8_t vid[2] = { pkt[off + 2] & 0x0f, pkt[off + 3] };
		add(keys, max, &n, EX_KEY_VLAN, vid, 2);
		off += 4;
		if (caplen < off + 2)
			return n;
		et = be16(pkt + off);
	}
	off += 2; /* the network header */
	if (et == 0x0800 || et == 0x86dd) {
		ip_keys(et == 0x0800 ? 4 : 6, pkt + off, caplen - off, keys, max, &n);
	} else if (et == 0x0806 || et == 0x8035) {
		if (caplen >= off + 18)
			ip4_keys(pkt + off + 14, keys, max, &n);
		if (caplen >= off + 28)
			ip4_keys(pkt + off + 24, keys, max, &n);
	}
	return n;
}

/* 64-bit hash of a key (FNV-1a over type, length and value, then a
 * finaliser so both halves are usable as independent hashes). */
uint64_t ex_key_hash(const struct ex_key *k)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = (h ^ k->type) * 0x100000001b3ull;
	h = (h ^ k->len) * 0x100000001b3ull;
	for (unsigned int i = 0; i < k->len && i < sizeof(k->val); i++)
		h = (h ^ k->val[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Bloom filter of nbits (a power of 2) bits: EX_BLOOM_K probes by double
 * hashing. */
void ex_bloom_add(uint8_t *bits, uint32_t nbits, uint64_t h)
{
	uint32_t a = (uint32_t)h, b = (uint32_t)(h >> 32) | 1;

	for (int i = 0; i < EX_BLOOM_K; i++) {
		uint32_t bit = (a + (uint32_t)i * b) & (nbits - 1);
		bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
	}
}

bool ex_bloom_has(const uint8_t *bits, uint32_t nbits, uint64_t h)
{
	uint32_t a = (uint32_t)h, b = (uint32_t)(h >> 32) | 1;

	for (int i = 0; i < EX_BLOOM_K; i++) {
		uint32_t bit = (a + (uint32_t)i * b) & (nbits - 1);
		if (!(bits[bit >> 3] & (1u << (bit & 7))))
			return false;
	}
	return true;
}

/* CRC-32 (IEEE 802.3), zlib's: the same checksum the index always had, so
 * indexes written before stay valid. */
uint32_t ex_crc32(uint32_t crc, const void *buf, size_t len)
{
	return (uint32_t)crc32_z(crc, buf, len);
}
