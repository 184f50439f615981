/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sensor side of a fleet query: requests on ca.query.<sensor>
 *   {"capture": GLOB, "from_ns": "N", "to_ns": "N", "filter": EXPR,
 *    "format": "pcap"|"pcapng"}
 * are answered with where to get the packets, never the packets:
 *   {"sensor": S, "streams": [{"capture", "url", "token", "expires_ns",
 *                              "local_from_ns"}]}
 * (no url when the capture holds no file: nothing to fetch)
 * one per matching capture: the sensor's own REST extract stream at its
 * advertised URL, and a one-time token for exactly that GET, valid
 * FL_GRANT_TTL_S seconds. A filter the core refuses is answered
 * {"error": libpcap's message}. Runs in libnats' delivery thread: it checks
 * and grants, it never reads a file.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/token.h"
#include "fleet/fl_internal.h"

struct req {
	struct fl_fleet *f;
	const char *glob, *filter, *format;
	bool has_from, has_to;
	uint64_t from_ns, to_ns;
	cJSON *streams;
	char err[1024];
	int ret;
};

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static int url_encode(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (o + 4 > len)
			return -ENAMETOOLONG;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int one_capture(const struct cap_cfg *cfg, void *arg)
{
	struct req *r = arg;
	struct fl_fleet *f = r->f;
	char *enc = NULL, *pq = NULL, *url = NULL, tok[API_GRANT_TOKEN_LEN + 1], exp[24];
	char from[40] = "", to[40] = "";
	uint64_t expires = 0;
	struct cap_file *files = NULL;
	size_t elen, nfiles = 0, i;
	cJSON *s;
	int ret;

	if (fnmatch(r->glob, cfg->name, 0))
		return 0;
	ret = cap_check_expr(f->o.core, cfg->name, r->filter, r->err, sizeof(r->err));
	if (ret)
		return ret;
	elen = 3 * strlen(r->filter) + 1;
	enc = malloc(elen);
	if (!enc || url_encode(r->filter, enc, elen)) {
		ret = -ENOMEM;
		goto out;
	}
	/* Unix seconds with 9 digits: exact, what ex_parse_time reads */
	if (r->has_from)
		snprintf(from, sizeof(from), "from=%" PRIu64 ".%09" PRIu64 "&",
			 r->from_ns / 1000000000, r->from_ns % 1000000000);
	if (r->has_to)
		snprintf(to, sizeof(to), "to=%" PRIu64 ".%09" PRIu64 "&",
			 r->to_ns / 1000000000, r->to_ns % 1000000000);
	if (asprintf(&pq, "/api/v1/captures/%s/extract?%s%sformat=%s&filter=%s", cfg->name,
		     from, to, r->format, enc) < 0) {
		pq = NULL;
		ret = -ENOMEM;
		goto out;
	}
	s = cJSON_CreateObject();
	if (!s || !cJSON_AddItemToArray(r->streams, s)) {
		cJSON_Delete(s);
		ret = -ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(s, "capture", cfg->name);
	/* where its local files begin: older ones were deleted (retention),
	 * the client reads them from the archive if they are there; no local
	 * file at all: no stream either */
	if (cap_files(f->o.core, cfg->name, &files, &nfiles) == 0) {
		for (i = 0; i < nfiles && !files[i].first_ns; i++)
			;
		snprintf(from, sizeof(from), "%" PRIu64, i < nfiles ? files[i].first_ns : 0);
		cJSON_AddStringToObject(s, "local_from_ns", from);
	}
	if (!nfiles)
		goto out;
	ret = api_grant_add(f->o.grants, pq, FL_GRANT_TTL_S, tok, &expires);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "no grant for the stream: %s", strerror(-ret));
		goto out;
	}
	if (asprintf(&url, "%s%s", f->advertise, pq) < 0) {
		url = NULL;
		ret = -ENOMEM;
		goto out;
	}
	snprintf(exp, sizeof(exp), "%" PRIu64, expires);
	cJSON_AddStringToObject(s, "url", url);
	cJSON_AddStringToObject(s, "token", tok);
	cJSON_AddStringToObject(s, "expires_ns", exp);
out:
	free(files);
	free(url);
	free(pq);
	free(enc);
	return ret;
}

static const char *get_str(const cJSON *o, const char *key, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : def;
}

static bool get_ns(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char *end;

	if (!cJSON_IsString(v))
		return false;
	*out = strtoull(v->valuestring, &end, 10);
	return v->valuestring[0] && !*end;
}

static void on_query(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	struct req r = { .f = arg };
	const char *reply = natsMsg_GetReply(m);
	cJSON *in = NULL, *out = NULL;
	char *json = NULL;

	if (!reply)
		goto done;
	atomic_fetch_add(&r.f->st.queries, 1);
	out = cJSON_CreateObject();
	if (!out)
		goto done;
	cJSON_AddStringToObject(out, "sensor", r.f->sensor);
	in = cJSON_ParseWithLength(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
	r.glob = get_str(in, "capture", "*");
	r.filter = get_str(in, "filter", "");
	r.format = get_str(in, "format", "pcap");
	r.has_from = get_ns(in, "from_ns", &r.from_ns);
	r.has_to = get_ns(in, "to_ns", &r.to_ns);
	if (!cJSON_IsObject(in)) {
		snprintf(r.err, sizeof(r.err), "the query is not a JSON object");
		r.ret = -EINVAL;
	} else if (strcmp(r.format, "pcap") && strcmp(r.format, "pcapng")) {
		snprintf(r.err, sizeof(r.err), "format must be pcap or pcapng");
		r.ret = -EINVAL;
	} else if (!r.f->o.grants) {
		snprintf(r.err, sizeof(r.err), "this sensor serves no REST API (--listen off)");
		r.ret = -ENOTSUP;
	} else if (!(r.streams = cJSON_AddArrayToObject(out, "streams"))) {
		r.ret = -ENOMEM;
	} else {
		r.ret = cap_each(r.f->o.core, one_capture, &r);
	}
	if (r.ret) {
		cJSON_DeleteItemFromObject(out, "streams");
		cJSON_AddStringToObject(out, "error", r.err[0] ? r.err : strerror(-r.ret));
	}
	json = cJSON_PrintUnformatted(out);
	if (json)
		natsConnection_PublishString(nc, reply, json);
done:
	cJSON_free(json);
	cJSON_Delete(in);
	cJSON_Delete(out);
	natsMsg_Destroy(m);
}

int fl_query_start(struct fl_fleet *f, char *err, size_t errlen)
{
	char subj[128];
	natsStatus s;

	snprintf(subj, sizeof(subj), FL_QUERY_PREFIX ".%s", f->sensor);
	s = natsConnection_Subscribe(&f->qsub, f->nc, subj, on_query, f);
	if (s != NATS_OK) {
		f->qsub = NULL;
		fl_nats_err(s, 0, subj, err, errlen);
		return -EIO;
	}
	return 0;
}
