/* aad_safefile.h - reading files that decide who may log in.
 *
 * A configuration, user map or cache file that someone else can write would
 * let them choose the tenant, the mapping or the signing keys, so every such
 * file is opened without following links and checked before it is read.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_SAFEFILE_H
#define AAD_SAFEFILE_H

#include <stddef.h>
#include "aad_base.h"

/* Reads a whole regular file into a NUL-terminated malloc'd buffer.
 * The final path component must not be a symbolic link; the file must be
 * owned by root or by the effective user (only root when the caller is root)
 * and must not be writable by group or others; it may hold at most max_len
 * bytes. Failures are AAD_CONFIG_ERROR with the path and the reason. */
enum aad_status aad_safefile_read(const char *path, size_t max_len, char **out, size_t *out_len,
                                  struct aad_error *err);

/* Opens path read-only with the same rules and checks (no link, a regular
 * file, the owner, not writable by group or others) and hands back the
 * descriptor, so that whatever is checked next (a key's mode) and what is
 * read are the same file. Failures are AAD_CONFIG_ERROR naming the path. */
enum aad_status aad_safefile_open(const char *path, int *fd, struct aad_error *err);

/* The same checks on an already open descriptor (used by the cache, which
 * opens with O_NOFOLLOW itself). Returns 0 when safe, else -1 with a reason
 * in why. */
int aad_safefile_check_fd(int fd, int want_directory, const char **why);

/* Reads a file as aad_safefile_read does and hands each line to fn, with
 * its number and without its comment ('#' at the start of the line or
 * after white space); fn returns AAD_OK to go on. For user_map and
 * group_map. */
typedef enum aad_status (*aad_line_fn)(void *ctx, int lineno, char *line, struct aad_error *err);
enum aad_status aad_safefile_each_line(const char *path, size_t max_len, aad_line_fn fn,
                                       void *ctx, struct aad_error *err);

/* Files read ahead of their use: pam_aad_helper reads, as root, every file
 * the configuration names (a key only root may read, among them), then
 * gives root up; the readers below then find their file here. */
#define AAD_PREREAD_MAX 8
struct aad_preread {
    char *path;
    char *text; /* NUL-terminated; wiped when released */
    size_t len;
};
struct aad_preread_set {
    struct aad_preread file[AAD_PREREAD_MAX];
    size_t count;
};

/* Reads path (with aad_safefile_read's rules; private: nothing for group or
 * others either, as for a private key) into set. A path already in set is
 * not read twice. */
enum aad_status aad_preread_add(struct aad_preread_set *set, const char *path, size_t max_len,
                                int private, struct aad_error *err);
/* The text kept for path, or NULL (set may be NULL). */
const struct aad_preread *aad_preread_find(const struct aad_preread_set *set, const char *path);
void aad_preread_clear(struct aad_preread_set *set);

/* aad_safefile_read (and the private-key rule when private), but from set
 * when it holds path (set may be NULL); aad_safefile_each_line likewise. */
enum aad_status aad_safefile_read_via(const struct aad_preread_set *set, const char *path,
                                      size_t max_len, int private, char **out, size_t *out_len,
                                      struct aad_error *err);
enum aad_status aad_safefile_each_line_via(const struct aad_preread_set *set, const char *path,
                                           size_t max_len, aad_line_fn fn, void *ctx,
                                           struct aad_error *err);

/* Reads all of fd (at most max_len bytes) into a NUL-terminated buffer. */
int aad_safefile_read_fd(int fd, size_t max_len, char **out, size_t *out_len);

#endif
