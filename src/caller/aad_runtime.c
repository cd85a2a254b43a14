/* aad_runtime.c - root-only records under runtime_dir.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "aad_safefile.h"

#define RECORD_MAX_BYTES (64 * 1024)
#define TMPFS_MAGIC_NUMBER 0x01021994
#define RAMFS_MAGIC_NUMBER 0x858458f6

static int open_private_dir(int parent, const char *name, struct aad_error *err)
{
    if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
        aad_fail(err, AAD_UNAVAILABLE, "cannot make %s: %s", name, strerror(errno));
        return -1;
    }
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 077) != 0) {
        aad_fail(err, AAD_UNAVAILABLE, "%s is not a directory private to root", name);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int aad_runtime_subdir(const char *runtime_dir, const char *sub, struct aad_error *err)
{
    if (runtime_dir == NULL || runtime_dir[0] != '/') {
        aad_fail(err, AAD_UNAVAILABLE, "runtime_dir must be an absolute path");
        return -1;
    }
    int parent = open_private_dir(AT_FDCWD, runtime_dir, err);
    if (parent < 0)
        return -1;
    int fd = open_private_dir(parent, sub, err);
    close(parent);
    return fd;
}

int aad_runtime_in_memory(int dir)
{
    struct statfs sf;
    return fstatfs(dir, &sf) == 0 &&
           ((unsigned long)sf.f_type == TMPFS_MAGIC_NUMBER ||
            (unsigned long)sf.f_type == RAMFS_MAGIC_NUMBER);
}

enum aad_status aad_runtime_write(int dir, const char *name, const char *text, size_t len,
                                  struct aad_error *err)
{
    unsigned char r[8];
    char tmp[128];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return aad_fail(err, AAD_UNAVAILABLE, "no randomness for a record's temporary name");
    snprintf(tmp, sizeof(tmp), ".%.64s.%02x%02x%02x%02x%02x%02x%02x%02x", name, r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7]);
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "cannot write the record %s: %s", name,
                        strerror(errno));
    if (aad_write_all(fd, text, len) != 0 || close(fd) != 0 ||
        renameat(dir, tmp, dir, name) != 0) {
        int saved = errno;
        unlinkat(dir, tmp, 0);
        return aad_fail(err, AAD_UNAVAILABLE, "cannot write the record %s: %s", name,
                        strerror(saved));
    }
    return AAD_OK;
}

enum aad_status aad_runtime_read(int dir, const char *name, char **text, size_t *len,
                                 struct aad_error *err)
{
    *text = NULL;
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return aad_fail(err, AAD_USER_UNKNOWN, "no record %s", name);
    const char *why = NULL;
    struct stat st;
    int ok = fstat(fd, &st) == 0 && st.st_uid == 0 && aad_safefile_check_fd(fd, 0, &why) == 0 &&
             aad_safefile_read_fd(fd, RECORD_MAX_BYTES, text, len) == 0;
    close(fd);
    return ok ? AAD_OK : aad_fail(err, AAD_USER_UNKNOWN, "an unreadable record %s", name);
}

int aad_runtime_value_ok(const char *v)
{
    for (const unsigned char *c = (const unsigned char *)(v ? v : ""); *c != '\0'; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return 0;
    }
    return 1;
}

char *aad_runtime_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strndup(line + klen + 1, len - klen - 1);
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}
