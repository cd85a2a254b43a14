/* aad_mapping.h - from a verified Entra identity to a local account name.
 *
 * Rules, in order (documented in pam_aad.conf(5)):
 *  1. a user_map line "localname oid:<guid>" matching the token's oid;
 *  2. a user_map line "localname upn" matching the UPN (case-insensitive);
 *  3. a UPN whose domain is in `domains`: the part before '@', lower-cased.
 * Two different accounts matching at the same level is a refusal. An
 * account named in any oid: line is pinned: only that object ID may log in
 * to it, whatever the UPN says. An account named in any user_map line is
 * reserved: rule 3 never maps to it. Rule 3 never maps to the account being
 * logged in to when its uid is below min_uid (a system account). The result
 * must be a plain POSIX-style account name (ASCII, no '/', no "..", at most
 * 32 characters).
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_MAPPING_H
#define AAD_MAPPING_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_account.h" /* struct aad_account */

/* account is the one being logged in to (its facts from the name
 * service); upn may be NULL (claim absent); oid is the token's verified oid.
 * On success *local is a malloc'd account name (the caller compares it with
 * account). Refusals are AAD_DENIED; an unreadable or malformed user_map is
 * AAD_CONFIG_ERROR. */
enum aad_status aad_map_identity(const struct aad_config *cfg, const struct aad_account *account,
                                 const char *upn, const char *oid, char **local,
                                 struct aad_error *err);

/* The account name rules 1-3 give an identity, before any account exists
 * (aad-login sync creates the account it names): the same rules and
 * user_map reservations as aad_map_identity, without the comparison with
 * an account. local gets at most size - 1 characters. */
enum aad_status aad_map_name(const struct aad_config *cfg, const char *upn, const char *oid,
                             char *local, size_t size, struct aad_error *err);

#endif
