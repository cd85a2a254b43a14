/* aad_safefile.c - reading files that decide who may log in.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_safefile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int aad_safefile_check_fd(int fd, int want_directory, const char **why)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *why = "cannot be examined";
        return -1;
    }
    if (want_directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        *why = want_directory ? "is not a directory" : "is not a regular file";
        return -1;
    }
    uid_t me = geteuid();
    if (st.st_uid != me && (me == 0 || st.st_uid != 0)) {
        *why = me == 0 ? "is not owned by root" : "is owned by another user";
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        *why = "is writable by group or others";
        return -1;
    }
    return 0;
}

int aad_safefile_read_fd(int fd, size_t max_len, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return -1;
    for (;;) {
        if (len == cap) {
            if (cap > max_len)
                break;
            cap *= 2;
            char *bigger = malloc(cap + 1);
            if (bigger == NULL)
                break;
            memcpy(bigger, buf, len);
            aad_wipe(buf, len);
            free(buf);
            buf = bigger;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) {
            if (len > max_len)
                break;
            buf[len] = '\0';
            *out = buf;
            *out_len = len;
            return 0;
        }
        len += (size_t)n;
        if (len > max_len)
            break;
    }
    aad_wipe(buf, len);
    free(buf);
    return -1;
}

enum aad_status aad_safefile_open(const char *path, int *fd_out, struct aad_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            return aad_fail(err, AAD_CONFIG_ERROR, "%s: is a symbolic link", path);
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: %s", path, strerror(errno));
    }
    const char *why = NULL;
    if (aad_safefile_check_fd(fd, 0, &why) != 0) {
        close(fd);
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: refused: the file %s", path, why);
    }
    *fd_out = fd;
    return AAD_OK;
}

/* The private-key rule on top of the owner and write rules. */
static enum aad_status check_private(int fd, const char *path, struct aad_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: refused: a private key must not be readable by group or others", path);
    return AAD_OK;
}

static enum aad_status read_checked(const char *path, size_t max_len, int private, char **out,
                                    size_t *out_len, struct aad_error *err)
{
    int fd = -1;
    enum aad_status st = aad_safefile_open(path, &fd, err);
    if (st != AAD_OK)
        return st;
    if (private)
        st = check_private(fd, path, err);
    if (st == AAD_OK && aad_safefile_read_fd(fd, max_len, out, out_len) != 0)
        st = aad_fail(err, AAD_CONFIG_ERROR, "%s: unreadable or larger than %zu bytes", path, max_len);
    close(fd);
    return st;
}

enum aad_status aad_safefile_read(const char *path, size_t max_len, char **out, size_t *out_len,
                                  struct aad_error *err)
{
    return read_checked(path, max_len, 0, out, out_len, err);
}

const struct aad_preread *aad_preread_find(const struct aad_preread_set *set, const char *path)
{
    for (size_t i = 0; set != NULL && path != NULL && i < set->count; i++) {
        if (strcmp(set->file[i].path, path) == 0)
            return &set->file[i];
    }
    return NULL;
}

enum aad_status aad_preread_add(struct aad_preread_set *set, const char *path, size_t max_len,
                                int private, struct aad_error *err)
{
    if (aad_preread_find(set, path) != NULL)
        return AAD_OK;
    if (set->count == AAD_PREREAD_MAX)
        return aad_fail(err, AAD_CONFIG_ERROR, "too many files to read ahead");
    struct aad_preread *f = &set->file[set->count];
    enum aad_status st = read_checked(path, max_len, private, &f->text, &f->len, err);
    if (st != AAD_OK)
        return st;
    if ((f->path = strdup(path)) == NULL) {
        aad_wipe(f->text, f->len);
        free(f->text);
        return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    }
    set->count++;
    return AAD_OK;
}

void aad_preread_clear(struct aad_preread_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        aad_wipe(set->file[i].text, set->file[i].len);
        free(set->file[i].text);
        free(set->file[i].path);
    }
    memset(set, 0, sizeof(*set));
}

enum aad_status aad_safefile_read_via(const struct aad_preread_set *set, const char *path,
                                      size_t max_len, int private, char **out, size_t *out_len,
                                      struct aad_error *err)
{
    /* What is in set was read with the rules of its own caller. */
    const struct aad_preread *f = aad_preread_find(set, path);
    if (f == NULL)
        return read_checked(path, max_len, private, out, out_len, err);
    if (f->len > max_len)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: larger than %zu bytes", path, max_len);
    if ((*out = malloc(f->len + 1)) == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    memcpy(*out, f->text, f->len + 1);
    *out_len = f->len;
    return AAD_OK;
}

enum aad_status aad_safefile_each_line_via(const struct aad_preread_set *set, const char *path,
                                           size_t max_len, aad_line_fn fn, void *ctx,
                                           struct aad_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enum aad_status st = aad_safefile_read_via(set, path, max_len, 0, &text, &len, err);
    if (st != AAD_OK)
        return st;
    int lineno = 0;
    for (char *line = text; line != NULL && st == AAD_OK;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        /* '#' starts a comment only after white space: guest UPNs hold "#EXT#". */
        for (char *hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
            if (hash == line || isspace((unsigned char)hash[-1])) {
                *hash = '\0';
                break;
            }
        }
        st = fn(ctx, lineno, line, err);
        line = next;
    }
    free(text);
    return st;
}

enum aad_status aad_safefile_each_line(const char *path, size_t max_len, aad_line_fn fn,
                                       void *ctx, struct aad_error *err)
{
    return aad_safefile_each_line_via(NULL, path, max_len, fn, ctx, err);
}
