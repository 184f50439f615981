/* SPDX-License-Identifier: BSD-2-Clause */
/* `capture-appliance filter compile|apply`: the filter compiler's CLI. */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "filtergen/fg_internal.h"

#define FG_DEFAULT_SNAPLEN 262144u

static void fg_usage(FILE *o)
{
	fprintf(o,
		"Usage:\n"
		"  capture-appliance filter compile [-s SNAPLEN] [--linktype en10mb|raw]\n"
		"                                   [--emit cbpf|c|ebpf] EXPRESSION\n"
		"  capture-appliance filter apply [-s SNAPLEN] -r IN.pcap -w OUT.pcap EXPRESSION\n"
		"\n"
		"EXPRESSION is tcpdump/pcap-filter syntax (several words are joined with\n"
		"spaces), or `all` (every packet) or `none` (no packet).\n"
		"\n"
		"compile  prints the program; nothing is loaded except for --emit ebpf.\n"
		"  --emit cbpf  the classic BPF from libpcap, like `tcpdump -d` (default)\n"
		"  --emit c     the generated C (fg_filter.h)\n"
		"  --emit ebpf  the XDP program's instructions as the kernel verified them\n"
		"  -s SNAPLEN   the capture length a match returns (default %u)\n"
		"  --linktype   en10mb: Ethernet frames (default); raw: packets that start\n"
		"               at the IP header (tun, wireguard, ipip, gre; DLT_RAW)\n"
		"\n"
		"apply    runs every packet of IN (pcap or pcapng, Ethernet or raw IP: the\n"
		"         filter is compiled for IN's link type) through the\n"
		"         filter loaded as an XDP program (BPF_PROG_TEST_RUN) and writes the\n"
		"         matching ones to OUT (pcap, same timestamps and wire lengths, cut\n"
		"         to the length the filter returned); prints `N of M packets matched`\n"
		"         on stderr. The offline twin of `tcpdump -r IN -w OUT EXPRESSION`.\n"
		"  -s SNAPLEN   default: IN's snaplen\n"
		"  OUT is a nanosecond pcap unless IN is a microsecond pcap; `-` is stdout.\n"
		"\n"
		"Exit status: 0 ok, 1 error (I/O, loading, verifier), 2 usage or an\n"
		"expression libpcap refuses (its message is printed).\n"
		"FG_VERBOSE=1 shows libbpf's messages too.\n",
		FG_DEFAULT_SNAPLEN);
}

struct fg_args {
	uint32_t snaplen; /* 0: default */
	int dlt;	  /* 0: not given */
	const char *emit, *in, *out;
	char *expr;
};

/* Parses options after the subcommand; returns 0, 1 (help shown) or 2. */
static int fg_parse(int argc, char **argv, struct fg_args *a)
{
	static const struct option lo[] = {
		{ "emit", required_argument, NULL, 'e' },
		{ "linktype", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t len = 0;
	char *end;
	unsigned long v;
	int c, i;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "+s:r:w:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v < 1 || v > FG_SNAPLEN_MAX) {
				fprintf(stderr, "capture-appliance: bad snaplen '%s' (1..%u)\n",
					optarg, FG_SNAPLEN_MAX);
				return 2;
			}
			a->snaplen = (uint32_t)v;
			break;
		case 'e':
			a->emit = optarg;
			break;
		case 'l':
			if (!strcmp(optarg, "en10mb") || !strcmp(optarg, "ethernet")) {
				a->dlt = FG_DLT_EN10MB;
			} else if (!strcmp(optarg, "raw")) {
				a->dlt = FG_DLT_RAW;
			} else {
				fprintf(stderr, "capture-appliance: --linktype takes en10mb or raw, "
					"not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			a->in = optarg;
			break;
		case 'w':
			a->out = optarg;
			break;
		case 'h':
			fg_usage(stdout);
			return 1;
		default:
			fg_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "capture-appliance: missing filter EXPRESSION\n");
		return 2;
	}
	for (i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	a->expr = calloc(1, len + 1);
	if (!a->expr)
		return 2;
	for (i = optind; i < argc; i++) {
		if (i > optind)
			strcat(a->expr, " ");
		strcat(a->expr, argv[i]);
	}
	return 0;
}

static int fg_cmd_compile(struct fg_args *a)
{
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	char err[FG_ERR_LEN] = "";
	const char *emit = a->emit ? a->emit : "cbpf";
	int ret;

	if (strcmp(emit, "cbpf") && strcmp(emit, "c") && strcmp(emit, "ebpf")) {
		fprintf(stderr, "capture-appliance: --emit takes cbpf, c or ebpf\n");
		return 2;
	}
	ret = fg_compile_dlt(a->expr, a->snaplen ? a->snaplen : FG_DEFAULT_SNAPLEN,
			     a->dlt ? a->dlt : FG_DLT_EN10MB, &f, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		return ret == -EINVAL ? 2 : 1;
	}
	if (!strcmp(emit, "cbpf")) {
		ret = fg_print_cbpf(f, stdout);
	} else if (!strcmp(emit, "c")) {
		ret = fputs(fg_c_source(f), stdout) < 0 ? -EIO : 0;
	} else {
		ret = fg_probe_load(f, &p, err, sizeof(err));
		if (ret)
			fprintf(stderr, "capture-appliance: %s\n", err);
		else
			ret = fg_probe_dump_ebpf(p, FG_HOOK_XDP, stdout);
	}
	fg_probe_free(p);
	fg_free(f);
	return ret ? 1 : 0;
}

/* Microsecond pcap in, microsecond pcap out (like tcpdump -r -w); anything
 * else (ns pcap, pcapng, stdin) keeps nanoseconds. */
static int fg_input_is_usec(const char *path)
{
	uint32_t magic = 0;
	FILE *f;

	if (!strcmp(path, "-"))
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	if (fread(&magic, sizeof(magic), 1, f) != 1)
		magic = 0;
	fclose(f);
	return magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1;
}

struct fg_pcap_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct fg_rec_hdr {
	uint32_t sec, frac, caplen, len;
};

static int fg_cmd_apply(struct fg_args *a)
{
	char err[FG_ERR_LEN] = "", perr[PCAP_ERRBUF_SIZE] = "";
	struct fg_filter *f = NULL;
	struct fg_probe *p = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t total = 0, matched = 0;
	pcap_t *in = NULL;
	FILE *out = NULL;
	uint32_t snaplen, v;
	int ret = 1, r, usec, dlt;

	if (!a->in || !a->out) {
		fprintf(stderr, "capture-appliance: filter apply needs -r IN and -w OUT\n");
		return 2;
	}
	if (a->dlt) {
		fprintf(stderr, "capture-appliance: filter apply takes IN's link type; "
			"--linktype belongs to filter compile\n");
		return 2;
	}
	in = pcap_open_offline_with_tstamp_precision(a->in, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!in) {
		fprintf(stderr, "capture-appliance: %s\n", perr);
		goto out;
	}
	dlt = pcap_datalink(in);
	if (!fg_dlt_to_linktype(dlt)) {
		fprintf(stderr, "capture-appliance: %s: link type %s, filters are for Ethernet "
			"(EN10MB) or raw IP (RAW)\n",
			a->in, pcap_datalink_val_to_name(dlt) ?: "unknown");
		goto out;
	}
	snaplen = a->snaplen;
	if (!snaplen) {
		int s = pcap_snapshot(in);

		snaplen = s < 1 || (uint32_t)s > FG_SNAPLEN_MAX ? FG_SNAPLEN_MAX : (uint32_t)s;
	}
	r = fg_compile_dlt(a->expr, snaplen, dlt, &f, err, sizeof(err));
	if (r) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		ret = r == -EINVAL ? 2 : 1;
		goto out;
	}
	r = fg_probe_load(f, &p, err, sizeof(err));
	if (r) {
		fprintf(stderr, "capture-appliance: %s\n", err);
		goto out;
	}
	out = strcmp(a->out, "-") ? fopen(a->out, "wb") : stdout;
	if (!out) {
		fprintf(stderr, "capture-appliance: %s: %s\n", a->out, strerror(errno));
		goto out;
	}
	usec = fg_input_is_usec(a->in);
	struct fg_pcap_hdr fh = {
		.magic = usec ? 0xa1b2c3d4 : 0xa1b23c4d, .major = 2, .minor = 4,
		.snaplen = (uint32_t)pcap_snapshot(in),
		/* the file's LINKTYPE_ value, with its FCS bits (pcap_datalink_ext) */
		.linktype = fg_linktype(f) | ((uint32_t)pcap_datalink_ext(in) & 0xffff0000u),
	};
	if (fwrite(&fh, sizeof(fh), 1, out) != 1)
		goto io_err;
	while ((r = pcap_next_ex(in, &h, &data)) == 1) {
		total++;
		r = fg_probe_run(p, FG_HOOK_XDP, data, h->caplen, h->len, &v);
		if (r) {
			fprintf(stderr, "capture-appliance: %s: packet %llu (%u bytes): %s\n",
				a->in, (unsigned long long)total, h->caplen,
				r == -E2BIG ? "too large for a BPF test run" : strerror(-r));
			goto out;
		}
		if (!v)
			continue;
		matched++;
		struct fg_rec_hdr rh = {
			.sec = (uint32_t)h->ts.tv_sec,
			.frac = (uint32_t)(usec ? h->ts.tv_usec / 1000 : h->ts.tv_usec),
			.caplen = h->caplen < v ? h->caplen : v,
			.len = h->len,
		};
		if (fwrite(&rh, sizeof(rh), 1, out) != 1 ||
		    fwrite(data, 1, rh.caplen, out) != rh.caplen)
			goto io_err;
	}
	if (r == -1) {
		fprintf(stderr, "capture-appliance: %s: %s\n", a->in, pcap_geterr(in));
		goto out;
	}
	if (fflush(out))
		goto io_err;
	fprintf(stderr, "%llu of %llu packets matched\n", (unsigned long long)matched,
		(unsigned long long)total);
	ret = 0;
	goto out;
io_err:
	fprintf(stderr, "capture-appliance: %s: %s\n", a->out, strerror(errno));
out:
	if (out && out != stdout && fclose(out) && !ret) {
		fprintf(stderr, "capture-appliance: %s: %s\n", a->out, strerror(errno));
		ret = 1;
	}
	if (in)
		pcap_close(in);
	fg_probe_free(p);
	fg_free(f);
	return ret;
}

int fg_cli_main(int argc, char **argv)
{
	struct fg_args a = { 0 };
	int ret;

	fg_libbpf_quiet();
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fg_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "compile") && strcmp(argv[1], "apply")) {
		fprintf(stderr, "capture-appliance: unknown filter command '%s'\n", argv[1]);
		fg_usage(stderr);
		return 2;
	}
	ret = fg_parse(argc - 1, argv + 1, &a);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (!strcmp(argv[1], "compile"))
		ret = a.in || a.out ? 2 : fg_cmd_compile(&a);
	else
		ret = fg_cmd_apply(&a);
	if (ret == 2 && (a.in || a.out) && !strcmp(argv[1], "compile"))
		fprintf(stderr, "capture-appliance: -r/-w belong to filter apply\n");
	free(a.expr);
	return ret;
}
