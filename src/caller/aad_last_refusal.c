/* aad_last_refusal.c - the previous attempt's refusal, kept for the next.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_last_refusal.h"
#include "aad_runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUB "refusals"

struct aad_refusal aad_last_refusal_view(const struct aad_last_refusal *r)
{
    struct aad_refusal v = {r->kind,    r->aadsts,         r->upn[0] ? r->upn : NULL,
                            r->account, r->correlation_id, r->clock_offset_s};
    return v;
}

/* "<pid>-<start time>" of process pid, from /proc; 0 or -1. */
static int process_name(long pid, char *name, size_t size)
{
    char path[64], stat[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    /* Field 22, starttime, counted after the command's closing ')'. */
    const char *p = strrchr(stat, ')');
    unsigned long long start = 0;
    for (int field = 2; p != NULL && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
        return -1;
    return snprintf(name, size, "%ld-%llu", pid, start) < (int)size ? 0 : -1;
}

int aad_last_refusal_name(char *name, size_t size)
{
    return process_name((long)getppid(), name, size);
}

/* A record of a connection whose sshd is gone (no next attempt came). */
static int ended(const struct dirent *e)
{
    char now[64];
    long pid = strtol(e->d_name, NULL, 10);
    return e->d_name[0] != '.' &&
           (pid <= 0 || process_name(pid, now, sizeof(now)) != 0 || strcmp(now, e->d_name) != 0);
}

static void forget_ended(int dir)
{
    struct dirent **gone = NULL;
    int n = scandirat(dir, ".", &gone, ended, NULL);
    for (int i = 0; i < n; i++) {
        unlinkat(dir, gone[i]->d_name, 0);
        free(gone[i]);
    }
    free(gone);
}

enum aad_status aad_last_refusal_put(const char *runtime_dir, const char *name,
                                     const struct aad_last_refusal *r, struct aad_error *err)
{
    char text[512];
    if (!aad_runtime_value_ok(r->upn) || !aad_runtime_value_ok(r->correlation_id) ||
        !aad_runtime_value_ok(r->account))
        return aad_fail(err, AAD_UNAVAILABLE, "a refusal with control characters is not kept");
    int n = snprintf(text, sizeof(text),
                     "account %s\ncreated %lld\nkind %d\naadsts %ld\noffset %ld\n"
                     "correlation %s\nupn %s\n",
                     r->account, (long long)time(NULL), (int)r->kind, r->aadsts,
                     r->clock_offset_s, r->correlation_id[0] ? r->correlation_id : "-",
                     r->upn[0] ? r->upn : "-");
    int dir = aad_runtime_subdir(runtime_dir, SUB, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    forget_ended(dir);
    enum aad_status st = aad_runtime_write(dir, name, text, (size_t)n, err);
    close(dir);
    return st;
}

/* A "key value" field as a bounded number; fallback when absent or bad. */
static long number(const char *text, const char *key, long min, long max, long fallback)
{
    char *v = aad_runtime_field(text, key), *end = NULL;
    long n = v ? strtol(v, &end, 10) : fallback;
    if (v == NULL || end == v || *end != '\0' || n < min || n > max)
        n = fallback;
    free(v);
    return n;
}

/* A "key value" field copied into out when it is one printable word. */
static void word(const char *text, const char *key, char *out, size_t size)
{
    char *v = aad_runtime_field(text, key);
    out[0] = '\0';
    if (v != NULL && strcmp(v, "-") != 0 && aad_is_printable_token(v, size - 1))
        snprintf(out, size, "%s", v);
    free(v);
}

enum aad_status aad_last_refusal_take(const char *runtime_dir, const char *name,
                                      const char *account, struct aad_last_refusal *r,
                                      struct aad_error *err)
{
    memset(r, 0, sizeof(*r));
    char *text = NULL;
    size_t len = 0;
    int dir = aad_runtime_subdir(runtime_dir, SUB, err);
    if (dir < 0)
        return AAD_UNAVAILABLE;
    enum aad_status st = aad_runtime_read(dir, name, &text, &len, err);
    unlinkat(dir, name, 0); /* taken once, whatever it says */
    close(dir);
    if (st != AAD_OK)
        return st;
    long long now = (long long)time(NULL);
    long created = number(text, "created", 0, LONG_MAX, 0);
    word(text, "account", r->account, sizeof(r->account));
    if (strcmp(r->account, account) != 0 || now - created > AAD_LAST_REFUSAL_MAX_AGE_S ||
        created > now + 60) {
        st = aad_fail(err, AAD_USER_UNKNOWN, "no refusal of this login to recall");
    } else {
        r->kind = (enum aad_failure)number(text, "kind", 0, AAD_FAILURE_LAST, AAD_FAILURE_REFUSED);
        r->aadsts = number(text, "aadsts", 0, 99999999L, 0);
        r->clock_offset_s = number(text, "offset", -100000000L, 100000000L, 0);
        word(text, "correlation", r->correlation_id, sizeof(r->correlation_id));
        word(text, "upn", r->upn, sizeof(r->upn));
    }
    aad_wipe(text, len);
    free(text);
    if (st != AAD_OK)
        memset(r, 0, sizeof(*r));
    return st;
}
