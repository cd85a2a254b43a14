/* test_groupmap.c - reading group_map (object IDs only, safe-file rules)
 * and deciding membership from the token's groups claim. */
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

#include "aad_groupmap.h"
#include "aad_groupplan.h"
#include "unit_support.h"

#define ADMINS "0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f"
#define ADMINS_UPPER "0B9D8F3E-1C2A-4E5B-9F6D-7A8B9C0D1E2F"
#define DEVS "11111111-2222-3333-4444-555555555555"
#define OTHER "99999999-8888-7777-6666-555555555555"

/* group_map read from path, as a configuration naming it reads it. */
static enum aad_status read_map(const char *map_path, const struct aad_log *log,
                                struct aad_group_map *map, struct aad_error *err)
{
    struct aad_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.group_map = (char *)map_path;
    return aad_group_map_read(&cfg, log, map, err);
}

static char dir[64];
static char path[256];
static char logged[4096];

static void capture(void *ctx, int priority, const char *message)
{
    (void)ctx, (void)priority;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof(logged) - used, "%s\n", message);
}
static const struct aad_log log_to_buffer = {capture, NULL, 1};

static int setup(void **state)
{
    (void)state;
    logged[0] = '\0';
    return unit_make_dir(dir, sizeof(dir), "groupmap");
}

static int teardown(void **state)
{
    (void)state;
    return unit_remove_dir(dir);
}

static const char *write_map(const char *text, mode_t mode)
{
    snprintf(path, sizeof(path), "%s/group_map", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_lines_map_object_ids_to_local_groups(void **s)
{
    (void)s;
    struct aad_group_map map;
    struct aad_error err = {0};
    write_map("# Entra group            local group\n" ADMINS "  sudo\n" ADMINS " adm # too\n"
              "\n" DEVS "\tdocker\n" DEVS " sudo\n",
              0644);
    assert_status(read_map(path, &log_to_buffer, &map, &err), AAD_OK, err);
    assert_int_equal(map.count, 4);
    assert_string_equal(map.lines[1].entra_id, ADMINS);
    assert_string_equal(map.lines[1].group, "adm");
    assert_true(aad_group_map_names(&map, "docker"));
    assert_false(aad_group_map_names(&map, "wheel"));
    assert_string_equal(logged, "");
    aad_group_map_clear(&map);
}

static void test_display_name_is_refused_with_a_log_line(void **s)
{
    (void)s;
    struct aad_group_map map;
    struct aad_error err = {0};
    write_map("Linux-Admins sudo\n" ADMINS " adm\n", 0644);
    assert_status(read_map(path, &log_to_buffer, &map, &err), AAD_OK, err);
    assert_int_equal(map.count, 1);
    assert_false(aad_group_map_names(&map, "sudo"));
    assert_non_null(strstr(logged, "'Linux-Admins' is not an Entra group object ID"));
    aad_group_map_clear(&map);
}

static void test_upper_case_id_is_the_same_group(void **s)
{
    (void)s;
    struct aad_group_map map;
    struct aad_error err = {0};
    write_map(ADMINS_UPPER " sudo\n", 0644);
    assert_status(read_map(path, &log_to_buffer, &map, &err), AAD_OK, err);
    assert_int_equal(map.count, 1);
    assert_string_equal(map.lines[0].entra_id, ADMINS); /* compared in one case */
    aad_group_map_clear(&map);
}

static void test_invalid_local_group_name_is_ignored_with_a_log_line(void **s)
{
    (void)s;
    struct aad_group_map map;
    struct aad_error err = {0};
    write_map(ADMINS " SUDO\n" ADMINS " ../etc\n" ADMINS "\n" ADMINS " sudo extra\n", 0644);
    assert_status(read_map(path, &log_to_buffer, &map, &err), AAD_OK, err);
    assert_int_equal(map.count, 0);
    assert_non_null(strstr(logged, ":1: 'SUDO' is not a valid local group name"));
    assert_non_null(strstr(logged, ":2: '../etc' is not a valid local group name"));
    assert_non_null(strstr(logged, ":3: expected"));
    assert_non_null(strstr(logged, ":4: expected"));
    aad_group_map_clear(&map);
}

static void test_file_writable_by_others_is_refused(void **s)
{
    (void)s;
    struct aad_group_map map;
    struct aad_error err = {0};
    write_map(ADMINS " sudo\n", 0666);
    assert_status(read_map(path, &log_to_buffer, &map, &err), AAD_CONFIG_ERROR, err);
    assert_int_equal(map.count, 0);
    aad_group_map_clear(&map);
    write_map(ADMINS " sudo\n", 0620);
    assert_status(read_map(path, &log_to_buffer, &map, &err), AAD_CONFIG_ERROR, err);
    aad_group_map_clear(&map);
}

static void test_symlink_is_refused(void **s)
{
    (void)s;
    struct aad_group_map map;
    struct aad_error err = {0};
    char link_path[300];
    write_map(ADMINS " sudo\n", 0644);
    snprintf(link_path, sizeof(link_path), "%s/link", dir);
    assert_int_equal(symlink(path, link_path), 0);
    assert_status(read_map(link_path, &log_to_buffer, &map, &err), AAD_CONFIG_ERROR, err);
    aad_group_map_clear(&map);
}

/* ---- the plan from a token's groups claim -------------------------------- */

static void plan_for(const char *claims_json, struct aad_group_plan *plan, enum aad_status want)
{
    struct aad_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.group_map = path;
    cfg.scope = (char *)"openid profile";
    json_t *claims = json_loads(claims_json, 0, NULL);
    assert_non_null(claims);
    struct aad_error err = {0};
    assert_status(aad_group_plan_make(&cfg, NULL, claims, NULL, &log_to_buffer, plan, &err), want,
                  err);
    json_decref(claims);
}

static const struct aad_group_want *want(const struct aad_group_plan *plan, const char *group)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (strcmp(plan->wants[i].group, group) == 0)
            return &plan->wants[i];
    }
    fail_msg("no plan for %s", group);
    return NULL;
}

static void test_any_mapped_entra_group_grants_the_local_group(void **s)
{
    (void)s;
    struct aad_group_plan plan;
    write_map(ADMINS " sudo\n" DEVS " sudo\n" DEVS " docker\n" OTHER " adm\n", 0644);
    plan_for("{\"groups\":[\"" DEVS "\",\"aaaaaaaa-0000-0000-0000-000000000000\"]}", &plan, AAD_OK);
    assert_int_equal(plan.count, 3);
    assert_true(want(&plan, "sudo")->member);
    assert_string_equal(want(&plan, "sudo")->entra_id, DEVS);
    assert_true(want(&plan, "docker")->member);
    assert_false(want(&plan, "adm")->member);
    assert_string_equal(want(&plan, "adm")->entra_id, OTHER);
    aad_group_plan_clear(&plan);
}

static void test_group_id_in_another_case_in_the_token_matches(void **s)
{
    (void)s;
    struct aad_group_plan plan;
    write_map(ADMINS " sudo\n", 0644);
    plan_for("{\"groups\":[\"" ADMINS_UPPER "\"]}", &plan, AAD_OK);
    assert_true(want(&plan, "sudo")->member);
    aad_group_plan_clear(&plan);
}

static void test_display_name_in_the_token_grants_nothing(void **s)
{
    (void)s;
    struct aad_group_plan plan;
    write_map(ADMINS " sudo\n", 0644);
    plan_for("{\"groups\":[\"Linux-Admins\",\"sudo\"]}", &plan, AAD_OK);
    assert_false(want(&plan, "sudo")->member);
    aad_group_plan_clear(&plan);
}

static void test_token_without_groups_claim_means_no_membership(void **s)
{
    (void)s;
    struct aad_group_plan plan;
    write_map(ADMINS " sudo\n", 0644);
    plan_for("{}", &plan, AAD_OK);
    assert_false(want(&plan, "sudo")->member);
    assert_non_null(strstr(logged, "carries no groups claim"));
    aad_group_plan_clear(&plan);
}

static void test_overage_without_graph_refuses(void **s)
{
    (void)s;
    struct aad_group_plan plan;
    write_map(ADMINS " sudo\n", 0644);
    plan_for("{\"_claim_names\":{\"groups\":\"src1\"}}", &plan, AAD_DENIED);
    assert_int_equal(plan.count, 0);
}

static void test_unsafe_map_refuses_the_login(void **s)
{
    (void)s;
    struct aad_group_plan plan;
    write_map(ADMINS " sudo\n", 0646);
    plan_for("{\"groups\":[\"" ADMINS "\"]}", &plan, AAD_CONFIG_ERROR);
    assert_int_equal(plan.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_lines_map_object_ids_to_local_groups),
        T(test_display_name_is_refused_with_a_log_line),
        T(test_upper_case_id_is_the_same_group),
        T(test_invalid_local_group_name_is_ignored_with_a_log_line),
        T(test_file_writable_by_others_is_refused),
        T(test_symlink_is_refused),
        T(test_any_mapped_entra_group_grants_the_local_group),
        T(test_group_id_in_another_case_in_the_token_matches),
        T(test_display_name_in_the_token_grants_nothing),
        T(test_token_without_groups_claim_means_no_membership),
        T(test_overage_without_graph_refuses),
        T(test_unsafe_map_refuses_the_login),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
