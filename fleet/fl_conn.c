/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NATS connection: server list, credentials from a root-only file, TLS,
 * and a JetStream context. A sensor's connection retries forever in the
 * background (libnats reconnects by itself); a client's tries once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet/fl_internal.h"

#define SERVERS_MAX 16

bool fl_sensor_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n >= FL_SENSOR_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

void fl_nats_err(natsStatus s, jsErrCode jerr, const char *what, char *err, size_t errlen)
{
	const char *last = nats_GetLastError(NULL);

	if (jerr)
		snprintf(err, errlen, "%s: %s (JetStream error %d)", what, natsStatus_GetText(s),
			 (int)jerr);
	else if (last && last[0] && strcmp(last, natsStatus_GetText(s)))
		snprintf(err, errlen, "%s: %s (%s)", what, natsStatus_GetText(s), last);
	else
		snprintf(err, errlen, "%s: %s", what, natsStatus_GetText(s));
}

/* The server list as an array of pointers into buf. */
static int split_servers(const char *servers, char *buf, size_t len, const char **v, int *n,
			 char *err, size_t errlen)
{
	char *p, *save = NULL;

	if (!servers || !servers[0] || strlen(servers) >= len) {
		snprintf(err, errlen, "--fleet needs nats://HOST:PORT[,nats://HOST:PORT...]");
		return -EINVAL;
	}
	snprintf(buf, len, "%s", servers);
	*n = 0;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if ((strncmp(p, "nats://", 7) && strncmp(p, "tls://", 6)) || strpbrk(p, " \t\n") ||
		    strlen(p) < 9 || *n == SERVERS_MAX) {
			snprintf(err, errlen, "--fleet: bad server URL '%s' (nats://HOST:PORT or "
				 "tls://HOST:PORT, at most %d, comma-separated)", p, SERVERS_MAX);
			return -EINVAL;
		}
		v[(*n)++] = p;
	}
	if (!*n) {
		snprintf(err, errlen, "--fleet needs at least one nats://HOST:PORT");
		return -EINVAL;
	}
	return 0;
}

/* The creds file: a regular file, no link, not readable by group or
 * others, the caller's (or root's). Its content into *data (malloc'd). */
static int read_creds(const char *path, char **data, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "--fleet-creds %s: %s%s", path, strerror(errno),
			 errno == ELOOP ? " (a symbolic link is refused)" : "");
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--fleet-creds %s: not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if ((st.st_mode & 077) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(err, errlen, "--fleet-creds %s: must be private to its owner (root): "
			 "mode %04o, chmod 600 it", path, (unsigned int)(st.st_mode & 07777));
		ret = -EPERM;
		goto out;
	}
	if (st.st_size > 64 * 1024) {
		snprintf(err, errlen, "--fleet-creds %s: larger than 64 KiB", path);
		ret = -EINVAL;
		goto out;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		snprintf(err, errlen, "--fleet-creds %s: short read", path);
		ret = -EIO;
		goto out;
	}
	*data = buf;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

int fl_check_conn(const struct fl_conn_opts *c, char *err, size_t errlen)
{
	const char *v[SERVERS_MAX];
	char buf[4096], *creds = NULL;
	int n, ret;

	ret = split_servers(c->servers, buf, sizeof(buf), v, &n, err, errlen);
	if (ret)
		return ret;
	if (c->creds) {
		ret = read_creds(c->creds, &creds, err, errlen);
		if (ret)
			return ret;
		if (!strstr(creds, "-----BEGIN NATS USER JWT-----") &&
		    (!creds[0] || strspn(creds, " \t\r\n") == strlen(creds))) {
			snprintf(err, errlen, "--fleet-creds %s: empty (a NATS .creds file, "
				 "'user:password' or a token)", c->creds);
			ret = -EINVAL;
		}
		memset(creds, 0, strlen(creds));
		free(creds);
		if (ret)
			return ret;
	}
	if (c->tls_ca && access(c->tls_ca, R_OK)) {
		ret = -errno;
		snprintf(err, errlen, "--fleet-tls-ca %s: %s", c->tls_ca, strerror(errno));
		return ret;
	}
	return 0;
}

/* user:password or a token: the first line of the file. */
static natsStatus set_creds(natsOptions *opts, const char *path, char *data)
{
	char *line, *colon;

	if (strstr(data, "-----BEGIN NATS USER JWT-----"))
		return natsOptions_SetUserCredentialsFromFiles(opts, path, NULL);
	line = data + strspn(data, " \t\r\n");
	line[strcspn(line, "\r\n")] = '\0';
	colon = strchr(line, ':');
	if (colon) {
		*colon = '\0';
		return natsOptions_SetUserInfo(opts, line, colon + 1);
	}
	return natsOptions_SetToken(opts, line);
}

int fl_connect(const struct fl_conn_opts *c, const char *name,
	       natsConnectionHandler on_reconnect, void *arg, natsConnection **nc, jsCtx **js,
	       char *err, size_t errlen)
{
	bool retry = on_reconnect != NULL;
	int timeout = c->timeout_ms > 0 ? c->timeout_ms : 5000;
	const char *v[SERVERS_MAX];
	char buf[4096], *creds = NULL;
	natsOptions *opts = NULL;
	jsOptions jo;
	natsStatus s;
	int n, ret;

	*nc = NULL;
	*js = NULL;
	ret = split_servers(c->servers, buf, sizeof(buf), v, &n, err, errlen);
	if (ret)
		return ret;
	if (c->creds && (ret = read_creds(c->creds, &creds, err, errlen)))
		return ret;
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(opts, v, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, timeout);
	if (s == NATS_OK && creds)
		s = set_creds(opts, c->creds, creds);
	if (s == NATS_OK && c->tls_ca)
		s = natsOptions_SetSecure(opts, true);
	if (s == NATS_OK && c->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(opts, c->tls_ca);
	if (s == NATS_OK && retry) {
		/* never give up: the capture goes on, the catalog catches up */
		s = natsOptions_SetMaxReconnect(opts, -1);
		if (s == NATS_OK)
			s = natsOptions_SetReconnectWait(opts, 1000);
		if (s == NATS_OK)
			s = natsOptions_SetRetryOnFailedConnect(opts, true, on_reconnect, arg);
		if (s == NATS_OK)
			s = natsOptions_SetReconnectedCB(opts, on_reconnect, arg);
	}
	if (s != NATS_OK) {
		fl_nats_err(s, 0, "NATS options", err, errlen);
		ret = -EINVAL;
		goto out;
	}
	s = natsConnection_Connect(nc, opts);
	if (s != NATS_OK && !(retry && s == NATS_NOT_YET_CONNECTED)) {
		fl_nats_err(s, 0, c->servers, err, errlen);
		ret = s == NATS_NO_SERVER ? -ECONNREFUSED : s == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
		*nc = NULL;
		goto out;
	}
	jsOptions_Init(&jo);
	jo.Wait = timeout;
	s = natsConnection_JetStream(js, *nc, &jo);
	if (s != NATS_OK) {
		fl_nats_err(s, 0, "JetStream", err, errlen);
		natsConnection_Destroy(*nc);
		*nc = NULL;
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	if (creds) {
		memset(creds, 0, strlen(creds));
		free(creds);
	}
	natsOptions_Destroy(opts);
	return ret;
}

void fl_disconnect(natsConnection *nc, jsCtx *js)
{
	jsCtx_Destroy(js);
	if (nc) {
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
	}
}
