/* aad_groupplan.c - group_map against the token's groups.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_groupplan.h"
#include "aad_authz.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static struct aad_group_want *want_for(struct aad_group_plan *plan, const char *group)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (strcmp(plan->wants[i].group, group) == 0)
            return &plan->wants[i];
    }
    struct aad_group_want *w = &plan->wants[plan->count++];
    memset(w, 0, sizeof(*w));
    memcpy(w->group, group, sizeof(w->group));
    return w;
}

/* One entry per local group: a member when any of its Entra groups shows. */
static enum aad_status decide(const struct aad_group_map *map, const struct aad_strlist *ids,
                              const int *is_member, struct aad_group_plan *plan,
                              struct aad_error *err)
{
    plan->wants = calloc(map->count, sizeof(*plan->wants));
    if (plan->wants == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    for (size_t l = 0; l < map->count; l++) {
        const struct aad_group_map_line *line = &map->lines[l];
        int member = 0;
        for (size_t i = 0; i < ids->count; i++) {
            if (strcmp(ids->items[i], line->entra_id) == 0)
                member = is_member[i];
        }
        struct aad_group_want *w = want_for(plan, line->group);
        if (member && !w->member) {
            w->member = 1;
            memcpy(w->entra_id, line->entra_id, sizeof(w->entra_id));
        } else if (w->entra_id[0] == '\0') {
            memcpy(w->entra_id, line->entra_id, sizeof(w->entra_id));
        }
    }
    return AAD_OK;
}

enum aad_status aad_group_plan_make(const struct aad_config *cfg, struct aad_http *http,
                                    const json_t *claims, const char *access_token,
                                    const struct aad_log *log, struct aad_group_plan *plan,
                                    struct aad_error *err)
{
    memset(plan, 0, sizeof(*plan));
    if (cfg->group_map == NULL)
        return AAD_OK;
    struct aad_group_map map;
    enum aad_status st = aad_group_map_read(cfg, log, &map, err);
    struct aad_strlist ids = {NULL, 0};
    for (size_t l = 0; st == AAD_OK && l < map.count; l++) {
        if (!aad_strlist_contains(&ids, map.lines[l].entra_id, 1) &&
            aad_strlist_add(&ids, map.lines[l].entra_id, AAD_GUID_LEN) != 0)
            st = aad_fail(err, AAD_DENIED, "out of memory");
    }
    int *is_member = st == AAD_OK ? calloc(ids.count + 1, sizeof(*is_member)) : NULL;
    if (st == AAD_OK && is_member == NULL)
        st = aad_fail(err, AAD_DENIED, "out of memory");
    int listed = 1;
    if (st == AAD_OK && ids.count > 0)
        st = aad_authz_member_groups(cfg, http, claims, access_token, log, &ids, is_member,
                                     &listed, err);
    if (st == AAD_OK && !listed)
        aad_log(log, LOG_WARNING,
                "group_map: the token carries no groups claim (groupMembershipClaims not set on "
                "the app registration?): the account is in none of the mapped groups");
    if (st == AAD_OK)
        st = decide(&map, &ids, is_member, plan, err);
    if (st != AAD_OK)
        aad_group_plan_clear(plan);
    free(is_member);
    aad_strlist_clear(&ids);
    aad_group_map_clear(&map);
    return st;
}
