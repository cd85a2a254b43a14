/* aad_config.c - loading the settings of SPEC.md: the defaults, the file,
 * then the module arguments on top; the key table is aad_config_keys.c, the
 * checks across keys aad_config_check.c.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_config_parts.h"
#include "aad_safefile.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (64 * 1024)

#ifndef AAD_DEFAULT_CACHE_DIR
#define AAD_DEFAULT_CACHE_DIR "/var/cache/pam_aad"
#endif

#ifndef AAD_DEFAULT_RUNTIME_DIR
#define AAD_DEFAULT_RUNTIME_DIR "/run/pam_aad"
#endif
/* Far above what a host's people start at once (each login waits on a
 * phone for seconds to minutes), far below what a flood needs to make root
 * spend: each login is a helper of about 12 MiB. */
/* Half a working day: a terminal left unlocked gives sudo without a phone
 * for at most this long after the last interactive sign-in, as Conditional
 * Access sign-in frequency for privileged access is commonly set (4 h);
 * every use is still checked online, so a disabled or removed user loses
 * it at once. */
#define DEFAULT_REAUTH_MAX_AGE (4 * 3600)
#define DEFAULT_MAX_LOGINS 64
#define DEFAULT_MAX_LOGINS_PER_USER 4

#ifndef AAD_LOGIN_DEFS
#define AAD_LOGIN_DEFS "/etc/login.defs"
#endif
#define DEFAULT_MIN_UID 1000
#define DEFAULT_MAX_UID 60000
#define OVERFLOW_UID_FILE "/proc/sys/kernel/overflowuid"
#define DEFAULT_OVERFLOW_UID 65534

/* UID_MIN and UID_MAX of login.defs (the range useradd gives people), else
 * 1000 and 60000. */
static void login_defs_uid_range(const char *path, long *uid_min, long *uid_max)
{
    *uid_min = DEFAULT_MIN_UID;
    *uid_max = DEFAULT_MAX_UID;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        /* Most of its 400 lines are comments: a cheap test first (sscanf on
         * every line was most of the time a configuration took to load). */
        const char *start = line + strspn(line, " \t");
        if (strncmp(start, "UID_M", 5) != 0 || !isspace((unsigned char)start[7]))
            continue;
        long *slot = strncmp(start, "UID_MIN", 7) == 0   ? uid_min
                     : strncmp(start, "UID_MAX", 7) == 0 ? uid_max
                                                         : NULL;
        char value[32], extra[2];
        if (slot == NULL || sscanf(start + 7, "%31s %1s", value, extra) != 1)
            continue;
        char *end = NULL;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (errno == 0 && end != value && *end == '\0' && n >= 0 && n <= AAD_CONFIG_MAX_UID)
            *slot = n;
    }
    fclose(f);
}

/* The uid the kernel shows for one it cannot map (nobody's, 65534). */
static long overflow_uid(void)
{
    long uid = DEFAULT_OVERFLOW_UID;
    FILE *f = fopen(OVERFLOW_UID_FILE, "re");
    if (f != NULL) {
        if (fscanf(f, "%ld", &uid) != 1 || uid < 0 || uid > AAD_CONFIG_MAX_UID)
            uid = DEFAULT_OVERFLOW_UID;
        fclose(f);
    }
    return uid;
}

static enum aad_status set_defaults(struct aad_config *cfg, const char *path)
{
    cfg->path = strdup(path);
    cfg->authority = strdup("https://login.microsoftonline.com");
    cfg->scope = strdup("openid profile");
    cfg->user_claim = strdup("preferred_username");
    cfg->cache_dir = strdup(AAD_DEFAULT_CACHE_DIR);
    cfg->graph_endpoint = strdup("https://graph.microsoft.com");
    cfg->runtime_dir = strdup(AAD_DEFAULT_RUNTIME_DIR);
    cfg->max_logins = DEFAULT_MAX_LOGINS;
    cfg->max_logins_per_user = DEFAULT_MAX_LOGINS_PER_USER;
    static const char *const holding[] = {"sudo", "sudo-i", "su", "su-l"};
    for (size_t i = 0; i < sizeof(holding) / sizeof(holding[0]); i++) {
        if (aad_strlist_add(&cfg->group_removal_refuses, holding[i], strlen(holding[i])) != 0)
            return AAD_CONFIG_ERROR;
    }
    cfg->reauth_max_age = DEFAULT_REAUTH_MAX_AGE;
    static const char *const reauth[] = {"sudo", "sudo-i"};
    for (size_t i = 0; i < sizeof(reauth) / sizeof(reauth[0]); i++) {
        if (aad_strlist_add(&cfg->reauth_services, reauth[i], strlen(reauth[i])) != 0)
            return AAD_CONFIG_ERROR;
    }
    cfg->token_store = strdup("auto");
    cfg->timeout = 300;
    cfg->http_timeout = 10;
    cfg->clock_skew = 300;
    login_defs_uid_range(AAD_LOGIN_DEFS, &cfg->min_uid, &cfg->uid_max);
    cfg->overflow_uid = overflow_uid();
    cfg->cert_max_age = AAD_CERT_MAX_AGE_DEFAULT;
    cfg->qr = AAD_QR_AUTO;
    cfg->wait_for_enter = 1;
    /* Above systemd's container uids (524288-1879048191), below its
     * foreign range (2147352576) and 2^31: see aad_sync_uid.h. */
    cfg->provision_uid_min = 1900000000;
    cfg->provision_uid_max = 2099999999;
    cfg->provision_shell = strdup("/bin/bash");
    cfg->provision_grace_days = 30;
    if (!cfg->provision_shell || !cfg->path || !cfg->authority || !cfg->scope ||
        !cfg->user_claim || !cfg->cache_dir || !cfg->graph_endpoint || !cfg->runtime_dir || !cfg->token_store)
        return AAD_CONFIG_ERROR;
    return AAD_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static enum aad_status parse_file(struct aad_config *cfg, const char *path, struct aad_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enum aad_status st = aad_safefile_read(path, CONFIG_MAX_BYTES, &text, &len, err);
    if (st != AAD_OK)
        return st;
    if (memchr(text, '\0', len) != NULL) {
        free(text);
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: contains a NUL byte", path);
    }

    char where[PATH_MAX + 32];
    int lineno = 0;
    /* strtok_r on "\n" would skip blank lines and miscount: walk by hand. */
    for (char *line = text; line != NULL && st == AAD_OK;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *content = trim(line);
        if (*content != '\0') {
            char *eq = strchr(content, '=');
            if (eq == NULL) {
                st = aad_fail(err, AAD_CONFIG_ERROR, "%s: expected 'key = value'", where);
            } else {
                *eq = '\0';
                st = aad_config_set_key(cfg, trim(content), trim(eq + 1), where, err);
            }
        }
        line = next;
    }
    free(text);
    return st;
}

/* helper=PATH or group_writer=PATH: an absolute path. */
static enum aad_status program_argument(char **field, const char *arg, const char *where,
                                        struct aad_error *err)
{
    const char *path = strchr(arg, '=') + 1;
    char name[16];
    snprintf(name, sizeof(name), "%.*s", (int)(path - arg), arg);
    free(*field);
    *field = strdup(path);
    if (*field == NULL || path[0] != '/')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: %s needs an absolute path", where, name);
    return AAD_OK;
}

/* path NULL (token mode only): no file; the settings are the arguments. */
static enum aad_status load(const char *default_path, int argc, const char **argv,
                            int for_tokens, struct aad_config **out, struct aad_error *err)
{
    const char *path = default_path;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "config=", 7) == 0)
            path = argv[i] + 7;
    }

    struct aad_config *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    cfg->for_tokens = for_tokens;
    enum aad_status st = set_defaults(cfg, path != NULL ? path : "(command line)");
    if (st != AAD_OK)
        aad_fail(err, st, "out of memory");
    if (st == AAD_OK && path != NULL)
        st = parse_file(cfg, path, err);

    char where[64];
    for (int i = 0; i < argc && st == AAD_OK; i++) {
        snprintf(where, sizeof(where), "module argument %d", i + 1);
        const char *eq = strchr(argv[i], '=');
        if (strcmp(argv[i], "debug") == 0) {
            cfg->debug = 1;
        } else if (strncmp(argv[i], "config=", 7) == 0) {
            continue;
        } else if (strncmp(argv[i], "helper=", 7) == 0) {
            /* A module argument only: which program runs the login is the
             * PAM stack's choice, never the configuration file's. */
            st = program_argument(&cfg->helper, argv[i], where, err);
        } else if (strncmp(argv[i], "group_writer=", 13) == 0) {
            st = program_argument(&cfg->group_writer, argv[i], where, err);
        } else if (eq == NULL) {
            st = aad_fail(err, AAD_CONFIG_ERROR, "%s: unknown option '%.64s'", where, argv[i]);
        } else {
            char key[64];
            size_t n = (size_t)(eq - argv[i]);
            if (n >= sizeof(key))
                n = sizeof(key) - 1;
            memcpy(key, argv[i], n);
            key[n] = '\0';
            st = aad_config_set_key(cfg, key, eq + 1, where, err);
        }
    }
    if (st == AAD_OK)
        st = aad_config_check(cfg, err);
    if (st != AAD_OK) {
        aad_config_free(cfg);
        return st;
    }
    *out = cfg;
    return AAD_OK;
}

enum aad_status aad_config_load(const char *default_path, int argc, const char **argv,
                                struct aad_config **out, struct aad_error *err)
{
    if (default_path == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "no configuration file");
    return load(default_path, argc, argv, 0, out, err);
}

enum aad_status aad_config_load_for_tokens(const char *path, int argc, const char **argv,
                                           struct aad_config **out, struct aad_error *err)
{
    return load(path, argc, argv, 1, out, err);
}

long aad_config_login_bound_s(const struct aad_config *cfg)
{
    /* Before the code: one exchange; after the sign-in: keys, Graph (token
     * and check), with room for retries. */
    return cfg->timeout + 6 * cfg->http_timeout + 30;
}

enum aad_status aad_config_read_files(struct aad_config *cfg, struct aad_error *err)
{
    const struct {
        const char *path;
        size_t max;
        int private;
    } files[] = {
        {cfg->ca_file, AAD_CA_FILE_MAX_BYTES, 0},
        {cfg->client_certificate, AAD_CREDENTIAL_MAX_BYTES, 0},
        {cfg->client_key, AAD_CREDENTIAL_MAX_BYTES, 1},
        {cfg->user_map, AAD_USER_MAP_MAX_BYTES, 0},
        {cfg->group_map, AAD_GROUP_MAP_MAX_BYTES, 0},
    };
    enum aad_status st = AAD_OK;
    for (size_t i = 0; st == AAD_OK && i < sizeof(files) / sizeof(files[0]); i++) {
        if (files[i].path != NULL)
            st = aad_preread_add(&cfg->preread, files[i].path, files[i].max, files[i].private, err);
    }
    return st;
}

enum aad_status aad_config_add_scope(struct aad_config *cfg, const char *word,
                                     struct aad_error *err)
{
    if (aad_scope_contains(cfg->scope, word))
        return AAD_OK;
    size_t size = strlen(cfg->scope) + strlen(word) + 2;
    char *scope = malloc(size);
    if (scope == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    snprintf(scope, size, "%s %s", cfg->scope, word);
    free(cfg->scope);
    cfg->scope = scope;
    return AAD_OK;
}
