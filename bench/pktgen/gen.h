/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bn-pktgen internals: the XDP_TX program, and sending frames with
 * BPF_PROG_RUN + BPF_F_TEST_XDP_LIVE_FRAMES out of a veth.
 */
#ifndef BN_GEN_H
#define BN_GEN_H

#include <stdbool.h>
#include <stdint.h>

struct bpf_object;

struct gen_prog {
	struct bpf_object *obj;
	int prog_fd;
	int stats_fd; /* per-CPU [0]=sent, [1]=flow cursor */
};

/* Loads the XDP_TX program; nflows > 1 makes it rewrite source address and
 * port so frames belong to nflows flows. */
int gen_prog_load(struct gen_prog *g, uint32_t nflows);
void gen_prog_close(struct gen_prog *g);
/* Frames the program returned XDP_TX for, summed over CPUs. */
int gen_prog_sent(const struct gen_prog *g, uint64_t *sent);

/* One BPF_PROG_RUN: sends the frame repeat times out of ifindex (the frames
 * appear on its veth peer). batch: frames per kernel batch (0 = kernel
 * default 64). 0 or -errno (-EINTR when a signal arrived). */
int gen_send(const struct gen_prog *g, int ifindex, const void *frame,
	     uint32_t len, uint32_t repeat, uint32_t batch);

#endif
