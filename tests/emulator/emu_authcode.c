/*
 * The authorization code flow with PKCE (protocol.md §13): a sign-in in the
 * user's own browser, redirected back to a loopback address.
 *
 *   GET /{t}/oauth2/v2.0/authorize   the sign-in page, or (as the browser
 *                                    control says) Entra's 302 back to the
 *                                    redirect URI with ?code=&state= or
 *                                    ?error=&error_description=&state=
 *   POST /{t}/oauth2/v2.0/token      grant_type=authorization_code (the
 *                                    token endpoint calls authcode_redeem)
 *   POST /control/browser            how later sign-ins in "the browser" end
 *   POST /control/browser/sign-in    ends the sign-in now shown on the page
 *
 * Tests follow the redirect with curl instead of a real browser.
 */
#include "emulator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define MAX_AUTH_CODES 64
#define CODE_LIFE_MS (10 * 60 * 1000)   /* Entra: about 10 minutes */
#define FIELD_MAX 512

enum browser_mode { BROWSER_PAGE = 0, BROWSER_APPROVE, BROWSER_DECLINE, BROWSER_ERROR };

/* One authorization request, as the page holds it or a code carries it. */
struct auth_request {
    char client_id[128];
    char redirect_uri[FIELD_MAX];
    char state[FIELD_MAX];
    char challenge[128];
    char nonce[FIELD_MAX];
    char *scope;
};

struct issued_code {
    char code[96];
    struct auth_request rq;
    struct approval appr;
    int64_t issued_ms;
    bool redeemed;
};

struct emu_authcode {
    enum browser_mode mode;     /* how the next sign-ins end */
    struct approval appr;       /* for BROWSER_APPROVE */
    long aadsts;                /* for BROWSER_ERROR */
    long count;                 /* sign-ins left in this mode; -1: all */
    struct auth_request page;   /* the sign-in on the page, if any */
    bool page_pending;
    struct issued_code codes[MAX_AUTH_CODES];
    size_t next_code;           /* ring buffer */
    unsigned long authorize_requests;
    unsigned long redeemed;
};

static const char *const mode_names[] = {"page", "approve", "decline", "error"};

/* Lock held. */
static struct emu_authcode *state_of(struct emulator *emu)
{
    if (!emu->authcode) {
        emu->authcode = calloc(1, sizeof *emu->authcode);
        if (emu->authcode) {
            emu->authcode->count = -1;
            snprintf(emu->authcode->appr.sign_with, sizeof emu->authcode->appr.sign_with,
                     "current");
        }
    }
    return emu->authcode;
}

static void request_clear(struct auth_request *rq)
{
    free(rq->scope);
    memset(rq, 0, sizeof *rq);
}

void authcode_free(struct emulator *emu)
{
    struct emu_authcode *a = emu->authcode;
    if (!a)
        return;
    approval_free(&a->appr);
    request_clear(&a->page);
    for (size_t i = 0; i < MAX_AUTH_CODES; i++) {
        request_clear(&a->codes[i].rq);
        approval_free(&a->codes[i].appr);
    }
    free(a);
    emu->authcode = NULL;
}

bool authcode_is_path(const char *url)
{
    const char *slash = url && url[0] == '/' ? strchr(url + 1, '/') : NULL;
    return slash && !strcmp(slash + 1, "oauth2/v2.0/authorize");
}

/* A "Mobile and desktop applications" loopback redirect URI as Entra
 * matches it against the registered http://localhost and http://127.0.0.1:
 * any port, path "/" or none, no query or fragment. */
static bool loopback_redirect_ok(const char *uri)
{
    const char *host;
    if (!strncmp(uri, "http://127.0.0.1", 16))
        host = uri + 16;
    else if (!strncasecmp(uri, "http://localhost", 16))
        host = uri + 16;
    else
        return false;
    if (*host == ':') {
        size_t digits = strspn(host + 1, "0123456789");
        if (digits == 0 || digits > 5 || atol(host + 1) > 65535)
            return false;
        host += 1 + digits;
    }
    return !strcmp(host, "") || !strcmp(host, "/");
}

static void url_encode(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* An error Entra shows on its own page (no redirect: the redirect URI
 * itself is not trusted). */
static enum MHD_Result error_page(struct MHD_Connection *c, const json_t *headers, long code,
                                  const char *text, unsigned *status)
{
    char trace[37], body[1024];
    random_guid(trace);
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
                     "<body><h1>Sorry, but we're having trouble signing you in.</h1>"
                     "<p>AADSTS%ld: %s</p><p>Trace ID: %s</p></body></html>\n",
                     code, text, trace);
    *status = 400;
    return http_send(c, 400, "text/html; charset=utf-8", body,
                     (size_t)(n < (int)sizeof body ? n : (int)sizeof body - 1), headers);
}

static enum MHD_Result redirect(struct MHD_Connection *c, const json_t *headers,
                                const char *location, unsigned *status)
{
    json_t *h = json_deep_copy(headers);
    json_object_set_new(h, "Location", json_string(location));
    *status = 302;
    enum MHD_Result r = http_send(c, 302, NULL, "", 0, h);
    json_decref(h);
    return r;
}

/* The location of Entra's answer to rq: a code, or an error. Lock held. */
static char *finish(struct emulator *emu, struct auth_request *rq, enum browser_mode mode,
                    const struct approval *appr, long aadsts)
{
    struct emu_authcode *a = state_of(emu);
    char state[3 * FIELD_MAX + 1], query[8192], base[FIELD_MAX];
    url_encode(rq->state, state, sizeof state);
    snprintf(base, sizeof base, "%s", rq->redirect_uri);
    if (mode == BROWSER_APPROVE) {
        struct issued_code *ic = &a->codes[a->next_code];
        a->next_code = (a->next_code + 1) % MAX_AUTH_CODES;
        request_clear(&ic->rq);
        approval_free(&ic->appr);
        char *code = random_b64url(64);
        snprintf(ic->code, sizeof ic->code, "1.A%s", code ? code : "");
        free(code);
        ic->rq = *rq; /* takes scope */
        memset(rq, 0, sizeof *rq);
        approval_copy(&ic->appr, appr);
        ic->issued_ms = emu_now_ms();
        ic->redeemed = false;
        snprintf(query, sizeof query, "code=%s&state=%s", ic->code, state);
    } else {
        const char *error = "access_denied", *text = "User declined to consent to access the app.";
        unsigned ignored;
        long code = 65004;
        if (mode == BROWSER_ERROR && entra_code_info(aadsts, &error, &ignored, &text)) {
            code = aadsts;
            /* A token-endpoint family has no place in a redirect. */
            if (!strcmp(error, "invalid_grant"))
                error = code == 50076 || code == 50079 ? "interaction_required" : "access_denied";
        }
        char trace[37], corr[37], desc[1024], enc[3 * 1024];
        random_guid(trace);
        random_guid(corr);
        snprintf(desc, sizeof desc, "AADSTS%ld: %s Trace ID: %s Correlation ID: %s", code, text,
                 trace, corr);
        url_encode(desc, enc, sizeof enc);
        snprintf(query, sizeof query, "error=%s&error_description=%s%s&state=%s", error, enc,
                 mode == BROWSER_DECLINE ? "&error_subcode=cancel" : "", state);
        request_clear(rq);
    }
    char *location = malloc(strlen(base) + strlen(query) + 2);
    if (location)
        sprintf(location, "%s?%s", base, query);
    return location;
}

enum MHD_Result authcode_authorize(struct emulator *emu, struct MHD_Connection *c,
                                   const json_t *headers, unsigned *status, char *note,
                                   size_t notelen)
{
    const char *client_id = arg(c, "client_id"), *redirect_uri = arg(c, "redirect_uri");
    const char *response_type = arg(c, "response_type"), *scope = arg(c, "scope");
    const char *state = arg(c, "state"), *nonce = arg(c, "nonce");
    const char *challenge = arg(c, "code_challenge"), *method = arg(c, "code_challenge_method");
    if (!client_id || !*client_id)
        return error_page(c, headers, 900144,
                          "The request body must contain the following parameter: 'client_id'.",
                          status);
    if (strcasecmp(client_id, emu->cfg.client_id))
        return error_page(c, headers, 700016,
                          "Application with identifier was not found in the directory.", status);
    if (!redirect_uri || strlen(redirect_uri) >= FIELD_MAX || !loopback_redirect_ok(redirect_uri))
        return error_page(c, headers, 50011,
                          "The redirect URI specified in the request does not match the "
                          "redirect URIs configured for the application.",
                          status);
    /* From here on Entra answers through the redirect URI. */
    struct auth_request rq = {0};
    snprintf(rq.client_id, sizeof rq.client_id, "%s", client_id);
    snprintf(rq.redirect_uri, sizeof rq.redirect_uri, "%s", redirect_uri);
    snprintf(rq.state, sizeof rq.state, "%.*s", FIELD_MAX - 1, state ? state : "");
    const char *problem = NULL;
    if (!response_type || strcmp(response_type, "code"))
        problem = "unsupported_response_type";
    else if (!challenge || strlen(challenge) != 43 || !method || strcmp(method, "S256"))
        problem = "invalid_request"; /* the emulator insists on PKCE S256 */
    else if (!scope || !nonce || strlen(nonce) >= FIELD_MAX)
        problem = "invalid_request";
    pthread_mutex_lock(&emu->lock);
    struct emu_authcode *a = state_of(emu);
    char *location = NULL;
    if (a)
        a->authorize_requests++;
    if (a && problem) {
        char q[3 * FIELD_MAX + 1];
        url_encode(rq.state, q, sizeof q);
        location = malloc(strlen(redirect_uri) + sizeof q + 256);
        if (location)
            sprintf(location, "%s?error=%s&error_description=AADSTS900144%%3A+%s&state=%s",
                    redirect_uri, problem,
                    !strcmp(problem, "invalid_request") ? "PKCE+S256%2C+a+nonce+and+a+scope+are+required"
                                                        : "response_type+must+be+code",
                    q);
    } else if (a) {
        snprintf(rq.challenge, sizeof rq.challenge, "%s", challenge);
        snprintf(rq.nonce, sizeof rq.nonce, "%s", nonce);
        rq.scope = strdup(scope);
        request_clear(&a->page);
        a->page = rq;
        memset(&rq, 0, sizeof rq);
        a->page_pending = a->mode == BROWSER_PAGE;
        if (a->mode != BROWSER_PAGE) {
            location = finish(emu, &a->page, a->mode, &a->appr, a->aadsts);
            if (a->count > 0 && --a->count == 0) {
                a->mode = BROWSER_PAGE;
                a->count = -1;
            }
        }
    }
    pthread_mutex_unlock(&emu->lock);
    request_clear(&rq);
    if (location) {
        snprintf(note, notelen, "redirect (%s)", problem ? problem : "sign-in done");
        enum MHD_Result r = redirect(c, headers, location, status);
        free(location);
        return r;
    }
    static const char page[] =
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
        "<body><h1>Sign in</h1><p>aad-emulator: the test signs the user in through "
        "POST /control/browser/sign-in.</p></body></html>\n";
    snprintf(note, notelen, "sign-in page");
    *status = 200;
    return http_send(c, 200, "text/html; charset=utf-8", page, sizeof page - 1, headers);
}

static bool verifier_matches(const char *verifier, const char *challenge)
{
    unsigned char digest[32];
    unsigned int n = 0;
    size_t len = strlen(verifier);
    /* RFC 7636: 43 to 128 unreserved characters. */
    if (len < 43 || len > 128 || strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                                  "qrstuvwxyz0123456789-._~") != len)
        return false;
    if (EVP_Digest(verifier, len, digest, &n, EVP_sha256(), NULL) != 1)
        return false;
    char *expect = b64url_encode(digest, n);
    bool ok = expect && strlen(expect) == strlen(challenge) &&
              CRYPTO_memcmp(expect, challenge, strlen(challenge)) == 0;
    free(expect);
    return ok;
}

int authcode_redeem(struct emulator *emu, const char *body, struct device_code *dc,
                    struct cc_error *e)
{
    char *code = form_get(body, "code"), *client_id = form_get(body, "client_id");
    char *redirect_uri = form_get(body, "redirect_uri");
    char *verifier = form_get(body, "code_verifier");
    int rc = -1;
    struct emu_authcode *a = state_of(emu);
    struct issued_code *ic = NULL;
    for (size_t i = 0; a && code && i < MAX_AUTH_CODES && !ic; i++)
        if (a->codes[i].code[0] && !strcmp(a->codes[i].code, code))
            ic = &a->codes[i];
    if (!code || !*code)
        cc_error_set(e, 400, "invalid_request", 900144,
                     "The request body must contain the following parameter: 'code'.");
    else if (!ic)
        cc_error_set(e, 400, "invalid_grant", 70000,
                     "Provided grant is invalid or malformed.");
    else if (ic->redeemed)
        cc_error_set(e, 400, "invalid_grant", 54005,
                     "OAuth2 Authorization code was already redeemed, please retry with a new "
                     "valid code or use an existing refresh token.");
    else if (emu_now_ms() - ic->issued_ms > CODE_LIFE_MS)
        cc_error_set(e, 400, "invalid_grant", 70008,
                     "The provided authorization code or refresh token has expired due to "
                     "inactivity. Send a new interactive authorization request for this user "
                     "and resource.");
    else if (!client_id || strcasecmp(client_id, ic->rq.client_id))
        cc_error_set(e, 400, "invalid_grant", 70000,
                     "Provided grant is invalid or malformed. The code was issued to another "
                     "application.");
    else if (!redirect_uri || strcmp(redirect_uri, ic->rq.redirect_uri))
        cc_error_set(e, 400, "invalid_grant", 500112,
                     "The reply address does not match the reply address provided when "
                     "requesting Authorization code.");
    else if (!verifier || !verifier_matches(verifier, ic->rq.challenge))
        cc_error_set(e, 400, "invalid_grant", 501481,
                     "The Code_Verifier does not match the code_challenge supplied in the "
                     "authorization request.");
    else
        rc = 0;
    if (ic)
        ic->redeemed = true; /* one attempt per code */
    if (rc == 0) {
        memset(dc, 0, sizeof *dc);
        snprintf(dc->client_id, sizeof dc->client_id, "%s", ic->rq.client_id);
        dc->scope = strdup(ic->rq.scope ? ic->rq.scope : "");
        approval_copy(&dc->appr, &ic->appr);
        /* The nonce of the request; a test's claims may still override it. */
        json_t *claims = json_pack("{s:s}", "nonce", ic->rq.nonce);
        json_merge_nulldel(claims, dc->appr.claims);
        json_decref(dc->appr.claims);
        dc->appr.claims = claims;
        a->redeemed++;
    }
    free(code);
    free(client_id);
    free(redirect_uri);
    free(verifier);
    return rc;
}

static int parse_mode(const json_t *body, enum browser_mode *mode, long *aadsts, char *err,
                      size_t errlen)
{
    const char *m = json_string_value(json_object_get(body, "mode"));
    json_t *code = json_object_get(body, "aadsts");
    *mode = BROWSER_APPROVE;
    *aadsts = 0;
    if (m) {
        size_t i = 0;
        while (i < 4 && strcmp(m, mode_names[i]))
            i++;
        if (i == 4) {
            snprintf(err, errlen, "'mode' must be page, approve, decline or error");
            return -1;
        }
        *mode = (enum browser_mode)i;
    }
    if (code) {
        const char *e, *t;
        unsigned s;
        if (!json_is_integer(code) || !entra_code_info((long)json_integer_value(code), &e, &s, &t)) {
            snprintf(err, errlen, "'aadsts' must be a code the emulator knows");
            return -1;
        }
        *aadsts = (long)json_integer_value(code);
        if (!m)
            *mode = BROWSER_ERROR;
    }
    if (*mode == BROWSER_ERROR && !*aadsts) {
        snprintf(err, errlen, "mode error needs 'aadsts'");
        return -1;
    }
    return 0;
}

int authcode_control(struct emulator *emu, const char *url, const json_t *body,
                     json_t **answer, char *err, size_t errlen)
{
    enum browser_mode mode;
    long aadsts;
    struct approval appr;
    if (parse_mode(body, &mode, &aadsts, err, errlen) != 0 ||
        approval_from_json(&appr, body, err, errlen) != 0)
        return 400;
    json_t *count = json_object_get(body, "count");
    if (count && (!json_is_integer(count) || json_integer_value(count) < -1 ||
                  json_integer_value(count) == 0)) {
        approval_free(&appr);
        snprintf(err, errlen, "'count' must be a positive integer or -1");
        return 400;
    }
    int status = 200;
    pthread_mutex_lock(&emu->lock);
    struct emu_authcode *a = state_of(emu);
    if (!a) {
        status = 500;
        snprintf(err, errlen, "out of memory");
    } else if (!strcmp(url, "/control/browser")) {
        approval_free(&a->appr);
        a->appr = appr;
        memset(&appr, 0, sizeof appr);
        a->mode = mode;
        a->aadsts = aadsts;
        a->count = count ? (long)json_integer_value(count) : -1;
        *answer = json_pack("{s:s,s:I,s:I,s:I}", "mode", mode_names[mode], "count",
                            (json_int_t)a->count, "authorize_requests",
                            (json_int_t)a->authorize_requests, "redeemed",
                            (json_int_t)a->redeemed);
    } else if (!a->page_pending || mode == BROWSER_PAGE) {
        status = 404;
        snprintf(err, errlen, "no sign-in is waiting on the page");
    } else {
        a->page_pending = false;
        char *location = finish(emu, &a->page, mode, &appr, aadsts);
        *answer = json_pack("{s:s}", "location", location ? location : "");
        free(location);
    }
    pthread_mutex_unlock(&emu->lock);
    approval_free(&appr);
    return status;
}
