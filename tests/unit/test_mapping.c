/* test_mapping.c - aad_is_valid_account_name, aad_map_identity and
 * aad_account_check (who pam_aad may reach at all). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "aad_mapping.h"
#include "aad_usermap.h"
#include "unit_support.h"

#define OID_ALICE "690222be-ff1a-4d56-abd1-7e4f7d38e474"
#define OID_BOB "11111111-2222-3333-4444-555555555555"
#define OID_EVE "eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee"

static char dir[64];
static char map_path[256];
static int file_counter;

static int group_setup(void **state)
{
    (void)state;
    return unit_make_dir(dir, sizeof(dir), "mapping");
}

static int group_teardown(void **state)
{
    (void)state;
    return unit_remove_dir(dir);
}


static const char *write_map_mode(const char *text, mode_t mode)
{
    snprintf(map_path, sizeof(map_path), "%s/aad_users-%d", dir, ++file_counter);
    FILE *f = fopen(map_path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(map_path, mode), 0);
    return map_path;
}

/* A configuration as aad_config_load would return it: domains given as a
 * comma-separated string (or NULL), user_map as file contents (or NULL);
 * min_uid 1000. The account being logged in to has uid 1000 (and is the
 * expected one in expect_mapped) unless a test sets account. */
struct fixture {
    struct aad_config cfg;
    char *domain_items[4];
    struct aad_account account;
};

static void setup_cfg(struct fixture *f, const char *d1, const char *d2, const char *map_text)
{
    memset(f, 0, sizeof(*f));
    f->cfg.user_claim = "preferred_username";
    size_t n = 0;
    if (d1 != NULL)
        f->domain_items[n++] = (char *)d1;
    if (d2 != NULL)
        f->domain_items[n++] = (char *)d2;
    f->cfg.domains.items = f->domain_items;
    f->cfg.domains.count = n;
    f->cfg.user_map = map_text ? (char *)write_map_mode(map_text, 0600) : NULL;
    f->cfg.min_uid = 1000;
    f->cfg.uid_max = 60000;
    f->cfg.overflow_uid = 65534;
    snprintf(f->account.name, sizeof(f->account.name), "alice");
    f->account.uid = 1000;
}

static void expect_mapped(const struct fixture *f, const char *upn, const char *oid,
                          const char *want)
{
    char *local = NULL;
    struct aad_error err = {0};
    struct aad_account account = f->account;
    snprintf(account.name, sizeof(account.name), "%s", want);
    assert_status(aad_map_identity(&f->cfg, &account, upn, oid, &local, &err), AAD_OK, err);
    assert_non_null(local);
    assert_string_equal(local, want);
    free(local);
}

static void expect_refused(const struct fixture *f, const char *upn, const char *oid,
                           enum aad_status want, const char *sub)
{
    char *local = NULL;
    struct aad_error err = {0};
    assert_status(aad_map_identity(&f->cfg, &f->account, upn, oid, &local, &err), want, err);
    assert_null(local);
    if (sub != NULL)
        assert_message_has(err, sub);
}

/* ---- aad_is_valid_account_name ------------------------------------------------------ */

static void test_good_account_names_are_valid(void **state)
{
    (void)state;
    const char *good[] = {"alice", "a", "bob.smith", "bob-smith", "_svc", "user1", "1user",
                          "a_b-c.d", "machine$", "abcdefghijklmnopqrstuvwxyz012345"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!aad_is_valid_account_name(good[i]))
            fail_msg("'%s' should be a valid account name", good[i]);
    }
}

static void test_bad_account_names_are_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "",       "abcdefghijklmnopqrstuvwxyz0123456", /* 33 characters */
        "Alice",  "ALICE", "al/ice", "../etc", "a..b", "..", "-alice", ".alice", "12345", "0",
        "al ice", "al:ice", "al@ice", "al\tice", "ma$chine", "al\xd0\xb0" "ce", "caf\xc3\xa9",
        "\xff"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (aad_is_valid_account_name(bad[i]))
            fail_msg("'%s' should not be a valid account name", bad[i]);
    }
    assert_false(aad_is_valid_account_name(NULL));
}

static void test_lone_dollar_is_not_an_account_name(void **state)
{
    (void)state;
    /* '$' may end a (machine) account name, but is no name by itself. */
    assert_false(aad_is_valid_account_name("$"));
    assert_true(aad_is_valid_account_name("host$"));
}

/* ---- domains ------------------------------------------------------------------------- */

static void test_domains_mapping_lowercases_the_local_part(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_mapped(&f, "alice@contoso.com", OID_ALICE, "alice");
    expect_mapped(&f, "Alice.Smith@contoso.com", OID_ALICE, "alice.smith");
    expect_mapped(&f, "BOB@contoso.com", OID_BOB, "bob");
}

static void test_second_domain_is_accepted(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", "fabrikam.com", NULL);
    expect_mapped(&f, "bob@fabrikam.com", OID_BOB, "bob");
}

static void test_other_domain_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_refused(&f, "alice@fabrikam.com", OID_ALICE, AAD_DENIED, "not accepted on this host");
    expect_refused(&f, "alice@sub.contoso.com", OID_ALICE, AAD_DENIED, "not accepted");
    expect_refused(&f, "alice@contoso.com.evil.example", OID_ALICE, AAD_DENIED, "not accepted");
    expect_refused(&f, "alice@evilcontoso.com", OID_ALICE, AAD_DENIED, "not accepted");
}

static void test_domain_is_case_insensitive(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "Contoso.COM", NULL, NULL);
    expect_mapped(&f, "alice@CONTOSO.com", OID_ALICE, "alice");
}

static void test_upn_without_at_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_refused(&f, "alice", OID_ALICE, AAD_DENIED, "not a user@domain name");
    expect_refused(&f, "@contoso.com", OID_ALICE, AAD_DENIED, "not a user@domain name");
}

static void test_missing_upn_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_refused(&f, NULL, OID_ALICE, AAD_DENIED, "preferred_username");
}

static void test_upn_with_two_ats_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_refused(&f, "root@evil@contoso.com", OID_ALICE, AAD_DENIED, "not a valid local account name");
}

static void test_upn_with_non_ascii_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    /* "аlice" with a Cyrillic а (U+0430) looks like alice. */
    expect_refused(&f, "\xd0\xb0lice@contoso.com", OID_ALICE, AAD_DENIED, "not a plain ASCII name");
    expect_refused(&f, "alice@c\xd0\xbe" "ntoso.com", OID_ALICE, AAD_DENIED, "not a plain ASCII name");
    expect_refused(&f, "al ice@contoso.com", OID_ALICE, AAD_DENIED, "not a plain ASCII name");
    expect_refused(&f, "alice\n@contoso.com", OID_ALICE, AAD_DENIED, "not a plain ASCII name");
}

static void test_very_long_upn_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    char upn[1100];
    memset(upn, 'a', 1000);
    strcpy(upn + 1000, "@contoso.com");
    expect_refused(&f, upn, OID_ALICE, AAD_DENIED, NULL);
}

static void test_local_part_longer_than_an_account_name_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_refused(&f, "abcdefghijklmnopqrstuvwxyz0123456@contoso.com", OID_ALICE, AAD_DENIED,
                   "too long");
    expect_mapped(&f, "abcdefghijklmnopqrstuvwxyz012345@contoso.com", OID_ALICE,
                  "abcdefghijklmnopqrstuvwxyz012345");
}

static void test_local_part_that_is_no_account_name_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    expect_refused(&f, "..@contoso.com", OID_ALICE, AAD_DENIED, "not a valid local account name");
    expect_refused(&f, "-oProxy@contoso.com", OID_ALICE, AAD_DENIED, "not a valid local account name");
    expect_refused(&f, "1000@contoso.com", OID_ALICE, AAD_DENIED, "not a valid local account name");
    expect_refused(&f, "a/b@contoso.com", OID_ALICE, AAD_DENIED, "not a valid local account name");
    expect_refused(&f, "a+b@contoso.com", OID_ALICE, AAD_DENIED, "not a valid local account name");
}

/* ---- user_map ----------------------------------------------------------------------- */

static void test_user_map_upn_line_maps(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL, "# local  upn\nasmith  alice@contoso.com\n");
    expect_mapped(&f, "Alice@Contoso.com", OID_ALICE, "asmith");
    expect_refused(&f, "bob@contoso.com", OID_BOB, AAD_DENIED, "not accepted on this host");
}

static void test_user_map_upn_line_wins_over_domains(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "asmith alice@contoso.com\n");
    expect_mapped(&f, "alice@contoso.com", OID_ALICE, "asmith");
    expect_mapped(&f, "bob@contoso.com", OID_BOB, "bob");
}

static void test_user_map_oid_line_maps(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL, "alice oid:" OID_ALICE "\n");
    expect_mapped(&f, "whatever@fabrikam.com", OID_ALICE, "alice");
    expect_mapped(&f, NULL, OID_ALICE, "alice");
}

static void test_user_map_oid_is_case_insensitive(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL, "alice OID:690222BE-FF1A-4D56-ABD1-7E4F7D38E474\n");
    expect_mapped(&f, NULL, OID_ALICE, "alice");
}

static void test_user_map_oid_line_wins_over_upn_line(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL,
              "byupn   alice@contoso.com\n"
              "byoid   oid:" OID_ALICE "\n");
    expect_mapped(&f, "alice@contoso.com", OID_ALICE, "byoid");
}

static void test_conflicting_upn_lines_are_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL,
              "alice  alice@contoso.com\n"
              "admin  alice@contoso.com\n");
    expect_refused(&f, "alice@contoso.com", OID_ALICE, AAD_DENIED, "more than one account");
}

static void test_conflicting_oid_lines_are_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL,
              "alice  oid:" OID_ALICE "\n"
              "admin  oid:" OID_ALICE "\n");
    expect_refused(&f, "alice@contoso.com", OID_ALICE, AAD_DENIED, "more than one account");
}

static void test_repeated_identical_line_is_no_conflict(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL,
              "alice  alice@contoso.com\n"
              "alice  ALICE@contoso.com\n");
    expect_mapped(&f, "alice@contoso.com", OID_ALICE, "alice");
}

static void test_oid_line_resolves_upn_conflict(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL,
              "one    alice@contoso.com\n"
              "two    alice@contoso.com\n"
              "alice  oid:" OID_ALICE "\n");
    expect_mapped(&f, "alice@contoso.com", OID_ALICE, "alice");
}

static void test_pinned_account_refuses_another_oid_by_domain(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "alice oid:" OID_ALICE "\n");
    /* A second "alice@contoso.com" (say, re-created after deletion) has a new oid. */
    expect_refused(&f, "alice@contoso.com", OID_EVE, AAD_DENIED, "pinned to another object ID");
    expect_mapped(&f, "alice@contoso.com", OID_ALICE, "alice");
}

static void test_pinned_account_refuses_another_oid_by_upn_line(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL,
              "alice  oid:" OID_ALICE "\n"
              "alice  eve@contoso.com\n");
    expect_refused(&f, "eve@contoso.com", OID_EVE, AAD_DENIED, "pinned to another object ID");
}

static void test_unpinned_account_is_not_affected(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "alice oid:" OID_ALICE "\n");
    expect_mapped(&f, "bob@contoso.com", OID_BOB, "bob");
}

/* ---- accounts named in user_map are reserved; system accounts (min_uid) -------------------- */

static void test_user_map_upn_line_reserves_the_account(void **state)
{
    (void)state;
    struct fixture f;
    /* The guide's example: alice is Alice Smith's account. */
    setup_cfg(&f, "contoso.com", NULL, "alice  alice.smith@contoso.com\n");
    expect_mapped(&f, "alice.smith@contoso.com", OID_ALICE, "alice");
    /* Another person whose UPN happens to be alice@contoso.com. */
    expect_refused(&f, "alice@contoso.com", OID_EVE, AAD_DENIED,
                   "account alice is reserved in user_map for other identities");
    expect_refused(&f, "ALICE@Contoso.com", OID_EVE, AAD_DENIED, "reserved in user_map");
    /* Others still come through domains. */
    expect_mapped(&f, "bob@contoso.com", OID_BOB, "bob");
}

static void test_user_map_upn_line_reserves_the_account_in_every_domain(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", "fabrikam.com", "alice  alice.smith@contoso.com\n");
    expect_refused(&f, "alice@contoso.com", OID_EVE, AAD_DENIED, "reserved in user_map");
    expect_refused(&f, "alice@fabrikam.com", OID_EVE, AAD_DENIED, "reserved in user_map");
    expect_mapped(&f, "alice.smith@contoso.com", OID_ALICE, "alice");
    expect_mapped(&f, "bob@fabrikam.com", OID_BOB, "bob");
}

static void test_domains_never_map_to_an_account_below_min_uid(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    snprintf(f.account.name, sizeof(f.account.name), "backup");
    f.account.uid = 34;
    expect_refused(&f, "backup@contoso.com", OID_EVE, AAD_DENIED,
                   "account backup has uid 34, below min_uid 1000: only a user_map line can map to it");
    /* With min_uid lowered, the administrator chose to allow it. */
    f.cfg.min_uid = 30;
    expect_mapped(&f, "backup@contoso.com", OID_EVE, "backup");
}

static void test_user_map_line_naming_a_system_account_maps_to_it(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "backup  ops.lead@contoso.com\n");
    f.account.uid = 34;
    expect_mapped(&f, "ops.lead@contoso.com", OID_ALICE, "backup");
    snprintf(f.account.name, sizeof(f.account.name), "backup");
    expect_refused(&f, "backup@contoso.com", OID_EVE, AAD_DENIED, "reserved in user_map");
    /* The account check lets it through (named), where an unnamed one is ignored. */
    struct aad_error err = {0};
    assert_status(aad_account_check(&f.cfg, &f.account, &err), AAD_OK, err);
    snprintf(f.account.name, sizeof(f.account.name), "daemon");
    f.account.uid = 1;
    assert_status(aad_account_check(&f.cfg, &f.account, &err), AAD_IGNORE, err);
    assert_message_has(err, "account daemon has uid 1, below min_uid 1000, and no user_map line names it");
}

/* nobody (the overflow uid, above UID_MAX) and any account above UID_MAX
 * are not people useradd made: like system accounts, only a user_map line
 * reaches them, never domains. */
static void test_account_check_ignores_nobody_and_accounts_above_uid_max(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "svcuser  ops.lead@contoso.com\n");
    struct aad_error err = {0};
    struct aad_account nobody = {"nobody", 65534};
    assert_status(aad_account_check(&f.cfg, &nobody, &err), AAD_IGNORE, err);
    assert_message_has(err, "account nobody has uid 65534, the overflow uid (nobody's), and no "
                            "user_map line names it");
    struct aad_account high = {"high", 60001};
    assert_status(aad_account_check(&f.cfg, &high, &err), AAD_IGNORE, err);
    assert_message_has(err, "account high has uid 60001, above UID_MAX 60000");
    /* Named in user_map: reachable, as a system account would be. */
    struct aad_account svc = {"svcuser", 70000};
    assert_status(aad_account_check(&f.cfg, &svc, &err), AAD_OK, err);
    struct aad_account person = {"alice", 60000};
    assert_status(aad_account_check(&f.cfg, &person, &err), AAD_OK, err);
}

static void test_account_check_ignores_root_without_allow_root(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "root  ops.lead@contoso.com\n");
    struct aad_account root = {"root", 0};
    struct aad_error err = {0};
    assert_status(aad_account_check(&f.cfg, &root, &err), AAD_IGNORE, err);
    assert_message_has(err, "account root has uid 0 and allow_root is off");
    /* allow_root and a user_map line naming root: reachable. */
    f.cfg.allow_root = 1;
    assert_status(aad_account_check(&f.cfg, &root, &err), AAD_OK, err);
    /* allow_root alone does not open root to domains (it is below min_uid). */
    setup_cfg(&f, "contoso.com", NULL, NULL);
    f.cfg.allow_root = 1;
    assert_status(aad_account_check(&f.cfg, &root, &err), AAD_IGNORE, err);
}

static void test_user_map_names_reports_every_named_account(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL,
              "backup  ops.lead@contoso.com  # comment\n"
              "ops     oid:" OID_BOB "\n");
    int named = -1;
    struct aad_error err = {0};
    assert_status(aad_user_map_names(&f.cfg, "backup", &named, &err), AAD_OK, err);
    assert_int_equal(named, 1);
    assert_status(aad_user_map_names(&f.cfg, "ops", &named, &err), AAD_OK, err);
    assert_int_equal(named, 1);
    assert_status(aad_user_map_names(&f.cfg, "daemon", &named, &err), AAD_OK, err);
    assert_int_equal(named, 0);
    f.cfg.user_map = NULL;
    assert_status(aad_user_map_names(&f.cfg, "backup", &named, &err), AAD_OK, err);
    assert_int_equal(named, 0);
}

static void test_comments_and_blank_lines_in_user_map(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, NULL, NULL,
              "# users\n\n   \n\tbob\tbob@contoso.com   # trailing comment\r\n");
    expect_mapped(&f, "bob@contoso.com", OID_BOB, "bob");
}

static void test_user_map_guest_upn_with_ext_marker_maps(void **state)
{
    (void)state;
    /* Guest (B2B) UPNs contain "#EXT#": a '#' inside a field is not a comment. */
    struct fixture f;
    setup_cfg(&f, NULL, NULL, "guest  john_fabrikam.com#EXT#@contoso.onmicrosoft.com  # a guest\n");
    f.cfg.user_claim = "upn";
    expect_mapped(&f, "john_fabrikam.com#EXT#@contoso.onmicrosoft.com", OID_BOB, "guest");
}

static void expect_malformed(const char *text, int line)
{
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, text);
    char where[300];
    snprintf(where, sizeof(where), "%s:%d:", map_path, line);
    expect_refused(&f, "alice@contoso.com", OID_ALICE, AAD_CONFIG_ERROR, where);
}

static void test_malformed_user_map_line_is_a_config_error(void **state)
{
    (void)state;
    expect_malformed("bob bob@contoso.com\njustonefield\n", 2);
    expect_malformed("# x\n\nbob bob@contoso.com extra\n", 3);
    expect_malformed("Bob bob@contoso.com\n", 1);
    expect_malformed("../etc bob@contoso.com\n", 1);
    expect_malformed("bob oid:not-a-guid\n", 1);
    expect_malformed("bob oid:\n", 1);
}

static void test_user_map_that_is_group_writable_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    f.cfg.user_map = (char *)write_map_mode("alice alice@contoso.com\n", 0660);
    expect_refused(&f, "alice@contoso.com", OID_ALICE, AAD_CONFIG_ERROR, "writable by group or others");
}

static void test_user_map_that_is_a_symlink_is_refused(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, "alice alice@contoso.com\n");
    char link_path[300];
    snprintf(link_path, sizeof(link_path), "%s/link-%d", dir, file_counter);
    assert_int_equal(symlink(map_path, link_path), 0);
    f.cfg.user_map = link_path;
    expect_refused(&f, "alice@contoso.com", OID_ALICE, AAD_CONFIG_ERROR, "symbolic link");
}

static void test_missing_user_map_is_a_config_error(void **state)
{
    (void)state;
    struct fixture f;
    setup_cfg(&f, "contoso.com", NULL, NULL);
    f.cfg.user_map = "/nonexistent/aad_users";
    expect_refused(&f, "alice@contoso.com", OID_ALICE, AAD_CONFIG_ERROR, "/nonexistent/aad_users");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_account_names_are_valid),
        cmocka_unit_test(test_bad_account_names_are_invalid),
        cmocka_unit_test(test_lone_dollar_is_not_an_account_name),
        cmocka_unit_test(test_domains_mapping_lowercases_the_local_part),
        cmocka_unit_test(test_second_domain_is_accepted),
        cmocka_unit_test(test_other_domain_is_refused),
        cmocka_unit_test(test_domain_is_case_insensitive),
        cmocka_unit_test(test_upn_without_at_is_refused),
        cmocka_unit_test(test_missing_upn_is_refused),
        cmocka_unit_test(test_upn_with_two_ats_is_refused),
        cmocka_unit_test(test_upn_with_non_ascii_is_refused),
        cmocka_unit_test(test_very_long_upn_is_refused),
        cmocka_unit_test(test_local_part_longer_than_an_account_name_is_refused),
        cmocka_unit_test(test_local_part_that_is_no_account_name_is_refused),
        cmocka_unit_test(test_user_map_upn_line_maps),
        cmocka_unit_test(test_user_map_upn_line_wins_over_domains),
        cmocka_unit_test(test_user_map_oid_line_maps),
        cmocka_unit_test(test_user_map_oid_is_case_insensitive),
        cmocka_unit_test(test_user_map_oid_line_wins_over_upn_line),
        cmocka_unit_test(test_conflicting_upn_lines_are_refused),
        cmocka_unit_test(test_conflicting_oid_lines_are_refused),
        cmocka_unit_test(test_repeated_identical_line_is_no_conflict),
        cmocka_unit_test(test_oid_line_resolves_upn_conflict),
        cmocka_unit_test(test_pinned_account_refuses_another_oid_by_domain),
        cmocka_unit_test(test_pinned_account_refuses_another_oid_by_upn_line),
        cmocka_unit_test(test_unpinned_account_is_not_affected),
        cmocka_unit_test(test_user_map_upn_line_reserves_the_account),
        cmocka_unit_test(test_user_map_upn_line_reserves_the_account_in_every_domain),
        cmocka_unit_test(test_domains_never_map_to_an_account_below_min_uid),
        cmocka_unit_test(test_account_check_ignores_nobody_and_accounts_above_uid_max),
        cmocka_unit_test(test_user_map_line_naming_a_system_account_maps_to_it),
        cmocka_unit_test(test_account_check_ignores_root_without_allow_root),
        cmocka_unit_test(test_user_map_names_reports_every_named_account),
        cmocka_unit_test(test_comments_and_blank_lines_in_user_map),
        cmocka_unit_test(test_user_map_guest_upn_with_ext_marker_maps),
        cmocka_unit_test(test_malformed_user_map_line_is_a_config_error),
        cmocka_unit_test(test_user_map_that_is_group_writable_is_refused),
        cmocka_unit_test(test_user_map_that_is_a_symlink_is_refused),
        cmocka_unit_test(test_missing_user_map_is_a_config_error),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
