/* SPDX-License-Identifier: BSD-2-Clause */
/* The xdp tests (one function each; main.c maps names to them). */
#ifndef XP_TESTS_H
#define XP_TESTS_H

#include "tnet.h"

/* t_attach.c */
void t_attach_modes(void);
void t_close_clean(void);
void t_second_refused(void);
void t_foreign_refused(void);
void t_errors(void);
void t_multiqueue(void);
/* t_ingress.c */
void t_counters(void);
void t_config(void);
void t_transparent(void);
void t_ringbuf(void);
void t_swap(void);
/* t_egress.c */
void t_egress(void);
/* t_leftover.c */
void t_leftovers(void);
/* t_xsk.c */
void t_xsk_meta(void);
/* t_fg.c */
void t_fg(void);
/* t_tun.c */
void t_tun(void);

/* Opens on the bed's veth or fails the test. */
struct xp *t_open(struct tnet *t, const char *filter, const struct xp_opts *o);
/* Nothing of ours on the bed's veth any more. */
void t_assert_clean(struct tnet *t);

#endif
