/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture-appliance-extcap: a running appliance's captures as Wireshark
 * capture interfaces (Wireshark's extcap interface). Wireshark runs it with
 *   --extcap-interfaces                      list the captures (ca-NAME)
 *   --extcap-dlts --extcap-interface X       the link type
 *   --extcap-config --extcap-interface X     our options (server, token, ...)
 *   --capture --extcap-interface X --fifo F [--extcap-capture-filter E]
 * and the last streams the capture's network-mode pcap into the FIFO
 * until Wireshark closes it or stops us (SIGTERM), then puts back what it
 * changed (filter, network mode). It speaks the REST API through the CLI's
 * libcurl client (api/client.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <pcap/pcap.h>

#include "api/client.h"
#include "api/token.h"

#define PREFIX "ca-"
#define DEFAULT_SERVER "http://127.0.0.1:9000"
#define ERRLEN 1024

static volatile int stop_flag;

static void on_stop(int sig)
{
	stop_flag = 1;
}

struct opts {
	const char *iface, *fifo, *filter, *server, *token_file, *cacert;
	bool list, dlts, config, capture, networkmode_on, insecure;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: capture-appliance-extcap --extcap-interfaces\n"
		"       capture-appliance-extcap --extcap-dlts --extcap-interface ca-NAME\n"
		"       capture-appliance-extcap --extcap-config --extcap-interface ca-NAME\n"
		"       capture-appliance-extcap --capture --extcap-interface ca-NAME --fifo FIFO\n"
		"           [--extcap-capture-filter EXPR] [--server URL] [--token-file FILE]\n"
		"           [--cacert FILE] [--networkmode-on]\n"
		"A Wireshark extcap program: the captures of a running capture-appliance as\n"
		"capture interfaces. Install it in Wireshark's extcap folder\n"
		"(/usr/lib/x86_64-linux-gnu/wireshark/extcap/ or ~/.config/wireshark/extcap/).\n"
		"--server defaults to $CAPTURE_APPLIANCE_SERVER or " DEFAULT_SERVER ", the token\n"
		"to the server's own (" API_TOKEN_DEFAULT ", root only).\n");
}

/* One request; on failure the server's message (or the transport's) goes
 * to stderr, which Wireshark shows. Returns the body (caller frees) or NULL. */
static char *call(struct api_cli_server *s, const char *method, const char *path,
		  const char *body, int *status)
{
	struct api_cli_resp r;
	char err[ERRLEN] = "";
	cJSON *j, *e;

	if (api_cli_request(s, method, path, body, NULL, NULL, &r, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return NULL;
	}
	if (status)
		*status = r.status;
	if (r.status >= 200 && r.status < 300)
		return r.body ? r.body : strdup("");
	j = r.body ? cJSON_Parse(r.body) : NULL;
	e = cJSON_GetObjectItem(j, "error");
	fprintf(stderr, "capture-appliance: %s\n",
		cJSON_IsString(e) ? e->valuestring : "unexpected answer from the server");
	cJSON_Delete(j);
	free(r.body);
	return NULL;
}

/* `extcap` and `interface` lines; an unreachable appliance lists nothing
 * (Wireshark goes on with its other interfaces) and says why on stderr. */
static int list_interfaces(struct api_cli_server *s)
{
	const cJSON *c, *name, *iface;
	char *body;
	cJSON *j;

	printf("extcap {version=0.1.0}{display=capture-appliance captures}\n");
	body = call(s, "GET", "/api/v1/captures", NULL, NULL);
	if (!body)
		return 0;
	j = cJSON_Parse(body);
	cJSON_ArrayForEach(c, j) {
		name = cJSON_GetObjectItem(c, "name");
		iface = cJSON_GetObjectItem(c, "iface");
		if (!cJSON_IsString(name))
			continue;
		printf("interface {value=" PREFIX "%s}{display=capture-appliance: %s on %s}\n",
		       name->valuestring, name->valuestring,
		       cJSON_IsString(iface) ? iface->valuestring : "?");
	}
	cJSON_Delete(j);
	free(body);
	return 0;
}

static void print_config(void)
{
	printf("arg {number=0}{call=--server}{display=Appliance URL}{type=string}"
	       "{default=%s}{tooltip=http:// or https:// address of the appliance's REST API}\n",
	       getenv("CAPTURE_APPLIANCE_SERVER") ? getenv("CAPTURE_APPLIANCE_SERVER")
						  : DEFAULT_SERVER);
	printf("arg {number=1}{call=--token-file}{display=Token file}{type=fileselect}"
	       "{mustexist=true}{tooltip=file holding the API token (default: "
	       API_TOKEN_DEFAULT ", readable by root only)}\n");
	printf("arg {number=2}{call=--cacert}{display=CA certificate (https)}{type=fileselect}"
	       "{mustexist=true}{tooltip=PEM file of the CA, or the self-signed certificate, "
	       "the appliance's HTTPS certificate is checked against}\n");
	printf("arg {number=3}{call=--networkmode-on}{display=Switch network mode on}"
	       "{type=boolflag}{default=false}{tooltip=the capture's packets go to Wireshark "
	       "instead of its file while capturing; switched off again at the end}\n");
}

/* The FIFO sink: a reader that went away (EPIPE) ends the stream. */
static int fifo_sink(const void *buf, size_t len, void *arg)
{
	int fd = *(int *)arg;
	const char *p = buf;
	ssize_t w;

	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR && !stop_flag)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return stop_flag ? -1 : 0;
}

/* A filter Wireshark asks us to check: libpcap's verdict, for Ethernet. */
static int check_filter(const char *expr)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;

	if (!p)
		return 1;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		printf("%s\n", pcap_geterr(p));
		pcap_close(p);
		return 0;
	}
	pcap_freecode(&prog);
	pcap_close(p);
	return 0;
}

static char *json_string(const char *v)
{
	cJSON *j = cJSON_CreateString(v);
	char *t = j ? cJSON_PrintUnformatted(j) : NULL;

	cJSON_Delete(j);
	return t;
}

static int capture(struct api_cli_server *s, const struct opts *o, const char *name)
{
	char path[512], err[ERRLEN] = "", *body, *old_filter = NULL, *jf = NULL;
	bool switched = false;
	struct api_cli_resp r;
	struct sigaction sa;
	int fd = -1, ret = 1, st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	snprintf(path, sizeof(path), "/api/v1/captures/%s/networkmode", name);
	body = call(s, "GET", path, NULL, NULL);
	if (!body)
		return 1;
	if (strcmp(body, "true")) {
		if (!o->networkmode_on) {
			fprintf(stderr, "capture-appliance: capture '%s' is not in network mode (its "
				"packets go to its file). Set it (capture-appliance set %s "
				"networkmode=true) or tick \"Switch network mode on\" "
				"(--networkmode-on).\n", name, name);
			free(body);
			return 1;
		}
		free(body);
		body = call(s, "PUT", path, "true", NULL);
		if (!body)
			return 1;
		switched = true;
	}
	free(body);
	if (o->filter && o->filter[0]) {
		snprintf(path, sizeof(path), "/api/v1/captures/%s/filter", name);
		old_filter = call(s, "GET", path, NULL, NULL);
		jf = json_string(o->filter);
		if (!old_filter || !jf)
			goto out;
		body = call(s, "PUT", path, jf, &st);
		if (!body) {
			free(old_filter);
			old_filter = NULL; /* refused: nothing to put back */
			goto out;
		}
		free(body);
	}
	fd = open(o->fifo, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "capture-appliance: %s: %s\n", o->fifo, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/captures/%s/packets", name);
	s->timeout_ms = 0;
	s->cancel = &stop_flag;
	if (api_cli_request(s, "GET", path, NULL, fifo_sink, &fd, &r, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		goto out;
	}
	s->cancel = NULL;
	if (r.status != 200) {
		cJSON *j = r.body ? cJSON_Parse(r.body) : NULL, *e = cJSON_GetObjectItem(j, "error");

		fprintf(stderr, "capture-appliance: %s\n",
			cJSON_IsString(e) ? e->valuestring : "unexpected answer");
		cJSON_Delete(j);
		free(r.body);
		goto out;
	}
	free(r.body);
	ret = 0;
out:
	s->cancel = NULL;
	s->timeout_ms = 30000;
	if (fd >= 0)
		close(fd);
	/* put back what we changed, in the reverse order */
	if (old_filter) {
		snprintf(path, sizeof(path), "/api/v1/captures/%s/filter", name);
		body = call(s, "PUT", path, old_filter, NULL);
		if (!body)
			ret = 1;
		free(body);
	}
	if (switched) {
		snprintf(path, sizeof(path), "/api/v1/captures/%s/networkmode", name);
		body = call(s, "PUT", path, "false", NULL);
		if (!body)
			ret = 1;
		free(body);
	}
	free(old_filter);
	free(jf);
	return ret;
}

int main(int argc, char **argv)
{
	enum { O_LIST = 256, O_VERSION, O_DLTS, O_CONFIG, O_IFACE, O_CAPTURE, O_FIFO,
	       O_FILTER, O_SERVER, O_TOKEN, O_CACERT, O_NETON, O_INSECURE, O_IGNORE };
	static const struct option lo[] = {
		{ "extcap-interfaces", no_argument, NULL, O_LIST },
		{ "extcap-version", optional_argument, NULL, O_VERSION },
		{ "extcap-dlts", no_argument, NULL, O_DLTS },
		{ "extcap-config", no_argument, NULL, O_CONFIG },
		{ "extcap-interface", required_argument, NULL, O_IFACE },
		{ "capture", no_argument, NULL, O_CAPTURE },
		{ "fifo", required_argument, NULL, O_FIFO },
		{ "extcap-capture-filter", required_argument, NULL, O_FILTER },
		{ "server", required_argument, NULL, O_SERVER },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "networkmode-on", no_argument, NULL, O_NETON },
		{ "insecure", no_argument, NULL, O_INSECURE },
		/* what newer Wireshark versions pass to every extcap */
		{ "debug", no_argument, NULL, O_IGNORE },
		{ "debug-file", required_argument, NULL, O_IGNORE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .server = getenv("CAPTURE_APPLIANCE_SERVER") };
	struct api_cli_server s;
	char err[ERRLEN], *token = NULL;
	const char *name = NULL;
	size_t toklen;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_LIST: o.list = true; break;
		case O_VERSION: break;
		case O_DLTS: o.dlts = true; break;
		case O_CONFIG: o.config = true; break;
		case O_IFACE: o.iface = optarg; break;
		case O_CAPTURE: o.capture = true; break;
		case O_FIFO: o.fifo = optarg; break;
		case O_FILTER: o.filter = optarg; break;
		case O_SERVER: o.server = optarg; break;
		case O_TOKEN: o.token_file = optarg; break;
		case O_CACERT: o.cacert = optarg; break;
		case O_NETON: o.networkmode_on = true; break;
		case O_INSECURE: o.insecure = true; break;
		case O_IGNORE: break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (o.list || o.dlts || o.config || o.capture || o.filter) {
		if (!o.list && (!o.iface || strncmp(o.iface, PREFIX, strlen(PREFIX)) ||
				!o.iface[strlen(PREFIX)])) {
			fprintf(stderr, "capture-appliance: --extcap-interface " PREFIX "NAME needed\n");
			return 2;
		}
		name = o.list ? NULL : o.iface + strlen(PREFIX);
	} else {
		usage(stderr);
		return 2;
	}
	if (o.dlts) {
		/* the stream's own header says which (raw IP on tun devices) */
		printf("dlt {number=1}{name=EN10MB}{display=Ethernet}\n");
		return 0;
	}
	if (o.config) {
		print_config();
		return 0;
	}
	if (o.filter && !o.capture) /* Wireshark checking a filter */
		return check_filter(o.filter);
	if (o.capture && !o.fifo) {
		fprintf(stderr, "capture-appliance: --capture needs --fifo FILE\n");
		return 2;
	}
	if (name && (strlen(name) > 200 || strpbrk(name, "/?#% "))) {
		fprintf(stderr, "capture-appliance: bad capture name '%s'\n", name);
		return 2;
	}
	if (api_cli_parse_url(o.server ? o.server : DEFAULT_SERVER, &s, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return 2;
	}
	if (!o.token_file && !access(API_TOKEN_DEFAULT, R_OK))
		o.token_file = API_TOKEN_DEFAULT;
	if (o.token_file && api_token_read(o.token_file, &token, &toklen, err, sizeof(err))) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return 1;
	}
	s.token = token;
	s.cacert = o.cacert;
	s.insecure = o.insecure;
	s.timeout_ms = 30000;
	ret = o.list ? list_interfaces(&s) : capture(&s, &o, name);
	fflush(stdout);
	if (token) {
		memset(token, 0, toklen);
		free(token);
	}
	return ret;
}
