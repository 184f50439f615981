/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rest_stream: network mode (a chunked pcap stream per pull client, fed by
 * a writer subscription) and the download of the local capture file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <civetweb.h>

#include "api/rest_int.h"
#include "filtergen/filtergen.h"
#include "writer/writer.h"

#define STREAM_BUF (16u + FG_SNAPLEN_MAX + 64u * 1024) /* > one record */
#define POLL_MS 200 /* how soon a stream notices DELETE, mode off, stop */
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16

/* Walks the pcap byte stream to stop right after the Nth record. */
struct rec_counter {
	size_t file_hdr_left; /* bytes of the file header still to come */
	unsigned char hdr[PCAP_REC_HDR];
	size_t hdr_len;	      /* record header bytes seen */
	size_t data_left;     /* record payload bytes still to come */
	unsigned long long left; /* records to send */
};

/* How many bytes of buf to send; *done when the last record is complete. */
static size_t rec_count(struct rec_counter *rc, const unsigned char *buf, size_t n,
			bool *done)
{
	size_t i = 0, take;
	uint32_t incl;

	while (i < n) {
		if (rc->file_hdr_left) {
			take = n - i < rc->file_hdr_left ? n - i : rc->file_hdr_left;
			rc->file_hdr_left -= take;
			i += take;
			continue;
		}
		if (rc->hdr_len < PCAP_REC_HDR) {
			take = PCAP_REC_HDR - rc->hdr_len;
			if (take > n - i)
				take = n - i;
			memcpy(rc->hdr + rc->hdr_len, buf + i, take);
			rc->hdr_len += take;
			i += take;
			if (rc->hdr_len < PCAP_REC_HDR)
				continue;
			/* incl_len, host order: the writer writes native pcap */
			memcpy(&incl, rc->hdr + 8, sizeof(incl));
			rc->data_left = incl;
		} else {
			take = n - i < rc->data_left ? n - i : rc->data_left;
			rc->data_left -= take;
			i += take;
		}
		if (rc->hdr_len == PCAP_REC_HDR && !rc->data_left) {
			rc->hdr_len = 0;
			if (--rc->left == 0) {
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

static void stream(struct api_req *q, struct api_reg_entry *e, struct wr_sub *sub,
		   unsigned int gen, unsigned long long count,
		   unsigned long long seconds)
{
	struct rec_counter rc = { .file_hdr_left = PCAP_FILE_HDR, .left = count };
	double end = seconds ? now_s() + (double)seconds : 0;
	unsigned char *buf = malloc(STREAM_BUF);
	bool done = false, gone = false;
	ssize_t n;
	size_t len;
	int wait;

	mg_response_header_start(q->conn, 200);
	mg_response_header_add(q->conn, "Content-Type", "application/vnd.tcpdump.pcap", -1);
	mg_response_header_add(q->conn, "Transfer-Encoding", "chunked", -1);
	mg_response_header_add(q->conn, "Cache-Control", "no-store", -1);
	mg_response_header_add(q->conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_send(q->conn);
	while (buf && !done) {
		if (atomic_load(&q->r->stopping) || !api_reg_stream_ok(&q->r->reg, e, gen))
			break;
		wait = POLL_MS;
		if (end) {
			double left = end - now_s();

			if (left <= 0)
				break;
			if (left * 1000 < wait)
				wait = (int)(left * 1000) + 1;
		}
		if (count) /* take no record from the backlog we won't send */
			wr_sub_limit(sub, rc.left);
		n = wr_sub_read(sub, buf, STREAM_BUF, wait);
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

int api_h_packets(struct api_req *q)
{
	unsigned long long count, seconds;
	struct api_reg_entry *e;
	struct wr_writer *w;
	struct wr_sub *sub = NULL;
	unsigned int gen;
	int st, ret;

	if ((st = stream_limits(q, &count, &seconds)))
		return st;
	e = api_reg_get(&q->r->reg, q->name);
	if (!e)
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	pthread_rwlock_rdlock(&e->use);
	if (!e->c) {
		pthread_rwlock_unlock(&e->use);
		st = api_http_error(q->conn, 404, "no capture named '%s'", q->name);
		goto out;
	}
	ret = api_reg_stream_begin(&q->r->reg, e, &gen);
	if (ret) {
		pthread_rwlock_unlock(&e->use);
		if (ret == -EAGAIN)
			st = api_http_error(q->conn, 409,
					    "networkmode is false: set it to true to pull packets");
		else
			st = api_http_error(q->conn, 404, "no capture named '%s'", q->name);
		goto out;
	}
	w = api_capture_writer(e->c);
	ret = w ? wr_subscribe(w, &sub) : -ENODEV;
	pthread_rwlock_unlock(&e->use);
	if (ret) {
		api_reg_stream_end(&q->r->reg, e);
		st = api_http_error(q->conn, 500, "can't subscribe: %s", strerror(-ret));
		goto out;
	}
	stream(q, e, sub, gen, count, seconds);
	wr_unsubscribe(sub);
	api_reg_stream_end(&q->r->reg, e);
	st = 200;
out:
	api_reg_put(&q->r->reg, e);
	return st;
}

/* Wants the field (JSON) rather than the file? */
static bool wants_json(struct mg_connection *conn)
{
	const char *a = mg_get_header(conn, "Accept");

	return a && strstr(a, "application/json") && !strstr(a, "pcap");
}

int api_h_dump(struct api_req *q)
{
	struct api_capture_cfg *cfg;
	char path[PATH_MAX + 8], extra[API_NAME_MAX + 80];
	struct api_reg_entry *e;
	struct stat sb;
	int st = 0;

	if (wants_json(q->conn))
		return api_h_field_get(q);
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return api_http_error(q->conn, 500, "out of memory");
	e = api_reg_get(&q->r->reg, q->name);
	if (!e) {
		free(cfg);
		return api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	}
	pthread_rwlock_rdlock(&e->use);
	if (!e->c || api_capture_get(e->c, cfg))
		st = api_http_error(q->conn, 404, "no capture named '%s'", q->name);
	pthread_rwlock_unlock(&e->use);
	if (st)
		goto out;
	if (cfg->network) {
		st = api_http_error(q->conn, 409,
				    "networkmode is true: packets go to pull clients, not to a file");
		goto out;
	}
	snprintf(path, sizeof(path), "%s.pcap", cfg->dump);
	if (stat(path, &sb) || !S_ISREG(sb.st_mode)) {
		st = api_http_error(q->conn, 404, "no capture file %s yet", path);
		goto out;
	}
	snprintf(extra, sizeof(extra),
		 "Content-Disposition: attachment; filename=\"%s.pcap\"\r\n"
		 "Cache-Control: no-store\r\n", q->name);
	mg_send_mime_file2(q->conn, path, "application/vnd.tcpdump.pcap", extra);
	st = 200;
out:
	api_reg_put(&q->r->reg, e);
	free(cfg);
	return st;
}
