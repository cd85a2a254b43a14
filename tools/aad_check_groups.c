/* aad_check_groups.c - `aad-login --check`: group_map's lines against the
 * group file.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_groups.h"
#include "aad_groupmap.h"

#include <grp.h>
#include <stdio.h>
#include <string.h>

/* The gid of group in the group file: 1 found, 0 not there, -1 unreadable. */
static int gid_in_file(const char *group_file, const char *group, gid_t *gid)
{
    FILE *f = fopen(group_file, "re");
    if (f == NULL)
        return -1;
    struct group *g;
    int found = 0;
    while (!found && (g = fgetgrent(f)) != NULL) {
        if (strcmp(g->gr_name, group) == 0) {
            *gid = g->gr_gid;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static void check_line(struct aad_check_report *r, const struct aad_config *cfg,
                       const char *group_file, const struct aad_group_map_line *l)
{
    char line[512], hint[512];
    gid_t gid = 0;
    int found = gid_in_file(group_file, l->group, &gid);
    if (found < 0) {
        snprintf(line, sizeof(line), "%s -> %s: %s cannot be read", l->entra_id, l->group,
                 group_file);
        aad_check_say(r, "group_map", CHECK_SKIP, AAD_OK, NULL, line, NULL);
    } else if (found == 0) {
        snprintf(line, sizeof(line),
                 "%s -> %s: no local group %s in %s (pam_aad never creates groups: this line "
                 "does nothing)",
                 l->entra_id, l->group, l->group, group_file);
        snprintf(hint, sizeof(hint),
                 "Create the group first ('groupadd %s'), or fix its name in %s.", l->group,
                 cfg->group_map);
        aad_check_say(r, "group_map", CHECK_FAIL, AAD_CONFIG_ERROR, "group_map_group", line,
                      hint);
    } else if (gid == 0 && !cfg->allow_root) {
        snprintf(line, sizeof(line),
                 "%s -> %s: gid 0 (root's group), which pam_aad touches only with allow_root = "
                 "yes: this line does nothing",
                 l->entra_id, l->group);
        aad_check_say(r, "group_map", CHECK_FAIL, AAD_CONFIG_ERROR, "group_map_gid0", line,
                      "Map the Entra group to another local group (e.g. sudo), or set "
                      "allow_root = yes if members are to hold gid 0.");
    } else {
        snprintf(line, sizeof(line), "%s -> %s (gid %lu)", l->entra_id, l->group,
                 (unsigned long)gid);
        aad_check_say(r, "group_map", CHECK_OK, AAD_OK, NULL, line, NULL);
    }
}

/* A line group_map ignores (not an object ID, not a group name). */
static void ignored_line(void *ctx, int priority, const char *message)
{
    (void)priority;
    aad_check_say(ctx, "group_map", CHECK_WARN, AAD_OK, NULL, message, NULL);
}

void aad_check_groups(struct aad_check_report *r, const struct aad_config *cfg,
                      const char *group_file)
{
    struct aad_log log = {ignored_line, r, 0};
    if (cfg->group_map == NULL)
        return;
    struct aad_group_map map = {0};
    struct aad_error err = {0};
    if (aad_group_map_read(cfg, &log, &map, &err) != AAD_OK) {
        aad_check_say(r, "group_map", CHECK_FAIL, AAD_CONFIG_ERROR, "group_map", err.message,
                      "Each line is '<Entra group object ID> <local group>'; the file must be "
                      "root's and not writable by group or others.");
    } else if (map.count == 0) {
        aad_check_say(r, "group_map", CHECK_WARN, AAD_OK, NULL,
                      "no usable line: group_map changes no membership",
                      "Each line is '<Entra group object ID> <local group>' (object IDs only).");
    }
    for (size_t i = 0; i < map.count; i++)
        check_line(r, cfg, group_file, &map.lines[i]);
    aad_group_map_clear(&map);
}
