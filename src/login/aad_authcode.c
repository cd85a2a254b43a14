/* aad_authcode.c - authorization code + PKCE S256 with a loopback redirect.
 * Where it runs: in aad-login (`aad-login ssh`, on the user's workstation),
 * never in the caller of PAM; it may use HTTPS, TLS and JSON. */
#include "config.h"

#include "aad_authcode.h"
#include "aad_entra_error.h"
#include "aad_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define PARAM_MAX 4096

/* base64url of n random bytes into out. */
static int random_text(size_t n, char *out, size_t size)
{
    unsigned char bytes[32];
    if (n > sizeof(bytes) || RAND_bytes(bytes, (int)n) != 1)
        return -1;
    char *text = aad_base64url_encode(bytes, n);
    aad_wipe(bytes, sizeof(bytes));
    int ok = text != NULL && strlen(text) < size;
    if (ok)
        snprintf(out, size, "%s", text);
    aad_free_secret(text);
    return ok ? 0 : -1;
}

void aad_authcode_clear(struct aad_authcode *ac)
{
    free(ac->url);
    aad_wipe(ac, sizeof(*ac));
}

enum aad_status aad_authcode_begin(const struct aad_config *cfg, struct aad_http *http, int port,
                                   const char *nonce, struct aad_authcode *out,
                                   struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    unsigned char digest[32];
    unsigned int dlen = 0;
    if (random_text(32, out->verifier, sizeof(out->verifier)) != 0 ||
        random_text(16, out->state, sizeof(out->state)) != 0 ||
        EVP_Digest(out->verifier, strlen(out->verifier), digest, &dlen, EVP_sha256(), NULL) != 1)
        return aad_fail(err, AAD_UNAVAILABLE, "no randomness for the sign-in");
    char *challenge = aad_base64url_encode(digest, dlen);
    snprintf(out->redirect_uri, sizeof(out->redirect_uri), "http://127.0.0.1:%d/", port);
    char *redirect = aad_http_escape(http, out->redirect_uri);
    char *scope = aad_http_escape(http, cfg->scope);
    char *nonce_q = aad_http_escape(http, nonce);
    size_t size = strlen(cfg->authority) + strlen(cfg->tenant) + 512 +
                  (redirect ? strlen(redirect) : 0) + (scope ? strlen(scope) : 0) +
                  (nonce_q ? strlen(nonce_q) : 0);
    out->url = challenge && redirect && scope && nonce_q ? malloc(size) : NULL;
    if (out->url != NULL)
        snprintf(out->url, size,
                 "%s/%s/oauth2/v2.0/authorize?client_id=%s&response_type=code&redirect_uri=%s"
                 "&response_mode=query&scope=%s&state=%s&nonce=%s&code_challenge=%s"
                 "&code_challenge_method=S256",
                 cfg->authority, cfg->tenant, cfg->client_id, redirect, scope, out->state,
                 nonce_q, challenge);
    free(challenge);
    free(redirect);
    free(scope);
    free(nonce_q);
    if (out->url == NULL) {
        aad_authcode_clear(out);
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    return AAD_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The value of name in a query string, percent-decoded ('+' is a space);
 * NULL when absent, repeated, malformed or longer than PARAM_MAX. */
static char *query_param(const char *query, const char *name)
{
    size_t name_len = strlen(name);
    char *found = NULL;
    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            const char *v = p + name_len + 1;
            size_t vlen = len - name_len - 1;
            char *out = found == NULL && vlen <= PARAM_MAX ? malloc(vlen + 1) : NULL;
            size_t n = 0;
            for (size_t i = 0; out != NULL && i < vlen; i++) {
                if (v[i] == '%') {
                    int hi = i + 2 < vlen ? hex_value(v[i + 1]) : -1;
                    int lo = i + 2 < vlen ? hex_value(v[i + 2]) : -1;
                    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                        aad_free_secret(out);
                        out = NULL;
                        break;
                    }
                    out[n++] = (char)(hi << 4 | lo);
                    i += 2;
                } else {
                    out[n++] = v[i] == '+' ? ' ' : v[i];
                }
            }
            if (out == NULL) { /* repeated or malformed: nothing is believed */
                aad_free_secret(found);
                return NULL;
            }
            out[n] = '\0';
            found = out;
        }
        p = end ? end + 1 : NULL;
    }
    return found;
}

/* Entra's error redirect, read as its error answers are. */
static enum aad_status redirect_error(const char *error, const char *description,
                                      struct aad_error *err)
{
    json_t *body = json_pack("{s:s,s:s}", "error", error, "error_description",
                             description ? description : "");
    const char *aadsts = description ? strstr(description, "AADSTS") : NULL;
    if (body != NULL && aadsts != NULL) {
        long code = strtol(aadsts + 6, NULL, 10);
        if (code > 0 && code < 100000000)
            json_object_set_new(body, "error_codes", json_pack("[I]", (json_int_t)code));
    }
    struct aad_entra_error e;
    aad_entra_error_read(body, &e);
    json_decref(body);
    return aad_entra_error_fail(&e, "the sign-in in the browser", err);
}

enum aad_status aad_authcode_read_redirect(const struct aad_authcode *ac, const char *target,
                                           char **code, struct aad_error *err)
{
    *code = NULL;
    size_t len = strnlen(target, AAD_AUTHCODE_TARGET_MAX + 1);
    const char *q = strchr(target, '?');
    if (len > AAD_AUTHCODE_TARGET_MAX || q == NULL)
        return aad_fail(err, AAD_IGNORE,
                        "that is not the address Entra ID redirected the browser to");
    char *query = strndup(q + 1, strcspn(q + 1, "# \r\n"));
    char *state = query ? query_param(query, "state") : NULL;
    char *error = query ? query_param(query, "error") : NULL;
    char *description = query ? query_param(query, "error_description") : NULL;
    char *value = query ? query_param(query, "code") : NULL;
    enum aad_status st;
    if (state == NULL || strlen(state) != strlen(ac->state) ||
        CRYPTO_memcmp(state, ac->state, strlen(ac->state)) != 0)
        st = aad_fail(err, AAD_IGNORE,
                      "that address does not belong to this sign-in (its state differs)");
    else if (error != NULL)
        st = redirect_error(error, description, err);
    else if (value == NULL || *value == '\0' || !aad_is_printable_token(value, PARAM_MAX))
        st = aad_fail_as(err, AAD_FAILURE_REFUSED, "the redirect carries no code");
    else {
        *code = value;
        value = NULL;
        st = AAD_OK;
    }
    aad_free_secret(query);
    free(state);
    free(error);
    free(description);
    aad_free_secret(value);
    return st;
}

enum aad_status aad_authcode_redeem(const struct aad_config *cfg, struct aad_http *http,
                                    const struct aad_authcode *ac, const char *code,
                                    struct aad_tokens *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", cfg->authority, cfg->tenant);
    char *code_q = aad_http_escape(http, code);
    char *redirect = aad_http_escape(http, ac->redirect_uri);
    char *scope = aad_http_escape(http, cfg->scope);
    size_t size = (code_q ? strlen(code_q) : 0) + (redirect ? strlen(redirect) : 0) +
                  (scope ? strlen(scope) : 0) + 512;
    char *form = code_q && redirect && scope ? malloc(size) : NULL;
    if (form != NULL)
        snprintf(form, size,
                 "grant_type=authorization_code&client_id=%s&code=%s&redirect_uri=%s"
                 "&code_verifier=%s&scope=%s",
                 cfg->client_id, code_q, redirect, ac->verifier, scope);
    aad_free_secret(code_q);
    free(redirect);
    free(scope);
    if (form == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    struct aad_http_response resp;
    enum aad_status st = aad_http_post_form(http, url, form, &resp, err);
    aad_free_secret(form);
    if (st != AAD_OK)
        return st;
    json_t *body = resp.is_json ? aad_json_parse_object(resp.body, resp.len, AAD_HTTP_MAX_BODY)
                                : NULL;
    if (body == NULL) {
        st = aad_fail(err, AAD_UNAVAILABLE, "the token endpoint answered HTTP %ld without JSON",
                      resp.status);
    } else if (resp.status == 200) {
        st = aad_tokens_take(body, out, err);
    } else if ((resp.status == 400 || resp.status == 401) &&
               aad_json_string(body, "error") != NULL) {
        struct aad_entra_error e;
        aad_entra_error_read(body, &e);
        st = aad_entra_error_fail(&e, "the code redemption", err);
    } else {
        st = aad_fail(err, AAD_UNAVAILABLE, "the token endpoint answered HTTP %ld", resp.status);
    }
    json_decref(body);
    aad_http_response_clear(&resp); /* wipes the tokens in the text */
    return st;
}
