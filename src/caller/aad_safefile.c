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

enum aad_status aad_safefile_read(const char *path, size_t max_len, char **out, size_t *out_len,
                                  struct aad_error *err)
{
    int fd = -1;
    enum aad_status st = aad_safefile_open(path, &fd, err);
    if (st != AAD_OK)
        return st;
    if (aad_safefile_read_fd(fd, max_len, out, out_len) != 0)
        st = aad_fail(err, AAD_CONFIG_ERROR, "%s: unreadable or larger than %zu bytes", path, max_len);
    close(fd);
    return st;
}

enum aad_status aad_safefile_each_line(const char *path, size_t max_len, aad_line_fn fn,
                                       void *ctx, struct aad_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enum aad_status st = aad_safefile_read(path, max_len, &text, &len, err);
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
