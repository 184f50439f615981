/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The catalog of a rotation prefix: the files PREFIX-NNNNNNNN-<time>.pcap
 * in its folder, oldest first. Built by scanning the folder (so a restart
 * continues the sequence and counts the files already there), kept up to
 * date by the writer thread (new file, sealed, deleted by retention) and
 * read by wr_list_files. Reading a file's first and last record walks its
 * record headers; what was walked is remembered per file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "writer/wr_internal.h"

#define WR_SEQ_DIGITS 8

static bool digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Whether name is one of base's rotation files: base-NNNNNNNN-
 * YYYYMMDDTHHMMSS.nnnnnnnnnZ.pcap (or .pcapng); its sequence number. */
bool wr_cat_match(const char *base, const char *name, uint32_t *seq)
{
	size_t bl = strlen(base);
	const char *p = name + bl;

	if (strncmp(name, base, bl) || *p != '-' || !digits(p + 1, WR_SEQ_DIGITS) ||
	    p[1 + WR_SEQ_DIGITS] != '-')
		return false;
	*seq = (uint32_t)strtoul(p + 1, NULL, 10);
	p += 2 + WR_SEQ_DIGITS;
	if (!digits(p, 8) || p[8] != 'T' || !digits(p + 9, 6) || p[15] != '.' ||
	    !digits(p + 16, 9) || p[25] != 'Z')
		return false;
	p += 26;
	return !strcmp(p, ".pcap") || !strcmp(p, ".pcapng");
}

int wr_cat_name(const struct wr_cat *c, uint32_t seq, uint64_t ts_ns, bool ng, char *buf,
		size_t len)
{
	time_t t = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	n = snprintf(buf, len, "%s-%0*u-%04d%02d%02dT%02d%02d%02d.%09luZ.%s", c->base,
		     WR_SEQ_DIGITS, seq, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned long)(ts_ns % 1000000000ull),
		     ng ? "pcapng" : "pcap");
	return n < 0 || (size_t)n >= len || n > 255 ? -ENAMETOOLONG : 0;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct wr_fent *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add(struct wr_cat *c, const struct wr_fent *e)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct wr_fent *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	c->bytes += e->bytes;
	return 0;
}

/* Reads the folder for base's files. */
static int scan(struct wr_cat *c)
{
	int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	uint32_t max_seq = 0;
	DIR *d;
	int ret = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while ((de = readdir(d))) {
		struct wr_fent e = { 0 };
		struct stat st;

		if (!wr_cat_match(c->base, de->d_name, &e.seq))
			continue;
		/* any entry takes its number (never reused), but only regular
		 * files are ours: a planted link is not */
		if (e.seq > max_seq)
			max_seq = e.seq;
		if (fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		snprintf(e.name, sizeof(e.name), "%s", de->d_name);
		e.bytes = (uint64_t)st.st_size;
		e.sealed = true;
		ret = add(c, &e);
		if (ret)
			break;
	}
	closedir(d);
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), cmp_seq);
	c->next_seq = max_seq + 1;
	return ret;
}

int wr_cat_new(const char *prefix, struct wr_cat **out)
{
	struct wr_cat *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->dirfd = -1;
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->refs, 1);
	c->prefix = strdup(prefix);
	if (!c->prefix) {
		ret = -ENOMEM;
		goto out;
	}
	ret = wr_dir_open(prefix, &c->dirfd, &c->base);
	if (ret)
		goto out;
	c->dir = strdup(prefix);
	if (!c->dir) {
		ret = -ENOMEM;
		goto out;
	}
	c->dir[strlen(prefix) - strlen(c->base)] = 0; /* "" or ".../" */
	ret = scan(c);
	if (ret)
		goto out;
	*out = c;
	return 0;
out:
	wr_cat_put(c);
	return ret;
}

void wr_cat_put(struct wr_cat *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	pthread_mutex_destroy(&c->lock);
	free(c->v);
	free(c->base);
	free(c->dir);
	free(c->prefix);
	free(c);
}

/* Writer thread: a new open file. */
int wr_cat_add_open(struct wr_cat *c, uint32_t seq, const char *name, uint64_t bytes)
{
	struct wr_fent e = { .seq = seq, .bytes = bytes };
	int ret;

	snprintf(e.name, sizeof(e.name), "%s", name);
	pthread_mutex_lock(&c->lock);
	ret = add(c, &e);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static struct wr_fent *find(struct wr_cat *c, uint32_t seq)
{
	for (size_t i = c->n; i-- > 0;)
		if (c->v[i].seq == seq)
			return &c->v[i];
	return NULL;
}

/* Writer thread: the open file seq has bytes now (and is sealed). */
void wr_cat_update(struct wr_cat *c, uint32_t seq, uint64_t bytes, bool sealed)
{
	struct wr_fent *e;

	pthread_mutex_lock(&c->lock);
	e = find(c, seq);
	if (e) {
		c->bytes += bytes - e->bytes;
		e->bytes = bytes;
		e->sealed = sealed;
	}
	pthread_mutex_unlock(&c->lock);
}

bool wr_retaining(const struct wr_opts *o)
{
	return o->retain_bytes || o->retain_files || o->min_free_pct || o->keep_archived;
}

static bool over_count(struct wr_cat *c, const struct wr_opts *o)
{
	return (o->retain_bytes && c->bytes > o->retain_bytes) ||
	       (o->retain_files && c->n > o->retain_files);
}

static bool over_free(struct wr_cat *c, const struct wr_opts *o)
{
	struct statfs sf;

	/* bytes the reaper has yet to free count as free */
	if (o->min_free_pct && !fstatfs(c->dirfd, &sf) && sf.f_blocks &&
	    ((double)sf.f_bavail * (double)sf.f_frsize + (double)c->doomed) * 100.0 <
		    (double)o->min_free_pct * (double)sf.f_blocks * (double)sf.f_frsize)
		return true;
	return false;
}

/* Whether file i may go by the budgets other than min_free (archived). */
static bool allowed(struct wr_cat *c, const struct wr_opts *o, size_t i)
{
	char path[PATH_MAX + 256];

	if (!o->may_delete)
		return true;
	snprintf(path, sizeof(path), "%s%s", c->dir, c->v[i].name);
	return o->may_delete(o->may_delete_arg, path);
}

/* Writer thread: gives sealed files to the reaper, oldest first, while a
 * budget is exceeded: min_free any of them; retain_bytes, retain_files and
 * keep_archived_bytes only those may_delete allows. Counts them in
 * *deleted (under the lock, so that a reader of the gauges sees both
 * change together), those min_free took before they were allowed in
 * *early. */
void wr_cat_retain(struct wr_cat *c, const struct wr_opts *o, struct wr_reaper *r,
		   _Atomic uint64_t *deleted, _Atomic uint64_t *early)
{
	uint64_t kept = 0; /* bytes of sealed files may_delete allows */
	bool *ok = NULL, emergency;
	size_t i;

	if (!wr_retaining(o))
		return;
	pthread_mutex_lock(&c->lock);
	if (o->may_delete) {
		ok = calloc(c->n ? c->n : 1, sizeof(*ok));
		if (!ok)
			goto out; /* again at the next tick */
		for (i = 0; i < c->n && c->v[i].sealed; i++)
			if ((ok[i] = allowed(c, o, i)))
				kept += c->v[i].bytes;
	}
	/* the file system asked again only after a deletion */
	emergency = over_free(c, o);
	for (i = 0; i < c->n && c->v[i].sealed;) {
		bool may = !ok || ok[i];

		if (!emergency && !(may && (over_count(c, o) ||
					    (o->keep_archived && kept > o->keep_archived_bytes)))) {
			i++;
			continue;
		}
		wr_reaper_push(r, c, c->v[i].name, c->v[i].bytes);
		c->bytes -= c->v[i].bytes;
		if (ok && may)
			kept -= c->v[i].bytes;
		else if (ok)
			atomic_fetch_add(early, 1);
		memmove(c->v + i, c->v + i + 1, (c->n - i - 1) * sizeof(*c->v));
		if (ok)
			memmove(ok + i, ok + i + 1, (c->n - i - 1) * sizeof(*ok));
		c->n--;
		atomic_fetch_add(deleted, 1);
		emergency = over_free(c, o);
	}
out:
	pthread_mutex_unlock(&c->lock);
	free(ok);
}

void wr_cat_gauges(struct wr_cat *c, uint64_t *files, uint64_t *bytes)
{
	pthread_mutex_lock(&c->lock);
	*files = c->n;
	*bytes = c->bytes;
	pthread_mutex_unlock(&c->lock);
}

/* Whether fd is pcapng (by its first 4 bytes). */
int wr_file_is_ng(int fd, bool *ng)
{
	uint32_t magic;

	if (pread(fd, &magic, 4, 0) != 4)
		return -EINVAL;
	*ng = magic == WR_NG_SHB;
	return 0;
}

static void count(struct wr_fent *e, const uint8_t *p, bool ng)
{
	uint64_t ts;

	if (!wr_rec_is_pkt(p, ng))
		return;
	ts = wr_rec_ts(p, ng);
	if (!e->records)
		e->first_ns = ts;
	e->last_ns = ts;
	e->records++;
}

/* Walks the records (pcapng: blocks) of fd from e->walked up to bytes:
 * packets, first and last time. Stops at one that is not complete. */
int wr_walk(int fd, uint64_t bytes, bool ng, struct wr_fent *e)
{
	const size_t chunk = 256 * 1024;
	uint8_t *buf = malloc(chunk);
	uint64_t off = e->walked;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	if (!ng && off < sizeof(struct wr_pcap_fhdr))
		off = sizeof(struct wr_pcap_fhdr);
	while (off + WR_REC_MIN <= bytes) {
		size_t want = bytes - off < chunk ? (size_t)(bytes - off) : chunk;
		ssize_t got = pread(fd, buf, want, (off_t)off);
		size_t pos = 0;

		if (got < (ssize_t)WR_REC_MIN) {
			ret = got < 0 ? -errno : 0;
			break;
		}
		while (pos + WR_REC_MIN <= (size_t)got) {
			size_t rl = wr_rec_len(buf + pos, ng);

			if (!rl || off + pos + rl > bytes)
				goto done;
			if (pos + rl > (size_t)got && pos)
				break; /* read again from here */
			count(e, buf + pos, ng);
			pos += rl;
		}
		off += pos;
	}
done:
	e->walked = off;
	free(buf);
	return ret;
}

/* Completes the records' times of e (a copy) by walking its file. */
static void fill(int dirfd, struct wr_fent *e)
{
	int fd = openat(dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	uint64_t upto = e->bytes;
	bool ng;

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto out;
	if (e->sealed || upto > (uint64_t)st.st_size)
		upto = (uint64_t)st.st_size;
	e->bytes = upto;
	if (e->walked < upto && !wr_file_is_ng(fd, &ng))
		wr_walk(fd, upto, ng, e);
out:
	close(fd);
}

static void to_info(const struct wr_fent *e, struct wr_file_info *fi)
{
	*fi = (struct wr_file_info){
		.seq = e->seq, .first_ns = e->first_ns, .last_ns = e->last_ns,
		.records = e->records, .bytes = e->bytes, .sealed = e->sealed,
	};
	snprintf(fi->name, sizeof(fi->name), "%s", e->name);
}

/* The catalog as wr_file_info, each file walked as far as needed. */
int wr_cat_list(struct wr_cat *c, struct wr_file_info **out, size_t *n)
{
	struct wr_fent *v;
	size_t k;

	pthread_mutex_lock(&c->lock);
	k = c->n;
	v = malloc((k ? k : 1) * sizeof(*v));
	if (v && k)
		memcpy(v, c->v, k * sizeof(*v));
	pthread_mutex_unlock(&c->lock);
	if (!v)
		return -ENOMEM;
	*out = calloc(k ? k : 1, sizeof(**out));
	if (!*out) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		struct wr_fent *e;

		if (v[i].walked < v[i].bytes)
			fill(c->dirfd, &v[i]);
		to_info(&v[i], &(*out)[i]);
		/* remember the walk (the entry may be gone or grown since) */
		pthread_mutex_lock(&c->lock);
		e = find(c, v[i].seq);
		if (e && v[i].walked > e->walked) {
			e->walked = v[i].walked;
			e->records = v[i].records;
			e->first_ns = v[i].first_ns;
			e->last_ns = v[i].last_ns;
		}
		pthread_mutex_unlock(&c->lock);
	}
	free(v);
	*n = k;
	return 0;
}

int wr_scan_prefix(const char *prefix, struct wr_file_info **out, size_t *n)
{
	struct wr_cat *c;
	int ret;

	if (!prefix || !*prefix || !out || !n)
		return -EINVAL;
	ret = wr_cat_new(prefix, &c);
	if (ret)
		return ret;
	/* a running writer may still write the newest one */
	for (size_t i = 0; i + 1 < c->n; i++)
		c->v[i].sealed = true;
	if (c->n)
		c->v[c->n - 1].sealed = false;
	ret = wr_cat_list(c, out, n);
	wr_cat_put(c);
	return ret;
}
