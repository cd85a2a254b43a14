/* aad_refresh.h - the refresh-token grant (protocol.md §12): a refresh
 * token kept from a sign-in whose scope held offline_access is exchanged
 * for a new access token (and ID token, when openid is asked for) without
 * the user; Entra answers with a new refresh token each time (rotation),
 * which replaces the old one.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_REFRESH_H
#define AAD_REFRESH_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"

/* What one redemption gave; every token is a secret (wiped on clear). */
struct aad_refreshed {
    char *access_token;
    char *refresh_token; /* the new one; NULL when Entra sent none */
    char *id_token;      /* NULL unless the scope held openid */
    long expires_in;     /* of the access token, seconds; 0 when not stated */
    char *scope;         /* granted, may be NULL */
};
void aad_refreshed_clear(struct aad_refreshed *r);

/* POST {authority}/{tenant}/oauth2/v2.0/token with grant_type=refresh_token
 * for scope (space-separated). Results:
 *   AAD_OK            out is filled (an access token always);
 *   AAD_DENIED        Entra refused the refresh token (invalid_grant,
 *                     interaction_required: revoked, expired, the account
 *                     disabled or deleted, a policy demanding a new
 *                     sign-in): only a new sign-in helps; err->aadsts says
 *                     which (aad_refresh_refusal_reason);
 *   AAD_CONFIG_ERROR  Entra says the registration is wrong (unknown
 *                     client, scope, resource, no consent);
 *   AAD_UNAVAILABLE   no answer, TLS, 5xx, 429 (*retry_after then holds
 *                     Retry-After in seconds, else -1), unusable answers. */
enum aad_status aad_refresh_redeem(const struct aad_config *cfg, struct aad_http *http,
                                   const char *refresh_token, const char *scope,
                                   struct aad_refreshed *out, long *retry_after,
                                   struct aad_error *err);

/* The answer of a refresh already received (status, JSON or not, body):
 * the checks of aad_refresh_redeem, exported for tests and fuzzing. */
enum aad_status aad_refresh_take_answer(long status, int is_json, const char *body, size_t len,
                                        struct aad_refreshed *out, struct aad_error *err);

/* Why Entra refused a refresh token, as a few words for a sentence ("the
 * account is disabled"), by AADSTS code; a general phrase for others. */
const char *aad_refresh_refusal_reason(long aadsts);

#endif
