/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_http: just enough HTTP/1.1 for the CLI (one request per
 * connection, Content-Length / chunked / until-close bodies), so the
 * client needs no library beyond libc.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/client.h"

#define COLLECT_MAX (64u << 20)

struct rd {
	int fd;
	int timeout_ms;
	size_t pos, len;
	char buf[64 * 1024];
};

int api_cli_parse_url(const char *url, struct api_cli_server *s, char *err,
		      size_t errlen)
{
	const char *p = url, *hend, *pstart;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (!strncasecmp(p, "https://", 8)) {
		snprintf(err, errlen,
			 "%s: the CLI speaks plain HTTP; for a TLS server use curl "
			 "(see api/README.md)", url);
		return -ENOTSUP;
	}
	if (!strncasecmp(p, "http://", 7))
		p += 7;
	else if (strstr(p, "://")) {
		snprintf(err, errlen, "%s: only http:// URLs are supported", url);
		return -EINVAL;
	}
	if (*p == '[') { /* [v6]:port */
		hend = strchr(p, ']');
		if (!hend)
			goto bad;
		n = (size_t)(hend - p - 1);
		if (n == 0 || n >= sizeof(s->host))
			goto bad;
		memcpy(s->host, p + 1, n);
		p = hend + 1;
	} else {
		n = strcspn(p, ":/");
		if (n == 0 || n >= sizeof(s->host))
			goto bad;
		memcpy(s->host, p, n);
		p += n;
	}
	snprintf(s->port, sizeof(s->port), "80");
	if (*p == ':') {
		pstart = ++p;
		n = strspn(p, "0123456789");
		if (n == 0 || n > 5 || atoi(pstart) > 65535 || atoi(pstart) == 0)
			goto bad;
		memcpy(s->port, pstart, n);
		s->port[n] = '\0';
		p += n;
	}
	if (*p && *p != '/')
		goto bad;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n >= sizeof(s->prefix))
		goto bad;
	memcpy(s->prefix, p, n);
	s->prefix[n] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "bad server URL '%s' (http://HOST[:PORT])", url);
	return -EINVAL;
}

static int dial(const struct api_cli_server *s, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, ret;

	ret = getaddrinfo(s->host, s->port, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "%s: %s", s->host, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "can't connect to %s:%s: %s", s->host, s->port,
			 strerror(ret ? -ret : ECONNREFUSED));
		return ret ? ret : -ECONNREFUSED;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Refills the buffer: >0 bytes, 0 at EOF, -errno. */
static int fill(struct rd *r)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t n;
	int pr;

	if (r->pos < r->len)
		return (int)(r->len - r->pos);
	r->pos = r->len = 0;
	for (;;) {
		pr = poll(&pfd, 1, r->timeout_ms ? r->timeout_ms : -1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		n = recv(r->fd, r->buf, sizeof(r->buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r->len = (size_t)n;
		return (int)n;
	}
}

static int read_line(struct rd *r, char *line, size_t max)
{
	size_t n = 0;
	int ret;

	for (;;) {
		ret = fill(r);
		if (ret <= 0)
			return ret ? ret : -EPROTO;
		while (r->pos < r->len) {
			char ch = r->buf[r->pos++];

			if (ch == '\n') {
				if (n && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return 0;
			}
			if (n + 1 >= max)
				return -EPROTO;
			line[n++] = ch;
		}
	}
}

struct body_out {
	api_cli_sink_fn sink;
	void *arg;
	struct api_cli_resp *resp;
};

static int deliver(struct body_out *o, const char *p, size_t n)
{
	struct api_cli_resp *r = o->resp;
	char *nb;

	if (o->sink)
		return o->sink(p, n, o->arg) ? -ECANCELED : 0;
	if (r->len + n > COLLECT_MAX)
		return -EFBIG;
	nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return -ENOMEM;
	r->body = nb;
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

/* Passes on n bytes (or everything up to EOF when n is SIZE_MAX). */
static int copy_body(struct rd *r, struct body_out *o, size_t n)
{
	size_t take;
	int ret;

	while (n) {
		ret = fill(r);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return n == SIZE_MAX ? 0 : -EPROTO;
		take = r->len - r->pos;
		if (take > n)
			take = n;
		ret = deliver(o, r->buf + r->pos, take);
		if (ret)
			return ret;
		r->pos += take;
		if (n != SIZE_MAX)
			n -= take;
	}
	return 0;
}

static int copy_chunked(struct rd *r, struct body_out *o)
{
	char line[256], *end;
	unsigned long long n;
	int ret;

	for (;;) {
		ret = read_line(r, line, sizeof(line));
		if (ret)
			return ret;
		errno = 0;
		n = strtoull(line, &end, 16);
		if (end == line || errno || (*end && *end != ';' && *end != ' '))
			return -EPROTO;
		if (n == 0)
			break;
		ret = copy_body(r, o, (size_t)n);
		if (ret)
			return ret;
		ret = read_line(r, line, sizeof(line));
		if (ret || line[0])
			return ret ? ret : -EPROTO;
	}
	/* trailers up to the empty line */
	do {
		ret = read_line(r, line, sizeof(line));
	} while (!ret && line[0]);
	return ret;
}

int api_cli_request(const struct api_cli_server *s, const char *method,
		    const char *path, const char *body, api_cli_sink_fn sink,
		    void *arg, struct api_cli_resp *resp, char *err, size_t errlen)
{
	struct body_out o = { .resp = resp };
	bool chunked = false, has_len = false;
	unsigned long long clen = 0;
	char *req = NULL, line[8192];
	struct rd *r = NULL;
	int fd, ret, len;

	memset(resp, 0, sizeof(*resp));
	fd = dial(s, err, errlen);
	if (fd < 0)
		return fd;
	char auth[1100] = "", ctype[96] = "";

	if (s->token)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %.1024s\r\n", s->token);
	if (body)
		snprintf(ctype, sizeof(ctype),
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			 strlen(body));
	len = asprintf(&req,
		       "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: capture-appliance\r\n"
		       "Connection: close\r\nAccept: %s\r\n%s%s\r\n%s",
		       method, s->prefix, path, strchr(s->host, ':') ? "[" : "", s->host,
		       strchr(s->host, ':') ? "]" : "", s->port,
		       sink ? "*/*" : "application/json", auth, ctype,
		       body ? body : "");
	if (len < 0) {
		req = NULL;
		ret = -ENOMEM;
		goto out;
	}
	ret = send_all(fd, req, strlen(req));
	if (ret) {
		snprintf(err, errlen, "sending the request: %s", strerror(-ret));
		goto out;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	r->fd = fd;
	r->timeout_ms = s->timeout_ms;
	r->pos = r->len = 0;
	ret = read_line(r, line, sizeof(line));
	if (ret || sscanf(line, "HTTP/%*d.%*d %d", &resp->status) != 1) {
		snprintf(err, errlen, "no HTTP answer from %s:%s%s%s", s->host, s->port,
			 ret ? ": " : "", ret ? strerror(-ret) : "");
		ret = ret ? ret : -EPROTO;
		goto out;
	}
	for (;;) {
		ret = read_line(r, line, sizeof(line));
		if (ret) {
			snprintf(err, errlen, "bad HTTP header from the server");
			goto out;
		}
		if (!line[0])
			break;
		if (!strncasecmp(line, "Content-Length:", 15)) {
			clen = strtoull(line + 15, NULL, 10);
			has_len = true;
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18) &&
			   strcasestr(line + 18, "chunked")) {
			chunked = true;
		}
	}
	if (sink && resp->status >= 200 && resp->status < 300) {
		o.sink = sink;
		o.arg = arg;
	}
	if (!strcmp(method, "HEAD") || resp->status == 204 || resp->status == 304)
		ret = 0;
	else if (chunked)
		ret = copy_chunked(r, &o);
	else
		ret = copy_body(r, &o, has_len ? (size_t)clen : SIZE_MAX);
	if (ret == -ECANCELED)
		ret = 0; /* the sink had enough */
	else if (ret)
		snprintf(err, errlen, "reading the answer: %s",
			 ret == -EPROTO ? "connection closed early" : strerror(-ret));
out:
	free(r);
	free(req);
	close(fd);
	if (ret) {
		free(resp->body);
		resp->body = NULL;
	}
	return ret;
}
