/* aad_account.h - the local account a login is for, as the caller's name
 * service sees it. The PAM module looks it up in the caller's process (the
 * name service the session will use) before any network traffic and passes
 * the facts to the helper, which makes no account lookups of its own.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_ACCOUNT_H
#define AAD_ACCOUNT_H

#include "aad_account_name.h"
#include "aad_base.h"
#include "aad_config.h"

struct aad_account {
    char name[AAD_ACCOUNT_NAME_MAX + 1];
    unsigned long uid;
};

/* Looks user up: no such account (or an implausible name) is
 * AAD_USER_UNKNOWN; an account pam_aad may never map (uid 0 without
 * allow_root, or a uid below min_uid that no user_map line names) is
 * AAD_IGNORE, so that the PAM stack's next method (root's password:
 * break-glass) decides. A user_map that cannot be read is AAD_CONFIG_ERROR.
 * On AAD_OK and AAD_IGNORE out is filled. */
enum aad_status aad_account_lookup(const struct aad_config *cfg, const char *user,
                                   struct aad_account *out, struct aad_error *err);

/* The same decision for facts that were looked up elsewhere (the helper
 * receives name and uid from the module). */
enum aad_status aad_account_check(const struct aad_config *cfg, const struct aad_account *account,
                                  struct aad_error *err);

#endif
