/* aad_keys.h - the tenant's published metadata: discovery document and
 * signing keys (JWKS), parsed strictly into ready-to-use OpenSSL keys.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_KEYS_H
#define AAD_KEYS_H

#include <stddef.h>
#include <openssl/evp.h>
#include "aad_base.h"

#define AAD_KEYS_MAX_BODY (256 * 1024)
#define AAD_KEYS_MAX_KEYS 64

struct aad_key {
    char *kid;
    char *issuer; /* the key's own issuer field, may hold "{tenantid}"; NULL if absent */
    /* The modulus and exponent as published (big-endian), checked when
     * parsed; the OpenSSL key is made from them when a token names the key
     * (aad_keyset_find): a login uses one key of the set. */
    unsigned char *n, *e;
    size_t n_len, e_len;
    int unusable; /* OpenSSL would not make a key of them */
    EVP_PKEY *pkey; /* NULL until prepared */
    /* Ready for RS256 verification (init, PKCS#1 v1.5 padding, SHA-256 set
     * once per key rather than once per token). Not shared across threads. */
    EVP_PKEY_CTX *verify;
};

struct aad_keyset {
    struct aad_key *keys;
    size_t count;
    size_t skipped; /* entries that were not usable RS256 signing keys */
};

/* Parses a JWKS. Keys that are not RSA signing keys of 2048 to 8192 bits
 * (odd public exponent above 1) with a kid are skipped, and so is every key
 * whose kid appears twice (which one was meant cannot be known). A set with
 * no usable key is an error. */
enum aad_status aad_keyset_parse(const char *json, size_t len, struct aad_keyset **out,
                                 struct aad_error *err);
/* The key named kid, ready for RS256 verification (made on first use);
 * NULL when the set has no such key or OpenSSL cannot make it. */
const struct aad_key *aad_keyset_find(struct aad_keyset *set, const char *kid);
/* Readies the set's first usable key - the one Entra ID lists first signs
 * its tokens (fixtures/entra-real) - and OpenSSL's RS256 code with it, for
 * a verification that comes later: called while the user signs in, so that
 * the token's check after Enter finds the work done. Verifies nothing. */
void aad_keyset_warm_up(struct aad_keyset *set);
void aad_keyset_free(struct aad_keyset *set);

struct aad_discovery {
    char *issuer;    /* https://host/<tenant-guid>/v2.0 */
    char *tenant_id; /* the GUID inside issuer */
    char *jwks_uri;  /* on the authority's own origin */
};

/* Parses the tenant's discovery document. The issuer must be a concrete
 * v2.0 issuer (no {tenantid} template), and jwks_uri must live under
 * authority, so keys are never fetched from another host. */
enum aad_status aad_discovery_parse(const char *json, size_t len, const char *authority,
                                    struct aad_discovery *out, struct aad_error *err);
void aad_discovery_clear(struct aad_discovery *d);

#endif
