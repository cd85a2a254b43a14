/* aad_sync_files.c - the extrausers files from the sync's accounts.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync_files.h"
#include "aad_sync_write.h"
#include "aad_json.h"
#include "aad_safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum file_kind { PASSWD, GROUP, SHADOW };

/* A growing text. */
struct text {
    char *s;
    size_t len, cap;
    int failed;
};

static void append(struct text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 65536;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *bigger = realloc(t->s, cap);
        if (bigger == NULL) {
            t->failed = 1;
            return;
        }
        t->s = bigger;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

/* The lines of the old file whose names the sync does not manage. */
static enum aad_status keep_others(int dir_fd, const char *dir, const char *name,
                                   const json_t *managed, struct text *out, struct aad_error *err)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT)
        return AAD_OK;
    char *old = NULL;
    size_t len = 0;
    if (fd < 0 || aad_safefile_read_fd(fd, AAD_SYNC_FILE_MAX_BYTES, &old, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be read", dir, name);
    }
    close(fd);
    for (char *line = old; line < old + len;) {
        char *end = memchr(line, '\n', (size_t)(old + len - line));
        size_t n = end ? (size_t)(end - line) : (size_t)(old + len - line);
        char key[64];
        size_t k = strcspn(line, ":\n");
        snprintf(key, sizeof(key), "%.*s", (int)(k < 63 ? k : 63), line);
        if (n > 0 && json_object_get(managed, key) == NULL) {
            append(out, line, n);
            append(out, "\n", 1);
        }
        line += n + 1;
    }
    free(old);
    return AAD_OK;
}

/* The UPN as a GECOS field: no separators. */
static void gecos_of(const char *upn, char *out, size_t size)
{
    snprintf(out, size, "%s", upn ? upn : "");
    for (char *p = out; *p != '\0'; p++) {
        if (*p == ':' || *p == ',' || *p == '\n' || *p == '=')
            *p = '_';
    }
}

static void account_line(enum file_kind kind, const json_t *acct, const char *shell,
                         struct text *out)
{
    const char *name = aad_json_string(acct, "name");
    unsigned long uid = (unsigned long)json_integer_value(json_object_get(acct, "uid"));
    int locked = json_integer_value(json_object_get(acct, "locked_since")) != 0;
    char line[1024], gecos[300];
    int n = 0;
    switch (kind) {
    case PASSWD:
        gecos_of(aad_json_string(acct, "upn"), gecos, sizeof(gecos));
        n = snprintf(line, sizeof(line), "%s:x:%lu:%lu:%s:/home/%s:%s\n", name, uid, uid, gecos,
                     name, locked ? AAD_SYNC_LOCKED_SHELL : shell);
        break;
    case GROUP:
        n = snprintf(line, sizeof(line), "%s:x:%lu:\n", name, uid);
        break;
    case SHADOW:
        /* name:password:lastchg:min:max:warn:inactive:expire:reserved;
         * expire day 1 (1970-01-02) has passed: pam_unix refuses the account. */
        n = snprintf(line, sizeof(line), "%s:!::::::%s:\n", name, locked ? "1" : "");
        break;
    }
    if (n > 0 && (size_t)n < sizeof(line))
        append(out, line, (size_t)n);
}

static enum aad_status stage_one(int dir_fd, const char *dir, enum file_kind kind,
                                 const json_t *accounts, const json_t *managed, const char *shell,
                                 struct aad_sync_staged *staged, struct aad_error *err)
{
    static const char *const names[] = {"passwd", "group", "shadow"};
    struct text t = {0};
    enum aad_status st = keep_others(dir_fd, dir, names[kind], managed, &t, err);
    const char *oid;
    json_t *acct;
    json_object_foreach((json_t *)accounts, oid, acct) {
        account_line(kind, acct, shell, &t);
    }
    if (st == AAD_OK && t.failed)
        st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    if (st == AAD_OK) {
        /* shadow as Debian keeps /etc/shadow: root:shadow 0640. */
        gid_t gid = (gid_t)-1;
        struct group *shadow_group = kind == SHADOW && geteuid() == 0 ? getgrnam("shadow") : NULL;
        if (shadow_group != NULL)
            gid = shadow_group->gr_gid;
        st = aad_sync_stage(dir_fd, dir, names[kind], t.s ? t.s : "", t.len,
                            kind == SHADOW ? 0640 : 0644, gid, staged, err);
    }
    free(t.s);
    return st;
}

enum aad_status aad_sync_files_write(const char *dir, const json_t *accounts,
                                     const struct aad_sync_plan *plan, const char *shell,
                                     struct aad_error *err)
{
    int dir_fd = aad_sync_open_dir(dir, 0, err);
    if (dir_fd < 0)
        return err->status;
    json_t *managed = json_object();
    const char *oid;
    json_t *acct;
    json_object_foreach((json_t *)accounts, oid, acct) {
        const char *name = aad_json_string(acct, "name");
        if (name != NULL)
            json_object_set_new(managed, name, json_true());
    }
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->items[i].kind == AAD_SYNC_REMOVE)
            json_object_set_new(managed, plan->items[i].name, json_true());
    }
    /* All three written and flushed before any is renamed: a full disk
     * or a failed write changes none. Then an account appears last
     * (passwd) and is locked first (shadow). */
    static const enum file_kind order[] = {GROUP, SHADOW, PASSWD};
    struct aad_sync_staged staged[3];
    memset(staged, 0, sizeof(staged));
    enum aad_status st = AAD_OK;
    for (size_t i = 0; st == AAD_OK && i < 3; i++)
        st = stage_one(dir_fd, dir, order[i], accounts, managed, shell, &staged[i], err);
    for (size_t i = 0; st == AAD_OK && i < 3; i++)
        st = aad_sync_commit(dir_fd, dir, &staged[i], err);
    for (size_t i = 0; i < 3; i++)
        aad_sync_discard(dir_fd, &staged[i]);
    json_decref(managed);
    close(dir_fd);
    return st;
}
