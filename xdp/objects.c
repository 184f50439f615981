/* SPDX-License-Identifier: BSD-2-Clause */
/* Opening and loading one program version (XDP + TC objects) with the maps
 * of struct xp: created on the first load, reused by every later one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp/internal.h"

static const char *const map_names[XP_MAP_MAX] = {
	[XP_MAP_CONFIG] = "ca_config",	 [XP_MAP_COUNTERS] = "ca_counters",
	[XP_MAP_RB] = "ca_rbs",	 [XP_MAP_SCRATCH] = "ca_scratch",
	[XP_MAP_XSKS] = "ca_xsks",
};

#define LOG_SIZE (256 * 1024)

/* Sizes known only at run time, for maps created by this load. */
static int size_maps(struct xp *x, struct bpf_object *obj)
{
	struct bpf_map *m;
	int ncpu = libbpf_num_possible_cpus(), ret = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	m = bpf_object__find_map_by_name(obj, "ca_rbs");
	/* Only the outer size: the inner template is a placeholder (the kernel
	 * doesn't compare ring buffer sizes of inner maps), fill_rings makes
	 * the real rings. */
	if (m && x->map_fd[XP_MAP_RB] < 0)
		ret = bpf_map__set_max_entries(m, ncpu);
	m = bpf_object__find_map_by_name(obj, "ca_scratch");
	if (!ret && m && x->map_fd[XP_MAP_SCRATCH] < 0)
		ret = bpf_map__set_max_entries(m, 2 * ncpu);
	m = bpf_object__find_map_by_name(obj, "ca_xsks");
	if (!ret && m && x->map_fd[XP_MAP_XSKS] < 0)
		ret = bpf_map__set_max_entries(m, x->info.rx_queues);
	return ret;
}

static int reuse_maps(struct xp *x, struct bpf_object *obj)
{
	struct bpf_map *m;
	int i, ret;

	for (i = 0; i < XP_MAP_MAX; i++) {
		if (x->map_fd[i] < 0)
			continue;
		m = bpf_object__find_map_by_name(obj, map_names[i]);
		if (!m)
			continue;
		ret = bpf_map__reuse_fd(m, x->map_fd[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* A ring buffer for every entry (possible CPU) of the new ca_rbs map. The
 * outer map holds them; we keep no fd of our own. */
static int fill_rings(struct xp *x, int outer_fd)
{
	int ncpu = libbpf_num_possible_cpus(), ret = 0;
	__u32 i;

	for (i = 0; !ret && i < (__u32)ncpu; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ca_rb", 0, 0, x->rb_size, NULL);

		if (fd < 0)
			return -errno;
		if (bpf_map_update_elem(outer_fd, &i, &fd, BPF_ANY))
			ret = -errno;
		close(fd);
	}
	return ret;
}

/* Keeps our own fds of maps this load created. */
static int adopt_maps(struct xp *x, struct bpf_object *obj)
{
	struct bpf_map *m;
	int i, fd, ret;

	for (i = 0; i < XP_MAP_MAX; i++) {
		if (x->map_fd[i] >= 0)
			continue;
		m = bpf_object__find_map_by_name(obj, map_names[i]);
		if (!m)
			continue;
		fd = fcntl(bpf_map__fd(m), F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
		x->map_fd[i] = fd;
		if (i == XP_MAP_RB) {
			ret = fill_rings(x, fd);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The verifier's last lines say why it refused; keep those for the user. */
static void log_tail(const char *log, char *out, size_t outlen)
{
	size_t n = strlen(log);
	const char *p;
	int lines = 0;

	while (n && (log[n - 1] == '\n' || log[n - 1] == ' '))
		n--;
	p = log + n;
	while (p > log && lines < 4)
		if (*--p == '\n')
			lines++;
	if (*p == '\n')
		p++;
	snprintf(out, outlen, "%.*s", (int)(log + n - p), p);
}

static int load_one(struct xp *x, const void *elf, size_t len, const char *name,
		    struct bpf_object **out, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = name);
	struct bpf_object *obj;
	struct bpf_program *prog;
	char *log = NULL, tail[1024];
	int ret;

	obj = bpf_object__open_mem(elf, len, &oo);
	if (!obj) {
		ret = -errno;
		xp_err(err, errlen, "%s: not a valid BPF object: %s", name, strerror(-ret));
		return ret;
	}
	prog = bpf_object__next_program(obj, NULL);
	log = calloc(1, LOG_SIZE);
	if (!prog || !log) {
		ret = prog ? -ENOMEM : -EINVAL;
		xp_err(err, errlen, "%s: no program in the object", name);
		goto out;
	}
	bpf_program__set_log_buf(prog, log, LOG_SIZE);
	ret = size_maps(x, obj);
	if (!ret)
		ret = reuse_maps(x, obj);
	if (ret) {
		xp_err(err, errlen, "%s: map setup: %s", name, strerror(-ret));
		goto out;
	}
	ret = bpf_object__load(obj);
	if (ret) {
		if (ret == -EPERM || ret == -EACCES) {
			if (!log[0]) {
				ret = -EPERM;
				xp_err(err, errlen, "%s: loading BPF not permitted: run as root "
					"(needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)", name);
				goto out;
			}
			ret = -EINVAL;
		}
		log_tail(log, tail, sizeof(tail));
		xp_err(err, errlen, "%s: the kernel refused the program (%s)%s%s", name,
		       strerror(-ret), tail[0] ? ": " : "", tail);
		goto out;
	}
	ret = adopt_maps(x, obj);
	if (ret)
		xp_err(err, errlen, "%s: %s", name, strerror(-ret));
out:
	if (ret) {
		bpf_object__close(obj);
		obj = NULL;
	}
	*out = obj;
	free(log);
	return ret;
}

int xp_load(struct xp *x, const struct xp_elf *elf, struct bpf_object **xdp_obj,
	    struct bpf_object **tc_obj, char *err, size_t errlen)
{
	int ret;

	ret = load_one(x, elf->xdp, elf->xdp_len, "ca_capture", xdp_obj, err, errlen);
	if (ret)
		return ret;
	ret = load_one(x, elf->tc, elf->tc_len, "ca_egress", tc_obj, err, errlen);
	if (ret) {
		bpf_object__close(*xdp_obj);
		*xdp_obj = NULL;
	}
	return ret;
}

int xp_obj_prog_fd(struct bpf_object *obj)
{
	return bpf_program__fd(bpf_object__next_program(obj, NULL));
}
