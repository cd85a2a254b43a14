/* aad_strlist.c - a list of strings.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_strlist.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void aad_strlist_clear(struct aad_strlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int aad_strlist_add(struct aad_strlist *list, const char *s, size_t len)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    list->items = grown;
    if ((list->items[list->count] = strndup(s, len)) == NULL)
        return -1;
    list->count++;
    return 0;
}

int aad_strlist_contains(const struct aad_strlist *list, const char *s, int nocase)
{
    for (size_t i = 0; i < list->count; i++) {
        if ((nocase ? strcasecmp : strcmp)(list->items[i], s) == 0)
            return 1;
    }
    return 0;
}

/* Splits on commas and white space; an empty list is allowed (clears it). */
int aad_strlist_parse(const char *value, struct aad_strlist *list)
{
    aad_strlist_clear(list);
    const char *p = value;
    while (*p != '\0') {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        if (aad_strlist_add(list, p, n) != 0)
            return -1;
        p += n;
    }
    return 0;
}

void aad_strlist_join(const struct aad_strlist *list, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < list->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", list->items[i]);
}
