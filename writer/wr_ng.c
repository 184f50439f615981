/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapng blocks other than packets: the file header (Section Header Block
 * and one Interface Description Block per direction) and the Interface
 * Statistics Blocks appended when a file is sealed or closed. Host byte
 * order, as the SHB's byte-order magic says. The EPBs themselves are
 * written by the producers (wr_stream.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define IF_FILTER 11
#define ISB_STARTTIME 2
#define ISB_ENDTIME 3
#define ISB_IFRECV 4
#define ISB_IFDROP 5
#define ISB_FILTERACCEPT 6
#define ISB_OSDROP 7
#define ISB_USRDELIV 8

struct blk {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void put(struct blk *b, const void *src, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2 + 256;
		uint8_t *p = realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, len);
	b->len += len;
}

static void put32(struct blk *b, uint32_t v)
{
	put(b, &v, 4);
}

static void opt(struct blk *b, uint16_t code, const void *val, size_t len)
{
	static const uint8_t zero[4];
	uint16_t h[2] = { code, (uint16_t)len };

	put(b, h, 4);
	put(b, val, len);
	put(b, zero, (4 - len % 4) % 4);
}

static void opt64(struct blk *b, uint16_t code, uint64_t v)
{
	/* timestamps: high 32 bits first, like the EPB (tsresol units) */
	uint32_t t[2] = { (uint32_t)(v >> 32), (uint32_t)v };

	if (code == ISB_STARTTIME || code == ISB_ENDTIME)
		opt(b, code, t, 8);
	else
		opt(b, code, &v, 8);
}

/* Starts a block: type and a length placeholder; returns its offset. */
static size_t begin(struct blk *b, uint32_t type)
{
	size_t at = b->len;

	put32(b, type);
	put32(b, 0);
	return at;
}

/* Ends the options and the block (total length at both ends). */
static void end(struct blk *b, size_t at, bool opts)
{
	uint32_t len;

	if (opts)
		put32(b, 0); /* opt_endofopt */
	len = (uint32_t)(b->len - at + 4);
	put32(b, len);
	if (!b->oom)
		memcpy(b->p + at + 4, &len, 4);
}

static void idb(struct blk *b, const struct wr_opts *o, const char *filter, const char *dir)
{
	size_t at = begin(b, WR_NG_IDB);
	uint16_t lt[2] = { (uint16_t)o->linktype, 0 };
	uint8_t res = 9;

	put(b, lt, 4);
	put32(b, o->snaplen);
	if (o->if_name && *o->if_name)
		opt(b, IF_NAME, o->if_name, strlen(o->if_name));
	opt(b, IF_DESCRIPTION, dir, strlen(dir));
	opt(b, IF_TSRESOL, &res, 1);
	if (filter && *filter) {
		size_t fl = strlen(filter);
		uint8_t *f = malloc(fl + 1);

		if (!f) {
			b->oom = true;
			return;
		}
		f[0] = 0; /* libpcap filter string */
		memcpy(f + 1, filter, fl);
		opt(b, IF_FILTER, f, fl + 1);
		free(f);
	}
	end(b, at, true);
}

/* SHB + IDB 0 (inbound) + IDB 1 (outbound), in a malloc'd buffer. */
int wr_ng_header(const struct wr_opts *o, const char *filter, uint8_t **out, size_t *len)
{
	static const char app[] = "capture-appliance";
	struct blk b = { 0 };
	uint16_t ver[2] = { 1, 0 };
	int64_t seclen = -1;
	size_t at = begin(&b, WR_NG_SHB);

	put32(&b, WR_NG_BOM);
	put(&b, ver, 4);
	put(&b, &seclen, 8);
	opt(&b, SHB_USERAPPL, app, sizeof(app) - 1);
	end(&b, at, true);
	idb(&b, o, filter, "inbound");
	idb(&b, o, filter, "outbound");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Appends an ISB per interface to file d (sealing or closing it). */
int wr_ng_finish_file(struct wr_writer *w, struct wr_dest *d)
{
	struct blk b = { 0 };
	uint64_t now = wall_ns();
	int ret = 0;

	if (!w->ng || d->kind != WR_DEST_FILE || d->fd < 0)
		return 0;
	for (unsigned int ifid = 0; ifid < 2; ifid++) {
		struct wr_if_stats st;
		size_t at = begin(&b, WR_NG_ISB);

		put32(&b, ifid);
		put32(&b, (uint32_t)(now >> 32));
		put32(&b, (uint32_t)now);
		opt64(&b, ISB_STARTTIME, w->start_ns);
		opt64(&b, ISB_ENDTIME, now);
		if (w->o.if_stats && w->o.if_stats(w->o.if_stats_arg, ifid, &st)) {
			opt64(&b, ISB_IFRECV, st.ifrecv);
			opt64(&b, ISB_IFDROP, st.ifdrop);
			opt64(&b, ISB_FILTERACCEPT, st.filteraccept);
			opt64(&b, ISB_OSDROP, st.osdrop);
			opt64(&b, ISB_USRDELIV, st.usrdeliv);
		}
		end(&b, at, true);
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	for (size_t off = 0; off < b.len;) {
		ssize_t n = pwrite(d->fd, b.p + off, b.len - off, (off_t)(d->size + off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* the file stays what it was: packets, no statistics */
			ret = n < 0 ? -errno : -EIO;
			if (ftruncate(d->fd, (off_t)d->size))
				ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!ret) {
		d->size += b.len;
		atomic_fetch_add(&w->st_bytes, b.len);
	}
	free(b.p);
	return ret;
}

/* A copy of the current file header (pcap or pcapng). */
int wr_hdr_get(struct wr_writer *w, uint8_t **out, size_t *len)
{
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	*out = malloc(w->hdr_len);
	if (*out) {
		memcpy(*out, w->hdr, w->hdr_len);
		*len = w->hdr_len;
	} else {
		ret = -ENOMEM;
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

/* Builds the header for the options and filter. */
int wr_hdr_make(const struct wr_opts *o, const char *filter, uint8_t **out, size_t *len)
{
	struct wr_pcap_fhdr h;

	if (o->format == WR_FMT_PCAPNG)
		return wr_ng_header(o, filter, out, len);
	wr_pcap_fhdr_init(&h, o->snaplen, o->linktype);
	*out = malloc(sizeof(h));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, &h, sizeof(h));
	*len = sizeof(h);
	return 0;
}

int wr_set_filter(struct wr_writer *w, const char *filter)
{
	uint8_t *h, *old;
	size_t len;
	int ret;

	if (!w)
		return -EINVAL;
	/* network subscribers may read pcapng even from a pcap writer */
	ret = wr_net_set_filter(w->net, &w->o, filter);
	if (ret || !w->ng)
		return ret;
	ret = wr_hdr_make(&w->o, filter, &h, &len);
	if (ret)
		return ret;
	pthread_mutex_lock(&w->lock);
	old = w->hdr;
	w->hdr = h;
	w->hdr_len = len;
	pthread_mutex_unlock(&w->lock);
	free(old);
	return 0;
}
