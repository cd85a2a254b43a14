/* aad_refusal.c - one sentence per kind of failure, for the user.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_refusal.h"

#include <stdio.h>

#define CONTACT "Contact your administrator."

/* A name from the token, made safe for a terminal (no escape sequences). */
static const char *shown(const char *name, char *buf, size_t size)
{
    size_t n = 0;
    for (; name != NULL && name[n] != '\0' && n + 1 < size; n++)
        buf[n] = (name[n] > ' ' && name[n] <= '~') ? name[n] : '?';
    buf[n] = '\0';
    return n > 0 ? buf : "another account";
}

/* text, then "(AADSTSn)" when Entra gave a code, then tail: the one shape of
 * every sentence that names Entra's code. */
static void coded(char *out, size_t size, const char *text, long code, const char *tail)
{
    if (code > 0)
        snprintf(out, size, "%s (AADSTS%ld).%s%s", text, code, *tail ? " " : "", tail);
    else
        snprintf(out, size, "%s.%s%s", text, *tail ? " " : "", tail);
}

static void policy_sentence(long code, const char *correlation_id, char *out, size_t size)
{
    const char *why;
    switch (code) {
    case 50076: why = "Your organization requires multi-factor authentication for this sign-in"; break;
    case 50079: why = "Your organization requires you to set up multi-factor authentication first"; break;
    case 530035: why = "Your organization's security defaults block this kind of sign-in"; break;
    case 530033:
    case 53000:
    case 53001:
    case 50097: why = "Your organization requires a managed device, which this sign-in cannot prove"; break;
    case 50105: why = "You are not assigned to this host's sign-in application"; break;
    default: why = "Your organization's policy blocked this sign-in"; break;
    }
    char contact[128];
    /* The helpdesk finds the sign-in in Entra's logs by this ID. */
    if (correlation_id != NULL && aad_is_printable_token(correlation_id, 64))
        snprintf(contact, sizeof(contact), "Contact your administrator (correlation ID %s).",
                 correlation_id);
    else
        snprintf(contact, sizeof(contact), "%s", CONTACT);
    coded(out, size, why, code, contact);
}

/* How far this host's clock is from Microsoft's, in words. */
static void clock_sentence(long offset_s, char *out, size_t size)
{
    if (offset_s == 0)
        snprintf(out, size, "This host's clock is wrong; tell your administrator to check its "
                            "time synchronisation.");
    else
        snprintf(out, size, "This host's clock is %ld s %s Microsoft's; tell your administrator "
                            "to check its time synchronisation.",
                 offset_s < 0 ? -offset_s : offset_s, offset_s < 0 ? "behind" : "ahead of");
}

int aad_refusal_repeats(enum aad_failure kind, long aadsts)
{
    /* MFA (50076, 50079) can be done or registered before the next try. */
    return kind == AAD_FAILURE_BLOCKED_BY_POLICY && aadsts != 50076 && aadsts != 50079;
}

/* Entra's refusals of a refresh token (protocol.md §12), in words a person
 * can act on. Branching stays on the OAuth error; the code only picks the
 * words. */
static const struct {
    long code;
    const char *reason;
} refresh_reasons[] = {
    {50057, "the account is disabled"},
    {50034, "the account no longer exists"},
    {50173, "the sign-in was revoked (a password change or an administrator)"},
    {50133, "the session ended after a password change"},
    {700082, "it expired after 90 days without use"},
    {70043, "the organization's sign-in frequency policy asks for a new sign-in"},
    {50076, "multi-factor authentication is required"},
    {50078, "the multi-factor authentication has expired"},
    {50079, "multi-factor authentication must be set up"},
    {53003, "Conditional Access blocks it"},
    {70000, "it is no longer valid"},
    {9002313, "it is not valid"},
};

const char *aad_refusal_refresh_reason(long aadsts)
{
    for (size_t i = 0; i < sizeof(refresh_reasons) / sizeof(refresh_reasons[0]); i++) {
        if (refresh_reasons[i].code == aadsts)
            return refresh_reasons[i].reason;
    }
    return "Entra ID no longer accepts it";
}

void aad_refusal_sentence(const struct aad_refusal *r, char *out, size_t size)
{
    char upn[128];
    if (size == 0)
        return;
    out[0] = '\0';
    switch (r->kind) {
    case AAD_FAILURE_NONE:
    case AAD_FAILURE_NO_ACCOUNT:
    case AAD_FAILURE_IGNORED:
    case AAD_FAILURE_NO_CONVERSATION:
        return;
    case AAD_FAILURE_WRONG_ACCOUNT:
        snprintf(out, size, "You signed in as %s; this login is for %s.",
                 shown(r->upn, upn, sizeof(upn)), r->account ? r->account : "another account");
        return;
    case AAD_FAILURE_DECLINED:
        snprintf(out, size, "The sign-in was declined; nobody was logged in.");
        return;
    case AAD_FAILURE_EXPIRED:
        /* No "log in again": sshd, sudo and login may show a new code
         * right under it. */
        snprintf(out, size, "The code expired before the sign-in was finished; nobody was logged in.");
        return;
    case AAD_FAILURE_TIMED_OUT:
        snprintf(out, size, "The sign-in was not finished in time; nobody was logged in.");
        return;
    case AAD_FAILURE_NOT_AUTHORIZED:
        if (r->upn != NULL)
            snprintf(out, size, "%s is not authorized to log in to this host.",
                     shown(r->upn, upn, sizeof(upn)));
        else
            snprintf(out, size, "You are not authorized to log in to this host.");
        return;
    case AAD_FAILURE_ACCESS_CHANGED:
        snprintf(out, size, "Your access to this host changed; log in again.");
        return;
    case AAD_FAILURE_GUEST:
        snprintf(out, size, "Guest accounts cannot log in to this host.");
        return;
    case AAD_FAILURE_BLOCKED_BY_POLICY:
        policy_sentence(r->aadsts, r->correlation_id, out, size);
        return;
    case AAD_FAILURE_REFUSED:
        coded(out, size, "Microsoft Entra ID refused the sign-in", r->aadsts, "");
        return;
    case AAD_FAILURE_BAD_TOKEN:
        snprintf(out, size, "The sign-in could not be verified; nobody was logged in. " CONTACT);
        return;
    case AAD_FAILURE_CLOCK:
        clock_sentence(r->clock_offset_s, out, size);
        return;
    case AAD_FAILURE_HOST_MISCONFIGURED:
    case AAD_FAILURE_CA_FILE:
    case AAD_FAILURE_BAD_CONFIG: /* this host's own file: no code */
        coded(out, size, "This host's sign-in with Microsoft Entra ID is misconfigured", r->aadsts,
              "Tell your administrator.");
        return;
    case AAD_FAILURE_UNAVAILABLE:
    case AAD_FAILURE_SYSTEM_TRUST:
        snprintf(out, size, "Microsoft Entra ID cannot be reached; using the next sign-in method.");
        return;
    case AAD_FAILURE_SESSION_ENDED: {
        char why[160];
        snprintf(why, sizeof(why), "Microsoft Entra ID no longer accepts this session's sign-in: %s",
                 aad_refusal_refresh_reason(r->aadsts));
        coded(out, size, why, r->aadsts, "Log in again.");
        return;
    }
    case AAD_FAILURE_BUSY:
        snprintf(out, size, "Too many sign-ins are under way on this host; using the next sign-in "
                            "method.");
        return;
    }
}

int aad_refusal_is_fallback(enum aad_failure kind)
{
    return kind == AAD_FAILURE_UNAVAILABLE || kind == AAD_FAILURE_SYSTEM_TRUST ||
           kind == AAD_FAILURE_BUSY;
}

void aad_refusal_wrap_first(char *text, size_t first_width, size_t width)
{
    char *line = text, *last_space = NULL;
    size_t limit = first_width;
    for (char *p = text; *p != '\0'; p++) {
        if (*p == '\n') {
            line = p + 1;
            last_space = NULL;
            limit = width;
            continue;
        }
        if (*p == ' ')
            last_space = p;
        if ((size_t)(p - line) >= limit && last_space != NULL) {
            *last_space = '\n';
            line = last_space + 1;
            last_space = NULL;
            limit = width;
        }
    }
}

void aad_refusal_wrap(char *text, size_t width)
{
    aad_refusal_wrap_first(text, width, width);
}
