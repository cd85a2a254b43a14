/* aad_check_session.h - the session sign-in's part of `aad-login --check`:
 * the setting, whether this host gives logins an audit session ID, whether
 * runtime_dir is in memory, and whether the login services run
 * pam_loginuid.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_SESSION_H
#define AAD_CHECK_SESSION_H

#include "aad_check_report.h"
#include "aad_config.h"

/* pam_dir: the directory of the PAM stack files (/etc/pam.d). */
void aad_check_session(struct aad_check_report *r, const struct aad_config *cfg,
                       const char *pam_dir);

#endif
