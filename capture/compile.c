/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Filter builds: filter text -> programs (libpcap, then clang), nothing
 * attached. A build runs with no capture lock held, in one of the core's
 * compile slots: one at a time per capture and at most one per CPU in all,
 * so compiles can neither pile up nor starve the capture workers.
 * Filters are compiled for the interface's link type (Ethernet or raw IP).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/internal.h"
#include "filtergen/filtergen.h"

#define SLOT_WAIT_S 30 /* longer than any compile the slots let through */

/* The libpcap check alone: fast, and the user's fault when it fails. */
int cap_check_filter(struct cap_core *k, const char *expr, int dlt, char *err,
		     size_t errlen)
{
	struct fg_compile_opts o = { .dlt = dlt, .pcapd = k->pcapd };
	struct fg_filter *f = NULL;
	char why[FG_ERR_LEN] = "";
	int ret;

	ret = fg_compile_ex(expr, FG_SNAPLEN_MAX, &o, &f, why, sizeof(why));
	fg_free(f);
	if (ret)
		snprintf(err, errlen, "filter '%.200s' refused: %.700s", expr,
			 why[0] ? why : strerror(-ret));
	return ret;
}

static int slot_get(struct cap_core *k, struct cap *c, char *err, size_t errlen)
{
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SLOT_WAIT_S;
	pthread_mutex_lock(&k->lock);
	while (ret == 0 && ((c && c->compiling) || k->compiles >= k->compile_max))
		ret = pthread_cond_timedwait(&k->cond, &k->lock, &until);
	if (ret == 0) {
		k->compiles++;
		if (c)
			c->compiling = true;
	}
	pthread_mutex_unlock(&k->lock);
	if (ret) {
		snprintf(err, errlen, "filter: every compile slot stayed busy for %d s; "
				      "try again", SLOT_WAIT_S);
		return -EBUSY;
	}
	return 0;
}

static const double buckets[CAP_NCOMPILE_BUCKETS] = { CAP_COMPILE_BUCKETS };

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Gives the slot back and counts the compile's duration. */
static void slot_put(struct cap_core *k, struct cap *c, double secs)
{
	int i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < CAP_NCOMPILE_BUCKETS; i++)
		if (secs <= buckets[i])
			k->cst.compile_le[i]++;
	k->cst.compile_le[CAP_NCOMPILE_BUCKETS]++;
	k->cst.compiles++;
	k->cst.compile_seconds += secs;
	k->compiles--;
	if (c)
		c->compiling = false;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

static int build(struct cap_core *k, const char *expr, int dlt, struct xp_elf *elf,
		 char *err, size_t errlen)
{
	struct fg_compile_opts o = { .dlt = dlt, .pcapd = k->pcapd };
	struct fg_filter *f = NULL;
	char msg[FG_ERR_LEN];
	int ret;

	msg[0] = 0;
	ret = fg_compile_ex(expr, FG_SNAPLEN_MAX, &o, &f, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "filter: %s", msg[0] ? msg : strerror(-ret));
		return ret;
	}
	msg[0] = 0;
	ret = xp_build(f, elf, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "filter: %s", msg[0] ? msg : strerror(-ret));
	fg_free(f);
	return ret;
}

/* c may be NULL (a capture being added has no slot rival). libpcap and
 * clang run in child processes at nice 19 with a time limit (filtergen):
 * a filter change on a small box neither starves the capture workers nor
 * runs forever. */
int cap_build_filter(struct cap_core *k, struct cap *c, const char *expr, int dlt,
		     struct xp_elf *elf, char *err, size_t errlen)
{
	double t0;
	int ret;

	ret = cap_check_filter(k, expr, dlt, err, errlen);
	if (ret)
		return ret;
	ret = slot_get(k, c, err, errlen);
	if (ret)
		return ret;
	t0 = now_s();
	ret = build(k, expr, dlt, elf, err, errlen);
	slot_put(k, c, now_s() - t0);
	return ret;
}

void cap_core_stats(struct cap_core *k, struct cap_core_stats *out)
{
	pthread_mutex_lock(&k->lock);
	*out = k->cst;
	out->pulls = k->pulls;
	pthread_mutex_unlock(&k->lock);
}

int cap_check_expr(struct cap_core *k, const char *name, const char *expr, char *err,
		   size_t errlen)
{
	struct cap *c = cap_ref(k, name);
	int dlt;

	if (!c)
		return -ENOENT;
	dlt = c->dlt; /* set at add, never changed */
	cap_unref(k, c);
	return expr[0] ? cap_check_filter(k, expr, dlt, err, errlen) : 0;
}
