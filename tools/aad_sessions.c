/* aad_sessions.c - `aad-login sessions`: which login sessions keep a
 * sign-in (aad_session_store.h), how old it is, whether the session still
 * has processes, and dropping one.
 *
 * Where it runs: in aad-login, the administrator's command, as root (the
 * store is root's; nothing in it is shown but who, when and which session:
 * never a token). */
#include "config.h"

#include "aad_sessions.h"

#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aad_config.h"
#include "aad_session_store.h"

#define EXIT_OK 0
#define EXIT_USAGE 2
#define EXIT_UNAVAILABLE 3
#define EXIT_CONFIG 4
#define MAX_OVERRIDES 32
#define MAX_LISTED 4096
#define PROC_SCAN_MAX 1000000

struct listed {
    struct aad_session_signin rows[MAX_LISTED];
    size_t count;
};

static void usage(FILE *f, const char *default_config)
{
    fprintf(f,
            "Usage: aad-login sessions [--json] [--config FILE] [-o key=value]...\n"
            "       aad-login sessions --drop SESSION | --drop-user USER\n"
            "Lists the login sessions that keep a Microsoft Entra ID sign-in (so that sudo\n"
            "in them is answered by a silent, online refresh: reauth_max_age), as root.\n"
            "  --drop SESSION     forget the sign-in of that audit session (its next sudo\n"
            "                     asks for a device-code sign-in)\n"
            "  --drop-user USER   forget every session sign-in of that local account\n"
            "Default configuration: %s\n"
            "Exit: 0 success, 2 usage, 3 the store cannot be read (not root?),\n"
            "      4 configuration error.\n",
            default_config);
}

static void collect(void *ctx, const struct aad_session_signin *s)
{
    struct listed *l = ctx;
    if (l->count >= MAX_LISTED)
        return;
    struct aad_session_signin *r = &l->rows[l->count++];
    *r = *s;
    r->refresh_token = NULL;
    r->oid = s->oid ? strdup(s->oid) : NULL;
    r->tid = s->tid ? strdup(s->tid) : NULL;
    r->upn = s->upn ? strdup(s->upn) : NULL;
}

/* Whether any process still belongs to audit session id: a session whose
 * processes are all gone without pam_close_session (a killed sshd) keeps
 * its record until it expires, usable by no one (the kernel never hands
 * the same ID out again before a reboot). */
static int session_has_processes(long id)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    int found = 0;
    size_t seen = 0;
    for (struct dirent *e; !found && seen < PROC_SCAN_MAX && (e = readdir(d)) != NULL; seen++) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%.20s/sessionid", e->d_name);
        FILE *f = fopen(path, "re");
        long v = -1;
        if (f == NULL)
            continue;
        if (fscanf(f, "%ld", &v) == 1 && v == id)
            found = 1;
        fclose(f);
    }
    closedir(d);
    return found;
}

static void print_age(char *buf, size_t size, long long seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 3600)
        snprintf(buf, size, "%lldm%02llds", seconds / 60, seconds % 60);
    else
        snprintf(buf, size, "%lldh%02lldm", seconds / 3600, seconds % 3600 / 60);
}

static void print_table(const struct listed *l, long long now)
{
    if (l->count == 0) {
        printf("No login session keeps a sign-in.\n");
        return;
    }
    printf("%-8s %-16s %-7s %-10s %-4s %s\n", "SESSION", "ACCOUNT", "AGE", "EXPIRES IN", "LIVE",
           "SIGNED IN AS");
    int ended = 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct aad_session_signin *s = &l->rows[i];
        char age[32], left[32];
        print_age(age, sizeof(age), now - s->signed_in_at);
        print_age(left, sizeof(left), s->expires_at - now);
        int alive = session_has_processes(s->session_id);
        ended |= alive == 0;
        printf("%-8ld %-16s %-7s %-10s %-4s %s\n", s->session_id, s->account, age, left,
               alive < 0 ? "?" : alive ? "yes" : "no", s->upn ? s->upn : "");
    }
    if (ended)
        printf("LIVE no: the session has no process left (it ended without pam_close_session);\n"
               "its sign-in serves no one and goes at EXPIRES IN (or with --drop).\n");
}

static void print_json(const struct listed *l, long long now)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < l->count; i++) {
        const struct aad_session_signin *s = &l->rows[i];
        int alive = session_has_processes(s->session_id);
        json_array_append_new(
            a, json_pack("{s:I, s:s, s:I, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:o}", "session",
                         (json_int_t)s->session_id, "account", s->account, "uid",
                         (json_int_t)s->uid, "upn", s->upn, "oid", s->oid, "tid", s->tid,
                         "signed_in_at", (json_int_t)s->signed_in_at, "expires_at",
                         (json_int_t)s->expires_at, "age", (json_int_t)(now - s->signed_in_at),
                         "processes", alive < 0 ? json_null() : json_boolean(alive)));
    }
    char *text = a != NULL ? json_dumps(a, JSON_INDENT(2)) : NULL;
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(a);
}

/* Removes the listed records that match (drop_session, or drop_user); the
 * number removed. */
static int drop(const struct aad_config *cfg, const struct listed *l, long drop_session,
                const char *drop_user)
{
    int dropped = 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct aad_session_signin *s = &l->rows[i];
        if (drop_user != NULL ? strcmp(s->account, drop_user) == 0
                              : s->session_id == drop_session) {
            aad_session_store_remove(cfg->runtime_dir, s->session_id, s->uid);
            printf("Dropped the sign-in of session %ld (%s).\n", s->session_id, s->account);
            dropped++;
        }
    }
    return dropped;
}

static int run(const struct aad_config *cfg, int json, long drop_session, const char *drop_user)
{
    struct listed *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return EXIT_UNAVAILABLE;
    struct aad_error err = {0};
    long long now = (long long)time(NULL);
    int rc = EXIT_OK;
    if (aad_session_store_each(cfg->runtime_dir, now, collect, l, &err) < 0) {
        fprintf(stderr, "aad-login sessions: %s under %s%s\n", err.message, cfg->runtime_dir,
                geteuid() != 0 ? " (run it as root)" : "");
        rc = EXIT_UNAVAILABLE;
    } else if (drop_session >= 0 || drop_user != NULL) {
        if (drop(cfg, l, drop_session, drop_user) == 0)
            printf("No session sign-in matched; nothing dropped.\n");
    } else if (json) {
        print_json(l, now);
    } else {
        print_table(l, now);
        if (cfg->reauth_max_age == 0)
            printf("Session sign-in is off (reauth_max_age = 0).\n");
    }
    for (size_t i = 0; i < l->count; i++)
        aad_session_signin_clear(&l->rows[i]);
    free(l);
    return rc;
}

int aad_sessions_main(int argc, char **argv, const char *default_config)
{
    static const struct option long_opts[] = {
        {"json", no_argument, NULL, 'j'},          {"drop", required_argument, NULL, 'D'},
        {"drop-user", required_argument, NULL, 'U'}, {"config", required_argument, NULL, 'f'},
        {"option", required_argument, NULL, 'o'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *args[MAX_OVERRIDES + 1], *drop_user = NULL;
    char config_arg[4096 + 8] = "", *end = NULL;
    long drop_session = -1;
    int nargs = 0, json = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "f:o:h", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'j': json = 1; break;
        case 'D':
            drop_session = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || drop_session < 0) {
                fprintf(stderr, "aad-login sessions: --drop takes a session number\n");
                return EXIT_USAGE;
            }
            break;
        case 'U': drop_user = optarg; break;
        case 'f': snprintf(config_arg, sizeof(config_arg), "config=%s", optarg); break;
        case 'o':
            if (nargs >= MAX_OVERRIDES) {
                fprintf(stderr, "aad-login sessions: too many -o options\n");
                return EXIT_USAGE;
            }
            args[nargs++] = optarg;
            break;
        case 'h': usage(stdout, default_config); return EXIT_OK;
        default: usage(stderr, default_config); return EXIT_USAGE;
        }
    }
    if (optind != argc || (drop_session >= 0 && drop_user != NULL) ||
        (json && (drop_session >= 0 || drop_user != NULL))) {
        usage(stderr, default_config);
        return EXIT_USAGE;
    }
    if (config_arg[0] != '\0')
        args[nargs++] = config_arg;
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    if (aad_config_load(default_config, nargs, args, &cfg, &err) != AAD_OK) {
        fprintf(stderr, "aad-login sessions: %s\n", err.message);
        return EXIT_CONFIG;
    }
    int rc = run(cfg, json, drop_session, drop_user);
    aad_config_free(cfg);
    return rc;
}
