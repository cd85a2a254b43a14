/* aad_ssh.h - `aad-login ssh`: sign in in your own browser (authorization
 * code with PKCE) and get an SSH certificate that carries the verified
 * sign-in, for hosts whose tenant blocks the device-code flow.
 *
 * Where it runs: in aad-login, with the rights of whoever runs it (on the
 * user's workstation). */
#ifndef AAD_SSH_H
#define AAD_SSH_H

/* Runs the subcommand; argv[0] is "ssh". Returns the exit code: 0 the key
 * and certificate are written, 1 refused, 2 usage, 3 the service is
 * unavailable, 4 configuration error. */
int aad_ssh_main(int argc, char **argv, const char *default_config);

#endif
