/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test bed for the xdp tests: two network namespaces joined by a veth pair,
 *   A (dpa<tag><pid>a, 10.77.0.1, 02:00:00:77:00:01)  <->  B (..b, 10.77.0.2)
 * with static neighbours. The test process moves into A (the capture side);
 * traffic comes from a child in B. Everything is removed at exit, also when a
 * check fails (atexit) or the test is interrupted (SIGINT/SIGTERM).
 */
#ifndef TNET_H
#define TNET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "xdp/xp.h"

#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fprintf(stderr, "\n");                                        \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

#define TN_IP_A "10.77.0.1"
#define TN_IP_B "10.77.0.2"

struct tnet {
	char ns_a[32], ns_b[32];
	char if_a[16], if_b[16];
	char run_dir[64];
	int fd_a, fd_b; /* netns fds */
	int ifindex_a;
};

/* In a forked child: leave the clean-up to the parent. */
void tn_forget(void);
/* Creates the bed (rxq: RX/TX queues of the veth, 0 = default) and enters A. */
void tn_up(struct tnet *t, const char *tag, unsigned int rxq);
/* Runs a shell command (printf-style); returns its exit status. */
int tn_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Options for an xp_open_elf on A's veth. */
struct xp_opts tn_opts(struct tnet *t, bool ingress, bool egress, bool transparent,
		       uint32_t snaplen);

/* Test programs built at build time: "<filter>" = all|udp|udp9|ret100. */
void tn_elf(const char *filter, struct xp_elf *e);

/* From B: count UDP datagrams of payload bytes to A:port, gap_us between
 * them. tn_send_bg returns the child's pid; tn_wait waits for it. */
void tn_send(struct tnet *t, int port, int count, int payload, int gap_us);
pid_t tn_send_bg(struct tnet *t, int port, int count, int payload, int gap_us);
/* The same from A to B:port (through A's TC egress). */
pid_t tn_send_out_bg(struct tnet *t, int port, int count, int payload, int gap_us);
void tn_wait(pid_t pid);
/* A UDP socket bound on A:port that swallows what arrives; tn_sink_count
 * drains it and returns how many datagrams that drain read. */
int tn_sink(int port);
int tn_sink_count(int fd, int wait_ms);

/* Ring-buffer records, collected. */
struct tn_rec {
	struct ca_rb_hdr h;
	uint8_t data[64]; /* first bytes */
	uint32_t ab;	  /* bytes == 0xab after the headers (offset 42): the senders' fill */
};
struct tn_recs {
	struct tn_rec *r;
	size_t n, cap;
};
/* Reads what is in the ring buffers (one per CPU) now, after waiting up to
 * wait_ms for the first record; the records it adds are put in time order
 * (each ring is in order, a sender that moved between CPUs used two). */
void tn_rb_drain(int rb_fd, struct tn_recs *out, int wait_ms);

/* Records of IPv4 UDP to port; all must have direction dir. */
size_t tn_udp_recs(const struct tn_recs *rs, int port, enum ca_dir dir);
bool tn_is_udp(const struct tn_rec *r, int port);
/* The same, counting only records of direction dir (no check). */
size_t tn_udp_recs_dir(const struct tn_recs *rs, int port, enum ca_dir dir);

/* What's attached to A's veth. */
uint32_t tn_xdp_prog_id(struct tnet *t, uint8_t *mode);
bool tn_tc_attached(struct tnet *t);
bool tn_clsact_present(struct tnet *t);
int tn_pidfiles(struct tnet *t); /* files in run_dir */

#endif
