/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_captures: the JSON routes of /api/v1/captures. A change is checked
 * completely (keys, types, ranges, the filter with libpcap, the dump
 * folder) before anything is touched, and api_capture_set() is itself all
 * or nothing, so a refused request leaves the capture as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "api/rest_int.h"
#include "filtergen/filtergen.h"

#define ERRLEN 1024
#define DEFAULT_FILTER "none" /* filtergen: what a new capture starts with */

/* Errors from the capture layer: the user's fault (400), a conflict
 * (409), or ours (500). */
static int capture_status(int err)
{
	switch (-err) {
	case EBUSY:
	case EEXIST:
	case EADDRINUSE:
		return 409;
	case EINVAL:
	case ENOENT:
	case ENODEV:
	case ENXIO:
	case ENOTDIR:
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOTSUP:
	case ENAMETOOLONG:
	case E2BIG:
	case ERANGE:
		return 400;
	default:
		return 500;
	}
}

static struct api_reg_entry *lookup(struct api_req *q)
{
	struct api_reg_entry *e = api_reg_get(&q->r->reg, q->name);

	if (!e)
		api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	return e;
}

/* Read-locks e->use; 404 (and unlocked) when the capture was deleted. */
static int use_begin(struct api_req *q, struct api_reg_entry *e)
{
	pthread_rwlock_rdlock(&e->use);
	if (e->c)
		return 0;
	pthread_rwlock_unlock(&e->use);
	return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
}

static int check_filter(const struct api_capture_cfg *cfg, char *err, size_t errlen)
{
	struct fg_filter *f = NULL;
	char why[FG_ERR_LEN] = "";
	int ret;

	ret = fg_compile(cfg->filter, cfg->snaplen, &f, why, sizeof(why));
	fg_free(f);
	if (ret)
		snprintf(err, errlen, "filter '%.200s' refused: %.700s", cfg->filter,
			 why[0] ? why : strerror(-ret));
	return ret;
}

int api_h_healthz(struct api_req *q)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddStringToObject(o, "status", "ok")) {
		cJSON_Delete(o);
		o = NULL;
	}
	return api_http_json(q->conn, 200, o);
}

int api_h_openapi(struct api_req *q)
{
	char clen[32];

	snprintf(clen, sizeof(clen), "%zu", api_openapi_json_len);
	mg_response_header_start(q->conn, 200);
	mg_response_header_add(q->conn, "Content-Type", "application/json", -1);
	mg_response_header_add(q->conn, "Content-Length", clen, -1);
	mg_response_header_send(q->conn);
	mg_write(q->conn, api_openapi_json, api_openapi_json_len);
	return 200;
}

/* The full state of one capture: settings plus counters. */
static cJSON *capture_json(struct api_capture *c, bool with_stats)
{
	struct api_capture_cfg *cfg = malloc(sizeof(*cfg));
	struct api_capture_stats st;
	cJSON *o = NULL, *s;

	if (!cfg || api_capture_get(c, cfg))
		goto out;
	o = api_json_cfg(cfg);
	if (o && with_stats) {
		memset(&st, 0, sizeof(st));
		s = api_capture_stats(c, &st) ? NULL : api_json_stats(&st);
		if (!s || !cJSON_AddItemToObject(o, "stats", s)) {
			cJSON_Delete(s);
			cJSON_Delete(o);
			o = NULL;
		}
	}
out:
	free(cfg);
	return o;
}

static int list_one(struct api_reg_entry *e, void *arg)
{
	cJSON *o;

	pthread_rwlock_rdlock(&e->use);
	o = e->c ? capture_json(e->c, false) : NULL;
	pthread_rwlock_unlock(&e->use);
	if (o)
		cJSON_AddItemToArray(arg, o);
	return 0;
}

int api_h_list(struct api_req *q)
{
	cJSON *a = cJSON_CreateArray();

	if (a && api_reg_each(&q->r->reg, list_one, a)) {
		cJSON_Delete(a);
		a = NULL;
	}
	return api_http_json(q->conn, 200, a);
}

int api_h_get(struct api_req *q)
{
	struct api_reg_entry *e = lookup(q);
	cJSON *o;
	int st;

	if (!e)
		return 404;
	if (!(st = use_begin(q, e))) {
		o = capture_json(e->c, true);
		pthread_rwlock_unlock(&e->use);
		st = api_http_json(q->conn, o ? 200 : 500, o);
	}
	api_reg_put(&q->r->reg, e);
	return st;
}

int api_h_stats(struct api_req *q)
{
	struct api_reg_entry *e = lookup(q);
	struct api_capture_stats s;
	int st, ret;

	if (!e)
		return 404;
	if (!(st = use_begin(q, e))) {
		memset(&s, 0, sizeof(s));
		ret = api_capture_stats(e->c, &s);
		pthread_rwlock_unlock(&e->use);
		if (ret)
			st = api_http_error(q->conn, 500, "can't read counters: %s",
					    strerror(-ret));
		else
			st = api_http_json(q->conn, 200, api_json_stats(&s));
	}
	api_reg_put(&q->r->reg, e);
	return st;
}

int api_h_field_get(struct api_req *q)
{
	struct api_reg_entry *e = lookup(q);
	struct api_capture_cfg *cfg;
	cJSON *v = NULL;
	int st;

	if (!e)
		return 404;
	cfg = malloc(sizeof(*cfg));
	if (!(st = use_begin(q, e))) {
		if (cfg && !api_capture_get(e->c, cfg))
			v = api_json_cfg_field(cfg, q->arg);
		pthread_rwlock_unlock(&e->use);
		st = api_http_json(q->conn, 200, v);
	}
	free(cfg);
	api_reg_put(&q->r->reg, e);
	return st;
}

int api_h_create(struct api_req *q)
{
	struct api_capture_cfg *cfg = NULL;
	struct api_reg_entry *e = NULL;
	struct api_capture *c = NULL;
	char err[ERRLEN], dump[PATH_MAX];
	unsigned int fields;
	bool iface_set;
	cJSON *body;
	int ret, st;

	body = api_http_json_body(q);
	if (!body)
		return 400;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		st = api_http_error(q->conn, 500, "out of memory");
		goto out;
	}
	cfg->mode = API_MODE_BIDIRECTIONAL;
	snprintf(cfg->filter, sizeof(cfg->filter), "%s", DEFAULT_FILTER);
	cfg->snaplen = FG_SNAPLEN_MAX;
	ret = api_json_apply(body, API_J_CREATE, cfg, &fields, &iface_set, err, sizeof(err));
	if (!ret && !cfg->name[0]) {
		snprintf(err, sizeof(err), "field 'name' is required");
		ret = -EINVAL;
	}
	if (!ret && !iface_set) {
		snprintf(err, sizeof(err), "field 'iface' is required");
		ret = -EINVAL;
	}
	if (!ret && !(fields & API_F_DUMP))
		/* default: NAME.pcap in the dump root, or /tmp like the seed */
		snprintf(cfg->dump, sizeof(cfg->dump), "%s/%s",
			 q->r->dump_root ? q->r->dump_root : "/tmp", cfg->name);
	if (!ret)
		ret = check_filter(cfg, err, sizeof(err));
	if (!ret)
		ret = api_rest_check_dump(q->r->dump_root, cfg->dump, dump, sizeof(dump),
					  err, sizeof(err));
	if (ret) {
		st = api_http_error(q->conn, 400, "%s", err);
		goto out;
	}
	snprintf(cfg->dump, sizeof(cfg->dump), "%s", dump);

	ret = api_reg_reserve(&q->r->reg, cfg->name, cfg->iface, &e);
	if (ret == -EEXIST) {
		st = api_http_error(q->conn, 409, "a capture named '%s' exists already",
				    cfg->name);
		goto out;
	}
	if (ret == -EBUSY) {
		st = api_http_error(q->conn, 409, "interface %s is already captured",
				    cfg->iface);
		goto out;
	}
	if (ret) {
		st = api_http_error(q->conn, 500, "%s", strerror(-ret));
		goto out;
	}
	err[0] = '\0';
	ret = api_rest_create_capture(q->r, cfg, &c, err, sizeof(err));
	if (ret) {
		api_reg_cancel(&q->r->reg, e);
		st = api_http_error(q->conn, capture_status(ret), "%s",
				    err[0] ? err : strerror(-ret));
		goto out;
	}
	api_reg_commit(&q->r->reg, e, c, cfg->network);
	{
		char loc[API_NAME_MAX + 32], clen[32];
		cJSON *o = api_json_cfg(cfg);
		char *text = o ? cJSON_PrintUnformatted(o) : NULL;

		cJSON_Delete(o);
		snprintf(loc, sizeof(loc), "/api/v1/captures/%s", cfg->name);
		snprintf(clen, sizeof(clen), "%zu", text ? strlen(text) : 0);
		mg_response_header_start(q->conn, 201);
		mg_response_header_add(q->conn, "Content-Type", "application/json", -1);
		mg_response_header_add(q->conn, "Content-Length", clen, -1);
		mg_response_header_add(q->conn, "Location", loc, -1);
		mg_response_header_send(q->conn);
		if (text)
			mg_write(q->conn, text, strlen(text));
		free(text);
		st = 201;
	}
out:
	cJSON_Delete(body);
	free(cfg);
	return st;
}

/* Moves the capture to another interface: a new capture with the new
 * settings replaces the old one (the old one is destroyed first, as both
 * would write the same file). On failure the old settings come back. */
static int replace_capture(struct api_req *q, struct api_reg_entry *e,
			   const struct api_capture_cfg *old,
			   const struct api_capture_cfg *cfg, char *err, size_t errlen)
{
	struct api_capture *c = NULL;
	char err2[ERRLEN];
	int ret;

	ret = api_reg_move_iface(&q->r->reg, e, cfg->iface);
	if (ret) {
		snprintf(err, errlen, "interface %s is already captured", cfg->iface);
		return ret;
	}
	pthread_rwlock_wrlock(&e->use);
	api_reg_quiesce(&q->r->reg, e);
	api_capture_destroy(e->c);
	e->c = NULL;
	ret = api_rest_create_capture(q->r, cfg, &c, err, errlen);
	if (ret && api_rest_create_capture(q->r, old, &c, err2, sizeof(err2))) {
		/* neither works: the capture is gone, say so */
		pthread_rwlock_unlock(&e->use);
		api_reg_move_done(&q->r->reg, e, false);
		api_reg_unlink(&q->r->reg, e);
		snprintf(err + strlen(err), errlen - strlen(err),
			 "; restoring the old settings failed too (%.400s): capture removed",
			 err2);
		return -EIO;
	}
	e->c = c;
	api_reg_move_done(&q->r->reg, e, !ret);
	api_reg_set_network(&q->r->reg, e, ret ? old->network : cfg->network);
	pthread_rwlock_unlock(&e->use);
	return ret;
}

/* Applies obj (already parsed) to the capture of e: all or nothing. On
 * success *now holds the new settings. Returns an HTTP status; sends
 * nothing on 200. */
static int patch(struct api_req *q, struct api_reg_entry *e, const cJSON *obj,
		 struct api_capture_cfg *now)
{
	struct api_capture_cfg *cur = malloc(sizeof(*cur));
	char err[ERRLEN], dump[PATH_MAX];
	unsigned int fields;
	bool iface_set, moved;
	int ret, st = 200;

	if (!cur)
		return api_http_error(q->conn, 500, "out of memory");
	api_fifo_lock(&e->chg);
	if (use_begin(q, e)) {
		st = 404;
		goto out_unlock;
	}
	ret = api_capture_get(e->c, cur);
	if (ret) {
		pthread_rwlock_unlock(&e->use);
		st = api_http_error(q->conn, 500, "can't read the settings");
		goto out_unlock;
	}
	*now = *cur;
	ret = api_json_apply(obj, API_J_IFACE, now, &fields, &iface_set, err, sizeof(err));
	if (!ret && (fields & (API_F_FILTER | API_F_SNAPLEN)))
		ret = check_filter(now, err, sizeof(err));
	if (!ret && (fields & API_F_DUMP)) {
		ret = api_rest_check_dump(q->r->dump_root, now->dump, dump, sizeof(dump),
					  err, sizeof(err));
		if (!ret)
			snprintf(now->dump, sizeof(now->dump), "%s", dump);
	}
	if (ret) {
		pthread_rwlock_unlock(&e->use);
		st = api_http_error(q->conn, 400, "%s", err);
		goto out_unlock;
	}
	moved = iface_set && strcmp(now->iface, cur->iface);
	err[0] = '\0';
	if (!moved && fields)
		ret = api_capture_set(e->c, now, fields, err, sizeof(err));
	pthread_rwlock_unlock(&e->use);
	if (moved)
		ret = replace_capture(q, e, cur, now, err, sizeof(err));
	if (ret) {
		st = api_http_error(q->conn, ret == -EIO ? 500 : capture_status(ret), "%s",
				    err[0] ? err : strerror(-ret));
		goto out_unlock;
	}
	if (fields & API_F_NETWORK)
		api_reg_set_network(&q->r->reg, e, now->network);
	/* what the capture really holds now (it may normalise values) */
	pthread_rwlock_rdlock(&e->use);
	if (e->c)
		api_capture_get(e->c, now);
	pthread_rwlock_unlock(&e->use);
out_unlock:
	api_fifo_unlock(&e->chg);
	free(cur);
	return st;
}

int api_h_patch(struct api_req *q)
{
	struct api_capture_cfg *now = NULL;
	struct api_reg_entry *e;
	cJSON *body;
	int st;

	body = api_http_json_body(q);
	if (!body)
		return 400;
	e = lookup(q);
	if (!e) {
		cJSON_Delete(body);
		return 404;
	}
	now = malloc(sizeof(*now));
	st = now ? patch(q, e, body, now) : api_http_error(q->conn, 500, "out of memory");
	if (st == 200) {
		cJSON *o = api_json_cfg(now);

		st = api_http_json(q->conn, o ? 200 : 500, o);
	}
	free(now);
	cJSON_Delete(body);
	api_reg_put(&q->r->reg, e);
	return st;
}

int api_h_field_put(struct api_req *q)
{
	struct api_capture_cfg *now = NULL;
	struct api_reg_entry *e;
	cJSON *body, *obj;
	int st;

	body = api_http_json_body(q);
	if (!body)
		return 400;
	e = lookup(q);
	if (!e) {
		cJSON_Delete(body);
		return 404;
	}
	/* the body is the bare value: turn it into {field: value} */
	obj = cJSON_CreateObject();
	now = malloc(sizeof(*now));
	if (!obj || !now || !cJSON_AddItemToObject(obj, q->arg, body)) {
		cJSON_Delete(body);
		st = api_http_error(q->conn, 500, "out of memory");
		goto out;
	}
	st = patch(q, e, obj, now);
	if (st == 200)
		st = api_http_json(q->conn, 200, api_json_cfg_field(now, q->arg));
out:
	cJSON_Delete(obj);
	free(now);
	api_reg_put(&q->r->reg, e);
	return st;
}

int api_h_delete(struct api_req *q)
{
	struct api_reg_entry *e = lookup(q);
	bool gone;
	int ret = 0;

	if (!e)
		return 404;
	api_fifo_lock(&e->chg);
	api_reg_unlink(&q->r->reg, e);
	pthread_rwlock_wrlock(&e->use);
	api_reg_quiesce(&q->r->reg, e);
	gone = !e->c;
	if (e->c)
		ret = api_capture_destroy(e->c);
	e->c = NULL;
	pthread_rwlock_unlock(&e->use);
	api_fifo_unlock(&e->chg);
	api_reg_put(&q->r->reg, e);
	if (gone) /* a concurrent DELETE was first */
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	if (ret)
		fprintf(stderr, "capture-appliance: capture '%s' closed with error: %s\n",
			q->name, strerror(-ret));
	return api_http_no_content(q->conn);
}
