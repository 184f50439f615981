/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core: the named captures of one daemon, their life cycle (add, get, list,
 * delete) and the registry behind it. A name and an interface are reserved
 * before the slow part of an add runs, so no lock is held across it.
 * Captures are reference counted: a delete unlinks the name at once, and
 * the memory goes when the last user (a request, a pull client) lets go.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/internal.h"
#include "filtergen/filtergen.h"
#include "writer/writer.h"

void cap_log(struct cap_core *k, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k->log)
		k->log(k->log_arg, msg);
	else
		fprintf(stderr, "capture: %s\n", msg);
}

int cap_core_open(const struct cap_core_opts *o, struct cap_core **out, char *err,
		  size_t errlen)
{
	struct cap_core *k;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->compile_max = cpus > 0 ? (unsigned int)cpus : 1;
	k->max_pulls = o->max_pulls ? o->max_pulls : CAP_PULLS_DEFAULT;
	k->file_mode = o->file_mode;
	k->file_gid = o->file_gid;
	k->file_group_set = o->file_group_set;
	if (o->allow_iface && !(k->allow_iface = strdup(o->allow_iface))) {
		ret = -ENOMEM;
		goto out;
	}
	k->dp = o->dp;
	k->log = o->log;
	k->log_arg = o->log_arg;
	k->on_final = o->on_final;
	k->final_arg = o->final_arg;
	k->on_sealed = o->on_sealed;
	k->sealed_arg = o->sealed_arg;
	k->pcapd = o->pcapd;
	if (o->dump_root) {
		k->dump_root = realpath(o->dump_root, NULL);
		if (!k->dump_root) {
			ret = -errno;
			snprintf(err, errlen, "dump root %s: %s", o->dump_root, strerror(errno));
			goto out;
		}
	}
	k->default_dir = strdup(o->default_dir ? o->default_dir
				: k->dump_root ? k->dump_root : "/tmp");
	if (!k->default_dir) {
		ret = -ENOMEM;
		goto out;
	}
	if (k->on_sealed) {
		ret = cap_sealer_start(k, &k->sealer);
		if (ret) {
			snprintf(err, errlen, "sealed-file thread: %s", strerror(-ret));
			goto out;
		}
	}
	*out = k;
	return 0;
out:
	cap_core_close(k);
	return ret;
}

static void cap_free(struct cap *c)
{
	xp_elf_free(&c->elf);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void cap_unref(struct cap_core *k, struct cap *c)
{
	bool last;

	pthread_mutex_lock(&k->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&k->lock);
	/* only unlinked captures can drop to zero: the list holds one ref */
	if (last)
		cap_free(c);
}

static struct cap *find_locked(struct cap_core *k, const char *name)
{
	struct cap *c;

	for (c = k->head; c; c = c->next)
		if (c->listed && !strcmp(c->cfg.name, name))
			return c;
	return NULL;
}

/* Also a capture still being added; not one being deleted. */
static bool name_taken_locked(struct cap_core *k, const char *name)
{
	struct cap *c;

	for (c = k->head; c; c = c->next)
		if (!c->closing && !strcmp(c->cfg.name, name))
			return true;
	return false;
}

static bool dump_taken_locked(struct cap_core *k, const char *dump, const struct cap *self)
{
	struct cap *c;

	for (c = k->head; c; c = c->next)
		if (c != self && !strcmp(c->dump, dump))
			return true;
	return false;
}

int cap_hold_dump(struct cap_core *k, struct cap *c, const char *dump)
{
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (dump_taken_locked(k, dump, c))
		ret = -EBUSY;
	else
		snprintf(c->dump, sizeof(c->dump), "%s", dump);
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static bool iface_taken_locked(struct cap_core *k, const char *iface, const struct cap *self)
{
	struct cap *c;

	for (c = k->head; c; c = c->next)
		if (c != self && (!strcmp(c->iface, iface) || !strcmp(c->held, iface)))
			return true;
	return false;
}

struct cap *cap_ref(struct cap_core *k, const char *name)
{
	struct cap *c;

	pthread_mutex_lock(&k->lock);
	c = find_locked(k, name);
	if (c)
		c->refs++;
	pthread_mutex_unlock(&k->lock);
	return c;
}

/* Takes c off the list (its interface is free again); drops the list's ref. */
static void unlink_cap(struct cap_core *k, struct cap *c)
{
	struct cap **pp;
	bool found = false;

	pthread_mutex_lock(&k->lock);
	for (pp = &k->head; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			found = true;
			break;
		}
	c->listed = false;
	pthread_mutex_unlock(&k->lock);
	if (found)
		cap_unref(k, c);
}

int cap_hold_iface(struct cap_core *k, struct cap *c, const char *iface)
{
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (iface_taken_locked(k, iface, c)) {
		ret = -EBUSY;
	} else {
		memcpy(c->held, c->iface, sizeof(c->held));
		snprintf(c->iface, sizeof(c->iface), "%s", iface);
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

void cap_move_done(struct cap_core *k, struct cap *c, bool moved)
{
	pthread_mutex_lock(&k->lock);
	if (!moved)
		memcpy(c->iface, c->held, sizeof(c->iface));
	c->held[0] = '\0';
	pthread_mutex_unlock(&k->lock);
}

void cap_cfg_init(struct cap_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = CAP_MODE_BIDIRECTIONAL;
	snprintf(cfg->filter, sizeof(cfg->filter), "%s", CAP_DEFAULT_FILTER);
	cfg->snaplen = FG_SNAPLEN_MAX;
}

/* Reserves name and interface: the capture is on the list (holding both)
 * but not found by name until it runs. */
static int reserve(struct cap_core *k, const struct cap_cfg *cfg, struct cap **out,
		   char *err, size_t errlen)
{
	struct cap *c, **pp;
	int ret = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->cfg = *cfg;
	snprintf(c->iface, sizeof(c->iface), "%s", cfg->iface);
	snprintf(c->dump, sizeof(c->dump), "%s", cfg->dump);
	c->refs = 2; /* the list's and the caller's */
	atomic_init(&c->network, cfg->network);

	pthread_mutex_lock(&k->lock);
	if (name_taken_locked(k, cfg->name)) {
		ret = -EEXIST;
		snprintf(err, errlen, "a capture named '%s' exists already", cfg->name);
	} else if (iface_taken_locked(k, cfg->iface, NULL)) {
		ret = -EBUSY;
		snprintf(err, errlen, "interface %s is already captured", cfg->iface);
	} else if (dump_taken_locked(k, cfg->dump, NULL)) {
		ret = -EBUSY;
		snprintf(err, errlen, "dump %s is another capture's: two captures never share "
			 "a file", cfg->dump);
	} else {
		/* append: listings keep creation order */
		for (pp = &k->head; *pp; pp = &(*pp)->next)
			;
		*pp = c;
	}
	pthread_mutex_unlock(&k->lock);
	if (ret) {
		cap_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* Everything about a new capture that can be checked without attaching. */
static int check_new(struct cap_core *k, struct cap_cfg *cfg, unsigned int fields,
		     int *dlt, uint32_t *linktype, char *err, size_t errlen)
{
	char dump[PATH_MAX];
	int ret;

	if (!cap_name_ok(cfg->name)) {
		snprintf(err, errlen, "bad capture name '%.64s': 1..%d of A-Z a-z 0-9 . _ -, "
			 "not starting with '.'", cfg->name, CAP_NAME_MAX - 1);
		return -EINVAL;
	}
	if (!cfg->iface[0]) {
		snprintf(err, errlen, "an interface is required");
		return -EINVAL;
	}
	ret = cap_check_iface(k, cfg->iface, err, errlen);
	if (ret)
		return ret;
	ret = cap_check_cfg(cfg, fields | CAP_F_MODE | CAP_F_SNAPLEN | CAP_F_FORMAT | CAP_F_ROTATE,
			    err, errlen);
	if (ret)
		return ret;
	if (!if_nametoindex(cfg->iface)) {
		snprintf(err, errlen, "%s: no such interface", cfg->iface);
		return -ENODEV;
	}
	ret = cap_iface_linktype(cfg->iface, dlt, linktype, err, errlen);
	if (!ret)
		ret = cap_check_filter(k, cfg->filter, *dlt, err, errlen);
	if (ret)
		return ret;
	if (!(fields & CAP_F_DUMP))
		/* default: NAME in the default folder, ours: not bound by the root */
		snprintf(cfg->dump, sizeof(cfg->dump), "%s/%s", k->default_dir, cfg->name);
	ret = cap_check_dump((fields & CAP_F_DUMP) ? k->dump_root : NULL, cfg->dump, dump,
			     sizeof(dump), err, errlen);
	if (ret)
		return ret;
	snprintf(cfg->dump, sizeof(cfg->dump), "%s", dump);
	return 0;
}

int cap_add(struct cap_core *k, const struct cap_cfg *in, unsigned int fields,
	    struct cap_cfg *now, char *err, size_t errlen)
{
	struct cap_cfg *cfg = malloc(sizeof(*cfg));
	struct cap *c = NULL;
	uint32_t linktype = 0;
	int ret, dlt = 0;

	if (!cfg)
		return -ENOMEM;
	*cfg = *in;
	ret = check_new(k, cfg, fields, &dlt, &linktype, err, errlen);
	if (ret == -ENOENT) /* kept for "no such capture" */
		ret = -EINVAL;
	if (ret)
		goto out;
	ret = reserve(k, cfg, &c, err, errlen);
	if (ret)
		goto out;
	c->dlt = dlt;
	ret = cap_build_filter(k, NULL, cfg->filter, dlt, &c->elf, err, errlen);
	if (ret == -ENOENT)
		ret = -EINVAL;
	if (ret)
		goto out_unlink;
	/* The file only once the interface is ours: a refused second
	 * appliance must not truncate the first one's file. */
	c->force_transparent = cfg->transparent;
	ret = cap_dp_attach(k, cfg, c->force_transparent, &c->elf, &c->dp, err, errlen);
	if (ret)
		goto out_unlink;
	ret = cap_wr_open(k, c, cfg, linktype, &c->wr, err, errlen);
	if (ret)
		goto out_dp;
	ret = cap_dp_start(k, cfg, &c->dp, c->wr, err, errlen);
	if (ret)
		goto out_wr;
	cfg->transparent = c->dp.path == CAP_INGRESS_TRANSPARENT;
	c->cfg.transparent = cfg->transparent;
	pthread_mutex_lock(&k->lock);
	c->listed = true;
	pthread_mutex_unlock(&k->lock);
	cap_log_started(k, c);
	if (now)
		*now = *cfg;
	cap_unref(k, c);
	free(cfg);
	return 0;
out_wr:
	wr_close(c->wr);
	c->wr = NULL;
out_dp:
	cap_dp_close(&c->dp);
out_unlink:
	unlink_cap(k, c);
	cap_unref(k, c);
out:
	free(cfg);
	return ret;
}

int cap_get(struct cap_core *k, const char *name, struct cap_cfg *cfg, struct cap_stats *st)
{
	struct cap *c = cap_ref(k, name);

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (cfg)
		*cfg = c->cfg;
	if (st)
		cap_stats_locked(c, st);
	pthread_mutex_unlock(&c->lock);
	cap_unref(k, c);
	return 0;
}

int cap_ingress_of(struct cap_core *k, const char *name, enum cap_ingress *path,
		   char *why, size_t whylen)
{
	struct cap *c = cap_ref(k, name);

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	*path = c->dp.path;
	snprintf(why, whylen, "%s", c->dp.why);
	pthread_mutex_unlock(&c->lock);
	cap_unref(k, c);
	return 0;
}

int cap_each(struct cap_core *k, int (*fn)(const struct cap_cfg *cfg, void *arg), void *arg)
{
	struct cap **v, *c;
	struct cap_cfg *cfg;
	size_t n = 0, i;
	int ret = 0;

	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	/* snapshot with references, so fn runs without the registry lock */
	pthread_mutex_lock(&k->lock);
	for (c = k->head; c; c = c->next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&k->lock);
		free(cfg);
		return -ENOMEM;
	}
	n = 0;
	for (c = k->head; c; c = c->next)
		if (c->listed) {
			c->refs++;
			v[n++] = c;
		}
	pthread_mutex_unlock(&k->lock);

	for (i = 0; i < n; i++) {
		bool live;

		pthread_mutex_lock(&v[i]->lock);
		live = v[i]->state == CAP_LIVE;
		*cfg = v[i]->cfg;
		pthread_mutex_unlock(&v[i]->lock);
		if (!ret && live)
			ret = fn(cfg, arg);
		cap_unref(k, v[i]);
	}
	free(v);
	free(cfg);
	return ret;
}

/* The slow part of a delete, with no lock held: only the deleter touches
 * the data path of a closing capture. */
static int close_cap(struct cap_core *k, struct cap *c)
{
	struct cap_stats st;
	int ret;

	cap_dp_stop(&c->dp);
	cap_wait_writer(c);
	pthread_mutex_lock(&c->lock);
	cap_stats_locked(c, &st);
	c->final = st;
	c->state = CAP_CLOSED;
	pthread_mutex_unlock(&c->lock);
	if (k->on_final)
		k->on_final(&c->cfg, &st, k->final_arg);
	cap_dp_close(&c->dp);
	ret = wr_close(c->wr);
	c->wr = NULL;
	return ret;
}

int cap_del(struct cap_core *k, const char *name, char *err, size_t errlen)
{
	struct cap *c;
	int ret;

	pthread_mutex_lock(&k->lock);
	c = find_locked(k, name);
	if (c) {
		c->refs++;
		c->listed = false; /* gone for every new request */
		c->closing = true;
	}
	pthread_mutex_unlock(&k->lock);
	if (!c) {
		snprintf(err, errlen, "no capture named '%s'", name);
		return -ENOENT;
	}
	pthread_mutex_lock(&c->lock);
	c->state = CAP_CLOSING;
	atomic_store(&c->network, false);
	atomic_fetch_add(&c->pull_gen, 1);
	pthread_mutex_unlock(&c->lock);

	ret = close_cap(k, c);
	if (ret) {
		snprintf(err, errlen, "capture '%s' closed with error: %s", name, strerror(-ret));
		cap_log(k, "%s", err);
	}
	unlink_cap(k, c); /* the interface is free once the programs are gone */
	cap_unref(k, c);
	return 0;
}

void cap_core_close(struct cap_core *k)
{
	char err[256];

	if (!k)
		return;
	cap_sealer_stop(k->sealer);
	k->sealer = NULL;
	for (;;) {
		char name[CAP_NAME_MAX] = "";
		struct cap *c;

		pthread_mutex_lock(&k->lock);
		for (c = k->head; c && !c->listed; c = c->next)
			;
		if (c)
			snprintf(name, sizeof(name), "%s", c->cfg.name);
		pthread_mutex_unlock(&k->lock);
		if (!name[0])
			break;
		cap_del(k, name, err, sizeof(err));
	}
	free(k->dump_root);
	free(k->default_dir);
	free(k->allow_iface);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

struct cap_name_list {
	char (*v)[CAP_NAME_MAX];
	size_t n;
};

static int take_name(const struct cap_cfg *cfg, void *arg)
{
	struct cap_name_list *l = arg;
	char(*v)[CAP_NAME_MAX] = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	snprintf(v[l->n++], CAP_NAME_MAX, "%s", cfg->name);
	return 0;
}

int cap_names(struct cap_core *k, char (**names)[CAP_NAME_MAX], size_t *n)
{
	struct cap_name_list l = { 0 };
	int ret = cap_each(k, take_name, &l);

	if (ret) {
		free(l.v);
		return ret;
	}
	*names = l.v;
	*n = l.n;
	return 0;
}
