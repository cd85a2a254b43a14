/* aad_pending.h - what a verified login leaves for its own session phase.
 *
 * Grants of group_map are made only once the whole PAM stack has accepted
 * the login (pam_setcred or pam_open_session), and a session sign-in is
 * bound to the kernel's audit session ID only once pam_loginuid has set
 * it; but only authentication knows them, and sshd authenticates in
 * another process than the one that opens the session, so pam_set_data
 * does not reach it. So a verified login writes a record,
 * runtime_dir/pending/<handle> (root's, mode 0600, on /run: a tmpfs, gone
 * at reboot; aad_runtime.h), and hands the random handle on through
 * pam_set_data and the PAM environment (AAD_PENDING_ENV), which sshd
 * carries from its authentication process to the session. The record names
 * the account it is for; it is read only for that account, only within
 * AAD_PENDING_MAX_AGE_S of its making, and removed once used. Knowing a
 * handle gives nothing: the record can only be read by a root process in
 * the session phase of a login to that same account.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_PENDING_H
#define AAD_PENDING_H

#include "aad_account_name.h"
#include "aad_base.h"
#include "aad_runtime.h"

#define AAD_PENDING_ENV "PAM_AAD_PENDING"
#define AAD_PENDING_HANDLE_LEN 32 /* hex digits of 128 random bits */
/* sshd's LoginGraceTime (2 min), an account phase that asks for a new
 * password, and room. */
#define AAD_PENDING_MAX_AGE_S 600

struct aad_pending {
    char account[AAD_ACCOUNT_NAME_MAX + 1];
    long long created;   /* CLOCK_REALTIME seconds: the sign-in */
    char *grants;        /* group_map's grants ("+group:id ..."), or NULL */
    /* A session sign-in to bind to the audit session (NULL: none). */
    char *refresh_token; /* secret */
    char *oid, *tid, *upn;
    long auth_session;   /* the audit session the authentication ran in */
};

/* Writes p under runtime_dir/pending (made root-only when missing) and
 * returns its handle in handle (AAD_PENDING_HANDLE_LEN + 1 bytes). Records
 * older than AAD_PENDING_MAX_AGE_S are removed on the way, by a scan that
 * runs at most once a minute (aad_pending_get refuses them anyway). A
 * refresh token is written only where runtime_dir is in memory (tmpfs):
 * elsewhere the record is written without it, and *dropped set. Failures
 * are AAD_UNAVAILABLE. */
enum aad_status aad_pending_put(const char *runtime_dir, const struct aad_pending *p,
                                char *handle, int *dropped, struct aad_error *err);

/* Reads the record of handle, if it is for account and young enough.
 * AAD_OK with *p filled; AAD_USER_UNKNOWN when there is no such record (or
 * it is another account's, or too old: then it is removed). Release p with
 * aad_pending_clear. */
enum aad_status aad_pending_get(const char *runtime_dir, const char *handle, const char *account,
                                struct aad_pending *p, struct aad_error *err);

/* Writes p again under handle (what is left of it after one part was
 * used), or removes it when p is NULL. */
enum aad_status aad_pending_replace(const char *runtime_dir, const char *handle,
                                    const struct aad_pending *p, struct aad_error *err);

void aad_pending_clear(struct aad_pending *p);

#endif
