/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The query: per file, the index (if valid) rules out the whole file or
 * picks the blocks that may hold a match; each file is read with libpcap
 * (what tcpdump reads with), each record in the window run through the
 * expression compiled by pcap_compile on that file's own handle, and the
 * files' matching records merged by time in a binary heap. A file is
 * opened only when the merge reaches its earliest possible record (known
 * from its index), so long series of rotated files need few descriptors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "extract/ex_internal.h"
#include "extract/ex_out.h"

#define EX_VBUF (256u * 1024)
#define EX_KEY_TRIAL 256u /* blocks checked before useless key checks stop */

struct range {
	uint64_t off;
	uint32_t records;
};

struct cur {
	size_t idx;		/* position in the -r order: ties go to the lower */
	const char *path;
	int dlt;
	uint32_t snaplen;
	struct ex_index *ix;
	bool full;		/* no usable index: read everything */
	struct range *rg;	/* else: the blocks to read, in file order */
	size_t nrg, irg;
	uint32_t left;		/* records left in the current block */
	uint64_t pos;		/* file offset after the records read so far */
	uint64_t lower_ns;	/* no record to emit is earlier (while unopened) */
	bool open, done;
	pcap_t *p;
	FILE *fp;
	char *vbuf;
	struct bpf_program prog;
	bool has_prog;
	/* the head: the next matching record */
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t ns;
};

struct run {
	const struct ex_opts *o;
	struct ex_stats st;
	char *err;
	size_t errlen;
	uint64_t next_progress;
	/* per link type: blocks checked against the keys, and ruled out */
	uint64_t key_checks[EX_OUT_MAX_IF], key_skips[EX_OUT_MAX_IF];
};

static void warnf(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct run *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!r->o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o->warn(r->o->warn_arg, msg);
}

static uint64_t ts_ns(const struct pcap_pkthdr *h)
{
	return (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
}

static bool in_window(const struct ex_opts *o, uint64_t ns)
{
	return (!o->has_from || (int64_t)ns >= o->from_ns) && (!o->has_to || (int64_t)ns < o->to_ns);
}

static bool overlaps(const struct ex_opts *o, uint64_t min_ns, uint64_t max_ns)
{
	return (!o->has_from || (int64_t)max_ns >= o->from_ns) &&
	       (!o->has_to || (int64_t)min_ns < o->to_ns);
}

static const char *expr(const struct ex_opts *o)
{
	return o->expr ? o->expr : "";
}

static void cur_close(struct cur *c)
{
	if (c->has_prog)
		pcap_freecode(&c->prog);
	c->has_prog = false;
	if (c->p)
		pcap_close(c->p); /* closes fp */
	else if (c->fp)
		fclose(c->fp);
	c->p = NULL;
	c->fp = NULL;
	free(c->vbuf);
	c->vbuf = NULL;
	c->open = false;
}

static int cur_open(struct run *r, struct cur *c)
{
	char perr[PCAP_ERRBUF_SIZE] = "";

	c->fp = fopen(c->path, "rb");
	c->vbuf = malloc(EX_VBUF);
	if (!c->fp || !c->vbuf) {
		int e = c->fp ? ENOMEM : errno;
		ex_errf(r->err, r->errlen, "%s: %s", c->path, strerror(e));
		return -e;
	}
	setvbuf(c->fp, c->vbuf, _IOFBF, EX_VBUF);
	c->p = pcap_fopen_offline_with_tstamp_precision(c->fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!c->p) {
		ex_errf(r->err, r->errlen, "%s: %s", c->path, perr);
		return -EILSEQ;
	}
	c->open = true;
	c->dlt = pcap_datalink(c->p);
	c->snaplen = (uint32_t)pcap_snapshot(c->p);
	/* compiled on the file's own handle, as tcpdump -r does */
	if (pcap_compile(c->p, &c->prog, expr(r->o), 1, 0) < 0) {
		ex_errf(r->err, r->errlen, "%s", pcap_geterr(c->p));
		return -EINVAL;
	}
	c->has_prog = true;
	c->pos = (uint64_t)ftello(c->fp);
	return 0;
}

static void progress(struct run *r, bool now)
{
	if (r->o->progress && (now || r->st.records_read >= r->next_progress)) {
		r->next_progress = r->st.records_read + 65536;
		r->o->progress(r->o->progress_arg, &r->st);
	}
}

/* Moves c to its next matching record (c->done when there is none). */
static int cur_next(struct run *r, struct cur *c)
{
	const struct ex_opts *o = r->o;
	int ret;

	if (!c->open) {
		ret = cur_open(r, c);
		if (ret == -ENOENT) {
			/* deleted meanwhile (retention of a running capture) */
			warnf(r, "%s: gone before it was read, skipped", c->path);
			r->st.files_gone++;
			c->done = true;
			cur_close(c);
			return 0;
		}
		if (ret)
			return ret;
		progress(r, true);
	}
	for (;;) {
		if (!c->full && !c->left) {
			if (c->irg == c->nrg)
				break;
			struct range *g = &c->rg[c->irg++];
			if (g->off != c->pos && fseeko(c->fp, (off_t)g->off, SEEK_SET) < 0) {
				ex_errf(r->err, r->errlen, "%s: %s", c->path, strerror(errno));
				return -errno;
			}
			c->pos = g->off;
			c->left = g->records;
		}
		int n = pcap_next_ex(c->p, &c->h, &c->data);
		if (n == PCAP_ERROR_BREAK)
			break;
		if (n != 1) {
			/* what tcpdump does too: the records before count, the
			 * file ends here (the live file of a capture may end in
			 * a record being written) */
			warnf(r, "%s: %s: the rest of the file is skipped", c->path, pcap_geterr(c->p));
			r->st.files_cut++;
			break;
		}
		if (!c->full) {
			c->left--;
			if (!c->left)
				c->pos = (uint64_t)ftello(c->fp);
		}
		r->st.records_read++;
		r->st.bytes_read += 16 + c->h->caplen;
		progress(r, false);
		c->ns = ts_ns(c->h);
		if (in_window(o, c->ns) && pcap_offline_filter(&c->prog, c->h, c->data))
			return 0;
	}
	c->done = true;
	cur_close(c);
	return 0;
}

/* Heap order: time, then -r position. An unopened file sorts by the
 * earliest time it can contribute. */
static uint64_t key_ns(const struct cur *c)
{
	return c->open ? c->ns : c->lower_ns;
}

static bool before(const struct cur *a, const struct cur *b)
{
	uint64_t x = key_ns(a), y = key_ns(b);

	if (x != y)
		return x < y;
	return a->idx < b->idx;
}

static void sift_down(struct cur **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && before(h[l], h[m]))
			m = l;
		if (l + 1 < n && before(h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct cur *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Phase 1 for one file: index or not, which blocks, its link type. */
static int plan(struct run *r, struct cur *c, pcap_t **dead_cache, struct ex_need *needs,
		int *dlts_seen, size_t *ndlts)
{
	const struct ex_opts *o = r->o;
	char ierr[512] = "";
	struct stat st;
	int ret;

	if (stat(c->path, &st) < 0) {
		if (errno == ENOENT) {
			warnf(r, "%s: gone before it was read, skipped", c->path);
			r->st.files_gone++;
			c->done = true;
			return 0;
		}
		ex_errf(r->err, r->errlen, "%s: %s", c->path, strerror(errno));
		return -errno;
	}
	r->st.bytes_total += (uint64_t)st.st_size;
	c->full = true;
	if (!o->no_index) {
		ret = ex_index_load(c->path, &c->ix, ierr, sizeof(ierr));
		if (ret && ret != -ENOENT) {
			r->st.index_ignored++;
			warnf(r, "%s: ignored, full scan of the file", ierr);
		}
	}
	if (c->ix) {
		r->st.files_indexed++;
		c->dlt = (int)c->ix->dlt;
		c->snaplen = c->ix->snaplen;
	} else {
		/* the link type and snaplen, from the file's header */
		ret = cur_open(r, c);
		if (ret)
			return ret;
	}
	/* the expression must compile for every link type before anything
	 * is written; a dead handle per link type serves the index too */
	size_t k = 0;
	while (k < *ndlts && dlts_seen[k] != c->dlt)
		k++;
	if (k == *ndlts) {
		if (k == EX_OUT_MAX_IF) {
			ex_errf(r->err, r->errlen, "more than %d link types", EX_OUT_MAX_IF);
			return -EPROTO;
		}
		struct bpf_program prog;
		dead_cache[k] = pcap_open_dead_with_tstamp_precision(c->dlt, 262144,
								     PCAP_TSTAMP_PRECISION_NANO);
		if (!dead_cache[k])
			return -ENOMEM;
		dlts_seen[(*ndlts)++] = c->dlt;
		if (pcap_compile(dead_cache[k], &prog, expr(o), 1, 0) < 0) {
			ex_errf(r->err, r->errlen, "%s", pcap_geterr(dead_cache[k]));
			return -EINVAL;
		}
		ret = ex_need_from_bpf(c->dlt, prog.bf_insns, prog.bf_len, &needs[k]);
		pcap_freecode(&prog);
		if (ret)
			return ret;
	}
	if (!c->ix)
		return 0;
	struct ex_index *ix = c->ix;
	uint64_t lower = UINT64_MAX;
	bool none = true;
	r->st.blocks += ix->nblocks;
	c->rg = calloc(ix->nblocks ? ix->nblocks : 1, sizeof(*c->rg));
	if (!c->rg)
		return -ENOMEM;
	for (uint32_t b = 0; b < ix->nblocks; b++) {
		struct ex_index_block *bl = &ix->blocks[b];
		if (!overlaps(o, bl->min_ns, bl->max_ns)) {
			r->st.blocks_skipped++;
			continue;
		}
		/* Bloom filter reads that never rule a block out (`udp` in mixed
		 * traffic) are stopped: reading a block is the same answer */
		if (r->key_checks[k] < EX_KEY_TRIAL || r->key_skips[k]) {
			r->key_checks[k]++;
			if (!ex_need_block(&needs[k], ix, b)) {
				r->key_skips[k]++;
				r->st.blocks_skipped++;
				continue;
			}
		}
		none = false;
		if (bl->min_ns < lower)
			lower = bl->min_ns;
		/* adjacent ranges need no seek: see cur_next */
		c->rg[c->nrg++] = (struct range){ .off = bl->offset, .records = bl->records };
	}
	if (none) {
		r->st.files_skipped++;
		c->done = true;
		return 0;
	}
	if (ix->seekable) {
		c->full = false;
		c->lower_ns = lower;
	} else {
		/* blocks can't be read alone: the whole file, when some may match */
		r->st.blocks_skipped -= ix->nblocks - c->nrg;
		c->lower_ns = lower;
	}
	return 0;
}

int ex_extract(const struct ex_opts *o, struct ex_stats *stp, char *err, size_t errlen)
{
	struct run r = { .o = o, .err = err, .errlen = errlen };
	struct cur *cs = calloc(o->nfiles ? o->nfiles : 1, sizeof(*cs));
	struct cur **heap = calloc(o->nfiles ? o->nfiles : 1, sizeof(*heap));
	pcap_t *dead[EX_OUT_MAX_IF] = { 0 };
	struct ex_need needs[EX_OUT_MAX_IF];
	int dlts[EX_OUT_MAX_IF];
	size_t ndlts = 0, nh = 0;
	uint32_t snaplen = 0;
	struct ex_out out;
	FILE *cookie = NULL;
	char *cbuf = NULL;
	int ret = 0;

	memset(needs, 0, sizeof(needs));
	if (!cs || !heap) {
		ret = -ENOMEM;
		goto out;
	}
	r.st.files = o->nfiles;
	for (size_t i = 0; i < o->nfiles; i++) {
		struct cur *c = &cs[i];
		c->idx = i;
		c->path = o->files[i];
		ret = plan(&r, c, dead, needs, dlts, &ndlts);
		if (ret)
			goto out;
		if (c->snaplen > snaplen)
			snaplen = c->snaplen;
	}
	if (o->format == EX_FMT_PCAP && ndlts > 1) {
		ex_errf(err, errlen, "the files have %zu link types: a pcap file holds one, "
			"use --format pcapng", ndlts);
		ret = -EPROTO;
		goto out;
	}
	if (o->write) {
		cookie = fopencookie(o->write_arg, "w", (cookie_io_functions_t){ .write = o->write });
		cbuf = malloc(EX_VBUF);
		if (!cookie || !cbuf) {
			ret = -ENOMEM;
			goto out;
		}
		setvbuf(cookie, cbuf, _IOFBF, EX_VBUF);
	}
	ret = ex_out_begin(&out, cookie ? cookie : o->out, o->format, dlts, ndlts,
			   snaplen ? snaplen : 262144);
	if (ret)
		goto werr;
	/* files without an index were opened by plan: their first match now */
	for (size_t i = 0; i < o->nfiles; i++) {
		struct cur *c = &cs[i];
		if (c->done)
			continue;
		if (c->open) {
			ret = cur_next(&r, c);
			if (ret)
				goto out;
			if (c->done)
				continue;
		}
		heap[nh++] = c;
	}
	for (size_t i = nh; i-- > 0;)
		sift_down(heap, nh, i);
	while (nh) {
		struct cur *c = heap[0];
		if (c->open) {
			ret = ex_out_rec(&out, c->dlt, c->ns, c->h->caplen, c->h->len, c->data);
			if (ret)
				goto werr;
			r.st.records_out++;
		}
		ret = cur_next(&r, c);
		if (ret)
			goto out;
		if (c->done)
			heap[0] = heap[--nh];
		sift_down(heap, nh, 0);
	}
	ret = ex_out_end(&out);
	if (ret)
		goto werr;
	progress(&r, true);
	goto out;
werr:
	ex_errf(err, errlen, "writing the answer: %s", strerror(errno ? errno : EIO));
out:
	for (size_t i = 0; cs && i < o->nfiles; i++) {
		cur_close(&cs[i]);
		ex_index_free(cs[i].ix);
		free(cs[i].rg);
	}
	for (size_t i = 0; i < ndlts; i++) {
		ex_need_free(&needs[i]);
		if (dead[i])
			pcap_close(dead[i]);
	}
	if (cookie && fclose(cookie) && !ret) {
		ret = -EIO;
		ex_errf(err, errlen, "writing the answer: %s", strerror(errno ? errno : EIO));
	}
	free(cbuf);
	free(cs);
	free(heap);
	if (stp)
		*stp = r.st;
	return ret;
}
