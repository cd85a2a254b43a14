/* aad_last_refusal.h - why the previous attempt of the same login was
 * refused, for the next one.
 *
 * sshd, sudo and login(1) ask again after a refusal, and the next attempt
 * shows a new code: the reason belongs on top of it, in the prompt's own
 * text (an OpenSSH client at LogLevel ERROR, or ssh -q, hides the banner
 * that carried the sentence, but always prints prompts). And after a
 * refusal that would only repeat itself (a Conditional Access block the
 * device-code flow can never satisfy), no new code is shown at all.
 *
 * sudo and login retry on the same PAM handle, where pam_set_data keeps
 * it; sshd runs each keyboard-interactive attempt in a process of its own,
 * forked from the connection's monitor, so there the record is a file in
 * runtime_dir/refusals named after that monitor (its pid and start time:
 * never another connection's), root's, taken once by the next attempt,
 * for the same account, and forgotten after AAD_LAST_REFUSAL_MAX_AGE_S.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_LAST_REFUSAL_H
#define AAD_LAST_REFUSAL_H

#include <stddef.h>
#include "aad_account_name.h"
#include "aad_base.h"
#include "aad_refusal.h"

/* sshd's LoginGraceTime of a login (timeout + exchanges) and room. */
#define AAD_LAST_REFUSAL_MAX_AGE_S 900

struct aad_last_refusal {
    enum aad_failure kind;
    long aadsts;
    long clock_offset_s;
    char correlation_id[40];
    char upn[128];
    char account[AAD_ACCOUNT_NAME_MAX + 1];
};

/* The refusal r describes, as aad_refusal_sentence takes it. */
struct aad_refusal aad_last_refusal_view(const struct aad_last_refusal *r);

/* The name of this connection's record: the parent process (sshd's
 * monitor) by pid and start time. 0, or -1 when /proc does not tell. */
int aad_last_refusal_name(char *name, size_t size);

enum aad_status aad_last_refusal_put(const char *runtime_dir, const char *name,
                                     const struct aad_last_refusal *r, struct aad_error *err);

/* AAD_OK with *r when this connection's last attempt at account was
 * refused (the record is removed); AAD_USER_UNKNOWN when there is none. */
enum aad_status aad_last_refusal_take(const char *runtime_dir, const char *name,
                                      const char *account, struct aad_last_refusal *r,
                                      struct aad_error *err);

#endif
