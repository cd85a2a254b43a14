/* aad_sessions.h - `aad-login sessions`: the login sessions that keep a
 * Microsoft Entra ID sign-in (src/caller/aad_session_store.h), and
 * dropping one.
 *
 * Where it runs: in aad-login, the administrator's command, as root. */
#ifndef AAD_SESSIONS_H
#define AAD_SESSIONS_H

/* Runs the subcommand; argv[0] is "sessions". Returns the exit code: 0
 * success, 2 usage, 3 the store cannot be read, 4 configuration error. */
int aad_sessions_main(int argc, char **argv, const char *default_config);

#endif
