/* group_preview.h - what aad-login prints about group_map.
 *
 * aad-login is a dry run for local groups: it shows the changes the same
 * login through pam_aad.so would make, and never writes /etc/group (it
 * is a diagnostic an administrator runs to test a configuration or an
 * identity; the changes are made only by the helper's confined writer).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef GROUP_PREVIEW_H
#define GROUP_PREVIEW_H

#include "aad_login.h"

/* Prints one line per local group of id->groups (nothing without group_map). */
void group_preview_print(const struct aad_identity *id, int allow_root);

#endif
