// SPDX-License-Identifier: BSD-2-Clause
/*
 * Which frames the kernel's BPF_PROG_TEST_RUN refuses whatever the program:
 * each packet is run once through a trivial XDP (frags) and TC program. A
 * refusal there is a limit of the test run (TC: frames above about a page,
 * IPv4 ethertype with less than an IP header; XDP: above 17 frags), not a
 * filtergen error. Own file: <linux/bpf.h> and <pcap/bpf.h> both define
 * struct bpf_insn.
 */
#include "test_fg_corpus.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <unistd.h>

#define FGT_ETH_HLEN 14

static int load_trivial(enum bpf_prog_type type, int ret)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);

	if (type == BPF_PROG_TYPE_XDP)
		opts.prog_flags = BPF_F_XDP_HAS_FRAGS;
	return bpf_prog_load(type, "fgt_trivial", "Dual BSD/GPL", insns, 2, &opts);
}

static int refuses(int fd, const struct fgt_pkt *pkt)
{
	uint8_t small[FGT_ETH_HLEN] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

	/* Like the probe: a record shorter than an Ethernet header is put at
	 * the end of a zeroed 14-byte frame. */
	if (pkt->len < FGT_ETH_HLEN) {
		memcpy(small + FGT_ETH_HLEN - pkt->len, pkt->data, pkt->len);
		opts.data_in = small;
		opts.data_size_in = FGT_ETH_HLEN;
	} else {
		opts.data_in = pkt->data;
		opts.data_size_in = pkt->len;
	}
	return bpf_prog_test_run_opts(fd, &opts) != 0;
}

int fgt_pkts_kernel_check(struct fgt_pkts *pk)
{
	int xdp = load_trivial(BPF_PROG_TYPE_XDP, XDP_PASS);
	int tc = load_trivial(BPF_PROG_TYPE_SCHED_CLS, 0);
	int err = 0;

	if (xdp < 0 || tc < 0) {
		err = xdp < 0 ? xdp : tc;
		goto out;
	}
	pk->kernel_refused[0] = pk->kernel_refused[1] = 0;
	for (size_t i = 0; i < pk->n; i++) {
		pk->v[i].kernel_refuses[0] = (uint8_t)refuses(xdp, &pk->v[i]);
		pk->v[i].kernel_refuses[1] = (uint8_t)refuses(tc, &pk->v[i]);
		pk->kernel_refused[0] += pk->v[i].kernel_refuses[0];
		pk->kernel_refused[1] += pk->v[i].kernel_refuses[1];
	}
out:
	if (xdp >= 0)
		close(xdp);
	if (tc >= 0)
		close(tc);
	return err;
}
