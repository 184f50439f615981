/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Catalog records: subjects, message ids and the JSON of one file. A
 * record is built once from what is on disk (the file's index, else the
 * core's file list) and the capture's settings, so a record published late
 * (NATS was down) says the same as one published at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "extract/extract.h"
#include "fleet/fl_internal.h"

void fl_subject_token(const char *capture, char *out, size_t len)
{
	size_t o = 0;

	for (; *capture && o + 4 < len; capture++) {
		if (*capture == '.') {
			memcpy(out + o, "%2E", 3);
			o += 3;
		} else {
			out[o++] = *capture;
		}
	}
	out[o] = '\0';
}

void fl_subject(const char *sensor, const char *capture, char *out, size_t len)
{
	char tok[3 * CAP_NAME_MAX];

	fl_subject_token(capture, tok, sizeof(tok));
	snprintf(out, len, FL_SUBJECT_PREFIX ".%s.%s", sensor, tok);
}

void fl_msg_id(const char *sensor, const char *capture, const char *file, const char *kind,
	       char *out, size_t len)
{
	snprintf(out, len, "%s/%s/%s/%s", sensor, capture, file, kind);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Counts as JSON numbers (exact digits); time stamps in ns as strings of
 * digits: they exceed 2^53, where a double (cJSON's, JavaScript's) stops
 * being exact. */
static void add_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cJSON_AddRawToObject(o, key, buf);
}

static void add_ns(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cJSON_AddStringToObject(o, key, buf);
}

static uint64_t get_u64(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(v))
		return strtoull(v->valuestring, NULL, 10);
	return cJSON_IsNumber(v) && v->valuedouble > 0 ? (uint64_t)v->valuedouble : 0;
}

static int finish(cJSON *o, char **json)
{
	*json = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return *json ? 0 : -ENOMEM;
}

int fl_record_sealed(struct cap_core *k, const char *sensor, const char *capture,
		     const char *path, char **json)
{
	const char *file = base_name(path);
	struct cap_cfg *cfg = malloc(sizeof(*cfg));
	struct ex_index *ix = NULL;
	struct cap_file *fl = NULL;
	struct cap_stats st;
	char err[256], idx[PATH_MAX + 8];
	uint64_t first = 0, last = 0, records = 0, bytes = 0;
	bool have_cfg, have = false;
	cJSON *o = NULL, *ixo;
	struct stat sb;
	size_t n = 0, i;
	int ret;

	if (!cfg)
		return -ENOMEM;
	have_cfg = !cap_get(k, capture, cfg, &st);
	if (!ex_index_load(path, &ix, err, sizeof(err))) {
		first = ix->min_ns;
		last = ix->max_ns;
		records = ix->records;
		bytes = ix->pcap_size;
		have = true;
	} else if (!cap_files(k, capture, &fl, &n)) {
		for (i = 0; i < n; i++) {
			if (strcmp(fl[i].name, file))
				continue;
			if (!fl[i].sealed)
				break;
			first = fl[i].first_ns;
			last = fl[i].last_ns;
			records = fl[i].records;
			bytes = fl[i].bytes;
			have = true;
		}
	}
	if (!have) {
		ret = -ENOENT;
		goto out;
	}
	o = cJSON_CreateObject();
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(o, "kind", "sealed");
	cJSON_AddStringToObject(o, "sensor", sensor);
	cJSON_AddStringToObject(o, "capture", capture);
	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddStringToObject(o, "path", path);
	add_ns(o, "first_ns", first);
	add_ns(o, "last_ns", last);
	add_u64(o, "records", records);
	add_u64(o, "bytes", bytes);
	if (have_cfg) {
		/* the capture's drop counter when the file was sealed: per-file
		 * losses are not counted apart */
		add_u64(o, "drops", st.dropped);
		cJSON_AddStringToObject(o, "filter", cfg->filter);
		cJSON_AddStringToObject(o, "iface", cfg->iface);
		cJSON_AddStringToObject(o, "format", cap_format_name(cfg->format));
	}
	if (ix) {
		ixo = cJSON_AddObjectToObject(o, "index");
		snprintf(idx, sizeof(idx), "%s.idx", path);
		if (ixo) {
			add_u64(ixo, "blocks", ix->nblocks);
			add_u64(ixo, "linktype", ix->dlt);
			cJSON_AddBoolToObject(ixo, "keys", ix->keys);
			add_u64(ixo, "bytes", stat(idx, &sb) ? 0 : (uint64_t)sb.st_size);
		}
	} else {
		cJSON_AddNullToObject(o, "index");
	}
	add_ns(o, "at_ns", now_ns());
	ret = finish(o, json);
	o = NULL;
out:
	cJSON_Delete(o);
	ex_index_free(ix);
	free(fl);
	free(cfg);
	return ret;
}

int fl_record_archived(const char *sensor, const char *capture, const char *path,
		       const char *key, uint64_t bytes, const char *md5hex, char **json)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "kind", "archived");
	cJSON_AddStringToObject(o, "sensor", sensor);
	cJSON_AddStringToObject(o, "capture", capture);
	cJSON_AddStringToObject(o, "file", base_name(path));
	cJSON_AddStringToObject(o, "key", key);
	add_u64(o, "bytes", bytes);
	cJSON_AddStringToObject(o, "md5", md5hex ? md5hex : "");
	add_ns(o, "at_ns", now_ns());
	return finish(o, json);
}

static int copy_str(const cJSON *o, const char *key, char *out, size_t len, bool need)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v)) {
		out[0] = '\0';
		return need ? -EINVAL : 0;
	}
	if (strlen(v->valuestring) >= len)
		return -EINVAL;
	snprintf(out, len, "%s", v->valuestring);
	return 0;
}

int fl_record_parse(const char *data, size_t len, struct fl_rec *r)
{
	cJSON *o = cJSON_ParseWithLength(data, len);
	int ret = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o))
		goto out;
	if (copy_str(o, "kind", r->kind, sizeof(r->kind), true) ||
	    copy_str(o, "sensor", r->sensor, sizeof(r->sensor), true) ||
	    copy_str(o, "capture", r->capture, sizeof(r->capture), true) ||
	    copy_str(o, "file", r->file, sizeof(r->file), true) ||
	    copy_str(o, "key", r->key, sizeof(r->key), false))
		goto out;
	if (!fl_sensor_name_ok(r->sensor) || !cap_name_ok(r->capture) || !r->file[0] ||
	    strchr(r->file, '/'))
		goto out;
	r->first_ns = get_u64(o, "first_ns");
	r->last_ns = get_u64(o, "last_ns");
	r->records = get_u64(o, "records");
	r->bytes = get_u64(o, "bytes");
	ret = 0;
out:
	cJSON_Delete(o);
	return ret;
}
