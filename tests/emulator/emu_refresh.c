/*
 * Refresh tokens, as Entra hands them out and takes them back (protocol.md
 * §12): issued with a sign-in whose scope held offline_access, redeemed
 * with grant_type=refresh_token, rotated (every redemption returns a new
 * token and the old one stops working), and revoked for a user by the
 * control interface the way Entra refuses them: account disabled or
 * deleted, sessions revoked, a policy demanding a fresh sign-in.
 */
#include "emulator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Entra's refusals of a refresh, by AADSTS code: the error, the suberror
 * MSAL reads for MFA, and the text ("%s" is the user's oid or the date the
 * token was issued, as Entra words it). */
static const struct {
    long code;
    const char *error;
    const char *suberror;
    const char *text;
} refusals[] = {
    {50057, "invalid_grant", NULL,
     "User account is disabled. The user object in Active Directory backing "
     "this account has been disabled. An admin can re-enable this account "
     "through PowerShell."},
    {50034, "invalid_grant", NULL,
     "The user account %s does not exist in the directory. To sign into this "
     "application, the account must be added to the directory."},
    {50173, "invalid_grant", NULL,
     "The provided grant has expired due to it being revoked, a fresh auth "
     "token is needed. The user might have changed or reset their password. "
     "The grant was issued on '%s' and the TokensValidFrom date (before which "
     "tokens are not valid) for this user is later."},
    {50133, "invalid_grant", NULL,
     "Session is invalid due to expiration or recent password change."},
    {700082, "invalid_grant", NULL,
     "The refresh token has expired due to inactivity. The token was issued "
     "on %s and was inactive for 90.00:00:00."},
    {70043, "invalid_grant", NULL,
     "The refresh token has expired or is invalid due to sign-in frequency "
     "checks by conditional access. The token was issued on %s and the "
     "maximum allowed lifetime for this request is 3600."},
    {50076, "invalid_grant", "basic_action",
     "Due to a configuration change made by your administrator, or because "
     "you moved to a new location, you must use multi-factor authentication "
     "to access the application."},
    {50078, "invalid_grant", "basic_action",
     "Presented multi-factor authentication has expired due to policies "
     "configured by your administrator, you must refresh your multi-factor "
     "authentication to access the application."},
    {50079, "interaction_required", "basic_action",
     "Due to a configuration change made by your administrator, or because "
     "you moved to a new location, you must enroll in multi-factor "
     "authentication to access the application."},
    {53003, "invalid_grant", NULL,
     "Access has been blocked by Conditional Access policies. The access "
     "policy does not allow token issuance."},
};

static int refusal_index(long code)
{
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        if (refusals[i].code == code)
            return (int)i;
    return -1;
}

int refresh_refusal(long code, const char *detail, struct cc_error *e)
{
    int i = refusal_index(code);
    if (i < 0)
        return cc_error_set(e, 400, "invalid_grant", 70000,
                            "The provided value for the input parameter "
                            "'refresh_token' or 'assertion' is not valid.");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    cc_error_set(e, 400, refusals[i].error, code, refusals[i].text, detail);
#pragma GCC diagnostic pop
    e->suberror = refusals[i].suberror;
    return -1;
}

static void rt_clear(struct refresh_token *t)
{
    if (t->token)
        memset(t->token, 0, strlen(t->token));
    free(t->token);
    free(t->scope);
    json_decref(t->claims);
    memset(t, 0, sizeof *t);
}

char *refresh_issue(struct emulator *emu, const char *client_id,
                    const char *scope, const json_t *claims)
{
    if (emu->nrefresh == EMU_MAX_REFRESH) { /* forget the oldest */
        rt_clear(&emu->refresh[0]);
        memmove(&emu->refresh[0], &emu->refresh[1],
                (EMU_MAX_REFRESH - 1) * sizeof emu->refresh[0]);
        emu->nrefresh--;
    }
    char *r = random_b64url(300);
    if (!r)
        return NULL;
    /* Entra's refresh tokens start "1.A" (an opaque, encrypted blob). */
    size_t n = strlen(r) + 4;
    char *text = malloc(n);
    if (!text) {
        free(r);
        return NULL;
    }
    snprintf(text, n, "1.A%s", r);
    free(r);
    struct refresh_token *t = &emu->refresh[emu->nrefresh];
    memset(t, 0, sizeof *t);
    t->token = strdup(text);
    t->scope = strdup(scope);
    t->claims = json_deep_copy(claims);
    const char *oid = json_string_value(json_object_get(claims, "oid"));
    snprintf(t->oid, sizeof t->oid, "%s", oid ? oid : "");
    snprintf(t->client_id, sizeof t->client_id, "%s", client_id);
    t->issued = time(NULL);
    if (!t->token || !t->scope || !t->claims) {
        rt_clear(t);
        free(text);
        return NULL;
    }
    emu->nrefresh++;
    return text;
}

int refresh_redeem(struct emulator *emu, const char *token,
                   const char *client_id, json_t **claims, char **scope,
                   struct cc_error *e)
{
    struct refresh_token *t = NULL;
    for (size_t i = 0; i < emu->nrefresh && !t; i++)
        if (!strcmp(emu->refresh[i].token, token))
            t = &emu->refresh[i];
    if (!t)
        return cc_error_set(e, 400, "invalid_grant", 9002313,
                            "Invalid request. Request is malformed or invalid.");
    if (strcasecmp(t->client_id, client_id))
        return cc_error_set(e, 400, "invalid_grant", 70000,
                            "The provided value for the input parameter "
                            "'refresh_token' or 'assertion' is not valid. The "
                            "refresh token was issued to another application.");
    if (t->state == RT_REVOKED) {
        char detail[64];
        struct tm tm;
        gmtime_r(&t->issued, &tm);
        if (t->aadsts == 50034)
            snprintf(detail, sizeof detail, "%s", t->oid);
        else
            strftime(detail, sizeof detail, "%m/%d/%Y %H:%M:%S", &tm);
        return refresh_refusal(t->aadsts, detail, e);
    }
    if (t->state == RT_USED)
        return refresh_refusal(0, "", e); /* rotation: used once */
    *claims = json_deep_copy(t->claims);
    *scope = strdup(t->scope);
    if (!*claims || !*scope) {
        json_decref(*claims);
        free(*scope);
        return cc_error_set(e, 500, "server_error", 50000,
                            "The emulator ran out of memory.");
    }
    t->state = RT_USED;
    return 0;
}

int refresh_control(struct emulator *emu, const json_t *body, char *err,
                    size_t errlen, json_t **answer)
{
    const char *oid = json_string_value(json_object_get(body, "oid"));
    json_t *code = json_object_get(body, "aadsts");
    if (!oid)
        oid = EMU_DEFAULT_OID;
    if (!json_is_integer(code) || refusal_index((long)json_integer_value(code)) < 0) {
        snprintf(err, errlen, "'aadsts' must be one of 50057, 50034, 50173, "
                              "50133, 700082, 70043, 50076, 50078, 50079, 53003");
        return -1;
    }
    long aadsts = (long)json_integer_value(code);
    size_t n = 0;
    pthread_mutex_lock(&emu->lock);
    for (size_t i = 0; i < emu->nrefresh; i++) {
        struct refresh_token *t = &emu->refresh[i];
        if (t->state == RT_ACTIVE && !strcasecmp(t->oid, oid)) {
            t->state = RT_REVOKED;
            t->aadsts = aadsts;
            n++;
        }
    }
    pthread_mutex_unlock(&emu->lock);
    *answer = json_pack("{s:s,s:I,s:I}", "oid", oid, "aadsts", (json_int_t)aadsts,
                        "revoked", (json_int_t)n);
    return 0;
}

json_t *refresh_list(struct emulator *emu)
{
    static const char *const names[] = {"active", "used", "revoked"};
    json_t *list = json_array();
    pthread_mutex_lock(&emu->lock);
    for (size_t i = 0; i < emu->nrefresh; i++) {
        const struct refresh_token *t = &emu->refresh[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "refresh_token", t->token,
                              "client_id", t->client_id, "oid", t->oid, "scope",
                              t->scope, "state", names[t->state]);
        if (t->state == RT_REVOKED)
            json_object_set_new(o, "aadsts", json_integer(t->aadsts));
        json_array_append_new(list, o);
    }
    pthread_mutex_unlock(&emu->lock);
    return json_pack("{s:o}", "refresh_tokens", list);
}

void refresh_free_all(struct emulator *emu)
{
    for (size_t i = 0; i < emu->nrefresh; i++)
        rt_clear(&emu->refresh[i]);
    emu->nrefresh = 0;
}
