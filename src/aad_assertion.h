/* aad_assertion.h - the application's own token for Microsoft Graph, with a
 * certificate credential (the confidential-client path of protocol.md §8):
 * a client assertion JWT signed PS256 with the app's private key and
 * identified by "x5t#S256", exchanged at the token endpoint with
 * grant_type=client_credentials for {graph}/.default. */
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

/* The whole exchange: an application access token for Microsoft Graph in
 * *token (a secret: free with aad_free_secret). Failures are AAD_DENIED
 * (the caller is deciding authorization) or AAD_CONFIG_ERROR. */
enum aad_status aad_assertion_app_token(const struct aad_config *cfg, struct aad_http *http,
                                        char **token, struct aad_error *err);

#endif
