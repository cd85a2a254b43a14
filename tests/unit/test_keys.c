/* test_keys.c - aad_keyset_parse, aad_keyset_find and aad_discovery_parse. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aad_keys.h"
#include "aad_trust.h"
#include "token_maker.h"
#include "unit_support.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define AUTHORITY "https://login.microsoftonline.com"
#define ISSUER AUTHORITY "/" TENANT "/v2.0"
#define TEMPLATE_ISSUER AUTHORITY "/{tenantid}/v2.0"

static EVP_PKEY *key;       /* RSA-2048 */
static EVP_PKEY *key2;      /* another RSA-2048 */
static EVP_PKEY *small_key; /* RSA-1024 */

static int group_setup(void **state)
{
    (void)state;
    key = tm_generate_rsa(2048);
    key2 = tm_generate_rsa(2048);
    small_key = tm_generate_rsa(1024);
    return key && key2 && small_key ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
    EVP_PKEY_free(small_key);
    return 0;
}


/* Parses {"keys": arr} (arr consumed). */
static enum aad_status parse_keys(json_t *arr, struct aad_keyset **out, struct aad_error *err)
{
    char *text = tm_jwks_text(arr);
    json_decref(arr);
    assert_non_null(text);
    *out = NULL;
    enum aad_status st = aad_keyset_parse(text, strlen(text), out, err);
    free(text);
    return st;
}

static enum aad_status parse_text(const char *text, struct aad_keyset **out, struct aad_error *err)
{
    *out = NULL;
    return aad_keyset_parse(text, strlen(text), out, err);
}

/* A set of one good key "good" plus the given extra entry (consumed): the
 * entry must be skipped, leaving exactly "good". */
static void expect_entry_skipped(json_t *entry)
{
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "good", TEMPLATE_ISSUER));
    json_array_append_new(arr, entry);
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_int_equal(set->count, 1);
    assert_int_equal(set->skipped, 1);
    assert_string_equal(set->keys[0].kid, "good");
    aad_keyset_free(set);
}

/* The same entry alone must make the set unusable. */
static void expect_entry_alone_unusable(json_t *entry)
{
    json_t *arr = json_array();
    json_array_append_new(arr, entry);
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
    assert_message_has(err, "no usable RSA key");
}

static json_t *jwk_with(const char *kid, const char *member, json_t *value)
{
    json_t *jwk = tm_jwk(key2, kid, TEMPLATE_ISSUER);
    if (value == NULL)
        json_object_del(jwk, member);
    else
        json_object_set_new(jwk, member, value);
    return jwk;
}

/* ---- good keys ---------------------------------------------------------------------- */

static void test_good_key_is_parsed(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "Mc7l3Iz93g7uwgNeEmmw_WYGPko", TEMPLATE_ISSUER));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_non_null(set);
    assert_int_equal(set->count, 1);
    assert_int_equal(set->skipped, 0);
    assert_string_equal(set->keys[0].kid, "Mc7l3Iz93g7uwgNeEmmw_WYGPko");
    assert_string_equal(set->keys[0].issuer, TEMPLATE_ISSUER);
    const struct aad_key *k = aad_keyset_find(set, "Mc7l3Iz93g7uwgNeEmmw_WYGPko");
    assert_non_null(k);
    assert_non_null(k->pkey);
    assert_int_equal(EVP_PKEY_get_bits(k->pkey), 2048);
    assert_int_equal(EVP_PKEY_eq(k->pkey, key), 1);
    aad_keyset_free(set);
}

static void test_key_without_issuer_has_null_issuer(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "k1", NULL));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_null(set->keys[0].issuer);
    aad_keyset_free(set);
}

static void test_key_without_use_and_with_alg_rs256_is_parsed(void **state)
{
    (void)state;
    json_t *jwk = tm_jwk(key, "k1", NULL);
    json_object_del(jwk, "use");
    json_object_set_new(jwk, "alg", json_string("RS256"));
    json_t *arr = json_array();
    json_array_append_new(arr, jwk);
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_int_equal(set->count, 1);
    aad_keyset_free(set);
}

static void test_several_keys_are_all_parsed(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "k1", TEMPLATE_ISSUER));
    json_array_append_new(arr, tm_jwk(key2, "k2", TEMPLATE_ISSUER));
    json_array_append_new(arr, tm_jwk(key, "k3", ISSUER));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_int_equal(set->count, 3);
    assert_int_equal(set->skipped, 0);
    aad_keyset_free(set);
}

static void test_max_keys_are_accepted(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i < AAD_KEYS_MAX_KEYS; i++) {
        char kid[16];
        snprintf(kid, sizeof(kid), "k%d", i);
        json_array_append_new(arr, tm_jwk(key, kid, NULL));
    }
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_int_equal(set->count, AAD_KEYS_MAX_KEYS);
    aad_keyset_free(set);
}

/* ---- skipped keys --------------------------------------------------------------------- */

static void test_ec_key_is_skipped(void **state)
{
    (void)state;
    json_t *ec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "use", "sig", "kid",
                           "ec1", "crv", "P-256", "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                           "y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
    expect_entry_skipped(json_deep_copy(ec));
    expect_entry_alone_unusable(ec);
}

static void test_rsa_key_labelled_ec_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(jwk_with("k2", "kty", json_string("EC")));
    expect_entry_skipped(jwk_with("k2", "kty", json_string("rsa")));
    expect_entry_skipped(jwk_with("k2", "kty", NULL));
}

static void test_use_enc_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(jwk_with("k2", "use", json_string("enc")));
    expect_entry_skipped(jwk_with("k2", "use", json_integer(1)));
    expect_entry_alone_unusable(jwk_with("k2", "use", json_string("enc")));
}

static void test_rsa_1024_bit_key_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(tm_jwk(small_key, "small", TEMPLATE_ISSUER));
    expect_entry_alone_unusable(tm_jwk(small_key, "small", TEMPLATE_ISSUER));
}

static void test_missing_kid_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(tm_jwk(key2, NULL, TEMPLATE_ISSUER));
    expect_entry_skipped(jwk_with("k2", "kid", json_integer(2)));
    expect_entry_skipped(jwk_with("k2", "kid", json_string("")));
    expect_entry_skipped(jwk_with("k2", "kid", json_string("two words")));
}

static void test_duplicate_kid_drops_both_keys(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "good", NULL));
    json_array_append_new(arr, tm_jwk(key, "twice", NULL));
    json_array_append_new(arr, tm_jwk(key2, "twice", NULL));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_int_equal(set->count, 1);
    assert_int_equal(set->skipped, 2);
    assert_null(aad_keyset_find(set, "twice"));
    assert_non_null(aad_keyset_find(set, "good"));
    aad_keyset_free(set);
}

static void test_duplicate_kid_only_is_unusable(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "twice", NULL));
    json_array_append_new(arr, tm_jwk(key, "twice", NULL));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
}

static void test_alg_other_than_rs256_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(jwk_with("k2", "alg", json_string("RS384")));
    expect_entry_skipped(jwk_with("k2", "alg", json_string("PS256")));
    expect_entry_skipped(jwk_with("k2", "alg", json_string("HS256")));
    expect_entry_skipped(jwk_with("k2", "alg", json_null()));
}

static void test_even_exponent_is_skipped(void **state)
{
    (void)state;
    char *e = tm_b64url("\x01\x00\x00", 3); /* 65536 */
    expect_entry_skipped(jwk_with("k2", "e", json_string(e)));
    free(e);
    expect_entry_skipped(jwk_with("k2", "e", json_string("Ag"))); /* 2 */
}

static void test_exponent_1_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(jwk_with("k2", "e", json_string("AQ")));
    expect_entry_alone_unusable(jwk_with("k2", "e", json_string("AQ")));
}

static void test_exponent_3_is_accepted(void **state)
{
    (void)state;
    /* Only the public value is parsed: e = 3 is a valid RSA exponent. */
    json_t *arr = json_array();
    json_array_append_new(arr, jwk_with("k2", "e", json_string("Aw")));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_int_equal(set->count, 1);
    aad_keyset_free(set);
}

static void test_bad_modulus_or_exponent_encoding_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(jwk_with("k2", "n", NULL));
    expect_entry_skipped(jwk_with("k2", "e", NULL));
    expect_entry_skipped(jwk_with("k2", "e", json_string("AQAB=")));
    expect_entry_skipped(jwk_with("k2", "e", json_integer(65537)));
    expect_entry_skipped(jwk_with("k2", "e", json_string("")));
    json_t *jwk = tm_jwk(key2, "k2", NULL);
    char *n = strdup(json_string_value(json_object_get(jwk, "n")));
    n[3] = '+';
    json_object_set_new(jwk, "n", json_string(n));
    free(n);
    expect_entry_skipped(jwk);
}

/* A JWK whose modulus is bytes bytes of 0xc5 (odd, top bit set): only the
 * public value is imported, so it need not be a real RSA modulus. */
static json_t *jwk_with_modulus_bytes(size_t bytes)
{
    unsigned char *n = malloc(bytes);
    memset(n, 0xc5, bytes);
    char *n64 = tm_b64url(n, bytes);
    json_t *jwk = jwk_with("big", "n", json_string(n64));
    free(n);
    free(n64);
    return jwk;
}

static void test_rsa_8192_bit_modulus_is_accepted(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, jwk_with_modulus_bytes(1024));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    const struct aad_key *k = aad_keyset_find(set, "big");
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_bits(k->pkey), 8192);
    aad_keyset_free(set);
}

static void test_modulus_above_8192_bits_is_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(jwk_with_modulus_bytes(1025));
}

static void test_modulus_just_below_2048_bits_is_skipped(void **state)
{
    (void)state;
    json_t *jwk = jwk_with_modulus_bytes(256);
    /* 0x45 as the top byte: 2047 bits */
    unsigned char n[256];
    memset(n, 0xc5, sizeof(n));
    n[0] = 0x45;
    char *n64 = tm_b64url(n, sizeof(n));
    json_object_set_new(jwk, "n", json_string(n64));
    free(n64);
    expect_entry_skipped(jwk);
}

static void test_non_object_entries_are_skipped(void **state)
{
    (void)state;
    expect_entry_skipped(json_string("a key"));
    expect_entry_skipped(json_null());
    expect_entry_skipped(json_array());
}

/* ---- whole-set errors -------------------------------------------------------------------- */

static void test_empty_set_is_an_error(void **state)
{
    (void)state;
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_text("{\"keys\":[]}", &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
    assert_message_has(err, "no usable RSA key");
}

static void test_not_json_is_an_error(void **state)
{
    (void)state;
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_text("<html>keys</html>", &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
    assert_message_has(err, "not a valid JWKS");
    assert_status(parse_text("", &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
}

static void test_keys_not_an_array_is_an_error(void **state)
{
    (void)state;
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_text("{\"keys\":{}}", &set, &err), AAD_UNAVAILABLE, err);
    assert_message_has(err, "not a valid JWKS");
    assert_status(parse_text("{\"keys\":\"x\"}", &set, &err), AAD_UNAVAILABLE, err);
    assert_status(parse_text("{\"key\":[]}", &set, &err), AAD_UNAVAILABLE, err);
    assert_status(parse_text("[{\"keys\":[]}]", &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
}

static void test_duplicate_member_in_jwks_is_an_error(void **state)
{
    (void)state;
    json_t *jwk = tm_jwk(key, "k1", NULL);
    char *one = tm_dump(jwk);
    json_decref(jwk);
    size_t n = 2 * strlen(one) + 64;
    char *text = malloc(n);
    snprintf(text, n, "{\"keys\":[%s],\"keys\":[]}", one);
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_text(text, &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
    free(text);
    free(one);
}

static void test_more_than_max_keys_is_an_error(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i < AAD_KEYS_MAX_KEYS + 1; i++) {
        char kid[16];
        snprintf(kid, sizeof(kid), "k%d", i);
        json_array_append_new(arr, tm_jwk(key, kid, NULL));
    }
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
    assert_message_has(err, "too many keys");
}

static void test_document_larger_than_max_body_is_an_error(void **state)
{
    (void)state;
    json_t *jwk = tm_jwk(key, "k1", NULL);
    char *one = tm_dump(jwk);
    json_decref(jwk);
    size_t n = AAD_KEYS_MAX_BODY + 1024;
    char *text = malloc(n);
    int len = snprintf(text, n, "{\"keys\":[%s],\"pad\":\"", one);
    memset(text + len, 'x', AAD_KEYS_MAX_BODY);
    strcpy(text + len + AAD_KEYS_MAX_BODY, "\"}");
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_text(text, &set, &err), AAD_UNAVAILABLE, err);
    assert_null(set);
    free(text);
    free(one);
}

/* ---- aad_keyset_find ------------------------------------------------------------------------ */

static void test_keyset_find_by_kid(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "k1", NULL));
    json_array_append_new(arr, tm_jwk(key2, "k2", NULL));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    const struct aad_key *k1 = aad_keyset_find(set, "k1");
    const struct aad_key *k2 = aad_keyset_find(set, "k2");
    assert_non_null(k1);
    assert_non_null(k2);
    assert_int_equal(EVP_PKEY_eq(k1->pkey, key), 1);
    assert_int_equal(EVP_PKEY_eq(k2->pkey, key2), 1);
    assert_null(aad_keyset_find(set, "k3"));
    assert_null(aad_keyset_find(set, "K1"));
    assert_null(aad_keyset_find(set, ""));
    assert_null(aad_keyset_find(NULL, "k1"));
    aad_keyset_free(set);
}

/* A login uses the one key its token names: only that one is made into an
 * OpenSSL key (about 34 us each; Entra publishes several). */
static void test_only_the_key_a_token_names_is_prepared(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "k1", NULL));
    json_array_append_new(arr, tm_jwk(key2, "k2", NULL));
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(parse_keys(arr, &set, &err), AAD_OK, err);
    assert_null(set->keys[0].pkey);
    assert_null(set->keys[1].pkey);
    const struct aad_key *k2 = aad_keyset_find(set, "k2");
    assert_non_null(k2);
    assert_non_null(k2->verify);
    assert_null(set->keys[0].pkey);
    assert_ptr_equal(aad_keyset_find(set, "k2"), k2); /* made once */
    aad_keyset_free(set);
}

/* ---- aad_discovery_parse --------------------------------------------------------------------- */

static enum aad_status discover(const char *issuer, const char *jwks_uri, struct aad_discovery *d,
                                struct aad_error *err)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "token_endpoint",
                            AUTHORITY "/" TENANT "/oauth2/v2.0/token", "device_authorization_endpoint",
                            AUTHORITY "/" TENANT "/oauth2/v2.0/devicecode", "issuer", "placeholder",
                            "jwks_uri", "placeholder");
    if (issuer != NULL)
        json_object_set_new(doc, "issuer", json_string(issuer));
    else
        json_object_del(doc, "issuer");
    if (jwks_uri != NULL)
        json_object_set_new(doc, "jwks_uri", json_string(jwks_uri));
    else
        json_object_del(doc, "jwks_uri");
    char *text = tm_dump(doc);
    json_decref(doc);
    enum aad_status st = aad_discovery_parse(text, strlen(text), AUTHORITY, d, err);
    free(text);
    return st;
}

static void test_discovery_good_document(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    assert_status(discover(ISSUER, AUTHORITY "/" TENANT "/discovery/v2.0/keys", &d, &err), AAD_OK,
                  err);
    assert_string_equal(d.issuer, ISSUER);
    assert_string_equal(d.tenant_id, TENANT);
    assert_string_equal(d.jwks_uri, AUTHORITY "/" TENANT "/discovery/v2.0/keys");
    aad_discovery_clear(&d);
    assert_null(d.issuer);
    assert_null(d.tenant_id);
    assert_null(d.jwks_uri);
}

static void test_discovery_template_issuer_is_refused(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    assert_status(discover(TEMPLATE_ISSUER, AUTHORITY "/common/discovery/v2.0/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
    assert_message_has(err, "no concrete v2.0 issuer");
    assert_null(d.issuer);
    assert_null(d.tenant_id);
}

static void test_discovery_v1_issuer_is_refused(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    assert_status(discover("https://sts.windows.net/" TENANT "/",
                           AUTHORITY "/" TENANT "/discovery/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
    assert_message_has(err, "no concrete v2.0 issuer");
}

static void test_discovery_issuer_not_a_guid_is_refused(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    assert_status(discover(AUTHORITY "/72f988bf-86f1-41af-91ab-2d7cd011db4g/v2.0",
                           AUTHORITY "/" TENANT "/discovery/v2.0/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
    assert_status(discover("http://login.microsoftonline.com/" TENANT "/v2.0",
                           AUTHORITY "/" TENANT "/discovery/v2.0/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
    assert_status(discover(AUTHORITY "/x" TENANT "/v2.0",
                           AUTHORITY "/" TENANT "/discovery/v2.0/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
}

static void test_discovery_jwks_uri_on_another_host_is_refused(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    assert_status(discover(ISSUER, "https://evil.example/" TENANT "/discovery/v2.0/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
    assert_message_has(err, "jwks_uri is not on the authority");
    assert_null(d.issuer);
    assert_null(d.tenant_id);
    /* A host that merely starts with the authority's name is another host. */
    assert_status(discover(ISSUER, AUTHORITY ".evil.example/keys", &d, &err), AAD_UNAVAILABLE, err);
    assert_status(discover(ISSUER, AUTHORITY "@evil.example/keys", &d, &err), AAD_UNAVAILABLE, err);
    assert_status(discover(ISSUER, AUTHORITY ":8443/keys", &d, &err), AAD_UNAVAILABLE, err);
    assert_status(discover(ISSUER, "http://login.microsoftonline.com/" TENANT "/discovery/v2.0/keys",
                           &d, &err),
                  AAD_UNAVAILABLE, err);
}

static void test_discovery_missing_fields_are_refused(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    assert_status(discover(NULL, AUTHORITY "/" TENANT "/discovery/v2.0/keys", &d, &err),
                  AAD_UNAVAILABLE, err);
    assert_message_has(err, "issuer");
    assert_status(discover(ISSUER, NULL, &d, &err), AAD_UNAVAILABLE, err);
    assert_message_has(err, "jwks_uri");
    assert_null(d.issuer);
}

static void test_discovery_not_json_is_refused(void **state)
{
    (void)state;
    struct aad_discovery d;
    struct aad_error err = {0};
    const char *text = "<html>error</html>";
    assert_status(aad_discovery_parse(text, strlen(text), AUTHORITY, &d, &err), AAD_UNAVAILABLE, err);
    assert_message_has(err, "not valid JSON");
    text = "{\"issuer\":\"" ISSUER "\",\"issuer\":\"" ISSUER "\",\"jwks_uri\":\"" AUTHORITY "/k\"}";
    assert_status(aad_discovery_parse(text, strlen(text), AUTHORITY, &d, &err), AAD_UNAVAILABLE, err);
}

/* ---- the cache entry's name -------------------------------------------------------------- */

/* "keys-<first 8 bytes of SHA-256 of the len bytes of input, hex>.json". */
static void expected_cache_name(const char *input, size_t len, char *name, size_t size)
{
    unsigned char d[32];
    unsigned int dlen = 0;
    assert_int_equal(EVP_Digest(input, len, d, &dlen, EVP_sha256(), NULL), 1);
    snprintf(name, size, "keys-%02x%02x%02x%02x%02x%02x%02x%02x.json", d[0], d[1], d[2], d[3], d[4],
             d[5], d[6], d[7]);
}

static void test_cache_name_hashes_authority_and_tenant(void **state)
{
    (void)state;
    struct aad_config cfg = {.authority = AUTHORITY, .tenant = TENANT};
    char name[64], want[64];
    aad_trust_cache_name(&cfg, name, sizeof(name));
    expected_cache_name(AUTHORITY "\n" TENANT, strlen(AUTHORITY "\n" TENANT), want, sizeof(want));
    assert_string_equal(name, want);
}

/* An input longer than the name's buffer (the configuration refuses such an
 * authority; the function must not rely on it): what was written, 1023
 * bytes, is hashed, never the bytes past the buffer (ASan: stack overflow). */
static void test_cache_name_of_a_long_authority_hashes_what_was_written(void **state)
{
    (void)state;
    char *authority = malloc(2101);
    assert_non_null(authority);
    memcpy(authority, "https://", 8);
    memset(authority + 8, 'a', 2092);
    authority[2100] = '\0';
    struct aad_config cfg = {.authority = authority, .tenant = TENANT};
    char name[64], want[64];
    aad_trust_cache_name(&cfg, name, sizeof(name));
    expected_cache_name(authority, 1023, want, sizeof(want));
    assert_string_equal(name, want);
    free(authority);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_key_is_parsed),
        cmocka_unit_test(test_only_the_key_a_token_names_is_prepared),
        cmocka_unit_test(test_key_without_issuer_has_null_issuer),
        cmocka_unit_test(test_key_without_use_and_with_alg_rs256_is_parsed),
        cmocka_unit_test(test_several_keys_are_all_parsed),
        cmocka_unit_test(test_max_keys_are_accepted),
        cmocka_unit_test(test_ec_key_is_skipped),
        cmocka_unit_test(test_rsa_key_labelled_ec_is_skipped),
        cmocka_unit_test(test_use_enc_is_skipped),
        cmocka_unit_test(test_rsa_1024_bit_key_is_skipped),
        cmocka_unit_test(test_missing_kid_is_skipped),
        cmocka_unit_test(test_duplicate_kid_drops_both_keys),
        cmocka_unit_test(test_duplicate_kid_only_is_unusable),
        cmocka_unit_test(test_alg_other_than_rs256_is_skipped),
        cmocka_unit_test(test_even_exponent_is_skipped),
        cmocka_unit_test(test_exponent_1_is_skipped),
        cmocka_unit_test(test_exponent_3_is_accepted),
        cmocka_unit_test(test_bad_modulus_or_exponent_encoding_is_skipped),
        cmocka_unit_test(test_rsa_8192_bit_modulus_is_accepted),
        cmocka_unit_test(test_modulus_above_8192_bits_is_skipped),
        cmocka_unit_test(test_modulus_just_below_2048_bits_is_skipped),
        cmocka_unit_test(test_non_object_entries_are_skipped),
        cmocka_unit_test(test_empty_set_is_an_error),
        cmocka_unit_test(test_not_json_is_an_error),
        cmocka_unit_test(test_keys_not_an_array_is_an_error),
        cmocka_unit_test(test_duplicate_member_in_jwks_is_an_error),
        cmocka_unit_test(test_more_than_max_keys_is_an_error),
        cmocka_unit_test(test_document_larger_than_max_body_is_an_error),
        cmocka_unit_test(test_keyset_find_by_kid),
        cmocka_unit_test(test_discovery_good_document),
        cmocka_unit_test(test_discovery_template_issuer_is_refused),
        cmocka_unit_test(test_discovery_v1_issuer_is_refused),
        cmocka_unit_test(test_discovery_issuer_not_a_guid_is_refused),
        cmocka_unit_test(test_discovery_jwks_uri_on_another_host_is_refused),
        cmocka_unit_test(test_discovery_missing_fields_are_refused),
        cmocka_unit_test(test_discovery_not_json_is_refused),
        cmocka_unit_test(test_cache_name_hashes_authority_and_tenant),
        cmocka_unit_test(test_cache_name_of_a_long_authority_hashes_what_was_written),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
