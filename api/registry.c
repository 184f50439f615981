/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * registry: the named captures of one daemon. A name and an interface are
 * reserved before the (slow) capture creation runs, so the registry lock is
 * never held across it. Entries are reference counted: a DELETE unlinks the
 * entry, ends its streams and destroys the capture, while handlers that
 * still hold a reference see c == NULL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest_int.h"

int api_reg_init(struct api_registry *g)
{
	memset(g, 0, sizeof(*g));
	if (pthread_mutex_init(&g->lock, NULL))
		return -ENOMEM;
	if (pthread_cond_init(&g->cond, NULL)) {
		pthread_mutex_destroy(&g->lock);
		return -ENOMEM;
	}
	return 0;
}

void api_fifo_init(struct api_fifo_lock *l)
{
	pthread_mutex_init(&l->m, NULL);
	pthread_cond_init(&l->c, NULL);
	l->next = l->serving = 0;
}

void api_fifo_destroy(struct api_fifo_lock *l)
{
	pthread_cond_destroy(&l->c);
	pthread_mutex_destroy(&l->m);
}

void api_fifo_lock(struct api_fifo_lock *l)
{
	unsigned long me;

	pthread_mutex_lock(&l->m);
	me = l->next++;
	while (l->serving != me)
		pthread_cond_wait(&l->c, &l->m);
	pthread_mutex_unlock(&l->m);
}

void api_fifo_unlock(struct api_fifo_lock *l)
{
	pthread_mutex_lock(&l->m);
	l->serving++;
	pthread_cond_broadcast(&l->c);
	pthread_mutex_unlock(&l->m);
}

static void entry_free(struct api_reg_entry *e)
{
	api_fifo_destroy(&e->chg);
	pthread_rwlock_destroy(&e->use);
	free(e);
}

void api_reg_fini(struct api_registry *g)
{
	struct api_reg_entry *e, *next;

	for (e = g->head; e; e = next) {
		next = e->next;
		if (e->c)
			api_capture_destroy(e->c);
		entry_free(e);
	}
	g->head = NULL;
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

static struct api_reg_entry *find_locked(struct api_registry *g, const char *name)
{
	struct api_reg_entry *e;

	for (e = g->head; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

static bool iface_taken_locked(struct api_registry *g, const char *iface,
			       const struct api_reg_entry *self)
{
	struct api_reg_entry *e;

	for (e = g->head; e; e = e->next)
		if (e != self && (!strcmp(e->iface, iface) || !strcmp(e->held, iface)))
			return true;
	return false;
}

int api_reg_reserve(struct api_registry *g, const char *name, const char *iface,
		    struct api_reg_entry **out)
{
	struct api_reg_entry *e, **pp;
	int err = 0;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->iface, sizeof(e->iface), "%s", iface);
	api_fifo_init(&e->chg);
	pthread_rwlock_init(&e->use, NULL);
	e->refs = 2; /* the list's and the caller's */

	pthread_mutex_lock(&g->lock);
	if (find_locked(g, name))
		err = -EEXIST;
	else if (iface_taken_locked(g, iface, NULL))
		err = -EBUSY;
	if (!err) {
		/* append: listings keep creation order */
		for (pp = &g->head; *pp; pp = &(*pp)->next)
			;
		*pp = e;
	}
	pthread_mutex_unlock(&g->lock);
	if (err) {
		entry_free(e);
		return err;
	}
	*out = e;
	return 0;
}

void api_reg_commit(struct api_registry *g, struct api_reg_entry *e,
		    struct api_capture *c, bool network)
{
	pthread_mutex_lock(&g->lock);
	e->c = c;
	e->network = network;
	e->visible = true;
	pthread_mutex_unlock(&g->lock);
	api_reg_put(g, e);
}

void api_reg_cancel(struct api_registry *g, struct api_reg_entry *e)
{
	api_reg_unlink(g, e);
	api_reg_put(g, e);
}

struct api_reg_entry *api_reg_get(struct api_registry *g, const char *name)
{
	struct api_reg_entry *e;

	pthread_mutex_lock(&g->lock);
	e = find_locked(g, name);
	if (e && e->visible)
		e->refs++;
	else
		e = NULL;
	pthread_mutex_unlock(&g->lock);
	return e;
}

void api_reg_put(struct api_registry *g, struct api_reg_entry *e)
{
	bool last;

	pthread_mutex_lock(&g->lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&g->lock);
	/* only unlinked entries can drop to zero: the list holds one ref */
	if (last)
		entry_free(e);
}

int api_reg_each(struct api_registry *g,
		 int (*fn)(struct api_reg_entry *e, void *arg), void *arg)
{
	struct api_reg_entry **v = NULL, *e;
	size_t n = 0, i;
	int ret = 0;

	/* snapshot with references, so fn runs without the registry lock */
	pthread_mutex_lock(&g->lock);
	for (e = g->head; e; e = e->next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&g->lock);
		return -ENOMEM;
	}
	n = 0;
	for (e = g->head; e; e = e->next)
		if (e->visible) {
			e->refs++;
			v[n++] = e;
		}
	pthread_mutex_unlock(&g->lock);

	for (i = 0; i < n; i++) {
		if (!ret)
			ret = fn(v[i], arg);
		api_reg_put(g, v[i]);
	}
	free(v);
	return ret;
}

int api_reg_move_iface(struct api_registry *g, struct api_reg_entry *e,
		       const char *iface)
{
	int err = 0;

	pthread_mutex_lock(&g->lock);
	if (iface_taken_locked(g, iface, e)) {
		err = -EBUSY;
	} else {
		memcpy(e->held, e->iface, sizeof(e->held));
		snprintf(e->iface, sizeof(e->iface), "%s", iface);
	}
	pthread_mutex_unlock(&g->lock);
	return err;
}

void api_reg_move_done(struct api_registry *g, struct api_reg_entry *e, bool moved)
{
	pthread_mutex_lock(&g->lock);
	if (!moved)
		memcpy(e->iface, e->held, sizeof(e->iface));
	e->held[0] = '\0';
	pthread_mutex_unlock(&g->lock);
}

void api_reg_set_network(struct api_registry *g, struct api_reg_entry *e, bool on)
{
	pthread_mutex_lock(&g->lock);
	e->network = on;
	pthread_mutex_unlock(&g->lock);
}

void api_reg_quiesce(struct api_registry *g, struct api_reg_entry *e)
{
	pthread_mutex_lock(&g->lock);
	e->gen++;
	while (e->streams)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

int api_reg_stream_begin(struct api_registry *g, struct api_reg_entry *e,
			 unsigned int *gen)
{
	int err = 0;

	pthread_mutex_lock(&g->lock);
	if (!e->c || !e->visible)
		err = -ESHUTDOWN;
	else if (!e->network)
		err = -EAGAIN;
	else
		e->streams++;
	*gen = e->gen;
	pthread_mutex_unlock(&g->lock);
	return err;
}

bool api_reg_stream_ok(struct api_registry *g, struct api_reg_entry *e,
		       unsigned int gen)
{
	bool ok;

	pthread_mutex_lock(&g->lock);
	ok = e->gen == gen && e->network && e->visible;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

void api_reg_stream_end(struct api_registry *g, struct api_reg_entry *e)
{
	pthread_mutex_lock(&g->lock);
	e->streams--;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void api_reg_unlink(struct api_registry *g, struct api_reg_entry *e)
{
	struct api_reg_entry **pp;
	bool found = false;

	pthread_mutex_lock(&g->lock);
	for (pp = &g->head; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			found = true;
			break;
		}
	e->visible = false;
	e->gen++;
	pthread_mutex_unlock(&g->lock);
	/* drop the list's reference; the caller still holds its own */
	if (found)
		api_reg_put(g, e);
}
