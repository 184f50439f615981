/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_metrics: GET /metrics, the Prometheus text format 0.0.4. Every
 * number comes from the core (cap_each, cap_get, cap_core_stats); names
 * follow Prometheus' conventions (capture_appliance_ prefix, _total for
 * counters, base units). The drop causes add up: their sum is the
 * capture's dropped + net_dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "api/rest_int.h"

#ifndef CA_VERSION
#define CA_VERSION "0.1.0"
#endif

struct fam {
	const char *name, *type, *help;
};

/* The families, in the order they are written. */
enum {
	M_SEEN,
	M_MATCHED,
	M_WRITTEN,
	M_BYTES,
	M_DROPS,
	M_FILL_EMPTY,
	M_LATE,
	M_SNAPLEN,
	M_CAPTURING,
	M_MODE,
	M_NETWORK,
	M_N
};

static const struct fam fams[M_N] = {
	[M_SEEN] = { "capture_appliance_packets_seen_total", "counter",
		     "Frames the capture's programs saw, by direction" },
	[M_MATCHED] = { "capture_appliance_packets_matched_total", "counter",
			"Frames the filter accepted, by direction" },
	[M_WRITTEN] = { "capture_appliance_packets_written_total", "counter",
			"Records written to the file or handed to network mode" },
	[M_BYTES] = { "capture_appliance_written_bytes_total", "counter",
		      "Bytes written to the file or the network backlog, headers included" },
	[M_DROPS] = { "capture_appliance_drops_total", "counter",
		      "Matched frames lost, by cause; the causes add up to every loss" },
	[M_FILL_EMPTY] = { "capture_appliance_xsk_fill_ring_empty_total", "counter",
			   "AF_XDP drops because the fill ring was empty (a part of "
			   "cause=\"xsk_rx_dropped\")" },
	[M_LATE] = { "capture_appliance_late_records_total", "counter",
		     "Records written after a newer one: later than the time-order merge window" },
	[M_SNAPLEN] = { "capture_appliance_snaplen_bytes", "gauge",
			"Bytes kept of each packet" },
	[M_CAPTURING] = { "capture_appliance_capturing", "gauge",
			  "1 while the capture takes packets in some direction" },
	[M_MODE] = { "capture_appliance_mode", "gauge",
		     "1 for the capture's mode (ingress, egress, bidirectional, off)" },
	[M_NETWORK] = { "capture_appliance_network_mode", "gauge",
			"1 while packets go to pull clients instead of the file" },
};

/* A label value, escaped as the text format wants (\\, \", \n). */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

struct one {
	struct cap_cfg cfg;
	struct cap_stats st;
};

struct snap {
	struct api_rest *r;
	struct one *v;
	size_t n, cap;
};

static int take(const struct cap_cfg *cfg, void *arg)
{
	struct snap *s = arg;
	struct one *v;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		v = realloc(s->v, s->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
	}
	/* a capture deleted since the listing is just left out */
	if (!cap_get(s->r->core, cfg->name, &s->v[s->n].cfg, &s->v[s->n].st))
		s->n++;
	return 0;
}

static void sample(FILE *f, int m, const struct one *o, const char *lname,
		   const char *lval, unsigned long long v)
{
	fprintf(f, "%s{capture=\"", fams[m].name);
	esc(f, o->cfg.name);
	fputs("\",iface=\"", f);
	esc(f, o->cfg.iface);
	fputc('"', f);
	if (lname) {
		fprintf(f, ",%s=\"", lname);
		esc(f, lval);
		fputc('"', f);
	}
	fprintf(f, "} %llu\n", v);
}

static void family(FILE *f, int m, const struct snap *s)
{
	static const char *const modes[] = { "off", "ingress", "egress", "bidirectional" };
	size_t i, j;

	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fams[m].name, fams[m].help, fams[m].name,
		fams[m].type);
	for (i = 0; i < s->n; i++) {
		const struct one *o = &s->v[i];
		const struct cap_stats *st = &o->st;

		switch (m) {
		case M_SEEN:
			sample(f, m, o, "direction", "in", st->seen_in);
			sample(f, m, o, "direction", "out", st->seen_out);
			break;
		case M_MATCHED:
			sample(f, m, o, "direction", "in", st->matched_in);
			sample(f, m, o, "direction", "out", st->matched_out);
			break;
		case M_WRITTEN:
			sample(f, m, o, NULL, NULL, st->written);
			break;
		case M_BYTES:
			sample(f, m, o, NULL, NULL, st->bytes_written);
			break;
		case M_DROPS:
			sample(f, m, o, "cause", "redirect_failed", st->redirect_failed);
			sample(f, m, o, "cause", "ring_buffer_full", st->rb_full);
			sample(f, m, o, "cause", "xsk_rx_dropped", st->xsk_rx_dropped);
			sample(f, m, o, "cause", "xsk_rx_ring_full", st->xsk_rx_ring_full);
			sample(f, m, o, "cause", "bad_metadata", st->bad_meta);
			sample(f, m, o, "cause", "writer_behind", st->writer_behind);
			sample(f, m, o, "cause", "write_error", st->write_errors);
			sample(f, m, o, "cause", "network_backlog", st->net_dropped);
			break;
		case M_FILL_EMPTY:
			sample(f, m, o, NULL, NULL, st->xsk_fill_ring_empty);
			break;
		case M_LATE:
			sample(f, m, o, NULL, NULL, st->late);
			break;
		case M_SNAPLEN:
			sample(f, m, o, NULL, NULL, o->cfg.snaplen);
			break;
		case M_CAPTURING:
			sample(f, m, o, NULL, NULL, o->cfg.mode != CAP_MODE_OFF);
			break;
		case M_MODE:
			for (j = 0; j < sizeof(modes) / sizeof(modes[0]); j++)
				sample(f, m, o, "mode", modes[j],
				       !strcmp(cap_mode_name(o->cfg.mode), modes[j]));
			break;
		case M_NETWORK:
			sample(f, m, o, NULL, NULL, o->cfg.network);
			break;
		}
	}
}

static void core_families(FILE *f, struct cap_core *k)
{
	static const double le[CAP_NCOMPILE_BUCKETS] = { CAP_COMPILE_BUCKETS };
	const char *h = "capture_appliance_filter_compile_seconds";
	struct cap_core_stats cs;
	int i;

	cap_core_stats(k, &cs);
	fprintf(f, "# HELP capture_appliance_build_info The appliance's version\n"
		   "# TYPE capture_appliance_build_info gauge\n"
		   "capture_appliance_build_info{version=\"%s\"} 1\n", CA_VERSION);
	fprintf(f, "# HELP capture_appliance_pull_clients Network-mode clients pulling now\n"
		   "# TYPE capture_appliance_pull_clients gauge\n"
		   "capture_appliance_pull_clients %u\n", cs.pulls);
	fprintf(f, "# HELP %s Time from filter text to loaded programs (libpcap, clang)\n"
		   "# TYPE %s histogram\n", h, h);
	for (i = 0; i < CAP_NCOMPILE_BUCKETS; i++)
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", h, le[i],
			(unsigned long long)cs.compile_le[i]);
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", h,
		(unsigned long long)cs.compile_le[CAP_NCOMPILE_BUCKETS], h, cs.compile_seconds, h,
		(unsigned long long)cs.compiles);
}

static void archive_families(FILE *f, struct api_rest *r)
{
	static const struct fam a[] = {
		{ "capture_appliance_archive_uploaded_files_total", "counter",
		  "Objects (capture files and their indexes) uploaded and verified" },
		{ "capture_appliance_archive_uploaded_bytes_total", "counter",
		  "Bytes of the objects uploaded and verified" },
		{ "capture_appliance_archive_failures_total", "counter",
		  "Failed upload attempts (each retried with back-off)" },
		{ "capture_appliance_archive_queue_files", "gauge",
		  "Sealed files waiting for their upload" },
		{ "capture_appliance_archive_deleted_before_archived_total", "counter",
		  "Files deleted (min-free) before they were archived" },
	};
	struct api_archive_stats st = { 0 };
	unsigned long long v[5];

	r->archive_stats(r->archive_arg, &st);
	v[0] = st.uploaded_files;
	v[1] = st.uploaded_bytes;
	v[2] = st.failures;
	v[3] = st.queue;
	v[4] = st.gone;
	for (size_t i = 0; i < 5; i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", a[i].name, a[i].help,
			a[i].name, a[i].type, a[i].name, v[i]);
}

int api_h_metrics(struct api_req *q)
{
	struct snap s = { .r = q->r };
	char *text = NULL, clen[32];
	size_t len = 0;
	FILE *f;
	int m;

	f = open_memstream(&text, &len);
	if (!f)
		return api_http_error(q->conn, 500, "out of memory");
	if (cap_each(q->r->core, take, &s)) {
		fclose(f);
		free(text);
		free(s.v);
		return api_http_error(q->conn, 500, "out of memory");
	}
	core_families(f, q->r->core);
	if (q->r->archive_stats)
		archive_families(f, q->r);
	for (m = 0; m < M_N; m++)
		family(f, m, &s);
	fclose(f);
	free(s.v);
	snprintf(clen, sizeof(clen), "%zu", len);
	mg_response_header_start(q->conn, 200);
	mg_response_header_add(q->conn, "Content-Type", "text/plain; version=0.0.4; charset=utf-8",
			       -1);
	mg_response_header_add(q->conn, "Content-Length", clen, -1);
	mg_response_header_add(q->conn, "Cache-Control", "no-store", -1);
	mg_response_header_send(q->conn);
	mg_write(q->conn, text, len);
	free(text);
	return 200;
}
