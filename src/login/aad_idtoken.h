/* aad_idtoken.h - the verification of an ID token that every consumer of a
 * device-code sign-in shares (the login, aad-login token): the JWS, the key
 * named by its kid among the tenant's keys, the signature and the claims of
 * SPEC.md §5. Mapping and authorization are the caller's.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_IDTOKEN_H
#define AAD_IDTOKEN_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"
#include "aad_jwt.h"
#include "aad_trust.h"

/* Verifies id_token against trust (refetching the keys once for an unknown
 * kid). On AAD_OK *out holds the verified token: release it with
 * aad_jwt_free. Every failure of the token itself is AAD_FAILURE_BAD_TOKEN
 * (AAD_DENIED); keys that cannot be fetched stay unavailable. */
enum aad_status aad_id_token_verify(const struct aad_config *cfg, struct aad_trust *trust,
                                    struct aad_http *http, const struct aad_log *log,
                                    const char *id_token, struct aad_jwt **out,
                                    struct aad_error *err);

/* AAD_FAILURE_GUEST for a guest (B2B) token unless allow_guests; AAD_OK
 * otherwise. Apart from aad_id_token_verify, because a login records the
 * verified identity before it refuses a guest. */
enum aad_status aad_id_token_check_guest(const struct aad_config *cfg, const struct aad_jwt *jwt,
                                         struct aad_error *err);

#endif
