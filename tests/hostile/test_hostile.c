/* test_hostile.c - a hostile or broken identity provider against the real
 * pam_aad.so (real libpam, pam_start_confdir, nss_wrapper, syslog capture).
 *
 * Every case runs one pam_authenticate in a forked child and asserts the
 * exact PAM result, that the child exited normally (no crash), that it
 * returned within a bound (no hang), and that syslog holds no JWT and no
 * device code. Forgeries and bad claims must be PAM_AUTH_ERR; unusable
 * answers and TLS failures PAM_AUTHINFO_UNAVAIL; an attack never succeeds.
 * A few positive controls prove the rig can succeed at all, so that the
 * refusals are not vacuous. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <security/pam_appl.h>

#include "hostile.h"

#define UPN_CLAIM "\"preferred_username\":\"" ALICE_UPN "\""
/* Approval by the emulator's signing key with claims merged over its defaults. */
#define CLAIMS(extra) "{\"claims\":{" UPN_CLAIM extra "}}"
#define CLAIMS_HEADER(extra, header) "{\"claims\":{" UPN_CLAIM extra "},\"header\":" header "}"

static EVP_PKEY *k_good, *k_attacker, *k_small, *k_ec;
static char *jwk_good; /* published with use=sig */

static long bound(void)
{
    return 3 * H.http_timeout * 1000;
}

static int group_setup(void **state)
{
    (void)state;
    if (hostile_global_setup() != 0)
        return -1;
    k_good = hk_rsa(2048);
    k_attacker = hk_rsa(2048);
    k_small = hk_rsa(1024);
    k_ec = hk_ec();
    jwk_good = hk_jwk(k_good, "good-1", ",\"use\":\"sig\"");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k_good);
    EVP_PKEY_free(k_attacker);
    EVP_PKEY_free(k_small);
    EVP_PKEY_free(k_ec);
    free(jwk_good);
    hostile_global_teardown();
    return 0;
}

static int setup(void **state)
{
    (void)state;
    hostile_reset();
    return 0;
}

static struct login_result approve_as(const char *user, const char *approve)
{
    struct login_opts o = {.user = user, .approve = approve};
    return hostile_login(&o);
}

static void expect_approval(const char *approve, int want)
{
    struct login_result r = approve_as("alice", approve);
    hostile_expect(&r, want, bound());
}

/* Publishes the test's own good key (plus extra JWK texts) and logs in with
 * a token the test built itself. */
static void expect_raw(const char *extra_keys, const char *token, int want)
{
    char keys[16384];
    snprintf(keys, sizeof(keys), "[%s%s]", jwk_good, extra_keys ? extra_keys : "");
    hk_publish(H.emu, keys);
    char *approve = hk_approve_raw(token);
    expect_approval(approve, want);
    free(approve);
}

static char *good_header(void)
{
    return strdup("{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"good-1\"}");
}

static char *signed_by_good(const char *extra_claims, const char *upn)
{
    char *h = good_header(), *p = hk_payload(H.emu, extra_claims, upn);
    char *t = hk_sign(k_good, "RS256", h, p);
    free(h);
    free(p);
    return t;
}

/* ---------------------------------------------------------------- controls */

static void test_control_emulator_token_succeeds(void **state)
{
    (void)state;
    expect_approval(CLAIMS(""), PAM_SUCCESS);
}

static void test_control_own_key_token_succeeds(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    expect_raw(NULL, t, PAM_SUCCESS);
    free(t);
}

/* ----------------------------------------------------------------- forgery */

static void test_alg_none_unsigned(void **state)
{
    (void)state;
    expect_approval("{\"claims\":{" UPN_CLAIM "},\"header\":{\"alg\":\"none\"},\"sign_with\":\"none\"}",
                    PAM_AUTH_ERR);
}

static void test_alg_none_with_valid_rs256_signature(void **state)
{
    (void)state;
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_good, "RS256", "{\"alg\":\"none\",\"kid\":\"good-1\"}", p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(p);
    free(t);
}

static void test_hs256_keyed_with_public_key(void **state)
{
    (void)state;
    expect_approval(CLAIMS_HEADER("", "{\"alg\":\"HS256\"}"), PAM_AUTH_ERR);
}

static void test_rs384_signature(void **state)
{
    (void)state;
    expect_approval(CLAIMS_HEADER("", "{\"alg\":\"RS384\"}"), PAM_AUTH_ERR);
}

static void test_ps256_signature(void **state)
{
    (void)state;
    expect_approval(CLAIMS_HEADER("", "{\"alg\":\"PS256\"}"), PAM_AUTH_ERR);
}

static void test_lower_case_alg(void **state)
{
    (void)state;
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_good, "RS256", "{\"alg\":\"rs256\",\"kid\":\"good-1\"}", p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(p);
    free(t);
}

static void test_tampered_payload(void **state)
{
    (void)state;
    /* bob's genuine token with alice's claims pasted in. */
    char *bob = signed_by_good("", "bob@contoso.example");
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *pb = hk_b64url(p, strlen(p));
    char *d1 = strchr(bob, '.'), *d2 = strchr(d1 + 1, '.');
    char t[16384];
    snprintf(t, sizeof(t), "%.*s.%s%s", (int)(d1 - bob), bob, pb, d2);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(bob);
    free(p);
    free(pb);
}

static void test_tampered_signature(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    char *sig = strrchr(t, '.') + 10;
    *sig = *sig == 'A' ? 'B' : 'A';
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_truncated_signature(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    t[strlen(t) - 4] = '\0';
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_non_canonical_base64_signature(void **state)
{
    (void)state;
    /* A 256-byte signature ends in two base64url characters carrying 4
     * unused bits: setting one gives another string for the same bytes. */
    char *t = signed_by_good("", ALICE_UPN);
    char *last = t + strlen(t) - 1;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(alphabet, *last) - alphabet);
    assert_int_equal(v & 15, 0);
    *last = alphabet[v | 1];
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_unknown_kid_refetches_once_then_refuses(void **state)
{
    (void)state;
    int keys_before = emu_stat(H.emu, "keys");
    expect_approval("{\"claims\":{" UPN_CLAIM "},\"header\":{\"kid\":\"no-such-kid\"},"
                    "\"sign_with\":\"unknown-key\"}",
                    PAM_AUTH_ERR);
    /* the regular fetch of a cold cache plus exactly one forced refetch */
    assert_int_equal(emu_stat(H.emu, "keys") - keys_before, 2);
}

static void test_attacker_key_under_published_kid(void **state)
{
    (void)state;
    expect_approval("{\"claims\":{" UPN_CLAIM "},\"sign_with\":\"unknown-key\"}", PAM_AUTH_ERR);
}

static void test_kid_of_encryption_key(void **state)
{
    (void)state;
    char *enc = hk_jwk(k_attacker, "enc-1", ",\"use\":\"enc\"");
    char extra[8192];
    snprintf(extra, sizeof(extra), ",%s", enc);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_attacker, "RS256", "{\"alg\":\"RS256\",\"kid\":\"enc-1\"}", p);
    expect_raw(extra, t, PAM_AUTH_ERR);
    free(enc);
    free(p);
    free(t);
}

static void test_kid_of_key_with_other_alg(void **state)
{
    (void)state;
    char *k = hk_jwk(k_attacker, "rs512-1", ",\"use\":\"sig\",\"alg\":\"RS512\"");
    char extra[8192];
    snprintf(extra, sizeof(extra), ",%s", k);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_attacker, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rs512-1\"}", p);
    expect_raw(extra, t, PAM_AUTH_ERR);
    free(k);
    free(p);
    free(t);
}

static void test_kid_of_1024_bit_rsa_key(void **state)
{
    (void)state;
    char *k = hk_jwk(k_small, "small-1", ",\"use\":\"sig\"");
    char extra[8192];
    snprintf(extra, sizeof(extra), ",%s", k);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_small, "RS256", "{\"alg\":\"RS256\",\"kid\":\"small-1\"}", p);
    expect_raw(extra, t, PAM_AUTH_ERR);
    free(k);
    free(p);
    free(t);
}

static void test_ec_key_under_rsa_kid(void **state)
{
    (void)state;
    char *k = hk_jwk(k_ec, "ec-1", ",\"use\":\"sig\"");
    char extra[8192];
    snprintf(extra, sizeof(extra), ",%s", k);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_ec, "ES256", "{\"alg\":\"RS256\",\"kid\":\"ec-1\"}", p);
    expect_raw(extra, t, PAM_AUTH_ERR);
    free(k);
    free(p);
    free(t);
}

static void test_rsa_kty_with_ec_members(void **state)
{
    (void)state;
    /* kty says RSA, but the members are an EC point (no n, e). */
    char *k = hk_jwk(k_ec, "ec-2", ",\"use\":\"sig\"");
    char fixed[8192];
    snprintf(fixed, sizeof(fixed), ",{\"kty\":\"RSA\",%.8000s", strstr(k, "\"crv\""));
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_ec, "ES256", "{\"alg\":\"RS256\",\"kid\":\"ec-2\"}", p);
    expect_raw(fixed, t, PAM_AUTH_ERR);
    free(k);
    free(p);
    free(t);
}

static void test_crit_header(void **state)
{
    (void)state;
    expect_approval(CLAIMS_HEADER("", "{\"crit\":[\"exp\"]}"), PAM_AUTH_ERR);
}

static void test_typ_not_jwt(void **state)
{
    (void)state;
    expect_approval(CLAIMS_HEADER("", "{\"typ\":\"at+jwt\"}"), PAM_AUTH_ERR);
}

/* Signed by the attacker's unpublished key; the header names where to get
 * it (member: a JSON member text). */
static void attacker_header_case(const char *member)
{
    char header[8192];
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"att-1\",%.8000s}", member);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_attacker, "RS256", header, p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(p);
    free(t);
}

static void test_jku_header_to_attacker_keys(void **state)
{
    (void)state;
    attacker_header_case("\"jku\":\"https://evil.example/keys\"");
}

static void test_x5u_header_to_attacker_cert(void **state)
{
    (void)state;
    attacker_header_case("\"x5u\":\"https://evil.example/cert.pem\"");
}

static void test_embedded_jwk_header(void **state)
{
    (void)state;
    char *ajwk = hk_jwk(k_attacker, "att-1", "");
    char member[8192];
    snprintf(member, sizeof(member), "\"jwk\":%.8000s", ajwk);
    attacker_header_case(member);
    free(ajwk);
}

static void test_embedded_jwk_with_published_kid(void **state)
{
    (void)state;
    char *ajwk = hk_jwk(k_attacker, "good-1", "");
    char header[8192];
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"good-1\",\"jwk\":%s}", ajwk);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_attacker, "RS256", header, p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(ajwk);
    free(p);
    free(t);
}

static void test_duplicate_alg_in_header(void **state)
{
    (void)state;
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_good, "RS256", "{\"alg\":\"RS256\",\"kid\":\"good-1\",\"alg\":\"none\"}", p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(p);
    free(t);
}

static void test_duplicate_user_claim_in_payload(void **state)
{
    (void)state;
    /* One parser would read bob, another alice. */
    char *t = signed_by_good(",\"preferred_username\":\"" ALICE_UPN "\"", "bob@contoso.example");
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_oversized_payload(void **state)
{
    (void)state;
    char *junk = malloc(40000);
    strcpy(junk, ",\"junk\":\"");
    memset(junk + strlen(junk), 'x', 30000);
    strcpy(junk + 9 + 30000, "\"");
    char *t = signed_by_good(junk, ALICE_UPN);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(junk);
    free(t);
}

static void test_oversized_header(void **state)
{
    (void)state;
    char header[4000];
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"good-1\",\"x\":\"%03000d\"}", 0);
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_good, "RS256", header, p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(p);
    free(t);
}

static void test_id_token_larger_than_jwt_limit(void **state)
{
    (void)state;
    /* 40 KB of well-formed parts: more than a JWT may be, less than the
     * answer may carry (the emulator's control API takes 64 KB). */
    size_t n = 40 * 1024;
    char *t = malloc(n + 1);
    memset(t, 'A', n);
    t[100] = '.';
    t[200] = '.';
    t[n] = '\0';
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_padded_base64(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    char *d2 = strrchr(t, '.');
    char buf[16384];
    snprintf(buf, sizeof(buf), "%.*s==%s", (int)(d2 - t), t, d2);
    expect_raw(NULL, buf, PAM_AUTH_ERR);
    free(t);
}

static void test_bad_base64url_character(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    strchr(t, '.')[3] = '+';
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_four_segments(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    char buf[16384];
    snprintf(buf, sizeof(buf), "%s.eyJ9", t);
    expect_raw(NULL, buf, PAM_AUTH_ERR);
    free(t);
}

static void test_two_segments(void **state)
{
    (void)state;
    char *t = signed_by_good("", ALICE_UPN);
    *strrchr(t, '.') = '\0';
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_empty_id_token(void **state)
{
    (void)state;
    expect_raw(NULL, "", PAM_AUTH_ERR);
}

static void test_header_is_an_array(void **state)
{
    (void)state;
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_good, "RS256", "[\"RS256\",\"good-1\"]", p);
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(p);
    free(t);
}

static void test_payload_with_nul_in_upn(void **state)
{
    (void)state;
    /* "alice\u0000@evil.example": C would read "alice", the domain check another. */
    char *t = signed_by_good(",\"upn\":\"x\"", "alice\\u0000@evil.example");
    expect_raw(NULL, t, PAM_AUTH_ERR);
    free(t);
}

static void test_id_token_not_a_string(void **state)
{
    (void)state;
    expect_approval("{\"claims\":{" UPN_CLAIM "},\"token_response\":{\"id_token\":12}}",
                    PAM_AUTHINFO_UNAVAIL);
}

static void test_key_issuer_of_other_tenant(void **state)
{
    (void)state;
    /* The key is published, but only for another tenant's tokens. */
    char keys[8192];
    char *k = hk_jwk(k_good, "good-1",
                     ",\"use\":\"sig\",\"issuer\":\"https://login.microsoftonline.com/"
                     "9188040d-6c67-4c5b-b112-36a304b66dad/v2.0\"");
    snprintf(keys, sizeof(keys), "[%s]", k);
    hk_publish(H.emu, keys);
    char *t = signed_by_good("", ALICE_UPN);
    char *approve = hk_approve_raw(t);
    expect_approval(approve, PAM_AUTH_ERR);
    free(k);
    free(t);
    free(approve);
}

/* ------------------------------------------------------------------ claims */

#define CLAIM_CASE(name, extra, want)                                                          \
    static void name(void **state)                                                             \
    {                                                                                          \
        (void)state;                                                                           \
        expect_approval(CLAIMS(extra), want);                                                  \
    }

CLAIM_CASE(test_aud_other_application, ",\"aud\":\"00000003-0000-0000-c000-000000000000\"", PAM_AUTH_ERR)
CLAIM_CASE(test_aud_array_with_other_and_no_azp,
           ",\"aud\":[\"535fb089-9ff3-47b6-9bfb-4f1264799865\",\"evil\"]", PAM_AUTH_ERR)
CLAIM_CASE(test_aud_array_of_only_us_succeeds, ",\"aud\":[\"535fb089-9ff3-47b6-9bfb-4f1264799865\"]",
           PAM_SUCCESS)
CLAIM_CASE(test_aud_number, ",\"aud\":535", PAM_AUTH_ERR)
CLAIM_CASE(test_aud_missing, ",\"aud\":null", PAM_AUTH_ERR)
CLAIM_CASE(test_aud_prefix_of_client_id, ",\"aud\":\"535fb089-9ff3-47b6-9bfb-4f126479986\"", PAM_AUTH_ERR)
CLAIM_CASE(test_iss_other_tenant,
           ",\"iss\":\"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0\"",
           PAM_AUTH_ERR)
CLAIM_CASE(test_iss_v1_form, ",\"iss\":\"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\"",
           PAM_AUTH_ERR)
CLAIM_CASE(test_iss_missing, ",\"iss\":null", PAM_AUTH_ERR)
CLAIM_CASE(test_tid_other_tenant, ",\"tid\":\"9188040d-6c67-4c5b-b112-36a304b66dad\"", PAM_AUTH_ERR)
CLAIM_CASE(test_tid_missing, ",\"tid\":null", PAM_AUTH_ERR)
CLAIM_CASE(test_ver_1_0, ",\"ver\":\"1.0\"", PAM_AUTH_ERR)
CLAIM_CASE(test_ver_number, ",\"ver\":2.0", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_past_beyond_skew, ",\"exp\":\"now-400\"", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_exactly_at_skew_boundary, ",\"exp\":\"now-300\"", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_within_skew_succeeds, ",\"exp\":\"now-200\"", PAM_SUCCESS)
CLAIM_CASE(test_nbf_future_beyond_skew, ",\"nbf\":\"now+400\"", PAM_AUTH_ERR)
CLAIM_CASE(test_nbf_within_skew_succeeds, ",\"nbf\":\"now+200\"", PAM_SUCCESS)
CLAIM_CASE(test_iat_future_beyond_skew, ",\"iat\":\"now+400\"", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_missing, ",\"exp\":null", PAM_AUTH_ERR)
CLAIM_CASE(test_nbf_missing, ",\"nbf\":null", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_as_string, ",\"exp\":\"99999999999\"", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_as_float, ",\"exp\":99999999999.0", PAM_AUTH_ERR)
CLAIM_CASE(test_exp_at_int64_max_does_not_overflow, ",\"exp\":9223372036854775807,\"nbf\":-9223372036854775807",
           PAM_SUCCESS)
CLAIM_CASE(test_oid_missing, ",\"oid\":null", PAM_AUTH_ERR)
CLAIM_CASE(test_oid_not_a_guid, ",\"oid\":\"alice\"", PAM_AUTH_ERR)
CLAIM_CASE(test_guest_acct_1, ",\"acct\":1", PAM_AUTH_ERR)
CLAIM_CASE(test_guest_other_idp, ",\"idp\":\"https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/\"",
           PAM_AUTH_ERR)
CLAIM_CASE(test_guest_acct_as_string, ",\"acct\":\"0\"", PAM_AUTH_ERR)

#define UPN_CASE(name, upn, user, want)                                                        \
    static void name(void **state)                                                             \
    {                                                                                          \
        (void)state;                                                                           \
        struct login_result r = approve_as(user, "{\"claims\":{\"preferred_username\":" upn "}}"); \
        hostile_expect(&r, want, bound());                                                     \
    }

UPN_CASE(test_upn_other_user, "\"bob@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_other_domain, "\"alice@evil.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_domain_suffix_trick, "\"alice@contoso.example.evil.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_two_at_signs, "\"alice@evil.example@contoso.example\"", "alice", PAM_AUTH_ERR)
/* aad_mapping.c lower-cases the local part and compares domains without case. */
UPN_CASE(test_upn_upper_case_maps_to_lower_case_account, "\"ALICE@CONTOSO.EXAMPLE\"", "alice",
         PAM_SUCCESS)
UPN_CASE(test_upn_confusable_cyrillic_a, "\"\\u0430lice@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_fullwidth_letters, "\"\\uff41lice@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_dot_dot, "\"..@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_path_traversal, "\"../alice@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_slash, "\"alice/x@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_trailing_space, "\"alice @contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_very_long,
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "@contoso.example\"",
         "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_root_for_alice, "\"root@contoso.example\"", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_not_a_string, "[\"alice@contoso.example\"]", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_missing, "null", "alice", PAM_AUTH_ERR)
UPN_CASE(test_upn_without_domain, "\"alice\"", "alice", PAM_AUTH_ERR)

static void test_root_without_allow_root_ignored_before_traffic(void **state)
{
    (void)state;
    int before = emu_stat(H.emu, "devicecode");
    struct login_result r = approve_as("root", "{\"claims\":{\"preferred_username\":\"root@contoso.example\"}}");
    /* pam_aad says PAM_IGNORE; a stack of it alone ("auth required") then
     * has no answer, which libpam reports as PAM_PERM_DENIED. */
    hostile_expect(&r, PAM_PERM_DENIED, bound());
    assert_non_null(strstr(hostile_syslog(), "result=ignored kind=ignored aadsts=0 reason=account root has uid 0"));
    assert_int_equal(emu_stat(H.emu, "devicecode"), before);
}

/* ---------------------------------------------------------------- protocol */

static void expect_fault(const char *fault, const char *approve, int want, long bound_ms)
{
    hostile_fault(fault);
    struct login_result r = approve_as("alice", approve);
    hostile_expect(&r, want, bound_ms);
}

static void test_devicecode_huge_body(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"devicecode\",\"oversize_bytes\":2097152}", NULL,
                 PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_devicecode_endless_body(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"devicecode\",\"oversize_bytes\":268435456}", NULL,
                 PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_keys_huge_body(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"keys\",\"oversize_bytes\":4194304}", CLAIMS(""),
                 PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_devicecode_slower_than_http_timeout(void **state)
{
    (void)state;
    char f[128];
    snprintf(f, sizeof(f), "{\"endpoint\":\"devicecode\",\"delay_ms\":%ld,\"status\":200,\"body\":\"{}\"}",
             (H.http_timeout + 3) * 1000);
    expect_fault(f, NULL, PAM_AUTHINFO_UNAVAIL, H.http_timeout * 1000 + 1500);
}

static void test_discovery_slower_than_http_timeout(void **state)
{
    (void)state;
    char f[128];
    snprintf(f, sizeof(f), "{\"endpoint\":\"discovery\",\"delay_ms\":%ld}", (H.http_timeout + 3) * 1000);
    expect_fault(f, CLAIMS(""), PAM_AUTHINFO_UNAVAIL, H.http_timeout * 1000 + 1500);
}

static void test_token_endpoint_always_slow(void **state)
{
    (void)state;
    char f[128];
    snprintf(f, sizeof(f), "{\"endpoint\":\"token\",\"delay_ms\":%ld,\"count\":-1}",
             (H.http_timeout + 3) * 1000);
    /* three timed-out polls, one interval apart, then give up */
    expect_fault(f, CLAIMS(""), PAM_AUTHINFO_UNAVAIL, 3 * (H.http_timeout + 1) * 1000 + 2000);
}

static void test_devicecode_truncated_json(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"devicecode\",\"status\":200,\"body\":\"{\\\"device_code\\\":\\\"abc\"}",
                 NULL, PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_devicecode_html_content_type(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"devicecode\",\"content_type\":\"text/html\",\"status\":200,"
                 "\"body\":\"{\\\"device_code\\\":\\\"abcdefgh\\\",\\\"user_code\\\":\\\"ABCD\\\","
                 "\\\"verification_uri\\\":\\\"https://microsoft.com/devicelogin\\\","
                 "\\\"expires_in\\\":900,\\\"interval\\\":1}\"}",
                 NULL, PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_token_answer_not_json(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"token\",\"content_type\":\"text/plain\",\"status\":200,"
                 "\"body\":\"id_token=eyJhbGciOiJub25lIn0.e30.\"}",
                 CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_discovery_redirect_to_other_host(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"discovery\",\"redirect\":\"https://evil.example/.well-known/openid-configuration\"}",
                 CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_keys_redirect_to_other_host(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"keys\",\"status\":301,\"redirect\":\"https://evil.example/keys\"}",
                 CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_discovery_jwks_uri_on_other_host(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"discovery\",\"merge\":{\"jwks_uri\":\"https://evil.example/keys\"}}",
                 CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_discovery_issuer_of_other_tenant(void **state)
{
    (void)state;
    char f[512];
    snprintf(f, sizeof(f),
             "{\"endpoint\":\"discovery\",\"merge\":{\"issuer\":\"%s/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0\"}}",
             emu_authority(H.emu));
    expect_fault(f, CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_discovery_issuer_template(void **state)
{
    (void)state;
    char f[512];
    snprintf(f, sizeof(f), "{\"endpoint\":\"discovery\",\"merge\":{\"issuer\":\"%s/{tenantid}/v2.0\"}}",
             emu_authority(H.emu));
    expect_fault(f, CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_jwks_without_keys(void **state)
{
    (void)state;
    hk_publish(H.emu, "[]");
    expect_approval(CLAIMS(""), PAM_AUTHINFO_UNAVAIL);
}

static void test_jwks_garbage(void **state)
{
    (void)state;
    hostile_control(H.emu, "/control/jwks", "{\"raw\":\"{\\\"keys\\\":[{\\\"kty\\\":\"}");
    expect_approval(CLAIMS(""), PAM_AUTHINFO_UNAVAIL);
}

#define MERGE_CASE(name, merge, approve, want, bound_expr)                                   \
    static void name(void **state)                                                           \
    {                                                                                        \
        (void)state;                                                                         \
        expect_fault("{\"endpoint\":\"devicecode\",\"merge\":" merge "}", approve, want,     \
                     bound_expr);                                                            \
    }

/* Odd intervals are clamped; success comes from the first poll after Enter. */
MERGE_CASE(test_interval_zero, "{\"interval\":0}", CLAIMS(""), PAM_SUCCESS, bound())
MERGE_CASE(test_interval_negative, "{\"interval\":-5}", CLAIMS(""), PAM_SUCCESS, bound())
/* A huge interval (clamped to 60 s) is honoured: the first Enter polls at
 * once (no poll came before it), but once that poll has said "not yet" no
 * Enter brings the next one closer (RFC 8628), although the user has
 * signed in meanwhile; the code's own life (3 s) ends the login. */
static void test_interval_huge(void **state)
{
    (void)state;
    hostile_fault("{\"endpoint\":\"token\",\"error\":\"authorization_pending\"}");
    expect_fault("{\"endpoint\":\"devicecode\",\"merge\":{\"interval\":2000000000000,"
                 "\"expires_in\":3}}",
                 CLAIMS(""), PAM_AUTH_ERR, 8000);
}
MERGE_CASE(test_interval_not_integer, "{\"interval\":\"1\"}", CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound())
MERGE_CASE(test_expires_in_missing, "{\"expires_in\":null}", CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound())
MERGE_CASE(test_expires_in_negative, "{\"expires_in\":-1}", CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound())
MERGE_CASE(test_expires_in_huge_still_works, "{\"expires_in\":9223372036854775807}", CLAIMS(""),
           PAM_SUCCESS, bound())
/* Nobody signs in: the code's own short life ends the wait, not timeout. */
MERGE_CASE(test_expires_in_short_ends_the_wait, "{\"expires_in\":2}", NULL, PAM_AUTH_ERR, 4000)
MERGE_CASE(test_devicecode_without_user_code, "{\"user_code\":null}", NULL, PAM_AUTHINFO_UNAVAIL, bound())
MERGE_CASE(test_devicecode_without_device_code, "{\"device_code\":null}", NULL, PAM_AUTHINFO_UNAVAIL,
           bound())
MERGE_CASE(test_user_code_with_terminal_escape, "{\"user_code\":\"\\u001b[2J\\u001b]0;pwned\\u0007\"}",
           NULL, PAM_AUTHINFO_UNAVAIL, bound())
MERGE_CASE(test_verification_uri_plain_http, "{\"verification_uri\":\"http://microsoft.com/devicelogin\"}",
           NULL, PAM_AUTHINFO_UNAVAIL, bound())
MERGE_CASE(test_verification_uri_with_newline,
           "{\"verification_uri\":\"https://microsoft.com/devicelogin\\nEnter your password:\"}", NULL,
           PAM_AUTHINFO_UNAVAIL, bound())

static void test_devicecode_http_500(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"devicecode\",\"error\":\"server_error\"}", NULL, PAM_AUTHINFO_UNAVAIL,
                 bound());
}

static void test_token_429_storm(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"token\",\"status\":429,\"body\":\"{}\",\"count\":-1,"
                 "\"headers\":{\"Retry-After\":\"1\"}}",
                 CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_token_5xx_storm(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"token\",\"error\":\"temporarily_unavailable\",\"count\":-1}", CLAIMS(""),
                 PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_token_503_retry_after_beyond_deadline(void **state)
{
    (void)state;
    /* "come back in a day": the service is unavailable, the user did nothing wrong */
    expect_fault("{\"endpoint\":\"token\",\"status\":503,\"body\":\"{}\",\"count\":-1,"
                 "\"headers\":{\"Retry-After\":\"86400\"}}",
                 CLAIMS(""), PAM_AUTHINFO_UNAVAIL, bound());
}

static void test_token_connection_closed(void **state)
{
    (void)state;
    expect_fault("{\"endpoint\":\"token\",\"close\":true,\"count\":-1}", CLAIMS(""), PAM_AUTHINFO_UNAVAIL,
                 bound());
}

static void test_token_answer_without_id_token(void **state)
{
    (void)state;
    expect_approval("{\"claims\":{" UPN_CLAIM "},\"token_response\":{\"id_token\":null}}",
                    PAM_AUTHINFO_UNAVAIL);
}

static void test_public_client_disabled(void **state)
{
    (void)state;
    /* Entra says this host's registration is wrong: loud, not an outage. */
    expect_fault("{\"endpoint\":\"token\",\"error\":\"invalid_client\"}", CLAIMS(""), PAM_SERVICE_ERR,
                 bound());
}

static void test_replayed_device_code_is_refused(void **state)
{
    (void)state;
    /* A genuine login redeems its code... */
    expect_approval(CLAIMS(""), PAM_SUCCESS);
    char *resp = NULL;
    assert_int_equal(emu_control(H.emu, "GET", "/control/codes", NULL, &resp), 200);
    json_t *root = json_loads(resp, 0, NULL);
    free(resp);
    json_t *codes = json_object_get(root, "codes");
    json_t *last = json_array_get(codes, json_array_size(codes) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "state")), "redeemed");
    /* ...then a broken service hands the same device code out again. */
    json_t *fault = json_pack("{s:s, s:{s:s, s:s}}", "endpoint", "devicecode", "merge", "device_code",
                              json_string_value(json_object_get(last, "device_code")), "user_code",
                              "REPL-AYED");
    char *text = json_dumps(fault, JSON_COMPACT);
    hostile_fault(text);
    free(text);
    json_decref(fault);
    json_decref(root);
    unlink(H.syslog_file);
    struct login_result r = approve_as("alice", NULL);
    hostile_expect(&r, PAM_AUTH_ERR, bound());
}

static void test_declined_then_token_claims_success(void **state)
{
    (void)state;
    /* The poll says "declined" while a later answer would carry a token. */
    expect_fault("{\"endpoint\":\"token\",\"error\":\"authorization_declined\"}", CLAIMS(""), PAM_AUTH_ERR,
                 bound());
}

/* --------------------------------------------------------------------- TLS */

/* want: a server certificate that ca_file does not vouch for is this
 * host's configuration (PAM_SERVICE_ERR); an expired or misnamed one is
 * the server's (PAM_AUTHINFO_UNAVAIL). Either way no request gets through. */
static void tls_case(const char *cert_mode, const char *ca_file, int want)
{
    const char *args[] = {"--interval", "1", cert_mode ? "--tls-cert" : NULL, cert_mode, NULL};
    struct emu *e = emu_start(EMULATOR_PATH, args);
    assert_non_null(e);
    struct login_opts o = {.emu = e, .approve = CLAIMS(""), .ca_file = ca_file};
    struct login_result r = hostile_login(&o);
    int devicecode = emu_stat(e, "devicecode");
    emu_stop(e);
    hostile_expect(&r, want, bound());
    assert_int_equal(devicecode, 0); /* no request got through the handshake */
}

static void test_tls_unknown_ca(void **state)
{
    (void)state;
    /* The emulator's certificate checked against another throw-away CA. */
    struct emu *other = emu_start(EMULATOR_PATH, NULL);
    assert_non_null(other);
    char ca[400];
    snprintf(ca, sizeof(ca), "%s/other-ca.pem", H.root);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", emu_ca_file(other), ca);
    assert_int_equal(system(cmd), 0);
    emu_stop(other);
    tls_case(NULL, ca, PAM_SERVICE_ERR);
    assert_non_null(strstr(hostile_syslog(), "is not issued by a CA of ca_file"));
    assert_non_null(strstr(hostile_syslog(), "kind=ca-file"));
}

static void test_tls_system_store_does_not_trust_emulator(void **state)
{
    (void)state;
    tls_case(NULL, "/etc/ssl/certs/ca-certificates.crt", PAM_SERVICE_ERR);
}

static void test_tls_expired_certificate(void **state)
{
    (void)state;
    tls_case("expired", NULL, PAM_AUTHINFO_UNAVAIL);
}

static void test_tls_certificate_for_other_host(void **state)
{
    (void)state;
    tls_case("wrong-name", NULL, PAM_AUTHINFO_UNAVAIL);
}

/* ------------------------------------------------------------------- cache */

/* A cache entry for authority/tenant whose key set is the attacker's. */
static char *attacker_entry(const char *authority)
{
    char *jwk = hk_jwk(k_attacker, "att-1", ",\"use\":\"sig\"");
    char jwks[8192];
    snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", jwk);
    free(jwk);
    char issuer[300], uri[300];
    snprintf(issuer, sizeof(issuer), "%s/%s/v2.0", emu_authority(H.emu), emu_env(H.emu, "TENANT_ID"));
    snprintf(uri, sizeof(uri), "%s/%s/discovery/v2.0/keys", emu_authority(H.emu),
             emu_env(H.emu, "TENANT_ID"));
    json_t *e = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "version", 1, "authority",
                          authority, "tenant", emu_env(H.emu, "TENANT_ID"), "issuer", issuer,
                          "tenant_id", emu_env(H.emu, "TENANT_ID"), "jwks_uri", uri, "jwks", jwks,
                          "fetched_at", (json_int_t)time(NULL), "forced_at", (json_int_t)time(NULL));
    char *text = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return text;
}

static char *attacker_token(void)
{
    char *p = hk_payload(H.emu, "", ALICE_UPN);
    char *t = hk_sign(k_attacker, "RS256", "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"att-1\"}", p);
    free(p);
    return t;
}

/* foreign: owned by another user (uid 1001), which only root can arrange. */
static void seed_file(const char *path, const char *text, mode_t mode, int foreign)
{
    if (foreign && geteuid() != 0)
        skip(); /* cmocka: reported as skipped, not passed */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    if (foreign)
        assert_int_equal(fchown(fd, 1001, (gid_t)-1), 0);
    close(fd);
}

enum seed_kind { SEED_WORLD_WRITABLE, SEED_FOREIGN_OWNER, SEED_SYMLINK, SEED_OTHER_AUTHORITY,
                 SEED_DIR_WORLD_WRITABLE, SEED_CORRUPT, SEED_FIFO };

static void cache_case(enum seed_kind kind, int legit, int want)
{
    static int n;
    char dir[400], name[128], path[600];
    snprintf(dir, sizeof(dir), "%s/seeded-%d", H.root, ++n);
    assert_int_equal(mkdir(dir, kind == SEED_DIR_WORLD_WRITABLE ? 0777 : 0700), 0);
    if (kind == SEED_DIR_WORLD_WRITABLE)
        assert_int_equal(chmod(dir, 0777), 0);
    hostile_cache_name(H.emu, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *entry = attacker_entry(kind == SEED_OTHER_AUTHORITY ? "https://127.0.0.1:1" : emu_authority(H.emu));
    switch (kind) {
    case SEED_WORLD_WRITABLE: seed_file(path, entry, 0666, 0); break;
    case SEED_FOREIGN_OWNER: seed_file(path, entry, 0600, 1); break;
    case SEED_OTHER_AUTHORITY: seed_file(path, entry, 0600, 0); break;
    case SEED_DIR_WORLD_WRITABLE: seed_file(path, entry, 0600, 0); break;
    case SEED_CORRUPT: seed_file(path, "{\"version\":1,\"authority\":\"htt", 0600, 0); break;
    case SEED_FIFO: assert_int_equal(mkfifo(path, 0600), 0); break;
    case SEED_SYMLINK: {
        /* A perfectly safe file elsewhere, reached through a link. */
        char target[600];
        snprintf(target, sizeof(target), "%s/target.json", H.root);
        seed_file(target, entry, 0600, 0);
        assert_int_equal(symlink(target, path), 0);
        break;
    }
    }
    free(entry);
    char *token = legit ? NULL : attacker_token();
    char *approve = legit ? strdup(CLAIMS("")) : hk_approve_raw(token);
    struct login_opts o = {.approve = approve, .cache_dir = dir};
    struct login_result r = hostile_login(&o);
    hostile_expect(&r, want, bound());
    free(token);
    free(approve);
}

static void test_cache_world_writable_attacker_keys_ignored(void **state)
{
    (void)state;
    cache_case(SEED_WORLD_WRITABLE, 0, PAM_AUTH_ERR);
}

static void test_cache_foreign_owned_attacker_keys_ignored(void **state)
{
    (void)state;
    cache_case(SEED_FOREIGN_OWNER, 0, PAM_AUTH_ERR);
}

static void test_cache_symlink_to_attacker_keys_ignored(void **state)
{
    (void)state;
    cache_case(SEED_SYMLINK, 0, PAM_AUTH_ERR);
}

static void test_cache_entry_of_other_authority_ignored(void **state)
{
    (void)state;
    cache_case(SEED_OTHER_AUTHORITY, 0, PAM_AUTH_ERR);
}

static void test_cache_in_world_writable_dir_ignored(void **state)
{
    (void)state;
    cache_case(SEED_DIR_WORLD_WRITABLE, 0, PAM_AUTH_ERR);
}

static void test_cache_corrupt_is_replaced(void **state)
{
    (void)state;
    cache_case(SEED_CORRUPT, 1, PAM_SUCCESS);
}

static void test_cache_fifo_does_not_hang(void **state)
{
    (void)state;
    cache_case(SEED_FIFO, 1, PAM_SUCCESS);
}

int main(int argc, char **argv)
{
    (void)argc;
    hostile_enter_wrappers(argv);
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_control_emulator_token_succeeds),
        T(test_control_own_key_token_succeeds),
        /* forgery */
        T(test_alg_none_unsigned),
        T(test_alg_none_with_valid_rs256_signature),
        T(test_hs256_keyed_with_public_key),
        T(test_rs384_signature),
        T(test_ps256_signature),
        T(test_lower_case_alg),
        T(test_tampered_payload),
        T(test_tampered_signature),
        T(test_truncated_signature),
        T(test_non_canonical_base64_signature),
        T(test_unknown_kid_refetches_once_then_refuses),
        T(test_attacker_key_under_published_kid),
        T(test_kid_of_encryption_key),
        T(test_kid_of_key_with_other_alg),
        T(test_kid_of_1024_bit_rsa_key),
        T(test_ec_key_under_rsa_kid),
        T(test_rsa_kty_with_ec_members),
        T(test_crit_header),
        T(test_typ_not_jwt),
        T(test_jku_header_to_attacker_keys),
        T(test_x5u_header_to_attacker_cert),
        T(test_embedded_jwk_header),
        T(test_embedded_jwk_with_published_kid),
        T(test_duplicate_alg_in_header),
        T(test_duplicate_user_claim_in_payload),
        T(test_oversized_payload),
        T(test_oversized_header),
        T(test_id_token_larger_than_jwt_limit),
        T(test_padded_base64),
        T(test_bad_base64url_character),
        T(test_four_segments),
        T(test_two_segments),
        T(test_empty_id_token),
        T(test_header_is_an_array),
        T(test_payload_with_nul_in_upn),
        T(test_id_token_not_a_string),
        T(test_key_issuer_of_other_tenant),
        /* claims */
        T(test_aud_other_application),
        T(test_aud_array_with_other_and_no_azp),
        T(test_aud_array_of_only_us_succeeds),
        T(test_aud_number),
        T(test_aud_missing),
        T(test_aud_prefix_of_client_id),
        T(test_iss_other_tenant),
        T(test_iss_v1_form),
        T(test_iss_missing),
        T(test_tid_other_tenant),
        T(test_tid_missing),
        T(test_ver_1_0),
        T(test_ver_number),
        T(test_exp_past_beyond_skew),
        T(test_exp_exactly_at_skew_boundary),
        T(test_exp_within_skew_succeeds),
        T(test_nbf_future_beyond_skew),
        T(test_nbf_within_skew_succeeds),
        T(test_iat_future_beyond_skew),
        T(test_exp_missing),
        T(test_nbf_missing),
        T(test_exp_as_string),
        T(test_exp_as_float),
        T(test_exp_at_int64_max_does_not_overflow),
        T(test_oid_missing),
        T(test_oid_not_a_guid),
        T(test_guest_acct_1),
        T(test_guest_other_idp),
        T(test_guest_acct_as_string),
        T(test_upn_other_user),
        T(test_upn_other_domain),
        T(test_upn_domain_suffix_trick),
        T(test_upn_two_at_signs),
        T(test_upn_upper_case_maps_to_lower_case_account),
        T(test_upn_confusable_cyrillic_a),
        T(test_upn_fullwidth_letters),
        T(test_upn_dot_dot),
        T(test_upn_path_traversal),
        T(test_upn_slash),
        T(test_upn_trailing_space),
        T(test_upn_very_long),
        T(test_upn_root_for_alice),
        T(test_upn_not_a_string),
        T(test_upn_missing),
        T(test_upn_without_domain),
        T(test_root_without_allow_root_ignored_before_traffic),
        /* protocol */
        T(test_devicecode_huge_body),
        T(test_devicecode_endless_body),
        T(test_keys_huge_body),
        T(test_devicecode_slower_than_http_timeout),
        T(test_discovery_slower_than_http_timeout),
        T(test_token_endpoint_always_slow),
        T(test_devicecode_truncated_json),
        T(test_devicecode_html_content_type),
        T(test_token_answer_not_json),
        T(test_discovery_redirect_to_other_host),
        T(test_keys_redirect_to_other_host),
        T(test_discovery_jwks_uri_on_other_host),
        T(test_discovery_issuer_of_other_tenant),
        T(test_discovery_issuer_template),
        T(test_jwks_without_keys),
        T(test_jwks_garbage),
        T(test_interval_zero),
        T(test_interval_negative),
        T(test_interval_huge),
        T(test_interval_not_integer),
        T(test_expires_in_missing),
        T(test_expires_in_negative),
        T(test_expires_in_huge_still_works),
        T(test_expires_in_short_ends_the_wait),
        T(test_devicecode_without_user_code),
        T(test_devicecode_without_device_code),
        T(test_user_code_with_terminal_escape),
        T(test_verification_uri_plain_http),
        T(test_verification_uri_with_newline),
        T(test_devicecode_http_500),
        T(test_token_429_storm),
        T(test_token_5xx_storm),
        T(test_token_503_retry_after_beyond_deadline),
        T(test_token_connection_closed),
        T(test_token_answer_without_id_token),
        T(test_public_client_disabled),
        T(test_replayed_device_code_is_refused),
        T(test_declined_then_token_claims_success),
        /* TLS */
        T(test_tls_unknown_ca),
        T(test_tls_system_store_does_not_trust_emulator),
        T(test_tls_expired_certificate),
        T(test_tls_certificate_for_other_host),
        /* cache */
        T(test_cache_world_writable_attacker_keys_ignored),
        T(test_cache_foreign_owned_attacker_keys_ignored),
        T(test_cache_symlink_to_attacker_keys_ignored),
        T(test_cache_entry_of_other_authority_ignored),
        T(test_cache_in_world_writable_dir_ignored),
        T(test_cache_corrupt_is_replaced),
        T(test_cache_fifo_does_not_hang),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
