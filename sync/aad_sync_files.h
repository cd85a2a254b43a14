/* aad_sync_files.h - the accounts the sync keeps, written as the files of
 * libnss-extrausers (passwd, group, shadow in /var/lib/extrausers, which
 * nsswitch.conf lists after "files"), never /etc/passwd:
 *
 *   passwd  NAME:x:UID:UID:UPN:/home/NAME:SHELL   (locked: /usr/sbin/nologin)
 *   group   NAME:x:UID:                           (each account's own group)
 *   shadow  NAME:!:::::::                         (locked: NAME:!::::::1: expired)
 *
 * The password field is locked: these accounts sign in through Entra ID
 * only. Lines of names the sync does not manage are kept as they are.
 * The three new files are written and flushed beside the old ones before
 * any is renamed over its old one (aad_sync_write.h), so that a failed
 * write (a full disk) changes none; then in the order group, shadow,
 * passwd, so that an account appears last and is locked first.
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_FILES_H
#define AAD_SYNC_FILES_H

#include <jansson.h>

#include "aad_base.h"
#include "aad_sync_plan.h"

#define AAD_SYNC_LOCKED_SHELL "/usr/sbin/nologin"
/* The largest extrausers file read back (the lines of others are kept). */
#define AAD_SYNC_FILE_MAX_BYTES (64L * 1024 * 1024)

/* Writes dir's three files from accounts (the state's "accounts"); names
 * the plan removed are dropped too. Failures (AAD_UNAVAILABLE) leave the
 * old files (only a failing rename, after the others, could leave one
 * file new and the next old, each whole). */
enum aad_status aad_sync_files_write(const char *dir, const json_t *accounts,
                                     const struct aad_sync_plan *plan, const char *shell,
                                     struct aad_error *err);

#endif
