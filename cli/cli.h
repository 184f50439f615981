/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli: the capture-appliance executable's commands. Each takes the
 * command's own argv (argv[0] is the command name) and returns the exit
 * status: 0 done, 1 failed, 2 usage.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* `start`: the foreground daemon (capture core + REST server). */
int cli_start(int argc, char **argv);
/* add, del, set, show, stats, pull: a client of a running appliance. */
int cli_client(int argc, char **argv);

/*
 * `start --config FILE`: argv with FILE's options (one per line: "option
 * value", "option=value" or a bare flag; '#' comment lines, blank lines)
 * placed before the command line's own, so the command line wins. Each line
 * is checked against lo (start's options; not config, not help); path
 * options must be absolute. Without --config, argv is copied as it is.
 * Returns 0 (free c with cli_config_free), or the exit status (1: unreadable,
 * 2: a bad line) with the reason, file and line number printed.
 */
struct cli_config {
	int argc;
	char **argv;	    /* argc entries and a NULL */
	char **file_args;   /* the nfile entries made from the file (owned) */
	size_t nfile;
};
int cli_config_load(const struct option *lo, int argc, char **argv, struct cli_config *c);
void cli_config_free(struct cli_config *c);
/*
 * `extract`: the time machine (extract/). With -r (or --reindex) it reads
 * the files itself; otherwise the first operand names a capture of the
 * running appliance and the query goes to it over REST (cli_client's
 * `extract` verb).
 */
int cli_extract(int argc, char **argv);
/* extract's usage, both forms (offline and through the appliance). */
void cli_extract_usage(FILE *out);

/*
 * extract's -w OUT: "-" is standard output; a device or FIFO is written in
 * place; a symbolic link or a folder is refused; anything else is written
 * under a temporary name beside OUT and renamed over it by
 * cli_out_close(o, true), so a failed query leaves no file and an existing
 * OUT untouched. Returns 0, or 1 with the reason printed ("PROG: ...").
 */
struct cli_out {
	int fd;		  /* where to write */
	const char *path; /* OUT as given */
	char *tmp;	  /* the temporary name, or NULL (stdout, device) */
};
int cli_out_open(const char *prog, const char *path, struct cli_out *o);
/* ok: close and rename into place (0, or 1 with the reason printed); !ok:
 * close and remove the temporary file (returns 1). */
int cli_out_close(const char *prog, struct cli_out *o, bool ok);

/* `fleet`: ls, catalog, extract over a fleet's NATS catalog (fleet/).
 * Exit status 3: a partial answer. */
int cli_fleet(int argc, char **argv);

#endif
