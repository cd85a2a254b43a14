/* token_kept.h - the access tokens `aad-login token` hands out again: read
 * from and written to the keyring (token_store.h) as records that say what
 * the token is good for and until when. A token is handed out again only
 * while more than TOKEN_MIN_LEFT_S of it are left, and the kernel drops
 * its record by itself at that moment.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef TOKEN_KEPT_H
#define TOKEN_KEPT_H

#include "token_output.h"
#include "token_store.h"

#define TOKEN_MIN_LEFT_S 300 /* a token with less left is never handed out */

/* A kept token for scope with more than TOKEN_MIN_LEFT_S left, into out
 * (which the caller clears). Returns 1 when found, else 0. */
int token_kept_get(const struct token_store *s, enum token_record what, const char *scope,
                   struct token_result *out);

/* Keeps r for scope until TOKEN_MIN_LEFT_S before it expires. Returns 0,
 * 1 when there is nothing to keep (no store, too little left), or -1 with
 * errno. */
int token_kept_put(const struct token_store *s, enum token_record what, const char *scope,
                   const struct token_result *r);

#endif
