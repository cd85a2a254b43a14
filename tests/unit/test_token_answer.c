/* test_token_answer.c - what the device flow keeps of a token answer for
 * aad-login token: the access token with its expires_in (bounded), its
 * granted scope (printable text only) and the refresh token (only when
 * sent), all released by aad_tokens_clear; and how the answer of a
 * refresh-token grant is judged (aad_refresh_take_answer): the new tokens
 * kept, Entra's refusals of the refresh token apart from the service
 * failing and from this host's registration being wrong. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aad_config.h"
#include "aad_devflow.h"
#include "aad_refresh.h"

static struct aad_config cfg;
static struct aad_device_code dc = {.expires_in = 900, .interval = 5};

static enum aad_status take(const char *body, struct aad_tokens *out)
{
    struct aad_poller p;
    cfg.timeout = 300;
    aad_poller_init(&p, &cfg, NULL, &dc, NULL, 0);
    struct aad_error err = {0};
    long wait_s = 5;
    memset(out, 0, sizeof(*out));
    return aad_poller_take_answer(&p, 200, 1, body, strlen(body), -1, out, &wait_s, &err);
}

static void test_access_token_expiry_and_scope_are_kept(void **state)
{
    (void)state;
    struct aad_tokens t;
    assert_int_equal(take("{\"token_type\":\"Bearer\",\"scope\":\"api://payroll/Data.Read\","
                          "\"expires_in\":4437,\"access_token\":\"at.x.y\",\"id_token\":\"i.d.t\"}",
                          &t),
                     AAD_OK);
    assert_string_equal(t.access_token, "at.x.y");
    assert_string_equal(t.id_token, "i.d.t");
    assert_int_equal(t.expires_in, 4437);
    assert_string_equal(t.scope, "api://payroll/Data.Read");
    aad_tokens_clear(&t);
    assert_null(t.access_token);
    assert_null(t.scope);
    assert_int_equal(t.expires_in, 0);
}

static void test_expires_in_is_bounded_and_optional(void **state)
{
    (void)state;
    struct aad_tokens t;
    assert_int_equal(take("{\"expires_in\":999999999,\"access_token\":\"a\",\"id_token\":\"i\"}", &t),
                     AAD_OK);
    assert_int_equal(t.expires_in, 24 * 3600);
    assert_null(t.scope);
    aad_tokens_clear(&t);
    assert_int_equal(take("{\"expires_in\":\"3600\",\"access_token\":\"a\",\"id_token\":\"i\"}", &t),
                     AAD_OK);
    assert_int_equal(t.expires_in, 0); /* a string is not a lifetime */
    aad_tokens_clear(&t);
    assert_int_equal(take("{\"expires_in\":-5,\"access_token\":\"a\",\"id_token\":\"i\"}", &t),
                     AAD_OK);
    assert_int_equal(t.expires_in, 0);
    aad_tokens_clear(&t);
}

static void test_scope_with_control_characters_is_dropped(void **state)
{
    (void)state;
    struct aad_tokens t;
    assert_int_equal(take("{\"scope\":\"Data.Read\\u001b[2J\",\"access_token\":\"a\",\"id_token\":\"i\"}",
                          &t),
                     AAD_OK);
    assert_null(t.scope);
    aad_tokens_clear(&t);
    assert_int_equal(take("{\"scope\":\"\",\"access_token\":\"a\",\"id_token\":\"i\"}", &t), AAD_OK);
    assert_null(t.scope);
    aad_tokens_clear(&t);
}

static void test_refresh_token_is_kept_only_when_sent(void **state)
{
    (void)state;
    struct aad_tokens t;
    assert_int_equal(take("{\"access_token\":\"a\",\"id_token\":\"i\",\"refresh_token\":\"1.Ar\"}",
                          &t),
                     AAD_OK);
    assert_string_equal(t.refresh_token, "1.Ar");
    aad_tokens_clear(&t);
    assert_null(t.refresh_token);
    assert_int_equal(take("{\"access_token\":\"a\",\"id_token\":\"i\"}", &t), AAD_OK);
    assert_null(t.refresh_token);
    aad_tokens_clear(&t);
}

static enum aad_status refresh(long status, const char *body, struct aad_refreshed *out,
                               struct aad_error *err)
{
    memset(err, 0, sizeof(*err));
    return aad_refresh_take_answer(status, 1, body, strlen(body), out, err);
}

static void test_refresh_answer_gives_new_tokens(void **state)
{
    (void)state;
    struct aad_refreshed r;
    struct aad_error err;
    assert_int_equal(refresh(200, "{\"token_type\":\"Bearer\",\"scope\":\"User.Read\","
                                  "\"expires_in\":4000,\"access_token\":\"at\","
                                  "\"refresh_token\":\"1.Anew\"}",
                             &r, &err),
                     AAD_OK);
    assert_string_equal(r.access_token, "at");
    assert_string_equal(r.refresh_token, "1.Anew");
    assert_null(r.id_token);
    assert_int_equal(r.expires_in, 4000);
    assert_string_equal(r.scope, "User.Read");
    aad_refreshed_clear(&r);
    assert_null(r.access_token);
    assert_null(r.refresh_token);
}

static void test_refresh_answer_without_access_token_is_unavailable(void **state)
{
    (void)state;
    struct aad_refreshed r;
    struct aad_error err;
    assert_int_equal(refresh(200, "{\"refresh_token\":\"1.A\"}", &r, &err), AAD_UNAVAILABLE);
    assert_null(r.refresh_token);
}

static void test_refused_refresh_token_is_denied_with_its_code(void **state)
{
    (void)state;
    struct aad_refreshed r;
    struct aad_error err;
    assert_int_equal(refresh(400, "{\"error\":\"invalid_grant\",\"error_codes\":[50173],"
                                  "\"error_description\":\"AADSTS50173: revoked\"}",
                             &r, &err),
                     AAD_DENIED);
    assert_int_equal(err.aadsts, 50173);
    assert_int_equal(err.kind, AAD_FAILURE_REFUSED);
    assert_non_null(strstr(aad_refresh_refusal_reason(50173), "revoked"));
    /* MFA demanded by policy: still a new sign-in, told as a policy block. */
    assert_int_equal(refresh(400, "{\"error\":\"interaction_required\",\"suberror\":\"basic_action\","
                                  "\"error_codes\":[50079]}",
                             &r, &err),
                     AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_BLOCKED_BY_POLICY);
    /* An unknown code: the error family decides. */
    assert_int_equal(refresh(400, "{\"error\":\"invalid_grant\",\"error_codes\":[99999999]}", &r,
                             &err),
                     AAD_DENIED);
    assert_non_null(aad_refresh_refusal_reason(99999999));
}

static void test_refresh_throttled_or_failing_is_unavailable(void **state)
{
    (void)state;
    struct aad_refreshed r;
    struct aad_error err;
    assert_int_equal(refresh(429, "{\"error\":\"temporarily_unavailable\"}", &r, &err),
                     AAD_UNAVAILABLE);
    assert_int_equal(refresh(503, "", &r, &err), AAD_UNAVAILABLE);
    assert_int_equal(refresh(400, "{\"error\":\"temporarily_unavailable\"}", &r, &err),
                     AAD_UNAVAILABLE);
    assert_int_equal(aad_refresh_take_answer(400, 0, "<html>", 6, &r, &err), AAD_UNAVAILABLE);
}

static void test_refresh_refused_for_the_registration_is_a_configuration_error(void **state)
{
    (void)state;
    struct aad_refreshed r;
    struct aad_error err;
    assert_int_equal(refresh(400, "{\"error\":\"unauthorized_client\",\"error_codes\":[700016]}",
                             &r, &err),
                     AAD_CONFIG_ERROR);
    assert_int_equal(err.kind, AAD_FAILURE_HOST_MISCONFIGURED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_token_expiry_and_scope_are_kept),
        cmocka_unit_test(test_expires_in_is_bounded_and_optional),
        cmocka_unit_test(test_scope_with_control_characters_is_dropped),
        cmocka_unit_test(test_refresh_token_is_kept_only_when_sent),
        cmocka_unit_test(test_refresh_answer_gives_new_tokens),
        cmocka_unit_test(test_refresh_answer_without_access_token_is_unavailable),
        cmocka_unit_test(test_refused_refresh_token_is_denied_with_its_code),
        cmocka_unit_test(test_refresh_throttled_or_failing_is_unavailable),
        cmocka_unit_test(test_refresh_refused_for_the_registration_is_a_configuration_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
