/*
 * A protected API besides Graph: a resource registered in the tenant
 * (EMU_API_URI) whose access tokens the emulator issues - delegated ones
 * through the device-code flow (scp), application ones through the
 * client-credentials grant (roles, idtyp=app) - and a protected endpoint of
 * that API, GET /api/whoami, that checks a bearer token as a resource
 * server does: RS256 signature by a published key, aud, iss, exp/nbf, then
 * the permission.
 */
#include "emulator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_PREFIX EMU_API_URI "/"
#define API_PATH "/api/whoami"
#define CLOCK_SKEW 300
#define MAX_BEARER (16 * 1024)

/* One word of a space-separated scope list at a time. */
static const char *next_word(const char *p, size_t *n)
{
    while (*p == ' ')
        p++;
    *n = strcspn(p, " ");
    return p;
}

static bool word_is_api(const char *p, size_t n)
{
    size_t pl = strlen(API_PREFIX);
    return n > pl && !strncasecmp(p, API_PREFIX, pl);
}

bool api_scope_names(const char *scope)
{
    size_t n;
    for (const char *p = next_word(scope, &n); n; p = next_word(p + n, &n))
        if (word_is_api(p, n))
            return true;
    return false;
}

bool api_scope_is_default(const char *scope)
{
    return !strcasecmp(scope, API_PREFIX ".default");
}

/* A scope naming a resource ("scheme://...") that is neither Graph nor
 * the API: Entra refuses it at the device-code request (AADSTS500011). */
int api_check_resource(struct emulator *emu, const char *scope, struct cc_error *e)
{
    static const char graph[] = "https://graph.microsoft.com/";
    size_t n, gl = strlen(emu->graph_base);
    for (const char *p = next_word(scope, &n); n; p = next_word(p + n, &n)) {
        const char *sep = memmem(p, n, "://", 3);
        if (sep == NULL || word_is_api(p, n) ||
            (n > sizeof graph - 1 && !strncasecmp(p, graph, sizeof graph - 1)) ||
            (n > gl && !strncasecmp(p, emu->graph_base, gl) && p[gl] == '/'))
            continue;
        const char *slash = memchr(sep + 3, '/', n - (size_t)(sep + 3 - p));
        int rl = (int)((slash ? slash : p + n) - p);
        return cc_error_set(e, 400, "invalid_resource", 500011,
                 "The resource principal named %.*s was not found in the tenant "
                 "named %s. This can happen if the application has not been "
                 "installed by the administrator of the tenant or consented to "
                 "by any user in the tenant. You might have sent your "
                 "authentication request to the wrong tenant.",
                 rl > 200 ? 200 : rl, p, emu->cfg.domain);
    }
    return 0;
}

/* The API's delegated permission without consent: Entra's answer to the
 * poll once the user has signed in. Lock held. */
int api_consent_refused(struct emulator *emu, const char *scope,
                        const char *client_id, struct cc_error *e)
{
    if (!api_scope_names(scope) || emu->api_consent)
        return 0;
    return cc_error_set(e, 400, "invalid_grant", 65001,
             "The user or administrator has not consented to use the "
             "application with ID '%.64s' named 'pam_aad'. Send an interactive "
             "authorization request for this user and resource.",
             client_id);
}

/* What the user's token may do: the API's one delegated permission,
 * asked for by name or through .default. */
char *api_granted_scope(const char *scope)
{
    (void)scope;
    return strdup(API_PREFIX EMU_API_SCOPE);
}

/* Signed with the current key, like every Entra token (lock held). */
static char *sign(struct emulator *emu, json_t *claims)
{
    const struct signing_key *k = &emu->keys[emu->current_key];
    json_t *h = json_pack("{s:s,s:s,s:s}", "typ", "JWT", "alg", "RS256", "kid", k->kid);
    char *ht = json_dumps(h, JSON_COMPACT), *pt = json_dumps(claims, JSON_COMPACT);
    char *jws = ht && pt ? crypto_sign_jws(k, "RS256", ht, pt, false) : NULL;
    free(ht);
    free(pt);
    json_decref(h);
    json_decref(claims);
    return jws;
}

static json_t *common_claims(struct emulator *emu, const char *client_id, time_t now,
                             long life)
{
    json_t *p = json_pack("{s:s,s:I,s:I,s:I,s:s,s:s,s:s}", "aud", EMU_API_URI, "iat",
                          (json_int_t)now, "nbf", (json_int_t)now, "exp",
                          (json_int_t)(now + life), "appid", client_id, "tid",
                          emu->cfg.tenant, "ver", "1.0");
    json_object_set_new(p, "iss", json_sprintf("https://sts.windows.net/%s/", emu->cfg.tenant));
    return p;
}

char *api_user_token(struct emulator *emu, const json_t *id_claims, const char *client_id,
                     time_t now, long life)
{
    json_t *p = common_claims(emu, client_id, now, life);
    json_t *v;
    if ((v = json_object_get(id_claims, "oid")))
        json_object_set(p, "oid", v);
    if ((v = json_object_get(id_claims, "preferred_username")))
        json_object_set(p, "upn", v);
    json_object_set_new(p, "scp", json_string(EMU_API_SCOPE));
    return sign(emu, p);
}

char *api_app_token(struct emulator *emu, const char *client_id, time_t now, long life)
{
    char sp_oid[64], seed[256];
    snprintf(seed, sizeof seed, "sp|%s", client_id);
    sha256_b64url(seed, sp_oid);
    json_t *p = common_claims(emu, client_id, now, life);
    json_object_set_new(p, "idtyp", json_string("app"));
    json_object_set_new(p, "oid", json_string(sp_oid));
    json_object_set_new(p, "sub", json_string(sp_oid));
    if (emu->api_app_role)
        json_object_set_new(p, "roles", json_pack("[s]", EMU_API_ROLE));
    return sign(emu, p);
}

int api_settings(struct emulator *emu, const json_t *body, char *err, size_t errlen,
                 json_t **answer)
{
    json_t *consent = json_object_get(body, "consent");
    json_t *role = json_object_get(body, "app_role");
    json_t *life = json_object_get(body, "app_token_lifetime");
    if ((consent && !json_is_boolean(consent)) || (role && !json_is_boolean(role)) ||
        (life && (!json_is_integer(life) || json_integer_value(life) < 0 ||
                  json_integer_value(life) > 86400))) {
        snprintf(err, errlen, "'consent' and 'app_role' must be booleans, "
                              "'app_token_lifetime' 0..86400 seconds");
        return -1;
    }
    pthread_mutex_lock(&emu->lock);
    if (consent)
        emu->api_consent = json_is_true(consent);
    if (role)
        emu->api_app_role = json_is_true(role);
    if (life)
        emu->api_token_life = (long)json_integer_value(life);
    *answer = json_pack("{s:s,s:s,s:s,s:b,s:b,s:I}", "resource", EMU_API_URI, "scope",
                        EMU_API_SCOPE, "role", EMU_API_ROLE, "consent", emu->api_consent,
                        "app_role", emu->api_app_role, "app_token_lifetime",
                        (json_int_t)emu->api_token_life);
    pthread_mutex_unlock(&emu->lock);
    return 0;
}

bool api_is_path(const char *url)
{
    return !strcasecmp(url, API_PATH);
}

/* 401/403 as a resource server answers (RFC 6750 §3). */
static enum MHD_Result refuse(struct MHD_Connection *c, json_t *headers, unsigned status,
                              const char *error, const char *why, unsigned *status_out,
                              char *note, size_t notelen)
{
    json_t *h = json_deep_copy(headers);
    json_object_set_new(h, "WWW-Authenticate",
                        json_sprintf("Bearer realm=\"%s\", error=\"%s\", "
                                     "error_description=\"%s\"",
                                     EMU_API_URI, error, why));
    *status_out = status;
    snprintf(note, notelen, "api: %s", why);
    enum MHD_Result r = http_send_json(c, status,
                                       json_pack("{s:s,s:s}", "error", error,
                                                 "error_description", why),
                                       "no-store", h);
    json_decref(h);
    return r;
}

static bool word_in(const char *list, const char *want)
{
    size_t n, wl = strlen(want);
    for (const char *p = next_word(list, &n); n; p = next_word(p + n, &n))
        if (n == wl && !strncmp(p, want, n))
            return true;
    return false;
}

static bool has_role(const json_t *roles, const char *want)
{
    size_t i;
    json_t *v;
    json_array_foreach(roles, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), want))
            return true;
    }
    return false;
}

static bool str_is(const json_t *v, const char *want)
{
    return json_is_string(v) && !strcmp(json_string_value(v), want);
}

/* Checks the signature with the published key the header names. */
static const char *check_signature(struct emulator *emu, const char *token, json_t **claims)
{
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.'))
        return "not a compact JWS";
    json_t *h = segment_json(token, (size_t)(d1 - token));
    const char *alg = json_string_value(json_object_get(h, "alg"));
    const char *kid = json_string_value(json_object_get(h, "kid"));
    const char *why = NULL;
    if (!alg || strcmp(alg, "RS256") || !kid)
        why = "the token is not RS256 with a kid";
    size_t siglen = 0;
    unsigned char *sig = why ? NULL : b64_decode_any(d2 + 1, strlen(d2 + 1), true, &siglen);
    if (!why && !sig)
        why = "the signature is not base64url";
    if (!why) {
        bool known = false, ok = false;
        pthread_mutex_lock(&emu->lock);
        for (size_t i = 0; i < emu->nkeys && !known; i++) {
            if (!strcmp(emu->keys[i].kid, kid)) {
                known = true;
                ok = verify_sig(emu->keys[i].pkey, false, token, (size_t)(d2 - token), sig,
                                siglen);
            }
        }
        pthread_mutex_unlock(&emu->lock);
        why = !known ? "the signing key is not published" : !ok ? "the signature is invalid" : NULL;
    }
    free(sig);
    json_decref(h);
    if (!why && !(*claims = segment_json(d1 + 1, (size_t)(d2 - d1 - 1))))
        why = "the claims are not a JSON object";
    return why;
}

/* GET /api/whoami with "Authorization: Bearer <token>". */
enum MHD_Result api_handle(struct emulator *emu, struct MHD_Connection *c, const char *method,
                           json_t *headers, unsigned *status_out, char *note, size_t notelen)
{
    if (strcmp(method, "GET"))
        return refuse(c, headers, 405, "invalid_request", "only GET", status_out, note,
                      notelen);
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) || strlen(auth) > MAX_BEARER)
        return refuse(c, headers, 401, "invalid_token", "no bearer token", status_out, note,
                      notelen);
    json_t *claims = NULL;
    const char *why = check_signature(emu, auth + 7, &claims);
    time_t now = time(NULL);
    char iss[128];
    snprintf(iss, sizeof iss, "https://sts.windows.net/%s/", emu->cfg.tenant);
    const char *aud = json_string_value(json_object_get(claims, "aud"));
    json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
    const char *scp = json_string_value(json_object_get(claims, "scp"));
    json_t *roles = json_object_get(claims, "roles");
    bool app = str_is(json_object_get(claims, "idtyp"), "app");
    if (!why && (!aud || (strcmp(aud, EMU_API_URI) && strcasecmp(aud, EMU_API_APP_ID))))
        why = "the token is for another audience";
    else if (!why && !str_is(json_object_get(claims, "iss"), iss))
        why = "the token is from another issuer";
    else if (!why && (!json_is_integer(exp) || json_integer_value(exp) <= now))
        why = "the token is expired";
    else if (!why && json_is_integer(nbf) && json_integer_value(nbf) > now + CLOCK_SKEW)
        why = "the token is not valid yet";
    if (why) {
        json_decref(claims);
        return refuse(c, headers, 401, "invalid_token", why, status_out, note, notelen);
    }
    if (app ? !has_role(roles, EMU_API_ROLE) : !(scp && word_in(scp, EMU_API_SCOPE))) {
        json_decref(claims);
        return refuse(c, headers, 403, "insufficient_scope",
                      app ? "the application has no role " EMU_API_ROLE
                          : "the token has no scope " EMU_API_SCOPE,
                      status_out, note, notelen);
    }
    json_t *o = json_pack("{s:s,s:s}", "resource", EMU_API_URI, "kind",
                          app ? "app" : "delegated");
    static const char *const copied[] = {"oid", "upn", "appid", "scp", "roles", NULL};
    for (size_t i = 0; copied[i]; i++) {
        json_t *v = json_object_get(claims, copied[i]);
        if (v)
            json_object_set(o, copied[i], v);
    }
    json_decref(claims);
    *status_out = 200;
    snprintf(note, notelen, "api: %s token accepted", app ? "app" : "delegated");
    return http_send_json(c, 200, o, "no-store", headers);
}
