/* aad_jwt.h - strict validation of Entra ID tokens (compact JWS, RS256).
 *
 * Validation is split in three so that a caller can refresh the signing
 * keys between reading the header and checking the signature:
 *   aad_jwt_parse -> aad_jwt_verify_signature -> aad_jwt_check_claims.
 * Every failure is AAD_DENIED with the reason.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_JWT_H
#define AAD_JWT_H

#include <stddef.h>
#include <jansson.h>
#include "aad_base.h"
#include "aad_keys.h"

#define AAD_JWT_MAX_BYTES (32 * 1024)
#define AAD_JWT_MAX_HEADER 2048

struct aad_jwt {
    json_t *header;
    json_t *claims;
    const char *kid;      /* inside header */
    char *signing_input;  /* "header.payload" as received */
    size_t signing_input_len;
    unsigned char *signature;
    size_t signature_len;
};

/* Splits and decodes a compact JWS: exactly three strict base64url parts,
 * bounded sizes, strict JSON objects (duplicate keys refused), "alg"
 * exactly RS256, a kid, no "crit"; "jku", "x5u", "jwk" and "x5c" are never
 * used. On success release *out with aad_jwt_free. */
enum aad_status aad_jwt_parse(const char *token, struct aad_jwt **out, struct aad_error *err);

/* RSASSA-PKCS1-v1_5 with SHA-256 over the signing input, with OpenSSL EVP. */
enum aad_status aad_jwt_verify_signature(const struct aad_jwt *jwt, const struct aad_key *key,
                                         struct aad_error *err);

struct aad_jwt_expect {
    const char *issuer;    /* exact iss, from the tenant's discovery document */
    const char *tenant_id; /* the tenant GUID */
    const char *client_id; /* aud */
    long long now;         /* seconds since the epoch */
    long clock_skew;       /* seconds accepted on exp, nbf and iat */
};

/* The claim rules of SPEC.md §5: iss, tid, aud, exp, nbf, iat, ver 2.0, an
 * oid, and the key's own issuer (with {tenantid} replaced by tid). */
enum aad_status aad_jwt_check_claims(const struct aad_jwt *jwt, const struct aad_key *key,
                                     const struct aad_jwt_expect *expect, struct aad_error *err);

/* Only exp, nbf and iat against x->now and x->clock_skew (also part of
 * aad_jwt_check_claims): whether a refused token is refused for its times. */
enum aad_status aad_jwt_check_times(const struct aad_jwt *jwt, const struct aad_jwt_expect *x,
                                    struct aad_error *err);

/* True for a B2B guest: acct = 1, or an idp other than the tenant itself. */
int aad_jwt_is_guest(const struct aad_jwt *jwt);

void aad_jwt_free(struct aad_jwt *jwt);

#endif
