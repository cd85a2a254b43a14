/* test_assertion.c - aad_assertion_build and the application's credential
 * files: an encrypted private key is a configuration error (never a
 * passphrase prompt), a key readable by others is refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "aad_assertion.h"
#include "token_maker.h"
#include "unit_support.h"

#define CLIENT "535fb089-9ff3-47b6-9bfb-4f1264799865"
#define AUDIENCE "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"

static char dir[64], cert_path[128], key_path[128];
static EVP_PKEY *key;

enum key_form { KEY_PLAIN, KEY_PKCS8_ENCRYPTED, KEY_LEGACY_ENCRYPTED };

/* The key in key_path, in the given form, with the given mode. */
static void write_key(enum key_form form, mode_t mode)
{
    BIO *bio = BIO_new_file(key_path, "w");
    assert_non_null(bio);
    static unsigned char pw[] = "passphrase";
    int ok = 0;
    switch (form) {
    case KEY_PLAIN:
        ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
        break;
    case KEY_PKCS8_ENCRYPTED: /* -----BEGIN ENCRYPTED PRIVATE KEY----- */
        ok = PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(), pw, (int)sizeof(pw) - 1, NULL,
                                      NULL);
        break;
    case KEY_LEGACY_ENCRYPTED: /* Proc-Type: 4,ENCRYPTED */
        ok = PEM_write_bio_PrivateKey_traditional(bio, key, EVP_aes_256_cbc(), pw,
                                                  (int)sizeof(pw) - 1, NULL, NULL);
        break;
    }
    assert_int_equal(ok, 1);
    BIO_free(bio);
    assert_int_equal(chmod(key_path, mode), 0);
}

static int group_setup(void **state)
{
    (void)state;
    if (unit_make_dir(dir, sizeof(dir), "assertion") != 0 || (key = tm_generate_rsa(2048)) == NULL)
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/app-cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/app-key.pem", dir);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"app", -1, -1, 0);
    X509_set_issuer_name(x, name);
    BIO *bio = BIO_new_file(cert_path, "w");
    int ok = X509_sign(x, key, EVP_sha256()) > 0 && bio != NULL && PEM_write_bio_X509(bio, x) == 1;
    BIO_free(bio);
    X509_free(x);
    return ok ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    return unit_remove_dir(dir);
}

static enum aad_status build(struct aad_error *err)
{
    struct aad_config cfg = {.client_id = CLIENT, .client_certificate = cert_path,
                             .client_key = key_path};
    char *assertion = NULL;
    enum aad_status st = aad_assertion_build(&cfg, AUDIENCE, 1716200000LL, &assertion, err);
    if (st == AAD_OK)
        assert_non_null(assertion);
    free(assertion);
    return st;
}

static void test_plain_private_key_builds_an_assertion(void **state)
{
    (void)state;
    write_key(KEY_PLAIN, 0600);
    struct aad_error err = {0};
    assert_status(build(&err), AAD_OK, err);
}

static void test_encrypted_pkcs8_private_key_is_a_configuration_error(void **state)
{
    (void)state;
    write_key(KEY_PKCS8_ENCRYPTED, 0600);
    struct aad_error err = {0};
    assert_status(build(&err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, key_path);
    assert_message_has(err, "the private key is encrypted");
}

static void test_encrypted_traditional_private_key_is_a_configuration_error(void **state)
{
    (void)state;
    write_key(KEY_LEGACY_ENCRYPTED, 0600);
    struct aad_error err = {0};
    assert_status(build(&err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "the private key is encrypted");
}

static void test_private_key_readable_by_others_is_refused(void **state)
{
    (void)state;
    write_key(KEY_PLAIN, 0604);
    struct aad_error err = {0};
    assert_status(build(&err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "must not be readable by group or others");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_private_key_builds_an_assertion),
        cmocka_unit_test(test_encrypted_pkcs8_private_key_is_a_configuration_error),
        cmocka_unit_test(test_encrypted_traditional_private_key_is_a_configuration_error),
        cmocka_unit_test(test_private_key_readable_by_others_is_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
