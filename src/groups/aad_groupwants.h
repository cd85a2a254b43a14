/* aad_groupwants.h - what group_map says an account's local groups should
 * be, as it travels from the helper (which decided it from the verified
 * token) through the module to the group writer: text of the form
 *   "+sudo:<Entra group object ID> -docker:<Entra group object ID>"
 * ('+': a member, '-': not a member; the object ID is for the log line).
 *
 * Where it runs: in the group writer, the one process that writes /etc/group
 * and /etc/gshadow, and read-only in the login core and aad-login; libc
 * only. */
#ifndef AAD_GROUPWANTS_H
#define AAD_GROUPWANTS_H

#include <stddef.h>
#include "aad_account_name.h"
#include "aad_groupmap.h"

/* No more local groups than this in one plan (group_map's own bound). */
#define AAD_GROUP_WANTS_MAX 1024

struct aad_group_want {
    char group[AAD_ACCOUNT_NAME_MAX + 1];
    int member;
    /* the Entra group that grants it (the first one found), or, when not
     * a member, the first of those that would: for the log line */
    char entra_id[AAD_GUID_LEN + 1];
};

struct aad_group_plan {
    struct aad_group_want *wants;
    size_t count;
};

void aad_group_plan_clear(struct aad_group_plan *plan);

/* The plan as text, malloc'd ("" for an empty plan); NULL out of memory. */
char *aad_group_plan_format(const struct aad_group_plan *plan);

/* Reads text back into plan; only wants whose member flag is `which`
 * (1: grants, 0: removals, -1: both) are kept. A malformed text (a bad
 * group name or object ID, more than AAD_GROUP_WANTS_MAX) is -1 and leaves
 * plan empty; 0 otherwise. Release plan with aad_group_plan_clear. */
int aad_group_plan_parse(const char *text, int which, struct aad_group_plan *plan);

#endif
