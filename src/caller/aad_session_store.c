/* aad_session_store.c - session sign-ins under runtime_dir/sessions.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_session_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aad_runtime.h"

#define SUBDIR "sessions"
#define SESSION_ID_FILE "/proc/self/sessionid"
#define UNSET_SESSION_ID 4294967295UL
#define SCAN_MAX 65536

void aad_session_signin_clear(struct aad_session_signin *s)
{
    aad_free_secret(s->refresh_token);
    free(s->oid);
    free(s->tid);
    free(s->upn);
    memset(s, 0, sizeof(*s));
}

long aad_audit_session_id(void)
{
    FILE *f = fopen(SESSION_ID_FILE, "re");
    unsigned long id = UNSET_SESSION_ID;
    if (f != NULL) {
        if (fscanf(f, "%lu", &id) != 1)
            id = UNSET_SESSION_ID;
        fclose(f);
    }
    return id >= UNSET_SESSION_ID || id > 0x7fffffffUL ? AAD_NO_SESSION : (long)id;
}

static void record_name(long session_id, unsigned long uid, char *name, size_t size)
{
    snprintf(name, size, "%ld-%lu", session_id, uid);
}

enum aad_status aad_session_store_put(const char *runtime_dir, const struct aad_session_signin *s,
                                      struct aad_error *err)
{
    if (s->session_id == AAD_NO_SESSION || s->refresh_token == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "no audit session to keep a sign-in for");
    if (!aad_runtime_value_ok(s->account) || !aad_runtime_value_ok(s->refresh_token) ||
        !aad_runtime_value_ok(s->oid) || !aad_runtime_value_ok(s->tid) ||
        !aad_runtime_value_ok(s->upn))
        return aad_fail(err, AAD_UNAVAILABLE, "a value of the sign-in has a control character");
    int dir = aad_runtime_subdir(runtime_dir, SUBDIR, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    enum aad_status st = AAD_OK;
    if (!aad_runtime_in_memory(dir)) {
        st = aad_fail(err, AAD_UNAVAILABLE,
                      "runtime_dir is not in memory (tmpfs): no session sign-in is kept there");
    } else {
        size_t size = strlen(s->refresh_token) + (s->upn ? strlen(s->upn) : 0) + 512;
        char *text = malloc(size), name[64];
        if (text == NULL) {
            st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
        } else {
            int n = snprintf(text, size,
                             "session %ld\nuid %lu\naccount %s\nsigned_in_at %lld\nexpires_at %lld\n"
                             "oid %s\ntid %s\nupn %s\nrefresh_token %s\n",
                             s->session_id, s->uid, s->account, s->signed_in_at, s->expires_at,
                             s->oid ? s->oid : "", s->tid ? s->tid : "", s->upn ? s->upn : "",
                             s->refresh_token);
            record_name(s->session_id, s->uid, name, sizeof(name));
            st = aad_runtime_write(dir, name, text, (size_t)n, err);
            aad_wipe(text, (size_t)n);
            free(text);
        }
    }
    close(dir);
    return st;
}

/* Reads record name of dir into s (with the refresh token when secret). */
static enum aad_status read_record(int dir, const char *name, int secret,
                                   struct aad_session_signin *s, struct aad_error *err)
{
    memset(s, 0, sizeof(*s));
    char *text = NULL;
    size_t len = 0;
    enum aad_status st = aad_runtime_read(dir, name, &text, &len, err);
    if (st != AAD_OK)
        return st;
    char *v[5] = {aad_runtime_field(text, "session"), aad_runtime_field(text, "uid"),
                  aad_runtime_field(text, "account"), aad_runtime_field(text, "signed_in_at"),
                  aad_runtime_field(text, "expires_at")};
    s->session_id = v[0] ? atol(v[0]) : AAD_NO_SESSION;
    s->uid = v[1] ? strtoul(v[1], NULL, 10) : 0;
    snprintf(s->account, sizeof(s->account), "%s", v[2] ? v[2] : "");
    s->signed_in_at = v[3] ? atoll(v[3]) : 0;
    s->expires_at = v[4] ? atoll(v[4]) : 0;
    s->oid = aad_runtime_field(text, "oid");
    s->tid = aad_runtime_field(text, "tid");
    s->upn = aad_runtime_field(text, "upn");
    if (secret)
        s->refresh_token = aad_runtime_field(text, "refresh_token");
    for (size_t i = 0; i < 5; i++)
        free(v[i]);
    aad_wipe(text, len);
    free(text);
    if (v[2] == NULL || (secret && (s->refresh_token == NULL || s->refresh_token[0] == '\0'))) {
        aad_session_signin_clear(s);
        return aad_fail(err, AAD_USER_UNKNOWN, "an unreadable session record %s", name);
    }
    return AAD_OK;
}

enum aad_status aad_session_store_get(const char *runtime_dir, long session_id, unsigned long uid,
                                      const char *account, long long now,
                                      struct aad_session_signin *s, struct aad_error *err)
{
    memset(s, 0, sizeof(*s));
    if (session_id == AAD_NO_SESSION)
        return aad_fail(err, AAD_USER_UNKNOWN, "no audit session");
    int dir = aad_runtime_subdir(runtime_dir, SUBDIR, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    char name[64];
    record_name(session_id, uid, name, sizeof(name));
    enum aad_status st = read_record(dir, name, 1, s, err);
    if (st == AAD_OK && (strcmp(s->account, account) != 0 || s->session_id != session_id ||
                         s->uid != uid)) {
        st = aad_fail(err, AAD_USER_UNKNOWN, "the session record is for another account");
        aad_session_signin_clear(s);
    } else if (st == AAD_OK && now >= s->expires_at) {
        st = aad_fail(err, AAD_USER_UNKNOWN, "the session sign-in is older than reauth_max_age");
        aad_session_signin_clear(s);
        unlinkat(dir, name, 0);
    }
    close(dir);
    return st;
}

void aad_session_store_remove(const char *runtime_dir, long session_id, unsigned long uid)
{
    struct aad_error ignored = {0};
    int dir = session_id == AAD_NO_SESSION ? -1 : aad_runtime_subdir(runtime_dir, SUBDIR, &ignored);
    if (dir < 0)
        return;
    char name[64];
    record_name(session_id, uid, name, sizeof(name));
    unlinkat(dir, name, 0);
    close(dir);
}

int aad_session_store_each(const char *runtime_dir, long long now,
                           void (*fn)(void *ctx, const struct aad_session_signin *s), void *ctx,
                           struct aad_error *err)
{
    int dir = aad_runtime_subdir(runtime_dir, SUBDIR, err);
    if (dir < 0)
        return -1;
    int fd = dup(dir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        close(dir);
        aad_fail(err, AAD_UNAVAILABLE, "cannot list the session sign-ins");
        return -1;
    }
    int count = 0;
    size_t seen = 0;
    for (struct dirent *e; seen < SCAN_MAX && (e = readdir(d)) != NULL; seen++) {
        struct aad_session_signin s;
        struct aad_error ignored = {0};
        if (e->d_name[0] == '.' || read_record(dir, e->d_name, 0, &s, &ignored) != AAD_OK)
            continue;
        if (now >= s.expires_at) {
            unlinkat(dir, e->d_name, 0);
        } else {
            fn(ctx, &s);
            count++;
        }
        aad_session_signin_clear(&s);
    }
    closedir(d);
    close(dir);
    return count;
}
