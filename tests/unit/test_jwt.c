/* test_jwt.c - aad_jwt_parse, aad_jwt_verify_signature, aad_jwt_check_claims
 * and aad_jwt_is_guest against tokens made here with a real RSA key. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>

#include "aad_jwt.h"
#include "aad_keys.h"
#include "token_maker.h"
#include "unit_support.h"

#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define OTHER_TENANT "11111111-2222-3333-4444-555555555555"
#define MSA_TENANT "9188040d-6c67-4c5b-b112-36a304b66dad"
#define ISSUER "https://login.microsoftonline.com/" TENANT "/v2.0"
#define TEMPLATE_ISSUER "https://login.microsoftonline.com/{tenantid}/v2.0"
#define CLIENT "535fb089-9ff3-47b6-9bfb-4f1264799865"
#define OTHER_CLIENT "00000003-0000-0000-c000-000000000000"
#define OID "690222be-ff1a-4d56-abd1-7e4f7d38e474"
#define NOW 1716200000LL
#define SKEW 300L

#define HEADER_FOR(kid) "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"" kid "\"}"
#define HEADER HEADER_FOR("kid-template")

static EVP_PKEY *key;       /* the tenant's signing key */
static EVP_PKEY *other_key; /* someone else's key */
static struct aad_keyset *keys;

/* ---- fixtures and helpers ------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    key = tm_generate_rsa(2048);
    other_key = tm_generate_rsa(2048);
    if (key == NULL || other_key == NULL)
        return -1;
    /* The same tenant key published under several kids with different issuer
     * fields, plus the other key: each test picks its kid. */
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "kid-template", TEMPLATE_ISSUER));
    json_array_append_new(arr, tm_jwk(key, "kid-noissuer", NULL));
    json_array_append_new(arr, tm_jwk(key, "kid-concrete", ISSUER));
    json_array_append_new(arr, tm_jwk(key, "kid-msa",
                                      "https://login.microsoftonline.com/" MSA_TENANT "/v2.0"));
    json_array_append_new(arr, tm_jwk(key, "kid-us", "https://login.microsoftonline.us/{tenantid}/v2.0"));
    json_array_append_new(arr, tm_jwk(other_key, "kid-other", TEMPLATE_ISSUER));
    char *text = tm_jwks_text(arr);
    json_decref(arr);
    struct aad_error err = {0};
    enum aad_status st = aad_keyset_parse(text, strlen(text), &keys, &err);
    free(text);
    if (st != AAD_OK || keys->count != 6) {
        fprintf(stderr, "keyset: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    aad_keyset_free(keys);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    return 0;
}

static json_t *claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "aud", CLIENT,
                     "iss", ISSUER, "tid", TENANT, "iat", (json_int_t)(NOW - 60), "nbf",
                     (json_int_t)(NOW - 60), "exp", (json_int_t)(NOW + 3540), "ver", "2.0", "oid",
                     OID, "preferred_username", "abeli@contoso.com", "name", "Abe Lincoln", "sub",
                     "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ");
}

/* Parses, finds the key by kid, verifies and checks the claims, as the login
 * code does. */
static enum aad_status validate_at(const char *token, long long now, long skew,
                                   struct aad_error *err)
{
    struct aad_jwt *jwt = NULL;
    enum aad_status st = aad_jwt_parse(token, &jwt, err);
    if (st != AAD_OK)
        return st;
    const struct aad_key *k = aad_keyset_find(keys, jwt->kid);
    if (k == NULL) {
        st = aad_fail(err, AAD_DENIED, "test: kid not in the key set");
    } else {
        st = aad_jwt_verify_signature(jwt, k, err);
        if (st == AAD_OK) {
            struct aad_jwt_expect x = {ISSUER, TENANT, CLIENT, now, skew};
            st = aad_jwt_check_claims(jwt, k, &x, err);
        }
    }
    aad_jwt_free(jwt);
    return st;
}

static enum aad_status validate(const char *token, struct aad_error *err)
{
    return validate_at(token, NOW, SKEW, err);
}


static void expect_token(char *token, enum aad_status want, const char *sub)
{
    assert_non_null(token);
    struct aad_error err = {0};
    enum aad_status st = validate(token, &err);
    free(token);
    assert_status(st, want, err);
    if (sub != NULL)
        assert_message_has(err, sub);
}

/* Consumes c: signs it under header with the tenant key and validates. */
static void expect_claims_at(json_t *c, long long now, long skew, enum aad_status want,
                             const char *sub)
{
    char *token = tm_make_token_json(key, HEADER, c);
    json_decref(c);
    assert_non_null(token);
    struct aad_error err = {0};
    enum aad_status st = validate_at(token, now, skew, &err);
    free(token);
    assert_status(st, want, err);
    if (sub != NULL)
        assert_message_has(err, sub);
}

static void expect_claims(json_t *c, enum aad_status want, const char *sub)
{
    expect_claims_at(c, NOW, SKEW, want, sub);
}

static void expect_header(const char *header, enum aad_status want, const char *sub)
{
    json_t *c = claims();
    char *token = tm_make_token_json(key, header, c);
    json_decref(c);
    expect_token(token, want, sub);
}

/* The three encoded parts of a good token. */
struct parts {
    char *h, *p, *s;
};

static struct parts good_parts(void)
{
    json_t *c = claims();
    char *payload = tm_dump(c);
    json_decref(c);
    char *token = tm_make_token(key, HEADER, payload);
    free(payload);
    assert_non_null(token);
    struct parts r;
    char *dot1 = strchr(token, '.');
    char *dot2 = strchr(dot1 + 1, '.');
    r.h = strndup(token, (size_t)(dot1 - token));
    r.p = strndup(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    r.s = strdup(dot2 + 1);
    free(token);
    return r;
}

static void parts_free(struct parts *r)
{
    free(r->h);
    free(r->p);
    free(r->s);
}

static char *join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s.%s.%s", a, b, c);
    return out;
}

static int b64_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = strchr(alphabet, c);
    return p ? (int)(p - alphabet) : -1;
}

/* Sets an unused low bit in the last character of an unpadded encoding whose
 * length is not a multiple of 4: the decoded bytes stay the same, the
 * encoding becomes non-canonical. */
static void set_unused_bit(char *b64)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t len = strlen(b64);
    assert_int_not_equal(len % 4, 0);
    int v = b64_value(b64[len - 1]);
    assert_int_equal(v & 1, 0);
    b64[len - 1] = alphabet[v | 1];
}

/* ---- the good token -------------------------------------------------------- */

static void test_valid_token_is_accepted(void **state)
{
    (void)state;
    expect_claims(claims(), AAD_OK, NULL);
}

static void test_parse_exposes_kid_and_claims(void **state)
{
    (void)state;
    json_t *c = claims();
    char *token = tm_make_token_json(key, HEADER, c);
    json_decref(c);
    struct aad_jwt *jwt = NULL;
    struct aad_error err = {0};
    assert_status(aad_jwt_parse(token, &jwt, &err), AAD_OK, err);
    assert_string_equal(jwt->kid, "kid-template");
    assert_string_equal(json_string_value(json_object_get(jwt->claims, "oid")), OID);
    assert_int_equal(jwt->signature_len, 256);
    assert_int_equal(jwt->signing_input_len, (size_t)(strrchr(token, '.') - token));
    assert_memory_equal(jwt->signing_input, token, jwt->signing_input_len);
    aad_jwt_free(jwt);
    free(token);
}

/* ---- a set readied while the user signs in (aad_keyset_warm_up) -------------- */

static enum aad_status signature_check(struct aad_keyset *set, EVP_PKEY *signer, const char *kid)
{
    char header[96];
    snprintf(header, sizeof(header), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    json_t *c = claims();
    char *token = tm_make_token_json(signer, header, c);
    json_decref(c);
    struct aad_jwt *jwt = NULL;
    struct aad_error err = {0};
    enum aad_status st = aad_jwt_parse(token, &jwt, &err);
    const struct aad_key *k = st == AAD_OK ? aad_keyset_find(set, kid) : NULL;
    if (st == AAD_OK)
        st = k != NULL ? aad_jwt_verify_signature(jwt, k, &err) : AAD_UNAVAILABLE;
    aad_jwt_free(jwt);
    free(token);
    return st;
}

/* The warm-up's failed check of zeros leaves nothing behind: no OpenSSL
 * error for a later caller to find, and each key still verifies its own
 * signatures and only those, the readied first one and the others. */
static void test_warmed_up_set_verifies_as_before(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, tm_jwk(key, "first", TEMPLATE_ISSUER));
    json_array_append_new(arr, tm_jwk(other_key, "second", TEMPLATE_ISSUER));
    char *text = tm_jwks_text(arr);
    json_decref(arr);
    struct aad_keyset *set = NULL;
    struct aad_error err = {0};
    assert_status(aad_keyset_parse(text, strlen(text), &set, &err), AAD_OK, err);
    free(text);
    ERR_clear_error();
    aad_keyset_warm_up(set);
    assert_int_equal(ERR_peek_error(), 0);
    assert_non_null(set->keys[0].verify); /* readied */
    assert_null(set->keys[1].verify);     /* made when a token names it */
    assert_int_equal(signature_check(set, key, "first"), AAD_OK);
    assert_int_equal(signature_check(set, other_key, "first"), AAD_DENIED);
    assert_int_equal(signature_check(set, other_key, "second"), AAD_OK);
    assert_int_equal(signature_check(set, key, "second"), AAD_DENIED);
    aad_keyset_warm_up(set); /* again: nothing changes */
    assert_int_equal(signature_check(set, key, "first"), AAD_OK);
    aad_keyset_free(set);
    aad_keyset_warm_up(NULL);
}

/* ---- compact serialisation -------------------------------------------------- */

static void test_token_of_two_parts_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    size_t n = strlen(r.h) + strlen(r.p) + 2;
    char *token = malloc(n);
    snprintf(token, n, "%s.%s", r.h, r.p);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "three parts");
}

static void test_token_of_four_parts_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    char *three = join3(r.h, r.p, r.s);
    size_t n = strlen(three) + strlen(r.s) + 2;
    char *token = malloc(n);
    snprintf(token, n, "%s.%s", three, r.s);
    free(three);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "three parts");
}

static void test_empty_token_is_refused(void **state)
{
    (void)state;
    struct aad_jwt *jwt = NULL;
    struct aad_error err = {0};
    assert_status(aad_jwt_parse("", &jwt, &err), AAD_DENIED, err);
    assert_null(jwt);
    assert_status(aad_jwt_parse("..", &jwt, &err), AAD_DENIED, err);
    assert_null(jwt);
}

static void test_empty_signature_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    char *token = join3(r.h, r.p, "");
    parts_free(&r);
    expect_token(token, AAD_DENIED, "signature is missing");
}

/* ---- strict base64url ---------------------------------------------------------- */

static void test_padding_in_payload_is_refused(void **state)
{
    (void)state;
    /* A payload whose encoding needs padding, padded, and correctly signed as
     * such: only the padding is wrong. */
    json_t *c = claims();
    char *payload = tm_dump(c);
    json_decref(c);
    size_t len = strlen(payload);
    char *spaced = malloc(len + 3);
    memcpy(spaced, payload, len + 1);
    while (strlen(spaced) % 3 == 0)
        strcat(spaced, " ");
    char *p64 = tm_b64url_str(spaced);
    char *padded = malloc(strlen(p64) + 3);
    strcpy(padded, p64);
    while (strlen(padded) % 4 != 0)
        strcat(padded, "=");
    char *h64 = tm_b64url_str(HEADER);

    char *unpadded_token = tm_sign_parts(key, h64, p64);
    expect_token(unpadded_token, AAD_OK, NULL);
    char *token = tm_sign_parts(key, h64, padded);
    free(payload);
    free(spaced);
    free(p64);
    free(padded);
    free(h64);
    expect_token(token, AAD_DENIED, "payload is not strict base64url");
}

static void test_padding_in_header_is_refused(void **state)
{
    (void)state;
    char header[128];
    snprintf(header, sizeof(header), "%s", HEADER);
    while (strlen(header) % 3 == 0)
        strcat(header, " ");
    char *h64 = tm_b64url_str(header);
    char padded[256];
    snprintf(padded, sizeof(padded), "%s", h64);
    while (strlen(padded) % 4 != 0)
        strcat(padded, "=");
    struct parts r = good_parts();
    char *token = tm_sign_parts(key, padded, r.p);
    parts_free(&r);
    free(h64);
    expect_token(token, AAD_DENIED, "header is not strict base64url");
}

static void test_padding_on_signature_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    /* 256 bytes encode to 342 characters: standard base64 would add "==". */
    assert_int_equal(strlen(r.s) % 4, 2);
    char *token = join3(r.h, r.p, r.s);
    char *padded = malloc(strlen(token) + 3);
    sprintf(padded, "%s==", token);
    free(token);
    parts_free(&r);
    expect_token(padded, AAD_DENIED, "signature is missing or not strict base64url");
}

static void test_standard_base64_plus_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    r.p[5] = '+';
    char *token = tm_sign_parts(key, r.h, r.p);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "payload is not strict base64url");
}

static void test_standard_base64_slash_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    r.s[10] = '/';
    char *token = join3(r.h, r.p, r.s);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "signature is missing or not strict base64url");
}

static void test_whitespace_inside_a_part_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    size_t n = strlen(r.p);
    char *spaced = malloc(n + 2);
    memcpy(spaced, r.p, 8);
    spaced[8] = ' ';
    memcpy(spaced + 9, r.p + 8, n - 8 + 1);
    char *token = tm_sign_parts(key, r.h, spaced);
    free(spaced);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "payload is not strict base64url");
}

static void test_trailing_newline_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    char *token = join3(r.h, r.p, r.s);
    char *nl = malloc(strlen(token) + 2);
    sprintf(nl, "%s\n", token);
    free(token);
    parts_free(&r);
    expect_token(nl, AAD_DENIED, "signature is missing or not strict base64url");
}

static void test_noncanonical_trailing_bits_in_header_are_refused(void **state)
{
    (void)state;
    char header[128];
    snprintf(header, sizeof(header), "%s", HEADER);
    while (strlen(header) % 3 == 0)
        strcat(header, " ");
    char *h64 = tm_b64url_str(header);
    struct parts r = good_parts();
    char *canonical = tm_sign_parts(key, h64, r.p);
    expect_token(canonical, AAD_OK, NULL);
    set_unused_bit(h64);
    char *token = tm_sign_parts(key, h64, r.p);
    free(h64);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "header is not strict base64url");
}

static void test_noncanonical_trailing_bits_in_signature_are_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    set_unused_bit(r.s);
    char *token = join3(r.h, r.p, r.s);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "signature is missing or not strict base64url");
}

/* ---- strict JSON ------------------------------------------------------------------ */

static void test_duplicate_key_in_header_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"kid-template\",\"alg\":\"RS256\"}",
                  AAD_DENIED, "header is not strict base64url JSON");
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"kid-template\",\"kid\":\"kid-msa\"}",
                  AAD_DENIED, "header is not strict base64url JSON");
}

static void test_duplicate_key_in_payload_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    char *payload = tm_dump(c);
    json_decref(c);
    /* {"oid":"<another>", ...the rest, which has "oid" again...} */
    size_t n = strlen(payload) + 64;
    char *dup = malloc(n);
    snprintf(dup, n, "{\"oid\":\"%s\",%s", "00000000-0000-0000-0000-000000000001", payload + 1);
    free(payload);
    expect_token(tm_make_token(key, HEADER, dup), AAD_DENIED, "payload is not strict base64url JSON");
    free(dup);
}

static void test_header_not_an_object_is_refused(void **state)
{
    (void)state;
    expect_header("[\"RS256\"]", AAD_DENIED, "header is not strict base64url JSON");
    expect_header("\"RS256\"", AAD_DENIED, "header is not strict base64url JSON");
    expect_header("", AAD_DENIED, "header is not strict base64url JSON");
}

static void test_payload_not_an_object_is_refused(void **state)
{
    (void)state;
    expect_token(tm_make_token(key, HEADER, "[1,2]"), AAD_DENIED, "payload is not strict");
    expect_token(tm_make_token(key, HEADER, "{\"a\":1} {}"), AAD_DENIED, "payload is not strict");
}

/* ---- header rules ------------------------------------------------------------------ */

static void test_alg_none_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"none\",\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not RS256");
    /* The classic unsigned form, with an empty signature. */
    char *h64 = tm_b64url_str("{\"typ\":\"JWT\",\"alg\":\"none\",\"kid\":\"kid-template\"}");
    struct parts r = good_parts();
    char *token = join3(h64, r.p, "");
    parts_free(&r);
    free(h64);
    expect_token(token, AAD_DENIED, NULL);
}

static void test_alg_hs256_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not RS256");
}

static void test_alg_rs384_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS384\",\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not RS256");
}

static void test_alg_ps256_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"PS256\",\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not RS256");
}

static void test_alg_missing_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"kid\":\"kid-template\"}", AAD_DENIED, "not RS256");
}

static void test_alg_other_case_or_type_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"rs256\",\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not RS256");
    expect_header("{\"typ\":\"JWT\",\"alg\":[\"RS256\"],\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not RS256");
}

static void test_crit_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"kid-template\",\"crit\":[\"exp\"]}",
                  AAD_DENIED, "crit");
}

static void test_typ_other_than_jwt_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"at+jwt\",\"alg\":\"RS256\",\"kid\":\"kid-template\"}", AAD_DENIED,
                  "not JWT");
    expect_header("{\"typ\":1,\"alg\":\"RS256\",\"kid\":\"kid-template\"}", AAD_DENIED, "not JWT");
}

static void test_typ_absent_is_accepted(void **state)
{
    (void)state;
    expect_header("{\"alg\":\"RS256\",\"kid\":\"kid-template\"}", AAD_OK, NULL);
}

static void test_missing_kid_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS256\"}", AAD_DENIED, "key id");
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":7}", AAD_DENIED, "key id");
}

static void test_kid_with_spaces_is_refused(void **state)
{
    (void)state;
    expect_header("{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"kid template\"}", AAD_DENIED,
                  "key id");
}

static void test_unknown_kid_finds_no_key(void **state)
{
    (void)state;
    assert_null(aad_keyset_find(keys, "kid-unknown"));
    expect_header(HEADER_FOR("kid-unknown"), AAD_DENIED, "test: kid not in the key set");
}

static void test_jku_x5u_jwk_x5c_headers_are_ignored(void **state)
{
    (void)state;
    json_t *jwk = tm_jwk(other_key, "kid-template", NULL);
    char *jwk_text = tm_dump(jwk);
    json_decref(jwk);
    char header[4096];
    snprintf(header, sizeof(header),
             "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"kid-template\","
             "\"jku\":\"https://evil.example/keys\",\"x5u\":\"https://evil.example/cert\","
             "\"x5c\":[\"MIIB\"],\"jwk\":%s}",
             jwk_text);
    free(jwk_text);
    /* Signed by the tenant key: the extra members change nothing. */
    expect_header(header, AAD_OK, NULL);
    /* Signed by the key the header itself offers: refused, the real key decides. */
    json_t *c = claims();
    char *token = tm_make_token_json(other_key, header, c);
    json_decref(c);
    expect_token(token, AAD_DENIED, "does not verify");
}

/* ---- sizes --------------------------------------------------------------------------- */

static size_t b64_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* A valid token with a "pad" claim making it as long as possible while at
 * most limit (above = 0), or the shortest longer than limit (above = 1). */
static char *sized_token(size_t limit, int above)
{
    json_t *c = claims();
    json_object_set_new(c, "pad", json_string(""));
    char *p0 = tm_dump(c);
    size_t base = strlen(p0);
    free(p0);
    char *h64 = tm_b64url_str(HEADER);
    size_t fixed = strlen(h64) + 1 + 1 + 342; /* two dots, 256-byte signature */
    free(h64);
    size_t k = 0, best = 0;
    int found = 0;
    for (k = 0; k < limit; k++) {
        size_t total = fixed + b64_len(base + k);
        if (!above && total <= limit) {
            best = k;
            found = 1;
        }
        if (above && total > limit) {
            best = k;
            found = 1;
            break;
        }
        if (total > limit + 8)
            break;
    }
    assert_true(found);
    char *pad = malloc(best + 1);
    memset(pad, 'a', best);
    pad[best] = '\0';
    json_object_set_new(c, "pad", json_string(pad));
    free(pad);
    char *token = tm_make_token_json(key, HEADER, c);
    json_decref(c);
    return token;
}

static void test_token_up_to_max_size_is_accepted(void **state)
{
    (void)state;
    char *token = sized_token(AAD_JWT_MAX_BYTES, 0);
    assert_true(strlen(token) <= AAD_JWT_MAX_BYTES);
    assert_true(strlen(token) >= AAD_JWT_MAX_BYTES - 3);
    expect_token(token, AAD_OK, NULL);
}

static void test_oversized_token_is_refused(void **state)
{
    (void)state;
    char *token = sized_token(AAD_JWT_MAX_BYTES, 1);
    assert_true(strlen(token) > AAD_JWT_MAX_BYTES);
    assert_true(strlen(token) <= AAD_JWT_MAX_BYTES + 3);
    expect_token(token, AAD_DENIED, "larger than");
}

static void test_oversized_header_is_refused(void **state)
{
    (void)state;
    char header[AAD_JWT_MAX_HEADER + 128];
    int n = snprintf(header, sizeof(header),
                     "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"kid-template\",\"x\":\"");
    memset(header + n, 'x', AAD_JWT_MAX_HEADER);
    strcpy(header + n + AAD_JWT_MAX_HEADER - n, "\"}");
    /* The header is now AAD_JWT_MAX_HEADER + 2 bytes. */
    assert_int_equal(strlen(header), AAD_JWT_MAX_HEADER + 2);
    expect_header(header, AAD_DENIED, "header is not strict base64url JSON");
}

/* ---- signature ------------------------------------------------------------------------- */

static void test_tampered_payload_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    json_t *c = claims();
    json_object_set_new(c, "preferred_username", json_string("admin@contoso.com"));
    char *payload = tm_dump(c);
    json_decref(c);
    char *p64 = tm_b64url_str(payload);
    char *token = join3(r.h, p64, r.s);
    free(payload);
    free(p64);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "does not verify");
}

static void test_tampered_header_is_refused(void **state)
{
    (void)state;
    struct parts r = good_parts();
    char *h64 = tm_b64url_str("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid-template\"}");
    char *token = join3(h64, r.p, r.s);
    free(h64);
    parts_free(&r);
    expect_token(token, AAD_DENIED, "does not verify");
}

/* A token over the default header and claims whose signature bytes are
 * edited by edit(sig, &len) before encoding. */
static char *token_with_edited_signature(void (*edit)(unsigned char *sig, size_t *len))
{
    json_t *c = claims();
    char *payload = tm_dump(c);
    json_decref(c);
    char *h64 = tm_b64url_str(HEADER);
    char *p64 = tm_b64url_str(payload);
    size_t in_len = strlen(h64) + 1 + strlen(p64);
    char *input = malloc(in_len + 1);
    sprintf(input, "%s.%s", h64, p64);
    size_t sig_len = 0;
    unsigned char *sig = tm_sign(key, input, in_len, &sig_len);
    assert_non_null(sig);
    unsigned char *room = calloc(1, sig_len + 16);
    memcpy(room, sig, sig_len);
    edit(room, &sig_len);
    char *s64 = tm_b64url(room, sig_len);
    char *token = join3(h64, p64, s64);
    free(payload);
    free(h64);
    free(p64);
    free(input);
    free(sig);
    free(room);
    free(s64);
    return token;
}

static void flip_a_bit(unsigned char *sig, size_t *len)
{
    sig[*len / 2] ^= 0x01;
}

static void drop_last_byte(unsigned char *sig, size_t *len)
{
    (void)sig;
    *len -= 1;
}

static void append_zero_byte(unsigned char *sig, size_t *len)
{
    sig[(*len)++] = 0;
}

static void prepend_zero_byte(unsigned char *sig, size_t *len)
{
    memmove(sig + 1, sig, *len);
    sig[0] = 0;
    *len += 1;
}

static void test_tampered_signature_is_refused(void **state)
{
    (void)state;
    expect_token(token_with_edited_signature(flip_a_bit), AAD_DENIED, "does not verify");
}

static void test_signature_by_another_key_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    char *token = tm_make_token_json(other_key, HEADER, c);
    json_decref(c);
    expect_token(token, AAD_DENIED, "does not verify with key kid-template");
}

static void test_signature_by_another_key_under_its_own_kid_verifies(void **state)
{
    (void)state;
    /* Control for the test above: the other key is a good key in itself. */
    json_t *c = claims();
    char *token = tm_make_token_json(other_key, HEADER_FOR("kid-other"), c);
    json_decref(c);
    expect_token(token, AAD_OK, NULL);
}

static void test_truncated_signature_is_refused(void **state)
{
    (void)state;
    expect_token(token_with_edited_signature(drop_last_byte), AAD_DENIED, "wrong length");
}

static void test_signature_with_extra_bytes_is_refused(void **state)
{
    (void)state;
    expect_token(token_with_edited_signature(append_zero_byte), AAD_DENIED, "wrong length");
    expect_token(token_with_edited_signature(prepend_zero_byte), AAD_DENIED, "wrong length");
}

/* ---- iss and tid --------------------------------------------------------------------- */

static void test_iss_wrong_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "iss",
                        json_string("https://login.microsoftonline.com/" OTHER_TENANT "/v2.0"));
    expect_claims(c, AAD_DENIED, "issuer is not");
}

static void test_iss_v1_form_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "iss", json_string("https://sts.windows.net/" TENANT "/"));
    expect_claims(c, AAD_DENIED, "issuer is not");
}

static void test_iss_missing_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_del(c, "iss");
    expect_claims(c, AAD_DENIED, "issuer is not");
}

static void test_tid_wrong_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "tid", json_string(OTHER_TENANT));
    expect_claims(c, AAD_DENIED, "tenant is not");
}

static void test_tid_missing_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_del(c, "tid");
    expect_claims(c, AAD_DENIED, "tenant is not");
}

static void test_tid_in_upper_case_is_accepted(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "tid", json_string("72F988BF-86F1-41AF-91AB-2D7CD011DB47"));
    expect_claims(c, AAD_OK, NULL);
}

/* ---- an access token is not an ID token ------------------------------------------------ */

/* A v2.0 access token as Entra issues it for an API whose app id is the
 * client: aud = the API's app id, azp = the calling client, scp, idtyp
 * absent, signed by the tenant's key, every other check satisfied. */
static void test_access_token_with_scp_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_string(CLIENT));
    json_object_set_new(c, "azp", json_string("04b07795-8ddb-461a-bbee-02f9e1bf7b46"));
    json_object_set_new(c, "azpacr", json_string("0"));
    json_object_set_new(c, "scp", json_string("access_as_user"));
    json_object_set_new(c, "uti", json_string("AbCdEfGh"));
    expect_claims(c, AAD_DENIED, "access token");
}

/* ---- aud ---------------------------------------------------------------------------------- */

static void test_aud_string_equal_to_client_id_is_accepted(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_string(CLIENT));
    expect_claims(c, AAD_OK, NULL);
}

/* An upper-case client_id in the configuration (it accepts both cases)
 * matches Entra's lower-case aud, and the other way round. */
static void test_aud_compares_with_client_id_without_regard_to_case(void **state)
{
    (void)state;
    static const char *const upper = "535FB089-9FF3-47B6-9BFB-4F1264799865";
    json_t *c = claims();
    char *token = tm_make_token_json(key, HEADER, c);
    json_decref(c);
    struct aad_jwt *jwt = NULL;
    struct aad_error err = {0};
    assert_status(aad_jwt_parse(token, &jwt, &err), AAD_OK, err);
    const struct aad_key *k = aad_keyset_find(keys, jwt->kid);
    struct aad_jwt_expect x = {ISSUER, TENANT, upper, NOW, SKEW};
    assert_status(aad_jwt_check_claims(jwt, k, &x, &err), AAD_OK, err);
    aad_jwt_free(jwt);
    free(token);

    c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", OTHER_CLIENT, upper));
    json_object_set_new(c, "azp", json_string(upper));
    expect_claims(c, AAD_OK, NULL);
}

static void test_aud_string_wrong_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_string(OTHER_CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
}

static void test_aud_missing_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_del(c, "aud");
    expect_claims(c, AAD_DENIED, "audience");
}

static void test_aud_array_of_one_client_id_is_accepted(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s]", CLIENT));
    expect_claims(c, AAD_OK, NULL);
}

static void test_aud_array_of_two_without_azp_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", CLIENT, OTHER_CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
}

static void test_aud_array_of_two_with_azp_client_id_is_accepted(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", OTHER_CLIENT, CLIENT));
    json_object_set_new(c, "azp", json_string(CLIENT));
    expect_claims(c, AAD_OK, NULL);
}

static void test_aud_array_of_two_with_other_azp_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", OTHER_CLIENT, CLIENT));
    json_object_set_new(c, "azp", json_string(OTHER_CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
}

static void test_aud_array_without_client_id_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s]", OTHER_CLIENT));
    json_object_set_new(c, "azp", json_string(CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
}

static void test_aud_of_wrong_type_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "aud", json_integer(42));
    expect_claims(c, AAD_DENIED, "audience");
    c = claims();
    json_object_set_new(c, "aud", json_pack("{s:s}", "id", CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
    c = claims();
    json_object_set_new(c, "aud", json_array());
    expect_claims(c, AAD_DENIED, "audience");
    c = claims();
    json_object_set_new(c, "aud", json_pack("[s,i]", CLIENT, 1));
    json_object_set_new(c, "azp", json_string(CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
}

static void test_aud_array_longer_than_16_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_t *aud = json_array();
    json_array_append_new(aud, json_string(CLIENT));
    for (int i = 0; i < 16; i++)
        json_array_append_new(aud, json_string(OTHER_CLIENT));
    json_object_set_new(c, "aud", aud);
    json_object_set_new(c, "azp", json_string(CLIENT));
    expect_claims(c, AAD_DENIED, "audience");
}

/* ---- exp, nbf, iat ------------------------------------------------------------------------ */

static json_t *claims_times(long long iat, long long nbf, long long exp)
{
    json_t *c = claims();
    json_object_set_new(c, "iat", json_integer(iat));
    json_object_set_new(c, "nbf", json_integer(nbf));
    json_object_set_new(c, "exp", json_integer(exp));
    return c;
}

static void test_exp_in_the_past_beyond_skew_is_refused(void **state)
{
    (void)state;
    expect_claims(claims_times(NOW - 7200, NOW - 7200, NOW - 3600), AAD_DENIED, "expired");
}

static void test_exp_in_the_past_within_skew_is_accepted(void **state)
{
    (void)state;
    expect_claims(claims_times(NOW - 3700, NOW - 3700, NOW - 100), AAD_OK, NULL);
}

static void test_exp_boundary_now_equal_to_exp_plus_skew_is_refused(void **state)
{
    (void)state;
    long long exp = NOW - 100;
    expect_claims_at(claims_times(exp - 3600, exp - 3600, exp), exp + SKEW, SKEW, AAD_DENIED,
                     "expired");
}

static void test_exp_boundary_one_second_before_is_accepted(void **state)
{
    (void)state;
    long long exp = NOW - 100;
    expect_claims_at(claims_times(exp - 3600, exp - 3600, exp), exp + SKEW - 1, SKEW, AAD_OK, NULL);
}

static void test_exp_with_zero_skew_is_exact(void **state)
{
    (void)state;
    expect_claims_at(claims_times(NOW - 3600, NOW - 3600, NOW), NOW, 0, AAD_DENIED, "expired");
    expect_claims_at(claims_times(NOW - 3600, NOW - 3600, NOW + 1), NOW, 0, AAD_OK, NULL);
}

static void test_exp_far_in_the_future_does_not_overflow(void **state)
{
    (void)state;
    /* exp + clock_skew must not overflow (undefined behaviour): a token
     * that expires at the end of time is not "expired". */
    json_t *c = claims_times(NOW - 60, NOW - 60, LLONG_MAX);
    char *token = tm_make_token_json(key, HEADER, c);
    json_decref(c);
    struct aad_error err = {0};
    enum aad_status st = validate(token, &err);
    free(token);
    if (st != AAD_OK && strstr(err.message, "expired") != NULL)
        fail_msg("exp = LLONG_MAX reported as expired: '%s'", err.message);
}

static void test_nbf_in_the_future_beyond_skew_is_refused(void **state)
{
    (void)state;
    expect_claims(claims_times(NOW, NOW + SKEW + 1, NOW + 3600), AAD_DENIED, "valid only 301 s from now");
}

static void test_nbf_in_the_future_within_skew_is_accepted(void **state)
{
    (void)state;
    expect_claims(claims_times(NOW, NOW + 100, NOW + 3600), AAD_OK, NULL);
    expect_claims(claims_times(NOW, NOW + SKEW, NOW + 3600), AAD_OK, NULL);
}

static void test_iat_in_the_future_beyond_skew_is_refused(void **state)
{
    (void)state;
    expect_claims(claims_times(NOW + SKEW + 1, NOW, NOW + 3600), AAD_DENIED, "issued 301 s in the future");
}

static void test_iat_in_the_future_within_skew_is_accepted(void **state)
{
    (void)state;
    expect_claims(claims_times(NOW + SKEW, NOW, NOW + 3600), AAD_OK, NULL);
}

static void expect_time_claim(const char *name, json_t *value)
{
    json_t *c = claims();
    if (value == NULL)
        json_object_del(c, name);
    else
        json_object_set_new(c, name, value);
    expect_claims(c, AAD_DENIED, "lacks integer exp, nbf or iat");
}

static void test_exp_as_string_is_refused(void **state)
{
    (void)state;
    expect_time_claim("exp", json_string("1716203540"));
}

static void test_exp_as_float_is_refused(void **state)
{
    (void)state;
    expect_time_claim("exp", json_real((double)(NOW + 3540)));
}

static void test_nbf_as_string_is_refused(void **state)
{
    (void)state;
    expect_time_claim("nbf", json_string("1716199940"));
}

static void test_nbf_as_float_is_refused(void **state)
{
    (void)state;
    expect_time_claim("nbf", json_real((double)(NOW - 60)));
}

static void test_iat_as_string_is_refused(void **state)
{
    (void)state;
    expect_time_claim("iat", json_string("1716199940"));
}

static void test_iat_as_float_is_refused(void **state)
{
    (void)state;
    expect_time_claim("iat", json_real((double)(NOW - 60)));
}

static void test_exp_missing_is_refused(void **state)
{
    (void)state;
    expect_time_claim("exp", NULL);
}

static void test_nbf_missing_is_refused(void **state)
{
    (void)state;
    expect_time_claim("nbf", NULL);
}

static void test_iat_missing_is_refused(void **state)
{
    (void)state;
    expect_time_claim("iat", NULL);
}

/* ---- ver and oid ---------------------------------------------------------------------------- */

static void test_ver_1_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "ver", json_string("1.0"));
    expect_claims(c, AAD_DENIED, "version is not 2.0");
}

static void test_ver_missing_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_del(c, "ver");
    expect_claims(c, AAD_DENIED, "version is not 2.0");
}

static void test_oid_missing_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_del(c, "oid");
    expect_claims(c, AAD_DENIED, "object ID");
}

static void test_oid_invalid_is_refused(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "oid", json_string("690222be-ff1a-4d56-abd1-7e4f7d38e47"));
    expect_claims(c, AAD_DENIED, "object ID");
    c = claims();
    json_object_set_new(c, "oid", json_string("690222be ff1a-4d56-abd1-7e4f7d38e474x"));
    expect_claims(c, AAD_DENIED, "object ID");
    c = claims();
    json_object_set_new(c, "oid", json_integer(1));
    expect_claims(c, AAD_DENIED, "object ID");
}

/* ---- the key's own issuer ------------------------------------------------------------------ */

static void expect_with_kid(const char *header, enum aad_status want, const char *sub)
{
    expect_header(header, want, sub);
}

static void test_key_issuer_template_matching_is_accepted(void **state)
{
    (void)state;
    expect_with_kid(HEADER_FOR("kid-template"), AAD_OK, NULL);
}

static void test_key_issuer_template_other_host_is_refused(void **state)
{
    (void)state;
    expect_with_kid(HEADER_FOR("kid-us"), AAD_DENIED, "issuer of key kid-us");
}

static void test_key_issuer_concrete_other_tenant_is_refused(void **state)
{
    (void)state;
    expect_with_kid(HEADER_FOR("kid-msa"), AAD_DENIED, "issuer of key kid-msa");
}

static void test_key_issuer_concrete_matching_is_accepted(void **state)
{
    (void)state;
    expect_with_kid(HEADER_FOR("kid-concrete"), AAD_OK, NULL);
}

static void test_key_without_issuer_is_accepted(void **state)
{
    (void)state;
    expect_with_kid(HEADER_FOR("kid-noissuer"), AAD_OK, NULL);
}

/* ---- guests ------------------------------------------------------------------------------------ */

static int guest_of(json_t *c)
{
    char *token = tm_make_token_json(key, HEADER, c);
    json_decref(c);
    struct aad_jwt *jwt = NULL;
    struct aad_error err = {0};
    enum aad_status st = aad_jwt_parse(token, &jwt, &err);
    free(token);
    assert_status(st, AAD_OK, err);
    int guest = aad_jwt_is_guest(jwt);
    aad_jwt_free(jwt);
    return guest;
}

static void test_no_idp_is_not_guest(void **state)
{
    (void)state;
    assert_false(guest_of(claims()));
}

static void test_idp_equal_to_iss_is_not_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "idp", json_string(ISSUER));
    assert_false(guest_of(c));
}

static void test_idp_v1_issuer_of_own_tenant_is_not_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "idp", json_string("https://sts.windows.net/" TENANT "/"));
    assert_false(guest_of(c));
}

static void test_idp_other_tenant_is_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "idp", json_string("https://sts.windows.net/" OTHER_TENANT "/"));
    assert_true(guest_of(c));
}

static void test_idp_microsoft_account_is_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "idp", json_string("live.com"));
    assert_true(guest_of(c));
}

static void test_idp_not_a_string_is_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "idp", json_integer(0));
    assert_true(guest_of(c));
}

static void test_acct_1_is_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "acct", json_integer(1));
    assert_true(guest_of(c));
}

static void test_acct_0_is_not_guest(void **state)
{
    (void)state;
    json_t *c = claims();
    json_object_set_new(c, "acct", json_integer(0));
    assert_false(guest_of(c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_token_is_accepted),
        cmocka_unit_test(test_parse_exposes_kid_and_claims),
        cmocka_unit_test(test_token_of_two_parts_is_refused),
        cmocka_unit_test(test_token_of_four_parts_is_refused),
        cmocka_unit_test(test_empty_token_is_refused),
        cmocka_unit_test(test_empty_signature_is_refused),
        cmocka_unit_test(test_padding_in_payload_is_refused),
        cmocka_unit_test(test_padding_in_header_is_refused),
        cmocka_unit_test(test_padding_on_signature_is_refused),
        cmocka_unit_test(test_standard_base64_plus_is_refused),
        cmocka_unit_test(test_standard_base64_slash_is_refused),
        cmocka_unit_test(test_whitespace_inside_a_part_is_refused),
        cmocka_unit_test(test_trailing_newline_is_refused),
        cmocka_unit_test(test_noncanonical_trailing_bits_in_header_are_refused),
        cmocka_unit_test(test_noncanonical_trailing_bits_in_signature_are_refused),
        cmocka_unit_test(test_duplicate_key_in_header_is_refused),
        cmocka_unit_test(test_duplicate_key_in_payload_is_refused),
        cmocka_unit_test(test_header_not_an_object_is_refused),
        cmocka_unit_test(test_payload_not_an_object_is_refused),
        cmocka_unit_test(test_alg_none_is_refused),
        cmocka_unit_test(test_alg_hs256_is_refused),
        cmocka_unit_test(test_alg_rs384_is_refused),
        cmocka_unit_test(test_alg_ps256_is_refused),
        cmocka_unit_test(test_alg_missing_is_refused),
        cmocka_unit_test(test_alg_other_case_or_type_is_refused),
        cmocka_unit_test(test_crit_is_refused),
        cmocka_unit_test(test_typ_other_than_jwt_is_refused),
        cmocka_unit_test(test_typ_absent_is_accepted),
        cmocka_unit_test(test_missing_kid_is_refused),
        cmocka_unit_test(test_kid_with_spaces_is_refused),
        cmocka_unit_test(test_unknown_kid_finds_no_key),
        cmocka_unit_test(test_jku_x5u_jwk_x5c_headers_are_ignored),
        cmocka_unit_test(test_token_up_to_max_size_is_accepted),
        cmocka_unit_test(test_oversized_token_is_refused),
        cmocka_unit_test(test_oversized_header_is_refused),
        cmocka_unit_test(test_tampered_payload_is_refused),
        cmocka_unit_test(test_tampered_header_is_refused),
        cmocka_unit_test(test_tampered_signature_is_refused),
        cmocka_unit_test(test_signature_by_another_key_is_refused),
        cmocka_unit_test(test_signature_by_another_key_under_its_own_kid_verifies),
        cmocka_unit_test(test_truncated_signature_is_refused),
        cmocka_unit_test(test_signature_with_extra_bytes_is_refused),
        cmocka_unit_test(test_iss_wrong_is_refused),
        cmocka_unit_test(test_iss_v1_form_is_refused),
        cmocka_unit_test(test_iss_missing_is_refused),
        cmocka_unit_test(test_tid_wrong_is_refused),
        cmocka_unit_test(test_tid_missing_is_refused),
        cmocka_unit_test(test_aud_string_equal_to_client_id_is_accepted),
        cmocka_unit_test(test_aud_string_wrong_is_refused),
        cmocka_unit_test(test_aud_missing_is_refused),
        cmocka_unit_test(test_aud_array_of_one_client_id_is_accepted),
        cmocka_unit_test(test_aud_array_of_two_without_azp_is_refused),
        cmocka_unit_test(test_aud_array_of_two_with_azp_client_id_is_accepted),
        cmocka_unit_test(test_aud_array_of_two_with_other_azp_is_refused),
        cmocka_unit_test(test_aud_array_without_client_id_is_refused),
        cmocka_unit_test(test_aud_of_wrong_type_is_refused),
        cmocka_unit_test(test_aud_array_longer_than_16_is_refused),
        cmocka_unit_test(test_exp_in_the_past_beyond_skew_is_refused),
        cmocka_unit_test(test_exp_in_the_past_within_skew_is_accepted),
        cmocka_unit_test(test_exp_boundary_now_equal_to_exp_plus_skew_is_refused),
        cmocka_unit_test(test_exp_boundary_one_second_before_is_accepted),
        cmocka_unit_test(test_exp_with_zero_skew_is_exact),
        cmocka_unit_test(test_exp_far_in_the_future_does_not_overflow),
        cmocka_unit_test(test_nbf_in_the_future_beyond_skew_is_refused),
        cmocka_unit_test(test_nbf_in_the_future_within_skew_is_accepted),
        cmocka_unit_test(test_iat_in_the_future_beyond_skew_is_refused),
        cmocka_unit_test(test_iat_in_the_future_within_skew_is_accepted),
        cmocka_unit_test(test_exp_as_string_is_refused),
        cmocka_unit_test(test_exp_as_float_is_refused),
        cmocka_unit_test(test_nbf_as_string_is_refused),
        cmocka_unit_test(test_nbf_as_float_is_refused),
        cmocka_unit_test(test_iat_as_string_is_refused),
        cmocka_unit_test(test_iat_as_float_is_refused),
        cmocka_unit_test(test_exp_missing_is_refused),
        cmocka_unit_test(test_nbf_missing_is_refused),
        cmocka_unit_test(test_iat_missing_is_refused),
        cmocka_unit_test(test_ver_1_is_refused),
        cmocka_unit_test(test_ver_missing_is_refused),
        cmocka_unit_test(test_oid_missing_is_refused),
        cmocka_unit_test(test_oid_invalid_is_refused),
        cmocka_unit_test(test_key_issuer_template_matching_is_accepted),
        cmocka_unit_test(test_key_issuer_template_other_host_is_refused),
        cmocka_unit_test(test_key_issuer_concrete_other_tenant_is_refused),
        cmocka_unit_test(test_key_issuer_concrete_matching_is_accepted),
        cmocka_unit_test(test_key_without_issuer_is_accepted),
        cmocka_unit_test(test_no_idp_is_not_guest),
        cmocka_unit_test(test_idp_equal_to_iss_is_not_guest),
        cmocka_unit_test(test_idp_v1_issuer_of_own_tenant_is_not_guest),
        cmocka_unit_test(test_idp_other_tenant_is_guest),
        cmocka_unit_test(test_idp_microsoft_account_is_guest),
        cmocka_unit_test(test_idp_not_a_string_is_guest),
        cmocka_unit_test(test_acct_1_is_guest),
        cmocka_unit_test(test_acct_0_is_not_guest),
        cmocka_unit_test(test_tid_in_upper_case_is_accepted),
        cmocka_unit_test(test_access_token_with_scp_is_refused),
        cmocka_unit_test(test_aud_compares_with_client_id_without_regard_to_case),
        cmocka_unit_test(test_warmed_up_set_verifies_as_before),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
