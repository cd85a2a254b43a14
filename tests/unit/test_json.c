/* test_json.c - the strict JSON reader (src/aad_json.c): RFC 8259 plus the
 * rules a token verifier needs, and the same trees as jansson builds for
 * every document both accept. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "aad_json.h"

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

/* Parses with both readers and requires identical trees. */
static void same_as_jansson(const char *text)
{
    json_t *ours = parse(text);
    json_t *theirs = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (ours == NULL || theirs == NULL || !json_equal(ours, theirs))
        fail_msg("differs from jansson: %s", text);
    json_decref(ours);
    json_decref(theirs);
}

static void test_documents_match_jansson(void **state)
{
    (void)state;
    same_as_jansson("{}");
    same_as_jansson(" {\"a\" : 1 , \"b\":[true,false,null,-0,0.5,-12.25e3,1E2,\"x\"]}\n");
    same_as_jansson("{\"nested\":{\"deeper\":{\"list\":[[],[{}],[1,[2,[3]]]]}}}");
    same_as_jansson("{\"esc\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u20ac\"}");
    same_as_jansson("{\"pair\":\"\\ud83d\\ude00\",\"utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    same_as_jansson("{\"big\":9223372036854775807,\"small\":-9223372036854775808}");
    same_as_jansson("{\"exp\":1716203600,\"aud\":[\"a\",\"b\"],\"groups\":[]}");
}

static void test_top_level_must_be_one_object(void **state)
{
    (void)state;
    refused("[]");
    refused("\"text\"");
    refused("1");
    refused("{} {}");
    refused("{}x");
    refused("");
    refused("   ");
}

static void test_duplicate_keys_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":1,\"a\":2}");
    refused("{\"o\":{\"k\":1,\"k\":1}}");
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
}

static void test_invalid_utf8_is_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\xc0\xaf\"}");         /* overlong '/' */
    refused("{\"a\":\"\xe0\x80\xaf\"}");     /* overlong, 3 bytes */
    refused("{\"a\":\"\xed\xa0\x80\"}");     /* encoded surrogate */
    refused("{\"a\":\"\xf4\x90\x80\x80\"}"); /* above U+10FFFF */
    refused("{\"a\":\"\xff\"}");
    refused("{\"a\":\"\xc3\"}");              /* truncated */
}

static void test_lone_surrogates_are_refused(void **state)
{
    (void)state;
    refused("{\"a\":\"\\ud800\"}");
    refused("{\"a\":\"\\udc00\"}");
    refused("{\"a\":\"\\ud800\\u0041\"}");
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
}

static void test_nesting_is_bounded(void **state)
{
    (void)state;
    char deep[400], ok[200];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    refused(deep);
    n = (size_t)snprintf(ok, sizeof(ok), "{\"a\":");
    for (int i = 0; i < 30; i++)
        ok[n++] = '[';
    for (int i = 0; i < 30; i++)
        ok[n++] = ']';
    ok[n++] = '}';
    ok[n] = '\0';
    same_as_jansson(ok);
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents_match_jansson),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
