/* aad_refusal.h - what the person at the terminal is told when a login
 * does not succeed: one sentence per kind of failure, which they can act on.
 * Shared by pam_aad.so and aad-login, so both say the same; libc only.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_REFUSAL_H
#define AAD_REFUSAL_H

#include <stddef.h>
#include "aad_base.h"

struct aad_refusal {
    enum aad_failure kind;
    long aadsts;         /* Entra's code, 0 for none */
    const char *upn;     /* who signed in, NULL if unknown */
    const char *account; /* the account being logged in to */
    const char *correlation_id; /* Entra's, for the helpdesk; NULL or "" for none */
    long clock_offset_s;        /* AAD_FAILURE_CLOCK: this host's clock minus Microsoft's */
};

/* Writes the sentence into out (always NUL-terminated). Writes "" when
 * nothing is to be said: success, an unknown account (not revealed), an
 * account pam_aad never maps (the next method speaks), no conversation. */
void aad_refusal_sentence(const struct aad_refusal *r, char *out, size_t size);

/* The widest line a sentence gets: an 80-column terminal, less the
 * column the cursor takes at the end of a full line. */
#define AAD_TERMINAL_COLUMNS 79

/* Breaks text in place into lines of at most width columns, at spaces, so
 * that a terminal does not break words (the sentences are one line in the
 * log). Words longer than width stay whole. */
void aad_refusal_wrap(char *text, size_t width);

/* Why Entra refused a refresh token (a session's sign-in, aad-login
 * token's), as a few words for a sentence ("the account is disabled"), by
 * AADSTS code; a general phrase for others. */
const char *aad_refusal_refresh_reason(long aadsts);

/* The same with a narrower first line: ssh prints "(user@host) " before a
 * prompt's first line. */
void aad_refusal_wrap_first(char *text, size_t first_width, size_t width);

/* True when the outcome is the service being out of reach (an info line,
 * the stack falls back), not a refusal. */
int aad_refusal_is_fallback(enum aad_failure kind);

/* True when a new attempt would be refused the same way without the user
 * being able to change it (a Conditional Access block that asks for
 * something the device-code flow cannot give): no new code is shown. */
int aad_refusal_repeats(enum aad_failure kind, long aadsts);

#endif
