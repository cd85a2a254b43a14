/* aad_assertion.h - the application's own token for Microsoft Graph, with a
 * certificate credential (the confidential-client path of protocol.md §8):
 * a client assertion JWT signed PS256 with the app's private key and
 * identified by "x5t#S256", exchanged at the token endpoint with
 * grant_type=client_credentials for {graph}/.default.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_ASSERTION_H
#define AAD_ASSERTION_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"

/* Builds the signed assertion for audience (the token endpoint URL) at
 * time now. The private key file must be private to its owner (no group or
 * other access at all). *out is malloc'd; AAD_CONFIG_ERROR for unusable
 * key or certificate files. */
enum aad_status aad_assertion_build(const struct aad_config *cfg, const char *audience,
                                    long long now, char **out, struct aad_error *err);

/* An application access token (a secret) and its lifetime in seconds. */
struct aad_app_token {
    char *access_token;
    long expires_in;  /* 0 when the answer did not say */
    long retry_after; /* a refusal with 429 or 5xx: its Retry-After in seconds, else -1 */
};
void aad_app_token_clear(struct aad_app_token *t);

/* The client-credentials grant for scope (a resource's "/.default"), what
 * naming it in messages. Failures: AAD_CONFIG_ERROR (AAD_FAILURE_BAD_CONFIG)
 * for unusable key or certificate files; Entra's refusals classified as
 * aad_entra_error_kind does (a certificate it does not know, invalid_client
 * AADSTS700027, is AAD_FAILURE_HOST_MISCONFIGURED); AAD_UNAVAILABLE when the
 * service fails or cannot be reached. */
enum aad_status aad_assertion_request(const struct aad_config *cfg, struct aad_http *http,
                                      const char *scope, const char *what,
                                      struct aad_app_token *out, struct aad_error *err);

/* The whole exchange: an application access token for Microsoft Graph in
 * *token (a secret: free with aad_free_secret). Failures are AAD_DENIED
 * (the caller is deciding authorization) or AAD_CONFIG_ERROR. */
enum aad_status aad_assertion_app_token(const struct aad_config *cfg, struct aad_http *http,
                                        char **token, struct aad_error *err);

#endif
