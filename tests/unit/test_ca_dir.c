/* test_ca_dir.c - which directories count as OpenSSL hashed CA directories
 * (aad_ca_dir.h): only one with a HHHHHHHH.N name is used for CURLOPT_CAPATH. */
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

#include "aad_ca_dir.h"

struct dir {
    char path[64];
};

static int dir_with(struct dir *d, const char *const names[])
{
    snprintf(d->path, sizeof(d->path), "/tmp/test_ca_dir.XXXXXX");
    if (mkdtemp(d->path) == NULL)
        return -1;
    for (int i = 0; names[i] != NULL; i++) {
        char file[160];
        snprintf(file, sizeof(file), "%s/%s", d->path, names[i]);
        FILE *f = fopen(file, "w");
        if (f == NULL)
            return -1;
        fclose(f);
    }
    return 0;
}

static void dir_remove(struct dir *d, const char *const names[])
{
    for (int i = 0; names[i] != NULL; i++) {
        char file[160];
        snprintf(file, sizeof(file), "%s/%s", d->path, names[i]);
        unlink(file);
    }
    rmdir(d->path);
}

static int hashed(const char *const names[])
{
    struct dir d;
    assert_int_equal(dir_with(&d, names), 0);
    int found = aad_ca_dir_is_hashed(d.path);
    dir_remove(&d, names);
    return found;
}

static void test_a_hash_link_makes_a_hashed_directory(void **state)
{
    (void)state;
    static const char *const debian[] = {"ca-certificates.crt", "GlobalSign_Root_R46.pem",
                                         "002c0b4f.0", NULL};
    static const char *const second[] = {"9d04f354.1", NULL};
    static const char *const many[] = {"9d04f354.12", NULL};
    assert_int_equal(hashed(debian), 1);
    assert_int_equal(hashed(second), 1);
    assert_int_equal(hashed(many), 1);
}

static void test_bundles_only_are_not_a_hashed_directory(void **state)
{
    (void)state;
    /* RHEL's /etc/ssl/certs: bundles, no hash links. */
    static const char *const rhel[] = {"ca-bundle.crt", "ca-bundle.trust.crt", NULL};
    static const char *const empty[] = {NULL};
    assert_int_equal(hashed(rhel), 0);
    assert_int_equal(hashed(empty), 0);
}

static void test_names_that_are_not_certificate_hashes(void **state)
{
    (void)state;
    static const char *const crl[] = {"002c0b4f.r0", NULL};       /* a CRL, not a certificate */
    static const char *const upper[] = {"002C0B4F.0", NULL};      /* OpenSSL writes lowercase */
    static const char *const short_hash[] = {"02c0b4f.0", NULL};
    static const char *const long_hash[] = {"0002c0b4f.0", NULL};
    static const char *const no_number[] = {"002c0b4f.", NULL};
    static const char *const suffix[] = {"002c0b4f.0.pem", NULL};
    assert_int_equal(hashed(crl), 0);
    assert_int_equal(hashed(upper), 0);
    assert_int_equal(hashed(short_hash), 0);
    assert_int_equal(hashed(long_hash), 0);
    assert_int_equal(hashed(no_number), 0);
    assert_int_equal(hashed(suffix), 0);
}

/* A store as large as Debian's is read in several batches: the hash name
 * counts wherever it falls, and a store of bundles alone is read to its end. */
static void test_a_large_store_is_read_to_the_hash_name(void **state)
{
    (void)state;
    enum { PEMS = 300 };
    static char pem[PEMS][48];
    const char *names[PEMS + 2];
    for (int i = 0; i < PEMS; i++) {
        snprintf(pem[i], sizeof(pem[i]), "Some_Root_Certification_Authority_%03d.pem", i);
        names[i] = pem[i];
    }
    names[PEMS] = NULL;
    assert_int_equal(hashed(names), 0);
    names[PEMS] = "9d04f354.0";
    names[PEMS + 1] = NULL;
    assert_int_equal(hashed(names), 1);
}

static void test_a_missing_directory_is_not_used(void **state)
{
    (void)state;
    assert_int_equal(aad_ca_dir_is_hashed("/nonexistent/pam_aad/certs"), 0);
    assert_int_equal(aad_ca_dir_is_hashed("/etc/passwd"), 0); /* not a directory */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_hash_link_makes_a_hashed_directory),
        cmocka_unit_test(test_bundles_only_are_not_a_hashed_directory),
        cmocka_unit_test(test_names_that_are_not_certificate_hashes),
        cmocka_unit_test(test_a_large_store_is_read_to_the_hash_name),
        cmocka_unit_test(test_a_missing_directory_is_not_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
