/* aad_check_domains.c - `aad-login --check`: each `domains` entry looked
 * up as a tenant name, its tenant compared with the configured one.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_domains.h"
#include "aad_entra_error.h"
#include "aad_json.h"
#include "aad_keys.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_CHECK 1400

/* What Entra ID says of the name: the tenant it belongs to (tenant_out),
 * 90002 for no tenant (*unknown set), or a failure to ask (why). */
static enum aad_status tenant_of(const struct aad_config *cfg, struct aad_http *http,
                                 const char *domain, char *tenant_out, size_t size, int *unknown,
                                 struct aad_error *err)
{
    char url[1024];
    struct aad_http_response resp;
    *unknown = 0;
    snprintf(url, sizeof(url), "%s/%s/v2.0/.well-known/openid-configuration", cfg->authority,
             domain);
    enum aad_status st = aad_http_get(http, url, &resp, err);
    if (st != AAD_OK)
        return st;
    json_t *body = resp.is_json ? aad_json_parse_object(resp.body, resp.len, AAD_HTTP_MAX_BODY)
                                : NULL;
    if (resp.status == 200 && body != NULL) {
        struct aad_discovery d = {0};
        st = aad_discovery_parse(resp.body, resp.len, cfg->authority, &d, err);
        if (st == AAD_OK)
            snprintf(tenant_out, size, "%s", d.tenant_id);
        aad_discovery_clear(&d);
    } else if (resp.status == 400 && body != NULL) {
        struct aad_entra_error e;
        aad_entra_error_read(body, &e);
        *unknown = e.aadsts == 90002 || strcmp(e.error, "invalid_tenant") == 0;
        st = *unknown ? AAD_OK
                      : aad_fail(err, AAD_UNAVAILABLE, "Entra ID answered HTTP 400: %s",
                                 e.description);
    } else {
        st = aad_fail(err, AAD_UNAVAILABLE, "Entra ID answered HTTP %ld", resp.status);
    }
    json_decref(body);
    aad_http_response_clear(&resp);
    return st;
}

void aad_check_domains(struct aad_check_report *r, const struct aad_config *cfg,
                       struct aad_http *http, const char *tenant_id)
{
    char line[LINE_MAX_CHECK], hint[LINE_MAX_CHECK];
    snprintf(hint, sizeof(hint),
             "Set 'domains' to the verified domains of tenant %s that your users' UPNs end in "
             "(Entra admin center -> Domain names), or map people with user_map lines.",
             tenant_id);
    for (size_t i = 0; i < cfg->domains.count; i++) {
        const char *domain = cfg->domains.items[i];
        char tenant[64] = "";
        int unknown = 0;
        struct aad_error err = {0};
        enum aad_status st = tenant_of(cfg, http, domain, tenant, sizeof(tenant), &unknown, &err);
        if (st != AAD_OK) {
            snprintf(line, sizeof(line), "%s was not verified as a domain of the tenant (%s)",
                     domain, err.message);
            aad_check_say(r, "domains", CHECK_WARN, AAD_OK, NULL, line,
                          "Run --check again when Entra ID answers; until then make sure the "
                          "domain is listed under Domain names in the Entra admin center.");
        } else if (unknown) {
            snprintf(line, sizeof(line),
                     "%s is not a verified domain of any tenant (Entra ID: AADSTS90002): no UPN "
                     "ends in it, so this entry maps nobody",
                     domain);
            aad_check_say(r, "domains", CHECK_FAIL, AAD_CONFIG_ERROR, "domains", line, hint);
        } else if (strcasecmp(tenant, tenant_id) != 0) {
            snprintf(line, sizeof(line),
                     "%s is a domain of another tenant (%s), not of %s: its people never sign "
                     "in to this application",
                     domain, tenant, tenant_id);
            aad_check_say(r, "domains", CHECK_FAIL, AAD_CONFIG_ERROR, "domains", line, hint);
        } else {
            snprintf(line, sizeof(line), "%s is a verified domain of tenant %s", domain, tenant_id);
            aad_check_say(r, "domains", CHECK_OK, AAD_OK, NULL, line, NULL);
        }
    }
}
