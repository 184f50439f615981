// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "rodata.h"

extern const unsigned char bn_pktgen_tx_obj[];
extern const size_t bn_pktgen_tx_obj_len;

int gen_prog_load(struct gen_prog *g, uint32_t nflows)
{
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	memset(g, 0, sizeof(*g));
	g->obj = bpf_object__open_mem(bn_pktgen_tx_obj, bn_pktgen_tx_obj_len, NULL);
	if (!g->obj) {
		err = -errno;
		goto out;
	}
	err = bn_set_rodata_u32(g->obj, nflows);
	if (err)
		goto out;
	err = bpf_object__load(g->obj);
	if (err)
		goto out;
	p = bpf_object__find_program_by_name(g->obj, "bn_pktgen_tx");
	m = bpf_object__find_map_by_name(g->obj, "gen_stats");
	if (!p || !m) {
		err = -ENOENT;
		goto out;
	}
	g->prog_fd = bpf_program__fd(p);
	g->stats_fd = bpf_map__fd(m);
	return 0;
out:
	gen_prog_close(g);
	return err;
}

void gen_prog_close(struct gen_prog *g)
{
	bpf_object__close(g->obj); /* NULL-safe */
	memset(g, 0, sizeof(*g));
}

int gen_prog_sent(const struct gen_prog *g, uint64_t *sent)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	uint32_t key = 0;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(g->stats_fd, &key, v)) {
		err = -errno;
		goto out;
	}
	*sent = 0;
	for (int i = 0; i < ncpu; i++)
		*sent += v[i];
out:
	free(v);
	return err;
}

int gen_send(const struct gen_prog *g, int ifindex, const void *frame,
	     uint32_t len, uint32_t repeat, uint32_t batch)
{
	/* ingress_ifindex makes the frame belong to our veth; without it the
	 * kernel uses loopback and XDP_TX would go nowhere useful. */
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
	int err = bpf_prog_test_run_opts(g->prog_fd, &o);

	return err ? -errno : 0;
}
