/* aad_groupmap.c - reading group_map.
 * Where it runs: in the group writer, the one process that writes /etc/group
 * and /etc/gshadow, and read-only in the login core and aad-login; libc
 * only. */
#include "config.h"

#include "aad_groupmap.h"
#include "aad_safefile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define GROUP_MAP_MAX_LINES 4096

static int add_line(struct aad_group_map *map, const char *id, const char *group)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->lines[i].entra_id, id) == 0 && strcmp(map->lines[i].group, group) == 0)
            return 0; /* the same line twice */
    }
    struct aad_group_map_line *grown = realloc(map->lines, (map->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    map->lines = grown;
    struct aad_group_map_line *l = &map->lines[map->count++];
    for (size_t i = 0; i <= AAD_GUID_LEN; i++)
        l->entra_id[i] = (char)tolower((unsigned char)id[i]);
    size_t n = strlen(group); /* a valid name: at most AAD_ACCOUNT_NAME_MAX */
    memcpy(l->group, group, n + 1);
    return 0;
}

struct reading {
    const char *path;
    const struct aad_log *log;
    struct aad_group_map *map;
};

static enum aad_status read_line(void *ctx, int lineno, char *line, struct aad_error *err)
{
    struct reading *rd = ctx;
    char id[64], group[AAD_ACCOUNT_NAME_MAX + 2], extra[2];
    int n = sscanf(line, "%63s %33s %1s", id, group, extra);
    if (n <= 0) /* blank (EOF is negative) */
        return AAD_OK;
    if (n != 2)
        aad_log(rd->log, LOG_WARNING,
                "%s:%d: expected '<Entra group object ID> <local group>': line ignored", rd->path,
                lineno);
    else if (!aad_is_guid(id))
        aad_log(rd->log, LOG_WARNING,
                "%s:%d: '%.64s' is not an Entra group object ID (display names are refused): "
                "line ignored", rd->path, lineno, id);
    else if (!aad_is_valid_account_name(group))
        aad_log(rd->log, LOG_WARNING, "%s:%d: '%.33s' is not a valid local group name: line ignored",
                rd->path, lineno, group);
    else if (rd->map->count >= GROUP_MAP_MAX_LINES)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: more than %d lines", rd->path,
                        GROUP_MAP_MAX_LINES);
    else if (add_line(rd->map, id, group) != 0)
        return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    return AAD_OK;
}

enum aad_status aad_group_map_read(const struct aad_config *cfg, const struct aad_log *log,
                                   struct aad_group_map *map, struct aad_error *err)
{
    memset(map, 0, sizeof(*map));
    struct reading rd = {cfg->group_map, log, map};
    return aad_safefile_each_line_via(&cfg->preread, cfg->group_map, AAD_GROUP_MAP_MAX_BYTES,
                                      read_line, &rd, err);
}

void aad_group_map_clear(struct aad_group_map *map)
{
    free(map->lines);
    memset(map, 0, sizeof(*map));
}

int aad_group_map_names(const struct aad_group_map *map, const char *group)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->lines[i].group, group) == 0)
            return 1;
    }
    return 0;
}
