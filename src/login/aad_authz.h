/* aad_authz.h - who may log in to this host: allowed_roles and
 * allowed_groups, with groups overage resolved through Microsoft Graph.
 *
 * Overage (a token that names a claim source instead of listing more than
 * 200 groups) is resolved, in this order:
 *  1. as the application itself, when client_certificate/client_key are set
 *     (client credentials, then /users/{oid}/checkMemberGroups);
 *  2. with the login's own delegated access token, when scope holds
 *     User.Read (/me/checkMemberGroups);
 *  3. otherwise it is refused.
 * Any Graph failure refuses the login: membership that cannot be shown is
 * no membership.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_AUTHZ_H
#define AAD_AUTHZ_H

#include <jansson.h>
#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"

/* claims: the verified token's; access_token: the login's (may be NULL).
 * Refusals are AAD_DENIED with a reason ending in "not authorized for this
 * host" where the user is simply not allowed. */
enum aad_status aad_authorize(const struct aad_config *cfg, struct aad_http *http,
                              const json_t *claims, const char *access_token,
                              const struct aad_log *log, struct aad_error *err);

/* Which of groups (object IDs) the user is in: is_member[i] for
 * groups->items[i], from the token's groups claim (compared without regard to
 * case) or, on overage, from Graph as above. A token with neither claim
 * shows no membership and clears *listed. Graph failures are AAD_DENIED. */
enum aad_status aad_authz_member_groups(const struct aad_config *cfg, struct aad_http *http,
                                        const json_t *claims, const char *access_token,
                                        const struct aad_log *log,
                                        const struct aad_strlist *groups, int *is_member,
                                        int *listed, struct aad_error *err);

#endif
