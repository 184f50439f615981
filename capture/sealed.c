/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sealed files: a background thread of the core that hands every file a
 * capture seals (rotation, a dump change) to on_sealed, once, oldest
 * first. It runs at nice 19 in the idle I/O class, far from the packet
 * path: what on_sealed does (an index, an upload) can take its time, and
 * never delays capture. Files sealed before a restart are offered again;
 * on_sealed must skip what it has done already.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/internal.h"

#define SEALED_POLL_MS 1000

struct seen {
	char name[CAP_NAME_MAX];
	char last[256]; /* the newest file handed over; names sort in time order */
};

struct cap_sealer {
	struct cap_core *k;
	pthread_t thr;
	pthread_mutex_t lock; /* guards stop only */
	pthread_cond_t cond;
	bool stop;
	struct seen *v;
	size_t n;
};

static struct seen *seen_of(struct cap_sealer *s, const char *name)
{
	struct seen *v;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	s->v = v;
	memset(&v[s->n], 0, sizeof(v[s->n]));
	snprintf(v[s->n].name, sizeof(v[s->n].name), "%s", name);
	return &v[s->n++];
}

static void one_capture(struct cap_sealer *s, const char *name)
{
	struct cap_core *k = s->k;
	struct cap_file *f = NULL;
	struct cap_cfg *cfg = malloc(sizeof(*cfg));
	char path[PATH_MAX + 256], *slash;
	struct seen *sn;
	size_t n = 0, i;

	if (!cfg || cap_get(k, name, cfg, NULL) || cap_files(k, name, &f, &n))
		goto out;
	sn = seen_of(s, name);
	slash = strrchr(cfg->dump, '/');
	if (!sn || !slash)
		goto out;
	*slash = '\0';
	for (i = 0; i < n; i++) {
		if (!f[i].sealed || strcmp(f[i].name, sn->last) <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", cfg->dump[0] ? cfg->dump : "",
			 f[i].name);
		k->on_sealed(k->sealed_arg, name, path);
		snprintf(sn->last, sizeof(sn->last), "%s", f[i].name);
	}
out:
	free(f);
	free(cfg);
}

static void *sealer_main(void *arg)
{
	struct cap_sealer *s = arg;
	struct timespec until;
	char(*names)[CAP_NAME_MAX];
	size_t i, n;
	bool stop;

	cap_background_thread();
	for (;;) {
		if (!cap_names(s->k, &names, &n)) {
			for (i = 0; i < n; i++)
				one_capture(s, names[i]);
			free(names);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += SEALED_POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&s->lock);
		if (!s->stop)
			pthread_cond_timedwait(&s->cond, &s->lock, &until);
		stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
	}
	return NULL;
}

int cap_sealer_start(struct cap_core *k, struct cap_sealer **out)
{
	struct cap_sealer *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->k = k;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	ret = -pthread_create(&s->thr, NULL, sealer_main, s);
	if (ret) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void cap_sealer_stop(struct cap_sealer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thr, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->v);
	free(s);
}
