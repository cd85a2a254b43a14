/* aad_idtoken.c - one ID token, verified as a login verifies it.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_idtoken.h"

#include <stddef.h>
#include <stdlib.h>
#include <time.h>

/* A token refused for its times while this host's clock is further from
 * the authority's (its Date header) than clock_skew: the clock is at fault
 * (this host's configuration), not the token, and the words say so. */
static enum aad_status blame_the_clock(const struct aad_config *cfg, const struct aad_http *http,
                                       const struct aad_jwt *jwt,
                                       const struct aad_jwt_expect *expect, struct aad_error *err)
{
    long offset = 0;
    struct aad_error times = {0};
    if (aad_jwt_check_times(jwt, expect, &times) == AAD_OK ||
        !aad_http_clock_offset(http, &offset) || labs(offset) <= cfg->clock_skew)
        return err->status;
    aad_fail_as(err, AAD_FAILURE_CLOCK,
                "this host's clock is %ld s %s Microsoft Entra ID's (its Date header), more than "
                "clock_skew (%ld s): check time synchronisation (%s)",
                labs(offset), offset < 0 ? "behind" : "ahead of", cfg->clock_skew, times.message);
    err->clock_offset_s = offset;
    return err->status;
}

enum aad_status aad_id_token_verify(const struct aad_config *cfg, struct aad_trust *trust,
                                    struct aad_http *http, const struct aad_log *log,
                                    const char *id_token, struct aad_jwt **out,
                                    struct aad_error *err)
{
    struct aad_jwt *jwt = NULL;
    const struct aad_key *key = NULL;
    *out = NULL;
    enum aad_status st = aad_jwt_parse(id_token, &jwt, err);
    if (st == AAD_OK)
        st = aad_trust_find_key(trust, cfg, http, log, jwt->kid, &key, err);
    if (st == AAD_OK)
        st = aad_jwt_verify_signature(jwt, key, err);
    if (st == AAD_OK) {
        struct aad_jwt_expect expect = {
            .issuer = trust->discovery.issuer,
            .tenant_id = trust->discovery.tenant_id,
            .client_id = cfg->client_id,
            .now = (long long)time(NULL),
            .clock_skew = cfg->clock_skew,
        };
        st = aad_jwt_check_claims(jwt, key, &expect, err);
        if (st == AAD_DENIED)
            st = blame_the_clock(cfg, http, jwt, &expect, err);
    }
    if (st != AAD_OK) {
        aad_jwt_free(jwt);
        /* Keys that cannot be fetched stay "unavailable". */
        return st == AAD_DENIED ? aad_reclassify(err, AAD_FAILURE_BAD_TOKEN) : st;
    }
    *out = jwt;
    return AAD_OK;
}

enum aad_status aad_id_token_check_guest(const struct aad_config *cfg, const struct aad_jwt *jwt,
                                         struct aad_error *err)
{
    if (aad_jwt_is_guest(jwt) && !cfg->allow_guests)
        return aad_fail_as(err, AAD_FAILURE_GUEST,
                           "guest accounts are not accepted (allow_guests is off)");
    return AAD_OK;
}
