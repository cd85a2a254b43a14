/* aad_config_check.c - the checks a configuration passes once every key is
 * read: required keys, the shape of each value, and the rules across keys.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_config_parts.h"
#include "aad_safefile.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Host names are at most 253 characters; the bound keeps every URL and cache
 * name built from the authority well inside its buffer. */
#define AUTHORITY_MAX_CHARS 512

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

/* aad-login sync: group IDs, a uid range that pam_aad logs in to, a shell. */
static enum aad_status check_provisioning(const struct aad_config *cfg, struct aad_error *err)
{
    const char *p = cfg->path;
    for (size_t i = 0; i < cfg->provision_groups.count; i++) {
        if (!aad_is_guid(cfg->provision_groups.items[i]))
            return aad_fail(err, AAD_CONFIG_ERROR,
                            "%s: 'provision_groups' takes group object IDs (GUIDs), not '%.64s'",
                            p, cfg->provision_groups.items[i]);
    }
    if (cfg->provision_groups.count > 0 && cfg->client_certificate == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'provision_groups' needs 'client_certificate' and 'client_key' (the "
                        "sync reads Microsoft Graph as the application)", p);
    if (cfg->provision_uid_min > cfg->provision_uid_max)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'provision_uid_min' (%ld) is above 'provision_uid_max' (%ld)", p,
                        cfg->provision_uid_min, cfg->provision_uid_max);
    if (cfg->provision_uid_min < cfg->min_uid)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'provision_uid_min' (%ld) is below 'min_uid' (%ld): pam_aad would "
                        "not log in to the accounts the sync makes", p, cfg->provision_uid_min,
                        cfg->min_uid);
    /* It becomes a field of a passwd line. */
    if (cfg->provision_shell[0] != '/' || strpbrk(cfg->provision_shell, ": \t") != NULL)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'provision_shell' must be an absolute path (no ':' or spaces)", p);
    return AAD_OK;
}

int aad_config_is_provisioned_uid(const struct aad_config *cfg, unsigned long uid)
{
    return cfg->provision_groups.count > 0 && uid >= (unsigned long)cfg->provision_uid_min &&
           uid <= (unsigned long)cfg->provision_uid_max;
}

enum aad_status aad_config_check(struct aad_config *cfg, struct aad_error *err)
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
    if (cfg->domains.count == 0 && cfg->user_map == NULL && !cfg->for_tokens)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: set 'domains' or 'user_map'", p);
    if (strcmp(cfg->token_store, "auto") && strcmp(cfg->token_store, "persistent") &&
        strcmp(cfg->token_store, "user") && strcmp(cfg->token_store, "none"))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'token_store' must be auto, persistent, user or none, not '%.64s'", p,
                        cfg->token_store);
    if (cfg->host_label != NULL && !valid_host_label(cfg->host_label))
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: 'host_label' must be 1 to %d printable characters", p,
                        AAD_HOST_LABEL_MAX);
    if (cfg->cache_dir == NULL || cfg->cache_dir[0] != '/')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'cache_dir' must be an absolute path", p);
    if (cfg->runtime_dir == NULL || cfg->runtime_dir[0] != '/')
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: 'runtime_dir' must be an absolute path", p);
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
    return check_provisioning(cfg, err);
}
