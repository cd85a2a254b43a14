/* aad_cache.c - small JSON entries on disk.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_cache.h"
#include "aad_base.h"
#include "aad_json.h"
#include "aad_safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

/* A blocking flock cannot be given a deadline (and a timer signal would
 * belong to the program, not to us), while polling it with LOCK_NB wakes up
 * a waiter a hundred times a second. So a short-lived thread blocks in
 * flock on the lock's descriptor and this thread waits for it on a
 * condition variable, with the deadline. The lock belongs to the open file,
 * so once that thread has it, the caller has it. When the deadline comes
 * first, the thread is left to itself: it then owns the descriptor, and
 * closes it, releasing the lock, the moment flock returns (or the process
 * ends first and takes both with it). */
struct lock_wait {
    pthread_mutex_t mutex;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC, like aad_monotonic_ms */
    int fd;
    int done;      /* flock returned... */
    int locked;    /* ...with the lock */
    int abandoned; /* the caller stopped waiting: the thread cleans up */
};

#define LOCK_THREAD_STACK (256 * 1024)

static void lock_wait_free(struct lock_wait *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mutex);
    free(w);
}

static void *lock_thread(void *arg)
{
    struct lock_wait *w = arg;
    int rc;
    while ((rc = flock(w->fd, LOCK_EX)) != 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&w->mutex);
    w->done = 1;
    w->locked = rc == 0;
    int abandoned = w->abandoned;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mutex);
    if (abandoned) {
        close(w->fd);
        lock_wait_free(w);
    }
    return NULL;
}

static struct lock_wait *lock_wait_new(int fd)
{
    struct lock_wait *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    pthread_condattr_t attr;
    int ok = pthread_condattr_init(&attr) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&w->cond, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok || pthread_mutex_init(&w->mutex, NULL) != 0) {
        if (ok)
            pthread_cond_destroy(&w->cond);
        free(w);
        return NULL;
    }
    w->fd = fd;
    return w;
}

/* Starts the thread with every signal blocked (they are the program's). */
static int lock_thread_start(pthread_t *thread, struct lock_wait *w)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    sigset_t all, old;
    sigfillset(&all);
    int rc = pthread_attr_setstacksize(&attr, LOCK_THREAD_STACK);
    if (rc == 0)
        rc = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (rc == 0) {
        rc = pthread_create(thread, &attr, lock_thread, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

static struct timespec monotonic_at(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    return ts;
}

/* Waits for the lock on fd until deadline_ms, calling w->still_waiting
 * every tick_ms. 0: locked; -1: not (fd is still the caller's);
 * AAD_CACHE_LOCK_TIMED_OUT: the deadline passed (fd now belongs to the
 * waiting thread). */
static int wait_for_lock(int fd, int64_t deadline_ms, const struct aad_cache_wait *how,
                         const char **why)
{
    struct lock_wait *w = lock_wait_new(fd);
    pthread_t thread;
    if (w == NULL || lock_thread_start(&thread, w) != 0) {
        if (w != NULL)
            lock_wait_free(w);
        *why = "no thread can wait for the lock";
        return -1;
    }
    int64_t tick_ms = how->tick_ms > 0 ? how->tick_ms : deadline_ms - aad_monotonic_ms();
    int64_t next_tick = aad_monotonic_ms() + tick_ms;
    pthread_mutex_lock(&w->mutex);
    for (;;) {
        int64_t now = aad_monotonic_ms();
        if (w->done || now >= deadline_ms)
            break;
        if (now >= next_tick) {
            pthread_mutex_unlock(&w->mutex);
            if (how->still_waiting != NULL)
                how->still_waiting(how->ctx);
            next_tick = now + tick_ms;
            pthread_mutex_lock(&w->mutex);
            continue;
        }
        struct timespec until = monotonic_at(next_tick < deadline_ms ? next_tick : deadline_ms);
        pthread_cond_timedwait(&w->cond, &w->mutex, &until);
    }
    if (!w->done) {
        w->abandoned = 1;
        pthread_mutex_unlock(&w->mutex);
        pthread_detach(thread);
        return AAD_CACHE_LOCK_TIMED_OUT;
    }
    int locked = w->locked;
    pthread_mutex_unlock(&w->mutex);
    pthread_join(thread, NULL);
    lock_wait_free(w);
    if (!locked)
        *why = "the lock cannot be taken";
    return locked ? 0 : -1;
}

int aad_cache_lock(const char *dir, const char *name, const struct aad_cache_wait *how,
                   const char **why)
{
    int dfd = open_dir(dir, 1, why);
    if (dfd < 0)
        return -1;
    char lockname[256];
    snprintf(lockname, sizeof(lockname), "%s.lock", name);
    int fd = openat(dfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    close(dfd);
    if (fd < 0) {
        *why = "the lock file cannot be opened";
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    int rc = -1;
    if (errno != EWOULDBLOCK)
        *why = "the lock cannot be taken";
    else
        rc = wait_for_lock(fd, aad_monotonic_ms() + how->timeout_ms, how, why);
    if (rc == 0)
        return fd;
    if (rc == -1)
        close(fd);
    return rc;
}

void aad_cache_unlock(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd); /* closing releases the flock */
}
