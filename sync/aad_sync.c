/* aad_sync.c - `aad-login sync`: one run of the sync.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync.h"
#include "aad_sync_files.h"
#include "aad_sync_graph.h"
#include "aad_sync_plan.h"
#include "aad_sync_state.h"
#include "aad_assertion.h"
#include "aad_config.h"
#include "aad_http.h"
#include "aad_json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MAX_OVERRIDES 32

struct sync_options {
    int dry_run;
    const char *state_dir;
    const char *files_dir;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: aad-login sync [--dry-run] [--config FILE] [-o key=value]... [--debug]\n"
            "                      [--state-dir DIR] [--files-dir DIR]\n"
            "Makes the members of the Entra ID groups of provision_groups local accounts\n"
            "(libnss-extrausers files) and keeps them in step: new members are added,\n"
            "members who left, were disabled or deleted are locked, and removed after\n"
            "provision_grace_days. Reads Microsoft Graph as the application (client_certificate).\n"
            "  --dry-run        print the changes, write nothing\n"
            "  --state-dir DIR  the sync's state (default %s)\n"
            "  --files-dir DIR  where the passwd, group and shadow files go (default %s)\n"
            "Exit: 0 done, 1 refused or not written (nothing changed), 2 usage,\n"
            "      3 unavailable (nothing changed), 4 configuration error.\n",
            AAD_DEFAULT_SYNC_STATE_DIR, AAD_SYNC_FILES_DIR);
}

static void log_to_stderr(void *ctx, int priority, const char *message)
{
    (void)ctx;
    fprintf(stderr, "aad-login sync: %s%s\n", priority <= LOG_WARNING ? "warning: " : "", message);
}

static int exit_of(const struct aad_error *err)
{
    switch (err->status) {
    case AAD_OK: return AAD_SYNC_EXIT_OK;
    case AAD_CONFIG_ERROR:
        return err->kind == AAD_FAILURE_HOST_MISCONFIGURED ? AAD_SYNC_EXIT_REFUSED
                                                           : AAD_SYNC_EXIT_CONFIG;
    case AAD_UNAVAILABLE: return AAD_SYNC_EXIT_UNAVAILABLE;
    default: return AAD_SYNC_EXIT_REFUSED;
    }
}

/* --dry-run: one line a change on stdout, its reason indented below. */
static void print_change(const struct aad_sync_change *c)
{
    char uid[32] = "";
    if (c->uid != 0)
        snprintf(uid, sizeof(uid), "uid %lu", c->uid);
    printf("%-7s %-16s %-15s %s\n", aad_sync_change_name(c->kind), c->name[0] ? c->name : "-",
           uid, c->upn);
    if (c->why[0] != '\0')
        printf("        %s\n", c->why);
}

/* A run: one log line a change (the journal of the timer's service). */
static void log_change(const struct aad_log *log, const struct aad_sync_change *c)
{
    switch (c->kind) {
    case AAD_SYNC_SKIP:
        aad_log(log, LOG_WARNING, "skipped %s (oid %s): %s", c->upn, c->oid, c->why);
        break;
    case AAD_SYNC_LOCK:
        aad_log(log, LOG_NOTICE,
                "locked %s (uid %lu, %s): %s; its running sessions are left to the "
                "administrator (loginctl terminate-user %s)", c->name, c->uid, c->upn, c->why,
                c->name);
        break;
    case AAD_SYNC_ADD:
        if (c->why[0] != '\0')
            aad_log(log, LOG_WARNING, "added %s with uid %lu (%s): %s", c->name, c->uid, c->upn,
                    c->why);
        else
            aad_log(log, LOG_INFO, "added %s with uid %lu (%s)", c->name, c->uid, c->upn);
        break;
    case AAD_SYNC_REMOVE:
        aad_log(log, LOG_NOTICE,
                "removed %s (uid %lu): locked for provision_grace_days; its files keep uid %lu, "
                "which is never given to anyone else", c->name, c->uid, c->uid);
        break;
    case AAD_SYNC_UNLOCK:
        aad_log(log, LOG_INFO, "unlocked %s (uid %lu, %s): a member again, enabled", c->name,
                c->uid, c->upn);
        break;
    }
}

/* The record --check shows. */
static void record_run(json_t *state, long long now, const struct aad_sync_plan *plan,
                       const struct aad_error *err, long requests)
{
    long counts[AAD_SYNC_SKIP + 1] = {0};
    json_t *skipped = json_array();
    for (size_t i = 0; i < plan->count; i++) {
        const struct aad_sync_change *c = &plan->items[i];
        counts[c->kind]++;
        if (c->kind == AAD_SYNC_SKIP && json_array_size(skipped) < 100)
            json_array_append_new(skipped, json_pack("{s:s,s:s,s:s,s:s}", "oid", c->oid, "upn",
                                                     c->upn, "name", c->name, "reason", c->why));
    }
    json_t *run = json_pack("{s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "at", (json_int_t)now,
                            "ok", err->status == AAD_OK, "accounts",
                            (json_int_t)json_object_size(json_object_get(state, "accounts")),
                            "added", (json_int_t)counts[AAD_SYNC_ADD], "locked",
                            (json_int_t)counts[AAD_SYNC_LOCK], "unlocked",
                            (json_int_t)counts[AAD_SYNC_UNLOCK], "removed",
                            (json_int_t)counts[AAD_SYNC_REMOVE], "skipped_count",
                            (json_int_t)counts[AAD_SYNC_SKIP], "requests", (json_int_t)requests,
                            "skipped", skipped);
    if (run != NULL && err->status != AAD_OK) {
        json_object_set_new(run, "error", json_string(err->message));
        json_object_set_new(run, "kind", json_string(aad_failure_name(err->kind)));
    }
    json_object_set_new(state, "last_run", run);
}

/* Graph's groups and the plan, with the application's token. */
static enum aad_status read_and_plan(const struct aad_config *cfg, json_t *state,
                                     const struct aad_log *log, long long now,
                                     struct aad_sync_plan *plan, long *requests,
                                     int64_t *graph_ms, struct aad_error *err)
{
    struct aad_http_options ho = {.ca_file = cfg->ca_file, .proxy = cfg->proxy,
                                  .timeout_s = cfg->http_timeout};
    struct aad_http *http = NULL;
    enum aad_status st = aad_http_new(&ho, &http, err);
    char scope[600];
    snprintf(scope, sizeof(scope), "%s/.default", cfg->graph_endpoint);
    struct aad_app_token token = {0};
    if (st == AAD_OK)
        st = aad_assertion_request(cfg, http, scope, "Microsoft Graph", &token, err);
    struct aad_sync_graph g = {cfg, http, token.access_token,
                               aad_monotonic_ms() + AAD_SYNC_DEADLINE_S * 1000LL, log, 0, 0};
    json_t *groups = aad_sync_state_object(state, "groups");
    json_t *directory = aad_sync_state_object(state, "directory");
    /* Groups no longer configured are forgotten (their members too, below). */
    json_t *configured = json_object();
    for (size_t i = 0; st == AAD_OK && i < cfg->provision_groups.count; i++) {
        char gid[37];
        snprintf(gid, sizeof(gid), "%.36s", cfg->provision_groups.items[i]);
        for (char *p = gid; *p != '\0'; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        json_t *group = aad_sync_state_object(groups, gid);
        json_object_set(configured, gid, group);
        st = aad_sync_graph_read_group(&g, gid, group, directory, now, err);
        aad_log(log, LOG_DEBUG, "group %s: %zu members", gid,
                json_object_size(json_object_get(group, "members")));
    }
    *requests = g.requests;
    *graph_ms = g.graph_ms;
    aad_app_token_clear(&token);
    aad_http_free(http);
    if (st == AAD_OK) {
        json_object_clear(groups);
        json_object_update(groups, configured);
        /* The directory keeps the members of configured groups only. */
        json_t *members = NULL;
        const char *gid, *oid;
        json_t *group, *v;
        if (json_object_size(groups) == 1) {
            json_object_foreach(groups, gid, group) {
                members = json_incref(json_object_get(group, "members"));
            }
        } else {
            members = json_object();
            json_object_foreach(groups, gid, group) {
                json_object_foreach(json_object_get(group, "members"), oid, v) {
                    json_object_set_new(members, oid, json_true());
                }
            }
        }
        json_t *tmp;
        json_object_foreach_safe(directory, tmp, oid, v) {
            if (json_object_get(members, oid) == NULL)
                json_object_del(directory, oid);
        }
        json_decref(members);
        struct aad_sync_names names;
        aad_sync_system_names(&names);
        st = aad_sync_plan_make(cfg, state, &names, now, plan, err);
    }
    json_decref(configured);
    return st;
}

static int run(const struct aad_config *cfg, const struct sync_options *o)
{
    struct aad_log log = {log_to_stderr, NULL, cfg->debug};
    struct aad_error err = {0};
    if (cfg->provision_groups.count == 0) {
        fprintf(stderr, "aad-login sync: %s: set provision_groups (the Entra groups whose "
                        "members become accounts); pam_aad.conf(5)\n", cfg->path);
        return AAD_SYNC_EXIT_CONFIG;
    }
    int lock_fd = -1;
    json_t *state = NULL;
    struct aad_sync_plan plan = {0};
    long long now = (long long)time(NULL);
    long requests = 0;
    int64_t start = aad_monotonic_ms(), graph_ms = 0;
    enum aad_status st = aad_sync_state_lock(o->state_dir, &lock_fd, &err);
    if (st == AAD_OK)
        st = aad_sync_state_load(o->state_dir, &state, &err);
    int loaded = st == AAD_OK;
    if (st == AAD_OK)
        st = read_and_plan(cfg, state, &log, now, &plan, &requests, &graph_ms, &err);
    if (st == AAD_OK && o->dry_run) {
        printf("Changes a sync would make (dry run: nothing is written):\n");
        for (size_t i = 0; i < plan.count; i++)
            print_change(&plan.items[i]);
    }
    if (st == AAD_OK && !o->dry_run) {
        /* The files are made from the state, so the state is saved first:
         * with the files first, the next run would find its own new lines
         * in the name service and take them for someone else's. A failed
         * write of the files is made good by the next run. */
        record_run(state, now, &plan, &err, requests);
        st = aad_sync_state_save(o->state_dir, state, &err);
        for (size_t i = 0; st == AAD_OK && i < plan.count; i++)
            log_change(&log, &plan.items[i]);
        if (st == AAD_OK)
            st = aad_sync_files_write(o->files_dir, json_object_get(state, "accounts"), &plan,
                                      cfg->provision_shell, &err);
    }
    if (st != AAD_OK) {
        fprintf(stderr, "aad-login sync: %s\n", err.message);
        /* Reload the state as it was, with this failed run recorded. */
        json_decref(state);
        state = NULL;
        if (loaded && !o->dry_run && aad_sync_state_load(o->state_dir, &state, NULL) == AAD_OK) {
            struct aad_sync_plan none = {0};
            record_run(state, now, &none, &err, requests);
            aad_sync_state_save(o->state_dir, state, NULL);
        }
    } else {
        long counts[AAD_SYNC_SKIP + 1] = {0};
        for (size_t i = 0; i < plan.count; i++)
            counts[plan.items[i].kind]++;
        printf("%s%zu accounts: %ld added, %ld locked, %ld unlocked, %ld removed, %ld skipped;\n"
               "%ld Graph requests (%.3f s) in %.3f s\n",
               o->dry_run ? "After it: " : "",
               json_object_size(json_object_get(state, "accounts")), counts[AAD_SYNC_ADD],
               counts[AAD_SYNC_LOCK], counts[AAD_SYNC_UNLOCK], counts[AAD_SYNC_REMOVE],
               counts[AAD_SYNC_SKIP], requests, (double)graph_ms / 1000.0,
               (double)(aad_monotonic_ms() - start) / 1000.0);
    }
    aad_sync_plan_clear(&plan);
    json_decref(state);
    if (lock_fd >= 0)
        close(lock_fd);
    return exit_of(&err);
}

int aad_sync_main(int argc, char **argv, const char *default_config)
{
    static const struct option long_opts[] = {
        {"dry-run", no_argument, NULL, 'n'},        {"config", required_argument, NULL, 'f'},
        {"option", required_argument, NULL, 'o'},   {"debug", no_argument, NULL, 'd'},
        {"state-dir", required_argument, NULL, 's'}, {"files-dir", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct sync_options o = {0, AAD_DEFAULT_SYNC_STATE_DIR, AAD_SYNC_FILES_DIR};
    const char *args[MAX_OVERRIDES + 2];
    char config_arg[4096 + 8] = "";
    int nargs = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "nf:o:dh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'n': o.dry_run = 1; break;
        case 's': o.state_dir = optarg; break;
        case 'F': o.files_dir = optarg; break;
        case 'f': snprintf(config_arg, sizeof(config_arg), "config=%s", optarg); break;
        case 'o':
        case 'd':
            if (nargs >= MAX_OVERRIDES) {
                fprintf(stderr, "aad-login sync: too many -o or -d options\n");
                return AAD_SYNC_EXIT_USAGE;
            }
            args[nargs++] = opt == 'o' ? optarg : "debug";
            break;
        case 'h': usage(stdout); return AAD_SYNC_EXIT_OK;
        default: usage(stderr); return AAD_SYNC_EXIT_USAGE;
        }
    }
    if (optind != argc || o.state_dir[0] != '/' || o.files_dir[0] != '/') {
        usage(stderr);
        return AAD_SYNC_EXIT_USAGE;
    }
    if (config_arg[0] != '\0')
        args[nargs++] = config_arg;
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    if (aad_config_load(default_config, nargs, args, &cfg, &err) != AAD_OK) {
        fprintf(stderr, "aad-login sync: %s\n", err.message);
        return AAD_SYNC_EXIT_CONFIG;
    }
    int rc = run(cfg, &o);
    aad_config_free(cfg);
    return rc;
}
