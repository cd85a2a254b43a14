/* aad_groupwants.c - group_map's plan as text between processes.
 * Where it runs: in the group writer, the one process that writes /etc/group
 * and /etc/gshadow, and read-only in the login core and aad-login; libc
 * only. */
#include "config.h"

#include "aad_groupwants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aad_group_plan_clear(struct aad_group_plan *plan)
{
    free(plan->wants);
    plan->wants = NULL;
    plan->count = 0;
}

char *aad_group_plan_format(const struct aad_group_plan *plan)
{
    size_t size = plan->count * (AAD_ACCOUNT_NAME_MAX + AAD_GUID_LEN + 3) + 1, used = 0;
    char *text = malloc(size);
    if (text == NULL)
        return NULL;
    text[0] = '\0';
    for (size_t i = 0; i < plan->count && used < size; i++) {
        const struct aad_group_want *w = &plan->wants[i];
        used += (size_t)snprintf(text + used, size - used, "%s%c%s:%s", i ? " " : "",
                                 w->member ? '+' : '-', w->group, w->entra_id);
    }
    return text;
}

/* One "+group:guid" word into w; 0, or -1 when malformed. */
static int parse_want(const char *word, size_t len, struct aad_group_want *w)
{
    const char *colon = memchr(word, ':', len);
    if (len < 2 || (word[0] != '+' && word[0] != '-') || colon == NULL)
        return -1;
    size_t glen = (size_t)(colon - word - 1), ilen = len - (size_t)(colon - word) - 1;
    if (glen == 0 || glen > AAD_ACCOUNT_NAME_MAX || ilen != AAD_GUID_LEN)
        return -1;
    memset(w, 0, sizeof(*w));
    w->member = word[0] == '+';
    memcpy(w->group, word + 1, glen);
    memcpy(w->entra_id, colon + 1, ilen);
    return aad_is_valid_account_name(w->group) && aad_is_guid(w->entra_id) ? 0 : -1;
}

int aad_group_plan_parse(const char *text, int which, struct aad_group_plan *plan)
{
    plan->wants = NULL;
    plan->count = 0;
    size_t words = 0;
    for (const char *p = text; *p != '\0'; p++)
        words += *p != ' ' && (p == text || p[-1] == ' ');
    if (words > AAD_GROUP_WANTS_MAX)
        return -1;
    if (words > 0 && (plan->wants = calloc(words, sizeof(*plan->wants))) == NULL)
        return -1;
    for (const char *p = text; *p != '\0';) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        struct aad_group_want w;
        if (parse_want(p, len, &w) != 0) {
            aad_group_plan_clear(plan);
            return -1;
        }
        if (which < 0 || w.member == which)
            plan->wants[plan->count++] = w;
        p += len;
    }
    return 0;
}
