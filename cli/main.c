/* SPDX-License-Identifier: BSD-2-Clause */
/* capture-appliance: one executable, subcommands dispatch to their module. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "filtergen/filtergen.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: capture-appliance COMMAND [ARGS]\n"
		"       capture-appliance --help | --version\n"
		"\n"
		"Capture:\n"
		"  start --iface IFACE [options]   run the appliance in the foreground\n"
		"\n"
		"Time machine (with -r: reads the files itself; without: asks the appliance):\n"
		"  extract [--from T] [--to T] [-w OUT|-] [--format pcap|pcapng] -r PREFIX_OR_FILE... [EXPR]\n"
		"  extract NAME [--from T] [--to T] [-w OUT|-] [--format pcap|pcapng] [EXPR]\n"
		"\n"
		"Fleet (many appliances over NATS JetStream):\n"
		"  fleet --fleet URLS ls [--json] | catalog | extract [--sensor GLOB] [--capture GLOB]\n"
		"        [--from T] [--to T] [--timeout S] [-w OUT|-] [--format pcap|pcapng] [EXPR]\n"
		"\n"
		"Filters:\n"
		"  filter compile [-s SNAPLEN] [--emit cbpf|c|ebpf] EXPRESSION\n"
		"  filter apply [-s SNAPLEN] -r IN.pcap -w OUT.pcap EXPRESSION\n"
		"\n"
		"Client (talks to a running appliance over REST):\n"
		"  capture-appliance [--server URL] [--token-file FILE] COMMAND ...\n"
		"  add NAME iface=IFACE [capture=MODE] [filter=EXPR] [snaplen=N] [dump=PATH]\n"
		"      [networkmode=true|false] [transparent=true|false]\n"
		"  del NAME | set NAME FIELD=VALUE... | show [NAME [FIELD]]\n"
		"  stats NAME [--watch [S]] | files NAME | get NAME FILE -w OUT | dump NAME -w OUT\n"
		"  pull NAME -w FILE|- [--count N] [--seconds S]\n"
		"  extract NAME ... (see above)\n"
		"  --server URL       default http://127.0.0.1:9000 (or $CAPTURE_APPLIANCE_SERVER)\n"
		"  --token-file FILE  send 'Authorization: Bearer <token>' (default: the server's\n"
		"                     own, /run/capture-appliance/api.token, if readable)\n"
		"  --cacert FILE      check an https server's certificate against this CA\n"
		"  --insecure         don't check it (anyone on the path can read the token)\n"
		"\n"
		"Run 'capture-appliance COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("capture-appliance 0.1.0\n");
		return 0;
	}
	if (!strcmp(argv[1], "filter"))
		return fg_cli_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "extract"))
		return cli_extract(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fleet"))
		return cli_fleet(argc - 1, argv + 1);
	if (!strcmp(argv[1], "start"))
		return cli_start(argc - 1, argv + 1);
	return cli_client(argc - 1, argv + 1);
}
