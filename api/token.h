/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * token: the bearer token of the REST API. Without --token-file the server
 * makes (once) and uses API_TOKEN_DEFAULT, a random token in a root-only
 * file, and the CLI client reads that file by itself: root needs no flag,
 * any other local user is refused.
 */
#ifndef API_TOKEN_H
#define API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_TOKEN_DIR "/run/capture-appliance"
#define API_TOKEN_DEFAULT API_TOKEN_DIR "/api.token"
#define API_TOKEN_MAX 1024

/* Reads a token file: one token (no blanks), a trailing newline allowed.
 * *out is malloc'd. -errno/-EINVAL with err. */
int api_token_read(const char *path, char **out, size_t *len, char *err, size_t errlen);
/* The default token: read API_TOKEN_DEFAULT, or create it (0600, in a
 * root-owned folder no one else can write, never through a link). */
int api_token_default(char **out, size_t *len, char *err, size_t errlen);

/*
 * One-time grants: a token that allows one GET of one exact path and query
 * (e.g. a fleet query's extract stream, fleet/), once, before it expires.
 * The REST server accepts it beside its own token for that request only.
 * Thread-safe; at most API_GRANTS_MAX live at once (-ENOSPC beyond).
 */
#define API_GRANT_TOKEN_LEN 64 /* hex characters */
#define API_GRANTS_MAX 256
struct api_grants;
int api_grants_new(struct api_grants **out);
void api_grants_free(struct api_grants *g); /* NULL is fine */
/* A new random token (API_GRANT_TOKEN_LEN hex characters and a NUL into
 * tok) for one GET of path_query ("/api/v1/...?..."), valid ttl_s
 * seconds; *expires_ns (if not NULL): its end, ns since the epoch. */
int api_grant_add(struct api_grants *g, const char *path_query, unsigned int ttl_s,
		  char tok[API_GRANT_TOKEN_LEN + 1], uint64_t *expires_ns);
/* Whether tok grants GET of path_query now; a grant that does is used up. */
bool api_grant_take(struct api_grants *g, const char *tok, const char *path_query);

#endif
