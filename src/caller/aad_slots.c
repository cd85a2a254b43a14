/* aad_slots.c - bytes of a root-only file, locked one per running login.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_slots.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "aad_runtime.h"

/* Locks one free byte of [first, first + count) of fd; 0, or -1 when all
 * are held (or the file cannot be locked). */
static int lock_a_byte(int fd, off_t first, long count)
{
    for (long i = 0; i < count; i++) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = first + i,
                           .l_len = 1};
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES)
            return -1;
    }
    errno = EAGAIN;
    return -1;
}

static int open_slots(int dir, const char *name)
{
    return openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
}

enum aad_status aad_slots_take(const char *runtime_dir, long max_host, long max_per_user,
                               uid_t invoker, struct aad_slots *s, struct aad_error *err)
{
    s->host_fd = s->user_fd = -1;
    if (geteuid() != 0)
        return AAD_OK;
    int dir = aad_runtime_subdir(runtime_dir, "slots", err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    enum aad_status st = AAD_OK;
    s->host_fd = open_slots(dir, "host");
    if (s->host_fd < 0 || lock_a_byte(s->host_fd, 0, max_host) != 0)
        st = errno == EAGAIN
                 ? aad_fail_as(err, AAD_FAILURE_BUSY,
                               "%ld logins are running on this host already (max_logins)",
                               max_host)
                 : aad_fail(err, AAD_UNAVAILABLE, "cannot count the logins running (%ld at most): %s",
                            max_host, strerror(errno));
    if (st == AAD_OK && invoker != 0) {
        s->user_fd = open_slots(dir, "per-user");
        /* uid's own range: uid * max_per_user, a sparse file. */
        off_t first = (off_t)invoker * (off_t)max_per_user;
        if (s->user_fd < 0 || lock_a_byte(s->user_fd, first, max_per_user) != 0)
            st = errno == EAGAIN
                     ? aad_fail_as(err, AAD_FAILURE_BUSY,
                                   "uid %lu runs %ld logins already (max_logins_per_user)",
                                   (unsigned long)invoker, max_per_user)
                     : aad_fail(err, AAD_UNAVAILABLE,
                                "cannot count the logins of uid %lu (%ld at most): %s",
                                (unsigned long)invoker, max_per_user, strerror(errno));
    }
    close(dir);
    return st;
}

void aad_slots_release(struct aad_slots *s)
{
    if (s->host_fd >= 0)
        close(s->host_fd);
    if (s->user_fd >= 0)
        close(s->user_fd);
    s->host_fd = s->user_fd = -1;
}
