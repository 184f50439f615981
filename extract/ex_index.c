/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building FILE.idx: one sequential pass through the sealed file with
 * libpcap (the same reader tcpdump uses, so the blocks' record counts are
 * what a query reads back), a block every EX_BLOCK_BYTES or
 * EX_BLOCK_RECORDS, the distinct keys of each block into a Bloom filter
 * sized for them. Written under a temporary name, then renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract/ex_internal.h"

void ex_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int ex_fingerprint(int fd, uint64_t size, uint32_t *crc)
{
	uint8_t buf[4096];
	uint64_t offs[2] = { 0, size > sizeof(buf) ? size - sizeof(buf) : 0 };

	*crc = 0;
	for (int i = 0; i < 2; i++) {
		size_t want = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t r = pread(fd, buf, want, (off_t)offs[i]);
		if (r < 0)
			return -errno;
		if ((size_t)r != want)
			return -EAGAIN; /* shorter than its size: changing */
		*crc = ex_crc32(*crc, buf, want);
	}
	return 0;
}

/* The distinct key hashes of the block being built (open addressing;
 * 0 marks a free slot, so a hash of 0 is stored as 1). */
struct keyset {
	uint64_t *slot;
	size_t cap, n;
};

static int keyset_add(struct keyset *s, uint64_t h)
{
	h += !h;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			size_t j = s->slot[i] & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	size_t j = h & (s->cap - 1);
	while (s->slot[j]) {
		if (s->slot[j] == h)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = h;
	s->n++;
	return 0;
}

struct builder {
	struct ex_idx_entry *ent;
	size_t nent, capent;
	uint8_t *blooms;
	size_t blen, bcap;
	struct keyset ks;
	bool keys;
	/* the block being built */
	uint64_t off, bytes, min_ns, max_ns;
	uint32_t records;
};

/* Closes the current block: its entry and its Bloom filter. */
static int block_end(struct builder *b)
{
	if (!b->records)
		return 0;
	if (b->nent == b->capent) {
		size_t cap = b->capent ? b->capent * 2 : 256;
		void *p = realloc(b->ent, cap * sizeof(*b->ent));
		if (!p)
			return -ENOMEM;
		b->ent = p;
		b->capent = cap;
	}
	struct ex_idx_entry *e = &b->ent[b->nent++];
	*e = (struct ex_idx_entry){ .offset = b->off, .min_ns = b->min_ns,
				    .max_ns = b->max_ns, .records = b->records,
				    .bloom_off = b->blen };
	if (b->keys) {
		uint64_t want = (uint64_t)b->ks.n * EX_BLOOM_BITS_PER_KEY;
		uint64_t cap = b->bytes * 8 * EX_BLOOM_MAX_PM / 1000;
		uint32_t bits = EX_BLOOM_MIN_BITS;
		while (bits < want && (uint64_t)bits * 2 <= cap)
			bits *= 2;
		size_t bytes = bits / 8;
		if (b->blen + bytes > b->bcap) {
			size_t bcap = b->bcap ? b->bcap : 65536;
			while (bcap < b->blen + bytes)
				bcap *= 2;
			void *p = realloc(b->blooms, bcap);
			if (!p)
				return -ENOMEM;
			b->blooms = p;
			b->bcap = bcap;
		}
		uint8_t *bl = b->blooms + b->blen;
		memset(bl, 0, bytes);
		for (size_t i = 0; i < b->ks.cap; i++)
			if (b->ks.slot[i])
				ex_bloom_add(bl, bits, b->ks.slot[i]);
		e->bloom_bits = bits;
		e->bloom_crc = ex_crc32(0, bl, bytes);
		b->blen += bytes;
		if (b->ks.slot)
			memset(b->ks.slot, 0, b->ks.cap * sizeof(*b->ks.slot));
		b->ks.n = 0;
	}
	b->records = 0;
	b->bytes = 0;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes the index to a temporary file beside path.idx and renames it. */
static int store(const char *pcap_path, const struct stat *pst, struct builder *b,
		 struct ex_idx_hdr *h, char *err, size_t errlen)
{
	char *tmp = NULL, *dst = NULL;
	int fd = -1, ret;

	if (asprintf(&dst, "%s.idx", pcap_path) < 0 ||
	    asprintf(&tmp, "%s.idx.tmp.XXXXXX", pcap_path) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		ex_errf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* readable by whoever may read the capture file */
	(void)!fchown(fd, (uid_t)-1, pst->st_gid);
	(void)!fchmod(fd, pst->st_mode & 0666);
	size_t tlen = b->nent * sizeof(*b->ent);
	h->nblocks = (uint32_t)b->nent;
	h->entry_len = sizeof(*b->ent);
	h->blooms_off = sizeof(*h) + tlen;
	h->idx_size = h->blooms_off + b->blen;
	h->table_crc = ex_crc32(0, b->ent, tlen);
	h->hdr_crc = ex_crc32(0, h, offsetof(struct ex_idx_hdr, hdr_crc));
	ret = write_all(fd, h, sizeof(*h));
	if (!ret)
		ret = write_all(fd, b->ent, tlen);
	if (!ret)
		ret = write_all(fd, b->blooms, b->blen);
	if (!ret && close(fd) < 0)
		ret = -errno;
	fd = -1;
	if (!ret && rename(tmp, dst) < 0)
		ret = -errno;
	if (ret)
		ex_errf(err, errlen, "%s: %s", dst, strerror(-ret));
out:
	if (fd >= 0)
		close(fd);
	if (ret && tmp)
		unlink(tmp);
	free(tmp);
	free(dst);
	return ret;
}

int ex_index_file(const char *pcap_path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct builder b = { 0 };
	struct ex_idx_hdr h = { 0 };
	struct ex_key keys[EX_MAX_PKT_KEYS];
	struct pcap_pkthdr *ph;
	const u_char *data;
	struct stat st, st2;
	pcap_t *p = NULL;
	FILE *fp = NULL;
	char *vbuf = NULL;
	int ret, r;

	fp = fopen(pcap_path, "rb");
	if (!fp) {
		ret = -errno;
		ex_errf(err, errlen, "%s: %s", pcap_path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		ex_errf(err, errlen, "%s: not a regular file", pcap_path);
		goto out;
	}
	uint32_t magic = 0;
	if (pread(fileno(fp), &magic, 4, 0) != 4) {
		ret = -EINVAL;
		ex_errf(err, errlen, "%s: not a pcap or pcapng file", pcap_path);
		goto out;
	}
	bool seekable = true;
	if (magic == 0x0a0d0d0au) {
		ret = ex_ng_seekable(fileno(fp), &seekable);
		if (ret) {
			ex_errf(err, errlen, "%s: unreadable pcapng blocks", pcap_path);
			goto out;
		}
	}
	vbuf = malloc(1 << 20);
	if (!vbuf) {
		ret = -ENOMEM;
		goto out;
	}
	setvbuf(fp, vbuf, _IOFBF, 1 << 20);
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		ret = -EINVAL;
		ex_errf(err, errlen, "%s: %s", pcap_path, perr);
		goto out;
	}
	FILE *pf = fp;
	fp = NULL; /* pcap_close closes it */
	int dlt = pcap_datalink(p);
	b.keys = dlt == DLT_EN10MB || dlt == DLT_RAW; /* what ex_pkt_keys knows */
	b.off = (uint64_t)ftello(pf);
	h.min_ns = UINT64_MAX;
	while ((r = pcap_next_ex(p, &ph, &data)) == 1) {
		uint64_t ns = (uint64_t)ph->ts.tv_sec * 1000000000u + (uint64_t)ph->ts.tv_usec;
		if (!b.records || ns < b.min_ns)
			b.min_ns = ns;
		if (!b.records || ns > b.max_ns)
			b.max_ns = ns;
		if (ns < h.min_ns)
			h.min_ns = ns;
		if (ns > h.max_ns)
			h.max_ns = ns;
		h.records++;
		b.records++;
		b.bytes += 16 + ph->caplen;
		if (b.keys) {
			size_t n = ex_pkt_keys(dlt, data, ph->caplen, keys, EX_MAX_PKT_KEYS);
			for (size_t i = 0; i < n && i < EX_MAX_PKT_KEYS; i++) {
				ret = keyset_add(&b.ks, ex_key_hash(&keys[i]));
				if (ret)
					goto out;
			}
		}
		if (b.bytes >= EX_BLOCK_BYTES || b.records >= EX_BLOCK_RECORDS) {
			ret = block_end(&b);
			if (ret)
				goto out;
			b.off = (uint64_t)ftello(pf);
		}
	}
	if (r != PCAP_ERROR_BREAK) {
		ret = -EINVAL;
		ex_errf(err, errlen, "%s: %s", pcap_path, pcap_geterr(p));
		goto out;
	}
	ret = block_end(&b);
	if (ret)
		goto out;
	if (!h.records)
		h.min_ns = 0;
	/* a file still growing is not sealed: its index would be stale */
	if (stat(pcap_path, &st2) < 0 || st2.st_size != st.st_size || st2.st_ino != st.st_ino ||
	    ex_fingerprint(fileno(pf), (uint64_t)st.st_size, &h.fingerprint)) {
		ret = -EAGAIN;
		ex_errf(err, errlen, "%s: changed while being indexed", pcap_path);
		goto out;
	}
	memcpy(h.magic, EX_IDX_MAGIC, sizeof(h.magic));
	h.version = EX_IDX_VERSION;
	h.hdr_len = sizeof(h);
	h.flags = (b.keys ? EX_IDX_F_KEYS : 0) | (seekable ? EX_IDX_F_SEEKABLE : 0);
	h.dlt = (uint32_t)dlt;
	h.snaplen = (uint32_t)pcap_snapshot(p);
	h.pcap_size = (uint64_t)st.st_size;
	ret = store(pcap_path, &st, &b, &h, err, errlen);
out:
	if (ret == -ENOMEM)
		ex_errf(err, errlen, "%s: out of memory", pcap_path);
	if (p)
		pcap_close(p);
	if (fp)
		fclose(fp);
	free(vbuf);
	free(b.ent);
	free(b.blooms);
	free(b.ks.slot);
	return ret;
}

/* pcapng block walk: reads the file in large pieces, looks only at the
 * block headers. */
int ex_ng_seekable(int fd, bool *seekable)
{
	const size_t bufsz = 1 << 20;
	uint8_t *buf = malloc(bufsz);
	uint64_t off = 0, skip = 0;
	bool swap = false, seen_pkt = false;
	int shbs = 0, ret = 0;
	size_t have = 0;

	*seekable = false;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r = pread(fd, buf + have, bufsz - have, (off_t)(off + have));
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		have += (size_t)r;
		size_t pos = 0;
		while (pos + 12 <= have) {
			uint32_t type, len;
			memcpy(&type, buf + pos, 4);
			memcpy(&len, buf + pos + 4, 4);
			if (type == 0x0a0d0d0au) {
				uint32_t bom;
				memcpy(&bom, buf + pos + 8, 4);
				swap = bom == 0x4d3c2b1au;
				shbs++;
			}
			if (swap) {
				type = __builtin_bswap32(type);
				len = __builtin_bswap32(len);
			}
			if (len < 12 || len & 3) {
				ret = -EINVAL;
				goto out;
			}
			if (type == 1 && seen_pkt)
				goto out; /* an IDB after packets */
			if (type == 2 || type == 3 || type == 6)
				seen_pkt = true;
			if (pos + len > have) {
				skip = pos + len - have;
				pos = have;
				break;
			}
			pos += len;
		}
		off += pos;
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		if (skip) {
			off += skip;
			skip = 0;
		}
		if (!r && !have)
			break;
		if (!r) /* a cut block at the end: libpcap reports it */
			break;
	}
	*seekable = shbs == 1;
out:
	free(buf);
	return ret;
}
