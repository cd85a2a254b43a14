/* aad_authcode.h - the OAuth 2.0 authorization code grant with PKCE (RFC
 * 7636, S256) for a public client with a loopback redirect URI
 * (protocol.md §13): the user signs in in their own browser, where MFA,
 * passkeys and device-compliance Conditional Access can all be met, and
 * Entra redirects the browser back to http://127.0.0.1:PORT/.
 *
 * Where it runs: in aad-login (`aad-login ssh`, on the user's workstation),
 * never in the caller of PAM; it may use HTTPS, TLS and JSON. */
#ifndef AAD_AUTHCODE_H
#define AAD_AUTHCODE_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_devflow.h" /* struct aad_tokens */
#include "aad_http.h"

#define AAD_AUTHCODE_TARGET_MAX 8192 /* a redirect's request target or pasted address */

struct aad_authcode {
    char verifier[64];     /* PKCE code_verifier: secret, 43 characters */
    char state[32];        /* ties the redirect to this request */
    char redirect_uri[64]; /* http://127.0.0.1:PORT/ */
    char *url;             /* the authorize URL the browser opens */
};

/* Makes the verifier, its S256 challenge and the state, and the authorize
 * URL for port with nonce (the SSH key's commitment). */
enum aad_status aad_authcode_begin(const struct aad_config *cfg, struct aad_http *http, int port,
                                   const char *nonce, struct aad_authcode *out,
                                   struct aad_error *err);
void aad_authcode_clear(struct aad_authcode *ac);

/* Reads where Entra sent the browser: a request target ("/?code=...") or
 * the whole address pasted by the user. An address without our state is
 * AAD_IGNORE (not this sign-in's: wait on); Entra's error=... is its refusal,
 * classified as the device flow's (policy block, wrong tenant, not
 * assigned, declined); otherwise *code is the code (malloc'd, secret). */
enum aad_status aad_authcode_read_redirect(const struct aad_authcode *ac, const char *target,
                                           char **code, struct aad_error *err);

/* Redeems code (with the verifier) at the token endpoint. */
enum aad_status aad_authcode_redeem(const struct aad_config *cfg, struct aad_http *http,
                                    const struct aad_authcode *ac, const char *code,
                                    struct aad_tokens *out, struct aad_error *err);

#endif
