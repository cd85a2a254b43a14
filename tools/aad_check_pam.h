/* aad_check_pam.h - `aad-login --check`: does a service's PAM stack run
 * pam_aad? Followed as libpam reads it: "@include FILE" and the "include"
 * and "substack" controls name files of the same directory (Debian's
 * pam-auth-update profile puts pam_aad into common-auth, which
 * /etc/pam.d/sshd includes).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_PAM_H
#define AAD_CHECK_PAM_H

#include <stddef.h>

/* 1 when a line of type kind ("auth", "session") of the stack in path, or
 * of a file it includes, names the module name; 0 otherwise (also when
 * unreadable). via (may be NULL) gets the name of the file that holds the
 * line. */
int aad_check_pam_runs(const char *path, const char *kind, const char *name, char *via,
                       size_t via_size);

/* aad_check_pam_runs(path, "auth", "pam_aad", ...). */
int aad_check_pam_uses_pam_aad(const char *path, char *via, size_t via_size);

#endif
