/* test_token_answer.c - what the device flow keeps of a token answer for
 * aad-login token: the access token with its expires_in (bounded) and its
 * granted scope (printable text only), all released by aad_tokens_clear. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_token_expiry_and_scope_are_kept),
        cmocka_unit_test(test_expires_in_is_bounded_and_optional),
        cmocka_unit_test(test_scope_with_control_characters_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
