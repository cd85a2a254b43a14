/* aad_cache.h - small JSON entries on disk, safe against other users and
 * against concurrent logins.
 *
 * The directory must be owned by the caller (or root) and not writable by
 * others; entries are opened without following links, checked the same way,
 * and replaced atomically (temporary file + rename), so a reader sees either
 * the old or the new entry, never a torn one.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_CACHE_H
#define AAD_CACHE_H

#include <jansson.h>

/* The entry, or NULL when absent, unsafe or corrupt (then *why says which). */
json_t *aad_cache_read(const char *dir, const char *name, const char **why);

/* Writes the entry atomically, creating dir (mode 0700) when it is missing.
 * Returns 0, or -1 with a reason in *why. */
int aad_cache_write(const char *dir, const char *name, const json_t *entry, const char **why);

/* How long a lock waiter waits, and what it does meanwhile. */
struct aad_cache_wait {
    long timeout_ms;                  /* at most this long */
    long tick_ms;                     /* still_waiting is called this often (0: never) */
    void (*still_waiting)(void *ctx); /* may be NULL */
    void *ctx;
};

/* Takes an exclusive lock named after the entry. While another process
 * holds it, waits for it, blocked (no polling), for at most how->timeout_ms.
 * Returns a descriptor for aad_cache_unlock, AAD_CACHE_LOCK_TIMED_OUT, or
 * -1 with a reason in *why (either way the caller goes on without the lock:
 * it only saves duplicate fetches). */
#define AAD_CACHE_LOCK_TIMED_OUT (-2)
int aad_cache_lock(const char *dir, const char *name, const struct aad_cache_wait *how,
                   const char **why);
void aad_cache_unlock(int lock_fd);

#endif
