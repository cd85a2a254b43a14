/* aad_sync_write.c - replacing a file the sync owns, atomically.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync_write.h"
#include "aad_safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int aad_sync_open_dir(const char *dir, int create, struct aad_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            aad_fail(err, AAD_UNAVAILABLE, "%s cannot be created: %s", dir, strerror(errno));
            return -1;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        aad_fail(err, AAD_UNAVAILABLE, "%s cannot be opened: %s", dir, strerror(errno));
        return -1;
    }
    const char *why = NULL;
    if (aad_safefile_check_fd(fd, 1, &why) != 0) {
        close(fd);
        aad_fail(err, AAD_CONFIG_ERROR, "%s is unsafe: %s", dir, why ? why : "");
        return -1;
    }
    return fd;
}

enum aad_status aad_sync_stage(int dir_fd, const char *dir, const char *name, const char *text,
                               size_t len, mode_t mode, gid_t gid, struct aad_sync_staged *out,
                               struct aad_error *err)
{
    unsigned char rnd[6] = {0};
    memset(out, 0, sizeof(*out));
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return aad_fail(err, AAD_UNAVAILABLE, "no randomness for a temporary file name");
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->tmp, sizeof(out->tmp), ".%s.%02x%02x%02x%02x%02x%02x", out->name, rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    int fd = openat(dir_fd, out->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be created: %s", dir, out->tmp,
                        strerror(errno));
    const char *step = NULL;
    if (aad_write_all(fd, text, len) != 0)
        step = "written";
    else if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0)
        step = "given its group";
    else if (fchmod(fd, mode) != 0)
        step = "given its mode";
    else if (fsync(fd) != 0)
        step = "flushed";
    int saved = errno;
    close(fd);
    if (step != NULL) {
        unlinkat(dir_fd, out->tmp, 0);
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be %s (%s): the old file is kept",
                        dir, name, step, strerror(saved));
    }
    out->ready = 1;
    return AAD_OK;
}

enum aad_status aad_sync_commit(int dir_fd, const char *dir, struct aad_sync_staged *staged,
                                struct aad_error *err)
{
    if (renameat(dir_fd, staged->tmp, dir_fd, staged->name) != 0) {
        int saved = errno;
        aad_sync_discard(dir_fd, staged);
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be renamed (%s): the old file is kept",
                        dir, staged->name, strerror(saved));
    }
    staged->ready = 0;
    fsync(dir_fd);
    return AAD_OK;
}

void aad_sync_discard(int dir_fd, struct aad_sync_staged *staged)
{
    if (staged->ready)
        unlinkat(dir_fd, staged->tmp, 0);
    staged->ready = 0;
}

enum aad_status aad_sync_replace(int dir_fd, const char *dir, const char *name, const char *text,
                                 size_t len, mode_t mode, gid_t gid, struct aad_error *err)
{
    struct aad_sync_staged staged;
    enum aad_status st = aad_sync_stage(dir_fd, dir, name, text, len, mode, gid, &staged, err);
    return st == AAD_OK ? aad_sync_commit(dir_fd, dir, &staged, err) : st;
}
