/* test_sshcert.c - the SSH certificate that carries an ID token: what
 * aad_sshcert_make writes, aad_sshcert_parse reads back, and every
 * departure from the format the parser refuses; the nonce commitment. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "aad_sshcert.h"

#define TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJub25jZSI6Im4ifQ.c2ln"
#define OID "4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71"

static EVP_PKEY *key;
static unsigned char pub[32];
static const unsigned char salt[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static int setup(void **state)
{
    (void)state;
    key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return key != NULL && aad_ssh_ed25519_public(key, pub) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    return 0;
}

static unsigned char *make(size_t nprincipals, size_t *len)
{
    const char *principals[AAD_SSHCERT_MAX_PRINCIPALS + 1];
    for (size_t i = 0; i < nprincipals; i++)
        principals[i] = OID;
    struct aad_sshcert_spec s = {pub, key, "alice@contoso.example", principals, nprincipals,
                                 1000, 2000, TOKEN, salt};
    unsigned char *blob = NULL;
    struct aad_error err;
    assert_int_equal(aad_sshcert_make(&s, &blob, len, &err), AAD_OK);
    return blob;
}

static void refused(const unsigned char *blob, size_t len, const char *reason)
{
    struct aad_sshcert c;
    struct aad_error err = {0};
    assert_int_equal(aad_sshcert_parse(blob, len, &c, &err), AAD_DENIED);
    if (reason != NULL && strstr(err.message, reason) == NULL)
        fail_msg("'%s' does not say '%s'", err.message, reason);
}

static void a_made_certificate_reads_back(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(1, &len);
    struct aad_sshcert c;
    struct aad_error err;
    assert_int_equal(aad_sshcert_parse(blob, len, &c, &err), AAD_OK);
    assert_memory_equal(c.key, pub, 32);
    assert_memory_equal(c.signer, pub, 32);
    assert_string_equal(c.key_id, "alice@contoso.example");
    assert_int_equal(c.nprincipals, 1);
    assert_string_equal(c.principals[0], OID);
    assert_int_equal(c.valid_after, 1000);
    assert_int_equal(c.valid_before, 2000);
    assert_string_equal(c.id_token, TOKEN);
    assert_true(c.has_salt);
    assert_memory_equal(c.salt, salt, 32);
    assert_false(c.has_critical_options);
    aad_sshcert_clear(&c);
    /* The same through sshd's base64 text. */
    char *text = aad_ssh_base64(blob, len);
    assert_int_equal(aad_sshcert_parse_base64(text, &c, &err), AAD_OK);
    assert_string_equal(c.id_token, TOKEN);
    aad_sshcert_clear(&c);
    free(text);
    free(blob);
}

static void every_truncation_is_refused(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(1, &len);
    for (size_t n = 0; n < len; n++)
        refused(blob, n, NULL);
    free(blob);
}

static void trailing_bytes_are_refused(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(1, &len);
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, blob, len);
    longer[len] = 0;
    refused(longer, len + 1, "followed by data");
    free(longer);
    free(blob);
}

static void a_changed_byte_breaks_the_signature(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(1, &len);
    unsigned char *at = memmem(blob, len, "alice", 5);
    at[0] = 'm';
    refused(blob, len, "signature does not verify");
    free(blob);
}

static void another_key_type_is_refused(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(1, &len);
    blob[4 + 4] = 'X'; /* "ssh-Xd25519-cert-v01@openssh.com" */
    refused(blob, len, "not an ssh-ed25519-cert-v01@openssh.com certificate");
    free(blob);
}

static void too_many_principals_are_refused(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(AAD_SSHCERT_MAX_PRINCIPALS + 1, &len);
    refused(blob, len, "principals are malformed");
    free(blob);
}

static void an_oversized_blob_is_refused(void **state)
{
    (void)state;
    unsigned char *big = calloc(1, AAD_SSHCERT_MAX_BLOB + 1);
    refused(big, AAD_SSHCERT_MAX_BLOB + 1, "larger than");
    free(big);
}

static void base64_must_be_canonical(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *blob = make(1, &len);
    char *text = aad_ssh_base64(blob, len);
    struct aad_sshcert c;
    struct aad_error err;
    text[10] = '-'; /* base64url, not OpenSSH's base64 */
    assert_int_equal(aad_sshcert_parse_base64(text, &c, &err), AAD_DENIED);
    assert_int_equal(aad_sshcert_parse_base64("AAAA AAAA", &c, &err), AAD_DENIED);
    assert_int_equal(aad_sshcert_parse_base64("AB==", &c, &err), AAD_DENIED); /* stray bits */
    free(text);
    free(blob);
}

/* SHA-256("pam_aad ssh-cert v1" NUL || string("ssh-ed25519") || string(key) || salt). */
static void the_nonce_commits_to_key_and_salt(void **state)
{
    (void)state;
    unsigned char input[20 + 4 + 11 + 4 + 32 + 32], digest[32];
    size_t o = 0;
    memcpy(input, "pam_aad ssh-cert v1", 20);
    o = 20;
    memcpy(input + o, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
    o += 19;
    memcpy(input + o, pub, 32);
    o += 32;
    memcpy(input + o, salt, 32);
    o += 32;
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(input, o, digest, &n, EVP_sha256(), NULL), 1);
    char *expected = aad_base64url_encode(digest, n);
    char nonce[AAD_SSH_NONCE_CHARS + 1], other[AAD_SSH_NONCE_CHARS + 1];
    assert_int_equal(aad_sshcert_nonce(pub, salt, nonce), 0);
    assert_string_equal(nonce, expected);
    unsigned char salt2[32] = {0};
    assert_int_equal(aad_sshcert_nonce(pub, salt2, other), 0);
    assert_string_not_equal(nonce, other);
    free(expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_made_certificate_reads_back),
        cmocka_unit_test(every_truncation_is_refused),
        cmocka_unit_test(trailing_bytes_are_refused),
        cmocka_unit_test(a_changed_byte_breaks_the_signature),
        cmocka_unit_test(another_key_type_is_refused),
        cmocka_unit_test(too_many_principals_are_refused),
        cmocka_unit_test(an_oversized_blob_is_refused),
        cmocka_unit_test(base64_must_be_canonical),
        cmocka_unit_test(the_nonce_commits_to_key_and_salt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
