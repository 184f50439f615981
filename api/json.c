/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json: capture configuration and counters <-> JSON, with the checks every
 * request body goes through (known keys, types, ranges, no control
 * characters in names and paths; the JSON text itself was checked by
 * json_scan.c before it was parsed). Nothing here touches a capture:
 * callers apply a fully checked cfg or nothing.
 */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "api/rest_int.h"

static int want_string(const cJSON *v, size_t max, char *err, size_t errlen)
{
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "field '%s' must be a string", v->string);
		return -EINVAL;
	}
	if (strlen(v->valuestring) >= max) {
		snprintf(err, errlen, "field '%s' is too long (max %zu bytes)",
			 v->string, max - 1);
		return -EINVAL;
	}
	return 0;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F):
 * a name, path or filter holding them would reach the log and terminals
 * as escape sequences or forged lines. The body is valid UTF-8 already. */
static bool has_control(const char *s, bool tab_ok)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if ((*p < 0x20 && !(tab_ok && *p == '\t')) || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return true;
	}
	return false;
}

static int want_printable(const cJSON *v, bool tab_ok, char *err, size_t errlen)
{
	if (has_control(v->valuestring, tab_ok)) {
		snprintf(err, errlen, "field '%s' must not contain control characters",
			 v->string);
		return -EINVAL;
	}
	return 0;
}

static int want_bool(const cJSON *v, char *err, size_t errlen)
{
	if (!cJSON_IsBool(v)) {
		snprintf(err, errlen, "field '%s' must be true or false", v->string);
		return -EINVAL;
	}
	return 0;
}

/* A whole number in 0..max (JSON numbers are doubles: exact up to 2^53). */
static int want_count(const cJSON *v, double max, uint64_t *out, char *err, size_t errlen)
{
	double d = v->valuedouble;

	if (!cJSON_IsNumber(v) || d != floor(d) || d < 0 || d > max) {
		snprintf(err, errlen, "field '%s' must be a whole number in 0..%.0f", v->string,
			 max);
		return -EINVAL;
	}
	*out = (uint64_t)d;
	return 0;
}

/* Rotation, retention and format: chosen when a capture is added. */
static int apply_files(const cJSON *v, struct cap_cfg *cfg, unsigned int *fields, char *err,
		       size_t errlen)
{
	const char *k = v->string;
	uint64_t n;
	int ret;

	if (!strcmp(k, "format")) {
		if ((ret = want_string(v, 16, err, errlen)))
			return ret;
		if (cap_format_parse(v->valuestring, &cfg->format)) {
			snprintf(err, errlen, "format must be pcap or pcapng");
			return -EINVAL;
		}
		*fields |= CAP_F_FORMAT;
		return 0;
	}
	if ((ret = want_count(v, 9007199254740992.0, &n, err, errlen)))
		return ret;
	if (strcmp(k, "rotate_size") && strcmp(k, "retain_bytes") && n > UINT32_MAX) {
		snprintf(err, errlen, "field '%s' is too large", k);
		return -EINVAL;
	}
	if (!strcmp(k, "rotate_size"))
		cfg->rotate_bytes = n;
	else if (!strcmp(k, "rotate_time"))
		cfg->rotate_seconds = (uint32_t)n;
	else if (!strcmp(k, "retain_bytes"))
		cfg->retain_bytes = n;
	else if (!strcmp(k, "retain_files"))
		cfg->retain_files = (uint32_t)n;
	else
		cfg->min_free_pct = (uint32_t)n;
	*fields |= CAP_F_ROTATE;
	return 0;
}

static bool files_key(const char *k)
{
	return !strcmp(k, "format") || !strcmp(k, "rotate_size") || !strcmp(k, "rotate_time") ||
	       !strcmp(k, "retain_bytes") || !strcmp(k, "retain_files") || !strcmp(k, "min_free");
}

static int apply_one(const cJSON *v, unsigned int allow, struct cap_cfg *cfg,
		     unsigned int *fields, bool *iface_set, char *err, size_t errlen)
{
	const char *k = v->string;
	int ret;

	if (!strcmp(k, "name") && (allow & API_J_CREATE)) {
		if ((ret = want_string(v, CAP_NAME_MAX, err, errlen)))
			return ret;
		if (!cap_name_ok(v->valuestring)) {
			snprintf(err, errlen,
				 "invalid name '%s' (letters, digits, '-', '_', '.'; not starting with '.')",
				 v->valuestring);
			return -EINVAL;
		}
		snprintf(cfg->name, sizeof(cfg->name), "%s", v->valuestring);
		return 0;
	}
	if (!strcmp(k, "iface") && (allow & (API_J_CREATE | API_J_IFACE))) {
		if ((ret = want_string(v, IF_NAMESIZE, err, errlen)) ||
		    (ret = want_printable(v, false, err, errlen)))
			return ret;
		if (!v->valuestring[0] || !if_nametoindex(v->valuestring)) {
			snprintf(err, errlen, "unknown interface '%s'", v->valuestring);
			return -EINVAL;
		}
		snprintf(cfg->iface, sizeof(cfg->iface), "%s", v->valuestring);
		*iface_set = true;
		return 0;
	}
	if (files_key(k) && (allow & API_J_CREATE))
		return apply_files(v, cfg, fields, err, errlen);
	if (!strcmp(k, "transparent") && (allow & API_J_CREATE)) {
		if ((ret = want_bool(v, err, errlen)))
			return ret;
		cfg->transparent = cJSON_IsTrue(v);
		return 0;
	}
	if (!strcmp(k, "capture")) {
		enum cap_mode m;

		if ((ret = want_string(v, 32, err, errlen)))
			return ret;
		if (cap_mode_parse(v->valuestring, &m)) {
			snprintf(err, errlen,
				 "unknown capture mode '%s' (ingress, egress, bidirectional, off)",
				 v->valuestring);
			return -EINVAL;
		}
		cfg->mode = m;
		*fields |= CAP_F_MODE;
		return 0;
	}
	if (!strcmp(k, "filter")) {
		if ((ret = want_string(v, CAP_FILTER_MAX, err, errlen)))
			return ret;
		/* libpcap compiles "" (or blanks) to "match everything" */
		if (!v->valuestring[strspn(v->valuestring, " \t")]) {
			snprintf(err, errlen, "filter must not be empty; use 'all' or 'none'");
			return -EINVAL;
		}
		/* a tab is blank to libpcap; newlines would forge log lines */
		if ((ret = want_printable(v, true, err, errlen)))
			return ret;
		snprintf(cfg->filter, sizeof(cfg->filter), "%s", v->valuestring);
		*fields |= CAP_F_FILTER;
		return 0;
	}
	if (!strcmp(k, "snaplen")) {
		double d = v->valuedouble;

		if (!cJSON_IsNumber(v) || d != floor(d)) {
			snprintf(err, errlen, "field 'snaplen' must be an integer");
			return -EINVAL;
		}
		if (d < 1 || d > CAP_SNAPLEN_MAX) {
			snprintf(err, errlen, "snaplen must be within 1..%u", CAP_SNAPLEN_MAX);
			return -EINVAL;
		}
		cfg->snaplen = (uint32_t)d;
		*fields |= CAP_F_SNAPLEN;
		return 0;
	}
	if (!strcmp(k, "dump")) {
		/* room for ".pcap" after the prefix */
		if ((ret = want_string(v, PATH_MAX - 8, err, errlen)))
			return ret;
		if (!v->valuestring[0]) {
			snprintf(err, errlen, "field 'dump' must not be empty");
			return -EINVAL;
		}
		if ((ret = want_printable(v, false, err, errlen)))
			return ret;
		snprintf(cfg->dump, sizeof(cfg->dump), "%s", v->valuestring);
		*fields |= CAP_F_DUMP;
		return 0;
	}
	if (!strcmp(k, "networkmode")) {
		if ((ret = want_bool(v, err, errlen)))
			return ret;
		cfg->network = cJSON_IsTrue(v);
		*fields |= CAP_F_NETWORK;
		return 0;
	}
	/* say what to do instead: a bare "can't" left users guessing */
	if (files_key(k))
		snprintf(err, errlen, "field '%s' is fixed when the capture is added: delete "
				      "it and add it again to change it", k);
	else if (!strcmp(k, "transparent"))
		snprintf(err, errlen, "field 'transparent' is fixed when the capture is "
				      "added: delete it and add it again to change it");
	else if (!strcmp(k, "name"))
		snprintf(err, errlen, "field 'name' can't be changed: it is the capture's "
				      "address (delete it and add it again)");
	else if (!strcmp(k, "iface"))
		snprintf(err, errlen, "field 'iface' can't be changed here");
	else
		snprintf(err, errlen, "unknown field '%s'", k);
	return -EINVAL;
}

int api_json_apply(const cJSON *obj, unsigned int allow,
		   struct cap_cfg *cfg, unsigned int *fields,
		   bool *iface_set, char *err, size_t errlen)
{
	const cJSON *v, *w;
	int ret;

	*fields = 0;
	*iface_set = false;
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "the body must be a JSON object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(v, obj) {
		/* cJSON keeps duplicate keys; which one wins would be a guess */
		for (w = obj->child; w != v; w = w->next)
			if (!strcmp(w->string, v->string)) {
				snprintf(err, errlen, "duplicate field '%s'", v->string);
				return -EINVAL;
			}
		ret = apply_one(v, allow, cfg, fields, iface_set, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

cJSON *api_json_cfg_field(const struct cap_cfg *cfg, const char *field)
{
	char file[PATH_MAX + 8];

	if (!strcmp(field, "name"))
		return cJSON_CreateString(cfg->name);
	if (!strcmp(field, "iface"))
		return cJSON_CreateString(cfg->iface);
	if (!strcmp(field, "capture"))
		return cJSON_CreateString(cap_mode_name(cfg->mode));
	if (!strcmp(field, "filter"))
		return cJSON_CreateString(cfg->filter);
	if (!strcmp(field, "snaplen"))
		return cJSON_CreateNumber(cfg->snaplen);
	if (!strcmp(field, "dump"))
		return cJSON_CreateString(cfg->dump);
	if (!strcmp(field, "file")) {
		/* with rotation the files are many: GET .../files */
		if (cfg->rotate_bytes || cfg->rotate_seconds)
			return cJSON_CreateNull();
		cap_dump_file(cfg->dump, cfg->format, file, sizeof(file));
		return cJSON_CreateString(file);
	}
	if (!strcmp(field, "networkmode"))
		return cJSON_CreateBool(cfg->network);
	if (!strcmp(field, "format"))
		return cJSON_CreateString(cap_format_name(cfg->format));
	if (!strcmp(field, "rotate_size"))
		return cJSON_CreateNumber((double)cfg->rotate_bytes);
	if (!strcmp(field, "rotate_time"))
		return cJSON_CreateNumber(cfg->rotate_seconds);
	if (!strcmp(field, "retain_bytes"))
		return cJSON_CreateNumber((double)cfg->retain_bytes);
	if (!strcmp(field, "retain_files"))
		return cJSON_CreateNumber(cfg->retain_files);
	if (!strcmp(field, "min_free"))
		return cJSON_CreateNumber(cfg->min_free_pct);
	if (!strcmp(field, "transparent"))
		return cJSON_CreateBool(cfg->transparent);
	return NULL;
}

cJSON *api_json_cfg(const struct cap_cfg *cfg)
{
	static const char *const keys[] = {
		"name", "iface", "capture", "filter", "snaplen",
		"dump", "file", "networkmode", "transparent", "format",
		"rotate_size", "rotate_time", "retain_bytes", "retain_files", "min_free",
	};
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cJSON *v = api_json_cfg_field(cfg, keys[i]);

		if (!v || !cJSON_AddItemToObject(o, keys[i], v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

cJSON *api_json_stats(const struct cap_stats *st)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o;

	/* counters are uint64; doubles are exact up to 2^53, plenty here */
#define U(f) ok = ok && cJSON_AddNumberToObject(o, #f, (double)st->f)
	U(seen);
	U(matched);
	U(seen_in);
	U(seen_out);
	U(matched_in);
	U(matched_out);
	U(redirected);
	U(redirect_failed);
	U(rb_full);
	U(xsk_rx_dropped);
	U(xsk_rx_ring_full);
	U(xsk_fill_ring_empty);
	U(xsk_rx_invalid);
	U(received);
	U(written);
	U(writer_behind);
	U(write_errors);
	U(net_dropped);
	U(late);
	U(bytes_written);
	U(bad_meta);
	U(dropped);
	U(queues);
#undef U
	ok = ok && cJSON_AddBoolToObject(o, "xdp_native", st->xdp_native);
	ok = ok && cJSON_AddBoolToObject(o, "zerocopy", st->zerocopy);
	/* why records were lost to write_errors, e.g. "No space left on device" */
	ok = ok && (st->write_error ?
		    cJSON_AddStringToObject(o, "write_error", strerror(-st->write_error)) :
		    cJSON_AddNullToObject(o, "write_error"));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
