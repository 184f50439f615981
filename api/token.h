/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * token: the bearer token of the REST API. Without --token-file the server
 * makes (once) and uses API_TOKEN_DEFAULT, a random token in a root-only
 * file, and the CLI client reads that file by itself: root needs no flag,
 * any other local user is refused.
 */
#ifndef API_TOKEN_H
#define API_TOKEN_H

#include <stddef.h>

#define API_TOKEN_DIR "/run/capture-appliance"
#define API_TOKEN_DEFAULT API_TOKEN_DIR "/api.token"
#define API_TOKEN_MAX 1024

/* Reads a token file: one token (no blanks), a trailing newline allowed.
 * *out is malloc'd. -errno/-EINVAL with err. */
int api_token_read(const char *path, char **out, size_t *len, char *err, size_t errlen);
/* The default token: read API_TOKEN_DEFAULT, or create it (0600, in a
 * root-owned folder no one else can write, never through a link). */
int api_token_default(char **out, size_t *len, char *err, size_t errlen);

#endif
