/* aad_account.c - the local account's facts, and who pam_aad may log in.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_account.h"
#include "aad_usermap.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define ACCOUNT_BUFFER_MAX (1024 * 1024)

enum aad_status aad_account_check(const struct aad_config *cfg, const struct aad_account *account,
                                  struct aad_error *err)
{
    if (!aad_is_valid_account_name(account->name))
        return aad_fail(err, AAD_USER_UNKNOWN, "no such local account");
    if (account->uid == 0 && !cfg->allow_root)
        return aad_fail(err, AAD_IGNORE, "account %s has uid 0 and allow_root is off",
                        account->name);
    char outside[64] = "";
    if (account->uid < (unsigned long)cfg->min_uid)
        snprintf(outside, sizeof(outside), "below min_uid %ld", cfg->min_uid);
    else if (account->uid == (unsigned long)cfg->overflow_uid)
        snprintf(outside, sizeof(outside), "the overflow uid (nobody's)");
    else if (account->uid > (unsigned long)cfg->uid_max &&
             !aad_config_is_provisioned_uid(cfg, account->uid)) /* aad-login sync's range */
        snprintf(outside, sizeof(outside), "above UID_MAX %ld", cfg->uid_max);
    if (outside[0] == '\0')
        return AAD_OK;
    /* A system account, nobody, or one outside the range of people:
     * reachable through an explicit user_map line only. */
    int named = 0;
    enum aad_status st = aad_user_map_names(cfg, account->name, &named, err);
    if (st == AAD_OK && !named)
        st = aad_fail(err, AAD_IGNORE, "account %s has uid %lu, %s, and no user_map line names it",
                      account->name, account->uid, outside);
    return st;
}

enum aad_status aad_account_lookup(const struct aad_config *cfg, const char *user,
                                   struct aad_account *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    if (user == NULL || !aad_is_valid_account_name(user))
        return aad_fail(err, AAD_USER_UNKNOWN, "no such local account");
    /* Directory entries (sssd, LDAP) can outgrow a small buffer: grow it,
     * to a bound. A failing name service is not "no such account". */
    struct passwd pw, *found = NULL;
    size_t size = 4096;
    char *buf = NULL;
    int rc = ERANGE;
    while (rc == ERANGE && size <= ACCOUNT_BUFFER_MAX) {
        char *bigger = realloc(buf, size);
        if (bigger == NULL) {
            rc = ENOMEM;
            break;
        }
        buf = bigger;
        rc = getpwnam_r(user, &pw, buf, size, &found);
        size *= 4;
    }
    if (rc == 0 && found != NULL) {
        snprintf(out->name, sizeof(out->name), "%s", user);
        out->uid = (unsigned long)found->pw_uid;
    }
    free(buf);
    if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM)
        return aad_fail(err, AAD_UNAVAILABLE, "the name service cannot look up %s: %s", user,
                        strerror(rc));
    if (rc != 0 || found == NULL)
        return aad_fail(err, AAD_USER_UNKNOWN, "no local account %s", user);
    return aad_account_check(cfg, out, err);
}
