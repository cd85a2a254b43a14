/* pam_stack_file.c - reading a PAM stack file for `aad-login --check`.
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "pam_stack_file.h"

#include <stdio.h>
#include <string.h>

#define INCLUDE_DEPTH_MAX 4

static int names(const char *path, const char *type, const char *module, int depth)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        const char *p = line + strspn(line, " \t");
        if (*p == '#')
            continue;
        if (strncmp(p, "@include", 8) == 0) {
            char name[256] = "", included[1024];
            const char *slash = strrchr(path, '/');
            if (depth < INCLUDE_DEPTH_MAX && sscanf(p + 8, " %255s", name) == 1 &&
                strchr(name, '/') == NULL) {
                snprintf(included, sizeof(included), "%.*s/%s",
                         slash ? (int)(slash - path) : 1, slash ? path : ".", name);
                found = names(included, type, module, depth + 1);
            }
            continue;
        }
        if (*p == '-')
            p++; /* "-session": a module that may be missing */
        size_t tlen = type ? strlen(type) : 0;
        if (type != NULL && (strncmp(p, type, tlen) != 0 || (p[tlen] != ' ' && p[tlen] != '\t')))
            continue;
        found = strstr(p, module) != NULL;
    }
    fclose(f);
    return found;
}

int pam_stack_names(const char *path, const char *type, const char *module)
{
    return names(path, type, module, 0);
}
