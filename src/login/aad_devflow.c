/* aad_devflow.c - device authorization grant: code request and polling.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_devflow.h"
#include "aad_entra_error.h"
#include "aad_json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define DEFAULT_INTERVAL 5
#define MAX_INTERVAL 60
#define SLOW_DOWN_STEP 5
#define MAX_TRANSIENT_FAILURES 3
#define MAX_DEVICE_CODE 4096
#define MAX_USER_CODE 32
#define MAX_URI 512
#define MAX_TOKEN (64 * 1024)

static void free_secret_field(char **p)
{
    aad_free_secret(*p);
    *p = NULL;
}

void aad_device_code_clear(struct aad_device_code *dc)
{
    free_secret_field(&dc->device_code);
    free_secret_field(&dc->user_code);
    free(dc->verification_uri);
    memset(dc, 0, sizeof(*dc));
}

void aad_tokens_clear(struct aad_tokens *t)
{
    free_secret_field(&t->id_token);
    free_secret_field(&t->access_token);
    free_secret_field(&t->refresh_token);
    free(t->scope);
    t->scope = NULL;
    t->expires_in = 0;
}

static int is_user_code(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > MAX_USER_CODE)
        return 0;
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '-')
            return 0;
    }
    return 1;
}

enum aad_status aad_devflow_start(const struct aad_config *cfg, struct aad_http *http,
                                  struct aad_device_code *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    char url[1024], form[2048];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/devicecode", cfg->authority, cfg->tenant);
    char *scope = aad_http_escape(http, cfg->scope);
    if (scope == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    snprintf(form, sizeof(form), "client_id=%s&scope=%s", cfg->client_id, scope);
    free(scope);

    struct aad_http_response resp;
    enum aad_status st = aad_http_post_form(http, url, form, &resp, err);
    if (st != AAD_OK)
        return st;
    st = aad_devflow_parse_code(resp.status, resp.is_json, resp.body, resp.len, out, err);
    aad_http_response_clear(&resp);
    return st;
}

enum aad_status aad_devflow_parse_code(long status, int is_json, const char *text, size_t len,
                                       struct aad_device_code *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    enum aad_status st = AAD_OK;
    json_t *body = is_json ? aad_json_parse_object(text, len, AAD_HTTP_MAX_BODY) : NULL;
    if (body == NULL) {
        return aad_fail(err, AAD_UNAVAILABLE, "device code request: HTTP %ld without a JSON answer",
                        status);
    }
    if (status != 200) {
        struct aad_entra_error e;
        aad_entra_error_read(body, &e);
        json_decref(body);
        /* A 4xx with an OAuth error is Entra saying no to this host's
         * request (unknown tenant or client, bad scope): the answer of a
         * service that works. 429 and 5xx are the service failing. */
        if (status == 429 || status >= 500 || status < 400)
            return aad_fail(err, AAD_UNAVAILABLE, "device code request failed (HTTP %ld): %s",
                            status, e.description);
        return aad_entra_error_fail(&e, "device code request", err);
    }

    const char *device_code = aad_json_string(body, "device_code");
    const char *user_code = aad_json_string(body, "user_code");
    const char *uri = aad_json_string(body, "verification_uri");
    long long expires_in = 0, interval = DEFAULT_INTERVAL;
    int has_interval = aad_json_integer(body, "interval", &interval);
    if (uri == NULL)
        uri = aad_json_string(body, "verification_url"); /* the v1 spelling */
    if (!aad_is_printable_token(device_code, MAX_DEVICE_CODE))
        st = aad_fail(err, AAD_UNAVAILABLE, "device code answer has no usable device_code");
    else if (!is_user_code(user_code))
        st = aad_fail(err, AAD_UNAVAILABLE, "device code answer has no usable user_code");
    else if (!aad_is_printable_token(uri, MAX_URI) || strncmp(uri, "https://", 8) != 0)
        st = aad_fail(err, AAD_UNAVAILABLE, "device code answer has no https verification_uri");
    else if (aad_json_integer(body, "expires_in", &expires_in) != 1 || expires_in <= 0)
        st = aad_fail(err, AAD_UNAVAILABLE, "device code answer has no usable expires_in");
    else if (has_interval < 0)
        st = aad_fail(err, AAD_UNAVAILABLE, "device code answer has a non-integer interval");
    if (st == AAD_OK) {
        /* A zero or negative interval would hammer the service, a huge one
         * would stall the login: RFC 8628's default and a sane ceiling. */
        if (has_interval == 0 || interval < 1)
            interval = DEFAULT_INTERVAL;
        out->interval = interval > MAX_INTERVAL ? MAX_INTERVAL : (long)interval;
        out->expires_in = expires_in > 24 * 3600 ? 24 * 3600 : (long)expires_in;
        out->device_code = strdup(device_code);
        out->user_code = strdup(user_code);
        out->verification_uri = strdup(uri);
        if (!out->device_code || !out->user_code || !out->verification_uri)
            st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    /* The device code is a bearer secret: wipe jansson's copy too. */
    json_t *dcv = json_object_get(body, "device_code");
    if (json_is_string(dcv))
        aad_wipe((char *)json_string_value(dcv), json_string_length(dcv));
    json_decref(body);
    if (st != AAD_OK)
        aad_device_code_clear(out);
    return st;
}

void aad_poller_init(struct aad_poller *p, const struct aad_config *cfg, struct aad_http *http,
                     const struct aad_device_code *dc, const struct aad_log *log,
                     int64_t code_received_ms)
{
    memset(p, 0, sizeof(*p));
    p->cfg = cfg;
    p->http = http;
    p->dc = dc;
    p->log = log;
    long limit = cfg->timeout < dc->expires_in ? cfg->timeout : dc->expires_in;
    p->deadline_ms = code_received_ms + (int64_t)limit * 1000;
    p->code_expires_ms = code_received_ms + (int64_t)dc->expires_in * 1000;
    p->interval_s = dc->interval;
}

static void wipe_json_string(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        aad_wipe((char *)json_string_value(v), json_string_length(v));
}

/* A granted scope list: printable ASCII words separated by spaces. */
static int is_scope_text(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n >= MAX_URI * 4 || s[n] < ' ' || s[n] > '~')
            return 0;
    }
    return n > 0;
}

enum aad_status aad_tokens_take(json_t *body, struct aad_tokens *out, struct aad_error *err)
{
    const char *id_token = aad_json_string(body, "id_token");
    const char *access_token = aad_json_string(body, "access_token");
    if (id_token == NULL || strlen(id_token) > MAX_TOKEN) {
        wipe_json_string(body, "id_token");
        wipe_json_string(body, "access_token");
        wipe_json_string(body, "refresh_token");
        return aad_fail(err, AAD_UNAVAILABLE,
                        "the token answer has no id_token (does scope contain openid?)");
    }
    out->id_token = strdup(id_token);
    out->access_token = access_token && strlen(access_token) <= MAX_TOKEN ? strdup(access_token) : NULL;
    /* Kept only when asked for (offline_access): aad-login token. */
    const char *refresh_token = aad_json_string(body, "refresh_token");
    out->refresh_token = refresh_token && aad_is_printable_token(refresh_token, MAX_TOKEN)
                             ? strdup(refresh_token)
                             : NULL;
    /* What the access token is good for, for aad-login token. */
    long long expires_in = 0;
    const char *scope = aad_json_string(body, "scope");
    if (aad_json_integer(body, "expires_in", &expires_in) == 1 && expires_in > 0)
        out->expires_in = expires_in > 24 * 3600 ? 24 * 3600 : (long)expires_in;
    out->scope = scope && is_scope_text(scope) ? strdup(scope) : NULL;
    wipe_json_string(body, "id_token");
    wipe_json_string(body, "access_token");
    wipe_json_string(body, "refresh_token");
    if (out->id_token == NULL) {
        aad_tokens_clear(out);
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    return AAD_OK;
}

enum aad_status aad_poller_poll_once(struct aad_poller *p, struct aad_tokens *out, long *wait_s,
                                     struct aad_error *err)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", p->cfg->authority, p->cfg->tenant);
    char *code = aad_http_escape(p->http, p->dc->device_code);
    size_t form_size = (code ? strlen(code) : 0) + 256;
    char *form = code ? malloc(form_size) : NULL;
    if (form == NULL) {
        aad_free_secret(code);
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    snprintf(form, form_size,
             "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Adevice_code"
             "&client_id=%s&device_code=%s",
             p->cfg->client_id, code);
    aad_free_secret(code);

    struct aad_http_response resp;
    struct aad_error net_err = {0};
    enum aad_status st = aad_http_post_form(p->http, url, form, &resp, &net_err);
    aad_free_secret(form);
    p->last_poll_us = aad_monotonic_us();
    p->polls++;
    *wait_s = p->interval_s;

    if (st != AAD_OK) {
        /* An authority that does not answer at all is not asked again:
         * each retry would wait http_timeout more, past the login's bound
         * (an early refusal or a 5xx is retried below). */
        if (++p->transient_failures >= MAX_TRANSIENT_FAILURES || aad_http_timed_out(p->http))
            return aad_fail(err, AAD_UNAVAILABLE, "%s", net_err.message);
        aad_log(p->log, LOG_WARNING, "token poll failed, will retry: %s", net_err.message);
        return AAD_OK;
    }
    st = aad_poller_take_answer(p, resp.status, resp.is_json, resp.body, resp.len, resp.retry_after,
                                out, wait_s, err);
    aad_http_response_clear(&resp);
    return st;
}

enum aad_status aad_poller_take_answer(struct aad_poller *p, long status, int is_json,
                                       const char *text, size_t len, long retry_after,
                                       struct aad_tokens *out, long *wait_s, struct aad_error *err)
{
    enum aad_status st;
    json_t *body = is_json ? aad_json_parse_object(text, len, AAD_HTTP_MAX_BODY) : NULL;

    if (status == 429 || status >= 500) {
        json_decref(body);
        if (retry_after > p->interval_s)
            *wait_s = retry_after;
        if (++p->transient_failures >= MAX_TRANSIENT_FAILURES)
            return aad_fail(err, AAD_UNAVAILABLE, "the token endpoint keeps failing (HTTP %ld)", status);
        aad_log(p->log, LOG_WARNING, "token endpoint answered HTTP %ld, will retry in %ld s", status, *wait_s);
        return AAD_OK;
    }
    if (body == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "the token endpoint answered HTTP %ld without JSON", status);

    p->transient_failures = 0;
    if (status == 200) {
        st = aad_tokens_take(body, out, err);
        json_decref(body);
        return st;
    }

    const char *error = aad_json_string(body, "error");
    struct aad_entra_error e;
    aad_entra_error_read(body, &e);
    if (status != 400 && status != 401)
        st = aad_fail(err, AAD_UNAVAILABLE, "the token endpoint answered HTTP %ld: %s", status,
                      e.description);
    else if (error == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "the token endpoint answered HTTP %ld without an error code", status);
    else if (strcmp(error, "authorization_pending") == 0)
        st = AAD_OK;
    else if (strcmp(error, "slow_down") == 0) {
        p->interval_s = p->interval_s + SLOW_DOWN_STEP > MAX_INTERVAL ? MAX_INTERVAL
                                                                      : p->interval_s + SLOW_DOWN_STEP;
        *wait_s = p->interval_s;
        st = AAD_OK;
    } else if (strcmp(error, "temporarily_unavailable") == 0 || strcmp(error, "server_error") == 0) {
        st = ++p->transient_failures >= MAX_TRANSIENT_FAILURES
                 ? aad_fail(err, AAD_UNAVAILABLE, "the token endpoint keeps failing: %s",
                            e.description)
                 : AAD_OK;
    } else if (strcmp(error, "authorization_declined") == 0)
        st = aad_entra_error_fail_as(&e, AAD_FAILURE_DECLINED, "the sign-in was declined", err);
    else if (strcmp(error, "expired_token") == 0 || strcmp(error, "code_expired") == 0)
        st = aad_entra_error_fail_as(&e, AAD_FAILURE_EXPIRED,
                                     "the code expired before the sign-in completed", err);
    else if (strcmp(error, "bad_verification_code") == 0)
        st = aad_entra_error_fail_as(&e, AAD_FAILURE_REFUSED, "the service does not know this code",
                                     err);
    else
        st = aad_entra_error_fail(&e, "the token request", err);
    json_decref(body);
    return st;
}

static int sleep_until(void *ctx, int64_t until_us, long seconds_left)
{
    (void)ctx;
    (void)seconds_left;
    aad_sleep_until_us(until_us);
    return 0;
}

enum aad_status aad_poller_run(struct aad_poller *p, aad_pause_fn pause, void *ctx,
                               struct aad_tokens *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    if (pause == NULL)
        pause = sleep_until;
    long wait_s = p->interval_s;
    int asked = 0; /* the user pressed Enter and no poll has answered it yet */
    const int64_t deadline = p->deadline_ms * 1000; /* us, as the times below */
    for (;;) {
        int64_t now = aad_monotonic_us();
        int64_t next = p->last_poll_us == 0 ? now : p->last_poll_us + (int64_t)wait_s * 1000000;
        /* The last answer was a failure of the service (5xx, 429 with a
         * Retry-After beyond the deadline, no answer): whether the user
         * signed in cannot be known, so the service is unavailable - at
         * once, so that the stack can fall back. */
        if (p->transient_failures > 0 && (next > deadline || now >= deadline))
            return aad_fail(err, AAD_UNAVAILABLE,
                            "the token endpoint stayed unavailable until the sign-in deadline");
        if (now >= deadline) {
            if (p->deadline_ms >= p->code_expires_ms)
                return aad_fail_as(err, AAD_FAILURE_EXPIRED,
                                   "the code expired before the sign-in completed");
            return aad_fail_as(err, AAD_FAILURE_TIMED_OUT, "timed out waiting for the sign-in");
        }
        /* Pause in steps of at most a second, so that a waiting indicator
         * can count down; the caller decides how often to show it. When the
         * next poll falls after the deadline, wait for the user's Enter
         * until the deadline all the same. */
        while ((next > now || (p->poll_on_enter && !asked)) && now < deadline) {
            int64_t until = next > now && next < deadline ? next : deadline;
            int said = pause(ctx, until - now > 1000000 ? now + 1000000 : until,
                             (long)((deadline - now) / 1000000));
            if (said < 0)
                return aad_fail_as(err, AAD_FAILURE_NO_CONVERSATION,
                                   "the user can no longer be reached");
            now = aad_monotonic_us();
            /* The user says the sign-in is done: the next poll tells,
             * when the interval allows it (RFC 8628: never closer than
             * interval, raised by every slow_down; Entra throttles
             * clients that poll faster), and its answer is reported. */
            if (said > 0)
                asked = 1;
        }
        if (next > now || (p->poll_on_enter && !asked))
            continue; /* the deadline came first */
        int failures = p->transient_failures;
        long interval = p->interval_s;
        enum aad_status st = aad_poller_poll_once(p, out, &wait_s, err);
        if (st != AAD_OK || out->id_token != NULL)
            return st;
        /* Still pending: the user is told. A failure of the service or a
         * slow_down answered nothing: the poll is made again when allowed. */
        if (p->transient_failures > failures || p->interval_s > interval)
            continue;
        if (asked && p->still_pending != NULL && p->still_pending(p->still_pending_ctx) != 0)
            return aad_fail_as(err, AAD_FAILURE_NO_CONVERSATION, "the user can no longer be reached");
        asked = 0;
    }
}
