/* aad_sync_uid.h - the uid of an account the sync makes, from the person's
 * immutable Entra object ID (oid), the same on every host of a fleet.
 *
 * Derivation: candidate k (k = 0, 1, 2, ...) of an oid is
 *
 *     min + (the first 8 bytes, big-endian, of
 *            SHA-256("pam_aad-uid:" || lower-case oid || ":" || k in decimal))
 *           mod (max - min + 1)
 *
 * with min and max the configured range (provision_uid_min/_max). The
 * account gets the first candidate that is free (aad_sync_plan.c): held by
 * no other person this host's sync has ever provisioned (removed accounts
 * included: a uid is never given to a second person), not 65534 or 65535,
 * and unknown to the name service as a uid and as a gid. Candidate 0 depends
 * on the oid alone, so every host gives a person the same uid unless two of
 * the people it provisions collide there; then the collision rule (next
 * candidate, people taken in oid order) may give the later person different
 * uids on hosts that provisioned different sets of people: the sync says so
 * in its log and in --check. With the default range of 200 million uids,
 * 10,000 people hold one colliding pair with a chance of about 22 %, and
 * only the second person of a pair is concerned (doc/admin-guide.md).
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_UID_H
#define AAD_SYNC_UID_H

/* How many candidates are tried before a person is skipped. */
#define AAD_SYNC_UID_TRIES 64

/* Candidate k of oid in [min, max]; min <= max. */
unsigned long aad_sync_uid_candidate(const char *oid, unsigned k, unsigned long min,
                                     unsigned long max);

/* True for the ids no account may have: nobody (65534), 65535 and (uid_t)-1. */
int aad_sync_uid_reserved(unsigned long uid);

#endif
