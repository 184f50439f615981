// SPDX-License-Identifier: BSD-2-Clause
/*
 * Filter benchmark (issue 2):
 *  1. compile-to-loaded time (expression -> fg_compile -> fg_probe_load),
 *     median and p95 over the corpus expressions;
 *  2. per-packet filter cost in the kernel (fg_probe_bench, BPF_PROG_TEST_RUN
 *     with repeat) for a few filters against the accept-all program "all",
 *     XDP and TC.
 * Prints a Markdown table and writes JSON. Not a test: nothing is asserted.
 *
 *   fg_bench [-c CORPUS_DIR] [-n MAX_EXPRS] [-r REPEAT] [-o OUT.json]
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filtergen/filtergen.h"

#ifndef FGB_CORPUS_DIR
#define FGB_CORPUS_DIR "../shared/corpus"
#endif

#define FGB_SNAPLEN 262144u

struct exprs {
	char **v;
	size_t n, cap;
};

static int exprs_add(struct exprs *e, const char *s)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i], s))
			return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		char **v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n] = strdup(s);
	if (!e->v[e->n])
		return -ENOMEM;
	e->n++;
	return 0;
}

/* Field i (0-based) of a tab-separated line, copied into out. */
static const char *field(const char *line, int i, char *out, size_t outlen)
{
	const char *s = line, *end;
	size_t n;

	while (i-- > 0) {
		s = strchr(s, '\t');
		if (!s)
			return "";
		s++;
	}
	end = s + strcspn(s, "\t\r\n");
	n = (size_t)(end - s) < outlen - 1 ? (size_t)(end - s) : outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/* The EN10MB expressions of the corpus that this libpcap compiles and that
 * need no name database: TESTrun accept rows and extra_filters.txt. */
static int load_exprs(struct exprs *e, const char *corpus)
{
	static const char *const files[] = { "libpcap_filters.tsv", "extra_filters.txt" };
	static char line[65536], expr[65536];
	char path[4096], a[64], b[64], c[256];
	int err = 0;

	for (int fi = 0; fi < 2 && !err; fi++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", corpus, files[fi]);
		fp = fopen(path, "r");
		if (!fp)
			return -errno;
		while (fgets(line, sizeof(line), fp) && !err) {
			struct bpf_program prog;
			pcap_t *p;

			if (line[0] == '#')
				continue;
			field(line, 0, expr, sizeof(expr));
			if (fi == 0) {
				/* expression dlt expect source name kind options skip */
				if (strcmp(field(line, 1, a, sizeof(a)), "EN10MB") ||
				    strcmp(field(line, 5, b, sizeof(b)), "accept") ||
				    strcmp(field(line, 2, b, sizeof(b)), "ok") ||
				    field(line, 6, c, sizeof(c))[0] ||
				    field(line, 7, c, sizeof(c))[0])
					continue;
			} else if (strcmp(field(line, 2, a, sizeof(a)), "EN10MB")) {
				continue;
			}
			p = pcap_open_dead(DLT_EN10MB, FGB_SNAPLEN);
			if (p && !pcap_compile(p, &prog, expr, 1, 0)) {
				pcap_freecode(&prog);
				err = exprs_add(e, expr);
			}
			if (p)
				pcap_close(p);
		}
		fclose(fp);
	}
	return err;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

struct compile_res {
	size_t tried, loaded, refused;
	double median, p95, min, max, mean;
	double c_median, l_median; /* fg_compile alone, fg_probe_load alone */
};

static int bench_compile(const struct exprs *e, size_t max, struct compile_res *r)
{
	size_t n = e->n, step = 1;
	double *tot, *comp, *load;

	/* An even sample when capped, so the spread stays representative. */
	if (max && n > max)
		step = (n + max - 1) / max;
	tot = calloc(n, sizeof(*tot));
	comp = calloc(n, sizeof(*comp));
	load = calloc(n, sizeof(*load));
	if (!tot || !comp || !load) {
		free(tot);
		free(comp);
		free(load);
		return -ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i += step) {
		char err[FG_ERR_LEN];
		struct fg_filter *f = NULL;
		struct fg_probe *p = NULL;
		double t0, t1, t2;

		r->tried++;
		t0 = now_ms();
		if (fg_compile(e->v[i], FGB_SNAPLEN, &f, err, sizeof(err))) {
			r->refused++;
			continue;
		}
		t1 = now_ms();
		if (fg_probe_load(f, &p, err, sizeof(err))) {
			r->refused++;
			fg_free(f);
			continue;
		}
		t2 = now_ms();
		comp[r->loaded] = t1 - t0;
		load[r->loaded] = t2 - t1;
		tot[r->loaded++] = t2 - t0;
		r->mean += t2 - t0;
		fg_probe_free(p);
		fg_free(f);
		if (r->tried % 50 == 0)
			fprintf(stderr, "  compiled %zu/%zu\n", r->tried, (n + step - 1) / step);
	}
	qsort(tot, r->loaded, sizeof(*tot), cmp_double);
	qsort(comp, r->loaded, sizeof(*comp), cmp_double);
	qsort(load, r->loaded, sizeof(*load), cmp_double);
	if (r->loaded) {
		r->median = pct(tot, r->loaded, 0.5);
		r->p95 = pct(tot, r->loaded, 0.95);
		r->min = tot[0];
		r->max = tot[r->loaded - 1];
		r->mean /= (double)r->loaded;
		r->c_median = pct(comp, r->loaded, 0.5);
		r->l_median = pct(load, r->loaded, 0.5);
	}
	free(tot);
	free(comp);
	free(load);
	return 0;
}

/* Ethernet + IPv4 + TCP (dst port 80) or UDP (dst port 53), 64 bytes. */
static void make_pkt(uint8_t *b, int tcp)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, /* eth */
		0x45, 0, 0, 50, 0, 1, 0x40, 0, 64, 6, 0, 0, /* ipv4 */
		10, 0, 0, 1, 10, 0, 0, 2,
	};

	memset(b, 0, 64);
	memcpy(b, hdr, sizeof(hdr));
	if (tcp) {
		b[34] = 0x9c; b[35] = 0x40; /* sport 40000 */
		b[36] = 0; b[37] = 80;
		b[46] = 0x50; b[47] = 0x10; /* doff 5, ACK */
	} else {
		b[23] = 17;
		b[34] = 0x9c; b[35] = 0x41;
		b[36] = 0; b[37] = 53;
		b[38] = 0; b[39] = 30;
	}
}

/* The long filter from libpcap issue 484 (extra_filters.txt). */
static const char long_filter[] =
	"icmp || (udp && !(port 4500 || (host 10.0.0.1 && port (514 || 1900 || 161)) || "
	"(host 10.0.0.10 && port (514 || 1900)) || (host 10.0.0.4 && port (161 || 5353)) || "
	"(host 10.0.0.26 && port 80) || (host 10.0.0.255 && port (137 || 138)))) || "
	"(tcp && !((host 10.0.0.1 && port 23) || (host 217.13.6.35 && port 110) || "
	"(host 217.13.6.35 && port 995) || (host 217.13.9.15 && port 119))) || !(arp || ip)";

struct cost {
	const char *name, *expr, *pkt_name;
	int tcp;
	uint32_t caplen;
	uint32_t insns[2];
	uint64_t ns[2];
	int rc;
};

static int bench_cost(struct cost *c, uint32_t repeat, int rounds)
{
	char err[FG_ERR_LEN];
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	uint8_t pkt[64];
	int rc;

	make_pkt(pkt, c->tcp);
	rc = fg_compile(c->expr, FGB_SNAPLEN, &f, err, sizeof(err));
	if (!rc)
		rc = fg_probe_load(f, &p, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\n", c->expr, err);
		goto out;
	}
	rc = fg_probe_run(p, FG_HOOK_XDP, pkt, sizeof(pkt), sizeof(pkt), &c->caplen);
	for (int h = 0; h < 2 && !rc; h++) {
		enum fg_hook hook = h ? FG_HOOK_TC : FG_HOOK_XDP;

		c->insns[h] = fg_probe_insn_count(p, hook);
		c->ns[h] = UINT64_MAX;
		/* Best of a few rounds: the least disturbed by the other core. */
		for (int i = 0; i < rounds && !rc; i++) {
			uint64_t ns = 0;

			rc = fg_probe_bench(p, hook, pkt, sizeof(pkt), repeat, &ns);
			if (!rc && ns < c->ns[h])
				c->ns[h] = ns;
		}
	}
	if (rc)
		fprintf(stderr, "%s: bench failed: %s\n", c->expr, strerror(-rc));
out:
	c->rc = rc;
	fg_probe_free(p);
	fg_free(f);
	return rc;
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", *s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

int main(int argc, char **argv)
{
	const char *corpus = FGB_CORPUS_DIR, *out = "fg_bench.json";
	struct cost costs[] = {
		{ .name = "all (accept-all baseline)", .expr = "all", .pkt_name = "tcp:80", .tcp = 1 },
		{ .name = "none", .expr = "none", .pkt_name = "tcp:80", .tcp = 1 },
		{ .name = "tcp port 80 (match)", .expr = "tcp port 80", .pkt_name = "tcp:80", .tcp = 1 },
		{ .name = "tcp port 80 (no match)", .expr = "tcp port 80", .pkt_name = "udp:53", .tcp = 0 },
		{ .name = "long filter, issue 484 (tcp)", .expr = long_filter, .pkt_name = "tcp:80", .tcp = 1 },
		{ .name = "long filter, issue 484 (udp)", .expr = long_filter, .pkt_name = "udp:53", .tcp = 0 },
		{ .name = "vlan and tcp port 80", .expr = "vlan and tcp port 80", .pkt_name = "tcp:80", .tcp = 1 },
		{ .name = "ip6 and tcp", .expr = "ip6 and tcp", .pkt_name = "tcp:80", .tcp = 1 },
	};
	size_t ncost = sizeof(costs) / sizeof(costs[0]), max = 0;
	uint32_t repeat = 1000000;
	struct compile_res cr;
	struct exprs e = { 0 };
	int opt, err;
	FILE *fp;

	while ((opt = getopt(argc, argv, "c:n:r:o:h")) != -1) {
		switch (opt) {
		case 'c': corpus = optarg; break;
		case 'n': max = strtoul(optarg, NULL, 0); break;
		case 'r': repeat = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-c CORPUS_DIR] [-n MAX_EXPRS] [-r REPEAT] [-o OUT.json]\n",
				argv[0]);
			return 2;
		}
	}
	err = load_exprs(&e, corpus);
	if (err) {
		fprintf(stderr, "corpus %s: %s\n", corpus, strerror(-err));
		return 1;
	}
	fprintf(stderr, "compile-to-loaded over %zu corpus expressions%s...\n", e.n,
		max ? " (sampled)" : "");
	bench_compile(&e, max, &cr);
	for (size_t i = 0; i < ncost; i++)
		bench_cost(&costs[i], repeat, 5);

	printf("## filtergen benchmark (%s, clang at run time)\n\n", pcap_lib_version());
	printf("### Compile to loaded (fg_compile + fg_probe_load, both hooks)\n\n");
	printf("| expressions | loaded | refused | median ms | p95 ms | min ms | max ms | mean ms | fg_compile median ms | fg_probe_load median ms |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|\n");
	printf("| %zu | %zu | %zu | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f |\n\n",
	       cr.tried, cr.loaded, cr.refused, cr.median, cr.p95, cr.min, cr.max,
	       cr.mean, cr.c_median, cr.l_median);
	printf("### Per-packet cost (BPF_PROG_TEST_RUN, repeat %u, best of 5, 64-byte packet)\n\n",
	       repeat);
	printf("| filter | packet | caplen | XDP ns | TC ns | XDP - all ns | TC - all ns | XDP insns | TC insns |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < ncost; i++) {
		const struct cost *c = &costs[i];

		if (c->rc) {
			printf("| %s | %s | failed: %s | | | | | | |\n", c->name,
			       c->pkt_name, strerror(-c->rc));
			continue;
		}
		printf("| %s | %s | %u | %llu | %llu | %lld | %lld | %u | %u |\n", c->name,
		       c->pkt_name, c->caplen, (unsigned long long)c->ns[0],
		       (unsigned long long)c->ns[1],
		       (long long)(c->ns[0] - costs[0].ns[0]),
		       (long long)(c->ns[1] - costs[0].ns[1]), c->insns[0], c->insns[1]);
	}

	fp = fopen(out, "w");
	if (!fp) {
		fprintf(stderr, "%s: %s\n", out, strerror(errno));
		return 1;
	}
	fprintf(fp, "{\n  \"libpcap\": ");
	json_str(fp, pcap_lib_version());
	fprintf(fp, ",\n  \"compile_to_loaded_ms\": {\"expressions\": %zu, \"loaded\": %zu, \"refused\": %zu, "
		    "\"median\": %.3f, \"p95\": %.3f, \"min\": %.3f, \"max\": %.3f, \"mean\": %.3f, "
		    "\"fg_compile_median\": %.3f, \"fg_probe_load_median\": %.3f},\n",
		cr.tried, cr.loaded, cr.refused, cr.median, cr.p95, cr.min, cr.max, cr.mean,
		cr.c_median, cr.l_median);
	fprintf(fp, "  \"repeat\": %u,\n  \"per_packet\": [\n", repeat);
	for (size_t i = 0; i < ncost; i++) {
		const struct cost *c = &costs[i];

		fprintf(fp, "    {\"name\": ");
		json_str(fp, c->name);
		fprintf(fp, ", \"expr\": ");
		json_str(fp, c->expr);
		fprintf(fp, ", \"packet\": \"%s\", \"ok\": %s, \"caplen\": %u, \"xdp_ns\": %llu, \"tc_ns\": %llu, "
			    "\"xdp_insns\": %u, \"tc_insns\": %u}%s\n",
			c->pkt_name, c->rc ? "false" : "true", c->caplen,
			(unsigned long long)(c->rc ? 0 : c->ns[0]),
			(unsigned long long)(c->rc ? 0 : c->ns[1]), c->insns[0], c->insns[1],
			i + 1 < ncost ? "," : "");
	}
	fprintf(fp, "  ]\n}\n");
	fclose(fp);
	fprintf(stderr, "wrote %s\n", out);
	for (size_t i = 0; i < e.n; i++)
		free(e.v[i]);
	free(e.v);
	return 0;
}
