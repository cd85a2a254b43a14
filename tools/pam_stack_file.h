/* pam_stack_file.h - what a PAM stack file (/etc/pam.d/SERVICE) names, for
 * `aad-login --check`: whether a service uses pam_aad, whether its session
 * stack runs pam_loginuid (which gives a login its audit session).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef PAM_STACK_FILE_H
#define PAM_STACK_FILE_H

/* 1 when a line of the stack file (or of a file it @includes, from the
 * same directory) that is not a comment names module; with type
 * ("session", "auth", ...) only lines of that type count. 0 otherwise
 * (also when the file cannot be read). */
int pam_stack_names(const char *path, const char *type, const char *module);

#endif
