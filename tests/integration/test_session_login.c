/* test_session_login.c - a login session's sign-in through
 * aad_login_with_session() against the emulator: a device-code sign-in
 * that keeps a refresh token, its redemption in one request (rotated,
 * every check of a login, the session's oid and tid required), the group
 * rules applied to the refreshed token, Entra's refusals ending it, a
 * demand for a fresh sign-in running the device flow with its sentence,
 * and an unreachable authority never a success. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define GROUP_ADMINS "0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f"

static const char *const fast_emulator[] = {"--interval", "1", NULL};
static const char *const approve_member =
    "{\"preferred_username\":\"" TEST_UPN "\",\"groups\":[\"" GROUP_ADMINS "\"]}";

struct fixture {
    struct harness h;
    struct aad_ui inner;      /* the harness's scripted user */
    char last_screen[2048];   /* the last code screen's text */
    char oid[64], tid[64];    /* the session's sign-in */
    char *refresh_token;      /* its refresh token (secret) */
};

/* Keeps the code screen's text, then lets the scripted user act. */
static int recording_show_code(void *ctx, const char *message, const char *qr, const char *prompt,
                               int wait)
{
    struct fixture *f = ctx;
    snprintf(f->last_screen, sizeof(f->last_screen), "%s", message);
    return f->inner.show_code(f->inner.ctx, message, qr, prompt, wait);
}

static void recording_waiting(void *ctx, long seconds_left)
{
    struct fixture *f = ctx;
    f->inner.waiting(f->inner.ctx, seconds_left);
}

static enum aad_status session_login(struct fixture *f, const char *extra_config,
                                      struct aad_login_session *s, struct aad_identity *id,
                                      struct aad_error *err)
{
    harness_write_config(&f->h, extra_config);
    struct aad_config *cfg = harness_config(&f->h, 0, NULL);
    assert_int_equal(aad_config_add_scope(cfg, "offline_access", err), AAD_OK);
    struct aad_account account;
    f->inner = harness_ui(&f->h);
    struct aad_ui ui = {.show_code = recording_show_code, .waiting = recording_waiting, .ctx = f};
    f->last_screen[0] = '\0';
    memset(id, 0, sizeof(*id));
    enum aad_status st = aad_account_lookup(cfg, TEST_ACCOUNT, &account, err);
    if (st == AAD_OK)
        st = aad_login_with_session(cfg, &account, &ui, NULL, id, NULL, s, err);
    aad_config_free(cfg);
    return st;
}

/* Each test starts from a device-code sign-in that kept its token. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || harness_start(&f->h, fast_emulator) != 0) {
        free(f);
        return -1;
    }
    f->h.approve_with = approve_member;
    struct aad_login_session s = {.keep = 1};
    struct aad_identity id;
    struct aad_error err = {0};
    if (session_login(f, NULL, &s, &id, &err) != AAD_OK || s.new_refresh_token == NULL ||
        s.refreshed) {
        fprintf(stderr, "the first sign-in: %s\n", err.message);
        return -1;
    }
    snprintf(f->oid, sizeof(f->oid), "%s", id.oid);
    snprintf(f->tid, sizeof(f->tid), "%s", id.tid);
    f->refresh_token = s.new_refresh_token;
    s.new_refresh_token = NULL;
    aad_identity_clear(&id);
    aad_login_session_clear(&s);
    f->h.codes_shown = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->refresh_token);
    harness_stop(&f->h);
    free(f);
    return 0;
}

static struct aad_login_session redeeming(const struct fixture *f)
{
    struct aad_login_session s = {.keep = 1,
                                  .refresh_token = f->refresh_token,
                                  .expect_oid = f->oid,
                                  .expect_tid = f->tid};
    return s;
}

static void test_a_kept_sign_in_is_redeemed_in_one_request_and_rotated(void **state)
{
    struct fixture *f = *state;
    int before = harness_requests(&f->h);
    int refreshes = emu_stat(f->h.emu, "grants.refresh_token.requests");
    struct aad_login_session s = redeeming(f);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(session_login(f, NULL, &s, &id, &err), AAD_OK);
    assert_true(s.refreshed);
    assert_int_equal(f->h.codes_shown, 0);
    assert_int_equal(harness_requests(&f->h) - before, 1);
    assert_int_equal(emu_stat(f->h.emu, "grants.refresh_token.requests") - refreshes, 1);
    assert_non_null(s.new_refresh_token);
    assert_string_not_equal(s.new_refresh_token, f->refresh_token);
    assert_string_equal(id.local_user, TEST_ACCOUNT);
    assert_string_equal(id.oid, f->oid);
    aad_identity_clear(&id);

    /* The old token is used up; the new one works. */
    struct aad_login_session again = redeeming(f);
    assert_int_equal(session_login(f, NULL, &again, &id, &err), AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_SESSION_ENDED);
    assert_int_equal(err.aadsts, 70000);
    aad_login_session_clear(&again);
    free(f->refresh_token);
    f->refresh_token = s.new_refresh_token;
    s.new_refresh_token = NULL;
    struct aad_login_session third = redeeming(f);
    assert_int_equal(session_login(f, NULL, &third, &id, &err), AAD_OK);
    aad_identity_clear(&id);
    aad_login_session_clear(&third);
    aad_login_session_clear(&s);
}

static void test_another_identity_is_refused(void **state)
{
    struct fixture *f = *state;
    struct aad_login_session s = redeeming(f);
    s.expect_oid = "11111111-2222-4333-8444-555555555555";
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(session_login(f, NULL, &s, &id, &err), AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_BAD_TOKEN);
    assert_non_null(strstr(err.message, "not the session's"));
    assert_false(s.refreshed);
    assert_null(s.new_refresh_token);
    aad_identity_clear(&id);
    aad_login_session_clear(&s);
}

static void test_the_group_rules_apply_to_the_refreshed_token(void **state)
{
    struct fixture *f = *state;
    char body[160];
    snprintf(body, sizeof(body), "{\"oid\":\"%s\",\"groups\":[]}", f->oid);
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/graph/members", body, NULL), 200);
    struct aad_login_session s = redeeming(f);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(session_login(f, "allowed_groups = " GROUP_ADMINS "\n", &s, &id, &err),
                     AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_NOT_AUTHORIZED);
    assert_int_equal(f->h.codes_shown, 0);
    assert_null(s.new_refresh_token);
    aad_identity_clear(&id);
    aad_login_session_clear(&s);
}

static void test_a_disabled_account_ends_the_session_sign_in(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/refresh", "{\"aadsts\":50057}", NULL),
                     200);
    struct aad_login_session s = redeeming(f);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(session_login(f, NULL, &s, &id, &err), AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_SESSION_ENDED);
    assert_int_equal(err.aadsts, 50057);
    assert_int_equal(f->h.codes_shown, 0);
    aad_identity_clear(&id);
    aad_login_session_clear(&s);
}

static void test_sign_in_frequency_runs_the_device_flow_with_its_sentence(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/refresh", "{\"aadsts\":70043}", NULL),
                     200);
    struct aad_login_session s = redeeming(f);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(session_login(f, NULL, &s, &id, &err), AAD_OK);
    assert_int_equal(f->h.codes_shown, 1);
    assert_false(s.refreshed);
    assert_non_null(s.new_refresh_token); /* the new sign-in's: it renews the session's */
    /* Lines of at most 79 columns, the sentence whole once joined. */
    char joined[sizeof(f->last_screen)];
    size_t column = 0;
    for (size_t i = 0; i <= strlen(f->last_screen); i++) {
        char c = f->last_screen[i];
        column = c == '\n' ? 0 : column + 1;
        assert_true(column <= 80);
        joined[i] = c == '\n' ? ' ' : c;
    }
    assert_non_null(strstr(joined, "This session's sign-in needs renewing: the organization's "
                                   "sign-in frequency policy asks for a new sign-in "
                                   "(AADSTS70043). Sign in to"));
    aad_identity_clear(&id);
    aad_login_session_clear(&s);
}

static void test_an_unreachable_authority_is_never_a_success(void **state)
{
    struct fixture *f = *state;
    struct aad_login_session s = redeeming(f);
    struct aad_identity id;
    struct aad_error err = {0};
    assert_int_equal(session_login(f, "authority = https://127.0.0.1:1\n", &s, &id, &err),
                     AAD_UNAVAILABLE);
    assert_false(s.refreshed);
    assert_int_equal(f->h.codes_shown, 0);
    aad_identity_clear(&id);
    aad_login_session_clear(&s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_kept_sign_in_is_redeemed_in_one_request_and_rotated),
        T(test_another_identity_is_refused),
        T(test_the_group_rules_apply_to_the_refreshed_token),
        T(test_a_disabled_account_ends_the_session_sign_in),
        T(test_sign_in_frequency_runs_the_device_flow_with_its_sentence),
        T(test_an_unreachable_authority_is_never_a_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
