/* aad_entra_error.h - Entra ID's OAuth error answers, read and classified.
 *
 * Entra answers a refused request with {"error", "error_description",
 * "error_codes", "trace_id", "correlation_id", ...} (protocol.md §3, §11).
 * The `error` value says the family; the AADSTS number in error_codes says
 * which Conditional Access block or which registration mistake it is, and
 * that decides what the user is told. The description, with Entra's trace
 * and correlation IDs, is what the administrator needs in the log.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_ENTRA_ERROR_H
#define AAD_ENTRA_ERROR_H

#include <jansson.h>
#include "aad_base.h"

struct aad_entra_error {
    char error[64];        /* the OAuth error value, printable, "" if none */
    long aadsts;           /* first entry of error_codes, 0 if none */
    char description[720]; /* error_description on one printable line, with
                              the trace and correlation IDs */
    char correlation_id[40]; /* correlation_id, when printable; "" if none */
};

/* Reads an error answer; fields it lacks stay empty. */
void aad_entra_error_read(const json_t *body, struct aad_entra_error *out);

/* Which kind of failure an error answer of the token or device-code
 * endpoint is (not for authorization_pending and slow_down, which are not
 * failures): a policy block, this host's registration being wrong, or
 * another refusal. */
enum aad_failure aad_entra_error_kind(const struct aad_entra_error *e);

/* Records the error in err as that kind, with Entra's words, and returns
 * its status. what names the request ("the device code request"). */
enum aad_status aad_entra_error_fail(const struct aad_entra_error *e, const char *what,
                                     struct aad_error *err);

/* The same for an error whose kind the caller knows (declined, expired):
 * "what (error): description", with the AADSTS code in err. */
enum aad_status aad_entra_error_fail_as(const struct aad_entra_error *e, enum aad_failure kind,
                                        const char *what, struct aad_error *err);

#endif
