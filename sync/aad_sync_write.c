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

enum aad_status aad_sync_replace(int dir_fd, const char *dir, const char *name, const char *text,
                                 size_t len, mode_t mode, gid_t gid, struct aad_error *err)
{
    unsigned char rnd[6] = {0};
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return aad_fail(err, AAD_UNAVAILABLE, "no randomness for a temporary file name");
    char tmp[128];
    snprintf(tmp, sizeof(tmp), ".%s.%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5]);
    int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be created: %s", dir, tmp,
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
    if (step == NULL && renameat(dir_fd, tmp, dir_fd, name) != 0) {
        step = "renamed";
        saved = errno;
    }
    if (step != NULL) {
        unlinkat(dir_fd, tmp, 0);
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be %s (%s): the old file is kept",
                        dir, name, step, strerror(saved));
    }
    fsync(dir_fd);
    return AAD_OK;
}
