/* SPDX-License-Identifier: BSD-2-Clause */
/* extract: what the module's files share (not a public API). */
#ifndef EX_INTERNAL_H
#define EX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract/extract.h"

#define EX_IDX_MAGIC "CAPIDX\r\n" /* \r\n: a text-mode copy breaks it */
#define EX_IDX_VERSION 1u
#define EX_IDX_F_KEYS 1u
#define EX_IDX_F_SEEKABLE 2u

/* A block ends with the record that makes it this big, or this many
 * records (small frames). */
#define EX_BLOCK_BYTES (256u * 1024)
#define EX_BLOCK_RECORDS 4096u
/* Bloom filter: bits per distinct key, probes; capped at EX_BLOOM_MAX_PM
 * per mille of the block's bytes so the index stays within its budget */
#define EX_BLOOM_BITS_PER_KEY 10u
#define EX_BLOOM_K 6
#define EX_BLOOM_MIN_BITS 64u
#define EX_BLOOM_MAX_PM 15u
#define EX_VLAN_DEPTH 8
#define EX_MAX_PKT_KEYS 64

/* On disk, host byte order (the magic and version tell a foreign one). */
struct ex_idx_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_len;   /* sizeof(struct ex_idx_hdr) */
	uint32_t flags;	    /* EX_IDX_F_* */
	uint32_t dlt;
	uint32_t snaplen;
	uint32_t fingerprint; /* ex_fingerprint of the indexed file */
	uint64_t pcap_size; /* of the indexed file */
	uint64_t records;
	uint64_t min_ns, max_ns;
	uint32_t nblocks;
	uint32_t entry_len; /* sizeof(struct ex_idx_entry) */
	uint64_t blooms_off; /* where the Bloom filters start */
	uint64_t idx_size;   /* the whole .idx */
	uint32_t table_crc;  /* CRC-32 of the block table */
	uint32_t hdr_crc;    /* CRC-32 of this header up to here */
};

struct ex_idx_entry {
	uint64_t offset;
	uint64_t min_ns, max_ns;
	uint64_t bloom_off; /* from blooms_off */
	uint32_t records;
	uint32_t bloom_bits; /* a power of 2, or 0 (no keys) */
	uint32_t bloom_crc;
	uint32_t pad;
};

_Static_assert(sizeof(struct ex_idx_hdr) == 96, "index header");
_Static_assert(sizeof(struct ex_idx_entry) == 48, "index entry");

uint64_t ex_key_hash(const struct ex_key *k);
void ex_bloom_add(uint8_t *bits, uint32_t nbits, uint64_t h);
bool ex_bloom_has(const uint8_t *bits, uint32_t nbits, uint64_t h);
uint32_t ex_crc32(uint32_t crc, const void *buf, size_t len);

/* Whether a pcapng file can be read from any packet block on (one
 * section, every IDB before the first packet). fd is read from 0. */
int ex_ng_seekable(int fd, bool *seekable);

/* CRC-32 of the first and the last 4 KiB of a file of size bytes: with the
 * size, tells the indexed file from another one put in its place. */
int ex_fingerprint(int fd, uint64_t size, uint32_t *crc);

void ex_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
