/* aad_sync_plan.h - from the members Graph gave to the accounts of this
 * host: who is added, locked, unlocked, removed or skipped, and the
 * state's accounts brought to that.
 *
 *  - A member whose account is enabled and who has no account gets one:
 *    its name by the rules a login uses (aad_map_name: user_map, then
 *    domains, lower-cased), its uid by aad_sync_uid.h. A name or uid the
 *    name service already knows (/etc/passwd or any other source), or a
 *    name another member already holds, is never shadowed: the member is
 *    skipped, with the reason, at every run until it is resolved.
 *  - An account whose person left the groups, was deleted or disabled is
 *    locked (shadow expiry, nologin shell); its running sessions are left
 *    to the administrator. Back in a group and enabled: unlocked.
 *  - An account locked for provision_grace_days is removed; its uid is
 *    retired for that person only (never given to another).
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_PLAN_H
#define AAD_SYNC_PLAN_H

#include <jansson.h>

#include "aad_account_name.h"
#include "aad_base.h"
#include "aad_config.h"

enum aad_sync_change_kind {
    AAD_SYNC_ADD,
    AAD_SYNC_LOCK,
    AAD_SYNC_UNLOCK,
    AAD_SYNC_REMOVE,
    AAD_SYNC_SKIP,
};

struct aad_sync_change {
    enum aad_sync_change_kind kind;
    char oid[37];
    char name[AAD_ACCOUNT_NAME_MAX + 1]; /* "" when no name could be made */
    char upn[257];
    unsigned long uid;                   /* 0 for SKIP */
    char why[320];                       /* LOCK, SKIP: the reason; ADD: a uid collision */
};

struct aad_sync_plan {
    struct aad_sync_change *items;
    size_t count, cap;
};

void aad_sync_plan_clear(struct aad_sync_plan *plan);

/* What the name service knows besides the sync's own lines: 1 known,
 * 0 unknown, -1 the name service failed (then the member is skipped). */
struct aad_sync_names {
    int (*name_known)(void *ctx, const char *name); /* a user or a group */
    int (*id_known)(void *ctx, unsigned long id);   /* a uid or a gid */
    void *ctx;
};

/* This host's name service (getpwnam_r, getgrnam_r, getpwuid_r, getgrgid_r). */
void aad_sync_system_names(struct aad_sync_names *out);

/* Decides the changes for state's groups of cfg->provision_groups and
 * directory at time now, records them in plan and applies them to the
 * state's "accounts" and "retired". A user_map that cannot be read is
 * AAD_CONFIG_ERROR; nothing else fails. */
enum aad_status aad_sync_plan_make(const struct aad_config *cfg, json_t *state,
                                   const struct aad_sync_names *names, long long now,
                                   struct aad_sync_plan *plan, struct aad_error *err);

/* "add", "lock", ... for output. */
const char *aad_sync_change_name(enum aad_sync_change_kind kind);

#endif
