/* aad_certcheck.h - the whole check of an SSH certificate that carries an
 * Entra ID token, for sshd's AuthorizedKeysCommand (pam_aad_sshkeys):
 *   the certificate is signed by its own key -> the ID token passes every
 *   check of a login (signature against the tenant's keys through the same
 *   cache, iss, aud, tid, ID-token type, times) -> its nonce commits to the
 *   certificate's key and salt -> it was issued less than cert_max_age ago
 *   -> the key ID and principal name that identity -> guest rule, mapping to
 *   exactly the account, allowed_roles / allowed_groups (aad_admit.h).
 * group_map cannot be applied to such a login (no root process of ours
 * runs for it), so with group_map set every certificate is refused.
 *
 * Where it runs: in pam_aad_sshkeys (and the tests), never in the caller
 * of PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_CERTCHECK_H
#define AAD_CERTCHECK_H

#include "aad_account.h"
#include "aad_base.h"
#include "aad_config.h"
#include "aad_login.h"
#include "aad_sshcert.h"

/* AAD_OK when cert may log in to account; id is filled as far as the check
 * got (for the log line). now is the wall clock (seconds since the epoch). */
enum aad_status aad_cert_check(const struct aad_config *cfg, const struct aad_account *account,
                               const struct aad_sshcert *cert, long long now,
                               const struct aad_log *log, struct aad_identity *id,
                               struct aad_error *err);

#endif
