/* aad_keys.c - discovery document and JWKS parsing.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_keys.h"
#include "aad_json.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#define MIN_RSA_BITS 2048
#define MAX_RSA_BITS 8192

/* A published big-endian number: base64url, at most max_bytes, no leading
 * zero byte (its length then says its size in bits). NULL when it is not. */
static unsigned char *b64url_number(const char *s, size_t max_bytes, size_t *len)
{
    unsigned char *raw = s ? aad_base64url_decode(s, strlen(s), max_bytes, len) : NULL;
    if (raw != NULL && (*len == 0 || raw[0] == 0)) {
        free(raw);
        raw = NULL;
    }
    return raw;
}

static int bits_of(const unsigned char *raw, size_t len)
{
    int bits = (int)len * 8;
    for (unsigned char top = raw[0]; !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

/* The modulus and exponent of jwk into k, checked: 2048 to 8192 bits, an
 * odd exponent of at least 3 (a weak e is a forged key). 0, or -1. */
static int take_numbers(const json_t *jwk, struct aad_key *k)
{
    k->n = b64url_number(aad_json_string(jwk, "n"), MAX_RSA_BITS / 8, &k->n_len);
    k->e = b64url_number(aad_json_string(jwk, "e"), 8, &k->e_len);
    if (k->n == NULL || k->e == NULL || bits_of(k->n, k->n_len) < MIN_RSA_BITS)
        return -1;
    if (!(k->e[k->e_len - 1] & 1) || (k->e_len == 1 && k->e[0] == 1))
        return -1;
    return 0;
}

static EVP_PKEY *rsa_of(const struct aad_key *k)
{
    BIGNUM *n = BN_bin2bn(k->n, (int)k->n_len, NULL);
    BIGNUM *e = BN_bin2bn(k->e, (int)k->e_len, NULL);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (n == NULL || e == NULL)
        goto out;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static EVP_PKEY_CTX *rs256_verifier(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Makes k's OpenSSL key and verifier once; 0, or -1 (k is then unusable). */
static int prepare(struct aad_key *k)
{
    if (k->verify != NULL)
        return 0;
    if (!k->unusable && (k->pkey = rsa_of(k)) != NULL && (k->verify = rs256_verifier(k->pkey)) != NULL)
        return 0;
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
    k->unusable = 1;
    return -1;
}

static void key_clear(struct aad_key *k)
{
    free(k->kid);
    free(k->issuer);
    free(k->n);
    free(k->e);
    EVP_PKEY_CTX_free(k->verify);
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof(*k));
}

static int usable_jwk(const json_t *jwk)
{
    const char *kty = aad_json_string(jwk, "kty");
    const char *kid = aad_json_string(jwk, "kid");
    json_t *use = json_object_get(jwk, "use");
    json_t *alg = json_object_get(jwk, "alg");
    if (kty == NULL || strcmp(kty, "RSA") != 0 || kid == NULL || !aad_is_printable_token(kid, 256))
        return 0;
    if (use != NULL && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
        return 0;
    if (alg != NULL && (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256") != 0))
        return 0;
    return 1;
}

static int kid_count(const json_t *keys, const char *kid)
{
    int n = 0;
    size_t i;
    json_t *jwk;
    json_array_foreach(keys, i, jwk) {
        const char *other = aad_json_string(jwk, "kid");
        if (other != NULL && strcmp(other, kid) == 0)
            n++;
    }
    return n;
}

enum aad_status aad_keyset_parse(const char *json, size_t len, struct aad_keyset **out,
                                 struct aad_error *err)
{
    json_t *root = aad_json_parse_object(json, len, AAD_KEYS_MAX_BODY);
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        json_decref(root);
        return aad_fail(err, AAD_UNAVAILABLE, "the signing keys document is not a valid JWKS");
    }
    struct aad_keyset *set = calloc(1, sizeof(*set));
    size_t total = json_array_size(keys);
    if (set == NULL || total > AAD_KEYS_MAX_KEYS ||
        (total > 0 && (set->keys = calloc(total, sizeof(*set->keys))) == NULL)) {
        json_decref(root);
        aad_keyset_free(set);
        return aad_fail(err, AAD_UNAVAILABLE, "the signing keys document holds too many keys");
    }
    size_t i;
    json_t *jwk;
    json_array_foreach(keys, i, jwk) {
        struct aad_key *k = &set->keys[set->count];
        const char *issuer = aad_json_string(jwk, "issuer");
        if (!json_is_object(jwk) || !usable_jwk(jwk) ||
            kid_count(keys, aad_json_string(jwk, "kid")) != 1 || take_numbers(jwk, k) != 0) {
            key_clear(k);
            set->skipped++;
            continue;
        }
        k->kid = strdup(aad_json_string(jwk, "kid"));
        k->issuer = issuer ? strdup(issuer) : NULL;
        if (k->kid == NULL || (issuer != NULL && k->issuer == NULL)) {
            key_clear(k);
            set->skipped++;
            continue;
        }
        set->count++;
    }
    json_decref(root);
    if (set->count == 0) {
        aad_keyset_free(set);
        return aad_fail(err, AAD_UNAVAILABLE, "the signing keys document has no usable RSA key");
    }
    *out = set;
    return AAD_OK;
}

const struct aad_key *aad_keyset_find(struct aad_keyset *set, const char *kid)
{
    for (size_t i = 0; set != NULL && i < set->count; i++) {
        if (strcmp(set->keys[i].kid, kid) == 0)
            return prepare(&set->keys[i]) == 0 ? &set->keys[i] : NULL;
    }
    return NULL;
}

/* OpenSSL does a third of an RS256 check the first time only (measured:
 * 114 us for the first key made and used in a process, 44 us for the
 * next): fetching the RSA and SHA-256 implementations from its provider,
 * and the key's Montgomery tables at its first operation. A signature of
 * zeros runs all of that and fails; its error is dropped. */
void aad_keyset_warm_up(struct aad_keyset *set)
{
    static const unsigned char nothing[1];
    for (size_t i = 0; set != NULL && i < set->count; i++) {
        struct aad_key *k = &set->keys[i];
        if (prepare(k) != 0)
            continue;
        unsigned char digest[32], zeros[MAX_RSA_BITS / 8] = {0};
        unsigned int digest_len = 0;
        size_t sig_len = (size_t)EVP_PKEY_get_size(k->pkey);
        if (EVP_Digest(nothing, 0, digest, &digest_len, EVP_sha256(), NULL) == 1 &&
            sig_len <= sizeof(zeros))
            (void)EVP_PKEY_verify(k->verify, zeros, sig_len, digest, digest_len);
        ERR_clear_error();
        return;
    }
}

void aad_keyset_free(struct aad_keyset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++)
        key_clear(&set->keys[i]);
    free(set->keys);
    free(set);
}

/* issuer must be https://<host>/<guid>/v2.0; returns the GUID (malloc'd). */
static char *tenant_of_issuer(const char *issuer)
{
    static const char suffix[] = "/v2.0";
    size_t len = strlen(issuer);
    if (strncmp(issuer, "https://", 8) != 0 || len < 8 + 1 + 36 + sizeof(suffix) ||
        strcmp(issuer + len - (sizeof(suffix) - 1), suffix) != 0)
        return NULL;
    const char *guid = issuer + len - (sizeof(suffix) - 1) - 36;
    if (guid[-1] != '/')
        return NULL;
    char *copy = strndup(guid, 36);
    if (copy != NULL && !aad_is_guid(copy)) {
        free(copy);
        copy = NULL;
    }
    return copy;
}

enum aad_status aad_discovery_parse(const char *json, size_t len, const char *authority,
                                    struct aad_discovery *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    json_t *root = aad_json_parse_object(json, len, AAD_KEYS_MAX_BODY);
    const char *issuer = aad_json_string(root, "issuer");
    const char *jwks_uri = aad_json_string(root, "jwks_uri");
    size_t alen = strlen(authority);
    enum aad_status st = AAD_OK;
    if (root == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "the discovery document is not valid JSON");
    else if (issuer == NULL || !aad_is_printable_token(issuer, 512) ||
             (out->tenant_id = tenant_of_issuer(issuer)) == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE,
                      "the discovery document has no concrete v2.0 issuer for the tenant");
    else if (jwks_uri == NULL || !aad_is_printable_token(jwks_uri, 1024) ||
             strncmp(jwks_uri, authority, alen) != 0 || jwks_uri[alen] != '/')
        st = aad_fail(err, AAD_UNAVAILABLE,
                      "the discovery document's jwks_uri is not on the authority %s", authority);
    else if ((out->issuer = strdup(issuer)) == NULL || (out->jwks_uri = strdup(jwks_uri)) == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    json_decref(root);
    if (st != AAD_OK)
        aad_discovery_clear(out);
    return st;
}

void aad_discovery_clear(struct aad_discovery *d)
{
    free(d->issuer);
    free(d->tenant_id);
    free(d->jwks_uri);
    memset(d, 0, sizeof(*d));
}
