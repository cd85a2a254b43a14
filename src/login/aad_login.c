/* aad_login.c - one whole login, top to bottom.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_login.h"
#include "aad_admit.h"
#include "aad_devflow.h"
#include "aad_http.h"
#include "aad_idtoken.h"
#include "aad_json.h"
#include "aad_jwt.h"
#include "aad_qr.h"
#include "aad_refresh.h"
#include "aad_refusal.h"
#include "aad_trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* A renewed code is worth showing only with this much of the flow left. */
#define MIN_RENEWED_FLOW_MS 30000

void aad_identity_clear(struct aad_identity *id)
{
    free(id->upn);
    free(id->oid);
    free(id->tid);
    free(id->name);
    free(id->local_user);
    aad_group_plan_clear(&id->groups);
    memset(id, 0, sizeof(*id));
}

/* How prompts name this host: host_label, else its host name. */
static void host_name(const struct aad_config *cfg, char *out, size_t size)
{
    if (cfg->host_label != NULL) {
        snprintf(out, size, "%s", cfg->host_label);
        return;
    }
    if (gethostname(out, size) != 0 || !aad_is_printable_token(out, size - 1))
        snprintf(out, size, "this host");
    out[size - 1] = '\0';
}

/* The code screen. It names the host and the account, so that a user who
 * got a code from someone else (device-code phishing) sees that it is not
 * their own login; URL and code stand on lines of their own, so that an
 * 80-column terminal never breaks the URL. */
static enum aad_status show_code(const struct aad_config *cfg, const struct aad_account *account,
                                 const struct aad_ui *ui, const struct aad_device_code *dc,
                                 const char *before, struct aad_error *err)
{
    char message[1280], prompt[128], host[AAD_HOST_LABEL_MAX + 1];
    host_name(cfg, host, sizeof(host));
    snprintf(message, sizeof(message),
             "%s"
             "Sign in to %s as %s with Microsoft Entra ID.\n"
             "Only go on if you started this login yourself; never use a code sent to you.\n"
             "  Open: %s\n"
             "  Code: %s",
             before, host, account->name,
             dc->verification_uri, dc->user_code);
    if (cfg->wait_for_enter)
        snprintf(prompt, sizeof(prompt), "Press Enter once you have signed in: ");
    else
        snprintf(prompt, sizeof(prompt), "Waiting for the sign-in...");
    int want_qr = cfg->qr == AAD_QR_YES || (cfg->qr == AAD_QR_AUTO && ui->qr_ok);
    char *qr = want_qr ? aad_qr_render(dc->verification_uri) : NULL;
    int rc = ui->show_code(ui->ctx, message, qr, prompt, cfg->wait_for_enter);
    free(qr);
    aad_wipe(message, sizeof(message)); /* the user code */
    if (rc != 0)
        return aad_fail_as(err, AAD_FAILURE_NO_CONVERSATION, "the code cannot be shown to the user");
    return AAD_OK;
}

/* Enter came before the sign-in was finished: say so, with the code again
 * (sudo shows only prompts), and wait for Enter once more. */
struct still_pending_ctx {
    const struct aad_ui *ui;
    const struct aad_device_code *dc;
};

static int ask_again(void *ctx)
{
    const struct still_pending_ctx *c = ctx;
    char prompt[512];
    snprintf(prompt, sizeof(prompt),
             "Not signed in yet (code %s).\nFinish on your phone, then press Enter: ",
             c->dc->user_code);
    int rc = c->ui->not_yet(c->ui->ctx, prompt);
    aad_wipe(prompt, sizeof(prompt));
    return rc;
}

/* Steps 7 to 10: verify the token, map it, authorize it. */
static enum aad_status check_token(const struct aad_config *cfg, const struct aad_account *account,
                                   struct aad_trust *trust, struct aad_http *http,
                                   const struct aad_log *log, const struct aad_tokens *tokens,
                                   struct aad_identity *id, struct aad_error *err)
{
    struct aad_jwt *jwt = NULL;
    enum aad_status st = aad_id_token_verify(cfg, trust, http, log, tokens->id_token, &jwt, err);
    if (st != AAD_OK)
        return st;
    st = aad_admit(cfg, account, http, log, jwt, tokens->access_token, id, err);
    /* Decided while the tokens are at hand; written by the helper. */
    if (st == AAD_OK) {
        st = aad_group_plan_make(cfg, http, jwt->claims, tokens->access_token, log, &id->groups,
                                 err);
        if (st == AAD_DENIED)
            aad_reclassify(err, AAD_FAILURE_NOT_AUTHORIZED);
    }
    aad_jwt_free(jwt);
    return st;
}

/* Between polls, for a front end that waits for Enter itself: show the
 * countdown and sleep. */
static int sleep_and_count_down(void *ctx, int64_t until_us, long seconds_left)
{
    const struct aad_ui *ui = ctx;
    if (ui->waiting != NULL)
        ui->waiting(ui->ctx, seconds_left);
    aad_sleep_until_us(until_us);
    return 0;
}

void aad_login_session_clear(struct aad_login_session *s)
{
    aad_free_secret(s->new_refresh_token);
    s->new_refresh_token = NULL;
}

/* A policy asks for a new sign-in (a device flow may pass it): sign-in
 * frequency, multi-factor authentication, Conditional Access. Anything else
 * Entra refuses a refresh token for (disabled, deleted, revoked) ends the
 * session's sign-in. */
static int asks_for_a_new_sign_in(long aadsts)
{
    static const long codes[] = {70043, 50076, 50078, 50079, 53000, 53001, 53003};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (codes[i] == aadsts)
            return 1;
    }
    return 0;
}

static int same_guid(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* The session's sign-in, redeemed: one exchange, then every check a login
 * makes, and the same identity as the session's. */
static enum aad_status redeem_session(const struct aad_config *cfg,
                                      const struct aad_account *account, struct aad_http *http,
                                      const struct aad_log *log, struct aad_login_session *s,
                                      struct aad_identity *id, struct aad_error *err)
{
    struct aad_refreshed r = {0};
    struct aad_trust *trust = NULL;
    long retry_after = -1;
    enum aad_status st =
        aad_refresh_redeem(cfg, http, s->refresh_token, cfg->scope, &r, &retry_after, err);
    if (st == AAD_OK && r.id_token == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "the refresh answer has no id_token (does scope "
                                            "contain openid?)");
    if (st == AAD_OK)
        st = aad_trust_load(cfg, http, log, &trust, err);
    struct aad_tokens tokens = {.id_token = r.id_token, .access_token = r.access_token};
    if (st == AAD_OK)
        st = check_token(cfg, account, trust, http, log, &tokens, id, err);
    if (st == AAD_OK && (!same_guid(id->oid, s->expect_oid) || !same_guid(id->tid, s->expect_tid)))
        st = aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                         "the refreshed sign-in is object %.40s of tenant %.40s, not the "
                         "session's %.40s of %.40s",
                         id->oid ? id->oid : "-", id->tid ? id->tid : "-",
                         s->expect_oid ? s->expect_oid : "-", s->expect_tid ? s->expect_tid : "-");
    if (st == AAD_OK) {
        s->new_refresh_token = r.refresh_token; /* Entra rotates it: the new one is kept */
        r.refresh_token = NULL;
        s->refreshed = 1;
    }
    aad_trust_free(trust);
    aad_refreshed_clear(&r);
    return st;
}

enum aad_status aad_login(const struct aad_config *cfg, const struct aad_account *account,
                          const struct aad_ui *ui, const struct aad_log *log,
                          struct aad_identity *id, struct aad_login_report *report,
                          struct aad_error *err)
{
    return aad_login_with_session(cfg, account, ui, log, id, report, NULL, err);
}

enum aad_status aad_login_with_session(const struct aad_config *cfg,
                                       const struct aad_account *account, const struct aad_ui *ui,
                                       const struct aad_log *log, struct aad_identity *id,
                                       struct aad_login_report *report,
                                       struct aad_login_session *session, struct aad_error *err)
{
    memset(id, 0, sizeof(*id));
    struct aad_login_report scratch;
    if (report == NULL)
        report = &scratch;
    memset(report, 0, sizeof(*report));

    /* Again here, with this process's own reading of the configuration. */
    enum aad_status st = aad_account_check(cfg, account, err);
    if (st != AAD_OK)
        return st;
    int relayed = ui->pause != NULL;

    struct aad_http *http = NULL;
    struct aad_http_options opts = {.ca_file = cfg->ca_file, .files = &cfg->preread,
                                    .proxy = cfg->proxy, .timeout_s = cfg->http_timeout,
                                    .before_exchange = ui->alive, .hook_ctx = ui->ctx};
    struct aad_device_code dc = {0};
    struct aad_trust *trust = NULL;
    struct aad_tokens tokens = {0};
    struct aad_poller poller;
    long ignored;
    char why_again[320] = "";

    st = aad_http_new(&opts, &http, err);
    if (st == AAD_OK && session != NULL && session->refresh_token != NULL) {
        st = redeem_session(cfg, account, http, log, session, id, err);
        if (st == AAD_DENIED && asks_for_a_new_sign_in(err->aadsts)) {
            aad_log(log, LOG_NOTICE, "session sign-in: %s: a new sign-in follows", err->message);
            snprintf(why_again, sizeof(why_again) - 1,
                     "This session's sign-in needs renewing: %s (AADSTS%ld).",
                     aad_refresh_refusal_reason(err->aadsts), err->aadsts);
            aad_refusal_wrap(why_again, AAD_TERMINAL_COLUMNS);
            strcat(why_again, "\n");
            aad_identity_clear(id);
            st = AAD_OK;
        } else {
            if (st == AAD_DENIED && err->kind != AAD_FAILURE_BAD_TOKEN &&
                err->kind != AAD_FAILURE_NOT_AUTHORIZED && err->kind != AAD_FAILURE_WRONG_ACCOUNT &&
                err->kind != AAD_FAILURE_GUEST)
                aad_reclassify(err, AAD_FAILURE_SESSION_ENDED);
            goto done;
        }
    }
    /* The code request is the only exchange before the user sees the code. */
    if (st == AAD_OK)
        st = aad_devflow_start(cfg, http, &dc, err);
    int64_t code_ms = aad_monotonic_ms();
    const int64_t flow_deadline_ms = code_ms + (int64_t)cfg->timeout * 1000;
    if (st == AAD_OK) {
        aad_http_counters(http, &report->requests_before_code, &ignored);
        st = show_code(cfg, account, ui, &dc, why_again, err);
    }
    /* Keys are fetched after the code is shown, never before; with a
     * relayed front end that is while the user signs in. */
    if (st == AAD_OK)
        st = aad_trust_load(cfg, http, log, &trust, err);
    if (st == AAD_OK) {
        report->keys_from_cache = trust->from_cache;
        aad_keyset_warm_up(trust->keys);
    }
    struct still_pending_ctx pending = {ui, &dc};
    /* A code that expires before the flow's timeout is renewed once, and
     * the new one shown as the first was. */
    for (int renewals = 0; st == AAD_OK; renewals++) {
        /* The interval holds across a renewed code too: the last poll of
         * the first one still counts. */
        int64_t last_poll_us = renewals > 0 ? poller.last_poll_us : 0;
        aad_poller_init(&poller, cfg, http, &dc, log, code_ms);
        poller.last_poll_us = last_poll_us;
        if (poller.deadline_ms > flow_deadline_ms)
            poller.deadline_ms = flow_deadline_ms;
        if (ui->not_yet != NULL) {
            poller.still_pending = ask_again;
            poller.still_pending_ctx = &pending;
        }
        /* The user at a prompt says when to poll (Enter); one without a
         * prompt (no Enter to wait for) is polled for from the interval on:
         * nobody can have signed in yet. */
        if (cfg->wait_for_enter && relayed)
            poller.poll_on_enter = 1;
        else if (!cfg->wait_for_enter)
            poller.last_poll_us = code_ms * 1000;
        if (relayed)
            st = aad_poller_run(&poller, ui->pause, ui->ctx, &tokens, err);
        else
            st = aad_poller_run(&poller, sleep_and_count_down, (void *)ui, &tokens, err);
        int64_t left_ms = flow_deadline_ms - aad_monotonic_ms();
        if (st != AAD_DENIED || err->kind != AAD_FAILURE_EXPIRED || renewals > 0 ||
            left_ms < MIN_RENEWED_FLOW_MS)
            break;
        aad_log(log, LOG_INFO, "the code expired before the sign-in; asking for a new one");
        aad_device_code_clear(&dc);
        if (ui->alive != NULL)
            ui->alive(ui->ctx);
        st = aad_devflow_start(cfg, http, &dc, err);
        code_ms = aad_monotonic_ms();
        if (st == AAD_OK)
            st = show_code(cfg, account, ui, &dc, "That code expired; here is a new one.\n", err);
    }
    if (st == AAD_OK)
        st = check_token(cfg, account, trust, http, log, &tokens, id, err);
    if (st == AAD_OK && session != NULL && session->keep) {
        session->new_refresh_token = tokens.refresh_token;
        tokens.refresh_token = NULL;
    }

done:
    if (ui->decided != NULL)
        ui->decided(ui->ctx, st, id, session, err);
    if (http != NULL)
        aad_http_counters(http, &report->requests, &report->connections);
    aad_tokens_clear(&tokens);
    aad_device_code_clear(&dc);
    aad_trust_free(trust);
    aad_http_free(http);
    return st;
}
