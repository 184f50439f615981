/* SPDX-License-Identifier: BSD-2-Clause */
/* capture internals: shared by api/capture*.c only. */
#ifndef API_CAPTURE_INT_H
#define API_CAPTURE_INT_H

#include <pthread.h>

#include "afxdp/afxdp.h"
#include "api/capture.h"
#include "xdp/xp.h"

struct api_capture {
	/* set_lock serialises changes (held through a filter build, seconds);
	 * lock guards cfg and is all that get and stats wait for. */
	pthread_mutex_t set_lock;
	pthread_mutex_t lock;
	struct api_capture_cfg cfg;
	struct api_capture_opts opts;
	struct xp *xp;
	struct xp_elf elf;    /* the programs attached now: the rollback of a set */
	struct wr_writer *wr;
	struct xsk_set *xsk;  /* NULL in transparent mode and on the ringbuf path */
	bool rb_ingress;      /* ingress through the ring buffer, frames consumed */
	struct xsk_rb *rb;
	bool xdp_native;
	api_capture_final_fn final_fn;
	void *final_arg;
};

/* capture_check.c: what can be checked or built before anything changes. */
/* ringbuf: the capture's ingress goes through the ring buffer, consumed. */
struct xp_config api_cap_xp_cfg(const struct api_capture_cfg *c, bool ringbuf);
int api_cap_check(const struct api_capture_cfg *c, unsigned int fields, char *err,
		  size_t errlen);
int api_cap_build_filter(const char *expr, struct xp_elf *elf, char *err, size_t errlen);
void api_cap_dump_file(const char *dump, char *out, size_t len);

/* capture_stats.c */
void api_cap_stats_locked(struct api_capture *c, struct api_capture_stats *st);
void api_cap_wait_writer(struct api_capture *c);

#endif
