/* aad_cache.c - small JSON entries on disk. */
#include "config.h"

#include "aad_cache.h"
#include "aad_base.h"
#include "aad_json.h"
#include "aad_safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAX_BYTES (512 * 1024)

static int open_dir(const char *dir, int create, const char **why)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            *why = "the cache directory cannot be created";
            return -1;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        *why = errno == ENOENT ? "the cache directory does not exist"
                               : "the cache directory cannot be opened";
        return -1;
    }
    const char *unsafe = NULL;
    if (aad_safefile_check_fd(fd, 1, &unsafe) != 0) {
        *why = "the cache directory is not private to its owner";
        close(fd);
        return -1;
    }
    return fd;
}

json_t *aad_cache_read(const char *dir, const char *name, const char **why)
{
    int dfd = open_dir(dir, 0, why);
    if (dfd < 0)
        return NULL;
    json_t *entry = NULL;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    close(dfd);
    if (fd < 0) {
        *why = errno == ELOOP ? "the cache entry is a symbolic link" : "there is no cache entry";
        return NULL;
    }
    const char *unsafe = NULL;
    char *text = NULL;
    size_t len = 0;
    if (aad_safefile_check_fd(fd, 0, &unsafe) != 0)
        *why = "the cache entry is not private to its owner";
    else if (aad_safefile_read_fd(fd, ENTRY_MAX_BYTES, &text, &len) != 0)
        *why = "the cache entry cannot be read";
    else if ((entry = aad_json_parse_object(text, len, ENTRY_MAX_BYTES)) == NULL)
        *why = "the cache entry is corrupt";
    free(text);
    close(fd);
    return entry;
}

int aad_cache_write(const char *dir, const char *name, const json_t *entry, const char **why)
{
    int dfd = open_dir(dir, 1, why);
    if (dfd < 0)
        return -1;
    char *text = json_dumps(entry, JSON_COMPACT);
    unsigned char rnd[8] = {0};
    char tmp[256];
    int fd = -1, rc = -1;
    if (text == NULL || getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        *why = "out of memory or randomness";
        goto out;
    }
    snprintf(tmp, sizeof(tmp), ".%s.%02x%02x%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        *why = errno == EROFS ? "the cache directory is read-only"
                              : "a temporary cache file cannot be created";
        goto out;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done != len || fsync(fd) != 0) {
        *why = "the cache entry cannot be written (disk full?)";
        unlinkat(dfd, tmp, 0);
        goto out;
    }
    if (renameat(dfd, tmp, dfd, name) != 0) {
        *why = "the cache entry cannot be replaced";
        unlinkat(dfd, tmp, 0);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(text);
    close(dfd);
    return rc;
}

int aad_cache_lock(const char *dir, const char *name, long timeout_ms)
{
    const char *why = NULL;
    int dfd = open_dir(dir, 1, &why);
    if (dfd < 0)
        return -1;
    char lockname[256];
    snprintf(lockname, sizeof(lockname), "%s.lock", name);
    int fd = openat(dfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    close(dfd);
    if (fd < 0)
        return -1;
    int64_t deadline = aad_monotonic_ms() + timeout_ms;
    /* Poll with LOCK_NB: a blocking flock could wait for ever inside sshd. */
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || aad_monotonic_ms() >= deadline) {
            close(fd);
            return -1;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return fd;
}

void aad_cache_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd); /* closing releases the flock */
}
