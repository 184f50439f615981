// SPDX-License-Identifier: BSD-2-Clause
/*
 * bn-xdpsink: attaches the benchmark's sink XDP program to the capture veth
 * (pass: frames go on to the stack for tcpdump & co.; drop: the ceiling),
 * waits for SIGINT/SIGTERM, prints what it counted, detaches.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "rodata.h"

#define SINK_MAX_QUEUES 64

extern const unsigned char bn_sink_obj[];
extern const size_t bn_sink_obj_len;

struct sink_count {
	uint64_t packets;
	uint64_t bytes;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Prints {"packets":N,"bytes":B,"queues":[q0,q1,..]} over queues that saw frames. */
static int print_counts(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t q[SINK_MAX_QUEUES] = { 0 }, pk = 0, by = 0;
	struct sink_count *v;
	int last = 0, err = 0;

	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < SINK_MAX_QUEUES; k++) {
		if (bpf_map_lookup_elem(map_fd, &k, v)) {
			err = -errno;
			goto out;
		}
		for (int c = 0; c < ncpu; c++) {
			q[k] += v[c].packets;
			by += v[c].bytes;
		}
		pk += q[k];
		if (q[k])
			last = (int)k;
	}
	printf("{\"packets\":%llu,\"bytes\":%llu,\"queues\":[", (unsigned long long)pk,
	       (unsigned long long)by);
	for (int k = 0; k <= last; k++)
		printf("%s%llu", k ? "," : "", (unsigned long long)q[k]);
	printf("]}\n");
out:
	free(v);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bn-xdpsink --iface IFACE [--drop] [--skb]\n"
		   "Attaches a counting XDP program (XDP_PASS, or XDP_DROP with --drop),\n"
		   "prints \"attached\", waits for SIGINT/SIGTERM, prints the counts as JSON,\n"
		   "detaches.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "drop", no_argument, NULL, 'd' },
		{ "skb", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint32_t flags = XDP_FLAGS_DRV_MODE, action = XDP_PASS;
	struct bpf_object *obj = NULL;
	struct bpf_program *p;
	struct bpf_map *m;
	const char *iface = NULL;
	bool attached = false;
	int c, ifindex, err, rc = 1;

	while ((c = getopt_long(argc, argv, "i:dsh", lo, NULL)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 'd': action = XDP_DROP; break;
		case 's': flags = XDP_FLAGS_SKB_MODE; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!iface) {
		usage(stderr);
		return 2;
	}
	ifindex = (int)if_nametoindex(iface);
	if (!ifindex) {
		fprintf(stderr, "bn-xdpsink: no interface %s\n", iface);
		return 1;
	}
	obj = bpf_object__open_mem(bn_sink_obj, bn_sink_obj_len, NULL);
	if (!obj) {
		err = -errno;
		goto out;
	}
	err = bn_set_rodata_u32(obj, action);
	if (!err)
		err = bpf_object__load(obj);
	if (err)
		goto out;
	p = bpf_object__find_program_by_name(obj, "bn_sink");
	m = bpf_object__find_map_by_name(obj, "sink_stats");
	if (!p || !m) {
		err = -ENOENT;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* never replace someone else's program: fail if one is attached */
	err = bpf_xdp_attach(ifindex, bpf_program__fd(p), flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err)
		goto out;
	attached = true;
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	err = print_counts(bpf_map__fd(m));
out:
	if (attached)
		bpf_xdp_detach(ifindex, flags, NULL);
	if (err)
		fprintf(stderr, "bn-xdpsink: %s: %s\n", iface, strerror(-err));
	else
		rc = 0;
	bpf_object__close(obj);
	return rc;
}
