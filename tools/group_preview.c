/* group_preview.c - aad-login's dry run of group_map.
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "group_preview.h"
#include "aad_groupfile.h"

#include <stdio.h>
#include <stdlib.h>

void group_preview_print(const struct aad_identity *id, int allow_root)
{
    const struct aad_group_plan *plan = &id->groups;
    if (plan->count == 0)
        return;
    struct aad_group_change *changes = calloc(plan->count, sizeof(*changes));
    if (changes == NULL)
        return;
    for (size_t i = 0; i < plan->count; i++) {
        changes[i].group = plan->wants[i].group;
        changes[i].member = plan->wants[i].member;
    }
    struct aad_error err = {0};
    enum aad_status st = aad_groupfile_preview(AAD_GROUPFILE_DIR, id->local_user, changes,
                                               plan->count, allow_root, &err);
    printf("  local groups (group_map; dry run, aad-login changes nothing):\n");
    if (st != AAD_OK)
        printf("    cannot tell: %s\n", err.message);
    for (size_t i = 0; st == AAD_OK && i < plan->count; i++) {
        const struct aad_group_want *w = &plan->wants[i];
        switch (changes[i].outcome) {
        case AAD_GROUP_ADDED:
            printf("    would add to %s (Entra group %s)\n", w->group, w->entra_id);
            break;
        case AAD_GROUP_REMOVED:
            printf("    would remove from %s (not in Entra group %s nor any other mapped to it)\n",
                   w->group, w->entra_id);
            break;
        case AAD_GROUP_UNCHANGED:
            printf("    %s %s (Entra group %s)\n", w->member ? "stays in" : "stays out of",
                   w->group, w->entra_id);
            break;
        default:
            printf("    %s left alone: %s\n", w->group, aad_group_outcome_name(changes[i].outcome));
        }
    }
    free(changes);
}
