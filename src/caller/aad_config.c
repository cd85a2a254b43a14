/* aad_config.c - the settings of SPEC.md: file, module arguments, checks.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_config.h"
#include "aad_safefile.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (64 * 1024)
#define VALUE_MAX_BYTES 4096
/* Host names are at most 253 characters; the bound keeps every URL and cache
 * name built from the authority well inside its buffer. */
#define AUTHORITY_MAX_CHARS 512

#ifndef AAD_DEFAULT_CACHE_DIR
#define AAD_DEFAULT_CACHE_DIR "/var/cache/pam_aad"
#endif

#ifndef AAD_LOGIN_DEFS
#define AAD_LOGIN_DEFS "/etc/login.defs"
#endif
#define DEFAULT_MIN_UID 1000
#define MAX_UID 0x7fffffffL

enum key_kind { K_STRING, K_LIST, K_BOOL, K_SECONDS, K_NUMBER, K_QR };

struct key_spec {
    const char *name;
    enum key_kind kind;
    size_t offset;
    long min, max; /* for K_SECONDS and K_NUMBER */
};

#define OFF(field) offsetof(struct aad_config, field)
static const struct key_spec keys[] = {
    {"tenant", K_STRING, OFF(tenant), 0, 0},
    {"client_id", K_STRING, OFF(client_id), 0, 0},
    {"authority", K_STRING, OFF(authority), 0, 0},
    {"ca_file", K_STRING, OFF(ca_file), 0, 0},
    {"proxy", K_STRING, OFF(proxy), 0, 0},
    {"scope", K_STRING, OFF(scope), 0, 0},
    {"user_claim", K_STRING, OFF(user_claim), 0, 0},
    {"domains", K_LIST, OFF(domains), 0, 0},
    {"user_map", K_STRING, OFF(user_map), 0, 0},
    {"group_map", K_STRING, OFF(group_map), 0, 0},
    {"allowed_groups", K_LIST, OFF(allowed_groups), 0, 0},
    {"allowed_roles", K_LIST, OFF(allowed_roles), 0, 0},
    {"allow_guests", K_BOOL, OFF(allow_guests), 0, 0},
    {"allow_root", K_BOOL, OFF(allow_root), 0, 0},
    {"min_uid", K_NUMBER, OFF(min_uid), 0, MAX_UID},
    {"timeout", K_SECONDS, OFF(timeout), 10, 3600},
    {"http_timeout", K_SECONDS, OFF(http_timeout), 1, 120},
    {"clock_skew", K_SECONDS, OFF(clock_skew), 0, 3600},
    {"cache_dir", K_STRING, OFF(cache_dir), 0, 0},
    {"qr", K_QR, OFF(qr), 0, 0},
    {"wait_for_enter", K_BOOL, OFF(wait_for_enter), 0, 0},
    {"host_label", K_STRING, OFF(host_label), 0, 0},
    {"debug", K_BOOL, OFF(debug), 0, 0},
    {"graph_endpoint", K_STRING, OFF(graph_endpoint), 0, 0},
    {"client_certificate", K_STRING, OFF(client_certificate), 0, 0},
    {"client_key", K_STRING, OFF(client_key), 0, 0},
};
#undef OFF

void aad_strlist_clear(struct aad_strlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int aad_strlist_add(struct aad_strlist *list, const char *s, size_t len)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    list->items = grown;
    if ((list->items[list->count] = strndup(s, len)) == NULL)
        return -1;
    list->count++;
    return 0;
}

int aad_strlist_contains(const struct aad_strlist *list, const char *s, int nocase)
{
    for (size_t i = 0; i < list->count; i++) {
        if ((nocase ? strcasecmp : strcmp)(list->items[i], s) == 0)
            return 1;
    }
    return 0;
}

/* Splits on commas and white space; an empty list is allowed (clears it). */
static int strlist_parse(const char *value, struct aad_strlist *list)
{
    aad_strlist_clear(list);
    const char *p = value;
    while (*p != '\0') {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        if (aad_strlist_add(list, p, n) != 0)
            return -1;
        p += n;
    }
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
        *out = 1;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* Applies one key = value; where names the place for messages. */
static enum aad_status set_key(struct aad_config *cfg, const char *key, const char *value,
                               const char *where, struct aad_error *err)
{
    const struct key_spec *spec = NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(keys[i].name, key) == 0)
            spec = &keys[i];
    }
    if (spec == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: unknown key '%.64s'", where, key);
    if (strlen(value) > VALUE_MAX_BYTES)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: value of '%s' is too long", where, key);
    /* Quotes would be kept as part of the value ("contoso.example" with
     * its quotes matches no UPN): refused rather than taken literally. */
    if (value[0] == '"' || value[0] == '\'') {
        char bare[65];
        snprintf(bare, sizeof(bare), "%s", value + 1);
        size_t n = strlen(bare);
        if (n > 0 && bare[n - 1] == value[0])
            bare[n - 1] = '\0';
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: values take no quotes: write %s = %s", where,
                        key, bare);
    }

    void *field = (char *)cfg + spec->offset;
    switch (spec->kind) {
    case K_STRING: {
        char *copy = strdup(value);
        if (copy == NULL)
            return aad_fail(err, AAD_CONFIG_ERROR, "%s: out of memory", where);
        free(*(char **)field);
        *(char **)field = copy;
        return AAD_OK;
    }
    case K_LIST:
        if (strlist_parse(value, field) != 0)
            return aad_fail(err, AAD_CONFIG_ERROR, "%s: out of memory", where);
        return AAD_OK;
    case K_BOOL:
        if (parse_bool(value, field) != 0)
            return aad_fail(err, AAD_CONFIG_ERROR, "%s: '%s' must be yes or no, not '%.64s'", where,
                            key, value);
        return AAD_OK;
    case K_SECONDS:
    case K_NUMBER: {
        char *end = NULL;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || n < spec->min || n > spec->max)
            return aad_fail(err, AAD_CONFIG_ERROR,
                            "%s: '%s' must be a whole number %sfrom %ld to %ld, not '%.64s'", where,
                            key, spec->kind == K_SECONDS ? "of seconds " : "", spec->min,
                            spec->max, value);
        *(long *)field = n;
        return AAD_OK;
    }
    case K_QR: {
        int on = 0;
        if (!strcasecmp(value, "auto"))
            *(enum aad_qr_mode *)field = AAD_QR_AUTO;
        else if (parse_bool(value, &on) == 0)
            *(enum aad_qr_mode *)field = on ? AAD_QR_YES : AAD_QR_NO;
        else
            return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'qr' must be yes, no or auto, not '%.64s'",
                            where, value);
        return AAD_OK;
    }
    }
    return aad_fail(err, AAD_CONFIG_ERROR, "%s: internal error", where);
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
                st = set_key(cfg, trim(content), trim(eq + 1), where, err);
            }
        }
        line = next;
    }
    free(text);
    return st;
}

static int valid_tenant(const char *t)
{
    if (aad_is_guid(t))
        return 1;
    /* A verified domain: labels of letters, digits and hyphens with at least one dot. */
    if (strlen(t) > 253 || strchr(t, '.') == NULL || t[0] == '.' || t[0] == '-')
        return 0;
    for (const char *p = t; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return 0;
    }
    return strstr(t, "..") == NULL;
}

/* https://host[:port] only: no user info, path, query or fragment, so that
 * endpoint URLs are built from a known shape. A trailing slash is dropped. */
static int normalise_authority(char *a)
{
    if (strncmp(a, "https://", 8) != 0)
        return -1;
    size_t len = strlen(a);
    if (len > 8 && a[len - 1] == '/')
        a[--len] = '\0';
    const char *p = a + 8;
    if (*p == '[') { /* an IPv6 literal */
        size_t n = strspn(p + 1, "0123456789abcdefABCDEF:.");
        if (n == 0 || p[1 + n] != ']')
            return -1;
        p += n + 2;
    } else {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
        if (n == 0 || p[0] == '.' || p[0] == '-')
            return -1;
        p += n;
    }
    if (*p == '\0')
        return 0;
    if (*p != ':')
        return -1;
    p++;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 5 || p[digits] != '\0')
        return -1;
    long port = strtol(p, NULL, 10);
    return port >= 1 && port <= 65535 ? 0 : -1;
}

int aad_scope_contains(const char *scope, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = scope; (p = strcasestr(p, word)) != NULL; p += n) {
        int starts = p == scope || p[-1] == ' ';
        int ends = p[n] == '\0' || p[n] == ' ';
        if (starts && ends)
            return 1;
    }
    return 0;
}

/* https://host[:port][/path] for Graph (the emulator serves it under a path). */
static int valid_graph_endpoint(char *url)
{
    char *slash = strchr(url + (strncmp(url, "https://", 8) == 0 ? 8 : 0), '/');
    if (slash == NULL)
        return normalise_authority(url) == 0;
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    if (strpbrk(slash, "?#%@\\ ") != NULL || strstr(slash, "..") != NULL)
        return 0;
    *slash = '\0';
    int ok = normalise_authority(url) == 0;
    *slash = '/';
    return ok;
}

/* Shown to the user in every prompt: printable ASCII, spaces allowed. */
static int valid_host_label(const char *label)
{
    size_t n = strlen(label);
    if (n == 0 || n > AAD_HOST_LABEL_MAX)
        return 0;
    for (; *label != '\0'; label++) {
        if (*label < ' ' || *label > '~')
            return 0;
    }
    return 1;
}

static enum aad_status check_config(struct aad_config *cfg, struct aad_error *err)
{
    const char *p = cfg->path;
    if (cfg->tenant == NULL || *cfg->tenant == '\0')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'tenant' is required", p);
    if (!strcasecmp(cfg->tenant, "common") || !strcasecmp(cfg->tenant, "organizations") ||
        !strcasecmp(cfg->tenant, "consumers"))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: tenant '%s' is refused: a login module must be pinned to one tenant "
                        "(its GUID or verified domain)",
                        p, cfg->tenant);
    if (!valid_tenant(cfg->tenant))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'tenant' must be a tenant GUID or a domain name, not '%.64s'", p,
                        cfg->tenant);
    if (cfg->client_id == NULL || !aad_is_guid(cfg->client_id))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'client_id' is required and must be the application's GUID", p);
    if (strlen(cfg->authority) > AUTHORITY_MAX_CHARS)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'authority' is longer than %d characters", p,
                        AUTHORITY_MAX_CHARS);
    if (normalise_authority(cfg->authority) != 0)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'authority' must be https://host[:port], not '%.64s'", p, cfg->authority);
    if (cfg->ca_file != NULL) {
        /* A trust anchor decides which servers are believed: the same rule
         * as this file, and readable now rather than at the first login. */
        int fd = -1;
        struct aad_error why = {0};
        if (cfg->ca_file[0] != '/')
            return aad_fail(err, AAD_CONFIG_ERROR,
                            "%s: 'ca_file' must be an absolute path, not '%.64s'", p, cfg->ca_file);
        if (aad_safefile_open(cfg->ca_file, &fd, &why) != AAD_OK)
            return aad_fail(err, AAD_CONFIG_ERROR, "%s: ca_file %s", p, why.message);
        close(fd);
    }
    if (cfg->proxy != NULL && *cfg->proxy == '\0') {
        free(cfg->proxy);
        cfg->proxy = NULL;
    }
    if (!aad_scope_contains(cfg->scope, "openid"))
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'scope' must contain openid", p);
    if (strcmp(cfg->user_claim, "preferred_username") && strcmp(cfg->user_claim, "upn") &&
        strcmp(cfg->user_claim, "email"))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'user_claim' must be preferred_username, upn or email, not '%.64s'", p,
                        cfg->user_claim);
    if (cfg->domains.count == 0 && cfg->user_map == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: set 'domains' or 'user_map'", p);
    if (cfg->host_label != NULL && !valid_host_label(cfg->host_label))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'host_label' must be 1 to %d printable characters", p,
                        AAD_HOST_LABEL_MAX);
    if (cfg->cache_dir == NULL || cfg->cache_dir[0] != '/')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'cache_dir' must be an absolute path", p);
    if (cfg->user_map != NULL && cfg->user_map[0] != '/')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'user_map' must be an absolute path", p);
    if (cfg->group_map != NULL && cfg->group_map[0] != '/')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'group_map' must be an absolute path", p);
    if (!valid_graph_endpoint(cfg->graph_endpoint))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'graph_endpoint' must be https://host[:port][/path], not '%.64s'", p,
                        cfg->graph_endpoint);
    if ((cfg->client_certificate == NULL) != (cfg->client_key == NULL))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: set both 'client_certificate' and 'client_key', or neither", p);
    if (cfg->client_certificate != NULL &&
        (cfg->client_certificate[0] != '/' || cfg->client_key[0] != '/'))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'client_certificate' and 'client_key' must be absolute paths", p);
    return AAD_OK;
}

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
        if (errno == 0 && end != value && *end == '\0' && n >= 0 && n <= MAX_UID)
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
    cfg->min_uid = login_defs_uid_min(AAD_LOGIN_DEFS);
    cfg->qr = AAD_QR_AUTO;
    cfg->wait_for_enter = 1;
    if (!cfg->path || !cfg->authority || !cfg->scope || !cfg->user_claim || !cfg->cache_dir ||
        !cfg->graph_endpoint)
        return AAD_CONFIG_ERROR;
    return AAD_OK;
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
            st = set_key(cfg, key, eq + 1, where, err);
        }
    }
    if (st == AAD_OK)
        st = check_config(cfg, err);
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

void aad_config_free(struct aad_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        void *field = (char *)cfg + keys[i].offset;
        if (keys[i].kind == K_STRING)
            free(*(char **)field);
        else if (keys[i].kind == K_LIST)
            aad_strlist_clear(field);
    }
    free(cfg->path);
    free(cfg->helper);
    free(cfg);
}

void aad_strlist_join(const struct aad_strlist *list, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < list->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", list->items[i]);
}

/* url with the password of its user info replaced by "***"
 * ("http://svc:***@host:3128"): for `debug`, which must not log secrets. */
static void describe_url(const char *url, char *buf, size_t size)
{
    const char *scheme = strstr(url, "://");
    const char *start = scheme ? scheme + 3 : url;
    size_t authority_len = strcspn(start, "/?#");
    const char *at = NULL;
    for (const char *q = start; q < start + authority_len; q++) {
        if (*q == '@')
            at = q;
    }
    const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;
    if (colon == NULL)
        snprintf(buf, size, "%s", url);
    else
        snprintf(buf, size, "%.*s***%s", (int)(colon + 1 - url), url, at);
}

void aad_config_describe(const struct aad_config *cfg, void (*line)(void *ctx, const char *text),
                         void *ctx)
{
    char text[VALUE_MAX_BYTES + 128], value[VALUE_MAX_BYTES];
    static const char *const qr_names[] = {"no", "yes", "auto"};
    snprintf(text, sizeof(text), "config file = %s", cfg->path);
    line(ctx, text);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const void *field = (const char *)cfg + keys[i].offset;
        switch (keys[i].kind) {
        case K_STRING:
            if (*(char *const *)field == NULL)
                snprintf(value, sizeof(value), "(none)");
            else if (field == (const void *)&cfg->proxy)
                describe_url(cfg->proxy, value, sizeof(value));
            else
                snprintf(value, sizeof(value), "%s", *(char *const *)field);
            break;
        case K_LIST:
            aad_strlist_join(field, value, sizeof(value));
            break;
        case K_BOOL:
            snprintf(value, sizeof(value), "%s", *(const int *)field ? "yes" : "no");
            break;
        case K_SECONDS:
        case K_NUMBER:
            snprintf(value, sizeof(value), "%ld", *(const long *)field);
            break;
        case K_QR:
            snprintf(value, sizeof(value), "%s", qr_names[*(const enum aad_qr_mode *)field]);
            break;
        }
        snprintf(text, sizeof(text), "%s = %s", keys[i].name, value);
        line(ctx, text);
    }
}
