/* session_phase.c - group_map's changes and the session's sign-in, carried
 * from authentication to the session.
 * Where it runs: inside the caller of PAM (sshd, su, sudo); links libpam and
 * libc only. */
#include "config.h"

#include "session_phase.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "aad_group_apply.h"
#include "aad_pending.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif
#ifndef AAD_DEFAULT_GROUP_WRITER
#define AAD_DEFAULT_GROUP_WRITER "/usr/libexec/pam_aad/pam_aad_group_writer"
#endif
/* pam_set_data name of the pending record's handle (the same process). */
#define PENDING_HANDLE "pam_aad_pending"
/* The most groups the session phase adds to the process's own list. */
#define MAX_PROCESS_GROUPS 65536

static void syslog_line(void *ctx, int priority, const char *message)
{
    pam_syslog((pam_handle_t *)ctx, priority, "%s", message);
}

static void free_kept(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

static const char *writer_of(const struct aad_config *cfg)
{
    return cfg->group_writer ? cfg->group_writer : AAD_DEFAULT_GROUP_WRITER;
}

static long long now_s(void)
{
    return (long long)time(NULL);
}

void signin_choose(const struct aad_config *cfg, const char *service,
                   const struct aad_account *account, struct signin_choice *c)
{
    memset(c, 0, sizeof(*c));
    c->session_id = aad_audit_session_id();
    if (cfg->reauth_max_age == 0)
        return;
    int reauth = service != NULL && aad_strlist_contains(&cfg->reauth_services, service, 0);
    if (!reauth) {
        c->keep = 1; /* an interactive login: for the session it opens */
        return;
    }
    if (c->session_id == AAD_NO_SESSION) {
        snprintf(c->why_none, sizeof(c->why_none),
                 "this process has no audit session (pam_loginuid)");
        return; /* no login session to keep a sign-in for */
    }
    struct aad_error err = {0};
    long long now = now_s();
    c->stored_found = aad_session_store_get(cfg->runtime_dir, c->session_id, account->uid,
                                            account->name, now, &c->stored, &err) == AAD_OK;
    if (!c->stored_found)
        snprintf(c->why_none, sizeof(c->why_none), "%s", err.message);
    /* A record is judged by today's setting too: a lowered reauth_max_age
     * applies at once to the sign-ins kept before. */
    if (c->stored_found && now - c->stored.signed_in_at >= cfg->reauth_max_age) {
        aad_session_signin_clear(&c->stored);
        c->stored_found = 0;
        snprintf(c->why_none, sizeof(c->why_none),
                 "the session sign-in is older than reauth_max_age");
    }
    /* A device-code sign-in here renews the session's. */
    c->keep = 1;
}

void signin_choice_clear(struct signin_choice *c)
{
    aad_session_signin_clear(&c->stored);
}

void signin_forget(const struct aad_config *cfg, const struct signin_choice *c)
{
    if (c->stored_found)
        aad_session_store_remove(cfg->runtime_dir, c->session_id, c->stored.uid);
}

/* The first group of plan that this process holds (its supplementary
 * groups: sudo's are the invoking session's), or NULL. */
static const char *process_holds_one_of(const struct aad_group_plan *plan)
{
    gid_t held[MAX_PROCESS_GROUPS / 64];
    int n = getgroups((int)(sizeof(held) / sizeof(held[0])), held);
    for (size_t g = 0; n > 0 && g < plan->count; g++) {
        struct group gr, *grp = NULL;
        char buf[16384];
        if (getgrnam_r(plan->wants[g].group, &gr, buf, sizeof(buf), &grp) != 0 || grp == NULL)
            continue;
        for (int i = 0; i < n; i++) {
            if (held[i] == grp->gr_gid)
                return plan->wants[g].group;
        }
    }
    return NULL;
}

/* Removals now, so that a revoked right does not outlive this
 * authentication - and a process that already holds the old groups (sudo,
 * su) would decide from them, so it is refused, now and at every retry
 * while it still holds one. */
static enum aad_status remove_now(pam_handle_t *pamh, const struct aad_config *cfg, int argc,
                                  const char **argv, const struct verified *v,
                                  const struct aad_group_plan *removals, struct aad_error *err)
{
    struct aad_log log = {syslog_line, pamh, cfg->debug};
    struct aad_group_applied done;
    enum aad_status st = aad_group_apply(writer_of(cfg), v->account, removals, cfg->allow_root,
                                         argc, argv, &log, &done, err);
    const char *held = NULL;
    if (st == AAD_OK && v->service != NULL &&
        aad_strlist_contains(&cfg->group_removal_refuses, v->service, 0) &&
        (done.removed || (held = process_holds_one_of(removals)) != NULL))
        st = aad_fail_as(err, AAD_FAILURE_ACCESS_CHANGED,
                         "group_map: %s is no longer in local group %s, which this %s process "
                         "still holds (group_removal_refuses)",
                         v->account, held ? held : "(removed now)", v->service);
    return st;
}

/* Writes the pending record and hands its handle on (see the top). */
static void keep_pending(pam_handle_t *pamh, const struct aad_config *cfg,
                         const struct aad_pending *p)
{
    char handle[AAD_PENDING_HANDLE_LEN + 1];
    struct aad_error err = {0};
    int dropped = 0;
    if (aad_pending_put(cfg->runtime_dir, p, handle, &dropped, &err) != AAD_OK) {
        pam_syslog(pamh, LOG_ERR, "%s cannot be kept for the session: %s",
                   p->grants ? "group_map's grants" : "the session sign-in", err.message);
        return;
    }
    if (dropped)
        pam_syslog(pamh, LOG_WARNING,
                   "session sign-in not kept: runtime_dir %s is not in memory (tmpfs), and a "
                   "refresh token is never written to a disk",
                   cfg->runtime_dir);
    if (dropped && (p->grants == NULL || p->grants[0] == '\0'))
        return;
    char env[sizeof(AAD_PENDING_ENV) + AAD_PENDING_HANDLE_LEN + 1];
    snprintf(env, sizeof(env), "%s=%s", AAD_PENDING_ENV, handle);
    char *kept = strdup(handle);
    if (kept != NULL && pam_set_data(pamh, PENDING_HANDLE, kept, free_kept) != PAM_SUCCESS)
        free(kept);
    /* sshd carries this from its authentication process to the session. */
    pam_putenv(pamh, env);
}

/* A sign-in renewed (or redeemed) within the session it belongs to. */
static void store_signin(pam_handle_t *pamh, const struct aad_config *cfg,
                         const struct verified *v, long session_id, long long signed_in_at)
{
    struct aad_session_signin s = {.session_id = session_id,
                                   .uid = v->uid,
                                   .signed_in_at = signed_in_at,
                                   .expires_at = signed_in_at + cfg->reauth_max_age,
                                   .refresh_token = (char *)v->refresh_token,
                                   .oid = (char *)v->oid,
                                   .tid = (char *)v->tid,
                                   .upn = (char *)v->upn};
    snprintf(s.account, sizeof(s.account), "%s", v->account);
    struct aad_error err = {0};
    if (aad_session_store_put(cfg->runtime_dir, &s, &err) != AAD_OK)
        pam_syslog(pamh, LOG_WARNING, "session sign-in not kept: %s", err.message);
}

enum aad_status carry_verified(pam_handle_t *pamh, const struct aad_config *cfg, int argc,
                               const char **argv, const struct verified *v,
                               const struct signin_choice *c, struct aad_error *err)
{
    struct aad_group_plan removals = {0}, grants = {0};
    if (v->group_plan != NULL && v->group_plan[0] != '\0' &&
        (aad_group_plan_parse(v->group_plan, 0, &removals) != 0 ||
         aad_group_plan_parse(v->group_plan, 1, &grants) != 0)) {
        aad_group_plan_clear(&removals);
        return aad_fail(err, AAD_UNAVAILABLE, "helper: a malformed group plan");
    }
    enum aad_status st = remove_now(pamh, cfg, argc, argv, v, &removals, err);
    const char *token = v->refresh_token && v->refresh_token[0] ? v->refresh_token : NULL;
    /* Within a login session (sudo): the sign-in is stored at once, its
     * time kept when it was only refreshed. Otherwise (sshd, login, su) it
     * waits, with the grants, for the session phase. */
    int now_in_session = token != NULL && c->session_id != AAD_NO_SESSION &&
                         v->service != NULL &&
                         aad_strlist_contains(&cfg->reauth_services, v->service, 0);
    if (st == AAD_OK && now_in_session)
        store_signin(pamh, cfg, v, c->session_id,
                     v->refreshed && c->stored_found ? c->stored.signed_in_at : now_s());
    struct aad_pending p = {.created = now_s()};
    snprintf(p.account, sizeof(p.account), "%s", v->account);
    if (st == AAD_OK && grants.count > 0 && (p.grants = aad_group_plan_format(&grants)) == NULL)
        pam_syslog(pamh, LOG_ERR, "group_map's grants cannot be kept for the session: out of "
                                  "memory");
    if (st == AAD_OK && token != NULL && !now_in_session) {
        p.auth_session = c->session_id;
        p.refresh_token = (char *)token;
        p.oid = (char *)v->oid;
        p.tid = (char *)v->tid;
        p.upn = (char *)v->upn;
    }
    if (st == AAD_OK && (p.grants != NULL || p.refresh_token != NULL))
        keep_pending(pamh, cfg, &p);
    free(p.grants);
    aad_group_plan_clear(&removals);
    aad_group_plan_clear(&grants);
    return st;
}

/* login and su set the process's groups (initgroups) before pam_setcred,
 * so a group granted now is added to them, as pam_group does: only when
 * they are the account's (its primary group is among them), and only a
 * group that now lists the account. */
static void add_to_process_groups(pam_handle_t *pamh, const char *account,
                                  const struct aad_group_plan *grants)
{
    struct passwd pw, *found = NULL;
    char buf[4096];
    if (geteuid() != 0 || getpwnam_r(account, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
        return;
    int n = getgroups(0, NULL);
    gid_t *list = n >= 0 && n < MAX_PROCESS_GROUPS
                      ? calloc((size_t)n + grants->count, sizeof(gid_t))
                      : NULL;
    if (list == NULL || getgroups(n, list) != n) {
        free(list);
        return;
    }
    int primary = 0;
    for (int i = 0; i < n; i++)
        primary |= list[i] == found->pw_gid;
    size_t count = (size_t)n;
    for (size_t g = 0; primary && g < grants->count; g++) {
        struct group gr, *grp = NULL;
        char gbuf[16384];
        if (getgrnam_r(grants->wants[g].group, &gr, gbuf, sizeof(gbuf), &grp) != 0 || grp == NULL)
            continue;
        int listed = 0, held = 0;
        for (char **m = grp->gr_mem; *m != NULL; m++)
            listed |= strcmp(*m, account) == 0;
        for (size_t i = 0; i < count; i++)
            held |= list[i] == grp->gr_gid;
        if (listed && !held)
            list[count++] = grp->gr_gid;
    }
    if (count > (size_t)n && setgroups(count, list) != 0)
        pam_syslog(pamh, LOG_ERR, "group_map: cannot add the granted groups to this process: %m");
    free(list);
}

static void make_grants(pam_handle_t *pamh, const struct aad_config *cfg, int argc,
                        const char **argv, const char *user, const char *text, int in_setcred)
{
    struct aad_group_plan grants = {0};
    if (aad_group_plan_parse(text, 1, &grants) == 0 && grants.count > 0) {
        struct aad_log log = {syslog_line, pamh, cfg->debug};
        struct aad_group_applied done;
        struct aad_error err = {0};
        aad_group_apply(writer_of(cfg), user, &grants, cfg->allow_root, argc, argv, &log, &done,
                        &err);
        if (in_setcred && done.added)
            add_to_process_groups(pamh, user, &grants);
    }
    aad_group_plan_clear(&grants);
}

/* The sign-in bound to the login's audit session: in pam_open_session
 * (below pam_loginuid in the stack, which has just set it; su, which sets
 * none, keeps its caller's), or in a pam_setcred that runs once
 * pam_loginuid has given this process another audit session than the one
 * it authenticated in (sshd's session child; login's second pam_setcred).
 * A pam_setcred before that (sshd's monitor, login's first) would bind it
 * to the session of whoever started sshd: it waits. 1 when done. */
static int bind_signin(pam_handle_t *pamh, const struct aad_config *cfg, const char *user,
                       const struct aad_pending *p, int in_setcred)
{
    long session_id = aad_audit_session_id();
    if (session_id == AAD_NO_SESSION || (in_setcred && session_id == p->auth_session))
        return 0; /* not yet, or never */
    struct passwd pw, *found = NULL;
    char buf[4096];
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
        return 1;
    struct verified v = {.account = user, .uid = found->pw_uid, .upn = p->upn, .oid = p->oid,
                         .tid = p->tid, .refresh_token = p->refresh_token};
    store_signin(pamh, cfg, &v, session_id, p->created);
    pam_syslog(pamh, LOG_INFO, "session sign-in kept for audit session %ld (%s, for %ld s)",
               session_id, user, cfg->reauth_max_age);
    return 1;
}

void carry_into_session(pam_handle_t *pamh, int argc, const char **argv, int in_setcred)
{
    const void *kept = NULL;
    const char *handle = NULL;
    if (pam_get_data(pamh, PENDING_HANDLE, &kept) == PAM_SUCCESS && kept != NULL)
        handle = kept;
    else
        handle = pam_getenv(pamh, AAD_PENDING_ENV);
    const char *user = NULL;
    if (handle == NULL || pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS ||
        user == NULL)
        return;
    char copy[AAD_PENDING_HANDLE_LEN + 1];
    snprintf(copy, sizeof(copy), "%s", handle);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    if (aad_config_load(AAD_DEFAULT_CONFIG, argc, argv, &cfg, &err) != AAD_OK) {
        pam_syslog(pamh, LOG_ERR,
                   "session phase: the configuration cannot be read (no grants made, no sign-in "
                   "kept): %s",
                   err.message);
        return;
    }
    struct aad_pending p;
    int done = 1;
    if (aad_pending_get(cfg->runtime_dir, copy, user, &p, &err) != AAD_OK) {
        pam_syslog(pamh, LOG_WARNING, "session phase: nothing kept for %s: %s", user, err.message);
    } else {
        if (p.grants != NULL && p.grants[0] != '\0')
            make_grants(pamh, cfg, argc, argv, user, p.grants, in_setcred);
        free(p.grants);
        p.grants = NULL;
        done = p.refresh_token == NULL || bind_signin(pamh, cfg, user, &p, in_setcred);
        /* What is left waits for a later phase: the sign-in, when the
         * audit session is not set yet. */
        aad_pending_replace(cfg->runtime_dir, copy, done ? NULL : &p, &err);
    }
    if (done) {
        /* Gone from this handle and from the session's environment. */
        pam_putenv(pamh, AAD_PENDING_ENV);
        pam_set_data(pamh, PENDING_HANDLE, NULL, NULL);
    }
    aad_pending_clear(&p);
    aad_config_free(cfg);
}

void carry_close_session(pam_handle_t *pamh, int argc, const char **argv)
{
    const char *user = NULL;
    long session_id = aad_audit_session_id();
    if (session_id == AAD_NO_SESSION ||
        pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS || user == NULL)
        return;
    struct passwd pw, *found = NULL;
    char buf[4096];
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    const char *service = NULL;
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || found == NULL ||
        aad_config_load(AAD_DEFAULT_CONFIG, argc, argv, &cfg, &err) != AAD_OK)
        return;
    /* A re-authentication's session (sudo's, where an administrator gave
     * it a session line) runs inside the login session: its end is not
     * the login's. */
    if (pam_get_item(pamh, PAM_SERVICE, (const void **)&service) != PAM_SUCCESS ||
        service == NULL || !aad_strlist_contains(&cfg->reauth_services, service, 0))
        aad_session_store_remove(cfg->runtime_dir, session_id, found->pw_uid);
    aad_config_free(cfg);
}
