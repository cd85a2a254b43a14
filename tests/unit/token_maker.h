/* token_maker.h - test helpers that play the identity provider: RSA keys,
 * their JWKS form, and compact JWS tokens signed RS256 (PKCS#1 v1.5, SHA-256)
 * with OpenSSL EVP. Independent of the library's own base64url code, so
 * the tests do not check the library against itself. */
#ifndef TOKEN_MAKER_H
#define TOKEN_MAKER_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

/* A fresh RSA key of bits bits (public exponent 65537); NULL on failure. */
EVP_PKEY *tm_generate_rsa(unsigned bits);

/* base64url without padding of len bytes; malloc'd, NUL-terminated. */
char *tm_b64url(const void *data, size_t len);

/* base64url of a NUL-terminated string. */
char *tm_b64url_str(const char *text);

/* The public JWK of key, shaped like Entra ID's: kty RSA, use sig, kid, x5t,
 * n, e and (when issuer is not NULL) issuer. kid NULL leaves kid out.
 * Returns a new jansson object the caller may edit. */
json_t *tm_jwk(EVP_PKEY *key, const char *kid, const char *issuer);

/* {"keys": keys} as compact JSON text (keys is borrowed); malloc'd. */
char *tm_jwks_text(json_t *keys);

/* RSASSA-PKCS1-v1_5 SHA-256 signature of len bytes; malloc'd, *sig_len set. */
unsigned char *tm_sign(EVP_PKEY *key, const void *data, size_t len, size_t *sig_len);

/* "b64header.b64payload.b64signature" where the signature is computed over
 * the two given encoded parts as they are (so a test may hand in malformed
 * encodings and still carry a good signature). malloc'd. */
char *tm_sign_parts(EVP_PKEY *key, const char *b64_header, const char *b64_payload);

/* A compact JWS of the given header and payload JSON texts. malloc'd. */
char *tm_make_token(EVP_PKEY *key, const char *header_json, const char *payload_json);

/* The same with a jansson payload, dumped compactly (claims is borrowed). */
char *tm_make_token_json(EVP_PKEY *key, const char *header_json, const json_t *claims);

/* Compact JSON text of v; malloc'd. */
char *tm_dump(const json_t *v);

#endif
