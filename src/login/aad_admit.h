/* aad_admit.h - what a verified ID token must pass before it logs anyone
 * in, whichever way it arrived (the device-code login, an SSH certificate):
 * the guest rule, the mapping to exactly the account being logged in to
 * (SPEC.md §7), allowed_roles and allowed_groups.
 *
 * Where it runs: in pam_aad_helper, pam_aad_sshkeys and aad-login, never in
 * the caller of PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_ADMIT_H
#define AAD_ADMIT_H

#include "aad_account.h"
#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"
#include "aad_jwt.h"
#include "aad_login.h"

/* jwt has passed aad_id_token_verify. Fills id's upn, oid, tid and name
 * from it first (for the log line, also on refusals), then local_user.
 * access_token (may be NULL) is the sign-in's own, for groups overage.
 * Refusals: AAD_FAILURE_GUEST, AAD_FAILURE_NOT_AUTHORIZED,
 * AAD_FAILURE_WRONG_ACCOUNT. */
enum aad_status aad_admit(const struct aad_config *cfg, const struct aad_account *account,
                          struct aad_http *http, const struct aad_log *log,
                          const struct aad_jwt *jwt, const char *access_token,
                          struct aad_identity *id, struct aad_error *err);

#endif
