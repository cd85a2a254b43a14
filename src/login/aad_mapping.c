/* aad_mapping.c - from a verified Entra identity to a local account name.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_mapping.h"
#include "aad_usermap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACCOUNT_NAME_MAX AAD_ACCOUNT_NAME_MAX
#define UPN_MAX 256

static enum aad_status from_domains(const struct aad_config *cfg, const char *upn, char *local,
                                    struct aad_error *err)
{
    const char *at = upn ? strrchr(upn, '@') : NULL;
    if (at == NULL || at == upn)
        return aad_fail(err, AAD_DENIED, "the token's %s is not a user@domain name",
                        cfg->user_claim);
    if (!aad_strlist_contains(&cfg->domains, at + 1, 1))
        return aad_fail(err, AAD_DENIED, "the domain of %.200s is not accepted on this host", upn);
    size_t n = (size_t)(at - upn);
    if (n > ACCOUNT_NAME_MAX)
        return aad_fail(err, AAD_DENIED, "the user name in %.200s is too long for an account", upn);
    for (size_t i = 0; i < n; i++)
        local[i] = (char)tolower((unsigned char)upn[i]);
    local[n] = '\0';
    return AAD_OK;
}

/* Rules 1-3 and the user_map reservations: the name, and whether it came
 * from `domains`. */
static enum aad_status map_name(const struct aad_config *cfg, const char *upn, const char *oid,
                                char local[ACCOUNT_NAME_MAX + 1], int *by_domains,
                                struct aad_error *err)
{
    if (upn != NULL && (strlen(upn) > UPN_MAX || !aad_is_printable_token(upn, UPN_MAX)))
        return aad_fail(err, AAD_DENIED, "the token's %s is not a plain ASCII name",
                        cfg->user_claim);
    struct aad_user_map r;
    enum aad_status st = AAD_OK;
    local[0] = '\0';
    *by_domains = 0;
    memset(&r, 0, sizeof(r));
    if (cfg->user_map != NULL)
        st = aad_user_map_read(cfg, upn, oid, &r, err);
    if (st == AAD_OK && (r.oid_conflict || (r.by_oid[0] == '\0' && r.upn_conflict)))
        st = aad_fail(err, AAD_DENIED, "user_map maps this identity to more than one account");
    if (st == AAD_OK) {
        if (r.by_oid[0] != '\0')
            snprintf(local, ACCOUNT_NAME_MAX + 1, "%s", r.by_oid);
        else if (r.by_upn[0] != '\0')
            snprintf(local, ACCOUNT_NAME_MAX + 1, "%s", r.by_upn);
        else if ((st = from_domains(cfg, upn, local, err)) == AAD_OK)
            *by_domains = 1;
    }
    if (st == AAD_OK && !aad_is_valid_account_name(local))
        st = aad_fail(err, AAD_DENIED, "'%.64s' is not a valid local account name", local);
    /* An account pinned to an object ID accepts that object ID only. */
    if (st == AAD_OK && r.by_oid[0] == '\0' && aad_strlist_contains(&r.pinned, local, 0))
        st = aad_fail(err, AAD_DENIED, "account %s is pinned to another object ID in user_map", local);
    /* An account named in user_map is for the identities listed there. */
    if (st == AAD_OK && *by_domains && aad_strlist_contains(&r.named, local, 0))
        st = aad_fail(err, AAD_DENIED, "account %s is reserved in user_map for other identities",
                      local);
    aad_user_map_clear(&r);
    return st;
}

enum aad_status aad_map_identity(const struct aad_config *cfg, const struct aad_account *account,
                                 const char *upn, const char *oid, char **local_out,
                                 struct aad_error *err)
{
    char local[ACCOUNT_NAME_MAX + 1];
    int by_domains = 0;
    enum aad_status st = map_name(cfg, upn, oid, local, &by_domains, err);
    /* System accounts: only a user_map line reaches them. */
    if (st == AAD_OK && by_domains && strcmp(local, account->name) == 0 &&
        account->uid < (unsigned long)cfg->min_uid)
        st = aad_fail(err, AAD_DENIED,
                      "account %s has uid %lu, below min_uid %ld: only a user_map line can map to it",
                      local, account->uid, cfg->min_uid);
    if (st != AAD_OK)
        return st;
    if ((*local_out = strdup(local)) == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    return AAD_OK;
}

enum aad_status aad_map_name(const struct aad_config *cfg, const char *upn, const char *oid,
                             char *local, size_t size, struct aad_error *err)
{
    char name[ACCOUNT_NAME_MAX + 1];
    int by_domains = 0;
    enum aad_status st = map_name(cfg, upn, oid, name, &by_domains, err);
    if (st == AAD_OK)
        snprintf(local, size, "%s", name);
    return st;
}
