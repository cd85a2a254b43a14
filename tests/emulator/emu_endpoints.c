/*
 * The Entra ID endpoints served over HTTPS: discovery, keys, devicecode and
 * token (v2.0), with the response shapes of protocol.md §1–§5.
 */
#include "emulator.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_OID   EMU_DEFAULT_OID
#define DEFAULT_NAME  "Alice Example"
#define DEFAULT_USER  "alice"
#define GRAPH_APP_ID  "00000003-0000-0000-c000-000000000000"
#define VERIFY_URI    "https://login.microsoft.com/device" /* Entra's since 2026 */

/* State of one Entra request while it is being answered. */
struct call {
    struct emulator *emu;
    struct MHD_Connection *c;
    const char *method;
    const char *url;
    const char *body;
    json_t *extra_headers;       /* x-ms-request-id plus fault headers */
    char trace_id[37];
    char correlation_id[37];
    unsigned status;             /* for the log line */
    char note[64];
    const json_t *merge;         /* fault: merged over the JSON answer */
};

enum tenant_kind { TENANT_BAD, TENANT_CONCRETE, TENANT_MULTI };

const char *code_state_name(enum code_state s)
{
    static const char *const names[] = {"pending", "approved", "declined",
                                        "redeemed", "expired"};
    return names[s];
}

void code_free(struct device_code *dc)
{
    if (!dc)
        return;
    free(dc->device_code);
    free(dc->scope);
    approval_free(&dc->appr);
    free(dc);
}

/* Time-driven transitions are applied lazily: a scheduled approval or an
 * expiry is indistinguishable from outside until somebody looks. */
void code_refresh(struct emulator *emu, struct device_code *dc, int64_t now)
{
    (void)emu;
    if (dc->state == CODE_PENDING && dc->approve_at_ms && now >= dc->approve_at_ms)
        dc->state = CODE_APPROVED;
    if ((dc->state == CODE_PENDING || dc->state == CODE_APPROVED) &&
        now >= dc->expires_ms)
        dc->state = CODE_EXPIRED;
}

/* "/{tenant}/rest" → endpoint class; tenant copied out when asked. */
static enum emu_ep classify(const char *url, char *tenant, size_t tlen)
{
    if (!url || url[0] != '/')
        return EP_OTHER;
    if (!strncmp(url, "/graph", 6) && (url[6] == '/' || !url[6]))
        return EP_GRAPH;
    const char *slash = strchr(url + 1, '/');
    if (!slash || slash == url + 1)
        return EP_OTHER;
    if (tenant) {
        size_t n = (size_t)(slash - url - 1);
        if (n >= tlen)
            n = tlen - 1;
        memcpy(tenant, url + 1, n);
        tenant[n] = '\0';
    }
    const char *rest = slash + 1;
    if (!strcmp(rest, "v2.0/.well-known/openid-configuration"))
        return EP_DISCOVERY;
    if (!strcmp(rest, "discovery/v2.0/keys"))
        return EP_KEYS;
    if (!strcmp(rest, "oauth2/v2.0/devicecode"))
        return EP_DEVICECODE;
    if (!strcmp(rest, "oauth2/v2.0/token"))
        return EP_TOKEN;
    return EP_OTHER;
}

enum emu_ep endpoints_classify(const char *url)
{
    return classify(url, NULL, 0);
}

static enum tenant_kind tenant_kind(const struct emulator *emu, const char *t)
{
    if (!strcasecmp(t, emu->cfg.tenant) || !strcasecmp(t, emu->cfg.domain))
        return TENANT_CONCRETE;
    if (!strcasecmp(t, "common") || !strcasecmp(t, "organizations"))
        return TENANT_MULTI;
    return TENANT_BAD;
}

static void utc_timestamp(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static enum MHD_Result reply(struct call *k, unsigned status, json_t *obj,
                             const char *cache)
{
    k->status = status;
    if (k->merge != NULL && json_is_object(obj))
        json_merge_nulldel(obj, k->merge);
    return http_send_json(k->c, status, obj, cache, k->extra_headers);
}

/* The full Entra error JSON (protocol.md §3 and §10), with a suberror
 * (MSAL's "basic_action" for MFA) when not NULL. */
static enum MHD_Result entra_error_sub(struct call *k, unsigned status,
                                       const char *error, long code,
                                       const char *text, const char *suberror)
{
    char ts[32], uri[128];
    utc_timestamp(ts);
    snprintf(uri, sizeof uri, "%s/error?code=%ld", k->emu->authority, code);
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(error));
    json_object_set_new(o, "error_description",
                        json_sprintf("AADSTS%ld: %s\r\nTrace ID: %s\r\n"
                                     "Correlation ID: %s\r\nTimestamp: %s",
                                     code, text, k->trace_id,
                                     k->correlation_id, ts));
    json_t *codes = json_array();
    json_array_append_new(codes, json_integer(code));
    json_object_set_new(o, "error_codes", codes);
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set_new(o, "trace_id", json_string(k->trace_id));
    json_object_set_new(o, "correlation_id", json_string(k->correlation_id));
    json_object_set_new(o, "error_uri", json_string(uri));
    if (suberror)
        json_object_set_new(o, "suberror", json_string(suberror));
    snprintf(k->note, sizeof k->note, "%s", error);
    return reply(k, status, o, NULL);
}

static enum MHD_Result entra_error(struct call *k, unsigned status,
                                   const char *error, long code,
                                   const char *text)
{
    return entra_error_sub(k, status, error, code, text, NULL);
}

/* Known Entra errors: the fault shortcut "error" uses these. */
static const struct {
    const char *error;
    unsigned status;
    long code;
    const char *text;
} known_errors[] = {
    {"authorization_pending", 400, 70016,
     "The provided request has not yet been authorized by the user. The user "
     "must input their code."},
    {"slow_down", 400, 70016,
     "The client is polling too frequently. Slow down and poll again after "
     "the interval."},
    {"authorization_declined", 400, 65004,
     "User declined to consent to access the app."},
    {"expired_token", 400, 70020,
     "The provided value for the input parameter 'device_code' is not valid. "
     "This device code has expired."},
    {"bad_verification_code", 400, 70018,
     "The provided value for the input parameter 'device_code' is not valid."},
    {"invalid_grant", 400, 90120,
     "The request was already authorized or declined."},
    {"invalid_client", 401, 7000218,
     "The request body must contain the following parameter: "
     "'client_assertion' or 'client_secret'."},
    {"unauthorized_client", 400, 700016,
     "Application was not found in the directory."},
    {"invalid_request", 400, 900144,
     "The request body must contain the following parameter: 'client_id'."},
    {"invalid_scope", 400, 70011,
     "The provided value for the input parameter 'scope' is not valid."},
    {"interaction_required", 400, 50076,
     "Due to a configuration change made by your administrator, or because "
     "you moved to a new location, you must use multi-factor authentication."},
    {"temporarily_unavailable", 503, 90033,
     "A transient error has occurred. Please try again."},
    {"server_error", 500, 50000,
     "There was an error issuing a token or an issue with our sign-in "
     "service."},
    {"invalid_tenant", 400, 90002, "Tenant not found."},
};

/* Entra's refusals by AADSTS code (protocol.md §11): the Conditional
 * Access, security-defaults and MFA blocks a poll gets after the user signed
 * in, and the answers that say this host's registration is wrong. A fault
 * or a decline that names only `aadsts` gets this error, status and text. */
static const struct {
    long code;
    const char *error;
    unsigned status;
    const char *text;
} known_codes[] = {
    {53003, "invalid_grant", 400,
     "Access has been blocked by Conditional Access policies. The access policy "
     "does not allow token issuance."},
    {530035, "invalid_grant", 400,
     "Access has been blocked by security defaults. This is due to the request "
     "using legacy auth or being deemed unsafe by security defaults policies."},
    {530033, "invalid_grant", 400,
     "Access has been blocked by Conditional Access policies. Device-based "
     "Conditional Access is not supported for the remote device flow."},
    {50005, "invalid_grant", 400,
     "User tried to log in to a device from a platform that's currently not "
     "supported through Conditional Access policy."},
    {50076, "invalid_grant", 400,
     "Due to a configuration change made by your administrator, or because "
     "you moved to a new location, you must use multi-factor authentication "
     "to access the application."},
    {50079, "invalid_grant", 400,
     "Due to a configuration change made by your administrator, or because "
     "you moved to a new location, you must enroll in multi-factor "
     "authentication to access the application."},
    {50105, "invalid_grant", 400,
     "Your administrator has configured the application to block users unless "
     "they are specifically granted ('assigned') access to the application."},
    {90002, "invalid_request", 400,
     "Tenant not found. Check to make sure you have the correct tenant ID and "
     "are signing into the correct cloud."},
    {700016, "unauthorized_client", 400,
     "Application with identifier was not found in the directory. This can "
     "happen if the application has not been installed by the administrator "
     "of the tenant or consented to by any user in the tenant."},
    {7000218, "invalid_client", 401,
     "The request body must contain the following parameter: "
     "'client_assertion' or 'client_secret'."},
    {70011, "invalid_scope", 400,
     "The provided request must include a 'scope' input parameter. The "
     "provided value for the input parameter 'scope' is not valid."},
    {65001, "invalid_grant", 400,
     "The user or administrator has not consented to use the application. "
     "Send an interactive authorization request for this user and resource."},
};

/* The Entra error for an AADSTS code; 0 if the table does not know it. */
static int error_of_code(long code, const char **error, unsigned *status, const char **text)
{
    for (size_t i = 0; i < sizeof known_codes / sizeof known_codes[0]; i++) {
        if (known_codes[i].code == code) {
            *error = known_codes[i].error;
            *status = known_codes[i].status;
            *text = known_codes[i].text;
            return 1;
        }
    }
    return 0;
}

int entra_code_info(long code, const char **error, unsigned *status, const char **text)
{
    return error_of_code(code, error, status, text);
}

static enum MHD_Result fault_error(struct call *k, const struct fault *f)
{
    unsigned status = 400;
    long code = 90000;
    const char *text = "Injected error.";
    const char *error = f->error;
    for (size_t i = 0; error && i < sizeof known_errors / sizeof known_errors[0]; i++) {
        if (!strcmp(known_errors[i].error, error)) {
            status = known_errors[i].status;
            code = known_errors[i].code;
            text = known_errors[i].text;
        }
    }
    if (error == NULL && !error_of_code(f->aadsts, &error, &status, &text))
        error = "invalid_request";
    if (f->status)
        status = (unsigned)f->status;
    if (f->aadsts)
        code = f->aadsts;
    if (f->description)
        text = f->description;
    return entra_error(k, status, error, code, text);
}

static json_t *strarray(const char *const *v)
{
    json_t *a = json_array();
    for (; *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

/* Same members and order as the live capture in protocol.md §1. */
static json_t *discovery_doc(struct emulator *emu, const char *key,
                             const char *issuer)
{
    const char *base = emu->authority;
    static const char *const auth_methods[] = {
        "client_secret_post", "private_key_jwt", "client_secret_basic", NULL};
    static const char *const modes[] = {"query", "fragment", "form_post", NULL};
    static const char *const subj[] = {"pairwise", NULL};
    static const char *const algs[] = {"RS256", NULL};
    static const char *const rtypes[] = {"code", "id_token", "code id_token",
                                         "id_token token", NULL};
    static const char *const scopes[] = {"openid", "profile", "email",
                                         "offline_access", NULL};
    static const char *const claims[] = {
        "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
        "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
        "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
        "ver", "at_hash", "c_hash", "email", NULL};
    json_t *d = json_object();
    json_object_set_new(d, "token_endpoint",
                        json_sprintf("%s/%s/oauth2/v2.0/token", base, key));
    json_object_set_new(d, "token_endpoint_auth_methods_supported",
                        strarray(auth_methods));
    json_object_set_new(d, "jwks_uri",
                        json_sprintf("%s/%s/discovery/v2.0/keys", base, key));
    json_object_set_new(d, "response_modes_supported", strarray(modes));
    json_object_set_new(d, "subject_types_supported", strarray(subj));
    json_object_set_new(d, "id_token_signing_alg_values_supported",
                        strarray(algs));
    json_object_set_new(d, "response_types_supported", strarray(rtypes));
    json_object_set_new(d, "scopes_supported", strarray(scopes));
    json_object_set_new(d, "issuer", json_string(issuer));
    json_object_set_new(d, "request_uri_parameter_supported", json_false());
    json_object_set_new(d, "userinfo_endpoint",
                        json_string("https://graph.microsoft.com/oidc/userinfo"));
    json_object_set_new(d, "authorization_endpoint",
                        json_sprintf("%s/%s/oauth2/v2.0/authorize", base, key));
    json_object_set_new(d, "device_authorization_endpoint",
                        json_sprintf("%s/%s/oauth2/v2.0/devicecode", base, key));
    json_object_set_new(d, "http_logout_supported", json_true());
    json_object_set_new(d, "frontchannel_logout_supported", json_true());
    json_object_set_new(d, "end_session_endpoint",
                        json_sprintf("%s/%s/oauth2/v2.0/logout", base, key));
    json_object_set_new(d, "claims_supported", strarray(claims));
    json_object_set_new(d, "kerberos_endpoint",
                        json_sprintf("%s/%s/kerberos", base, key));
    json_object_set_new(d, "tenant_region_scope",
                        strcmp(key, emu->cfg.tenant) ? json_null()
                                                      : json_string("NA"));
    json_object_set_new(d, "cloud_instance_name",
                        json_string("microsoftonline.com"));
    json_object_set_new(d, "cloud_graph_host_name",
                        json_string("graph.windows.net"));
    json_object_set_new(d, "msgraph_host", json_string("graph.microsoft.com"));
    json_object_set_new(d, "rbac_url", json_string("https://pas.windows.net"));
    return d;
}

static enum MHD_Result do_discovery(struct call *k, const char *tenant,
                                    enum tenant_kind kind)
{
    struct emulator *emu = k->emu;
    char issuer[256];
    const char *key;
    if (kind == TENANT_CONCRETE) {
        key = emu->cfg.tenant; /* a domain still yields GUID-keyed endpoints */
        snprintf(issuer, sizeof issuer, "%s/%s/v2.0", emu->authority, key);
    } else {
        key = !strcasecmp(tenant, "common") ? "common" : "organizations";
        snprintf(issuer, sizeof issuer, "%s/{tenantid}/v2.0", emu->authority);
    }
    return reply(k, 200, discovery_doc(emu, key, issuer), "max-age=86400, private");
}

static enum MHD_Result do_keys(struct call *k)
{
    struct emulator *emu = k->emu;
    char issuer[256];
    snprintf(issuer, sizeof issuer, "%s/{tenantid}/v2.0", emu->authority);
    pthread_mutex_lock(&emu->lock);
    if (emu->jwks_override) {
        char *raw = strdup(emu->jwks_override);
        pthread_mutex_unlock(&emu->lock);
        json_t *h = json_deep_copy(k->extra_headers);
        json_object_set_new(h, "Cache-Control",
                            json_string("max-age=86400, private"));
        k->status = 200;
        snprintf(k->note, sizeof k->note, "override");
        enum MHD_Result r = http_send(k->c, 200, "application/json; charset=utf-8",
                                      raw ? raw : "", raw ? strlen(raw) : 0, h);
        json_decref(h);
        free(raw);
        return r;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < emu->nkeys; i++) {
        json_t *jwk = crypto_jwk(&emu->keys[i], issuer);
        if (jwk)
            json_array_append_new(arr, jwk);
    }
    pthread_mutex_unlock(&emu->lock);
    json_t *o = json_object();
    json_object_set_new(o, "keys", arr);
    return reply(k, 200, o, "max-age=86400, private");
}

static bool scope_has(const char *scope, const char *want)
{
    size_t wl = strlen(want);
    const char *p = scope;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == wl && !strncasecmp(p, want, wl))
            return true;
        p += n;
    }
    return false;
}

static bool client_known(const struct emulator *emu, const char *client_id)
{
    return !strcasecmp(client_id, emu->cfg.client_id);
}

static enum MHD_Result missing_param(struct call *k, const char *name)
{
    char text[160];
    snprintf(text, sizeof text,
             "The request body must contain the following parameter: '%s'.",
             name);
    return entra_error(k, 400, "invalid_request", 900144, text);
}

static enum MHD_Result unknown_client(struct call *k, const char *client_id)
{
    char text[512];
    snprintf(text, sizeof text,
             "Application with identifier '%.64s' was not found in the "
             "directory '%s'. This can happen if the application has not been "
             "installed by the administrator of the tenant or consented to by "
             "any user in the tenant. You may have sent your authentication "
             "request to the wrong tenant.",
             client_id, k->emu->cfg.domain);
    return entra_error(k, 400, "unauthorized_client", 700016, text);
}

static enum MHD_Result post_only(struct call *k)
{
    char text[128];
    snprintf(text, sizeof text,
             "The endpoint only accepts POST, OPTIONS requests. Received a %.16s "
             "request.",
             k->method);
    return entra_error(k, 400, "invalid_request", 900561, text);
}

/* 9 uppercase letters, uniform (rejection sampling), unique among codes. */
static void make_user_code(struct emulator *emu, char out[16])
{
    for (;;) {
        size_t n = 0;
        while (n < 9) {
            unsigned char b;
            random_bytes(&b, 1);
            if (b < 234)
                out[n++] = (char)('A' + b % 26);
        }
        out[9] = '\0';
        bool dup = false;
        for (size_t i = 0; i < emu->ncodes && !dup; i++)
            dup = !strcmp(emu->codes[i]->user_code, out);
        if (!dup)
            return;
    }
}

/* Keeps the code table bounded: drop the oldest finished code, or else the
 * oldest code. Caller holds the lock. */
static void make_room(struct emulator *emu)
{
    if (emu->ncodes < EMU_MAX_CODES)
        return;
    size_t victim = 0;
    for (size_t i = 0; i < emu->ncodes; i++) {
        if (emu->codes[i]->state != CODE_PENDING &&
            emu->codes[i]->state != CODE_APPROVED) {
            victim = i;
            break;
        }
    }
    code_free(emu->codes[victim]);
    memmove(&emu->codes[victim], &emu->codes[victim + 1],
            (emu->ncodes - victim - 1) * sizeof emu->codes[0]);
    emu->ncodes--;
}

/* aad-login --check discards its code unseen: no user can approve it, so
 * the emulator's stand-in user must not either (auto-approval, or the
 * default "most recent pending code" of /control/approve): a stale check
 * code picked instead of a real login's left that login waiting. */
static bool requested_by_check(const struct call *k)
{
    const char *ua = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "User-Agent");
    return ua != NULL && strstr(ua, EMU_CHECK_USER_AGENT_MARK) != NULL;
}

static enum MHD_Result do_devicecode(struct call *k)
{
    struct emulator *emu = k->emu;
    if (strcmp(k->method, "POST"))
        return post_only(k);
    char *client_id = form_get(k->body, "client_id");
    char *scope = form_get(k->body, "scope");
    enum MHD_Result r;
    if (!client_id || !*client_id) {
        r = missing_param(k, "client_id");
        goto out;
    }
    if (!client_known(emu, client_id)) {
        r = unknown_client(k, client_id);
        goto out;
    }
    if (!scope || !*scope) {
        r = missing_param(k, "scope");
        goto out;
    }
    struct cc_error unknown;
    if (api_check_resource(emu, scope, &unknown) != 0) {
        r = entra_error(k, unknown.status, unknown.error, unknown.code, unknown.text);
        goto out;
    }

    struct device_code *dc = calloc(1, sizeof *dc);
    char *rnd = random_b64url(192);
    if (!dc || !rnd) {
        free(dc);
        free(rnd);
        r = MHD_NO;
        goto out;
    }
    /* Real device codes are long opaque strings with a fixed-looking head. */
    size_t dlen = strlen(rnd) + 16;
    dc->device_code = malloc(dlen);
    snprintf(dc->device_code, dlen, "DAQABIQEAAAD%s", rnd);
    free(rnd);
    snprintf(dc->client_id, sizeof dc->client_id, "%s", client_id);
    dc->scope = strdup(scope);
    dc->state = CODE_PENDING;
    dc->issued_ms = emu_now_ms();
    dc->expires_ms = dc->issued_ms + emu->cfg.expires_in * 1000;
    dc->from_check = requested_by_check(k);

    pthread_mutex_lock(&emu->lock);
    make_room(emu);
    make_user_code(emu, dc->user_code);
    if (emu->auto_armed && !dc->from_check) {
        dc->approve_at_ms = dc->issued_ms + emu->auto_delay_ms;
        if (dc->approve_at_ms == 0)
            dc->approve_at_ms = 1;
        approval_copy(&dc->appr, &emu->auto_appr);
        if (emu->auto_remaining > 0 && --emu->auto_remaining == 0) {
            emu->auto_armed = false;
            approval_free(&emu->auto_appr);
        }
    }
    emu->codes[emu->ncodes++] = dc;
    json_t *o = json_object();
    json_object_set_new(o, "user_code", json_string(dc->user_code));
    json_object_set_new(o, "device_code", json_string(dc->device_code));
    json_object_set_new(o, "verification_uri", json_string(VERIFY_URI));
    json_object_set_new(o, "expires_in", json_integer(emu->cfg.expires_in));
    json_object_set_new(o, "interval", json_integer(emu->cfg.interval));
    json_object_set_new(o, "message",
                        json_sprintf("To sign in, use a web browser to open the "
                                     "page %s and enter the code %s to "
                                     "authenticate.",
                                     VERIFY_URI, dc->user_code));
    snprintf(k->note, sizeof k->note, "user_code=%s%s", dc->user_code,
             dc->approve_at_ms ? " (auto-approve)" : "");
    pthread_mutex_unlock(&emu->lock);
    r = reply(k, 200, o, NULL);
out:
    free(client_id);
    free(scope);
    return r;
}

/* "now", "now+N", "now-N" claim values become integer times (emulator clock),
 * so tests can ask for expired or future tokens without sharing a clock. */
static void resolve_now(json_t *claims, time_t now)
{
    const char *k;
    json_t *v;
    json_object_foreach(claims, k, v) {
        const char *s = json_string_value(v);
        if (!s || strncmp(s, "now", 3))
            continue;
        long long delta = 0;
        if (s[3]) {
            char *end;
            if (s[3] != '+' && s[3] != '-')
                continue;
            delta = strtoll(s + 3, &end, 10);
            if (*end || end == s + 4)
                continue;
        }
        json_object_set_new(claims, k, json_integer((json_int_t)now + delta));
    }
}

/* The ID token for claims; a (NULL: none) may forge or replace it. */
static char *make_id_token(struct emulator *emu, const struct approval *a,
                           json_t *claims)
{
    static const struct approval plain = {.sign_with = "current"};
    if (!a)
        a = &plain;
    if (a->raw_id_token)
        return strdup(a->raw_id_token);
    struct signing_key *key = &emu->keys[emu->current_key];
    if (!strcmp(a->sign_with, "unknown-key")) {
        if (!emu->rogue.pkey && crypto_make_signing_key(&emu->rogue) != 0)
            return NULL;
        key = &emu->rogue;
    }
    json_t *h = json_object();
    json_object_set_new(h, "typ", json_string("JWT"));
    json_object_set_new(h, "alg", json_string("RS256"));
    /* A forgery keeps the published kid: only the signature betrays it. */
    json_object_set_new(h, "kid", json_string(emu->keys[emu->current_key].kid));
    json_merge_nulldel(h, a->header);
    char *htext = json_dumps(h, JSON_COMPACT);
    char *ptext = json_dumps(claims, JSON_COMPACT);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    char *jws = NULL;
    if (htext && ptext)
        jws = crypto_sign_jws(key, alg, htext, ptext,
                              !strcmp(a->sign_with, "none"));
    free(htext);
    free(ptext);
    json_decref(h);
    return jws;
}

/* An opaque, JWT-looking Graph access token; clients must not validate it. */
static char *make_access_token(struct emulator *emu, const json_t *claims,
                               const char *scope, time_t now, long life)
{
    json_t *h = json_object();
    json_object_set_new(h, "typ", json_string("JWT"));
    char *nonce = random_b64url(32);
    json_object_set_new(h, "nonce", json_string(nonce ? nonce : ""));
    free(nonce);
    json_object_set_new(h, "alg", json_string("RS256"));
    json_object_set_new(h, "kid", json_string(emu->keys[emu->current_key].kid));
    json_t *p = json_object();
    json_object_set_new(p, "aud", json_string(GRAPH_APP_ID));
    json_object_set_new(p, "iss", json_sprintf("https://sts.windows.net/%s/",
                                               emu->cfg.tenant));
    json_object_set_new(p, "iat", json_integer(now));
    json_object_set_new(p, "nbf", json_integer(now));
    json_object_set_new(p, "exp", json_integer(now + life));
    json_t *v;
    if ((v = json_object_get(claims, "oid")))
        json_object_set(p, "oid", v);
    json_object_set_new(p, "scp", json_string(scope));
    json_object_set_new(p, "tid", json_string(emu->cfg.tenant));
    if ((v = json_object_get(claims, "preferred_username")))
        json_object_set(p, "upn", v);
    json_object_set_new(p, "ver", json_string("1.0"));
    char *ht = json_dumps(h, JSON_COMPACT), *pt = json_dumps(p, JSON_COMPACT);
    json_decref(h);
    json_decref(p);
    char *out = NULL;
    if (ht && pt) {
        char *hb = b64url_encode((unsigned char *)ht, strlen(ht));
        char *pb = b64url_encode((unsigned char *)pt, strlen(pt));
        char *sb = random_b64url(256);
        if (hb && pb && sb && (out = malloc(strlen(hb) + strlen(pb) + strlen(sb) + 3)))
            sprintf(out, "%s.%s.%s", hb, pb, sb);
        free(hb);
        free(pb);
        free(sb);
    }
    free(ht);
    free(pt);
    return out;
}

/* A new lifetime (1 h) and new per-token values: for a sign-in's claims,
 * and for those of each refresh. */
static void stamp_claims(json_t *claims, time_t now)
{
    json_object_set_new(claims, "iat", json_integer(now));
    json_object_set_new(claims, "nbf", json_integer(now));
    json_object_set_new(claims, "exp", json_integer(now + 3600));
    char *r = random_b64url(16);
    json_object_set_new(claims, "uti", json_string(r ? r : ""));
    free(r);
}

static json_t *default_claims(struct emulator *emu, const struct device_code *dc,
                              time_t now)
{
    char guid[37], sub[64], seed[256];
    json_t *c = json_object();
    json_object_set_new(c, "aud", json_string(dc->client_id));
    json_object_set_new(c, "iss", json_sprintf("%s/%s/v2.0", emu->authority,
                                               emu->cfg.tenant));
    stamp_claims(c, now);
    char *r = random_b64url(72);
    json_object_set_new(c, "aio", json_string(r ? r : ""));
    free(r);
    json_object_set_new(c, "name", json_string(DEFAULT_NAME));
    json_object_set_new(c, "oid", json_string(DEFAULT_OID));
    json_object_set_new(c, "preferred_username",
                        json_sprintf("%s@%s", DEFAULT_USER, emu->cfg.domain));
    r = random_b64url(48);
    json_object_set_new(c, "rh", json_sprintf("1.A%s", r ? r : ""));
    free(r);
    random_guid(guid);
    json_object_set_new(c, "sid", json_string(guid));
    /* sub is pairwise: stable per (user, app), like the real one. */
    snprintf(seed, sizeof seed, "%s|%s", DEFAULT_OID, dc->client_id);
    sha256_b64url(seed, sub);
    json_object_set_new(c, "sub", json_string(sub));
    json_object_set_new(c, "tid", json_string(emu->cfg.tenant));
    json_object_set_new(c, "ver", json_string("2.0"));
    return c;
}

/* Scope echoed for the (Graph) access token: requested scopes without
 * offline_access, plus User.Read when only OIDC scopes were asked for. */
static char *granted_scope(const char *requested)
{
    size_t cap = strlen(requested) + 16;
    char *out = calloc(1, cap);
    if (!out)
        return NULL;
    bool resource = false;
    const char *p = requested;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        bool skip = n == 14 && !strncasecmp(p, "offline_access", 14);
        bool oidc = (n == 6 && !strncasecmp(p, "openid", 6)) ||
                    (n == 7 && !strncasecmp(p, "profile", 7)) ||
                    (n == 5 && !strncasecmp(p, "email", 5));
        if (!skip) {
            if (*out)
                strcat(out, " ");
            strncat(out, p, n);
            resource |= !oidc;
        }
        p += n;
    }
    if (!resource)
        strcat(out, *out ? " User.Read" : "User.Read");
    return out;
}

/* The success answer of the token endpoint for a user: claims are the
 * ID-token claims, asked the scope of this request, granted the scope of
 * the sign-in (offline_access there gives a refresh token), appr the
 * approval's forgeries (NULL for a refresh). Lock held. */
static json_t *token_answer(struct call *k, const char *client_id,
                            const char *asked, const char *granted,
                            const struct approval *appr, json_t *claims,
                            bool client_info)
{
    struct emulator *emu = k->emu;
    time_t now = time(NULL);
    long life = 3600 + (long)(emu_now_ms() % 1800); /* Entra: 60–90 min */
    bool api = api_scope_names(asked); /* a token for the API, not Graph */
    char *scope = api ? api_granted_scope(asked) : granted_scope(asked);
    json_t *o = json_object();
    json_object_set_new(o, "token_type", json_string("Bearer"));
    json_object_set_new(o, "scope", json_string(scope ? scope : ""));
    json_object_set_new(o, "expires_in", json_integer(life));
    json_object_set_new(o, "ext_expires_in", json_integer(life));
    char *at = api ? api_user_token(emu, claims, client_id, now, life)
                   : make_access_token(emu, claims, scope ? scope : "", now, life);
    json_object_set_new(o, "access_token", json_string(at ? at : ""));
    free(at);
    free(scope);
    if (scope_has(granted, "offline_access")) {
        char *rt = refresh_issue(emu, client_id, granted, claims);
        if (!rt) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "refresh_token", json_string(rt));
        memset(rt, 0, strlen(rt));
        free(rt);
    }
    /* id_token only for openid, as documented in [DC]. */
    if (scope_has(asked, "openid")) {
        char *idt = make_id_token(emu, appr, claims);
        if (!idt) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "id_token", json_string(idt));
        free(idt);
    }
    if (client_info) {
        json_t *ci = json_object();
        json_t *uid = json_object_get(claims, "oid");
        json_t *utid = json_object_get(claims, "tid");
        json_object_set(ci, "uid", uid ? uid : json_string(DEFAULT_OID));
        json_object_set(ci, "utid", utid ? utid : json_string(emu->cfg.tenant));
        char *t = json_dumps(ci, JSON_COMPACT);
        char *b = t ? b64url_encode((unsigned char *)t, strlen(t)) : NULL;
        json_object_set_new(o, "client_info", json_string(b ? b : ""));
        free(t);
        free(b);
        json_decref(ci);
    }
    if (appr)
        json_merge_nulldel(o, appr->token_response);
    /* The emulator's Graph accepts the access token finally handed out, for
     * the expires_in finally stated (token_response may change both). */
    const char *at_final = json_string_value(json_object_get(o, "access_token"));
    json_t *ei = json_object_get(o, "expires_in");
    if (at_final && *at_final && !api)
        tokens_add(emu, at_final, json_string_value(json_object_get(claims, "oid")),
                   false, scope_graph_rights(emu, asked),
                   json_is_integer(ei) ? (long)json_integer_value(ei) : life);
    return o;
}

static json_t *token_success(struct call *k, struct device_code *dc,
                             bool client_info)
{
    time_t now = time(NULL);
    json_t *claims = default_claims(k->emu, dc, now);
    json_merge_nulldel(claims, dc->appr.claims);
    resolve_now(claims, now);
    json_t *o = token_answer(k, dc->client_id, dc->scope, dc->scope, &dc->appr,
                             claims, client_info);
    json_decref(claims);
    return o;
}


/* grant_type=refresh_token (protocol.md §12): a new access token for the
 * scope asked (any the app may have; default the sign-in's), a new ID token
 * when it holds openid, and a new refresh token; the old one is used up. */

/* Entra issues a refreshed ID token's claims anew: a groups claim says the
 * user's membership now. Where the control interface has set the user's
 * groups (/control/graph/members), they replace the sign-in's. Called
 * with emu->lock held. */
static void current_groups(struct emulator *emu, json_t *claims)
{
    const char *oid = json_string_value(json_object_get(claims, "oid"));
    if (!oid || !json_is_array(json_object_get(claims, "groups")))
        return;
    char key[64];
    snprintf(key, sizeof key, "%s", oid);
    for (char *c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    json_t *members = json_object_get(emu->graph_members, key);
    if (!json_is_array(members))
        return;
    json_t *ids = json_array();
    size_t i;
    json_t *g;
    json_array_foreach(members, i, g) {
        json_t *id = json_object_get(g, "id");
        if (json_is_string(id))
            json_array_append(ids, id);
    }
    json_object_set_new(claims, "groups", ids);
}

static enum MHD_Result do_refresh(struct call *k, const char *client_id)
{
    struct emulator *emu = k->emu;
    char *token = form_get(k->body, "refresh_token");
    char *asked = form_get(k->body, "scope");
    char *ci = form_get(k->body, "client_info");
    enum MHD_Result r;
    struct cc_error e;
    if (!token || !*token) {
        r = missing_param(k, "refresh_token");
        goto out;
    }
    if (asked && *asked && api_check_resource(emu, asked, &e) != 0) {
        r = entra_error(k, e.status, e.error, e.code, e.text);
        goto out;
    }
    pthread_mutex_lock(&emu->lock);
    emu->grant_requests[GRANT_REFRESH_TOKEN]++;
    json_t *claims = NULL;
    char *granted = NULL;
    json_t *ok = NULL;
    int failed = refresh_redeem(emu, token, client_id, &claims, &granted, &e);
    const char *scope = asked && *asked ? asked : granted;
    if (!failed && api_consent_refused(emu, scope, client_id, &e) != 0)
        failed = -1;
    if (!failed) {
        stamp_claims(claims, time(NULL));
        current_groups(emu, claims);
        ok = token_answer(k, client_id, scope, granted, NULL, claims,
                          ci && !strcmp(ci, "1"));
        if (ok)
            emu->grant_issued[GRANT_REFRESH_TOKEN]++;
    }
    pthread_mutex_unlock(&emu->lock);
    json_decref(claims);
    free(granted);
    if (failed)
        r = entra_error_sub(k, e.status, e.error, e.code, e.text, e.suberror);
    else if (!ok)
        r = entra_error(k, 500, "server_error", 50000,
                        "The emulator failed to sign the token.");
    else {
        snprintf(k->note, sizeof k->note, "refreshed tokens");
        r = reply(k, 200, ok, NULL);
    }
out:
    if (token)
        memset(token, 0, strlen(token));
    free(token);
    free(asked);
    free(ci);
    return r;
}

/* An opaque, JWT-looking application token for Graph (never validated by
 * clients; the emulator's Graph knows it by its hash). */
static char *make_app_token(struct emulator *emu, const char *client_id,
                            time_t now, long life)
{
    char sp_oid[64];
    char seed[256];
    snprintf(seed, sizeof seed, "sp|%s", client_id);
    sha256_b64url(seed, sp_oid);
    json_t *h = json_pack("{s:s,s:s,s:s}", "typ", "JWT", "alg", "RS256", "kid",
                          emu->keys[emu->current_key].kid);
    json_t *p = json_pack(
        "{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:[s,s,s],s:s,s:s,s:s}", "aud",
        "https://graph.microsoft.com", "iss",
        "https://sts.windows.net/", "iat", (json_int_t)now,
        "nbf", (json_int_t)now, "exp", (json_int_t)(now + life), "appid",
        client_id, "appidacr", "2", "idtyp", "app", "oid", sp_oid, "roles",
        "GroupMember.Read.All", "User.Read.All", "Application.Read.All", "sub", sp_oid, "tid",
        emu->cfg.tenant, "ver", "1.0");
    json_object_set_new(p, "iss", json_sprintf("https://sts.windows.net/%s/",
                                               emu->cfg.tenant));
    char *ht = json_dumps(h, JSON_COMPACT), *pt = json_dumps(p, JSON_COMPACT);
    json_decref(h);
    json_decref(p);
    char *out = NULL;
    if (ht && pt) {
        char *hb = b64url_encode((unsigned char *)ht, strlen(ht));
        char *pb = b64url_encode((unsigned char *)pt, strlen(pt));
        char *sb = random_b64url(256);
        if (hb && pb && sb && (out = malloc(strlen(hb) + strlen(pb) + strlen(sb) + 3)))
            sprintf(out, "%s.%s.%s", hb, pb, sb);
        free(hb);
        free(pb);
        free(sb);
    }
    free(ht);
    free(pt);
    return out;
}

/* grant_type=client_credentials with a certificate assertion (protocol.md
 * §8). Only the Graph ".default" scope is known. */
static enum MHD_Result do_client_credentials(struct call *k,
                                             enum tenant_kind kind,
                                             const char *tenant)
{
    struct emulator *emu = k->emu;
    if (strcmp(k->method, "POST"))
        return post_only(k);
    char *client_id = form_get(k->body, "client_id");
    char *scope = form_get(k->body, "scope");
    char *atype = form_get(k->body, "client_assertion_type");
    char *assertion = form_get(k->body, "client_assertion");
    char *secret = form_get(k->body, "client_secret");
    enum MHD_Result r;
    if (kind != TENANT_CONCRETE) {
        char text[256];
        snprintf(text, sizeof text,
                 "Use a tenant-specific endpoint or configure the application "
                 "to be multi-tenant. The client_credentials grant is not "
                 "supported on '%.32s'.",
                 tenant);
        r = entra_error(k, 400, "invalid_request", 50059, text);
        goto out;
    }
    if (!client_id || !*client_id) {
        r = missing_param(k, "client_id");
        goto out;
    }
    if (!client_known(emu, client_id)) {
        r = unknown_client(k, client_id);
        goto out;
    }
    if (!scope || !*scope) {
        r = missing_param(k, "scope");
        goto out;
    }
    bool api = api_scope_is_default(scope);
    if (!api && !graph_scope_ok(emu, scope)) {
        char text[512];
        size_t sl = strlen(scope);
        bool dflt = sl >= 9 && !strcasecmp(scope + sl - 9, "/.default");
        if (dflt) {
            snprintf(text, sizeof text,
                     "The resource principal named %.*s was not found in the "
                     "tenant named %s. This can happen if the application has "
                     "not been installed by the administrator of the tenant or "
                     "consented to by any user in the tenant. You might have "
                     "sent your authentication request to the wrong tenant.",
                     (int)(sl - 9 > 200 ? 200 : sl - 9), scope, emu->cfg.domain);
            r = entra_error(k, 400, "invalid_resource", 500011, text);
        } else {
            snprintf(text, sizeof text,
                     "The provided value for scope %.200s is not valid. Client "
                     "credential flows must have a scope value with /.default "
                     "suffixed to the resource identifier (application ID URI).",
                     scope);
            r = entra_error(k, 400, "invalid_scope", 1002012, text);
        }
        goto out;
    }
    if (secret && *secret && !(assertion && *assertion)) {
        r = entra_error(k, 401, "invalid_client", 7000215,
                        "Invalid client secret provided. Ensure the secret "
                        "being sent in the request is the client secret value, "
                        "not the client secret ID.");
        goto out;
    }
    if (!assertion || !*assertion) {
        r = entra_error(k, 401, "invalid_client", 7000218,
                        "The request body must contain the following parameter: "
                        "'client_assertion' or 'client_secret'.");
        goto out;
    }
    if (!atype || !*atype) {
        r = missing_param(k, "client_assertion_type");
        goto out;
    }
    if (strcmp(atype, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")) {
        char text[256];
        snprintf(text, sizeof text,
                 "The client_assertion_type '%.100s' is not supported. Use "
                 "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
                 atype);
        r = entra_error(k, 400, "invalid_request", 50027 /* JWT */, text);
        goto out;
    }
    struct cc_error e;
    if (assertion_verify(emu, assertion, client_id, &e) != 0) {
        r = entra_error(k, e.status, e.error, e.code, e.text);
        goto out;
    }
    time_t now = time(NULL);
    long life = 3599;
    pthread_mutex_lock(&emu->lock);
    if (api && emu->api_token_life > 0)
        life = emu->api_token_life;
    char *at = api ? api_app_token(emu, client_id, now, life)
                   : make_app_token(emu, client_id, now, life);
    if (at && !api)
        tokens_add(emu, at, NULL, true, GRAPH_ALL_RIGHTS, life);
    if (at)
        emu->grant_issued[GRANT_CLIENT_CREDENTIALS]++;
    pthread_mutex_unlock(&emu->lock);
    if (!at) {
        r = entra_error(k, 500, "server_error", 50000,
                        "The emulator failed to make the token.");
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "token_type", json_string("Bearer"));
    json_object_set_new(o, "expires_in", json_integer(life));
    json_object_set_new(o, "ext_expires_in", json_integer(life));
    json_object_set_new(o, "access_token", json_string(at));
    free(at);
    snprintf(k->note, sizeof k->note, "app token for %.36s", client_id);
    r = reply(k, 200, o, NULL);
out:
    free(client_id);
    free(scope);
    free(atype);
    free(assertion);
    free(secret);
    return r;
}

/* grant_type=authorization_code: the code of a browser sign-in
 * (emu_authcode.c), answered as an approved device code would be. */
static enum MHD_Result do_authorization_code(struct call *k)
{
    struct emulator *emu = k->emu;
    char *client_id = form_get(k->body, "client_id");
    enum MHD_Result r;
    if (!client_id || !*client_id) {
        r = missing_param(k, "client_id");
    } else if (!client_known(emu, client_id)) {
        r = unknown_client(k, client_id);
    } else {
        struct device_code dc;
        struct cc_error e = {0};
        pthread_mutex_lock(&emu->lock);
        json_t *ok = authcode_redeem(emu, k->body, &dc, &e) == 0 ? token_success(k, &dc, false)
                                                                   : NULL;
        bool redeemed = e.status == 0;
        pthread_mutex_unlock(&emu->lock);
        if (ok) {
            snprintf(k->note, sizeof k->note, "tokens for an authorization code");
            r = reply(k, 200, ok, NULL);
        } else if (!redeemed) {
            r = entra_error(k, e.status, e.error, e.code, e.text);
        } else {
            r = entra_error(k, 500, "server_error", 50000, "The emulator failed to sign the token.");
        }
        if (redeemed) {
            free(dc.scope);
            approval_free(&dc.appr);
        }
    }
    free(client_id);
    return r;
}

static enum MHD_Result do_token(struct call *k)
{
    struct emulator *emu = k->emu;
    if (strcmp(k->method, "POST"))
        return post_only(k);
    char *grant = form_get(k->body, "grant_type");
    char *client_id = form_get(k->body, "client_id");
    char *device_code = form_get(k->body, "device_code");
    char *ci = form_get(k->body, "client_info");
    enum MHD_Result r;
    if (!grant || !*grant) {
        r = missing_param(k, "grant_type");
        goto out;
    }
    if (!strcmp(grant, "authorization_code")) {
        r = do_authorization_code(k);
        goto out;
    }
    bool refresh = !strcmp(grant, "refresh_token");
    if (!refresh && strcmp(grant, "urn:ietf:params:oauth:grant-type:device_code") &&
        strcmp(grant, "device_code")) {
        char text[256];
        snprintf(text, sizeof text,
                 "The app requested an unsupported grant type '%.64s'.", grant);
        r = entra_error(k, 400, "unsupported_grant_type", 70003, text);
        goto out;
    }
    if (!client_id || !*client_id) {
        r = missing_param(k, "client_id");
        goto out;
    }
    if (!client_known(emu, client_id)) {
        r = unknown_client(k, client_id);
        goto out;
    }
    if (refresh) {
        r = do_refresh(k, client_id);
        goto out;
    }
    if (!device_code || !*device_code) {
        r = missing_param(k, "device_code");
        goto out;
    }

    pthread_mutex_lock(&emu->lock);
    emu->grant_requests[GRANT_DEVICE_CODE]++;
    struct device_code *dc = NULL;
    for (size_t i = 0; i < emu->ncodes && !dc; i++)
        if (!strcmp(emu->codes[i]->device_code, device_code))
            dc = emu->codes[i];
    if (!dc) {
        pthread_mutex_unlock(&emu->lock);
        r = entra_error(k, 400, "bad_verification_code", 70018,
                        "The provided value for the input parameter "
                        "'device_code' is not valid.");
        goto out;
    }
    code_refresh(emu, dc, emu_now_ms());
    dc->polls++;
    if (strcasecmp(dc->client_id, client_id)) {
        pthread_mutex_unlock(&emu->lock);
        r = entra_error(k, 400, "invalid_grant", 70000,
                        "Provided grant is invalid or malformed. The device "
                        "code was issued to another application.");
        goto out;
    }
    enum code_state st = dc->state;
    json_t *ok = NULL;
    struct cc_error consent;
    bool refused = st == CODE_APPROVED &&
                   api_consent_refused(emu, dc->scope, client_id, &consent) != 0;
    if (refused) {
        dc->state = CODE_REDEEMED; /* the sign-in ended with the refusal */
    } else if (st == CODE_APPROVED) {
        ok = token_success(k, dc, ci && !strcmp(ci, "1"));
        if (ok) {
            dc->state = CODE_REDEEMED; /* single use */
            emu->grant_issued[GRANT_DEVICE_CODE]++;
        }
    }
    char uc[16];
    memcpy(uc, dc->user_code, sizeof uc);
    long refusal = dc->refusal_aadsts;
    pthread_mutex_unlock(&emu->lock);
    if (refused) {
        r = entra_error(k, consent.status, consent.error, consent.code, consent.text);
        goto out;
    }

    switch (st) {
    case CODE_PENDING:
        r = entra_error(k, 400, "authorization_pending", 70016,
                        "The provided request has not yet been authorized by "
                        "the user. The user must input their code.");
        break;
    case CODE_DECLINED: {
        const char *error, *text;
        unsigned status;
        if (refusal != 0 && error_of_code(refusal, &error, &status, &text))
            r = entra_error(k, status, error, refusal, text);
        else
            r = entra_error(k, 400, "authorization_declined", 65004,
                            "User declined to consent to access the app.");
        break;
    }
    case CODE_EXPIRED:
        r = entra_error(k, 400, "expired_token", 70020,
                        "The provided value for the input parameter "
                        "'device_code' is not valid. This device code has "
                        "expired.");
        break;
    case CODE_REDEEMED:
        r = entra_error(k, 400, "invalid_grant", 90120,
                        "The request was already authorized or declined. The "
                        "device code has already been redeemed.");
        break;
    case CODE_APPROVED:
    default:
        if (!ok) {
            r = entra_error(k, 500, "server_error", 50000,
                            "The emulator failed to sign the token.");
            break;
        }
        snprintf(k->note, sizeof k->note, "tokens for %s", uc);
        r = reply(k, 200, ok, NULL);
        break;
    }
    pthread_mutex_lock(&emu->lock);
    clock_gettime(CLOCK_MONOTONIC, &emu->poll_answered);
    pthread_mutex_unlock(&emu->lock);
out:
    free(grant);
    free(client_id);
    free(device_code);
    free(ci);
    return r;
}

/* Sleeps in slices so shutdown is never held up by an injected delay. */
static void fault_delay(struct emulator *emu, long ms)
{
    while (ms > 0 && !atomic_load(&emu->stopping)) {
        long step = ms < 50 ? ms : 50;
        usleep((useconds_t)step * 1000);
        ms -= step;
    }
}

static enum MHD_Result apply_fault(struct call *k, struct graph_call *g,
                                   const struct fault *f, bool *handled)
{
    *handled = true;
    if (f->close) {
        snprintf(k->note, sizeof k->note, "fault: close");
        return MHD_NO; /* MHD drops the connection without an answer */
    }
    if (f->error && g) {
        enum MHD_Result r = graph_fault_error(g, f);
        k->status = g->status;
        snprintf(k->note, sizeof k->note, "fault: %.48s", g->note);
        return r;
    }
    if (f->error || (f->aadsts && !f->body && !f->status && !f->oversize && !g))
        return fault_error(k, f);
    const char *ctype = f->content_type ? f->content_type
                                        : "application/json; charset=utf-8";
    if (f->redirect) {
        json_t *h = json_deep_copy(k->extra_headers);
        json_object_set_new(h, "Location", json_string(f->redirect));
        k->status = f->status ? (unsigned)f->status : 302;
        snprintf(k->note, sizeof k->note, "fault: redirect");
        enum MHD_Result r = http_send(k->c, k->status, NULL, "", 0, h);
        json_decref(h);
        return r;
    }
    if (f->oversize > 0) {
        k->status = f->status ? (unsigned)f->status : 200;
        snprintf(k->note, sizeof k->note, "fault: %lld bytes", f->oversize);
        return http_send_oversize(k->c, k->status, ctype, f->oversize,
                                  k->extra_headers);
    }
    if (f->status || f->body) {
        k->status = f->status ? (unsigned)f->status : 503;
        snprintf(k->note, sizeof k->note, "fault");
        const char *b = f->body ? f->body : "";
        return http_send(k->c, k->status, ctype, b, strlen(b), k->extra_headers);
    }
    *handled = false; /* delay/headers only: answer normally */
    return MHD_YES;
}

enum MHD_Result endpoints_handle(struct emulator *emu, struct MHD_Connection *c,
                                 struct request *rq, const char *method,
                                 const char *url)
{
    struct call k = {.emu = emu, .c = c, .method = method, .url = url,
                     .body = rq->body};
    random_guid(k.trace_id);
    /* Entra echoes client-request-id as the correlation id. */
    const char *crid = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                   "client-request-id");
    if (crid && strlen(crid) == 36 && strspn(crid, "0123456789abcdefABCDEF-") == 36)
        snprintf(k.correlation_id, sizeof k.correlation_id, "%s", crid);
    else
        random_guid(k.correlation_id);
    k.extra_headers = json_object();
    json_object_set_new(k.extra_headers, "x-ms-request-id", json_string(k.trace_id));

    char tenant[128] = "";
    enum emu_ep ep = classify(url, tenant, sizeof tenant);
    enum MHD_Result r;

    /* A client-credentials request is its own class (stats and faults). */
    if (ep == EP_TOKEN && !rq->too_large) {
        char *grant = form_get(rq->body, "grant_type");
        if (grant && !strcmp(grant, "client_credentials")) {
            ep = EP_CLIENT_CREDENTIALS;
            pthread_mutex_lock(&emu->lock);
            if (emu->requests[EP_TOKEN])
                emu->requests[EP_TOKEN]--;
            emu->requests[EP_CLIENT_CREDENTIALS]++;
            emu->grant_requests[GRANT_CLIENT_CREDENTIALS]++;
            pthread_mutex_unlock(&emu->lock);
            rq->ep = ep;
        }
        free(grant);
    }
    struct graph_call g = {.emu = emu, .c = c, .method = method,
                           .path = url + 6, .body = rq->body, .len = rq->len,
                           .too_large = rq->too_large,
                           .extra_headers = k.extra_headers};
    struct graph_call *gp = ep == EP_GRAPH ? &g : NULL;
    if (gp) {
        memcpy(g.request_id, k.trace_id, sizeof g.request_id);
        const char *gcr = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      "client-request-id");
        if (gcr && *gcr && strlen(gcr) < sizeof g.client_request_id)
            snprintf(g.client_request_id, sizeof g.client_request_id, "%s", gcr);
        else
            memcpy(g.client_request_id, k.trace_id, sizeof k.trace_id);
    }

    struct fault f;
    json_t *merge = NULL;
    if (fault_take(emu, ep, &f) == 0) {
        fault_delay(emu, f.delay_ms);
        const char *hk;
        json_t *hv;
        json_object_foreach(f.headers, hk, hv)
            json_object_set(k.extra_headers, hk, hv);
        bool handled;
        r = apply_fault(&k, gp, &f, &handled);
        if (!handled && f.merge != NULL) {
            merge = json_incref(f.merge);
            k.merge = merge;
        }
        fault_free(&f);
        if (handled)
            goto done;
    }

    if (gp) {
        g.merge = k.merge;
        r = graph_handle(&g);
        k.status = g.status;
        snprintf(k.note, sizeof k.note, "%s", g.note);
        goto done;
    }
    if (rq->too_large) {
        r = entra_error(&k, 413, "invalid_request", 90015,
                        "Request body is too large.");
        goto done;
    }
    if (ep == EP_OTHER && api_is_path(url)) {
        r = api_handle(emu, c, method, k.extra_headers, &k.status, k.note, sizeof k.note);
        goto done;
    }
    if (ep == EP_OTHER && !authcode_is_path(url)) {
        static const char nf[] = "Not Found";
        k.status = 404;
        r = http_send(c, 404, "text/plain; charset=utf-8", nf, sizeof nf - 1,
                      k.extra_headers);
        goto done;
    }
    enum tenant_kind kind = tenant_kind(emu, tenant);
    if (kind == TENANT_BAD) {
        char text[512];
        snprintf(text, sizeof text,
                 "Tenant '%.64s' not found. Check to make sure you have the "
                 "correct tenant ID and are signing into the correct cloud. "
                 "Check with your subscription administrator, this may happen "
                 "if there are no active subscriptions for the tenant.",
                 tenant);
        r = entra_error(&k, 400, "invalid_tenant", 90002, text);
        goto done;
    }
    if (ep == EP_OTHER) {
        r = authcode_authorize(emu, c, k.extra_headers, &k.status, k.note, sizeof k.note);
        goto done;
    }
    switch (ep) {
    case EP_DISCOVERY:
        r = do_discovery(&k, tenant, kind);
        break;
    case EP_KEYS:
        r = do_keys(&k);
        break;
    case EP_DEVICECODE:
        r = do_devicecode(&k);
        break;
    case EP_CLIENT_CREDENTIALS:
        r = do_client_credentials(&k, kind, tenant);
        break;
    case EP_TOKEN:
    default:
        r = do_token(&k);
        break;
    }
done:
    emu_log(emu, "https %s %s -> %u %s", method, url, k.status, k.note);
    json_decref(k.extra_headers);
    json_decref(merge);
    return r;
}
