/* aad_sync.h - `aad-login sync`: the members of the Entra groups named by
 * provision_groups become local accounts, kept in step by a timer.
 *
 *   aad-login sync [--dry-run] [--config FILE] [-o key=value]...
 *                  [--state-dir DIR] [--files-dir DIR] [--debug]
 *
 * One run: take the sync's lock, get the application's token (the
 * certificate of client_certificate/client_key), read each group through
 * Microsoft Graph (aad_sync_graph.h), decide the changes (aad_sync_plan.h),
 * save the state, write the extrausers files (aad_sync_files.h). Every
 * change is printed; --dry-run prints them and writes nothing. A failure
 * changes no account; the run and its outcome are recorded for --check.
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_H
#define AAD_SYNC_H

#ifndef AAD_DEFAULT_SYNC_STATE_DIR
#define AAD_DEFAULT_SYNC_STATE_DIR "/var/lib/pam_aad"
#endif
#define AAD_SYNC_FILES_DIR "/var/lib/extrausers" /* fixed in libnss-extrausers */
/* The longest one run may take, retries after throttling included. */
#define AAD_SYNC_DEADLINE_S (15 * 60)

/* Exit codes: 0 done; 1 refused (Graph or Entra refused the application:
 * a permission, the certificate) or the files could not be written:
 * nothing changed; 2 usage; 3 Entra ID or Graph unreachable or failing, or
 * another sync running: nothing changed; 4 configuration error. */
enum aad_sync_exit {
    AAD_SYNC_EXIT_OK = 0,
    AAD_SYNC_EXIT_REFUSED = 1,
    AAD_SYNC_EXIT_USAGE = 2,
    AAD_SYNC_EXIT_UNAVAILABLE = 3,
    AAD_SYNC_EXIT_CONFIG = 4,
};

/* Runs the subcommand; argv[0] is "sync". Returns the exit code. */
int aad_sync_main(int argc, char **argv, const char *default_config);

#endif
