/* aad_trust.h - what a token is checked against: the tenant's issuer and
 * signing keys, fetched over HTTPS and cached on disk (SPEC.md §6).
 *
 * Cached keys are used for 24 h. A token whose kid is unknown forces one
 * refetch of the keys unless a forced refetch happened in the last 5
 * minutes in any process. A failed fetch keeps the last known-good set, for
 * at most 7 days after its last successful fetch.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_TRUST_H
#define AAD_TRUST_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"
#include "aad_keys.h"

#define AAD_TRUST_MAX_AGE (24 * 3600)
#define AAD_TRUST_FORCED_INTERVAL 300
#define AAD_TRUST_LAST_GOOD_MAX_AGE (7 * 24 * 3600)

struct aad_trust {
    struct aad_discovery discovery; /* issuer, tenant GUID, jwks_uri */
    struct aad_keyset *keys;
    long long fetched_at; /* when the keys were fetched (epoch seconds) */
    long long forced_at;  /* last refetch forced by an unknown kid */
    int from_cache;       /* nothing was fetched for this login */
};

/* Loads issuer and keys from the cache when fresh, else fetches them. */
enum aad_status aad_trust_load(const struct aad_config *cfg, struct aad_http *http,
                               const struct aad_log *log, struct aad_trust **out,
                               struct aad_error *err);

/* Finds the key for kid, refetching the keys once when it is unknown (and
 * the rate limit allows). AAD_DENIED when no such key can be had. */
enum aad_status aad_trust_find_key(struct aad_trust *trust, const struct aad_config *cfg,
                                   struct aad_http *http, const struct aad_log *log,
                                   const char *kid, const struct aad_key **key,
                                   struct aad_error *err);

void aad_trust_free(struct aad_trust *trust);

/* The network steps alone, without the cache (aad-login --check times them). */
enum aad_status aad_trust_fetch_discovery(const struct aad_config *cfg, struct aad_http *http,
                                          struct aad_discovery *out, struct aad_error *err);
enum aad_status aad_trust_fetch_keys(struct aad_http *http, const char *jwks_uri, char **jwks_text,
                                     struct aad_keyset **keys, struct aad_error *err);

/* The cache entry name for this authority and tenant ("keys-<hash>.json"). */
void aad_trust_cache_name(const struct aad_config *cfg, char *name, size_t size);

#endif
