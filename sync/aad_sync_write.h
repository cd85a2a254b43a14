/* aad_sync_write.h - replacing a file the sync owns, so that a reader (the
 * name service, the next run) sees the old file or the new one, never a
 * torn one: a temporary file in the same directory (O_EXCL, no links),
 * its mode and group, fsync, rename over the old one, fsync of the
 * directory. A failure at any step (disk full, read-only, a signal) leaves
 * the old file whole and removes the temporary one.
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_WRITE_H
#define AAD_SYNC_WRITE_H

#include <stddef.h>
#include <sys/types.h>

#include "aad_base.h"

/* Opens dir (no link; created with mode 0700 when create is set and it is
 * missing); it must not be writable by group or others. -1 and err on failure. */
int aad_sync_open_dir(const char *dir, int create, struct aad_error *err);

/* A new version of a file, written, flushed, not yet in place. */
struct aad_sync_staged {
    char name[64];
    char tmp[96];
    int ready; /* the temporary file exists */
};

/* Writes the new version of name beside it (the first half of
 * aad_sync_replace); the old file is untouched. */
enum aad_status aad_sync_stage(int dir_fd, const char *dir, const char *name, const char *text,
                               size_t len, mode_t mode, gid_t gid, struct aad_sync_staged *out,
                               struct aad_error *err);
/* Renames it over the old file (the second half). */
enum aad_status aad_sync_commit(int dir_fd, const char *dir, struct aad_sync_staged *staged,
                                struct aad_error *err);
/* Removes a staged version that is not committed; fine to call twice. */
void aad_sync_discard(int dir_fd, struct aad_sync_staged *staged);

/* Replaces name in the directory dir_fd with len bytes of text, mode mode,
 * group gid ((gid_t)-1: the caller's). Failures are AAD_UNAVAILABLE. */
enum aad_status aad_sync_replace(int dir_fd, const char *dir, const char *name, const char *text,
                                 size_t len, mode_t mode, gid_t gid, struct aad_error *err);

#endif
