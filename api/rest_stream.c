/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_stream: network mode (a chunked pcap stream per pull client, read
 * from the core) and the download of the local capture file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "api/rest_int.h"

#define STREAM_BUF (16u + CAP_SNAPLEN_MAX + 64u * 1024) /* > one record */
#define POLL_MS 200 /* how soon a stream notices DELETE, mode off, stop */
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16

#define PCAPNG_BLOCK_HDR 8
#define PCAPNG_EPB 6

/* Walks the pcap or pcapng byte stream to stop right after the Nth record
 * (pcapng: the Nth Enhanced Packet Block; every block is whole). */
struct rec_counter {
	bool ng;
	size_t file_hdr_left; /* pcap: bytes of the file header still to come */
	unsigned char hdr[PCAP_REC_HDR];
	size_t hdr_len;	      /* record (pcapng: block) header bytes seen */
	size_t data_left;     /* record payload bytes still to come */
	bool counts;	      /* this one is a record */
	unsigned long long left; /* records to send */
};

/* How many bytes of buf to send; *done when the last record is complete. */
static size_t rec_count(struct rec_counter *rc, const unsigned char *buf, size_t n,
			bool *done)
{
	size_t i = 0, take, hlen = rc->ng ? PCAPNG_BLOCK_HDR : PCAP_REC_HDR;
	uint32_t incl, type;

	while (i < n) {
		if (rc->file_hdr_left) {
			take = n - i < rc->file_hdr_left ? n - i : rc->file_hdr_left;
			rc->file_hdr_left -= take;
			i += take;
			continue;
		}
		if (rc->hdr_len < hlen) {
			take = hlen - rc->hdr_len;
			if (take > n - i)
				take = n - i;
			memcpy(rc->hdr + rc->hdr_len, buf + i, take);
			rc->hdr_len += take;
			i += take;
			if (rc->hdr_len < hlen)
				continue;
			/* host order: the writer writes native pcap and pcapng */
			if (rc->ng) {
				memcpy(&type, rc->hdr, sizeof(type));
				memcpy(&incl, rc->hdr + 4, sizeof(incl));
				rc->data_left = incl > hlen ? incl - hlen : 0;
				rc->counts = type == PCAPNG_EPB;
			} else {
				memcpy(&incl, rc->hdr + 8, sizeof(incl));
				rc->data_left = incl;
				rc->counts = true;
			}
		} else {
			take = n - i < rc->data_left ? n - i : rc->data_left;
			rc->data_left -= take;
			i += take;
		}
		if (rc->hdr_len == hlen && !rc->data_left) {
			rc->hdr_len = 0;
			if (rc->counts && --rc->left == 0) {
				*done = true;
				return i;
			}
		}
	}
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parses ?count=N&seconds=S; 400 sent on nonsense. */
static int stream_limits(struct api_req *q, unsigned long long *count,
			 unsigned long long *seconds)
{
	int rc, rs;

	*count = *seconds = 0;
	rc = api_http_query_u64(q->query, "count", count);
	rs = api_http_query_u64(q->query, "seconds", seconds);
	if (rc < 0 || (rc > 0 && *count == 0))
		return api_http_error(q->conn, 400, "count must be a positive integer");
	if (rs < 0 || (rs > 0 && (*seconds == 0 || *seconds > 10u * 365 * 86400)))
		return api_http_error(q->conn, 400, "seconds must be a positive integer");
	return 0;
}

static void stream(struct api_req *q, struct cap_pull *p, bool ng, unsigned long long count,
		   unsigned long long seconds)
{
	struct rec_counter rc = { .ng = ng, .file_hdr_left = ng ? 0 : PCAP_FILE_HDR,
				  .left = count };
	double end = seconds ? now_s() + (double)seconds : 0;
	unsigned char *buf = malloc(STREAM_BUF);
	bool done = false, gone = false;
	ssize_t n;
	size_t len;
	int wait;

	mg_response_header_start(q->conn, 200);
	mg_response_header_add(q->conn, "Content-Type",
			       ng ? "application/x-pcapng" : "application/vnd.tcpdump.pcap", -1);
	mg_response_header_add(q->conn, "Transfer-Encoding", "chunked", -1);
	mg_response_header_add(q->conn, "Cache-Control", "no-store", -1);
	mg_response_header_add(q->conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_send(q->conn);
	while (buf && !done) {
		if (atomic_load(&q->r->stopping))
			break;
		wait = POLL_MS;
		if (end) {
			double left = end - now_s();

			if (left <= 0)
				break;
			if (left * 1000 < wait)
				wait = (int)(left * 1000) + 1;
		}
		n = cap_pull_read(p, buf, STREAM_BUF, count ? rc.left : 0, wait);
		if (n < 0)
			break;
		if (n == 0)
			continue;
		len = count ? rec_count(&rc, buf, (size_t)n, &done) : (size_t)n;
		if (mg_send_chunk(q->conn, (const char *)buf, (unsigned int)len) <= 0) {
			gone = true; /* the client went away */
			break;
		}
	}
	if (!gone)
		mg_send_chunk(q->conn, "", 0); /* the last, empty chunk */
	free(buf);
}

/* ?format=pcap|pcapng, else the Accept header (application/x-pcapng), else
 * pcap; 400 sent on nonsense. */
static int stream_format(struct api_req *q, enum cap_format *fmt)
{
	const char *accept = mg_get_header(q->conn, "Accept");
	char v[16];
	int n;

	*fmt = CAP_FMT_PCAP;
	n = q->query ? mg_get_var(q->query, strlen(q->query), "format", v, sizeof(v)) : -1;
	if (n >= 0) {
		if (cap_format_parse(v, fmt))
			return api_http_error(q->conn, 400, "format must be pcap or pcapng");
		return 0;
	}
	if (accept && strstr(accept, "application/x-pcapng") &&
	    !strstr(accept, "application/vnd.tcpdump.pcap"))
		*fmt = CAP_FMT_PCAPNG;
	return 0;
}

int api_h_packets(struct api_req *q)
{
	unsigned long long count, seconds;
	struct cap_pull *p = NULL;
	enum cap_format fmt;
	int st, ret;

	if ((st = stream_limits(q, &count, &seconds)))
		return st;
	ret = stream_format(q, &fmt);
	if (ret)
		return ret;
	ret = cap_pull_begin(q->r->core, q->name, fmt, &p);
	if (ret == -ENOENT)
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	if (ret == -EAGAIN)
		return api_http_error(q->conn, 409,
				      "networkmode is false: set it to true to pull packets");
	if (ret == -EBUSY)
		return api_http_error(q->conn, 503, "too many pull clients at once; try later");
	if (ret)
		return api_http_error(q->conn, 500, "can't subscribe: %s", strerror(-ret));
	stream(q, p, fmt == CAP_FMT_PCAPNG, count, seconds);
	cap_pull_end(p);
	return 200;
}

/* Wants the field (JSON) rather than the file? */
static bool wants_json(struct mg_connection *conn)
{
	const char *a = mg_get_header(conn, "Accept");

	return a && strstr(a, "application/json") && !strstr(a, "pcap");
}

/* Sends an open regular file: what was opened is what is sent, whatever
 * happens to the path meanwhile. */
static void send_fd(struct mg_connection *conn, int fd, const char *fname)
{
	char cd[320], clen[32];
	bool ng = strlen(fname) > 7 && !strcmp(fname + strlen(fname) - 7, ".pcapng");
	const size_t bufsz = 64 * 1024;
	char *buf = malloc(bufsz); /* not on civetweb's small worker stack */
	struct stat sb;
	off_t left;
	ssize_t n;

	if (!buf || fstat(fd, &sb)) {
		free(buf);
		api_http_error(conn, 500, "can't read the file: %s", strerror(errno));
		return;
	}
	left = sb.st_size; /* the file grows: send what there was */
	snprintf(cd, sizeof(cd), "attachment; filename=\"%s\"", fname);
	snprintf(clen, sizeof(clen), "%lld", (long long)left);
	mg_response_header_start(conn, 200);
	mg_response_header_add(conn, "Content-Type",
			       ng ? "application/x-pcapng" : "application/vnd.tcpdump.pcap", -1);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_add(conn, "Content-Disposition", cd, -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	mg_response_header_send(conn);
	while (left > 0) {
		n = read(fd, buf, (size_t)left < bufsz ? (size_t)left : bufsz);
		if (n <= 0 || mg_write(conn, buf, (size_t)n) <= 0)
			break;
		left -= n;
	}
	free(buf);
}

int api_h_dump(struct api_req *q)
{
	char path[PATH_MAX + 8];
	int fd = -1, ret;

	if (wants_json(q->conn))
		return api_h_field_get(q);
	ret = cap_dump_open(q->r->core, q->name, &fd, path, sizeof(path));
	if (ret == -EISCONN)
		return api_http_error(q->conn, 409,
				      "networkmode is true: packets go to pull clients, not to a file");
	if (ret == -ENOENT && cap_get(q->r->core, q->name, NULL, NULL))
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	if (ret)
		return api_http_error(q->conn, 404, "no capture file %s yet", path);
	send_fd(q->conn, fd, strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	close(fd);
	return 200;
}

int api_h_files(struct api_req *q)
{
	struct cap_file *v = NULL;
	cJSON *a, *o;
	size_t n = 0, i;
	int ret;

	ret = cap_files(q->r->core, q->name, &v, &n);
	if (ret == -ENOENT)
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	if (ret)
		return api_http_error(q->conn, 500, "can't list the files: %s", strerror(-ret));
	a = cJSON_CreateArray();
	for (i = 0; a && i < n; i++) {
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddStringToObject(o, "name", v[i].name) ||
		    !cJSON_AddNumberToObject(o, "first_ns", (double)v[i].first_ns) ||
		    !cJSON_AddNumberToObject(o, "last_ns", (double)v[i].last_ns) ||
		    !cJSON_AddNumberToObject(o, "records", (double)v[i].records) ||
		    !cJSON_AddNumberToObject(o, "bytes", (double)v[i].bytes) ||
		    !cJSON_AddBoolToObject(o, "sealed", v[i].sealed)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			a = NULL;
			break;
		}
		cJSON_AddItemToArray(a, o);
	}
	free(v);
	return api_http_json(q->conn, a ? 200 : 500, a);
}

int api_h_file(struct api_req *q)
{
	int fd = -1, ret;

	ret = cap_file_open(q->r->core, q->name, q->file, &fd);
	if (ret == -EBUSY)
		return api_http_error(q->conn, 409, "%s is still being written: only sealed files "
				      "are served here (the current one: GET .../dump)", q->file);
	if (ret)
		return api_http_error(q->conn, 404, "no sealed file %s of capture '%s'", q->file,
				      q->name);
	send_fd(q->conn, fd, q->file);
	close(fd);
	return 200;
}
