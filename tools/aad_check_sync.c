/* aad_check_sync.c - the sync's part of `aad-login --check`.
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_sync.h"
#include "aad_json.h"
#include "aad_sync_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SKIPPED_SHOWN 20

static void item(struct aad_check_report *r, const char *name, enum aad_check_result result,
                 enum aad_status status, const char *cause, const char *message, const char *hint)
{
    struct aad_check_item it = {name, result, status, cause, 0, -1, message, hint};
    aad_check_report_add(r, &it);
}

/* Whether the database's line ("passwd:") names extrausers: 1, 0, or -1 no line. */
static int lists_extrausers(const char *text, const char *database)
{
    size_t n = strlen(database);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, database, n) == 0 && p[n] == ':') {
            char buf[512];
            snprintf(buf, sizeof(buf), "%.*s", (int)(len - (size_t)(p - line)), p);
            char *hash = strchr(buf, '#');
            if (hash != NULL)
                *hash = '\0';
            char *save = NULL;
            for (char *w = strtok_r(buf + n + 1, " \t", &save); w != NULL;
                 w = strtok_r(NULL, " \t", &save)) {
                if (strcmp(w, "extrausers") == 0)
                    return 1;
            }
            return 0;
        }
        line = end ? end + 1 : NULL;
    }
    return -1;
}

static void check_nsswitch(struct aad_check_report *r, const char *path)
{
    FILE *f = fopen(path, "re");
    char text[16384];
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    text[n] = '\0';
    static const char *const databases[] = {"passwd", "group", "shadow"};
    char missing[64] = "";
    for (size_t i = 0; i < 3; i++) {
        if (lists_extrausers(text, databases[i]) != 1)
            snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                     missing[0] ? ", " : "", databases[i]);
    }
    char message[256];
    if (missing[0] == '\0') {
        snprintf(message, sizeof(message), "%s: passwd, group and shadow list extrausers", path);
        item(r, "nsswitch.conf", CHECK_OK, AAD_OK, NULL, message, NULL);
        return;
    }
    snprintf(message, sizeof(message), "%s: %s without extrausers: the synced accounts do not "
                                       "exist for this host", path, missing);
    item(r, "nsswitch.conf", CHECK_FAIL, AAD_CONFIG_ERROR, "nsswitch",
         message, "Add extrausers after files on the passwd, group and shadow lines of "
                  "/etc/nsswitch.conf (package libnss-extrausers).");
}

static void check_last_run(struct aad_check_report *r, const json_t *state)
{
    const json_t *run = json_object_get(state, "last_run");
    char message[1024];
    if (run == NULL) {
        item(r, "last sync", CHECK_WARN, AAD_OK, NULL, "aad-login sync has not run yet",
             "systemctl enable --now pam_aad-sync.timer (or run aad-login sync once).");
        return;
    }
    long long at = json_integer_value(json_object_get(run, "at"));
    long long age = (long long)time(NULL) - at;
    time_t t = (time_t)at;
    struct tm tm;
    char when[64] = "?";
    if (gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (!json_is_true(json_object_get(run, "ok"))) {
        const char *error = aad_json_string(run, "error"), *kind = aad_json_string(run, "kind");
        int config = kind != NULL && (strcmp(kind, aad_failure_name(AAD_FAILURE_BAD_CONFIG)) == 0 ||
                                      strcmp(kind, aad_failure_name(AAD_FAILURE_HOST_MISCONFIGURED)) == 0);
        snprintf(message, sizeof(message), "the last run (%s) failed and changed nothing: %s",
                 when, error ? error : "no reason recorded");
        item(r, "last sync", CHECK_FAIL, config ? AAD_CONFIG_ERROR : AAD_UNAVAILABLE,
             config ? "sync_refused" : "sync_failed", message,
             config ? "Fix what the message names (a Graph permission of the application, a "
                      "group ID), then run aad-login sync --dry-run."
                    : "journalctl -u pam_aad-sync.service shows each run; aad-login sync "
                      "--dry-run tries again without writing.");
        return;
    }
    snprintf(message, sizeof(message),
             "%s (%lld s ago): %lld accounts; %lld added, %lld locked, %lld unlocked, "
             "%lld removed, %lld skipped; %lld Graph requests", when, age,
             (long long)json_integer_value(json_object_get(run, "accounts")),
             (long long)json_integer_value(json_object_get(run, "added")),
             (long long)json_integer_value(json_object_get(run, "locked")),
             (long long)json_integer_value(json_object_get(run, "unlocked")),
             (long long)json_integer_value(json_object_get(run, "removed")),
             (long long)json_integer_value(json_object_get(run, "skipped_count")),
             (long long)json_integer_value(json_object_get(run, "requests")));
    int stale = age > AAD_CHECK_SYNC_STALE_S;
    item(r, "last sync", stale ? CHECK_WARN : CHECK_OK, AAD_OK, NULL, message,
         stale ? "The timer runs every few minutes: systemctl status pam_aad-sync.timer." : NULL);
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(run, "skipped"), i, s) {
        if (i >= MAX_SKIPPED_SHOWN)
            break;
        const char *upn = aad_json_string(s, "upn"), *why = aad_json_string(s, "reason");
        snprintf(message, sizeof(message), "%s: %s", upn ? upn : "?", why ? why : "?");
        item(r, "skipped", CHECK_WARN, AAD_OK, NULL, message, NULL);
    }
    const char *oid;
    const json_t *acct;
    json_object_foreach((json_t *)json_object_get(state, "accounts"), oid, acct) {
        if (json_is_true(json_object_get(acct, "uid_collision"))) {
            snprintf(message, sizeof(message), "%s has uid %lld after a collision: it may "
                     "differ on other hosts", aad_json_string(acct, "name"),
                     (long long)json_integer_value(json_object_get(acct, "uid")));
            item(r, "uid collision", CHECK_INFO, AAD_OK, NULL, message, NULL);
        }
    }
}

void aad_check_sync(struct aad_check_report *r, const struct aad_config *cfg,
                    const char *state_dir, const char *nsswitch)
{
    if (cfg->provision_groups.count == 0)
        return;
    check_nsswitch(r, nsswitch);
    json_t *state = NULL;
    struct aad_error err = {0};
    if (aad_sync_state_load(state_dir, &state, &err) != AAD_OK) {
        item(r, "last sync", CHECK_SKIP, AAD_OK, NULL, err.message, "Run aad-login --check as root.");
        return;
    }
    check_last_run(r, state);
    json_decref(state);
}
