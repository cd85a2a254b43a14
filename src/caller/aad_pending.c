/* aad_pending.c - the record a verified login leaves for its session phase.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_pending.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aad_runtime.h"
#include "aad_safefile.h"

#define RECORD_MAX_BYTES (64 * 1024)
#define EXPIRE_SCAN_MAX 4096 /* entries looked at per put: bounded work */

static long long now_s(void)
{
    return (long long)time(NULL);
}

static int valid_handle(const char *h)
{
    return h != NULL && strlen(h) == AAD_PENDING_HANDLE_LEN &&
           strspn(h, "0123456789abcdef") == AAD_PENDING_HANDLE_LEN;
}

/* Removes records older than the bound (a login that never reached its
 * session: refused by a later module, or a connection that was cut). */
static void expire(int dir)
{
    int fd = dup(dir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    long long limit = now_s() - AAD_PENDING_MAX_AGE_S;
    size_t seen = 0;
    for (struct dirent *e; seen < EXPIRE_SCAN_MAX && (e = readdir(d)) != NULL; seen++) {
        struct stat st;
        if (e->d_name[0] != '.' && fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (long long)st.st_mtime < limit)
            unlinkat(dir, e->d_name, 0);
    }
    closedir(d);
}

enum aad_status aad_pending_put(const char *runtime_dir, const struct aad_pending *p,
                                char *handle, struct aad_error *err)
{
    unsigned char r[AAD_PENDING_HANDLE_LEN / 2];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return aad_fail(err, AAD_UNAVAILABLE, "no randomness for a pending record");
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(handle + 2 * i, 3, "%02x", r[i]);
    int dir = aad_runtime_subdir(runtime_dir, "pending", err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    expire(dir);
    char tmp[AAD_PENDING_HANDLE_LEN + 8];
    snprintf(tmp, sizeof(tmp), ".%s", handle);
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    enum aad_status st = AAD_OK;
    if (fd < 0) {
        st = aad_fail(err, AAD_UNAVAILABLE, "cannot write a pending record: %s", strerror(errno));
    } else {
        char head[128];
        int n = snprintf(head, sizeof(head), "account %s\ncreated %lld\ngrants ", p->account,
                         p->created);
        const char *grants = p->grants ? p->grants : "";
        if (aad_write_all(fd, head, (size_t)n) != 0 ||
            aad_write_all(fd, grants, strlen(grants)) != 0 || aad_write_all(fd, "\n", 1) != 0 ||
            close(fd) != 0 || renameat(dir, tmp, dir, handle) != 0) {
            st = aad_fail(err, AAD_UNAVAILABLE, "cannot write a pending record: %s",
                          strerror(errno));
            unlinkat(dir, tmp, 0);
        }
    }
    close(dir);
    return st;
}

enum aad_status aad_pending_take(const char *runtime_dir, const char *handle, const char *account,
                                 struct aad_pending *p, struct aad_error *err)
{
    memset(p, 0, sizeof(*p));
    if (!valid_handle(handle))
        return aad_fail(err, AAD_USER_UNKNOWN, "no pending record");
    int dir = aad_runtime_subdir(runtime_dir, "pending", err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    int fd = openat(dir, handle, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    /* Taken once, whatever it says. */
    unlinkat(dir, handle, 0);
    close(dir);
    if (fd < 0)
        return aad_fail(err, AAD_USER_UNKNOWN, "no pending record");
    char *text = NULL;
    size_t len = 0;
    const char *why = NULL;
    int ok = aad_safefile_check_fd(fd, 0, &why) == 0 &&
             aad_safefile_read_fd(fd, RECORD_MAX_BYTES, &text, &len) == 0;
    close(fd);
    if (!ok)
        return aad_fail(err, AAD_USER_UNKNOWN, "an unreadable pending record");
    char *who = aad_runtime_field(text, "account"), *created = aad_runtime_field(text, "created");
    p->grants = aad_runtime_field(text, "grants");
    p->created = created ? atoll(created) : 0;
    enum aad_status st = AAD_OK;
    if (who == NULL || strcmp(who, account) != 0)
        st = aad_fail(err, AAD_USER_UNKNOWN, "the pending record is for another account");
    else if (now_s() - p->created > AAD_PENDING_MAX_AGE_S || p->created > now_s() + 60)
        st = aad_fail(err, AAD_USER_UNKNOWN, "the pending record is too old");
    else
        snprintf(p->account, sizeof(p->account), "%s", who);
    free(who);
    free(created);
    aad_wipe(text, len);
    free(text);
    if (st != AAD_OK)
        aad_pending_clear(p);
    return st;
}

void aad_pending_clear(struct aad_pending *p)
{
    aad_free_secret(p->grants);
    memset(p, 0, sizeof(*p));
}
