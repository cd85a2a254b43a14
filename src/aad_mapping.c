/* aad_mapping.c - from a verified Entra identity to a local account name. */
#include "config.h"

#include "aad_mapping.h"
#include "aad_safefile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define USER_MAP_MAX_BYTES (1024 * 1024)
#define ACCOUNT_NAME_MAX AAD_ACCOUNT_NAME_MAX
#define UPN_MAX 256

struct map_result {
    char by_oid[ACCOUNT_NAME_MAX + 1];
    char by_upn[ACCOUNT_NAME_MAX + 1];
    int oid_conflict, upn_conflict;
    struct aad_strlist pinned; /* every account named in an oid: line */
};

static void remember(char *slot, int *conflict, const char *local)
{
    size_t n = strlen(local);
    if (n > ACCOUNT_NAME_MAX)
        return;
    if (slot[0] == '\0')
        memcpy(slot, local, n + 1);
    else if (strcmp(slot, local) != 0)
        *conflict = 1;
}

/* One pass over user_map: which accounts the oid and the UPN map to, and
 * which accounts are pinned to some object ID. */
static enum aad_status read_user_map(const char *path, const char *upn, const char *oid,
                                     struct map_result *r, struct aad_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enum aad_status st = aad_safefile_read(path, USER_MAP_MAX_BYTES, &text, &len, err);
    if (st != AAD_OK)
        return st;
    int lineno = 0;
    for (char *line = text; line != NULL && st == AAD_OK;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        /* '#' starts a comment only after white space: guest UPNs hold "#EXT#". */
        for (char *hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
            if (hash == line || isspace((unsigned char)hash[-1])) {
                *hash = '\0';
                break;
            }
        }
        char local[ACCOUNT_NAME_MAX + 2], key[UPN_MAX + 8], extra[2];
        int n = sscanf(line, "%33s %263s %1s", local, key, extra);
        if (n == 2 && aad_is_valid_account_name(local) && strlen(key) <= UPN_MAX + 4) {
            if (strncasecmp(key, "oid:", 4) == 0) {
                if (!aad_is_guid(key + 4))
                    st = aad_fail(err, AAD_CONFIG_ERROR, "%s:%d: '%s' is not oid:<guid>", path,
                                  lineno, key);
                else if (strcasecmp(key + 4, oid) == 0)
                    remember(r->by_oid, &r->oid_conflict, local);
                if (st == AAD_OK && !aad_strlist_contains(&r->pinned, local, 0) &&
                    aad_strlist_add(&r->pinned, local, strlen(local)) != 0)
                    st = aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
            } else if (upn != NULL && strcasecmp(key, upn) == 0) {
                remember(r->by_upn, &r->upn_conflict, local);
            }
        } else if (n > 0 && n != EOF) {
            st = aad_fail(err, AAD_CONFIG_ERROR, "%s:%d: expected 'localname upn-or-oid:<guid>'",
                          path, lineno);
        }
        line = next;
    }
    free(text);
    return st;
}

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

enum aad_status aad_map_identity(const struct aad_config *cfg, const char *upn, const char *oid,
                                 char **local_out, struct aad_error *err)
{
    if (upn != NULL && (strlen(upn) > UPN_MAX || !aad_is_printable_token(upn, UPN_MAX)))
        return aad_fail(err, AAD_DENIED, "the token's %s is not a plain ASCII name",
                        cfg->user_claim);
    struct map_result r = {{0}, {0}, 0, 0, {NULL, 0}};
    char local[ACCOUNT_NAME_MAX + 1] = "";
    enum aad_status st = AAD_OK;
    if (cfg->user_map != NULL)
        st = read_user_map(cfg->user_map, upn, oid, &r, err);
    if (st == AAD_OK && (r.oid_conflict || (r.by_oid[0] == '\0' && r.upn_conflict)))
        st = aad_fail(err, AAD_DENIED, "user_map maps this identity to more than one account");
    if (st == AAD_OK) {
        if (r.by_oid[0] != '\0')
            snprintf(local, sizeof(local), "%s", r.by_oid);
        else if (r.by_upn[0] != '\0')
            snprintf(local, sizeof(local), "%s", r.by_upn);
        else
            st = from_domains(cfg, upn, local, err);
    }
    if (st == AAD_OK && !aad_is_valid_account_name(local))
        st = aad_fail(err, AAD_DENIED, "'%.64s' is not a valid local account name", local);
    /* An account pinned to an object ID accepts that object ID only. */
    if (st == AAD_OK && r.by_oid[0] == '\0' && aad_strlist_contains(&r.pinned, local, 0))
        st = aad_fail(err, AAD_DENIED, "account %s is pinned to another object ID in user_map", local);
    aad_strlist_clear(&r.pinned);
    if (st != AAD_OK)
        return st;
    if ((*local_out = strdup(local)) == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    return AAD_OK;
}
