/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client's reading of the fleet: the catalog (every sensor capture and
 * its files), the sensors' status records, `fleet ls` and `fleet catalog`.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fl_internal.h"

struct reader {
	struct fl_catalog *c;
	struct fl_set ids;
};

static struct fl_cat_cap *cap_of(struct fl_catalog *c, const char *sensor, const char *capture)
{
	struct fl_cat_cap *v;
	size_t i;

	for (i = 0; i < c->ncaps; i++)
		if (!strcmp(c->caps[i].sensor, sensor) && !strcmp(c->caps[i].capture, capture))
			return &c->caps[i];
	v = realloc(c->caps, (c->ncaps + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->caps = v;
	v = &c->caps[c->ncaps++];
	memset(v, 0, sizeof(*v));
	snprintf(v->sensor, sizeof(v->sensor), "%s", sensor);
	snprintf(v->capture, sizeof(v->capture), "%s", capture);
	return v;
}

static struct fl_cat_file *file_of(struct fl_cat_cap *k, const char *file)
{
	struct fl_cat_file *v;
	size_t i;

	for (i = k->nfiles; i-- > 0;) /* records come in file order: the last first */
		if (!strcmp(k->files[i].file, file))
			return &k->files[i];
	v = realloc(k->files, (k->nfiles + 1) * sizeof(*v));
	if (!v)
		return NULL;
	k->files = v;
	v = &k->files[k->nfiles++];
	memset(v, 0, sizeof(*v));
	snprintf(v->file, sizeof(v->file), "%s", file);
	return v;
}

static int take(void *arg, const char *id, uint64_t seq, const char *data, size_t len)
{
	struct reader *r = arg;
	struct fl_cat_file *f;
	struct fl_cat_cap *k;
	struct fl_rec rec;

	if (fl_record_parse(data, len, &rec))
		return 0; /* not ours: skipped */
	if (id[0] && fl_set_has(&r->ids, id))
		return 0;
	if (id[0] && fl_set_add(&r->ids, id))
		return -ENOMEM;
	k = cap_of(r->c, rec.sensor, rec.capture);
	f = k ? file_of(k, rec.file) : NULL;
	if (!f)
		return -ENOMEM;
	if (!strcmp(rec.kind, "archived")) {
		if (!f->archived)
			k->archived++;
		f->archived = true;
		snprintf(f->key, sizeof(f->key), "%s", rec.key);
		return 0;
	}
	if (strcmp(rec.kind, "sealed"))
		return 0;
	f->first_ns = rec.first_ns;
	f->last_ns = rec.last_ns;
	f->records = rec.records;
	f->bytes = rec.bytes;
	if (rec.records && (!k->first_ns || rec.first_ns < k->first_ns))
		k->first_ns = rec.first_ns;
	if (rec.last_ns > k->last_ns)
		k->last_ns = rec.last_ns;
	k->records += rec.records;
	k->bytes += rec.bytes;
	return 0;
}

int fl_catalog_read(natsConnection *nc, jsCtx *js, struct fl_catalog *c, char *err,
		    size_t errlen)
{
	struct reader r = { .c = c };
	int ret;

	memset(c, 0, sizeof(*c));
	ret = fl_scan(nc, js, FL_SUBJECT_PREFIX ".>", take, &r, err, errlen);
	fl_set_clear(&r.ids);
	if (ret)
		fl_catalog_free(c);
	return ret;
}

void fl_catalog_free(struct fl_catalog *c)
{
	size_t i;

	for (i = 0; i < c->ncaps; i++)
		free(c->caps[i].files);
	free(c->caps);
	memset(c, 0, sizeof(*c));
}

/* ---- fleet ls ---- */

static void fmt_time(uint64_t ns, char *out, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!ns) {
		snprintf(out, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void add_u64(cJSON *o, const char *key, uint64_t v, bool str)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (str)
		cJSON_AddStringToObject(o, key, buf);
	else
		cJSON_AddRawToObject(o, key, buf);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The status records of the KV bucket, as one JSON array (sensor order). */
int fl_status_read(jsCtx *js, cJSON **out, char *err, size_t errlen)
{
	kvStore *kv = NULL;
	kvKeysList keys = { 0 };
	kvEntry *e;
	natsStatus s;
	cJSON *arr, *v;
	int i;

	*out = arr = cJSON_CreateArray();
	if (!arr)
		return -ENOMEM;
	/* retried: a node lost a moment ago delays JetStream's answers */
	for (i = 0; i < 4; i++) {
		s = js_KeyValue(&kv, js, FL_KV_BUCKET);
		if (s != NATS_TIMEOUT)
			break;
	}
	if (s == NATS_NOT_FOUND)
		return 0; /* no sensor ever joined */
	if (s != NATS_OK) {
		fl_nats_err(s, 0, "KV " FL_KV_BUCKET, err, errlen);
		return -EIO;
	}
	for (i = 0; i < 4; i++) {
		s = kvStore_Keys(&keys, kv, NULL);
		if (s != NATS_TIMEOUT)
			break;
	}
	if (s != NATS_OK && s != NATS_NOT_FOUND) {
		fl_nats_err(s, 0, "KV " FL_KV_BUCKET " keys", err, errlen);
		kvStore_Destroy(kv);
		return -EIO;
	}
	if (s == NATS_OK && keys.Count > 1)
		qsort(keys.Keys, (size_t)keys.Count, sizeof(*keys.Keys), by_name);
	for (i = 0; s == NATS_OK && i < keys.Count; i++) {
		e = NULL;
		if (kvStore_Get(&e, kv, keys.Keys[i]) != NATS_OK)
			continue;
		v = cJSON_ParseWithLength(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
		if (cJSON_IsObject(v))
			cJSON_AddItemToArray(arr, v);
		else
			cJSON_Delete(v);
		kvEntry_Destroy(e);
	}
	kvKeysList_Destroy(&keys);
	kvStore_Destroy(kv);
	return 0;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int fl_catalog_add_running(struct fl_catalog *c, const cJSON *status)
{
	const cJSON *s, *k;
	struct fl_cat_cap *cc;
	uint64_t seen;

	cJSON_ArrayForEach(s, status) {
		if (!fl_sensor_name_ok(jstr(s, "sensor")))
			continue;
		seen = strtoull(jstr(s, "last_seen_ns"), NULL, 10);
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(s, "captures")) {
			if (!cap_name_ok(jstr(k, "name")))
				continue;
			cc = cap_of(c, jstr(s, "sensor"), jstr(k, "name"));
			if (!cc)
				return -ENOMEM;
			cc->running = true;
			cc->seen_ns = seen;
		}
	}
	return 0;
}

/* One sensor: its status and the catalog's captures of it. */
static cJSON *sensor_json(const char *name, const cJSON *status, const struct fl_catalog *c)
{
	cJSON *o = cJSON_CreateObject(), *caps, *k, *sc;
	const cJSON *st_caps = cJSON_GetObjectItemCaseSensitive(status, "captures");
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "sensor", name);
	cJSON_AddStringToObject(o, "last_seen_ns", jstr(status, "last_seen_ns"));
	cJSON_AddStringToObject(o, "advertise", jstr(status, "advertise"));
	cJSON_AddStringToObject(o, "version", jstr(status, "version"));
	caps = cJSON_AddArrayToObject(o, "captures");
	/* the captures it runs now, then those only the catalog remembers */
	cJSON_ArrayForEach(sc, st_caps) {
		k = cJSON_CreateObject();
		cJSON_AddStringToObject(k, "name", jstr(sc, "name"));
		cJSON_AddStringToObject(k, "iface", jstr(sc, "iface"));
		cJSON_AddStringToObject(k, "filter", jstr(sc, "filter"));
		cJSON_AddBoolToObject(k, "running", true);
		cJSON_AddItemToArray(caps, k);
	}
	for (i = 0; i < c->ncaps; i++) {
		if (strcmp(c->caps[i].sensor, name))
			continue;
		cJSON_ArrayForEach(k, caps)
			if (!strcmp(jstr(k, "name"), c->caps[i].capture))
				break;
		if (!k) {
			k = cJSON_CreateObject();
			cJSON_AddStringToObject(k, "name", c->caps[i].capture);
			cJSON_AddBoolToObject(k, "running", false);
			cJSON_AddItemToArray(caps, k);
		}
		add_u64(k, "files", c->caps[i].nfiles, false);
		add_u64(k, "archived", c->caps[i].archived, false);
		add_u64(k, "records", c->caps[i].records, false);
		add_u64(k, "bytes", c->caps[i].bytes, false);
		add_u64(k, "first_ns", c->caps[i].first_ns, true);
		add_u64(k, "last_ns", c->caps[i].last_ns, true);
	}
	return o;
}

static void print_table(const cJSON *sensors, FILE *out)
{
	const cJSON *s, *k;
	char from[32], to[32];
	uint64_t seen, now = now_ns();

	fprintf(out, "%-16s %-10s %-28s %s\n", "SENSOR", "LAST SEEN", "REST", "VERSION");
	cJSON_ArrayForEach(s, sensors) {
		seen = strtoull(jstr(s, "last_seen_ns"), NULL, 10);
		if (seen)
			snprintf(from, sizeof(from), "%" PRIu64 "s ago",
				 now > seen ? (now - seen) / 1000000000 : 0);
		else
			snprintf(from, sizeof(from), "never");
		fprintf(out, "%-16s %-10s %-28s %s\n", jstr(s, "sensor"), from,
			jstr(s, "advertise"), jstr(s, "version"));
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(s, "captures")) {
			const cJSON *nf = cJSON_GetObjectItemCaseSensitive(k, "files");

			fmt_time(strtoull(jstr(k, "first_ns"), NULL, 10), from, sizeof(from));
			fmt_time(strtoull(jstr(k, "last_ns"), NULL, 10), to, sizeof(to));
			fprintf(out, "  %-14s %-10s files %-5s %s .. %s%s%s%s\n", jstr(k, "name"),
				jstr(k, "iface")[0] ? jstr(k, "iface") : "-",
				cJSON_IsRaw(nf) ? nf->valuestring : "0", from, to,
				jstr(k, "filter")[0] ? "  filter '" : "", jstr(k, "filter"),
				jstr(k, "filter")[0] ? "'" : "");
		}
	}
}

int fl_ls(const struct fl_conn_opts *conn, bool json, FILE *out, char *err, size_t errlen)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	struct fl_catalog c = { 0 };
	cJSON *status = NULL, *root = NULL, *sensors, *s, *o;
	char *text;
	size_t i;
	int ret;

	ret = fl_connect(conn, "capture-appliance fleet", NULL, NULL, &nc, &js, err, errlen);
	if (ret)
		return ret;
	ret = fl_status_read(js, &status, err, errlen);
	if (!ret)
		ret = fl_catalog_read(nc, js, &c, err, errlen);
	if (ret)
		goto out;
	root = cJSON_CreateObject();
	sensors = cJSON_AddArrayToObject(root, "sensors");
	cJSON_ArrayForEach(s, status) {
		o = sensor_json(jstr(s, "sensor"), s, &c);
		if (o)
			cJSON_AddItemToArray(sensors, o);
	}
	/* sensors the catalog knows but the bucket does not (any more) */
	for (i = 0; i < c.ncaps; i++) {
		cJSON_ArrayForEach(o, sensors)
			if (!strcmp(jstr(o, "sensor"), c.caps[i].sensor))
				break;
		if (!o && (o = sensor_json(c.caps[i].sensor, NULL, &c)))
			cJSON_AddItemToArray(sensors, o);
	}
	if (json) {
		text = cJSON_Print(root);
		if (!text) {
			ret = -ENOMEM;
			goto out;
		}
		fprintf(out, "%s\n", text);
		cJSON_free(text);
	} else {
		print_table(sensors, out);
	}
out:
	cJSON_Delete(root);
	cJSON_Delete(status);
	fl_catalog_free(&c);
	fl_disconnect(nc, js);
	return ret;
}

/* ---- fleet catalog ---- */

struct dump {
	FILE *out;
	const char *glob;
};

static int dump_one(void *arg, const char *id, uint64_t seq, const char *data, size_t len)
{
	struct dump *d = arg;
	struct fl_rec rec;
	cJSON *o;
	char *text;

	if (fl_record_parse(data, len, &rec) ||
	    (d->glob && fnmatch(d->glob, rec.sensor, 0)))
		return 0;
	o = cJSON_ParseWithLength(data, len);
	if (!o)
		return 0;
	add_u64(o, "seq", seq, false);
	cJSON_AddStringToObject(o, "id", id);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	fprintf(d->out, "%s\n", text);
	cJSON_free(text);
	return 0;
}

int fl_catalog_dump(const struct fl_conn_opts *conn, const char *sensor_glob, FILE *out,
		    char *err, size_t errlen)
{
	struct dump d = { .out = out, .glob = sensor_glob };
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	int ret;

	ret = fl_connect(conn, "capture-appliance fleet", NULL, NULL, &nc, &js, err, errlen);
	if (ret)
		return ret;
	ret = fl_scan(nc, js, FL_SUBJECT_PREFIX ".>", dump_one, &d, err, errlen);
	fl_disconnect(nc, js);
	return ret;
}
