/* SPDX-License-Identifier: BSD-2-Clause */
/* xp internals shared by the loader's source files (not the interface). */
#ifndef XP_INTERNAL_H
#define XP_INTERNAL_H

#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>

#include "xdp/xp.h"

struct bpf_object;

/* Our TC filter's place on clsact egress (fixed, so a leftover is found). */
#define XP_TC_HANDLE 0xca
#define XP_TC_PRIO 0xca

/* Map fds owned by struct xp; every program version reuses them. */
enum xp_map {
	XP_MAP_CONFIG = 0,
	XP_MAP_COUNTERS,
	XP_MAP_RB,
	XP_MAP_SCRATCH,
	XP_MAP_XSKS,
	XP_MAP_MAX,
};

/* The pid/lock file that says who holds an interface. */
struct xp_owner {
	int fd; /* flock'ed while we hold the interface; -1 if none */
	char path[PATH_MAX];
	int old_pid;	   /* pid of a dead previous holder, 0 if none */
	bool old_qdisc;	   /* the dead holder had created the clsact qdisc */
};

struct xp {
	pthread_mutex_t lock;
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	struct xp_info info;
	struct xp_config cfg;
	uint32_t rb_size;
	unsigned int build_timeout_s; /* xp_opts.build_timeout_s, for xp_set_filter */
	int map_fd[XP_MAP_MAX];
	struct bpf_object *xdp_obj;
	struct bpf_object *tc_obj;
	int xdp_link_fd;
	bool tc_attached;
	bool qdisc_created;
	struct xp_owner owner;
};

/* util.c */
void xp_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void xp_log(struct xp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int xp_prog_name(__u32 prog_id, char *name, size_t len);
int xp_check_caps(const char *ifname, char *err, size_t errlen);

/* objects.c: open + load one program version, reusing x's maps (creating
 * them on the first load). */
int xp_load(struct xp *x, const struct xp_elf *elf, struct bpf_object **xdp_obj,
	    struct bpf_object **tc_obj, char *err, size_t errlen);
int xp_obj_prog_fd(struct bpf_object *obj);

/* attach.c */
int xp_xdp_attach(struct xp *x, int prog_fd, enum xp_xdp_mode mode, char *err,
		  size_t errlen);
void xp_xdp_detach(struct xp *x);
int xp_tc_attach(struct xp *x, int prog_fd, bool replace, char *err, size_t errlen);
void xp_tc_detach(struct xp *x);

/* owner.c */
int xp_owner_take(struct xp_owner *ow, const char *run_dir, int ifindex,
		  const char *ifname, char *err, size_t errlen);
int xp_owner_write(struct xp_owner *ow, const char *ifname, bool qdisc_created);
void xp_owner_release(struct xp_owner *ow);

/* leftover.c: with the owner lock held, removes a dead appliance's programs
 * from the interface, refuses a foreign XDP program. */
int xp_leftovers(struct xp *x, char *err, size_t errlen);

#endif
