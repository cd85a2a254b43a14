/* session_phase.h - what a verified login carries past pam_authenticate:
 * group_map's changes (removals at once, grants once the stack has accepted
 * the login) and the login session's sign-in (its refresh token, for a
 * silent, online re-authentication: src/caller/aad_session_store.h).
 *
 * sshd authenticates in another process than the ones that set the
 * credentials and open the session, so what the session phase needs
 * travels in a root-only pending record (src/caller/aad_pending.h).
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo); links libpam and
 * libc only. */
#ifndef SESSION_PHASE_H
#define SESSION_PHASE_H

#include <security/pam_modules.h>

#include "aad_account.h"
#include "aad_config.h"
#include "aad_session_store.h"

/* Before the helper runs: what this authentication does with the login
 * session's sign-in. */
struct signin_choice {
    long session_id;  /* the caller's audit session, or AAD_NO_SESSION */
    int keep;         /* ask Entra ID for a refresh token to keep */
    int stored_found; /* stored holds the session's sign-in: redeem it */
    struct aad_session_signin stored;
    /* A re-authentication without one: why (a debug line). */
    char why_none[sizeof(((struct aad_error *)0)->message)];
};

/* Decides it: for a service of reauth_services, the sign-in this audit
 * session keeps for account (if any, and younger than reauth_max_age) is
 * redeemed, and a device-code sign-in renews it; for any other service (an
 * interactive login: sshd, login, su) a refresh token is asked for, to keep
 * for the session it opens. Nothing with reauth_max_age = 0. */
void signin_choose(const struct aad_config *cfg, const char *service,
                   const struct aad_account *account, struct signin_choice *c);
void signin_choice_clear(struct signin_choice *c);

/* What the helper verified. */
struct verified {
    const char *account;
    unsigned long uid;
    const char *service;
    const char *upn, *oid, *tid;
    const char *group_plan;    /* "+group:id -group:id", or NULL */
    const char *refresh_token; /* secret: the sign-in to keep (the rotated one), or NULL */
    int refreshed;             /* a silent refresh of the session's sign-in */
};

/* After a verified login: group_map's removals (a removal that cannot be
 * written, or one a process of group_removal_refuses still holds, refuses
 * the login: err), then what the session phase needs (grants, a sign-in
 * to bind to the session) kept for it, and a renewed sign-in stored. */
enum aad_status carry_verified(pam_handle_t *pamh, const struct aad_config *cfg, int argc,
                               const char **argv, const struct verified *v,
                               const struct signin_choice *c, struct aad_error *err);

/* A re-authentication that redeemed the session's sign-in was refused:
 * the sign-in is forgotten. */
void signin_forget(const struct aad_config *cfg, const struct signin_choice *c);

/* pam_setcred and pam_open_session: this login's grants are made, and its
 * sign-in is bound to the audit session once pam_loginuid has set it. */
void carry_into_session(pam_handle_t *pamh, int argc, const char **argv, int in_setcred);

/* pam_close_session: the session's sign-in for this account is removed
 * (not by the session of a service of reauth_services: sudo's). */
void carry_close_session(pam_handle_t *pamh, int argc, const char **argv);

#endif
