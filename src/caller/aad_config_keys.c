/* aad_config_keys.c - the table of settings: each key, the kind of its
 * value and how that kind is parsed, released and shown by `debug`.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_config_parts.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VALUE_MAX_BYTES 4096

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
    {"min_uid", K_NUMBER, OFF(min_uid), 0, AAD_CONFIG_MAX_UID},
    {"timeout", K_SECONDS, OFF(timeout), 10, 3600},
    {"http_timeout", K_SECONDS, OFF(http_timeout), 1, 120},
    {"clock_skew", K_SECONDS, OFF(clock_skew), 0, 3600},
    {"cert_max_age", K_SECONDS, OFF(cert_max_age), 60, AAD_CERT_MAX_AGE_CEILING},
    {"cache_dir", K_STRING, OFF(cache_dir), 0, 0},
    {"qr", K_QR, OFF(qr), 0, 0},
    {"wait_for_enter", K_BOOL, OFF(wait_for_enter), 0, 0},
    {"host_label", K_STRING, OFF(host_label), 0, 0},
    {"debug", K_BOOL, OFF(debug), 0, 0},
    {"graph_endpoint", K_STRING, OFF(graph_endpoint), 0, 0},
    {"client_certificate", K_STRING, OFF(client_certificate), 0, 0},
    {"client_key", K_STRING, OFF(client_key), 0, 0},
    {"runtime_dir", K_STRING, OFF(runtime_dir), 0, 0},
    {"group_removal_refuses", K_LIST, OFF(group_removal_refuses), 0, 0},
    {"reauth_max_age", K_SECONDS, OFF(reauth_max_age), 0, 43200},
    {"reauth_services", K_LIST, OFF(reauth_services), 0, 0},
    {"max_logins", K_NUMBER, OFF(max_logins), 1, 4096},
    {"max_logins_per_user", K_NUMBER, OFF(max_logins_per_user), 1, 4096},
    {"provision_groups", K_LIST, OFF(provision_groups), 0, 0},
    {"provision_uid_min", K_NUMBER, OFF(provision_uid_min), 1, AAD_CONFIG_MAX_UID},
    {"provision_uid_max", K_NUMBER, OFF(provision_uid_max), 1, AAD_CONFIG_MAX_UID},
    {"provision_shell", K_STRING, OFF(provision_shell), 0, 0},
    {"provision_grace_days", K_NUMBER, OFF(provision_grace_days), 0, 3650},
    {"token_store", K_STRING, OFF(token_store), 0, 0},
};
#undef OFF

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

enum aad_status aad_config_set_key(struct aad_config *cfg, const char *key, const char *value,
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
        if (aad_strlist_parse(value, field) != 0)
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
    aad_preread_clear(&cfg->preread);
    free(cfg->path);
    free(cfg->helper);
    free(cfg->group_writer);
    free(cfg);
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
