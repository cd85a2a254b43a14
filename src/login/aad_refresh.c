/* aad_refresh.c - the refresh-token grant: one exchange, its answer judged.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_refresh.h"
#include "aad_entra_error.h"
#include "aad_json.h"
#include "aad_refusal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN (64 * 1024)
#define MAX_SCOPE 4096
#define MAX_LIFETIME (24 * 3600)

void aad_refreshed_clear(struct aad_refreshed *r)
{
    aad_free_secret(r->access_token);
    aad_free_secret(r->refresh_token);
    aad_free_secret(r->id_token);
    free(r->scope);
    memset(r, 0, sizeof(*r));
}

const char *aad_refresh_refusal_reason(long aadsts)
{
    return aad_refusal_refresh_reason(aadsts);
}

static char *dup_bounded(const json_t *body, const char *name, size_t max)
{
    const char *v = aad_json_string(body, name);
    return v != NULL && aad_is_printable_token(v, max) ? strdup(v) : NULL;
}

/* A granted scope list: printable ASCII words separated by spaces. */
static int is_scope_text(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n >= MAX_SCOPE || s[n] < ' ' || s[n] > '~')
            return 0;
    }
    return n > 0;
}

static void wipe_member(json_t *body, const char *name)
{
    json_t *v = json_object_get(body, name);
    if (json_is_string(v))
        aad_wipe((char *)json_string_value(v), json_string_length(v));
}

enum aad_status aad_refresh_take_answer(long status, int is_json, const char *text, size_t len,
                                        struct aad_refreshed *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *body = is_json ? aad_json_parse_object(text, len, AAD_HTTP_MAX_BODY) : NULL;
    enum aad_status st = AAD_OK;
    if (status == 429 || status >= 500) {
        struct aad_entra_error e;
        aad_entra_error_read(body, &e);
        st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                         "the token endpoint answered the refresh with HTTP %ld: %s", status,
                         e.description);
    } else if (body == NULL) {
        st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                         "the token endpoint answered the refresh with HTTP %ld without JSON",
                         status);
    } else if (status != 200) {
        struct aad_entra_error e;
        aad_entra_error_read(body, &e);
        if (strcmp(e.error, "temporarily_unavailable") == 0 || strcmp(e.error, "server_error") == 0) {
            st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "the refresh failed: %s", e.description);
        } else if (strcmp(e.error, "invalid_grant") == 0 ||
                   strcmp(e.error, "interaction_required") == 0) {
            /* The refresh token is dead or a policy wants the user: only a
             * new sign-in helps, whatever the code (which may change). */
            enum aad_failure kind = aad_entra_error_kind(&e);
            if (kind != AAD_FAILURE_BLOCKED_BY_POLICY)
                kind = AAD_FAILURE_REFUSED;
            st = aad_fail_as(err, kind, "Entra ID refused the refresh token (%s): %s", e.error,
                             e.description);
            if (err != NULL)
                err->aadsts = e.aadsts;
        } else {
            st = aad_entra_error_fail(&e, "the refresh", err);
        }
    } else {
        long long expires_in = 0;
        const char *scope = aad_json_string(body, "scope");
        out->access_token = dup_bounded(body, "access_token", MAX_TOKEN);
        out->refresh_token = dup_bounded(body, "refresh_token", MAX_TOKEN);
        out->id_token = dup_bounded(body, "id_token", MAX_TOKEN);
        out->scope = scope != NULL && is_scope_text(scope) ? strdup(scope) : NULL;
        if (aad_json_integer(body, "expires_in", &expires_in) == 1 && expires_in > 0)
            out->expires_in = expires_in > MAX_LIFETIME ? MAX_LIFETIME : (long)expires_in;
        if (out->access_token == NULL)
            st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                             "the refresh answer has no usable access_token");
    }
    wipe_member(body, "access_token");
    wipe_member(body, "refresh_token");
    wipe_member(body, "id_token");
    json_decref(body);
    if (st != AAD_OK)
        aad_refreshed_clear(out);
    return st;
}

enum aad_status aad_refresh_redeem(const struct aad_config *cfg, struct aad_http *http,
                                   const char *refresh_token, const char *scope,
                                   struct aad_refreshed *out, long *retry_after,
                                   struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    *retry_after = -1;
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", cfg->authority, cfg->tenant);
    char *rt = aad_http_escape(http, refresh_token);
    char *scope_q = aad_http_escape(http, scope);
    size_t n = (rt ? strlen(rt) : 0) + (scope_q ? strlen(scope_q) : 0) + 256;
    char *form = rt && scope_q ? malloc(n) : NULL;
    if (form != NULL)
        snprintf(form, n, "grant_type=refresh_token&client_id=%s&refresh_token=%s&scope=%s",
                 cfg->client_id, rt, scope_q);
    aad_free_secret(rt);
    free(scope_q);
    if (form == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");

    struct aad_http_response resp;
    struct aad_error net = {0};
    enum aad_status st = aad_http_post_form(http, url, form, &resp, &net);
    aad_free_secret(form);
    if (st != AAD_OK)
        return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "the refresh failed: %s", net.message);
    if (resp.status == 429 || resp.status >= 500)
        *retry_after = resp.retry_after;
    st = aad_refresh_take_answer(resp.status, resp.is_json, resp.body, resp.len, out, err);
    aad_http_response_clear(&resp);
    return st;
}
