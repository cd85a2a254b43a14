/* aad_pending.c - the record a verified login leaves for its session phase.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_pending.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aad_runtime.h"

#define EXPIRE_SCAN_MAX 4096 /* entries looked at per put: bounded work */
/* The scan runs at most this often: aad_pending_get refuses an old record
 * by its own date, so the scan only frees memory, and on a busy host it
 * was a stat of every record on each login's way to its result. */
#define EXPIRE_EVERY_S 60
#define EXPIRE_STAMP ".expired" /* when the last scan ran; never a handle (hex) */
#define SUBDIR "pending"

static long long now_s(void)
{
    return (long long)time(NULL);
}

static int valid_handle(const char *h)
{
    return h != NULL && strlen(h) == AAD_PENDING_HANDLE_LEN &&
           strspn(h, "0123456789abcdef") == AAD_PENDING_HANDLE_LEN;
}

/* 1 when the last scan ran less than EXPIRE_EVERY_S ago; otherwise the
 * stamp is renewed for the scan about to run. */
static int scanned_lately(int dir)
{
    struct stat st;
    long long now = now_s();
    if (fstatat(dir, EXPIRE_STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        (long long)st.st_mtime <= now && now - (long long)st.st_mtime < EXPIRE_EVERY_S)
        return 1;
    int stamp = openat(dir, EXPIRE_STAMP, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (stamp >= 0) {
        futimens(stamp, NULL);
        close(stamp);
    }
    return 0;
}

/* Removes records older than the bound (a login that never reached its
 * session: refused by a later module, or a connection that was cut). */
static void expire(int dir)
{
    if (scanned_lately(dir))
        return;
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
        if (e->d_name[0] != '.' && /* ".", "..", the stamp */
            fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (long long)st.st_mtime < limit)
            unlinkat(dir, e->d_name, 0);
    }
    closedir(d);
}

/* The record's text, malloc'd (its refresh token: wipe it); NULL out of
 * memory or when a value would add a line. */
static char *format(const struct aad_pending *p, size_t *len)
{
    const char *g = p->grants ? p->grants : "";
    if (!aad_runtime_value_ok(p->account) || !aad_runtime_value_ok(g) ||
        !aad_runtime_value_ok(p->refresh_token) || !aad_runtime_value_ok(p->oid) ||
        !aad_runtime_value_ok(p->tid) || !aad_runtime_value_ok(p->upn))
        return NULL;
    size_t size = strlen(g) + 512 + (p->refresh_token ? strlen(p->refresh_token) : 0) +
                  (p->upn ? strlen(p->upn) : 0);
    char *text = malloc(size);
    if (text == NULL)
        return NULL;
    int n = snprintf(text, size, "account %s\ncreated %lld\ngrants %s\n", p->account, p->created,
                     g);
    if (p->refresh_token != NULL)
        n += snprintf(text + n, size - (size_t)n,
                      "refresh_token %s\noid %s\ntid %s\nupn %s\nauth_session %ld\n",
                      p->refresh_token, p->oid ? p->oid : "", p->tid ? p->tid : "",
                      p->upn ? p->upn : "", p->auth_session);
    *len = (size_t)n;
    return text;
}

/* A refresh token is written only where runtime_dir is in memory; else
 * the record is written without it and *dropped is set. */
static enum aad_status write_record(int dir, const char *handle, const struct aad_pending *p,
                                    int *dropped, struct aad_error *err)
{
    struct aad_pending kept = *p;
    *dropped = p->refresh_token != NULL && !aad_runtime_in_memory(dir);
    if (*dropped)
        kept.refresh_token = NULL;
    if (kept.refresh_token == NULL && (kept.grants == NULL || kept.grants[0] == '\0'))
        return AAD_OK; /* nothing left to keep */
    size_t len = 0;
    char *text = format(&kept, &len);
    if (text == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory, or a value with a control character");
    enum aad_status st = aad_runtime_write(dir, handle, text, len, err);
    aad_wipe(text, len);
    free(text);
    return st;
}

enum aad_status aad_pending_put(const char *runtime_dir, const struct aad_pending *p,
                                char *handle, int *dropped, struct aad_error *err)
{
    unsigned char r[AAD_PENDING_HANDLE_LEN / 2];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return aad_fail(err, AAD_UNAVAILABLE, "no randomness for a pending record");
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(handle + 2 * i, 3, "%02x", r[i]);
    int dir = aad_runtime_subdir(runtime_dir, SUBDIR, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    expire(dir);
    enum aad_status st = write_record(dir, handle, p, dropped, err);
    close(dir);
    return st;
}

enum aad_status aad_pending_replace(const char *runtime_dir, const char *handle,
                                    const struct aad_pending *p, struct aad_error *err)
{
    if (!valid_handle(handle))
        return aad_fail(err, AAD_USER_UNKNOWN, "no pending record");
    int dir = aad_runtime_subdir(runtime_dir, SUBDIR, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    enum aad_status st = AAD_OK;
    int dropped = 0;
    if (p == NULL)
        unlinkat(dir, handle, 0);
    else
        st = write_record(dir, handle, p, &dropped, err);
    close(dir);
    return st;
}

enum aad_status aad_pending_get(const char *runtime_dir, const char *handle, const char *account,
                                struct aad_pending *p, struct aad_error *err)
{
    memset(p, 0, sizeof(*p));
    if (!valid_handle(handle))
        return aad_fail(err, AAD_USER_UNKNOWN, "no pending record");
    int dir = aad_runtime_subdir(runtime_dir, SUBDIR, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    char *text = NULL;
    size_t len = 0;
    enum aad_status st = aad_runtime_read(dir, handle, &text, &len, err);
    if (st != AAD_OK) {
        close(dir);
        return aad_fail(err, AAD_USER_UNKNOWN, "no pending record");
    }
    char *who = aad_runtime_field(text, "account"), *created = aad_runtime_field(text, "created");
    char *auth_session = aad_runtime_field(text, "auth_session");
    p->auth_session = auth_session ? atol(auth_session) : -1;
    free(auth_session);
    p->grants = aad_runtime_field(text, "grants");
    p->refresh_token = aad_runtime_field(text, "refresh_token");
    p->oid = aad_runtime_field(text, "oid");
    p->tid = aad_runtime_field(text, "tid");
    p->upn = aad_runtime_field(text, "upn");
    p->created = created ? atoll(created) : 0;
    if (who == NULL || strcmp(who, account) != 0)
        st = aad_fail(err, AAD_USER_UNKNOWN, "the pending record is for another account");
    else if (now_s() - p->created > AAD_PENDING_MAX_AGE_S || p->created > now_s() + 60)
        st = aad_fail(err, AAD_USER_UNKNOWN, "the pending record is too old");
    else
        snprintf(p->account, sizeof(p->account), "%s", who);
    if (st != AAD_OK) {
        unlinkat(dir, handle, 0);
        aad_pending_clear(p);
    }
    close(dir);
    free(who);
    free(created);
    aad_wipe(text, len);
    free(text);
    return st;
}

void aad_pending_clear(struct aad_pending *p)
{
    free(p->grants);
    aad_free_secret(p->refresh_token);
    free(p->oid);
    free(p->tid);
    free(p->upn);
    memset(p, 0, sizeof(*p));
}
