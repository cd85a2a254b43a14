/* aad_sync_plan.c - who is added, locked, unlocked, removed or skipped.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync_plan.h"
#include "aad_sync_graph.h"
#include "aad_sync_state.h"
#include "aad_sync_uid.h"
#include "aad_json.h"
#include "aad_mapping.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSS_BUFFER 16384

static int system_name_known(void *ctx, const char *name)
{
    (void)ctx;
    char buf[NSS_BUFFER];
    struct passwd pw, *p = NULL;
    struct group gr, *g = NULL;
    int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &p);
    if (rc == 0 && p == NULL)
        rc = getgrnam_r(name, &gr, buf, sizeof(buf), &g);
    if (rc != 0 && rc != ENOENT && rc != ESRCH)
        return -1;
    return p != NULL || g != NULL;
}

static int system_id_known(void *ctx, unsigned long id)
{
    (void)ctx;
    char buf[NSS_BUFFER];
    struct passwd pw, *p = NULL;
    struct group gr, *g = NULL;
    int rc = getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &p);
    if (rc == 0 && p == NULL)
        rc = getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &g);
    if (rc != 0 && rc != ENOENT && rc != ESRCH)
        return -1;
    return p != NULL || g != NULL;
}

void aad_sync_system_names(struct aad_sync_names *out)
{
    out->name_known = system_name_known;
    out->id_known = system_id_known;
    out->ctx = NULL;
}

const char *aad_sync_change_name(enum aad_sync_change_kind kind)
{
    switch (kind) {
    case AAD_SYNC_ADD: return "add";
    case AAD_SYNC_LOCK: return "lock";
    case AAD_SYNC_UNLOCK: return "unlock";
    case AAD_SYNC_REMOVE: return "remove";
    case AAD_SYNC_SKIP: return "skip";
    }
    return "?";
}

void aad_sync_plan_clear(struct aad_sync_plan *plan)
{
    free(plan->items);
    memset(plan, 0, sizeof(*plan));
}

static struct aad_sync_change *record(struct aad_sync_plan *plan, enum aad_sync_change_kind kind,
                                      const char *oid, const char *name, const char *upn,
                                      unsigned long uid)
{
    if (plan->count == plan->cap) {
        size_t cap = plan->cap ? plan->cap * 2 : 64;
        struct aad_sync_change *bigger = realloc(plan->items, cap * sizeof(*bigger));
        if (bigger == NULL)
            return NULL;
        plan->items = bigger;
        plan->cap = cap;
    }
    struct aad_sync_change *c = &plan->items[plan->count++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    snprintf(c->oid, sizeof(c->oid), "%.36s", oid);
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    snprintf(c->upn, sizeof(c->upn), "%.256s", upn ? upn : "");
    c->uid = uid;
    return c;
}

/* The members of the configured groups: oid -> directory entry. */
static json_t *wanted_members(const struct aad_config *cfg, json_t *state)
{
    json_t *groups = aad_sync_state_object(state, "groups");
    json_t *directory = aad_sync_state_object(state, "directory");
    json_t *wanted = json_object();
    for (size_t i = 0; i < cfg->provision_groups.count; i++) {
        char gid[37];
        snprintf(gid, sizeof(gid), "%.36s", cfg->provision_groups.items[i]);
        for (char *p = gid; *p != '\0'; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        const char *oid;
        json_t *v;
        json_object_foreach(json_object_get(json_object_get(groups, gid), "members"), oid, v) {
            json_t *entry = json_object_get(directory, oid);
            if (entry != NULL)
                json_object_set(wanted, oid, entry);
        }
    }
    return wanted;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Existing accounts: unlock, lock or remove. */
static int review_accounts(const struct aad_config *cfg, json_t *accounts, json_t *retired,
                           const json_t *wanted, long long now, struct aad_sync_plan *plan)
{
    const char *oid;
    json_t *acct, *tmp;
    json_object_foreach_safe(accounts, tmp, oid, acct) {
        const json_t *entry = json_object_get(wanted, oid);
        int active = entry != NULL && json_is_true(json_object_get(entry, "enabled"));
        const char *name = aad_json_string(acct, "name");
        const char *upn = aad_json_string(acct, "upn");
        unsigned long uid = (unsigned long)json_integer_value(json_object_get(acct, "uid"));
        long long since = json_integer_value(json_object_get(acct, "locked_since"));
        struct aad_sync_change *c = NULL;
        /* A renamed person keeps the account's name (files, sudoers and
         * user_map name it); the comment field shows the new UPN. */
        const char *now_upn = aad_json_string(entry, "upn");
        if (active && now_upn != NULL && aad_is_printable_token(now_upn, 256) &&
            (upn == NULL || strcmp(upn, now_upn) != 0)) {
            json_object_set_new(acct, "upn", json_string(now_upn));
            upn = aad_json_string(acct, "upn");
        }
        if (active && since != 0) {
            if ((c = record(plan, AAD_SYNC_UNLOCK, oid, name, upn, uid)) == NULL)
                return -1;
            json_object_set_new(acct, "locked_since", json_integer(0));
            json_object_del(acct, "lock_reason");
        } else if (!active && since == 0) {
            if ((c = record(plan, AAD_SYNC_LOCK, oid, name, upn, uid)) == NULL)
                return -1;
            snprintf(c->why, sizeof(c->why), "%s",
                     entry != NULL ? "the account is disabled in Entra ID"
                                   : "no longer in provision_groups, or deleted in Entra ID");
            json_object_set_new(acct, "locked_since", json_integer(now));
            json_object_set_new(acct, "lock_reason", json_string(c->why));
        } else if (!active && now - since >= cfg->provision_grace_days * 86400LL) {
            if (record(plan, AAD_SYNC_REMOVE, oid, name, upn, uid) == NULL)
                return -1;
            char key[24];
            snprintf(key, sizeof(key), "%lu", uid);
            json_object_set_new(retired, key, json_string(oid));
            json_object_del(accounts, oid);
        }
    }
    return 0;
}

/* The uid for oid: the first free candidate; 0 with why when none. */
static unsigned long choose_uid(const struct aad_config *cfg, const char *oid, const json_t *held,
                                const struct aad_sync_names *names, unsigned *tries, char *why,
                                size_t why_size)
{
    for (unsigned k = 0; k < AAD_SYNC_UID_TRIES; k++) {
        unsigned long uid = aad_sync_uid_candidate(oid, k, (unsigned long)cfg->provision_uid_min,
                                                   (unsigned long)cfg->provision_uid_max);
        char key[24];
        snprintf(key, sizeof(key), "%lu", uid);
        const char *holder = aad_json_string(held, key);
        if (aad_sync_uid_reserved(uid) || (holder != NULL && strcmp(holder, oid) != 0))
            continue;
        int known = names->id_known(names->ctx, uid);
        if (known < 0) {
            snprintf(why, why_size, "the name service failed to look up uid %lu", uid);
            return 0;
        }
        if (known)
            continue;
        *tries = k;
        return uid;
    }
    snprintf(why, why_size, "no free uid among its %d candidates in %ld-%ld", AAD_SYNC_UID_TRIES,
             cfg->provision_uid_min, cfg->provision_uid_max);
    return 0;
}

/* A member without an account: its name and uid, or the reason it is skipped. */
static enum aad_status add_member(const struct aad_config *cfg, const char *oid, const char *upn,
                                  json_t *accounts, json_t *held, json_t *taken_names,
                                  json_t *retired, const struct aad_sync_names *names,
                                  struct aad_sync_plan *plan, struct aad_error *outer)
{
    char name[AAD_ACCOUNT_NAME_MAX + 1] = "", why[320] = "";
    struct aad_error err = {0};
    enum aad_status st = aad_map_name(cfg, upn, oid, name, sizeof(name), &err);
    if (st == AAD_CONFIG_ERROR) {
        if (outer != NULL)
            *outer = err;
        return st;
    }
    unsigned long uid = 0;
    unsigned tries = 0;
    int known = 0;
    const char *holder = NULL;
    if (st != AAD_OK) {
        snprintf(why, sizeof(why), "no account name: %.280s", err.message);
        name[0] = '\0';
    } else if ((holder = aad_json_string(taken_names, name)) != NULL) {
        snprintf(why, sizeof(why), "%s is already the account of another Entra ID identity (%s)",
                 name, holder);
    } else if ((known = names->name_known(names->ctx, name)) != 0) {
        snprintf(why, sizeof(why),
                 known < 0 ? "the name service failed to look up %s"
                           : "%s already exists on this host (/etc/passwd or another source): "
                             "not shadowed",
                 name);
    } else {
        uid = choose_uid(cfg, oid, held, names, &tries, why, sizeof(why));
    }
    struct aad_sync_change *c = record(plan, uid != 0 ? AAD_SYNC_ADD : AAD_SYNC_SKIP, oid, name,
                                       upn, uid);
    if (c == NULL)
        return aad_fail(outer, AAD_UNAVAILABLE, "out of memory");
    snprintf(c->why, sizeof(c->why), "%s", why);
    if (uid == 0)
        return AAD_OK;
    if (tries > 0)
        snprintf(c->why, sizeof(c->why),
                 "uid collision: its first %u candidate uid(s) were taken on this host, so its "
                 "uid may differ on other hosts", tries);
    char key[24];
    snprintf(key, sizeof(key), "%lu", uid);
    json_object_set_new(held, key, json_string(oid));
    json_object_set_new(taken_names, name, json_string(oid));
    json_object_del(retired, key); /* the same person back: their uid again */
    json_object_set_new(accounts, oid,
                        json_pack("{s:s,s:I,s:s,s:I,s:b}", "name", name, "uid", (json_int_t)uid,
                                  "upn", upn, "locked_since", (json_int_t)0, "uid_collision",
                                  tries > 0));
    return AAD_OK;
}

enum aad_status aad_sync_plan_make(const struct aad_config *cfg, json_t *state,
                                   const struct aad_sync_names *names, long long now,
                                   struct aad_sync_plan *plan, struct aad_error *err)
{
    json_t *accounts = aad_sync_state_object(state, "accounts");
    json_t *retired = aad_sync_state_object(state, "retired");
    json_t *wanted = wanted_members(cfg, state);
    if (review_accounts(cfg, accounts, retired, wanted, now, plan) != 0) {
        json_decref(wanted);
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    /* Every uid ever given (and to whom), every name held. */
    json_t *held = json_deep_copy(retired), *taken_names = json_object();
    const char *oid;
    json_t *acct, *entry;
    json_object_foreach(accounts, oid, acct) {
        char key[24];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(acct, "uid")));
        json_object_set_new(held, key, json_string(oid));
        const char *name = aad_json_string(acct, "name");
        if (name != NULL)
            json_object_set_new(taken_names, name, json_string(oid));
    }
    /* New members in oid order, so that a collision resolves the same way
     * on every host that sees the same people. */
    size_t n = 0;
    const char **fresh = malloc((json_object_size(wanted) + 1) * sizeof(*fresh));
    json_object_foreach(wanted, oid, entry) {
        if (fresh != NULL && json_object_get(accounts, oid) == NULL &&
            json_is_true(json_object_get(entry, "enabled")))
            fresh[n++] = oid;
    }
    enum aad_status st = fresh ? AAD_OK : aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    if (fresh != NULL)
        qsort(fresh, n, sizeof(*fresh), compare_strings);
    for (size_t i = 0; st == AAD_OK && i < n; i++) {
        if (json_object_size(accounts) >= AAD_SYNC_MAX_MEMBERS)
            break;
        const char *upn = aad_json_string(json_object_get(wanted, fresh[i]), "upn");
        if (upn != NULL)
            st = add_member(cfg, fresh[i], upn, accounts, held, taken_names, retired, names, plan,
                            err);
    }
    free(fresh);
    json_decref(held);
    json_decref(taken_names);
    json_decref(wanted);
    return st;
}
