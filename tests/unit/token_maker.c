/* token_maker.c - see token_maker.h. */
#include "config.h"

#include "token_maker.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>

EVP_PKEY *tm_generate_rsa(unsigned bits)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL)
        return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0 ||
        EVP_PKEY_keygen(ctx, &pkey) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

char *tm_b64url(const void *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = data;
    char *out = malloc(len / 3 * 4 + 5);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = alphabet[(acc >> bits) & 63];
        }
        acc &= (1ul << bits) - 1;
    }
    if (bits > 0)
        out[n++] = alphabet[(acc << (6 - bits)) & 63];
    out[n] = '\0';
    return out;
}

char *tm_b64url_str(const char *text)
{
    return tm_b64url(text, strlen(text));
}

static char *bn_param_b64(EVP_PKEY *key, const char *name)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        return NULL;
    int n = BN_num_bytes(bn);
    unsigned char *raw = malloc((size_t)n + 1);
    char *out = NULL;
    if (raw != NULL && BN_bn2bin(bn, raw) == n)
        out = tm_b64url(raw, (size_t)n);
    free(raw);
    BN_free(bn);
    return out;
}

json_t *tm_jwk(EVP_PKEY *key, const char *kid, const char *issuer)
{
    char *n = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_E);
    json_t *jwk = NULL;
    if (n != NULL && e != NULL) {
        jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "n", n, "e", e);
        if (jwk != NULL && kid != NULL) {
            json_object_set_new(jwk, "kid", json_string(kid));
            json_object_set_new(jwk, "x5t", json_string(kid));
        }
        if (jwk != NULL && issuer != NULL)
            json_object_set_new(jwk, "issuer", json_string(issuer));
    }
    free(n);
    free(e);
    return jwk;
}

char *tm_dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

char *tm_jwks_text(json_t *keys)
{
    json_t *root = json_pack("{s:O}", "keys", keys);
    char *text = root ? tm_dump(root) : NULL;
    json_decref(root);
    return text;
}

unsigned char *tm_sign(EVP_PKEY *key, const void *data, size_t len, size_t *sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t n = 0;
    if (md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_DigestSign(md, NULL, &n, data, len) == 1 && (sig = malloc(n)) != NULL &&
        EVP_DigestSign(md, sig, &n, data, len) == 1) {
        *sig_len = n;
    } else {
        free(sig);
        sig = NULL;
    }
    EVP_MD_CTX_free(md);
    return sig;
}

char *tm_sign_parts(EVP_PKEY *key, const char *b64_header, const char *b64_payload)
{
    size_t hl = strlen(b64_header), pl = strlen(b64_payload);
    char *input = malloc(hl + 1 + pl + 1);
    if (input == NULL)
        return NULL;
    memcpy(input, b64_header, hl);
    input[hl] = '.';
    memcpy(input + hl + 1, b64_payload, pl + 1);
    size_t sig_len = 0;
    unsigned char *sig = tm_sign(key, input, hl + 1 + pl, &sig_len);
    char *sig64 = sig ? tm_b64url(sig, sig_len) : NULL;
    char *token = NULL;
    if (sig64 != NULL && (token = malloc(hl + 1 + pl + 1 + strlen(sig64) + 1)) != NULL) {
        memcpy(token, input, hl + 1 + pl);
        token[hl + 1 + pl] = '.';
        strcpy(token + hl + 1 + pl + 1, sig64);
    }
    free(sig);
    free(sig64);
    free(input);
    return token;
}

char *tm_make_token(EVP_PKEY *key, const char *header_json, const char *payload_json)
{
    char *h = tm_b64url_str(header_json);
    char *p = tm_b64url_str(payload_json);
    char *token = h && p ? tm_sign_parts(key, h, p) : NULL;
    free(h);
    free(p);
    return token;
}

char *tm_make_token_json(EVP_PKEY *key, const char *header_json, const json_t *claims)
{
    char *payload = tm_dump(claims);
    char *token = payload ? tm_make_token(key, header_json, payload) : NULL;
    free(payload);
    return token;
}
