/* test_base.c - base64url, GUIDs, printable tokens, strict JSON, QR codes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aad_base.h"
#include "aad_last_refusal.h"
#include "aad_refusal.h"
#include "aad_json.h"
#include "aad_qr.h"

/* ---- base64url ------------------------------------------------------------------------ */

static void expect_round_trip(const unsigned char *data, size_t len, const char *encoded)
{
    char *enc = aad_base64url_encode(data, len);
    assert_non_null(enc);
    if (encoded != NULL)
        assert_string_equal(enc, encoded);
    size_t out_len = 12345;
    unsigned char *dec = aad_base64url_decode(enc, strlen(enc), len, &out_len);
    assert_non_null(dec);
    assert_int_equal(out_len, len);
    if (len > 0)
        assert_memory_equal(dec, data, len);
    assert_int_equal(dec[len], '\0');
    free(dec);
    free(enc);
}

static void test_base64url_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10, without padding. */
    expect_round_trip((const unsigned char *)"", 0, "");
    expect_round_trip((const unsigned char *)"f", 1, "Zg");
    expect_round_trip((const unsigned char *)"fo", 2, "Zm8");
    expect_round_trip((const unsigned char *)"foo", 3, "Zm9v");
    expect_round_trip((const unsigned char *)"foob", 4, "Zm9vYg");
    expect_round_trip((const unsigned char *)"fooba", 5, "Zm9vYmE");
    expect_round_trip((const unsigned char *)"foobar", 6, "Zm9vYmFy");
}

static void test_base64url_uses_url_alphabet(void **state)
{
    (void)state;
    const unsigned char data[] = {0xfb, 0xff, 0xbf};
    expect_round_trip(data, sizeof(data), "-_-_");
    const unsigned char rsa_e[] = {0x01, 0x00, 0x01};
    expect_round_trip(rsa_e, sizeof(rsa_e), "AQAB");
}

static void test_base64url_round_trips_all_lengths_and_bytes(void **state)
{
    (void)state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(data); len++)
        expect_round_trip(data, len, NULL);
}

static void expect_decode_refused(const char *in)
{
    size_t out_len = 0;
    unsigned char *dec = aad_base64url_decode(in, strlen(in), 1024, &out_len);
    if (dec != NULL) {
        free(dec);
        fail_msg("'%s' should not decode", in);
    }
}

static void test_base64url_padding_is_refused(void **state)
{
    (void)state;
    expect_decode_refused("Zg==");
    expect_decode_refused("Zm8=");
    expect_decode_refused("Zg=");
    expect_decode_refused("====");
}

static void test_base64url_standard_alphabet_is_refused(void **state)
{
    (void)state;
    expect_decode_refused("+/+/");
    expect_decode_refused("ab+c");
    expect_decode_refused("ab/c");
}

static void test_base64url_whitespace_is_refused(void **state)
{
    (void)state;
    expect_decode_refused("Zm9v Yg");
    expect_decode_refused("Zm9vYg\n");
    expect_decode_refused(" Zm9v");
    expect_decode_refused("Zm9v\tYmFy");
}

static void test_base64url_noncanonical_trailing_bits_are_refused(void **state)
{
    (void)state;
    expect_decode_refused("Zh");   /* "Zg" with a non-zero unused bit */
    expect_decode_refused("Zm9");  /* "Zm8" likewise */
    expect_decode_refused("Zm9vYh");
}

static void test_base64url_impossible_length_is_refused(void **state)
{
    (void)state;
    expect_decode_refused("Z");
    expect_decode_refused("Zm9vY");
}

static void test_base64url_embedded_nul_is_refused(void **state)
{
    (void)state;
    size_t out_len = 0;
    assert_null(aad_base64url_decode("Zm\0v", 4, 1024, &out_len));
}

static void test_base64url_max_out_is_enforced(void **state)
{
    (void)state;
    size_t out_len = 0;
    unsigned char *dec = aad_base64url_decode("Zm9vYmFy", 8, 6, &out_len);
    assert_non_null(dec);
    assert_int_equal(out_len, 6);
    free(dec);
    assert_null(aad_base64url_decode("Zm9vYmFy", 8, 5, &out_len));
    assert_null(aad_base64url_decode("Zm9vYmE", 7, 4, &out_len));
}

/* ---- aad_is_guid and aad_is_printable_token ----------------------------------------------- */

static void test_guid_accepts_canonical_forms(void **state)
{
    (void)state;
    assert_true(aad_is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
    assert_true(aad_is_guid("72F988BF-86F1-41AF-91AB-2D7CD011DB47"));
    assert_true(aad_is_guid("00000000-0000-0000-0000-000000000000"));
}

static void test_guid_refuses_other_shapes(void **state)
{
    (void)state;
    assert_false(aad_is_guid(NULL));
    assert_false(aad_is_guid(""));
    assert_false(aad_is_guid("72f988bf86f141af91ab2d7cd011db47"));
    assert_false(aad_is_guid("{72f988bf-86f1-41af-91ab-2d7cd011db47}"));
    assert_false(aad_is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4"));
    assert_false(aad_is_guid("72f988bf-86f1-41af-91ab-2d7cd011db477"));
    assert_false(aad_is_guid("72f988bg-86f1-41af-91ab-2d7cd011db47"));
    assert_false(aad_is_guid("72f988bf-86f1-41af-91ab-2d7cd011db4 "));
    assert_false(aad_is_guid("72f988bf_86f1-41af-91ab-2d7cd011db47"));
    assert_false(aad_is_guid("72f988bf-86f141af-91ab-2d7cd011db47-"));
    assert_false(aad_is_guid("contoso.com"));
}

static void test_printable_token_accepts_visible_ascii(void **state)
{
    (void)state;
    assert_true(aad_is_printable_token("ABCD-EFGH", 16));
    assert_true(aad_is_printable_token("https://microsoft.com/devicelogin", 64));
    assert_true(aad_is_printable_token("!~", 2));
}

static void test_printable_token_refuses_others(void **state)
{
    (void)state;
    assert_false(aad_is_printable_token(NULL, 16));
    assert_false(aad_is_printable_token("", 16));
    assert_false(aad_is_printable_token("AB CD", 16));
    assert_false(aad_is_printable_token("ABCD\n", 16));
    assert_false(aad_is_printable_token("\x1b[2J", 16));
    assert_false(aad_is_printable_token("AB\x7f", 16));
    assert_false(aad_is_printable_token("caf\xc3\xa9", 16));
    assert_false(aad_is_printable_token("ABCDE", 4));
    assert_true(aad_is_printable_token("ABCD", 4));
}

/* ---- strict JSON ----------------------------------------------------------------------------- */

static json_t *parse(const char *text)
{
    return aad_json_parse_object(text, strlen(text), 4096);
}

static void test_json_object_is_parsed(void **state)
{
    (void)state;
    json_t *o = parse(" {\"a\": \"x\", \"n\": 42, \"f\": 1.5, \"o\": {\"b\": [1, 2]}} ");
    assert_non_null(o);
    assert_string_equal(aad_json_string(o, "a"), "x");
    assert_null(aad_json_string(o, "n"));
    assert_null(aad_json_string(o, "missing"));
    long long n = 0;
    assert_int_equal(aad_json_integer(o, "n", &n), 1);
    assert_int_equal(n, 42);
    assert_int_equal(aad_json_integer(o, "missing", &n), 0);
    assert_int_equal(aad_json_integer(o, "f", &n), -1);
    assert_int_equal(aad_json_integer(o, "a", &n), -1);
    json_decref(o);
}

static void test_json_duplicate_keys_are_refused(void **state)
{
    (void)state;
    assert_null(parse("{\"a\":1,\"a\":1}"));
    assert_null(parse("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}"));
    assert_null(parse("{\"a\":1,\"b\":[{\"c\":1,\"c\":2}]}"));
    /* Same key after a JSON escape is still the same key. */
    assert_null(parse("{\"a\":1,\"\\u0061\":2}"));
}

static void test_json_trailing_data_is_refused(void **state)
{
    (void)state;
    assert_null(parse("{\"a\":1} x"));
    assert_null(parse("{\"a\":1}{}"));
    assert_null(parse("{\"a\":1},"));
}

static void test_json_non_object_is_refused(void **state)
{
    (void)state;
    assert_null(parse("[]"));
    assert_null(parse("\"a\""));
    assert_null(parse("42"));
    assert_null(parse("null"));
    assert_null(parse(""));
    assert_null(parse("{"));
    assert_null(aad_json_parse_object(NULL, 0, 16));
}

static void test_json_size_limit_is_enforced(void **state)
{
    (void)state;
    const char *text = "{\"a\":\"0123456789\"}"; /* 18 bytes */
    json_t *o = aad_json_parse_object(text, strlen(text), 18);
    assert_non_null(o);
    json_decref(o);
    assert_null(aad_json_parse_object(text, strlen(text), 17));
}

static void test_json_exactly_len_bytes_are_read(void **state)
{
    (void)state;
    const char *text = "{\"a\":1}garbage";
    json_t *o = aad_json_parse_object(text, 7, 4096);
    assert_non_null(o);
    json_decref(o);
}

static void test_json_embedded_nul_is_refused(void **state)
{
    (void)state;
    assert_null(parse("{\"a\":\"x\\u0000y\"}"));
    assert_null(parse("{\"a\\u0000\":1}"));
    /* A raw NUL byte inside the buffer. */
    static const char raw[] = "{\"a\":\"x\0y\"}";
    assert_null(aad_json_parse_object(raw, sizeof(raw) - 1, 4096));
    static const char after[] = "{\"a\":1}\0";
    assert_null(aad_json_parse_object(after, sizeof(after) - 1, 4096));
}

/* ---- status names and wiping ------------------------------------------------------------------ */

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(aad_status_name(AAD_OK), "success");
    assert_string_equal(aad_status_name(AAD_DENIED), "denied");
    assert_string_equal(aad_status_name(AAD_UNAVAILABLE), "unavailable");
    assert_string_equal(aad_status_name(AAD_CONFIG_ERROR), "configuration error");
    assert_string_equal(aad_status_name(AAD_USER_UNKNOWN), "user unknown");
    assert_string_equal(aad_status_name(AAD_IGNORE), "ignored");
}

static void test_fail_fills_the_error(void **state)
{
    (void)state;
    struct aad_error err = {0};
    assert_int_equal(aad_fail(&err, AAD_DENIED, "bad %s %d", "token", 7), AAD_DENIED);
    assert_int_equal(err.status, AAD_DENIED);
    assert_string_equal(err.message, "bad token 7");
    assert_int_equal(aad_fail(NULL, AAD_UNAVAILABLE, "x"), AAD_UNAVAILABLE);
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    aad_fail(&err, AAD_DENIED, "%s", big);
    assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
}

static void test_every_refusal_kind_has_a_sentence(void **state)
{
    (void)state;
    char out[512];
    for (int k = AAD_FAILURE_NONE; k <= AAD_FAILURE_LAST; k++) {
        struct aad_refusal r = {.kind = (enum aad_failure)k, .upn = "bob@contoso.example",
                                .account = "alice"};
        aad_refusal_sentence(&r, out, sizeof(out));
        int silent = k == AAD_FAILURE_NONE || k == AAD_FAILURE_NO_ACCOUNT ||
                     k == AAD_FAILURE_IGNORED || k == AAD_FAILURE_NO_CONVERSATION;
        if (silent != (out[0] == '\0'))
            fail_msg("kind %s: \"%s\"", aad_failure_name((enum aad_failure)k), out);
    }
    struct aad_refusal policy = {.kind = AAD_FAILURE_BLOCKED_BY_POLICY, .aadsts = 53003,
                                 .account = "alice"};
    aad_refusal_sentence(&policy, out, sizeof(out));
    assert_string_equal(out, "Your organization's policy blocked this sign-in (AADSTS53003). "
                             "Contact your administrator.");
    struct aad_refusal wrong = {.kind = AAD_FAILURE_WRONG_ACCOUNT, .upn = "bob@x\033]0;",
                                .account = "alice"};
    aad_refusal_sentence(&wrong, out, sizeof(out));
    assert_string_equal(out, "You signed in as bob@x?]0;; this login is for alice.");
    assert_int_equal(aad_failure_status(AAD_FAILURE_HOST_MISCONFIGURED), AAD_CONFIG_ERROR);
    assert_int_equal(aad_failure_status(AAD_FAILURE_UNAVAILABLE), AAD_UNAVAILABLE);
    assert_int_equal(aad_failure_status(AAD_FAILURE_WRONG_ACCOUNT), AAD_DENIED);
    assert_int_equal(aad_failure_status((enum aad_failure)99), AAD_DENIED); /* fail closed */
}

static void test_a_policy_block_names_the_correlation_id_for_the_helpdesk(void **state)
{
    (void)state;
    char out[512];
    struct aad_refusal r = {.kind = AAD_FAILURE_BLOCKED_BY_POLICY, .aadsts = 53003,
                            .correlation_id = "55137716-1f7e-42e1-b0fa-4d07b8d4896c"};
    aad_refusal_sentence(&r, out, sizeof(out));
    assert_string_equal(out, "Your organization's policy blocked this sign-in (AADSTS53003). "
                             "Contact your administrator (correlation ID "
                             "55137716-1f7e-42e1-b0fa-4d07b8d4896c).");
    r.correlation_id = "x\033[2J"; /* not shown when it is not one printable word */
    aad_refusal_sentence(&r, out, sizeof(out));
    assert_null(strstr(out, "correlation"));
}

static void test_a_clock_refusal_names_the_clock_not_epoch_numbers(void **state)
{
    (void)state;
    char out[512];
    struct aad_refusal r = {.kind = AAD_FAILURE_CLOCK, .clock_offset_s = -600};
    aad_refusal_sentence(&r, out, sizeof(out));
    assert_string_equal(out, "This host's clock is 600 s behind Microsoft's; tell your "
                             "administrator to check its time synchronisation.");
    r.clock_offset_s = 7200;
    aad_refusal_sentence(&r, out, sizeof(out));
    assert_non_null(strstr(out, "7200 s ahead of Microsoft's"));
    assert_int_equal(aad_failure_status(AAD_FAILURE_CLOCK), AAD_CONFIG_ERROR);
    assert_int_equal(aad_failure_status(AAD_FAILURE_CA_FILE), AAD_CONFIG_ERROR);
}

static void test_time_sentences_do_not_say_log_in_again_above_a_new_code(void **state)
{
    (void)state;
    char out[512];
    enum aad_failure kinds[] = {AAD_FAILURE_TIMED_OUT, AAD_FAILURE_EXPIRED};
    for (size_t i = 0; i < 2; i++) {
        struct aad_refusal r = {.kind = kinds[i]};
        aad_refusal_sentence(&r, out, sizeof(out));
        assert_null(strcasestr(out, "log in again"));
        assert_non_null(strstr(out, "nobody was logged in"));
    }
}

static void test_only_blocks_the_user_cannot_change_repeat(void **state)
{
    (void)state;
    assert_true(aad_refusal_repeats(AAD_FAILURE_BLOCKED_BY_POLICY, 53003));
    assert_true(aad_refusal_repeats(AAD_FAILURE_BLOCKED_BY_POLICY, 530033));
    assert_false(aad_refusal_repeats(AAD_FAILURE_BLOCKED_BY_POLICY, 50076)); /* MFA: do it */
    assert_false(aad_refusal_repeats(AAD_FAILURE_DECLINED, 0));
    assert_false(aad_refusal_repeats(AAD_FAILURE_TIMED_OUT, 0));
}

/* sshd's next attempt (another process of the same connection) learns
 * why the last one was refused; only once, and only for the same account. */
static void test_the_last_refusal_is_recalled_once_for_the_same_account(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* runtime_dir records are root's */
    char dir[] = "/tmp/aad-last-refusal.XXXXXX", name[64], rm[128];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(aad_last_refusal_name(name, sizeof(name)), 0);
    struct aad_last_refusal r = {.kind = AAD_FAILURE_BLOCKED_BY_POLICY, .aadsts = 53003},
                            got;
    snprintf(r.account, sizeof(r.account), "alice");
    snprintf(r.upn, sizeof(r.upn), "alice@contoso.example");
    snprintf(r.correlation_id, sizeof(r.correlation_id), "55137716-1f7e-42e1-b0fa-4d07b8d4896c");
    struct aad_error err = {0};
    assert_int_equal(aad_last_refusal_put(dir, name, &r, &err), AAD_OK);
    assert_int_equal(aad_last_refusal_take(dir, name, "bob", &got, &err), AAD_USER_UNKNOWN);
    assert_int_equal(aad_last_refusal_put(dir, name, &r, &err), AAD_OK);
    assert_int_equal(aad_last_refusal_take(dir, name, "alice", &got, &err), AAD_OK);
    assert_int_equal(got.kind, AAD_FAILURE_BLOCKED_BY_POLICY);
    assert_int_equal(got.aadsts, 53003);
    assert_string_equal(got.upn, "alice@contoso.example");
    assert_string_equal(got.correlation_id, r.correlation_id);
    assert_int_equal(aad_last_refusal_take(dir, name, "alice", &got, &err), AAD_USER_UNKNOWN);
    /* A record of a connection whose sshd is gone is forgotten at the next put. */
    assert_int_equal(aad_last_refusal_put(dir, "999999999-1", &r, &err), AAD_OK);
    assert_int_equal(aad_last_refusal_put(dir, name, &r, &err), AAD_OK);
    assert_int_equal(aad_last_refusal_take(dir, "999999999-1", "alice", &got, &err),
                     AAD_USER_UNKNOWN);
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

/* ssh prints "(user@host) " before a prompt's first line: the first line
 * of a sentence leaves room for it, the others use the whole width. */
static void test_the_first_line_leaves_room_for_the_ssh_prefix(void **state)
{
    (void)state;
    char text[] = "Microsoft Entra ID cannot be reached; using the next sign-in method.";
    aad_refusal_wrap_first(text, 50, 79);
    assert_string_equal(text, "Microsoft Entra ID cannot be reached; using the\nnext sign-in method.");
    const char *prefix = "(aaduser@web-07.contoso.example) ";
    assert_true(strlen(prefix) + strlen("Microsoft Entra ID cannot be reached; using the") <= 80);
}

static void test_sentences_wrap_at_spaces_for_80_columns(void **state)
{
    (void)state;
    char text[] = "Your organization's policy blocked this sign-in (AADSTS53003). Contact your "
                  "administrator.";
    aad_refusal_wrap(text, 79);
    assert_string_equal(text, "Your organization's policy blocked this sign-in (AADSTS53003). "
                              "Contact your\nadministrator.");
    char url[] = "https://login.microsoft.com/device/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    aad_refusal_wrap(url, 20);
    assert_null(strchr(url, '\n')); /* a word longer than the line stays whole */
}

static void test_wipe_zeroes_memory(void **state)
{
    (void)state;
    char secret[] = "device-code-secret";
    aad_wipe(secret, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++)
        assert_int_equal(secret[i], 0);
    aad_wipe(NULL, 10);
    aad_free_secret(NULL);
    aad_free_secret(strdup("token"));
}

/* ---- QR --------------------------------------------------------------------------------------- */

/* Columns of a line of UTF-8 text: one per code point. */
static size_t columns(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    }
    return n;
}

static void test_qr_of_verification_url_fits_80_columns(void **state)
{
    (void)state;
    char *qr = aad_qr_render("https://microsoft.com/devicelogin");
    if (!aad_qr_available()) {
        assert_null(qr); /* built without libqrencode */
        return;
    }
    assert_non_null(qr);
    size_t len = strlen(qr);
    assert_true(len > 0);
    assert_int_equal(qr[len - 1], '\n');
    size_t lines = 0, width = 0;
    for (const char *line = qr; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        size_t w = columns(line, (size_t)(nl - line));
        assert_true(w <= AAD_QR_MAX_COLUMNS);
        if (lines == 0)
            width = w;
        assert_int_equal(w, width); /* a rectangle */
        lines++;
        line = nl + 1;
    }
    /* Two modules per line keep it square: width ~ 2 x lines. */
    assert_true(width >= 21);
    assert_true(lines == (width + 1) / 2);
    free(qr);
}

static void test_qr_of_2000_characters_is_refused(void **state)
{
    (void)state;
    char *text = malloc(2001);
    memset(text, 'a', 2000);
    text[2000] = '\0';
    assert_null(aad_qr_render(text));
    free(text);
}

static void test_loggable_cannot_forge_a_log_field(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(aad_loggable("alice\nresult=success", buf, sizeof(buf)),
                        "alice?result?su"); /* cut to 15 */
    assert_string_equal(aad_loggable("caf\xc3\xa9 x", buf, sizeof(buf)), "caf???x");
    assert_string_equal(aad_loggable(NULL, buf, sizeof(buf)), "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64url_rfc4648_vectors),
        cmocka_unit_test(test_base64url_uses_url_alphabet),
        cmocka_unit_test(test_base64url_round_trips_all_lengths_and_bytes),
        cmocka_unit_test(test_base64url_padding_is_refused),
        cmocka_unit_test(test_base64url_standard_alphabet_is_refused),
        cmocka_unit_test(test_base64url_whitespace_is_refused),
        cmocka_unit_test(test_base64url_noncanonical_trailing_bits_are_refused),
        cmocka_unit_test(test_base64url_impossible_length_is_refused),
        cmocka_unit_test(test_base64url_embedded_nul_is_refused),
        cmocka_unit_test(test_base64url_max_out_is_enforced),
        cmocka_unit_test(test_guid_accepts_canonical_forms),
        cmocka_unit_test(test_guid_refuses_other_shapes),
        cmocka_unit_test(test_printable_token_accepts_visible_ascii),
        cmocka_unit_test(test_printable_token_refuses_others),
        cmocka_unit_test(test_json_object_is_parsed),
        cmocka_unit_test(test_json_duplicate_keys_are_refused),
        cmocka_unit_test(test_json_trailing_data_is_refused),
        cmocka_unit_test(test_json_non_object_is_refused),
        cmocka_unit_test(test_json_size_limit_is_enforced),
        cmocka_unit_test(test_json_exactly_len_bytes_are_read),
        cmocka_unit_test(test_json_embedded_nul_is_refused),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_fail_fills_the_error),
        cmocka_unit_test(test_every_refusal_kind_has_a_sentence),
        cmocka_unit_test(test_a_policy_block_names_the_correlation_id_for_the_helpdesk),
        cmocka_unit_test(test_a_clock_refusal_names_the_clock_not_epoch_numbers),
        cmocka_unit_test(test_time_sentences_do_not_say_log_in_again_above_a_new_code),
        cmocka_unit_test(test_only_blocks_the_user_cannot_change_repeat),
        cmocka_unit_test(test_the_last_refusal_is_recalled_once_for_the_same_account),
        cmocka_unit_test(test_the_first_line_leaves_room_for_the_ssh_prefix),
        cmocka_unit_test(test_sentences_wrap_at_spaces_for_80_columns),
        cmocka_unit_test(test_wipe_zeroes_memory),
        cmocka_unit_test(test_loggable_cannot_forge_a_log_field),
        cmocka_unit_test(test_qr_of_verification_url_fits_80_columns),
        cmocka_unit_test(test_qr_of_2000_characters_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
