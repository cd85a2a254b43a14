/* test_login.c - whole logins through aad_login() against the emulator:
 * every polling outcome, every fault, and what a login costs on the wire. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aad_devflow.h"
#include "aad_http.h"
#include "harness.h"

static const char *const fast_emulator[] = {"--interval", "1", NULL};
static const char *const approve_nobody = "{\"preferred_username\":\"" TEST_UPN "\"}";

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    if (h == NULL || harness_start(h, fast_emulator) != 0) {
        free(h);
        return -1;
    }
    harness_write_config(h, NULL);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    harness_stop(*state);
    free(*state);
    return 0;
}

/* As aad-login does: the account's facts first, then the login. */
static enum aad_status login_with(struct harness *h, const struct aad_config *cfg, const char *user,
                                  struct aad_identity *id, struct aad_login_report *report,
                                  struct aad_error *err)
{
    struct aad_ui ui = harness_ui(h);
    struct aad_account account;
    memset(id, 0, sizeof(*id));
    enum aad_status st = aad_account_lookup(cfg, user, &account, err);
    return st == AAD_OK ? aad_login(cfg, &account, &ui, NULL, id, report, err) : st;
}

static enum aad_status login_as(struct harness *h, const char *user, struct aad_identity *id,
                                struct aad_login_report *report, struct aad_error *err)
{
    struct aad_config *cfg = harness_config(h, 0, NULL);
    enum aad_status st = login_with(h, cfg, user, id, report, err);
    aad_config_free(cfg);
    return st;
}

static void fault(struct harness *h, const char *json)
{
    assert_int_equal(emu_control(h->emu, "POST", "/control/fault", json, NULL), 200);
}

static void test_approved_login_succeeds_and_reports_identity(void **state)
{
    struct harness *h = *state;
    h->approve_with = approve_nobody;
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_OK);
    assert_string_equal(id.local_user, TEST_ACCOUNT);
    assert_string_equal(id.upn, TEST_UPN);
    assert_string_equal(id.tid, emu_env(h->emu, "TENANT_ID"));
    assert_non_null(id.oid);
    aad_identity_clear(&id);
}

static void test_code_is_shown_after_exactly_one_request(void **state)
{
    struct harness *h = *state;
    h->approve_with = approve_nobody;
    struct aad_identity id;
    struct aad_login_report report;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, &report, &err), AAD_OK);
    assert_int_equal(h->codes_shown, 1);
    assert_int_equal(h->requests_when_code_shown, 1);
    assert_int_equal(report.requests_before_code, 1);
    aad_identity_clear(&id);
}

static void test_warm_login_uses_one_tls_handshake(void **state)
{
    struct harness *h = *state;
    h->approve_with = approve_nobody;
    struct aad_identity id;
    struct aad_login_report report;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, &report, &err), AAD_OK); /* warms the cache */
    aad_identity_clear(&id);
    assert_int_equal(emu_control(h->emu, "POST", "/control/stats/reset", NULL, NULL), 200);

    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, &report, &err), AAD_OK);
    assert_true(report.keys_from_cache);
    assert_int_equal(emu_stat(h->emu, "connections"), 1);
    assert_int_equal(report.connections, 1);
    assert_int_equal(emu_stat(h->emu, "discovery"), 0);
    assert_int_equal(emu_stat(h->emu, "keys"), 0);
    assert_int_equal(emu_stat(h->emu, "devicecode"), 1);
    aad_identity_clear(&id);
}

static void test_cold_login_fetches_keys_on_the_same_connection(void **state)
{
    struct harness *h = *state;
    h->approve_with = approve_nobody;
    struct aad_identity id;
    struct aad_login_report report;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, &report, &err), AAD_OK);
    assert_false(report.keys_from_cache);
    assert_int_equal(emu_stat(h->emu, "discovery"), 1);
    assert_int_equal(emu_stat(h->emu, "keys"), 1);
    assert_int_equal(emu_stat(h->emu, "connections"), 1);
    aad_identity_clear(&id);
}

static void test_declined_sign_in_is_denied(void **state)
{
    struct harness *h = *state;
    h->decline = 1;
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_DENIED);
    assert_non_null(strstr(err.message, "declined"));
    /* What Entra said with it reaches the log line: code, trace, correlation. */
    assert_int_equal(err.aadsts, 65004);
    assert_non_null(strstr(err.message, "AADSTS65004"));
    assert_non_null(strstr(err.message, "Trace ID"));
    assert_non_null(strstr(err.message, "Correlation ID"));
    aad_identity_clear(&id);
}

static void test_identity_of_another_user_is_denied(void **state)
{
    struct harness *h = *state;
    h->approve_with = "{\"preferred_username\":\"daemon@contoso.example\"}";
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_DENIED);
    assert_non_null(strstr(err.message, "not nobody"));
    aad_identity_clear(&id);
}

static void test_unknown_local_user_is_refused_before_any_request(void **state)
{
    struct harness *h = *state;
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, "no-such-user-here", &id, NULL, &err), AAD_USER_UNKNOWN);
    assert_int_equal(harness_requests(h), 0);
    assert_int_equal(h->codes_shown, 0);
}

static void test_root_is_ignored_without_allow_root(void **state)
{
    struct harness *h = *state;
    struct aad_identity id;
    struct aad_error err = {0};
    /* Not a refusal: the stack's next method (root's password) decides. */
    assert_int_equal(login_as(h, "root", &id, NULL, &err), AAD_IGNORE);
    assert_non_null(strstr(err.message, "account root has uid 0 and allow_root is off"));
    assert_int_equal(harness_requests(h), 0);
    assert_int_equal(h->codes_shown, 0);
}

/* The first code expires: one new code is shown; when that one expires
 * too, the login is refused as expired. */
static void test_expired_code_is_renewed_once_then_denied(void **state)
{
    struct harness *h = *state;
    fault(h, "{\"endpoint\":\"token\",\"error\":\"expired_token\",\"count\":2}");
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_EXPIRED);
    assert_non_null(strstr(err.message, "expired"));
    assert_int_equal(h->codes_shown, 2);
}

static void test_expired_code_is_renewed_once_then_succeeds(void **state)
{
    struct harness *h = *state;
    h->approve_with = approve_nobody;
    fault(h, "{\"endpoint\":\"token\",\"error\":\"expired_token\"}");
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_OK);
    assert_int_equal(h->codes_shown, 2);
    aad_identity_clear(&id);
}

static void test_bad_verification_code_is_denied(void **state)
{
    struct harness *h = *state;
    fault(h, "{\"endpoint\":\"token\",\"error\":\"bad_verification_code\"}");
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_DENIED);
}

static void test_unreachable_authority_is_unavailable(void **state)
{
    struct harness *h = *state;
    const char *args[] = {"authority=https://127.0.0.1:1"};
    struct aad_config *cfg = harness_config(h, 1, args);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_with(h, cfg, TEST_ACCOUNT, &id, NULL, &err), AAD_UNAVAILABLE);
    assert_int_equal(h->codes_shown, 0);
    aad_config_free(cfg);
}

static void test_devicecode_server_error_is_unavailable(void **state)
{
    struct harness *h = *state;
    fault(h, "{\"endpoint\":\"devicecode\",\"status\":503,\"body\":\"busy\"}");
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_as(h, TEST_ACCOUNT, &id, NULL, &err), AAD_UNAVAILABLE);
    assert_int_equal(h->codes_shown, 0);
}

/* A ca_file that does not hold the CA of the authority's certificate is
 * this host's configuration, named with the file, not an outage. */
static void test_wrong_trust_anchor_in_ca_file_is_a_configuration_error(void **state)
{
    struct harness *h = *state;
    /* CAs that did not sign the emulator's certificate: the system bundle. */
    const char *args[] = {"ca_file=/etc/ssl/certs/ca-certificates.crt"};
    struct aad_config *cfg = harness_config(h, 1, args);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(login_with(h, cfg, TEST_ACCOUNT, &id, NULL, &err), AAD_CONFIG_ERROR);
    assert_int_equal(err.kind, AAD_FAILURE_CA_FILE);
    assert_non_null(strstr(err.message, "not issued by a CA of ca_file /etc/ssl/certs/ca-certificates.crt"));
    assert_int_equal(h->codes_shown, 0);
    aad_config_free(cfg);
}

/* --- the polling state machine, one poll at a time ---------------------- */

struct polling {
    struct aad_config *cfg;
    struct aad_http *http;
    struct aad_device_code dc;
    struct aad_poller poller;
    struct aad_tokens tokens;
};

static void polling_start(struct harness *h, struct polling *p)
{
    memset(p, 0, sizeof(*p));
    p->cfg = harness_config(h, 0, NULL);
    struct aad_http_options opts = {.ca_file = p->cfg->ca_file, .timeout_s = p->cfg->http_timeout};
    struct aad_error err = {0};
    assert_int_equal(aad_http_new(&opts, &p->http, &err), AAD_OK);
    assert_int_equal(aad_devflow_start(p->cfg, p->http, &p->dc, &err), AAD_OK);
    aad_poller_init(&p->poller, p->cfg, p->http, &p->dc, NULL, aad_monotonic_ms());
}

static void polling_stop(struct polling *p)
{
    aad_tokens_clear(&p->tokens);
    aad_device_code_clear(&p->dc);
    aad_http_free(p->http);
    aad_config_free(p->cfg);
}

static enum aad_status poll(struct polling *p, long *wait_s, struct aad_error *err)
{
    return aad_poller_poll_once(&p->poller, &p->tokens, wait_s, err);
}

static void test_pending_poll_waits_one_interval(void **state)
{
    struct polling p;
    long wait_s = 0;
    struct aad_error err = {0};
    polling_start(*state, &p);
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_null(p.tokens.id_token);
    assert_int_equal(wait_s, 1);
    polling_stop(&p);
}

static void test_slow_down_adds_five_seconds(void **state)
{
    struct harness *h = *state;
    struct polling p;
    long wait_s = 0;
    struct aad_error err = {0};
    polling_start(h, &p);
    fault(h, "{\"endpoint\":\"token\",\"error\":\"slow_down\"}");
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_int_equal(wait_s, 6);
    assert_int_equal(p.poller.interval_s, 6);
    polling_stop(&p);
}

static void test_throttling_honours_retry_after(void **state)
{
    struct harness *h = *state;
    struct polling p;
    long wait_s = 0;
    struct aad_error err = {0};
    polling_start(h, &p);
    fault(h, "{\"endpoint\":\"token\",\"status\":429,\"headers\":{\"Retry-After\":\"7\"},"
             "\"body\":\"{}\",\"content_type\":\"application/json\"}");
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_int_equal(wait_s, 7);
    assert_null(p.tokens.id_token);
    polling_stop(&p);
}

static void test_one_server_error_is_retried(void **state)
{
    struct harness *h = *state;
    struct polling p;
    long wait_s = 0;
    struct aad_error err = {0};
    polling_start(h, &p);
    fault(h, "{\"endpoint\":\"token\",\"status\":500,\"body\":\"oops\"}");
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK); /* pending again */
    assert_int_equal(p.poller.transient_failures, 0);
    polling_stop(&p);
}

static void test_repeated_server_errors_are_unavailable(void **state)
{
    struct harness *h = *state;
    struct polling p;
    long wait_s = 0;
    struct aad_error err = {0};
    polling_start(h, &p);
    fault(h, "{\"endpoint\":\"token\",\"status\":503,\"body\":\"down\",\"count\":-1}");
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_int_equal(poll(&p, &wait_s, &err), AAD_UNAVAILABLE);
    polling_stop(&p);
}

static void test_approved_poll_returns_tokens(void **state)
{
    struct harness *h = *state;
    struct polling p;
    long wait_s = 0;
    struct aad_error err = {0};
    polling_start(h, &p);
    assert_int_equal(emu_control(h->emu, "POST", "/control/approve", "{}", NULL), 200);
    assert_int_equal(poll(&p, &wait_s, &err), AAD_OK);
    assert_non_null(p.tokens.id_token);
    polling_stop(&p);
}

/* The user presses Enter again and again (every 100 ms): polls still come
 * no closer than the interval, 2 s here; after a slow_down, 7 s. */
static int enter_all_the_time(void *ctx, int64_t until_us, long seconds_left)
{
    (void)ctx;
    (void)seconds_left;
    int64_t soon = aad_monotonic_us() + 100000;
    aad_sleep_until_us(soon < until_us ? soon : until_us);
    return 1;
}

static long polls_in(struct harness *h, struct polling *p, long window_ms, const char *first_fault)
{
    struct aad_error err = {0};
    if (first_fault != NULL)
        fault(h, first_fault);
    p->poller.interval_s = 2;
    p->poller.deadline_ms = aad_monotonic_ms() + window_ms;
    assert_int_equal(aad_poller_run(&p->poller, enter_all_the_time, NULL, &p->tokens, &err),
                     AAD_DENIED);
    return p->poller.polls;
}

static void test_enter_never_polls_closer_than_the_interval(void **state)
{
    struct polling p;
    polling_start(*state, &p);
    assert_int_equal(polls_in(*state, &p, 2200, NULL), 2); /* at 0 s and 2 s */
    polling_stop(&p);
}

static void test_enter_after_slow_down_waits_the_raised_interval(void **state)
{
    struct polling p;
    polling_start(*state, &p);
    assert_int_equal(polls_in(*state, &p, 4000, "{\"endpoint\":\"token\",\"error\":\"slow_down\"}"), 1);
    assert_int_equal(p.poller.interval_s, 7);
    polling_stop(&p);
}

/* A user at the prompt who presses Enter once, enter_at_ms after the
 * poller starts (the code was shown then), and never again. */
struct one_enter {
    int64_t enter_at_ms;
    long polls_before_enter;
    const struct aad_poller *poller;
};

static int enter_once(void *ctx, int64_t until_us, long seconds_left)
{
    struct one_enter *u = ctx;
    (void)seconds_left;
    int64_t now = aad_monotonic_ms();
    if (u->enter_at_ms == 0) {
        aad_sleep_until_us(until_us);
        return 0;
    }
    if (now >= u->enter_at_ms) {
        u->polls_before_enter = u->poller->polls;
        u->enter_at_ms = 0;
        return 1;
    }
    aad_sleep_until_us(until_us < u->enter_at_ms * 1000 ? until_us : u->enter_at_ms * 1000);
    return 0;
}

static void test_prompted_poller_polls_only_when_enter_is_pressed(void **state)
{
    struct harness *h = *state;
    struct polling p;
    struct aad_error err = {0};
    polling_start(h, &p);
    p.poller.poll_on_enter = 1;
    p.poller.interval_s = 1; /* five intervals pass before the Enter */
    assert_int_equal(emu_control(h->emu, "POST", "/control/approve", "{}", NULL), 200);
    struct one_enter user = {aad_monotonic_ms() + 5500, -1, &p.poller};
    assert_int_equal(aad_poller_run(&p.poller, enter_once, &user, &p.tokens, &err), AAD_OK);
    assert_non_null(p.tokens.id_token);
    assert_int_equal(user.polls_before_enter, 0);
    assert_int_equal(p.poller.polls, 1);
    polling_stop(&p);
}

static void test_enter_right_after_the_code_polls_at_once(void **state)
{
    struct harness *h = *state;
    struct polling p;
    struct aad_error err = {0};
    polling_start(h, &p);
    p.poller.poll_on_enter = 1;
    p.poller.interval_s = 5;
    assert_int_equal(emu_control(h->emu, "POST", "/control/approve", "{}", NULL), 200);
    int64_t enter_ms = aad_monotonic_ms() + 200;
    struct one_enter user = {enter_ms, -1, &p.poller};
    assert_int_equal(aad_poller_run(&p.poller, enter_once, &user, &p.tokens, &err), AAD_OK);
    assert_non_null(p.tokens.id_token);
    /* No interval since the code: the first poll has none before it. */
    assert_true(aad_monotonic_ms() - enter_ms < 1500);
    polling_stop(&p);
}

static void test_prompted_poller_without_enter_makes_no_poll(void **state)
{
    struct harness *h = *state;
    struct polling p;
    struct aad_error err = {0};
    polling_start(h, &p);
    p.poller.poll_on_enter = 1;
    p.poller.interval_s = 1;
    p.poller.deadline_ms = aad_monotonic_ms() + 2500;
    struct one_enter user = {0, -1, &p.poller};
    assert_int_equal(aad_poller_run(&p.poller, enter_once, &user, &p.tokens, &err), AAD_DENIED);
    assert_int_equal(p.poller.polls, 0);
    polling_stop(&p);
}

static int user_told_not_yet(void *ctx, const char *prompt)
{
    (void)ctx;
    (void)prompt;
    return 0;
}

/* At a prompt (wait_for_enter, a front end that hears Enter): the first
 * code expires at its first poll, a new one is shown and approved, and the
 * user presses Enter at once and again; the new code's first poll still
 * waits for the interval (1 s) since the first code's. */
static void test_renewed_code_keeps_the_interval(void **state)
{
    struct harness *h = *state;
    h->approve_with = approve_nobody;
    fault(h, "{\"endpoint\":\"token\",\"error\":\"expired_token\"}");
    const char *args[] = {"wait_for_enter=yes"};
    struct aad_config *cfg = harness_config(h, 1, args);
    struct aad_ui ui = harness_ui(h);
    ui.pause = enter_all_the_time;
    ui.not_yet = user_told_not_yet;
    struct aad_account account;
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(aad_account_lookup(cfg, TEST_ACCOUNT, &account, &err), AAD_OK);
    int64_t start = aad_monotonic_ms();
    assert_int_equal(aad_login(cfg, &account, &ui, NULL, &id, NULL, &err), AAD_OK);
    assert_int_equal(h->codes_shown, 2);
    assert_int_equal(emu_stat(h->emu, "token"), 2);
    assert_true(aad_monotonic_ms() - start >= 1000);
    aad_identity_clear(&id);
    aad_config_free(cfg);
}

static void test_overall_timeout_is_denied(void **state)
{
    struct harness *h = *state;
    struct polling p;
    struct aad_error err = {0};
    polling_start(h, &p);
    p.poller.deadline_ms = aad_monotonic_ms() + 1500; /* as if timeout were 1.5 s */
    assert_int_equal(aad_poller_run(&p.poller, NULL, NULL, &p.tokens, &err), AAD_DENIED);
    assert_non_null(strstr(err.message, "timed out"));
    polling_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_approved_login_succeeds_and_reports_identity),
        T(test_code_is_shown_after_exactly_one_request),
        T(test_warm_login_uses_one_tls_handshake),
        T(test_cold_login_fetches_keys_on_the_same_connection),
        T(test_declined_sign_in_is_denied),
        T(test_identity_of_another_user_is_denied),
        T(test_unknown_local_user_is_refused_before_any_request),
        T(test_root_is_ignored_without_allow_root),
        T(test_expired_code_is_renewed_once_then_denied),
        T(test_expired_code_is_renewed_once_then_succeeds),
        T(test_bad_verification_code_is_denied),
        T(test_unreachable_authority_is_unavailable),
        T(test_devicecode_server_error_is_unavailable),
        T(test_wrong_trust_anchor_in_ca_file_is_a_configuration_error),
        T(test_pending_poll_waits_one_interval),
        T(test_slow_down_adds_five_seconds),
        T(test_throttling_honours_retry_after),
        T(test_one_server_error_is_retried),
        T(test_repeated_server_errors_are_unavailable),
        T(test_approved_poll_returns_tokens),
        T(test_enter_never_polls_closer_than_the_interval),
        T(test_prompted_poller_polls_only_when_enter_is_pressed),
        T(test_enter_right_after_the_code_polls_at_once),
        T(test_prompted_poller_without_enter_makes_no_poll),
        T(test_renewed_code_keeps_the_interval),
        T(test_enter_after_slow_down_waits_the_raised_interval),
        T(test_overall_timeout_is_denied),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
