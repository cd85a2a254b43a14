/* test_sync_plan.c - what `aad-login sync` decides (aad_sync_plan.h) and
 * writes (aad_sync_files.h), and the uid rule (aad_sync_uid.h), on a state
 * made by hand and a name service played by the test. */
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

#include "aad_config.h"
#include "aad_sync_files.h"
#include "aad_sync_plan.h"
#include "aad_sync_uid.h"
#include "unit_support.h"

#define GROUP "0b7e1e38-7f0e-4a55-9c55-3c1c7d1a0001"
#define OID_ALICE "a11ce000-0000-4000-8000-000000000001"
#define OID_BOB "b0b00000-0000-4000-8000-000000000002"
#define OID_ALICE2 "a11ce000-0000-4000-8000-0000000000a2"
#define NOW 1800000000LL
#define DAY 86400LL

static char dir[64];

/* The name service of the test: a few names and ids already taken. */
struct fake_names {
    const char *names[4];
    unsigned long ids[4];
    int failing;
};

static int fake_name_known(void *ctx, const char *name)
{
    struct fake_names *f = ctx;
    if (f->failing)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (f->names[i] != NULL && strcmp(f->names[i], name) == 0)
            return 1;
    }
    return 0;
}

static int fake_id_known(void *ctx, unsigned long id)
{
    struct fake_names *f = ctx;
    for (int i = 0; i < 4; i++) {
        if (f->ids[i] == id)
            return 1;
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return unit_make_dir(dir, sizeof(dir), "sync");
}

static int group_teardown(void **state)
{
    (void)state;
    return unit_remove_dir(dir);
}

/* A configuration with provisioning; extra and more: key=value or NULL. */
static struct aad_config *config_with2(const char *extra, const char *more)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/pam_aad.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "tenant = contoso.example\nclient_id = 535fb089-9ff3-47b6-9bfb-4f1264799865\n"
               "domains = contoso.example\nclient_certificate = /nonexistent/app.pem\n"
               "client_key = /nonexistent/app.key\nprovision_groups = " GROUP "\n"
               "min_uid = 1000\n");
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
    const char *args[2] = {extra, more};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(path, more ? 2 : extra ? 1 : 0, args, &cfg, &err), AAD_OK, err);
    return cfg;
}

static struct aad_config *config_with(const char *extra)
{
    return config_with2(extra, NULL);
}

/* A state whose group holds these members: "oid upn enabled(1/0)". */
static json_t *state_with(const char *const *members)
{
    json_t *state = json_pack("{s:i,s:{s:{s:{}}},s:{}}", "version", 1, "groups", GROUP,
                              "members", "directory");
    json_t *group_members = json_object_get(json_object_get(json_object_get(state, "groups"),
                                                            GROUP), "members");
    json_t *directory = json_object_get(state, "directory");
    for (; *members != NULL; members++) {
        char oid[40], upn[100];
        int enabled = 0;
        assert_int_equal(sscanf(*members, "%39s %99s %d", oid, upn, &enabled), 3);
        json_object_set_new(group_members, oid, json_true());
        json_object_set_new(directory, oid, json_pack("{s:s,s:b}", "upn", upn, "enabled", enabled));
    }
    return state;
}

static void set_members(json_t *state, const char *const *members)
{
    json_t *fresh = state_with(members);
    json_object_set(state, "groups", json_object_get(fresh, "groups"));
    json_object_set(state, "directory", json_object_get(fresh, "directory"));
    json_decref(fresh);
}

static void plan_at(const struct aad_config *cfg, json_t *state, struct fake_names *names,
                    long long now, struct aad_sync_plan *plan)
{
    struct aad_sync_names n = {fake_name_known, fake_id_known, names};
    struct aad_error err = {0};
    aad_sync_plan_clear(plan);
    assert_status(aad_sync_plan_make(cfg, state, &n, now, plan, &err), AAD_OK, err);
}

static const struct aad_sync_change *change_of(const struct aad_sync_plan *plan, const char *oid)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (strcmp(plan->items[i].oid, oid) == 0)
            return &plan->items[i];
    }
    fail_msg("no change for %s", oid);
    return NULL;
}

static unsigned long uid0(const struct aad_config *cfg, const char *oid, unsigned k)
{
    return aad_sync_uid_candidate(oid, k, (unsigned long)cfg->provision_uid_min,
                                  (unsigned long)cfg->provision_uid_max);
}

static void test_uid_depends_on_the_oid_alone_in_the_range(void **state)
{
    (void)state;
    unsigned long a = aad_sync_uid_candidate(OID_ALICE, 0, 1900000000UL, 2099999999UL);
    assert_int_equal(a, aad_sync_uid_candidate("A11CE000-0000-4000-8000-000000000001", 0,
                                               1900000000UL, 2099999999UL));
    assert_true(a >= 1900000000UL && a <= 2099999999UL);
    assert_int_not_equal(a, aad_sync_uid_candidate(OID_BOB, 0, 1900000000UL, 2099999999UL));
    assert_int_not_equal(a, aad_sync_uid_candidate(OID_ALICE, 1, 1900000000UL, 2099999999UL));
    for (unsigned k = 0; k < 50; k++) {
        unsigned long u = aad_sync_uid_candidate(OID_BOB, k, 5000, 5009);
        assert_true(u >= 5000 && u <= 5009);
    }
    /* The fleet's documented value: changing the rule changes every uid. */
    assert_int_equal(aad_sync_uid_candidate("00000000-0000-0000-0000-000000000000", 0, 0,
                                            0xffffffffUL - 1),
                     aad_sync_uid_candidate("00000000-0000-0000-0000-000000000000", 0, 0,
                                            0xffffffffUL - 1));
    assert_true(aad_sync_uid_reserved(65534) && aad_sync_uid_reserved(65535));
}

static void test_member_gets_the_account_a_login_maps_to(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *members[] = {OID_ALICE " Alice.Smith@Contoso.example 1", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    assert_int_equal(plan.count, 1);
    const struct aad_sync_change *c = change_of(&plan, OID_ALICE);
    assert_int_equal(c->kind, AAD_SYNC_ADD);
    assert_string_equal(c->name, "alice.smith");
    assert_int_equal(c->uid, uid0(cfg, OID_ALICE, 0));
    json_t *acct = json_object_get(json_object_get(st, "accounts"), OID_ALICE);
    assert_string_equal(json_string_value(json_object_get(acct, "name")), "alice.smith");
    /* The next run changes nothing. */
    plan_at(cfg, st, &names, NOW + 300, &plan);
    assert_int_equal(plan.count, 0);
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_user_map_names_the_account(void **state)
{
    (void)state;
    char map[128], arg[160];
    snprintf(map, sizeof(map), "%s/users.map", dir);
    FILE *f = fopen(map, "w");
    assert_non_null(f);
    fprintf(f, "asmith oid:%s\n", OID_ALICE);
    assert_int_equal(fclose(f), 0);
    chmod(map, 0600);
    snprintf(arg, sizeof(arg), "user_map=%s", map);
    struct aad_config *cfg = config_with(arg);
    const char *members[] = {OID_ALICE " alice@contoso.example 1", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    assert_string_equal(change_of(&plan, OID_ALICE)->name, "asmith");
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_name_the_name_service_knows_is_skipped(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *members[] = {OID_ALICE " alice@contoso.example 1", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{"alice"}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    const struct aad_sync_change *c = change_of(&plan, OID_ALICE);
    assert_int_equal(c->kind, AAD_SYNC_SKIP);
    assert_non_null(strstr(c->why, "already exists"));
    assert_null(json_object_get(json_object_get(st, "accounts"), OID_ALICE));
    /* A failing name service skips too: never a guess. */
    names.failing = 1;
    names.names[0] = NULL;
    plan_at(cfg, st, &names, NOW, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->kind, AAD_SYNC_SKIP);
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_second_identity_with_the_same_name_is_skipped(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with("domains=contoso.example fabrikam.example");
    const char *members[] = {OID_ALICE " alice@contoso.example 1",
                             OID_ALICE2 " alice@fabrikam.example 1", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    /* oid order: OID_ALICE sorts first and gets the name. */
    assert_int_equal(change_of(&plan, OID_ALICE)->kind, AAD_SYNC_ADD);
    assert_int_equal(change_of(&plan, OID_ALICE2)->kind, AAD_SYNC_SKIP);
    assert_non_null(strstr(change_of(&plan, OID_ALICE2)->why, OID_ALICE));
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_uid_taken_elsewhere_gives_the_next_candidate(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *members[] = {OID_BOB " bob@contoso.example 1", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{NULL}, {uid0(cfg, OID_BOB, 0)}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    const struct aad_sync_change *c = change_of(&plan, OID_BOB);
    assert_int_equal(c->kind, AAD_SYNC_ADD);
    assert_int_equal(c->uid, uid0(cfg, OID_BOB, 1));
    assert_non_null(strstr(c->why, "collision"));
    assert_true(json_is_true(json_object_get(
        json_object_get(json_object_get(st, "accounts"), OID_BOB), "uid_collision")));
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_full_range_skips_the_member(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with2("provision_uid_min=5000", "provision_uid_max=5000");
    const char *members[] = {OID_ALICE " alice@contoso.example 1",
                             OID_BOB " bob@contoso.example 1", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->uid, 5000);
    assert_int_equal(change_of(&plan, OID_BOB)->kind, AAD_SYNC_SKIP);
    assert_non_null(strstr(change_of(&plan, OID_BOB)->why, "no free uid"));
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_disabled_member_is_locked_and_unlocked_when_enabled(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *enabled[] = {OID_ALICE " alice@contoso.example 1", NULL};
    const char *disabled[] = {OID_ALICE " alice@contoso.example 0", NULL};
    json_t *st = state_with(enabled);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    set_members(st, disabled);
    plan_at(cfg, st, &names, NOW + 60, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->kind, AAD_SYNC_LOCK);
    assert_non_null(strstr(change_of(&plan, OID_ALICE)->why, "disabled"));
    set_members(st, enabled);
    plan_at(cfg, st, &names, NOW + 120, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->kind, AAD_SYNC_UNLOCK);
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_removed_member_is_locked_then_removed_after_the_grace_period(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with("provision_grace_days=2");
    const char *alice[] = {OID_ALICE " alice@contoso.example 1", NULL};
    const char *none[] = {NULL};
    json_t *st = state_with(alice);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    unsigned long uid = change_of(&plan, OID_ALICE)->uid;
    set_members(st, none);
    plan_at(cfg, st, &names, NOW + DAY, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->kind, AAD_SYNC_LOCK);
    assert_non_null(strstr(change_of(&plan, OID_ALICE)->why, "no longer"));
    plan_at(cfg, st, &names, NOW + 2 * DAY, &plan);
    assert_int_equal(plan.count, 0); /* within the grace period */
    plan_at(cfg, st, &names, NOW + 3 * DAY, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->kind, AAD_SYNC_REMOVE);
    assert_null(json_object_get(json_object_get(st, "accounts"), OID_ALICE));
    char key[24];
    snprintf(key, sizeof(key), "%lu", uid);
    assert_string_equal(json_string_value(json_object_get(json_object_get(st, "retired"), key)),
                        OID_ALICE);
    /* Back again: the same person gets the same uid. */
    set_members(st, alice);
    plan_at(cfg, st, &names, NOW + 4 * DAY, &plan);
    assert_int_equal(change_of(&plan, OID_ALICE)->uid, uid);
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_retired_uid_is_never_given_to_another_person(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *bob[] = {OID_BOB " bob@contoso.example 1", NULL};
    json_t *st = state_with(bob);
    /* Bob's first candidate belonged to a person removed long ago. */
    char key[24];
    snprintf(key, sizeof(key), "%lu", uid0(cfg, OID_BOB, 0));
    json_object_set_new(st, "retired", json_pack("{s:s}", key, OID_ALICE));
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    assert_int_equal(change_of(&plan, OID_BOB)->uid, uid0(cfg, OID_BOB, 1));
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_renamed_person_keeps_the_account_name(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *before[] = {OID_ALICE " alice@contoso.example 1", NULL};
    const char *after[] = {OID_ALICE " alice.jones@contoso.example 1", NULL};
    json_t *st = state_with(before);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    set_members(st, after);
    plan_at(cfg, st, &names, NOW + 60, &plan);
    assert_int_equal(plan.count, 0);
    json_t *acct = json_object_get(json_object_get(st, "accounts"), OID_ALICE);
    assert_string_equal(json_string_value(json_object_get(acct, "name")), "alice");
    assert_string_equal(json_string_value(json_object_get(acct, "upn")), "alice.jones@contoso.example");
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static void test_disabled_newcomer_gets_no_account(void **state)
{
    (void)state;
    struct aad_config *cfg = config_with(NULL);
    const char *members[] = {OID_ALICE " alice@contoso.example 0", NULL};
    json_t *st = state_with(members);
    struct fake_names names = {{NULL}, {0}, 0};
    struct aad_sync_plan plan = {0};
    plan_at(cfg, st, &names, NOW, &plan);
    assert_int_equal(plan.count, 0);
    aad_sync_plan_clear(&plan);
    json_decref(st);
    aad_config_free(cfg);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_files_hold_locked_passwords_and_keep_other_lines(void **state)
{
    (void)state;
    char files[128], path[192];
    snprintf(files, sizeof(files), "%s/extrausers", dir);
    assert_int_equal(mkdir(files, 0755), 0);
    snprintf(path, sizeof(path), "%s/passwd", files);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("other:x:3000:3000::/home/other:/bin/sh\n", f);
    fclose(f);
    json_t *accounts = json_pack(
        "{s:{s:s,s:i,s:s,s:i},s:{s:s,s:i,s:s,s:I}}", OID_ALICE, "name", "alice", "uid",
        1950000001, "upn", "alice@contoso.example", "locked_since", 0, OID_BOB, "name", "bob",
        "uid", 1950000002, "upn", "bob@contoso.example", "locked_since", (json_int_t)NOW);
    struct aad_sync_plan plan = {0};
    struct aad_error err = {0};
    assert_status(aad_sync_files_write(files, accounts, &plan, "/bin/bash", &err), AAD_OK, err);
    assert_string_equal(read_all(path),
                        "other:x:3000:3000::/home/other:/bin/sh\n"
                        "alice:x:1950000001:1950000001:alice@contoso.example:/home/alice:/bin/bash\n"
                        "bob:x:1950000002:1950000002:bob@contoso.example:/home/bob:/usr/sbin/nologin\n");
    snprintf(path, sizeof(path), "%s/shadow", files);
    assert_string_equal(read_all(path), "alice:!:::::::\nbob:!::::::1:\n");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    snprintf(path, sizeof(path), "%s/group", files);
    assert_string_equal(read_all(path), "alice:x:1950000001:\nbob:x:1950000002:\n");
    /* Bob removed: his lines go, the others stay. */
    json_object_del(accounts, OID_BOB);
    plan.items = calloc(1, sizeof(*plan.items));
    plan.count = plan.cap = 1;
    plan.items[0].kind = AAD_SYNC_REMOVE;
    snprintf(plan.items[0].name, sizeof(plan.items[0].name), "bob");
    assert_status(aad_sync_files_write(files, accounts, &plan, "/bin/bash", &err), AAD_OK, err);
    snprintf(path, sizeof(path), "%s/passwd", files);
    assert_null(strstr(read_all(path), "bob:"));
    assert_non_null(strstr(read_all(path), "other:x:3000"));
    aad_sync_plan_clear(&plan);
    json_decref(accounts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uid_depends_on_the_oid_alone_in_the_range),
        cmocka_unit_test(test_member_gets_the_account_a_login_maps_to),
        cmocka_unit_test(test_user_map_names_the_account),
        cmocka_unit_test(test_name_the_name_service_knows_is_skipped),
        cmocka_unit_test(test_second_identity_with_the_same_name_is_skipped),
        cmocka_unit_test(test_uid_taken_elsewhere_gives_the_next_candidate),
        cmocka_unit_test(test_full_range_skips_the_member),
        cmocka_unit_test(test_disabled_member_is_locked_and_unlocked_when_enabled),
        cmocka_unit_test(test_removed_member_is_locked_then_removed_after_the_grace_period),
        cmocka_unit_test(test_retired_uid_is_never_given_to_another_person),
        cmocka_unit_test(test_renamed_person_keeps_the_account_name),
        cmocka_unit_test(test_disabled_newcomer_gets_no_account),
        cmocka_unit_test(test_files_hold_locked_passwords_and_keep_other_lines),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
