/* aad_graph.c - group membership through Microsoft Graph.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_graph.h"
#include "aad_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* checkMemberGroups takes at most 20 group IDs per call. */
#define GROUPS_PER_CALL 20

static enum aad_status check_batch(struct aad_http *http, const char *url, const char *bearer,
                                   const struct aad_strlist *groups, size_t first, size_t count,
                                   int *is_member, struct aad_error *err)
{
    json_t *ids = json_array();
    for (size_t i = first; i < first + count; i++)
        json_array_append_new(ids, json_string(groups->items[i]));
    json_t *req = json_pack("{s:o}", "groupIds", ids);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");

    struct aad_http_response resp;
    struct aad_error net = {0};
    enum aad_status st = aad_http_post_json(http, url, bearer, body, &resp, &net);
    free(body);
    if (st != AAD_OK)
        return aad_fail(err, AAD_DENIED, "group membership could not be checked: %s", net.message);
    json_t *answer = resp.is_json ? aad_json_parse_object(resp.body, resp.len, AAD_HTTP_MAX_BODY) : NULL;
    long status = resp.status, retry_after = resp.retry_after;
    aad_http_response_clear(&resp);
    json_t *value = json_object_get(answer, "value");
    if (status != 200 || !json_is_array(value)) {
        json_decref(answer);
        if (status == 429)
            return aad_fail(err, AAD_DENIED,
                            "group membership could not be checked: Microsoft Graph is throttling "
                            "(retry after %ld s)", retry_after);
        return aad_fail(err, AAD_DENIED,
                        "group membership could not be checked: Microsoft Graph answered HTTP %ld", status);
    }
    size_t i;
    json_t *v;
    /* Graph returns the subset of the asked IDs the user belongs to; only
     * an ID we asked about counts. */
    json_array_foreach(value, i, v) {
        for (size_t g = first; json_is_string(v) && g < first + count; g++) {
            if (strcasecmp(json_string_value(v), groups->items[g]) == 0)
                is_member[g] = 1;
        }
    }
    json_decref(answer);
    return AAD_OK;
}

enum aad_status aad_graph_member_groups(const struct aad_config *cfg, struct aad_http *http,
                                       const char *bearer, const char *user_oid,
                                       const struct aad_strlist *groups, int *is_member,
                                       struct aad_error *err)
{
    char url[1024];
    if (user_oid != NULL)
        snprintf(url, sizeof(url), "%s/v1.0/users/%s/checkMemberGroups", cfg->graph_endpoint,
                 user_oid);
    else
        snprintf(url, sizeof(url), "%s/v1.0/me/checkMemberGroups", cfg->graph_endpoint);
    for (size_t g = 0; g < groups->count; g++)
        is_member[g] = 0;
    for (size_t first = 0; first < groups->count; first += GROUPS_PER_CALL) {
        size_t count = groups->count - first < GROUPS_PER_CALL ? groups->count - first : GROUPS_PER_CALL;
        enum aad_status st = check_batch(http, url, bearer, groups, first, count, is_member, err);
        if (st != AAD_OK)
            return st;
    }
    return AAD_OK;
}
