/* aad_token.h - `aad-login token`: an access token for a script, as the
 * signed-in user (device code) or as the application (certificate).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_TOKEN_H
#define AAD_TOKEN_H

/* Runs the subcommand; argv[0] is "token". Returns the exit code: 0 the
 * token is on stdout, 1 refused, 2 usage, 3 the service is unavailable,
 * 4 configuration error, 7 a sign-in is needed (no terminal, and no kept
 * sign-in Entra still accepts). */
int aad_token_main(int argc, char **argv, const char *default_config);

#endif
