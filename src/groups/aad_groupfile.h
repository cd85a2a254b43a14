/* aad_groupfile.h - setting one account's membership in local groups, in
 * /etc/group and /etc/gshadow, the way the shadow suite edits them:
 *
 *  - under the lock lckpwdf() takes (a write lock on /etc/.pwd.lock; the
 *    shadow tools take it too when run as root), waited for at most 15 s;
 *  - the new contents written to a temporary file in the same directory,
 *    given the old file's owner and mode, fsync'ed, then renamed over it
 *    (and the directory fsync'ed): a reader sees the old or the new file;
 *  - only the member list of the groups concerned changes; every other
 *    byte (comments, order, other fields, a missing final newline) stays;
 *  - both files are read and written under the one lock, so they agree
 *    (grpck -r stays clean); a file in which nothing changes is not written.
 *
 * Groups are never created; a group with gid 0 is left alone unless
 * allow_root. libc only.
 *
 * The temporary files are created by aad_groupfile_open, under the lock,
 * before the writer confines itself: so it can then write only through
 * descriptors it already holds (see group_writer/).
 *
 * Where it runs: in the group writer, the one process that writes /etc/group
 * and /etc/gshadow, and read-only in the login core and aad-login; libc
 * only. */
#ifndef AAD_GROUPFILE_H
#define AAD_GROUPFILE_H

#include <limits.h>
#include <stddef.h>
#include "aad_account_name.h"
#include "aad_base.h"

#define AAD_GROUPFILE_DIR "/etc"
#define AAD_GROUPFILE_LOCK "/etc/.pwd.lock" /* glibc's PWD_LOCKFILE */
/* The largest group or gshadow file read; the writer's RLIMIT_FSIZE is this
 * and room for what one edit adds, so a write never meets the limit. */
#define AAD_GROUPFILE_MAX_BYTES (8L * 1024 * 1024)

/* What happened to one group (the wire carries the number). */
enum aad_group_outcome {
    AAD_GROUP_UNCHANGED = 0,    /* already as wanted */
    AAD_GROUP_ADDED = 1,
    AAD_GROUP_REMOVED = 2,
    AAD_GROUP_NO_SUCH_GROUP = 3, /* not in the group file: never created */
    AAD_GROUP_ROOT_REFUSED = 4,  /* gid 0 without allow_root */
    AAD_GROUP_NOT_MAPPED = 5,    /* not named in group_map: never touched */
    AAD_GROUP_WRITE_FAILED = 6,  /* a change was due but could not be written */
};
#define AAD_GROUP_OUTCOME_MAX AAD_GROUP_WRITE_FAILED

/* A short word for the log ("added", "no such group", ...). */
const char *aad_group_outcome_name(enum aad_group_outcome o);

/* Temporary files: the new group, the new gshadow, and a copy of the old
 * group to put back when gshadow cannot follow. */
#define AAD_GROUPFILE_TEMPS 3
#define AAD_GROUPFILE_TEMP_OLD_GROUP 2

struct aad_groupfile {
    int dir_fd;  /* the directory holding group and gshadow */
    int lock_fd; /* the lock file, opened for writing */
    int locked;  /* the lock is held (from open to close) */
    int tmp_fd[AAD_GROUPFILE_TEMPS];    /* -1: none */
    char tmp_name[AAD_GROUPFILE_TEMPS][64]; /* their names in the directory */
    int has_gshadow;            /* gshadow existed when opened */
    int inconsistent; /* group was changed, gshadow not, and the roll back failed */
    char dir[PATH_MAX];
};

/* Opens dir (AAD_GROUPFILE_DIR in production; tests use a copy) and the
 * lock file lock_path, takes the lock (waiting at most 15 s, as lckpwdf),
 * removes temporary files a dead writer left, and creates its own. The
 * lock is held until aad_groupfile_close. Failures are AAD_UNAVAILABLE with
 * errno's reason (aad_groupfile_apply then writes nothing). Always release
 * gf with aad_groupfile_close. */
enum aad_status aad_groupfile_open(struct aad_groupfile *gf, const char *dir,
                                   const char *lock_path, struct aad_error *err);

/* Removes the temporary files not renamed, releases the lock and closes
 * everything. */
void aad_groupfile_close(struct aad_groupfile *gf);

struct aad_group_change {
    const char *group; /* local group name */
    int member;        /* wanted: in the group or not */
    enum aad_group_outcome outcome; /* filled */
};

/* Makes account's membership in each of changes[0..n) as wanted, in one
 * locked edit of both files; fills each outcome. Once per gf (the
 * temporary files are used up). AAD_OK when everything due was written;
 * otherwise AAD_UNAVAILABLE and every change that was due (or all, when
 * the files cannot be read) is AAD_GROUP_WRITE_FAILED: nothing of this
 * call was written: when gshadow cannot be renamed after group was, the old
 * group is put back; only if that fails too is gf->inconsistent set (and
 * err says INCONSISTENT). */
enum aad_status aad_groupfile_apply(struct aad_groupfile *gf, const char *account,
                                    struct aad_group_change *changes, size_t n, int allow_root,
                                    struct aad_error *err);

/* What aad_groupfile_apply would do, from the group file under dir as it
 * is now, without the lock and without writing: ADDED and REMOVED mean
 * "would be". For aad-login's dry run, and for a writer that cannot
 * write (to tell a removal that is due from one that is not). A file that
 * cannot be read: AAD_UNAVAILABLE, every outcome AAD_GROUP_WRITE_FAILED. */
enum aad_status aad_groupfile_preview(const char *dir, const char *account,
                                      struct aad_group_change *changes, size_t n, int allow_root,
                                      struct aad_error *err);

#endif
