/* aad_entra_error.c - Entra ID's OAuth error answers, read and classified.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_entra_error.h"
#include "aad_json.h"

#include <stdio.h>
#include <string.h>

/* Conditional Access, security defaults and MFA: the user signed in, and
 * the organization's policy refused the token (protocol.md §11). */
static const long policy_codes[] = {
    53003,  /* blocked by Conditional Access */
    530035, /* blocked by security defaults */
    530033, /* device-based Conditional Access: not through the device flow */
    50005,  /* device platform not allowed */
    53000,  /* device not compliant */
    53001,  /* device not domain-joined */
    50097,  /* device authentication required */
    50076,  /* MFA required */
    50079,  /* MFA registration required */
    50105,  /* user not assigned to the application */
};

/* Entra says this host's registration or settings are wrong. */
static const long misconfiguration_codes[] = {
    90002,   /* tenant not found */
    700016,  /* application not found in the directory */
    7000218, /* public client flows are off for the application */
    70011,   /* invalid scope */
    65001,   /* no consent for the application */
    50059,   /* no tenant in the request */
    700025,  /* a public client sent a credential */
    500011,  /* the resource (API) asked for is not in the tenant */
};

static int listed(long code, const long *codes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (codes[i] == code)
            return 1;
    }
    return 0;
}

/* Appends src to out as printable ASCII on one line: CR/LF become "; ". */
static size_t append_line(char *out, size_t n, size_t size, const char *src)
{
    for (const char *p = src; *p != '\0' && n + 1 < size; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            if (n + 3 >= size)
                break;
            out[n++] = ';';
            out[n++] = ' ';
            continue;
        }
        out[n++] = (*p >= ' ' && *p <= '~') ? *p : '?';
    }
    out[n] = '\0';
    return n;
}

void aad_entra_error_read(const json_t *body, struct aad_entra_error *out)
{
    memset(out, 0, sizeof(*out));
    const char *error = aad_json_string(body, "error");
    if (error != NULL && aad_is_printable_token(error, sizeof(out->error) - 1))
        snprintf(out->error, sizeof(out->error), "%s", error);
    json_t *codes = json_object_get(body, "error_codes");
    json_t *first = json_is_array(codes) ? json_array_get(codes, 0) : NULL;
    if (json_is_integer(first) && json_integer_value(first) > 0 &&
        json_integer_value(first) < 100000000)
        out->aadsts = (long)json_integer_value(first);

    const char *correlation = aad_json_string(body, "correlation_id");
    if (correlation != NULL && aad_is_printable_token(correlation, sizeof(out->correlation_id) - 1))
        snprintf(out->correlation_id, sizeof(out->correlation_id), "%s", correlation);

    const char *desc = aad_json_string(body, "error_description");
    size_t n = append_line(out->description, 0, sizeof(out->description), desc ? desc : "");
    /* Entra puts the trace and correlation IDs in the description; when an
     * answer carries them only as members, add them. */
    const char *ids[][2] = {{"trace_id", "Trace ID"}, {"correlation_id", "Correlation ID"}};
    for (size_t i = 0; i < 2; i++) {
        const char *v = aad_json_string(body, ids[i][0]);
        if (v == NULL || !aad_is_printable_token(v, 64) || strstr(out->description, v) != NULL)
            continue;
        char more[96];
        snprintf(more, sizeof(more), "%s%s: %s", n > 0 ? "; " : "", ids[i][1], v);
        n = append_line(out->description, n, sizeof(out->description), more);
    }
    if (n == 0)
        snprintf(out->description, sizeof(out->description), "%s",
                 out->error[0] ? out->error : "no description");
}

enum aad_failure aad_entra_error_kind(const struct aad_entra_error *e)
{
    if (listed(e->aadsts, policy_codes, sizeof(policy_codes) / sizeof(policy_codes[0])))
        return AAD_FAILURE_BLOCKED_BY_POLICY;
    if (listed(e->aadsts, misconfiguration_codes,
               sizeof(misconfiguration_codes) / sizeof(misconfiguration_codes[0])))
        return AAD_FAILURE_HOST_MISCONFIGURED;
    /* Unknown codes: the error family decides (AADSTS numbers may change,
     * the OAuth error values do not). */
    static const char *const host_errors[] = {"invalid_client", "unauthorized_client",
                                              "invalid_scope", "invalid_request",
                                              "unsupported_grant_type", "invalid_tenant"};
    for (size_t i = 0; i < sizeof(host_errors) / sizeof(host_errors[0]); i++) {
        if (strcmp(e->error, host_errors[i]) == 0)
            return AAD_FAILURE_HOST_MISCONFIGURED;
    }
    if (strcmp(e->error, "interaction_required") == 0)
        return AAD_FAILURE_BLOCKED_BY_POLICY;
    if (strcmp(e->error, "authorization_declined") == 0 || strcmp(e->error, "access_denied") == 0)
        return AAD_FAILURE_DECLINED;
    if (strcmp(e->error, "expired_token") == 0 || strcmp(e->error, "code_expired") == 0)
        return AAD_FAILURE_EXPIRED;
    return AAD_FAILURE_REFUSED;
}

enum aad_status aad_entra_error_fail_as(const struct aad_entra_error *e, enum aad_failure kind,
                                        const char *what, struct aad_error *err)
{
    enum aad_status st = aad_fail_as(err, kind, "%s (%s): %s", what,
                                     e->error[0] ? e->error : "no error code",
                                     e->description[0] ? e->description : "no description");
    if (err != NULL) {
        err->aadsts = e->aadsts;
        snprintf(err->correlation_id, sizeof(err->correlation_id), "%s", e->correlation_id);
    }
    return st;
}

enum aad_status aad_entra_error_fail(const struct aad_entra_error *e, const char *what,
                                     struct aad_error *err)
{
    enum aad_failure kind = aad_entra_error_kind(e);
    const char *said = kind == AAD_FAILURE_HOST_MISCONFIGURED
                           ? "Entra ID says this host's configuration is wrong"
                       : kind == AAD_FAILURE_BLOCKED_BY_POLICY
                           ? "Entra ID's policy blocked the sign-in"
                           : "Entra ID refused";
    char both[256];
    snprintf(both, sizeof(both), "%s: %s", what, said);
    return aad_entra_error_fail_as(e, kind, both, err);
}
