/* aad_jwt.c - strict validation of Entra ID tokens.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_jwt.h"
#include "aad_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

void aad_jwt_free(struct aad_jwt *jwt)
{
    if (jwt == NULL)
        return;
    json_decref(jwt->header);
    json_decref(jwt->claims);
    if (jwt->signing_input != NULL) {
        aad_wipe(jwt->signing_input, jwt->signing_input_len);
        free(jwt->signing_input);
    }
    free(jwt->signature);
    free(jwt);
}

static json_t *decode_json_part(const char *part, size_t len, size_t max)
{
    size_t raw_len = 0;
    unsigned char *raw = aad_base64url_decode(part, len, max, &raw_len);
    if (raw == NULL)
        return NULL;
    json_t *obj = aad_json_parse_object((const char *)raw, raw_len, max);
    aad_wipe(raw, raw_len);
    free(raw);
    return obj;
}

static enum aad_status check_header(const json_t *h, struct aad_error *err)
{
    const char *alg = aad_json_string(h, "alg");
    const char *typ = aad_json_string(h, "typ");
    const char *kid = aad_json_string(h, "kid");
    if (alg == NULL || strcmp(alg, "RS256") != 0)
        return aad_fail(err, AAD_DENIED, "token algorithm is not RS256");
    /* Any critical extension would change how the token must be read. */
    if (json_object_get(h, "crit") != NULL)
        return aad_fail(err, AAD_DENIED, "token header has a 'crit' member");
    if (json_object_get(h, "typ") != NULL && (typ == NULL || strcmp(typ, "JWT") != 0))
        return aad_fail(err, AAD_DENIED, "token type is not JWT");
    if (kid == NULL || !aad_is_printable_token(kid, 256))
        return aad_fail(err, AAD_DENIED, "token has no usable key id");
    return AAD_OK;
}

enum aad_status aad_jwt_parse(const char *token, struct aad_jwt **out, struct aad_error *err)
{
    size_t len = token ? strnlen(token, AAD_JWT_MAX_BYTES + 1) : 0;
    if (len == 0 || len > AAD_JWT_MAX_BYTES)
        return aad_fail(err, AAD_DENIED, "token is empty or larger than %d bytes", AAD_JWT_MAX_BYTES);
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return aad_fail(err, AAD_DENIED, "token is not a compact JWS of three parts");

    struct aad_jwt *jwt = calloc(1, sizeof(*jwt));
    if (jwt == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    enum aad_status st = AAD_OK;
    size_t sig_chars = len - (size_t)(dot2 + 1 - token);
    jwt->header = decode_json_part(token, (size_t)(dot1 - token), AAD_JWT_MAX_HEADER);
    jwt->claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), AAD_JWT_MAX_BYTES);
    jwt->signature = aad_base64url_decode(dot2 + 1, sig_chars, 1024, &jwt->signature_len);
    if (jwt->header == NULL)
        st = aad_fail(err, AAD_DENIED, "token header is not strict base64url JSON");
    else if (jwt->claims == NULL)
        st = aad_fail(err, AAD_DENIED, "token payload is not strict base64url JSON");
    else if (jwt->signature == NULL || jwt->signature_len == 0)
        st = aad_fail(err, AAD_DENIED, "token signature is missing or not strict base64url");
    else
        st = check_header(jwt->header, err);
    if (st == AAD_OK) {
        jwt->kid = aad_json_string(jwt->header, "kid");
        jwt->signing_input_len = (size_t)(dot2 - token);
        jwt->signing_input = strndup(token, jwt->signing_input_len);
        if (jwt->signing_input == NULL)
            st = aad_fail(err, AAD_DENIED, "out of memory");
    }
    if (st != AAD_OK) {
        aad_jwt_free(jwt);
        return st;
    }
    *out = jwt;
    return AAD_OK;
}

enum aad_status aad_jwt_verify_signature(const struct aad_jwt *jwt, const struct aad_key *key,
                                         struct aad_error *err)
{
    if ((int)jwt->signature_len != EVP_PKEY_get_size(key->pkey))
        return aad_fail(err, AAD_DENIED, "token signature has the wrong length for key %s",
                        key->kid);
    unsigned char digest[32];
    unsigned int digest_len = 0;
    /* The key's verifier was prepared for RSASSA-PKCS1-v1_5 with SHA-256:
     * it checks the DigestInfo, so only a SHA-256 signature can pass. */
    int ok = EVP_Digest(jwt->signing_input, jwt->signing_input_len, digest, &digest_len,
                        EVP_sha256(), NULL) == 1 &&
             EVP_PKEY_verify(key->verify, jwt->signature, jwt->signature_len, digest,
                             digest_len) == 1;
    if (!ok)
        return aad_fail(err, AAD_DENIED, "token signature does not verify with key %s", key->kid);
    return AAD_OK;
}

static enum aad_status check_audience(const json_t *claims, const char *client_id,
                                      struct aad_error *err)
{
    json_t *aud = json_object_get(claims, "aud");
    if (json_is_string(aud)) {
        if (strcasecmp(json_string_value(aud), client_id) == 0)
            return AAD_OK;
    } else if (json_is_array(aud) && json_array_size(aud) > 0 && json_array_size(aud) <= 16) {
        int found = 0;
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v))
                return aad_fail(err, AAD_DENIED, "token audience list holds a non-string");
            found |= strcasecmp(json_string_value(v), client_id) == 0;
        }
        /* With several audiences, OIDC requires the token to name us as azp. */
        const char *azp = aad_json_string(claims, "azp");
        if (found && (json_array_size(aud) == 1 || (azp != NULL && !strcasecmp(azp, client_id))))
            return AAD_OK;
    }
    return aad_fail(err, AAD_DENIED, "token audience is not this application (%s)", client_id);
}

static enum aad_status check_times(const json_t *claims, const struct aad_jwt_expect *x,
                                   struct aad_error *err)
{
    long long exp = 0, nbf = 0, iat = 0;
    if (aad_json_integer(claims, "exp", &exp) != 1 || aad_json_integer(claims, "nbf", &nbf) != 1 ||
        aad_json_integer(claims, "iat", &iat) != 1)
        return aad_fail(err, AAD_DENIED, "token lacks integer exp, nbf or iat");
    /* now - skew cannot overflow; exp + skew could (exp is the token's).
     * Told in seconds from now, never raw epoch numbers. */
    if (x->now - x->clock_skew >= exp)
        return aad_fail(err, AAD_DENIED,
                           "the token expired %lld s ago by this host's clock (clock_skew %ld s)",
                           x->now - exp, x->clock_skew);
    if (x->now + x->clock_skew < nbf)
        return aad_fail(err, AAD_DENIED,
                           "the token is valid only %lld s from now by this host's clock "
                           "(clock_skew %ld s)",
                           nbf - x->now, x->clock_skew);
    if (iat > x->now + x->clock_skew)
        return aad_fail(err, AAD_DENIED,
                           "the token was issued %lld s in the future by this host's clock "
                           "(clock_skew %ld s)",
                           iat - x->now, x->clock_skew);
    return AAD_OK;
}

/* The key's issuer may be a "{tenantid}" template: fill in tid, then compare. */
static int key_issuer_matches(const char *key_issuer, const char *tid, const char *iss)
{
    static const char tmpl[] = "{tenantid}";
    const char *at = strstr(key_issuer, tmpl);
    if (at == NULL)
        return strcmp(key_issuer, iss) == 0;
    size_t pre = (size_t)(at - key_issuer);
    const char *post = at + sizeof(tmpl) - 1;
    return strlen(iss) == pre + strlen(tid) + strlen(post) && strncmp(iss, key_issuer, pre) == 0 &&
           strncasecmp(iss + pre, tid, strlen(tid)) == 0 && strcmp(iss + pre + strlen(tid), post) == 0;
}

enum aad_status aad_jwt_check_times(const struct aad_jwt *jwt, const struct aad_jwt_expect *x,
                                    struct aad_error *err)
{
    return check_times(jwt->claims, x, err);
}

enum aad_status aad_jwt_check_claims(const struct aad_jwt *jwt, const struct aad_key *key,
                                     const struct aad_jwt_expect *x, struct aad_error *err)
{
    const json_t *c = jwt->claims;
    const char *iss = aad_json_string(c, "iss");
    const char *tid = aad_json_string(c, "tid");
    const char *ver = aad_json_string(c, "ver");
    const char *oid = aad_json_string(c, "oid");
    if (iss == NULL || strcmp(iss, x->issuer) != 0)
        return aad_fail(err, AAD_DENIED, "token issuer is not %s", x->issuer);
    /* GUIDs (tid, aud against client_id, oid) compare without regard to case. */
    if (tid == NULL || strcasecmp(tid, x->tenant_id) != 0)
        return aad_fail(err, AAD_DENIED, "token tenant is not %s", x->tenant_id);
    if (key->issuer != NULL && !key_issuer_matches(key->issuer, tid, iss))
        return aad_fail(err, AAD_DENIED, "token issuer does not match the issuer of key %s",
                        key->kid);
    /* An access token (it carries scopes) is for an API, never a sign-in. */
    if (json_object_get(c, "scp") != NULL)
        return aad_fail(err, AAD_DENIED, "token carries 'scp': an access token, not an ID token");
    enum aad_status st = check_audience(c, x->client_id, err);
    if (st == AAD_OK)
        st = check_times(c, x, err);
    if (st != AAD_OK)
        return st;
    if (ver == NULL || strcmp(ver, "2.0") != 0)
        return aad_fail(err, AAD_DENIED, "token version is not 2.0");
    if (!aad_is_guid(oid))
        return aad_fail(err, AAD_DENIED, "token has no valid object ID (oid)");
    return AAD_OK;
}

int aad_jwt_is_guest(const struct aad_jwt *jwt)
{
    long long acct = 0;
    int has_acct = aad_json_integer(jwt->claims, "acct", &acct);
    if (has_acct < 0 || (has_acct > 0 && acct != 0))
        return 1;
    const char *idp = aad_json_string(jwt->claims, "idp");
    const char *iss = aad_json_string(jwt->claims, "iss");
    const char *tid = aad_json_string(jwt->claims, "tid");
    if (json_object_get(jwt->claims, "idp") == NULL)
        return 0;
    if (idp == NULL || iss == NULL || tid == NULL)
        return 1;
    char v1_issuer[128];
    snprintf(v1_issuer, sizeof(v1_issuer), "https://sts.windows.net/%s/", tid);
    return strcmp(idp, iss) != 0 && strcmp(idp, v1_issuer) != 0;
}
