/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_captures: the JSON routes of /api/v1/captures. A body is checked
 * (keys, types, ranges) here; the core checks the rest (the filter with
 * libpcap, the dump folder, the interface) and applies a change all or
 * nothing, so a refused request leaves the capture as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "api/rest_int.h"

#define ERRLEN 1024

/* Errors from the core: the user's fault (400), unknown (404), a conflict
 * (409), busy (503), or ours (500). */
static int capture_status(int err)
{
	switch (-err) {
	case ENOENT:
		return 404;
	case EBUSY:
	case EEXIST:
	case EADDRINUSE:
		return 409;
	case EAGAIN:
		return 503;
	case EINVAL:
	case ENODEV:
	case ENXIO:
	case ENOTDIR:
	case EISDIR:
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOTSUP:
	case ENAMETOOLONG:
	case E2BIG:
	case ERANGE:
	case ELOOP:
		return 400;
	default:
		return 500;
	}
}

static int core_error(struct api_req *q, int ret, const char *err)
{
	if (ret == -ENOENT && !err[0])
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	return api_http_error(q->conn, capture_status(ret), "%s", err[0] ? err : strerror(-ret));
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

/* The full state of one capture: settings plus (with_stats) counters. */
static cJSON *capture_json(struct api_req *q, const struct cap_cfg *cfg,
			   const struct cap_stats *st)
{
	enum cap_ingress path;
	cJSON *o = api_json_cfg(cfg), *s;
	char why[256];

	if (o && !cap_ingress_of(q->r->core, cfg->name, &path, why, sizeof(why)) &&
	    (!cJSON_AddStringToObject(o, "ingress_path", cap_ingress_name(path)) ||
	     !cJSON_AddStringToObject(o, "ingress_reason", why))) {
		cJSON_Delete(o);
		return NULL;
	}
	if (o && st) {
		s = api_json_stats(st);
		if (!s || !cJSON_AddItemToObject(o, "stats", s)) {
			cJSON_Delete(s);
			cJSON_Delete(o);
			o = NULL;
		}
	}
	return o;
}

struct list_arg {
	struct api_req *q;
	cJSON *a;
};

static int list_one(const struct cap_cfg *cfg, void *arg)
{
	struct list_arg *l = arg;
	cJSON *o = capture_json(l->q, cfg, NULL);

	if (!o)
		return -ENOMEM;
	cJSON_AddItemToArray(l->a, o);
	return 0;
}

int api_h_list(struct api_req *q)
{
	struct list_arg l = { .q = q, .a = cJSON_CreateArray() };

	if (l.a && cap_each(q->r->core, list_one, &l)) {
		cJSON_Delete(l.a);
		l.a = NULL;
	}
	return api_http_json(q->conn, l.a ? 200 : 500, l.a);
}

int api_h_get(struct api_req *q)
{
	struct cap_cfg *cfg = malloc(sizeof(*cfg));
	struct cap_stats st;
	cJSON *o;
	int ret, status;

	if (!cfg)
		return api_http_error(q->conn, 500, "out of memory");
	ret = cap_get(q->r->core, q->name, cfg, &st);
	if (ret) {
		status = core_error(q, ret, "");
	} else {
		o = capture_json(q, cfg, &st);
		status = api_http_json(q->conn, o ? 200 : 500, o);
	}
	free(cfg);
	return status;
}

int api_h_stats(struct api_req *q)
{
	struct cap_stats st;
	int ret;

	struct api_archive_stats as;
	cJSON *o;

	ret = cap_get(q->r->core, q->name, NULL, &st);
	if (ret)
		return core_error(q, ret, "");
	o = api_json_stats(&st);
	if (o && q->r->archive_stats) {
		q->r->archive_stats(q->r->archive_arg, &as);
		cJSON_AddNumberToObject(o, "archive_uploaded_files", (double)as.uploaded_files);
		cJSON_AddNumberToObject(o, "archive_uploaded_bytes", (double)as.uploaded_bytes);
		cJSON_AddNumberToObject(o, "archive_failures", (double)as.failures);
		cJSON_AddNumberToObject(o, "archive_queue", (double)as.queue);
		cJSON_AddNumberToObject(o, "archive_gone", (double)as.gone);
	}
	return api_http_json(q->conn, 200, o);
}

int api_h_field_get(struct api_req *q)
{
	struct cap_cfg *cfg = malloc(sizeof(*cfg));
	int ret, status;

	if (!cfg)
		return api_http_error(q->conn, 500, "out of memory");
	ret = cap_get(q->r->core, q->name, cfg, NULL);
	status = ret ? core_error(q, ret, "")
		     : api_http_json(q->conn, 200, api_json_cfg_field(cfg, q->arg));
	free(cfg);
	return status;
}

int api_h_create(struct api_req *q)
{
	struct cap_cfg *cfg = NULL;
	char err[ERRLEN];
	unsigned int fields;
	bool iface_set;
	cJSON *body;
	int ret, st;

	body = api_http_json_body(q);
	if (!body)
		return 400;
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		st = api_http_error(q->conn, 500, "out of memory");
		goto out;
	}
	cap_cfg_init(cfg);
	err[0] = '\0';
	ret = api_json_apply(body, API_J_CREATE, cfg, &fields, &iface_set, err, sizeof(err));
	if (!ret && !cfg->name[0]) {
		snprintf(err, sizeof(err), "field 'name' is required");
		ret = -EINVAL;
	}
	if (!ret && !iface_set) {
		snprintf(err, sizeof(err), "field 'iface' is required");
		ret = -EINVAL;
	}
	if (ret) {
		st = api_http_error(q->conn, 400, "%s", err);
		goto out;
	}
	ret = cap_add(q->r->core, cfg, fields | CAP_F_IFACE, cfg, err, sizeof(err));
	if (ret) {
		/* a refused filter or dump path is the user's fault */
		st = core_error(q, ret == -ENOENT ? -EINVAL : ret, err);
		goto out;
	}
	{
		char loc[CAP_NAME_MAX + 32], clen[32];
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

/* Applies obj (already parsed) to the capture: all or nothing. On success
 * *now holds the new settings. Returns an HTTP status; sends nothing on 200. */
static int patch(struct api_req *q, const cJSON *obj, struct cap_cfg *now)
{
	struct cap_cfg *in = malloc(sizeof(*in));
	char err[ERRLEN];
	unsigned int fields;
	bool iface_set;
	int ret, st = 200;

	if (!in)
		return api_http_error(q->conn, 500, "out of memory");
	/* the current settings as the base: api_json_apply checks values
	 * against a complete config */
	ret = cap_get(q->r->core, q->name, in, NULL);
	if (ret) {
		st = core_error(q, ret, "");
		goto out;
	}
	err[0] = '\0';
	ret = api_json_apply(obj, API_J_IFACE, in, &fields, &iface_set, err, sizeof(err));
	if (ret) {
		st = api_http_error(q->conn, 400, "%s", err);
		goto out;
	}
	if (iface_set)
		fields |= CAP_F_IFACE;
	err[0] = '\0';
	ret = fields ? cap_set(q->r->core, q->name, in, fields, now, err, sizeof(err))
		     : cap_get(q->r->core, q->name, now, NULL);
	if (ret)
		st = core_error(q, ret, err);
out:
	free(in);
	return st;
}

int api_h_patch(struct api_req *q)
{
	struct cap_cfg *now = NULL;
	cJSON *body;
	int st;

	body = api_http_json_body(q);
	if (!body)
		return 400;
	now = malloc(sizeof(*now));
	st = now ? patch(q, body, now) : api_http_error(q->conn, 500, "out of memory");
	if (st == 200) {
		cJSON *o = api_json_cfg(now);

		st = api_http_json(q->conn, o ? 200 : 500, o);
	}
	free(now);
	cJSON_Delete(body);
	return st;
}

int api_h_field_put(struct api_req *q)
{
	struct cap_cfg *now = NULL;
	cJSON *body, *obj;
	int st;

	body = api_http_json_body(q);
	if (!body)
		return 400;
	/* the body is the bare value: turn it into {field: value} */
	obj = cJSON_CreateObject();
	now = malloc(sizeof(*now));
	if (!obj || !now || !cJSON_AddItemToObject(obj, q->arg, body)) {
		cJSON_Delete(body);
		st = api_http_error(q->conn, 500, "out of memory");
		goto out;
	}
	st = patch(q, obj, now);
	if (st == 200)
		st = api_http_json(q->conn, 200, api_json_cfg_field(now, q->arg));
out:
	cJSON_Delete(obj);
	free(now);
	return st;
}

int api_h_delete(struct api_req *q)
{
	char err[ERRLEN] = "";
	int ret;

	ret = cap_del(q->r->core, q->name, err, sizeof(err));
	if (ret)
		return core_error(q, ret, err);
	return api_http_no_content(q->conn);
}
