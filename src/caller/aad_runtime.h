/* aad_runtime.h - root-only records under runtime_dir (/run/pam_aad): what
 * a login leaves for its own session phase (aad_pending.h), the session
 * sign-ins (aad_session_store.h), the login slots (aad_slots.h).
 *
 * Every directory is made owned by root, mode 0700, and refused otherwise;
 * every record is written to a new file and renamed (a reader sees the old
 * or the new one), mode 0600, and read without following links. A record
 * is "key value" lines.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_RUNTIME_H
#define AAD_RUNTIME_H

#include <stddef.h>
#include "aad_base.h"

/* Makes runtime_dir/sub (and runtime_dir) when missing, owned by root, mode
 * 0700, and opens it; a directory that is not root's and private is
 * refused. The descriptor, or -1 with a reason in err (AAD_UNAVAILABLE). */
int aad_runtime_subdir(const char *runtime_dir, const char *sub, struct aad_error *err);

/* True when dir (a descriptor) is on a tmpfs or ramfs: memory, never a
 * disk (a refresh token is kept only there). */
int aad_runtime_in_memory(int dir);

/* Writes text as dir/name (a new file renamed over it, 0600). The written
 * text is the caller's to wipe. AAD_UNAVAILABLE on failure. */
enum aad_status aad_runtime_write(int dir, const char *name, const char *text, size_t len,
                                  struct aad_error *err);

/* Reads dir/name (a regular file of root's, not a link, at most 64 KiB).
 * AAD_OK and *text (NUL-terminated, the caller wipes and frees it);
 * AAD_USER_UNKNOWN when there is none or it is not such a file. */
enum aad_status aad_runtime_read(int dir, const char *name, char **text, size_t *len,
                                 struct aad_error *err);

/* True when v (NULL counts as "") can be a record's value: no control
 * character, so that no value (a UPN from a token) adds a line. */
int aad_runtime_value_ok(const char *v);

/* The value of the line "key value" in text, malloc'd, or NULL. */
char *aad_runtime_field(const char *text, const char *key);

#endif
