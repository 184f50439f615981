/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading FILE.idx back, never trusting it blindly: the header and the
 * block table are checked (magic, version, checksums, the pcap file's
 * size now, offsets in order and inside the file) before anything is used;
 * each Bloom filter is checked against its own checksum when it is read
 * (a bad one only means "may match").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract/ex_internal.h"

struct ex_index_priv {
	int fd;
	struct ex_idx_entry *ent;
	uint64_t blooms_off;
	/* the last Bloom filter read */
	int64_t cur;
	bool cur_ok;
	uint8_t *cur_bits;
	size_t cur_cap;
};

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!r)
			return -EBADMSG;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

void ex_index_free(struct ex_index *ix)
{
	if (!ix)
		return;
	if (ix->priv) {
		if (ix->priv->fd >= 0)
			close(ix->priv->fd);
		free(ix->priv->ent);
		free(ix->priv->cur_bits);
		free(ix->priv);
	}
	free(ix->blocks);
	free(ix);
}

int ex_index_load(const char *pcap_path, struct ex_index **out, char *err, size_t errlen)
{
	struct ex_index *ix = NULL;
	struct ex_idx_hdr h;
	struct stat st, pst;
	char *path = NULL;
	int ret;

	*out = NULL;
	if (asprintf(&path, "%s.idx", pcap_path) < 0)
		return -ENOMEM;
	ix = calloc(1, sizeof(*ix));
	if (!ix || !(ix->priv = calloc(1, sizeof(*ix->priv)))) {
		ret = -ENOMEM;
		goto out;
	}
	ix->priv->cur = -1;
	ix->priv->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (ix->priv->fd < 0) {
		ret = -errno;
		ex_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(ix->priv->fd, &st) < 0 || stat(pcap_path, &pst) < 0) {
		ret = -errno;
		ex_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = -EBADMSG;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size < sizeof(h) ||
	    pread_all(ix->priv->fd, &h, sizeof(h), 0) ||
	    memcmp(h.magic, EX_IDX_MAGIC, sizeof(h.magic)) || h.hdr_len != sizeof(h) ||
	    h.hdr_crc != ex_crc32(0, &h, offsetof(struct ex_idx_hdr, hdr_crc))) {
		ex_errf(err, errlen, "%s: damaged (header)", path);
		goto out;
	}
	if (h.version != EX_IDX_VERSION) {
		ex_errf(err, errlen, "%s: version %u, not %u", path, h.version, EX_IDX_VERSION);
		goto out;
	}
	if (h.pcap_size != (uint64_t)pst.st_size) {
		ret = -ESTALE;
		ex_errf(err, errlen, "%s: stale (made for %llu bytes, the file has %llu)", path,
			(unsigned long long)h.pcap_size, (unsigned long long)pst.st_size);
		goto out;
	}
	int pfd = open(pcap_path, O_RDONLY | O_CLOEXEC);
	uint32_t fp = 0;
	if (pfd < 0 || ex_fingerprint(pfd, h.pcap_size, &fp) || fp != h.fingerprint) {
		if (pfd >= 0)
			close(pfd);
		ret = -ESTALE;
		ex_errf(err, errlen, "%s: stale (the file's content is not the indexed one)", path);
		goto out;
	}
	close(pfd);
	size_t tlen = (size_t)h.nblocks * sizeof(struct ex_idx_entry);
	if (h.entry_len != sizeof(struct ex_idx_entry) || h.idx_size != (uint64_t)st.st_size ||
	    h.blooms_off != sizeof(h) + tlen || h.blooms_off > h.idx_size) {
		ex_errf(err, errlen, "%s: damaged (sizes)", path);
		goto out;
	}
	ix->priv->ent = malloc(tlen ? tlen : 1);
	ix->blocks = calloc(h.nblocks ? h.nblocks : 1, sizeof(*ix->blocks));
	if (!ix->priv->ent || !ix->blocks) {
		ret = -ENOMEM;
		goto out;
	}
	if (pread_all(ix->priv->fd, ix->priv->ent, tlen, sizeof(h)) ||
	    ex_crc32(0, ix->priv->ent, tlen) != h.table_crc) {
		ex_errf(err, errlen, "%s: damaged (block table)", path);
		goto out;
	}
	uint64_t recs = 0, blen = h.idx_size - h.blooms_off;
	for (uint32_t i = 0; i < h.nblocks; i++) {
		struct ex_idx_entry *e = &ix->priv->ent[i];
		bool bad = e->offset >= h.pcap_size || (i && e->offset <= ix->priv->ent[i - 1].offset) ||
			   e->min_ns > e->max_ns || !e->records ||
			   (e->bloom_bits && (e->bloom_bits & (e->bloom_bits - 1) ||
					      e->bloom_bits < 8 || e->bloom_off > blen ||
					      e->bloom_bits / 8 > blen - e->bloom_off));
		if (bad) {
			ex_errf(err, errlen, "%s: damaged (block %u)", path, i);
			goto out;
		}
		recs += e->records;
		ix->blocks[i] = (struct ex_index_block){ .offset = e->offset, .min_ns = e->min_ns,
							 .max_ns = e->max_ns, .records = e->records,
							 .bloom_ok = true };
	}
	if (recs != h.records) {
		ex_errf(err, errlen, "%s: damaged (record count)", path);
		goto out;
	}
	ix->version = h.version;
	ix->dlt = h.dlt;
	ix->snaplen = h.snaplen;
	ix->keys = h.flags & EX_IDX_F_KEYS;
	ix->seekable = h.flags & EX_IDX_F_SEEKABLE;
	ix->pcap_size = h.pcap_size;
	ix->records = h.records;
	ix->min_ns = h.min_ns;
	ix->max_ns = h.max_ns;
	ix->nblocks = h.nblocks;
	ix->priv->blooms_off = h.blooms_off;
	ret = 0;
out:
	free(path);
	if (ret)
		ex_index_free(ix);
	else
		*out = ix;
	return ret;
}

/* Reads (and checks) block b's Bloom filter into the cache. */
static bool load_bloom(struct ex_index *ix, uint32_t b)
{
	struct ex_index_priv *pv = ix->priv;
	struct ex_idx_entry *e = &pv->ent[b];
	size_t len = e->bloom_bits / 8;

	if (pv->cur == b)
		return pv->cur_ok;
	pv->cur = b;
	pv->cur_ok = false;
	if (len > pv->cur_cap) {
		free(pv->cur_bits);
		pv->cur_bits = malloc(len);
		pv->cur_cap = pv->cur_bits ? len : 0;
		if (!pv->cur_bits)
			return false;
	}
	if (pread_all(pv->fd, pv->cur_bits, len, pv->blooms_off + e->bloom_off) ||
	    ex_crc32(0, pv->cur_bits, len) != e->bloom_crc) {
		ix->blocks[b].bloom_ok = false;
		return false;
	}
	pv->cur_ok = true;
	return true;
}

bool ex_index_may_have(struct ex_index *ix, uint32_t b, const struct ex_key *k)
{
	if (b >= ix->nblocks || !ix->keys || !ix->priv->ent[b].bloom_bits || !load_bloom(ix, b))
		return true;
	return ex_bloom_has(ix->priv->cur_bits, ix->priv->ent[b].bloom_bits, ex_key_hash(k));
}
