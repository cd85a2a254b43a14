/* aad_session_store.h - session sign-ins: the refresh token of an
 * interactive login through pam_aad, kept for that login session only.
 *
 * A record is runtime_dir/sessions/<audit session ID>-<uid> (aad_runtime.h:
 * root's, 0600, in memory only - a tmpfs - so gone at reboot). The audit
 * session ID is the kernel's (/proc/self/sessionid, set by pam_loginuid
 * when a login session opens); no process can change its own, and every
 * process of the session inherits it. A re-authentication (sudo) from a
 * process of that session, by that uid, within reauth_max_age of the last
 * interactive sign-in, is answered by one silent refresh of the token (the
 * helper asks Entra ID; nothing is decided offline). The record is removed
 * at pam_close_session, when it expires, when Entra ID refuses the token,
 * and by aad-login sessions --drop.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_SESSION_STORE_H
#define AAD_SESSION_STORE_H

#include "aad_account_name.h"
#include "aad_base.h"

#define AAD_NO_SESSION (-1L)

struct aad_session_signin {
    long session_id;
    unsigned long uid;
    char account[AAD_ACCOUNT_NAME_MAX + 1];
    long long signed_in_at; /* the last interactive sign-in (epoch seconds) */
    long long expires_at;   /* signed_in_at + reauth_max_age */
    char *refresh_token;    /* secret */
    char *oid, *tid, *upn;
};
void aad_session_signin_clear(struct aad_session_signin *s);

/* This process's audit session ID, or AAD_NO_SESSION when it has none
 * (pam_loginuid did not run, or the kernel has no audit support). */
long aad_audit_session_id(void);

/* Keeps s (replacing any record of the same session and uid). Refused
 * (AAD_UNAVAILABLE) where runtime_dir is not in memory. */
enum aad_status aad_session_store_put(const char *runtime_dir, const struct aad_session_signin *s,
                                      struct aad_error *err);

/* The record of session_id and uid, if it is account's and not expired at
 * now. AAD_USER_UNKNOWN when there is none (an expired one is removed).
 * Release s with aad_session_signin_clear. */
enum aad_status aad_session_store_get(const char *runtime_dir, long session_id, unsigned long uid,
                                      const char *account, long long now,
                                      struct aad_session_signin *s, struct aad_error *err);

/* Removes the record of session_id and uid (if any). */
void aad_session_store_remove(const char *runtime_dir, long session_id, unsigned long uid);

/* Calls fn for every record (its refresh token withheld: NULL), removing
 * the expired ones on the way. The number of records, or -1 with err. */
int aad_session_store_each(const char *runtime_dir, long long now,
                           void (*fn)(void *ctx, const struct aad_session_signin *s), void *ctx,
                           struct aad_error *err);

#endif
