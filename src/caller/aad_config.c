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

#ifndef AAD_LOGIN_DEFS
#define AAD_LOGIN_DEFS "/etc/login.defs"
#endif
#define DEFAULT_MIN_UID 1000

/* UID_MIN of login.defs (the first uid useradd gives a person), else 1000. */
static long login_defs_uid_min(const char *path)
{
    long uid_min = DEFAULT_MIN_UID;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return uid_min;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        /* Most of its 400 lines are comments: a cheap test first (sscanf on
         * every line was most of the time a configuration took to load). */
        const char *start = line + strspn(line, " \t");
        if (strncmp(start, "UID_MIN", 7) != 0 || !isspace((unsigned char)start[7]))
            continue;
        char value[32], extra[2];
        if (sscanf(start + 7, "%31s %1s", value, extra) != 1)
            continue;
        char *end = NULL;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (errno == 0 && end != value && *end == '\0' && n >= 0 && n <= AAD_CONFIG_MAX_UID)
            uid_min = n;
    }
    fclose(f);
    return uid_min;
}

static enum aad_status set_defaults(struct aad_config *cfg, const char *path)
{
    cfg->path = strdup(path);
    cfg->authority = strdup("https://login.microsoftonline.com");
    cfg->scope = strdup("openid profile");
    cfg->user_claim = strdup("preferred_username");
    cfg->cache_dir = strdup(AAD_DEFAULT_CACHE_DIR);
    cfg->graph_endpoint = strdup("https://graph.microsoft.com");
    cfg->timeout = 300;
    cfg->http_timeout = 10;
    cfg->clock_skew = 300;
    cfg->cert_max_age = AAD_CERT_MAX_AGE_DEFAULT;
    cfg->min_uid = login_defs_uid_min(AAD_LOGIN_DEFS);
    cfg->qr = AAD_QR_AUTO;
    cfg->wait_for_enter = 1;
    if (!cfg->path || !cfg->authority || !cfg->scope || !cfg->user_claim || !cfg->cache_dir ||
        !cfg->graph_endpoint)
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

enum aad_status aad_config_load(const char *default_path, int argc, const char **argv,
                                struct aad_config **out, struct aad_error *err)
{
    const char *path = default_path;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "config=", 7) == 0)
            path = argv[i] + 7;
    }

    struct aad_config *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    enum aad_status st = set_defaults(cfg, path);
    if (st != AAD_OK)
        aad_fail(err, st, "out of memory");
    if (st == AAD_OK)
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
            free(cfg->helper);
            cfg->helper = strdup(argv[i] + 7);
            if (cfg->helper == NULL || argv[i][7] != '/')
                st = aad_fail(err, AAD_CONFIG_ERROR, "%s: helper= needs an absolute path", where);
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

long aad_config_login_bound_s(const struct aad_config *cfg)
{
    /* Before the code: one exchange; after the sign-in: keys, Graph (token
     * and check), with room for retries. */
    return cfg->timeout + 6 * cfg->http_timeout + 30;
}
