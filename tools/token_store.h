/* token_store.h - where `aad-login token` keeps a user's sign-in (the
 * refresh token) and the access tokens it may hand out again: the user's
 * kernel keyring, never a file. Records are small JSON objects in "user"
 * keys, readable only by their possessor, that the kernel drops by itself
 * when their time is up.
 *
 * Which keyring (the token_store setting):
 *   persistent  the uid's persistent keyring (keyctl_get_persistent): it
 *               outlives logout and reboot-free idle time, is the uid's
 *               alone, and expires after persistent_keyring_expiry (3 days
 *               by default) without use;
 *   user        the uid's user keyring: lives while a process of the uid
 *               does (a cron job alone does not keep it);
 *   auto        persistent, else user;
 *   none        nothing is kept: every run signs in.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef TOKEN_STORE_H
#define TOKEN_STORE_H

#include <jansson.h>
#include <keyutils.h>

#include "aad_config.h"

enum token_store_kind { TOKEN_STORE_NONE = 0, TOKEN_STORE_PERSISTENT, TOKEN_STORE_USER };

/* The records of one application (authority, tenant, client) in one
 * keyring. */
struct token_store {
    enum token_store_kind kind;
    key_serial_t keyring;
    char app[1024]; /* "<authority>/<tenant>:<client_id>" */
};

/* What a record holds: the sign-in (its refresh token), a user's access
 * token for a scope, or the application's for a scope. */
enum token_record { TOKEN_RECORD_SIGN_IN, TOKEN_RECORD_ACCESS, TOKEN_RECORD_APP };

/* Opens the store cfg->token_store names for cfg's application. Returns 0;
 * -1 when none is available (kind NONE, *why saying so: "token_store is
 * none", or the kernel's reason). */
int token_store_open(struct token_store *s, const struct aad_config *cfg, const char **why);

/* "persistent keyring", "user keyring" or "no store". */
const char *token_store_name(const struct token_store *s);

/* A record (a new reference the caller wipes and releases with
 * token_record_free), or NULL when there is none or it is unreadable.
 * scope is NULL for the sign-in. */
json_t *token_store_get(const struct token_store *s, enum token_record what, const char *scope);

/* Writes a record, replacing the one of the same name, for at most
 * lifetime_s seconds (0: no limit of its own). When the keyring's quota is
 * full, the access tokens of this application are dropped first. Returns 0,
 * or -1 with errno. */
int token_store_put(const struct token_store *s, enum token_record what, const char *scope,
                    const json_t *record, long lifetime_s);

/* Forgets one record; forgets every record of this application when what
 * is TOKEN_RECORD_SIGN_IN and all is 1 (sign-out). Returns the number of
 * records forgotten. */
int token_store_forget(const struct token_store *s, enum token_record what, const char *scope,
                       int all);

/* A copy of a record's string member (malloc'd), or NULL. */
char *token_record_string(const json_t *record, const char *name);

/* Wipes the string members of a record (tokens) and releases it. */
void token_record_free(json_t *record);

#endif
