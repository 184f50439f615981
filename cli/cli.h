/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli: the capture-appliance executable's commands. Each takes the
 * command's own argv (argv[0] is the command name) and returns the exit
 * status: 0 done, 1 failed, 2 usage.
 */
#ifndef CLI_H
#define CLI_H

/* `start`: the foreground daemon (capture core + REST server). */
int cli_start(int argc, char **argv);
/* add, del, set, show, stats, pull: a client of a running appliance. */
int cli_client(int argc, char **argv);

/* `extract`: the offline time machine (extract/). */
int cli_extract(int argc, char **argv);

#endif
