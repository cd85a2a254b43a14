/* aad_usermap.h - reading user_map, the administrator's list of
 * "localname upn-or-oid:<guid>" lines (libc only: the PAM module reads it
 * too, to tell whether an account below min_uid is named there).
 *
 * One pass over the file answers what aad_map_identity needs (which
 * accounts the token's oid and UPN are mapped to, which accounts are named
 * at all, which are pinned to an object ID) and what the account check
 * needs (is this account named).
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_USERMAP_H
#define AAD_USERMAP_H

#include "aad_account_name.h"
#include "aad_base.h"
#include "aad_config.h"

struct aad_user_map {
    char by_oid[AAD_ACCOUNT_NAME_MAX + 1]; /* the account an oid: line maps the oid to */
    char by_upn[AAD_ACCOUNT_NAME_MAX + 1]; /* the account a UPN line maps the UPN to */
    int oid_conflict, upn_conflict;        /* ... and another line to another account */
    struct aad_strlist named;              /* every account named in a line: reserved */
    struct aad_strlist pinned;             /* every account named in an oid: line */
};

/* Reads cfg's user map (as read ahead, else from disk); upn and oid (the
 * token's, either may be NULL) are looked up while reading. A malformed or
 * unsafe file is AAD_CONFIG_ERROR. Release r with aad_user_map_clear,
 * whatever the result. */
enum aad_status aad_user_map_read(const struct aad_config *cfg, const char *upn, const char *oid,
                                  struct aad_user_map *r, struct aad_error *err);
void aad_user_map_clear(struct aad_user_map *r);

/* *named is set when a user_map line (UPN or oid:) names account; no
 * user_map configured names nothing. */
enum aad_status aad_user_map_names(const struct aad_config *cfg, const char *account, int *named,
                                   struct aad_error *err);

#endif
