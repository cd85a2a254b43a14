/* aad_authz.c - allowed_roles and allowed_groups, overage through Graph.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_authz.h"
#include "aad_assertion.h"
#include "aad_graph.h"
#include "aad_json.h"

#include <stdlib.h>
#include <strings.h>
#include <syslog.h>

static int list_intersects(const json_t *claim, const struct aad_strlist *allowed)
{
    size_t i;
    json_t *v;
    json_array_foreach(claim, i, v) {
        if (json_is_string(v) && aad_strlist_contains(allowed, json_string_value(v), 1))
            return 1;
    }
    return 0;
}

static int has_groups_overage(const json_t *claims)
{
    json_t *names = json_object_get(claims, "_claim_names");
    return json_is_object(names) && json_object_get(names, "groups") != NULL;
}

/* Asks Graph, by the first way that is configured (see aad_authz.h). */
static enum aad_status resolve_overage(const struct aad_config *cfg, struct aad_http *http,
                                       const json_t *claims, const char *access_token,
                                       const struct aad_log *log, const struct aad_strlist *groups,
                                       int *is_member, struct aad_error *err)
{
    if (cfg->client_certificate != NULL) {
        char *app_token = NULL;
        enum aad_status st = aad_assertion_app_token(cfg, http, &app_token, err);
        if (st == AAD_OK) {
            aad_log(log, LOG_DEBUG, "groups overage: asking Microsoft Graph as the application");
            st = aad_graph_member_groups(cfg, http, app_token, aad_json_string(claims, "oid"),
                                         groups, is_member, err);
        }
        aad_free_secret(app_token);
        return st == AAD_CONFIG_ERROR ? AAD_DENIED : st;
    }
    if (access_token != NULL && aad_scope_contains(cfg->scope, "User.Read")) {
        aad_log(log, LOG_DEBUG, "groups overage: asking Microsoft Graph with the user's token");
        return aad_graph_member_groups(cfg, http, access_token, NULL, groups, is_member, err);
    }
    return aad_fail(err, AAD_DENIED,
                    "the token lists too many groups (overage) and Graph resolution is not "
                    "configured (set client_certificate and client_key, or add User.Read to "
                    "scope): not authorized for this host");
}

enum aad_status aad_authz_member_groups(const struct aad_config *cfg, struct aad_http *http,
                                        const json_t *claims, const char *access_token,
                                        const struct aad_log *log,
                                        const struct aad_strlist *groups, int *is_member,
                                        int *listed, struct aad_error *err)
{
    json_t *claim = json_object_get(claims, "groups");
    *listed = 1;
    for (size_t g = 0; g < groups->count; g++)
        is_member[g] = 0;
    if (json_is_array(claim)) {
        size_t i;
        json_t *v;
        json_array_foreach(claim, i, v) {
            for (size_t g = 0; json_is_string(v) && g < groups->count; g++) {
                if (strcasecmp(json_string_value(v), groups->items[g]) == 0)
                    is_member[g] = 1;
            }
        }
        return AAD_OK;
    }
    if (has_groups_overage(claims))
        return resolve_overage(cfg, http, claims, access_token, log, groups, is_member, err);
    *listed = 0;
    return AAD_OK;
}

enum aad_status aad_authorize(const struct aad_config *cfg, struct aad_http *http,
                              const json_t *claims, const char *access_token,
                              const struct aad_log *log, struct aad_error *err)
{
    if (cfg->allowed_roles.count > 0) {
        json_t *roles = json_object_get(claims, "roles");
        if (!json_is_array(roles) || !list_intersects(roles, &cfg->allowed_roles))
            return aad_fail(err, AAD_DENIED,
                            "holds none of allowed_roles: not authorized for this host");
    }
    if (cfg->allowed_groups.count == 0)
        return AAD_OK;
    int *is_member = calloc(cfg->allowed_groups.count, sizeof(*is_member));
    int listed = 0, member = 0;
    if (is_member == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    enum aad_status st = aad_authz_member_groups(cfg, http, claims, access_token, log,
                                                 &cfg->allowed_groups, is_member, &listed, err);
    for (size_t g = 0; g < cfg->allowed_groups.count; g++)
        member |= is_member[g];
    free(is_member);
    if (st != AAD_OK)
        return st;
    if (!listed)
        return aad_fail(err, AAD_DENIED,
                        "the token carries no groups claim (set groupMembershipClaims on the app "
                        "registration): not authorized for this host");
    if (!member)
        return aad_fail(err, AAD_DENIED, "not in any of allowed_groups: not authorized for this host");
    return AAD_OK;
}
