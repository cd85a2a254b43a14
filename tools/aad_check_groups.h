/* aad_check_groups.h - `aad-login --check`: group_map's lines, each
 * checked as the group writer will use it: the local group must exist in
 * the group file (groups are never created), and one with gid 0 is
 * touched only with allow_root.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_GROUPS_H
#define AAD_CHECK_GROUPS_H

#include "aad_check_report.h"
#include "aad_config.h"

/* group_file: the file the group writer edits (/etc/group). */
void aad_check_groups(struct aad_check_report *r, const struct aad_config *cfg,
                      const char *group_file);

#endif
