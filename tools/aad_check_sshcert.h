/* aad_check_sshcert.h - `aad-login --check`: sshd's settings for
 * certificate logins (aad-login ssh on workstations, pam_aad_sshkeys as
 * sshd's AuthorizedKeysCommand), when they are configured.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_SSHCERT_H
#define AAD_CHECK_SSHCERT_H

#include <jansson.h>
#include "aad_check_report.h"
#include "aad_check_sshd.h"
#include "aad_config.h"

/* Reports on AuthorizedKeysCommand (pam_aad_sshkeys %u %t %k, installed),
 * AuthorizedKeysCommandUser (an unprivileged user that can read the
 * configuration and owns cache_dir), PubkeyAuthentication, whether
 * AuthenticationMethods lets a certificate in alone, and group_map (which
 * refuses certificate logins). Returns what was found, for --json. */
json_t *aad_check_sshd_certificates(struct aad_check_report *r, const struct aad_config *cfg,
                                    const struct aad_sshd_settings *s);

#endif
