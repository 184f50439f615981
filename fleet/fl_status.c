/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The heartbeat: the sensor's status record in the KV bucket, every
 * FL_HEARTBEAT_S seconds (key: the sensor's name): version, last seen, the
 * advertised REST URL, each capture's interface, filter, mode and counters,
 * the catalog queue's counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fl_internal.h"

#ifndef CA_VERSION
#define CA_VERSION "0.1.0"
#endif

static void add_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cJSON_AddRawToObject(o, key, buf);
}

struct beat {
	struct fl_fleet *f;
	cJSON *caps;
};

static int one_capture(const struct cap_cfg *cfg, void *arg)
{
	struct beat *b = arg;
	struct cap_stats st;
	cJSON *c, *s;

	c = cJSON_CreateObject();
	if (!c || !cJSON_AddItemToArray(b->caps, c)) {
		cJSON_Delete(c);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(c, "name", cfg->name);
	cJSON_AddStringToObject(c, "iface", cfg->iface);
	cJSON_AddStringToObject(c, "filter", cfg->filter);
	cJSON_AddStringToObject(c, "mode", cap_mode_name(cfg->mode));
	cJSON_AddBoolToObject(c, "network", cfg->network);
	if (!cap_get(b->f->o.core, cfg->name, NULL, &st)) {
		s = cJSON_AddObjectToObject(c, "counters");
		if (s) {
			add_u64(s, "seen", st.seen);
			add_u64(s, "matched", st.matched);
			add_u64(s, "written", st.written);
			add_u64(s, "dropped", st.dropped);
			add_u64(s, "bytes_written", st.bytes_written);
		}
	}
	return 0;
}

int fl_heartbeat(struct fl_fleet *f, char *err, size_t errlen)
{
	struct beat b = { .f = f };
	struct fl_stats fs;
	struct timespec t;
	char ns[24], *json = NULL;
	cJSON *o, *q;
	natsStatus s;
	int ret;

	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(ns, sizeof(ns), "%" PRIu64,
		 (uint64_t)((uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec));
	cJSON_AddStringToObject(o, "sensor", f->sensor);
	cJSON_AddStringToObject(o, "version", CA_VERSION);
	cJSON_AddStringToObject(o, "last_seen_ns", ns); /* a string: ns exceed 2^53 */
	cJSON_AddStringToObject(o, "advertise", f->advertise);
	b.caps = cJSON_AddArrayToObject(o, "captures");
	ret = b.caps ? cap_each(f->o.core, one_capture, &b) : -ENOMEM;
	fl_stats_get(f, &fs);
	q = cJSON_AddObjectToObject(o, "catalog");
	if (q) {
		add_u64(q, "queued", fs.queued);
		add_u64(q, "published", fs.published);
		add_u64(q, "duplicates", fs.duplicates);
		add_u64(q, "queue_full", fs.queue_full);
		add_u64(q, "publish_errors", fs.publish_errors);
		add_u64(q, "reconciled", fs.reconciled);
		add_u64(q, "waiting", fs.waiting);
		add_u64(q, "queries", fs.queries);
	}
	if (!ret)
		json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!json)
		return ret ? ret : -ENOMEM;
	s = kvStore_PutString(NULL, f->kv, f->sensor, json);
	cJSON_free(json);
	if (s != NATS_OK) {
		fl_nats_err(s, 0, "KV " FL_KV_BUCKET, err, errlen);
		return -EIO;
	}
	return 0;
}
