/* aad_sync_state.h - what the sync remembers between runs, in one JSON file
 * (root-only, written to a temporary file and renamed, under a lock):
 *
 *   {"version":1,
 *    "groups":   {"<group id>": {"delta_link":"…", "full_read_at":T,
 *                                "nested":bool, "members":["<oid>",…]}},
 *    "directory":{"<oid>": {"upn":"…", "enabled":bool}},   members as last read
 *    "accounts": {"<oid>": {"name":"…", "uid":N, "upn":"…",
 *                           "locked_since":T (0: active), "lock_reason":"…",
 *                           "uid_collision":bool}},
 *    "retired":  {"<uid>": "<oid>"},        uids of removed accounts, forever
 *    "last_run": {"at":T, "ok":bool, "error":"…", "accounts":N, "added":N,
 *                 "locked":N, "unlocked":N, "removed":N, "requests":N,
 *                 "skipped":[{"oid","upn","name","reason"}]}}
 *
 * Times are seconds since the epoch.
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_STATE_H
#define AAD_SYNC_STATE_H

#include <jansson.h>

#include "aad_base.h"

#define AAD_SYNC_STATE_FILE "sync.json"
#define AAD_SYNC_LOCK_FILE "sync.lock"
/* 64 MiB: far above 100,000 people, and a bound on what is parsed. */
#define AAD_SYNC_STATE_MAX_BYTES (64L * 1024 * 1024)

/* Takes the sync's lock in dir (created 0700 if missing): *fd holds it
 * until closed. Another sync holding it is AAD_UNAVAILABLE, at once. */
enum aad_status aad_sync_state_lock(const char *dir, int *fd, struct aad_error *err);

/* Reads dir's state; a missing file or directory is a new, empty state. A file that is
 * unsafe (a link, not root's, writable by others) or not a state is
 * AAD_CONFIG_ERROR: the sync does not guess which uids it gave. */
enum aad_status aad_sync_state_load(const char *dir, json_t **state, struct aad_error *err);

/* Writes the state atomically (0600). */
enum aad_status aad_sync_state_save(const char *dir, const json_t *state, struct aad_error *err);

/* The object member key of obj, created empty when missing. */
json_t *aad_sync_state_object(json_t *obj, const char *key);

#endif
