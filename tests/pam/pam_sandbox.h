/* pam_sandbox.h - a private world for tests that load pam_aad.so through
 * the real libpam: users from nss_wrapper (root, alice 1000, bob 1001), a
 * syslog capture instead of the system log, and a directory for PAM service
 * files (used with pam_start_confdir). */
#ifndef PAM_SANDBOX_H
#define PAM_SANDBOX_H

/* First thing in main(): re-executes the program once with the wrappers
 * preloaded; in the re-executed program returns the sandbox directory,
 * which holds services/, passwd, group and syslog. */
const char *pam_sandbox_enter(char **argv);

/* Writes a 0600 file or aborts. */
void pam_sandbox_write_file(const char *path, const char *text);

#endif
