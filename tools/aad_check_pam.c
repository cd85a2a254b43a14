/* aad_check_pam.c - `aad-login --check`: a module in a PAM stack (pam_aad
 * in auth, pam_loginuid in session), includes followed.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_pam.h"

#include <stdio.h>
#include <string.h>

/* libpam nests no deeper than this either (PAM_SUBSTACK_MAX_LEVEL 16). */
#define MAX_DEPTH 8

/* The file an include names: beside the including file, as libpam looks. */
static void beside(const char *path, const char *name, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (name[0] == '/' || slash == NULL)
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%.*s/%s", (int)(slash - path), path, name);
}

static int uses(const char *path, const char *kind, const char *name, int depth, char *via,
                size_t via_size)
{
    FILE *f = depth < MAX_DEPTH ? fopen(path, "re") : NULL;
    if (f == NULL)
        return 0;
    char line[1024], next[1024];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        char type[64] = "", control[256] = "", module[512] = "";
        line[strcspn(line, "#")] = '\0';
        if (sscanf(line, " @include %511s", module) == 1) {
            beside(path, module, next, sizeof(next));
            found = uses(next, kind, name, depth + 1, via, via_size);
            continue;
        }
        if (sscanf(line, " %63s %255s %511s", type, control, module) != 3)
            continue;
        /* "-auth" is "auth" that tolerates a missing module. */
        if (strcmp(type[0] == '-' ? type + 1 : type, kind) != 0)
            continue;
        if (control[0] == '[') {
            /* "[a=b c=d] module": the bracket may hold spaces. */
            const char *close = strchr(line, ']');
            if (close == NULL || sscanf(close + 1, " %511s", module) != 1)
                continue;
        } else if (strcmp(control, "include") == 0 || strcmp(control, "substack") == 0) {
            beside(path, module, next, sizeof(next));
            found = uses(next, kind, name, depth + 1, via, via_size);
            continue;
        }
        found = strstr(module, name) != NULL;
        if (found && via != NULL)
            snprintf(via, via_size, "%s", path);
    }
    fclose(f);
    return found;
}

int aad_check_pam_runs(const char *path, const char *kind, const char *name, char *via,
                       size_t via_size)
{
    if (via != NULL && via_size > 0)
        via[0] = '\0';
    return uses(path, kind, name, 0, via, via_size);
}

int aad_check_pam_uses_pam_aad(const char *path, char *via, size_t via_size)
{
    return aad_check_pam_runs(path, "auth", "pam_aad", via, via_size);
}
