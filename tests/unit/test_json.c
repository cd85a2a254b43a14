/* test_json.c - untrusted JSON (src/login/aad_json.c): jansson with
 * JSON_REJECT_DUPLICATES and no JSON_ALLOW_NUL, plus our own size bound,
 * object-at-top-level and nesting bound. Every refusal a verifier relies on
 * is tested here, whether jansson or the checks around it enforce it, and
 * the real Entra ID documents in tests/fixtures/entra-real go through it and
 * through the parsers built on it. */
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
#include "aad_json.h"
#include "aad_jwt.h"
#include "aad_keys.h"

#ifndef ENTRA_REAL_DIR
#error "ENTRA_REAL_DIR must name tests/fixtures/entra-real"
#endif

static json_t *parse(const char *text)
{
    return aad_json_parse_object(text, strlen(text), 1 << 20);
}

static void refused(const char *text)
{
    json_t *v = parse(text);
    if (v != NULL)
        fail_msg("accepted: %s", text);
}

static void refused_n(const char *text, size_t len)
{
    json_t *v = aad_json_parse_object(text, len, 1 << 20);
    if (v != NULL)
        fail_msg("accepted %zu bytes starting %.8s", len, text);
}

/* "{"a": + depth-1 brackets + "}" : the top-level object is depth 1. */
static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 16);
    assert_non_null(s);
    size_t n = (size_t)sprintf(s, "{\"a\":");
    for (int i = 1; i < depth; i++)
        s[n++] = '[';
    for (int i = 1; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void test_accepted_documents_keep_their_values(void **state)
{
    (void)state;
    json_t *v = parse(" {\"a\" : 1 , \"b\":[true,false,null,-0,0.5,-12.25e3,1E2,\"x\"],\"o\":{}}\n");
    assert_non_null(v);
    long long i = 0;
    assert_int_equal(aad_json_integer(v, "a", &i), 1);
    assert_int_equal(i, 1);
    assert_int_equal(aad_json_integer(v, "b", &i), -1);
    assert_int_equal(aad_json_integer(v, "missing", &i), 0);
    json_t *b = json_object_get(v, "b");
    assert_int_equal(json_array_size(b), 8);
    assert_true(json_is_true(json_array_get(b, 0)));
    assert_true(json_is_null(json_array_get(b, 2)));
    assert_true(json_real_value(json_array_get(b, 5)) == -12250.0);
    assert_string_equal(json_string_value(json_array_get(b, 7)), "x");
    json_decref(v);

    v = parse("{\"esc\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u20ac\","
              "\"pair\":\"\\ud83d\\ude00\",\"utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    assert_non_null(v);
    assert_string_equal(aad_json_string(v, "esc"), "\" \\ / \b \f \n \r \t \xc3\xa9 \xe2\x82\xac");
    assert_string_equal(aad_json_string(v, "pair"), "\xf0\x9f\x98\x80");
    assert_string_equal(aad_json_string(v, "utf8"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_null(aad_json_string(v, "missing"));
    json_decref(v);

    v = parse("{\"big\":9223372036854775807,\"small\":-9223372036854775808}");
    assert_non_null(v);
    assert_int_equal(aad_json_integer(v, "big", &i), 1);
    assert_true(i == INT64_MAX);
    assert_int_equal(aad_json_integer(v, "small", &i), 1);
    assert_true(i == INT64_MIN);
    json_decref(v);
}

static void test_top_level_must_be_one_object(void **state)
{
    (void)state;
    refused("[]");
    refused("[{}]");
    refused("\"text\"");
    refused("1");
    refused("null");
    refused("{} {}");
    refused("{}x");
    refused("");
    refused("   ");
    assert_null(aad_json_parse_object(NULL, 0, 100));
}

static void test_duplicate_keys_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":1,\"a\":2}");
    refused("{\"o\":{\"k\":1,\"k\":1}}");
    refused("{\"l\":[{\"k\":1,\"k\":2}]}");
    /* The same key spelled with an escape is still the same key. */
    refused("{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}");
}

static void test_nul_and_control_characters_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"x\\u0000y\"}");
    refused("{\"a\\u0000\":1}");
    refused("{\"a\":\"tab\there\"}");
    refused("{\"a\":\"new\nline\"}");
    /* A raw NUL byte, in a value, in a key and between tokens; jansson 2.14
     * alone skips one right after a number or a literal. */
    static const char *const with_nul[] = {"{\"a\":\"x\0y\"}", "{\"a\0b\":1}", "{\"a\":1\0}",
                                           "{\"a\":true\0}", "{\"a\":[null\0]}", "{\0\"a\":1}"};
    static const size_t with_nul_len[] = {11, 10, 8, 11, 13, 8};
    for (size_t i = 0; i < sizeof(with_nul) / sizeof(with_nul[0]); i++)
        refused_n(with_nul[i], with_nul_len[i]);
}

static void test_invalid_utf8_is_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\xc0\xaf\"}");         /* overlong '/' */
    refused("{\"a\":\"\xe0\x80\xaf\"}");     /* overlong, 3 bytes */
    refused("{\"a\":\"\xed\xa0\x80\"}");     /* encoded surrogate */
    refused("{\"a\":\"\xf4\x90\x80\x80\"}"); /* above U+10FFFF */
    refused("{\"a\":\"\xff\"}");
    refused("{\"a\":\"\xc3\"}");             /* truncated */
    refused("{\"\xc3\x28\":1}");             /* in a key */
}

static void test_lone_surrogates_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\\ud800\"}");
    refused("{\"a\":\"\\udc00\"}");
    refused("{\"a\":\"\\ud800\\u0041\"}");
    refused("{\"a\":\"\\ude00\\ud83d\"}"); /* a pair in the wrong order */
    refused("{\"\\ud800\":1}");
}

static void test_bad_escapes_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\\x41\"}");
    refused("{\"a\":\"\\u12\"}");
    refused("{\"a\":\"\\u12G4\"}");
    refused("{\"a\":\"\\\"}");
}

static void test_number_grammar_is_strict(void **state)
{
    (void)state;
    refused("{\"a\":01}");
    refused("{\"a\":+1}");
    refused("{\"a\":1.}");
    refused("{\"a\":.5}");
    refused("{\"a\":1e}");
    refused("{\"a\":-}");
    refused("{\"a\":NaN}");
    refused("{\"a\":Infinity}");
    refused("{\"a\":0x10}");
}

static void test_integers_beyond_64_bits_are_refused(void **state)
{
    (void)state;
    refused("{\"exp\":9223372036854775808}");
    refused("{\"exp\":-9223372036854775809}");
    refused("{\"exp\":99999999999999999999999999}");
    refused("{\"exp\":1e999}");
}

static void test_syntax_errors_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":1,}");
    refused("{\"a\" 1}");
    refused("{a:1}");
    refused("{'a':1}");
    refused("{\"a\":[1,]}");
    refused("{\"a\":[1 2]}");
    refused("{\"a\":tru}");
    refused("{\"a\":nul}");
    refused("{\"a\":1");
    refused("{\"a\":\"unterminated}");
    refused("\xef\xbb\xbf{}"); /* a byte-order mark */
}

static void test_nesting_is_bounded(void **state)
{
    (void)state;
    /* Depth 64 (the top-level object counts) is the most accepted. */
    char *s = nested(64);
    json_t *v = parse(s);
    assert_non_null(v);
    json_decref(v);
    free(s);
    s = nested(65);
    refused(s);
    free(s);
    /* An object at depth 65 too, not only arrays. */
    char objs[512];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(objs + n, sizeof(objs) - n, "{\"k\":");
    n += (size_t)snprintf(objs + n, sizeof(objs) - n, "1");
    for (int i = 0; i < 65; i++)
        objs[n++] = '}';
    objs[n] = '\0';
    refused(objs);
    /* Far beyond jansson's own compile-time limit (2048): refused, no crash. */
    s = nested(100000);
    refused(s);
    free(s);
}

static void test_size_limit_is_enforced(void **state)
{
    (void)state;
    const char *text = "{\"a\":\"0123456789\"}";
    json_t *v = aad_json_parse_object(text, strlen(text), strlen(text) - 1);
    assert_null(v);
    v = aad_json_parse_object(text, strlen(text), strlen(text));
    assert_non_null(v);
    json_decref(v);
}

static void test_length_not_nul_ends_the_input(void **state)
{
    (void)state;
    const char text[] = "{\"a\":1}\0{\"b\":2}";
    assert_null(aad_json_parse_object(text, sizeof(text) - 1, 100));
    json_t *v = aad_json_parse_object(text, 7, 100);
    assert_non_null(v);
    json_decref(v);
    /* Not NUL-terminated at len: nothing past len is read. */
    const char cut[] = "{\"a\":1}garbage";
    v = aad_json_parse_object(cut, 7, 100);
    assert_non_null(v);
    json_decref(v);
}

/* ---- real Entra ID documents ------------------------------------------- */

static char *fixture(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", ENTRA_REAL_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    char *copy = strdup(buf);
    assert_non_null(copy);
    *len = n;
    return copy;
}

static json_t *fixture_object(const char *name, size_t max)
{
    size_t len;
    char *text = fixture(name, &len);
    json_t *v = aad_json_parse_object(text, len, max);
    if (v == NULL)
        fail_msg("%s does not parse", name);
    free(text);
    return v;
}

static void test_real_entra_documents_parse(void **state)
{
    (void)state;
    struct aad_error err;
    size_t len;

    /* Both key sets, through the key-set parser. */
    static const char *const jwks[] = {"panva_entra-common_jwks.json", "jose4j_v2_jwks.json"};
    for (size_t i = 0; i < sizeof(jwks) / sizeof(jwks[0]); i++) {
        char *text = fixture(jwks[i], &len);
        struct aad_keyset *set = NULL;
        if (aad_keyset_parse(text, len, &set, &err) != AAD_OK)
            fail_msg("%s: %s", jwks[i], err.message);
        assert_true(set->count > 0);
        aad_keyset_free(set);
        free(text);
    }

    /* The common discovery document (a {tenantid} template issuer, which
     * aad_discovery_parse refuses by design: JSON-level only). */
    json_t *v = fixture_object("panva_entra-common_openid-configuration.json", AAD_KEYS_MAX_BODY);
    assert_non_null(aad_json_string(v, "issuer"));
    assert_non_null(aad_json_string(v, "jwks_uri"));
    json_decref(v);

    /* The device authorization answer, through its parser. */
    char *text = fixture("azure-sdk-go_v2_devicecode.json", &len);
    struct aad_device_code dc;
    memset(&dc, 0, sizeof(dc));
    if (aad_devflow_parse_code(200, 1, text, len, &dc, &err) != AAD_OK)
        fail_msg("device code answer: %s", err.message);
    assert_string_equal(dc.user_code, "BKG99ZAF3");
    assert_int_equal(dc.interval, 5);
    aad_device_code_clear(&dc);
    free(text);

    /* Error bodies. */
    v = fixture_object("ps_comment_authorization_pending_70016.json", AAD_HTTP_MAX_BODY);
    assert_string_equal(aad_json_string(v, "error"), "authorization_pending");
    json_decref(v);
    v = fixture_object("azure-sdk-js_recording_invalid_grant_50173.json", AAD_HTTP_MAX_BODY);
    assert_string_equal(aad_json_string(v, "error"), "invalid_grant");
    json_decref(v);

    /* The real ID token: header and claims parse, its signature verifies with
     * its tenant's key and its claims pass at a time inside its lifetime. */
    char *token = fixture("jose4j_v2_id_token.jwt", &len);
    char *keys = fixture("jose4j_v2_jwks.json", &len);
    struct aad_keyset *set = NULL;
    struct aad_jwt *jwt = NULL;
    assert_int_equal(aad_keyset_parse(keys, len, &set, &err), AAD_OK);
    if (aad_jwt_parse(token, &jwt, &err) != AAD_OK)
        fail_msg("ID token: %s", err.message);
    const struct aad_key *key = aad_keyset_find(set, jwt->kid);
    assert_non_null(key);
    if (aad_jwt_verify_signature(jwt, key, &err) != AAD_OK)
        fail_msg("ID token signature: %s", err.message);
    struct aad_jwt_expect x = {
        "https://login.microsoftonline.com/30aa0e58-719c-44f0-b5bb-e131f1f68ab3/v2.0",
        "30aa0e58-719c-44f0-b5bb-e131f1f68ab3", "6914484a-38ea-4a0b-801a-bb924cef5235",
        1470148361 + 60, 300};
    if (aad_jwt_check_claims(jwt, key, &x, &err) != AAD_OK)
        fail_msg("ID token claims: %s", err.message);
    aad_jwt_free(jwt);
    aad_keyset_free(set);
    free(keys);
    free(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_documents_keep_their_values),
        cmocka_unit_test(test_top_level_must_be_one_object),
        cmocka_unit_test(test_duplicate_keys_are_refused),
        cmocka_unit_test(test_nul_and_control_characters_are_refused),
        cmocka_unit_test(test_invalid_utf8_is_refused),
        cmocka_unit_test(test_lone_surrogates_are_refused),
        cmocka_unit_test(test_bad_escapes_are_refused),
        cmocka_unit_test(test_number_grammar_is_strict),
        cmocka_unit_test(test_integers_beyond_64_bits_are_refused),
        cmocka_unit_test(test_syntax_errors_are_refused),
        cmocka_unit_test(test_nesting_is_bounded),
        cmocka_unit_test(test_size_limit_is_enforced),
        cmocka_unit_test(test_length_not_nul_ends_the_input),
        cmocka_unit_test(test_real_entra_documents_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
