// SPDX-License-Identifier: BSD-2-Clause
/* Corpus expression lists: which rows are compared, which are left out and why. */
#include "test_fg_corpus.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FGT_BPF_MAXINSNS 4096 /* the kernel's classic BPF limit */

int fgt_split_tabs(char *line, char **f, int maxf)
{
	int n = 0;
	char *s = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < maxf) {
		f[n++] = s;
		s = strchr(s, '\t');
		if (!s)
			break;
		*s++ = '\0';
	}
	for (int i = n; i < maxf; i++)
		f[i] = "";
	return n;
}

void fgt_list_free(struct fgt_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].fg_expr);
		free((char *)l->v[i].origin);
		free((uint32_t *)l->v[i].expected);
	}
	free(l->v);
	for (size_t i = 0; i < l->nrej; i++) {
		free((char *)l->rej[i].fg_expr);
		free((char *)l->rej[i].origin);
		free((char *)l->rej[i].errstr);
	}
	free(l->rej);
	for (size_t i = 0; i < l->nreasons; i++)
		free(l->reasons[i].why);
	free(l->reasons);
	memset(l, 0, sizeof(*l));
}

int fgt_list_add(struct fgt_list *l, const char *expr, uint32_t snaplen,
		 const char *origin)
{
	/* Same expression and snaplen twice proves nothing new. */
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].snaplen == snaplen &&
		    !strcmp(l->v[i].fg_expr, expr))
			return 1;
	return fgt_list_push(l, expr, snaplen, origin);
}

int fgt_list_push(struct fgt_list *l, const char *expr, uint32_t snaplen,
		  const char *origin)
{
	struct fgt_case *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct fgt_case *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	c = &l->v[l->n];
	memset(c, 0, sizeof(*c));
	c->fg_expr = strdup(expr);
	c->pcap_expr = c->fg_expr;
	c->origin = strdup(origin);
	c->snaplen = snaplen;
	c->flip_pkt = SIZE_MAX;
	c->unopt = l->unopt;
	if (!c->fg_expr || !c->origin)
		return -ENOMEM;
	l->n++;
	return 0;
}

void fgt_list_leave_out(struct fgt_list *l, const char *expr,
			const char *origin, const char *why)
{
	struct fgt_reason *r = NULL;
	size_t wl = strcspn(why, ":");

	printf("LEFT-OUT [%s] \"%s\" (%s)\n", why, expr, origin);
	l->left_out++;
	/* Counted per reason class (text before the first ':'). */
	for (size_t i = 0; i < l->nreasons; i++)
		if (strlen(l->reasons[i].why) == wl &&
		    !strncmp(l->reasons[i].why, why, wl))
			r = &l->reasons[i];
	if (!r) {
		struct fgt_reason *v = realloc(l->reasons,
					       (l->nreasons + 1) * sizeof(*v));

		if (!v)
			return;
		l->reasons = v;
		r = &v[l->nreasons++];
		r->why = strndup(why, wl);
		r->count = 0;
	}
	r->count++;
}

void fgt_list_print_reasons(const struct fgt_list *l)
{
	printf("left out: %zu expressions\n", l->left_out);
	for (size_t i = 0; i < l->nreasons; i++)
		printf("  %5zu  %s\n", l->reasons[i].count, l->reasons[i].why);
}

int fgt_list_add_reject(struct fgt_list *l, const char *expr,
			uint32_t snaplen, const char *origin, const char *errstr)
{
	struct fgt_case *c;

	for (size_t i = 0; i < l->nrej; i++)
		if (l->rej[i].snaplen == snaplen &&
		    !strcmp(l->rej[i].fg_expr, expr))
			return 1;
	if (l->nrej == l->caprej) {
		size_t cap = l->caprej ? l->caprej * 2 : 256;
		struct fgt_case *v = realloc(l->rej, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->rej = v;
		l->caprej = cap;
	}
	c = &l->rej[l->nrej];
	memset(c, 0, sizeof(*c));
	c->fg_expr = strdup(expr);
	c->pcap_expr = c->fg_expr;
	c->origin = strdup(origin);
	c->errstr = strdup(errstr);
	c->snaplen = snaplen;
	c->flip_pkt = SIZE_MAX;
	if (!c->fg_expr || !c->origin || !c->errstr)
		return -ENOMEM;
	l->nrej++;
	return 0;
}

/* An expression the local libpcap refuses cannot be compared on packets; it
 * is listed, and fg must refuse it too (checked with the reject rows). */
static int leave_out_if_refused(struct fgt_list *l, const char *expr,
				uint32_t snaplen, const char *origin)
{
	char err[PCAP_ERRBUF_SIZE + 64], why[PCAP_ERRBUF_SIZE + 128];
	struct bpf_program prog;
	int rc;

	if (!fgt_pcap_compile(expr, snaplen, l->unopt, &prog, err, sizeof(err))) {
		u_int n = prog.bf_len;

		pcap_freecode(&prog);
		/* Unoptimised programs can be huge (11561 insns for pflua's
		 * test-215): beyond the kernel's classic limit nothing could
		 * run them, and clang alone takes minutes. */
		if (l->unopt && n > FGT_BPF_MAXINSNS) {
			snprintf(why, sizeof(why),
				 "unoptimised program has more than BPF_MAXINSNS (4096) insns: %u",
				 n);
			fgt_list_leave_out(l, expr, origin, why);
			return 1;
		}
		return 0;
	}
	snprintf(why, sizeof(why), "refused by %s: %s", pcap_lib_version(),
		 err);
	fgt_list_leave_out(l, expr, origin, why);
	rc = fgt_list_add_reject(l, expr, snaplen, origin, "");
	return rc < 0 ? rc : 1;
}

/* Name-database and build/OS conditions of TESTrun that make a row depend
 * on things other than libpcap's code. */
static const char *name_db_skip(const struct fgt_list *l, const char *skip)
{
	if (l->namedb)
		return NULL;
	if (strstr(skip, "skip_no_hosts") || strstr(skip, "skip_no_ethers") ||
	    strstr(skip, "skip_no_networks"))
		return l->namedb_why ? l->namedb_why :
				       "needs name DB (hosts/ethers/networks)";
	return NULL;
}

static uint32_t opt_snaplen(const char *opts)
{
	const char *s = strstr(opts, "snaplen=");

	return s ? (uint32_t)strtoul(s + 8, NULL, 10) : FGT_SNAPLEN_DEFAULT;
}

int fgt_load_tsv(struct fgt_list *l, const char *corpus, const char *kind)
{
	char path[4096], line[65536], origin[512];
	FILE *fp;
	int err = 0;

	snprintf(path, sizeof(path), "%s/libpcap_filters.tsv", corpus);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		/* expression dlt expect source test_name kind options skip errstr */
		char *f[9];
		const char *why;
		uint32_t snaplen;

		if (line[0] == '#')
			continue;
		fgt_split_tabs(line, f, 9);
		if (strcmp(f[1], "EN10MB") || strcmp(f[5], kind))
			continue;
		snprintf(origin, sizeof(origin), "TESTrun %s", f[4]);
		snaplen = opt_snaplen(f[6]);
		if (!strcmp(kind, "reject")) {
			if (!f[0][0]) {
				/* Savefile-open failures, nothing to compile. */
				l->not_filters++;
				continue;
			}
			if (strstr(f[6], "netmask=")) {
				fgt_list_leave_out(l, f[0], origin,
						   "needs a netmask (fg compiles with netmask 0)");
				continue;
			}
			why = name_db_skip(l, f[7]);
			if (why) {
				fgt_list_leave_out(l, f[0], origin, why);
				continue;
			}
			err = fgt_list_add_reject(l, f[0], snaplen, origin,
						  f[8]);
			if (err < 0)
				break;
			err = 0;
			continue;
		}
		if (!strcmp(f[2], "special")) {
			l->not_filters++; /* filtertest magic argv, not a filter */
			continue;
		}
		if (strstr(f[6], "linuxext=1")) {
			fgt_list_leave_out(l, f[0], origin,
					   "linuxext=1: Linux live-capture SKF_AD extensions");
			continue;
		}
		why = name_db_skip(l, f[7]);
		if (why) {
			fgt_list_leave_out(l, f[0], origin, why);
			continue;
		}
		err = leave_out_if_refused(l, f[0], snaplen, origin);
		if (err < 0)
			break;
		if (err)
			continue;
		err = fgt_list_add(l, f[0], snaplen, origin);
		if (err < 0)
			break;
		err = 0;
	}
	fclose(fp);
	return err;
}

int fgt_load_extra(struct fgt_list *l, const char *corpus)
{
	char path[4096], line[65536], origin[600];
	FILE *fp;
	int err = 0, lineno = 0;

	snprintf(path, sizeof(path), "%s/extra_filters.txt", corpus);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		/* expression source dlt notes */
		char *f[4];

		lineno++;
		if (line[0] == '#')
			continue;
		fgt_split_tabs(line, f, 4);
		snprintf(origin, sizeof(origin), "extra_filters.txt:%d %.500s",
			 lineno, f[1]);
		if (strcmp(f[2], "EN10MB")) {
			l->other_dlt++;
			continue;
		}
		err = leave_out_if_refused(l, f[0], FGT_SNAPLEN_DEFAULT, origin);
		if (err < 0)
			break;
		if (err)
			continue;
		err = fgt_list_add(l, f[0], FGT_SNAPLEN_DEFAULT, origin);
		if (err < 0)
			break;
		err = 0;
	}
	fclose(fp);
	return err;
}
