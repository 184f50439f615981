/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `start --config FILE`: a configuration file holds the options of `start`,
 * one per line, and becomes argv entries placed before the command line's
 * own options, so that the command line wins (getopt keeps the last value).
 * Each line is checked against start's own option table, so a file is
 * refused with its line number instead of getopt's context-free message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define LINE_MAX_LEN 4096

/* Options naming files or folders: under systemd the working directory is
 * /, so a relative path in a file would silently mean something else than
 * where the file's author stood. --dump may be relative to --dump-root. */
static const char *const path_opts[] = { "dump", "dump-root", "token-file", "tls-cert",
					 "fleet-creds", "fleet-tls-ca", "s3-credentials",
					 "archive-state" };

static bool is_path_opt(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(path_opts) / sizeof(path_opts[0]); i++)
		if (!strcmp(name, path_opts[i]))
			return true;
	return false;
}

static const struct option *find_opt(const struct option *lo, const char *name, size_t len)
{
	for (; lo->name; lo++)
		if (strlen(lo->name) == len && !strncmp(lo->name, name, len))
			return lo;
	return NULL;
}

/* FILE from argv: --config FILE or --config=FILE. Walks argv as getopt
 * would, so the value of another option is never taken for --config. */
static int find_config(const struct option *lo, int argc, char **argv, const char **file)
{
	const struct option *o;
	const char *a, *eq;
	int i;

	*file = NULL;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (strncmp(a, "--", 2))
			continue;
		a += 2;
		eq = strchr(a, '=');
		o = find_opt(lo, a, eq ? (size_t)(eq - a) : strlen(a));
		if (!o)
			continue; /* getopt will say so */
		if (!strcmp(o->name, "config")) {
			if (*file) {
				fprintf(stderr, "capture-appliance: --config given twice\n");
				return 2;
			}
			if (eq)
				*file = eq + 1;
			else if (i + 1 < argc)
				*file = argv[++i];
			else
				return 0; /* getopt will say the value is missing */
			continue;
		}
		if (o->has_arg == required_argument && !eq)
			i++;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One non-blank, non-comment line -> "--name" or "--name=value" (malloc'd),
 * or NULL with the reason printed. */
static char *parse_line(const struct option *lo, const char *file, int n, char *line,
			bool *dump_root)
{
	const struct option *o;
	char *name = line, *val, *out;
	size_t len, vlen;

	if (!strncmp(name, "--", 2))
		name += 2;
	len = strcspn(name, " \t=");
	val = trim(name + len);
	if (*val == '=') /* "name=value", "name = value" */
		val = trim(val + 1);
	o = len ? find_opt(lo, name, len) : NULL;
	if (!o || !strcmp(o->name, "config") || !strcmp(o->name, "help")) {
		fprintf(stderr, "capture-appliance: %s:%d: unknown option '%.*s' (the options "
				"of 'capture-appliance start --help', without the leading --)\n",
			file, n, (int)(len ? len : strlen(line)), len ? name : line);
		return NULL;
	}
	/* a value in matching quotes loses them: the way to write an empty one */
	vlen = strlen(val);
	if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
		val[vlen - 1] = '\0';
		val++;
	} else if (o->has_arg == required_argument && !vlen) {
		fprintf(stderr, "capture-appliance: %s:%d: %s needs a value\n", file, n, o->name);
		return NULL;
	}
	if (o->has_arg == no_argument && vlen) {
		fprintf(stderr, "capture-appliance: %s:%d: %s is a flag and takes no value\n",
			file, n, o->name);
		return NULL;
	}
	if (!strcmp(o->name, "dump-root"))
		*dump_root = true;
	if (is_path_opt(o->name) && val[0] != '/' &&
	    !(!strcmp(o->name, "dump") && *dump_root)) {
		fprintf(stderr, "capture-appliance: %s:%d: %s '%s' must be an absolute path%s\n",
			file, n, o->name, val,
			strcmp(o->name, "dump") ? "" : " (or follow a dump-root line)");
		return NULL;
	}
	if (o->has_arg == no_argument) {
		if (asprintf(&out, "--%s", o->name) < 0)
			out = NULL;
	} else if (asprintf(&out, "--%s=%s", o->name, val) < 0) {
		out = NULL;
	}
	if (!out)
		fprintf(stderr, "capture-appliance: %s\n", strerror(ENOMEM));
	return out;
}

static int read_file(const struct option *lo, const char *file, struct cli_config *c)
{
	char line[LINE_MAX_LEN + 2], *s, *arg, **grown;
	bool dump_root = false;
	size_t cap = 0;
	FILE *f;
	int n = 0, ret = 0;

	f = fopen(file, "re");
	if (!f) {
		fprintf(stderr, "capture-appliance: %s: %s\n", file, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "capture-appliance: %s:%d: line longer than %d bytes\n",
				file, n, LINE_MAX_LEN);
			ret = 2;
			goto out;
		}
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		arg = parse_line(lo, file, n, s, &dump_root);
		if (!arg) {
			ret = 2;
			goto out;
		}
		if (c->nfile == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(c->file_args, cap * sizeof(*grown));
			if (!grown) {
				free(arg);
				fprintf(stderr, "capture-appliance: %s\n", strerror(ENOMEM));
				ret = 1;
				goto out;
			}
			c->file_args = grown;
		}
		c->file_args[c->nfile++] = arg;
	}
	if (ferror(f)) {
		fprintf(stderr, "capture-appliance: %s: %s\n", file, strerror(errno));
		ret = 1;
	}
out:
	fclose(f);
	return ret;
}

int cli_config_load(const struct option *lo, int argc, char **argv, struct cli_config *c)
{
	const char *file;
	int ret, i;

	memset(c, 0, sizeof(*c));
	ret = find_config(lo, argc, argv, &file);
	if (!ret && file)
		ret = read_file(lo, file, c);
	if (!ret) {
		c->argv = calloc((size_t)argc + c->nfile + 1, sizeof(*c->argv));
		if (!c->argv) {
			fprintf(stderr, "capture-appliance: %s\n", strerror(ENOMEM));
			ret = 1;
		}
	}
	if (ret) {
		cli_config_free(c);
		return ret;
	}
	c->argv[0] = argv[0];
	for (i = 0; i < (int)c->nfile; i++)
		c->argv[1 + i] = c->file_args[i];
	for (i = 1; i < argc; i++)
		c->argv[c->nfile + i] = argv[i];
	c->argc = argc + (int)c->nfile;
	return 0;
}

void cli_config_free(struct cli_config *c)
{
	size_t i;

	for (i = 0; i < c->nfile; i++)
		free(c->file_args[i]);
	free(c->file_args);
	free(c->argv);
	memset(c, 0, sizeof(*c));
}
