/* aad_groupmap.h - reading group_map, the administrator's list of
 * "<Entra group object ID>  <local group>" lines.
 *
 * Several Entra groups may grant the same local group and one Entra group
 * may grant several. Only object IDs are accepted: a display name can be
 * chosen by anyone who may create a group (CVE-2025-49012), so a line whose
 * first word is not a GUID is ignored with a warning, as is a local group
 * name that is not a plain POSIX-style name. The file follows the safe-file
 * rules of user_map (aad_safefile.h); an unsafe or unreadable file is a
 * configuration error.
 *
 * Where it runs: in the group writer, the one process that writes /etc/group
 * and /etc/gshadow, and read-only in the login core and aad-login; libc
 * only. */
#ifndef AAD_GROUPMAP_H
#define AAD_GROUPMAP_H

#include <stddef.h>
#include "aad_account_name.h"
#include "aad_base.h"
#include "aad_config.h"

#define AAD_GUID_LEN 36

struct aad_group_map_line {
    char entra_id[AAD_GUID_LEN + 1];         /* lower case */
    char group[AAD_ACCOUNT_NAME_MAX + 1];    /* the local group, as written */
};

struct aad_group_map {
    struct aad_group_map_line *lines;
    size_t count;
};

/* Reads cfg's group_map (as read ahead, else from disk) into map; ignored
 * lines are reported through log (may be NULL). Release map with
 * aad_group_map_clear, whatever the result. */
enum aad_status aad_group_map_read(const struct aad_config *cfg, const struct aad_log *log,
                                   struct aad_group_map *map, struct aad_error *err);
void aad_group_map_clear(struct aad_group_map *map);

/* True when a line of map names the local group. */
int aad_group_map_names(const struct aad_group_map *map, const char *group);

#endif
