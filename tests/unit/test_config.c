/* test_config.c - aad_config_load: every key of SPEC.md's table, every error,
 * module arguments and the safety checks on the file. */
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
#include "unit_support.h"

#define GUID "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT "535fb089-9ff3-47b6-9bfb-4f1264799865"
#define MINIMAL "tenant = contoso.com\nclient_id = " CLIENT "\ndomains = contoso.com\n"

static char dir[64];
static char path[256];
static int file_counter;

static int group_setup(void **state)
{
    (void)state;
    return unit_make_dir(dir, sizeof(dir), "config");
}

static int group_teardown(void **state)
{
    (void)state;
    return unit_remove_dir(dir);
}

/* Writes text to a new file in dir with the given mode; its path goes to path. */
static const char *write_file_mode(const char *text, mode_t mode)
{
    snprintf(path, sizeof(path), "%s/pam_aad-%d.conf", dir, ++file_counter);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static const char *write_file(const char *text)
{
    return write_file_mode(text, 0600);
}


/* Loads text (written to a fresh 0600 file) with the module arguments. */
static enum aad_status load_args(const char *text, int argc, const char **argv,
                                 struct aad_config **cfg, struct aad_error *err)
{
    *cfg = NULL;
    memset(err, 0, sizeof(*err));
    write_file(text);
    return aad_config_load(path, argc, argv, cfg, err);
}

static struct aad_config *load_ok(const char *text)
{
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(text, 0, NULL, &cfg, &err), AAD_OK, err);
    assert_non_null(cfg);
    return cfg;
}

/* MINIMAL plus one more line must be accepted. */
static struct aad_config *load_with(const char *line)
{
    char text[4096];
    snprintf(text, sizeof(text), "%s%s\n", MINIMAL, line);
    return load_ok(text);
}

/* MINIMAL plus line (at line 4) must be refused with sub in the message. */
static void expect_refused_with(const char *line, const char *sub)
{
    char text[4096];
    snprintf(text, sizeof(text), "%s%s\n", MINIMAL, line);
    struct aad_config *cfg = NULL;
    struct aad_error err;
    enum aad_status st = load_args(text, 0, NULL, &cfg, &err);
    aad_config_free(cfg); /* only when wrongly accepted: do not leak then */
    if (st == AAD_OK)
        fail_msg("'%s' was accepted", line);
    assert_status(st, AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    if (sub != NULL)
        assert_message_has(err, sub);
}

/* text must be refused with sub in the message. */
static void expect_text_refused(const char *text, const char *sub)
{
    struct aad_config *cfg = NULL;
    struct aad_error err;
    enum aad_status st = load_args(text, 0, NULL, &cfg, &err);
    aad_config_free(cfg); /* only when wrongly accepted: do not leak then */
    assert_status(st, AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_int_equal(err.status, AAD_CONFIG_ERROR);
    if (sub != NULL)
        assert_message_has(err, sub);
}

/* "<path>:<line>:" of the file last written. */
static const char *at_line(int line)
{
    static char where[300];
    snprintf(where, sizeof(where), "%s:%d:", path, line);
    return where;
}

/* ---- defaults and every key ------------------------------------------------------- */

static void test_minimal_file_gets_the_defaults(void **state)
{
    (void)state;
    struct aad_config *cfg = load_ok(MINIMAL);
    assert_string_equal(cfg->path, path);
    assert_string_equal(cfg->tenant, "contoso.com");
    assert_string_equal(cfg->client_id, CLIENT);
    assert_string_equal(cfg->authority, "https://login.microsoftonline.com");
    assert_null(cfg->ca_file);
    assert_null(cfg->proxy);
    assert_string_equal(cfg->scope, "openid profile");
    assert_string_equal(cfg->user_claim, "preferred_username");
    assert_int_equal(cfg->domains.count, 1);
    assert_string_equal(cfg->domains.items[0], "contoso.com");
    assert_null(cfg->user_map);
    assert_int_equal(cfg->allowed_groups.count, 0);
    assert_int_equal(cfg->allowed_roles.count, 0);
    assert_int_equal(cfg->allow_guests, 0);
    assert_int_equal(cfg->allow_root, 0);
    assert_int_equal(cfg->timeout, 300);
    assert_int_equal(cfg->http_timeout, 10);
    assert_int_equal(cfg->clock_skew, 300);
    assert_non_null(cfg->cache_dir);
    assert_int_equal(cfg->cache_dir[0], '/');
    assert_int_equal(cfg->qr, AAD_QR_AUTO);
    assert_int_equal(cfg->wait_for_enter, 1);
    assert_int_equal(cfg->debug, 0);
    aad_config_free(cfg);
}

static void test_tenant_guid_is_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("tenant = " GUID);
    assert_string_equal(cfg->tenant, GUID);
    aad_config_free(cfg);
}

static void test_tenant_domain_is_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("tenant = contoso.onmicrosoft.com");
    assert_string_equal(cfg->tenant, "contoso.onmicrosoft.com");
    aad_config_free(cfg);
}

static void test_client_id_is_stored(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("client_id = 00000000-1111-2222-3333-444444444444");
    assert_string_equal(cfg->client_id, "00000000-1111-2222-3333-444444444444");
    aad_config_free(cfg);
}

static void test_upper_case_client_id_is_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("client_id = 535FB089-9FF3-47B6-9BFB-4F1264799865");
    assert_string_equal(cfg->client_id, "535FB089-9FF3-47B6-9BFB-4F1264799865");
    aad_config_free(cfg);
}

static void test_authority_national_cloud_is_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("authority = https://login.microsoftonline.us");
    assert_string_equal(cfg->authority, "https://login.microsoftonline.us");
    aad_config_free(cfg);
    cfg = load_with("authority = https://login.partner.microsoftonline.cn");
    assert_string_equal(cfg->authority, "https://login.partner.microsoftonline.cn");
    aad_config_free(cfg);
}

static void test_authority_with_port_and_trailing_slash_is_normalised(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("authority = https://127.0.0.1:8443/");
    assert_string_equal(cfg->authority, "https://127.0.0.1:8443");
    aad_config_free(cfg);
}

static void test_authority_ipv6_literal_is_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("authority = https://[::1]:8443");
    assert_string_equal(cfg->authority, "https://[::1]:8443");
    aad_config_free(cfg);
    expect_refused_with("authority = https://[::1:8443", "'authority' must be");
    expect_refused_with("authority = https://[]:8443", "'authority' must be");
}

/* A PEM bundle in the test directory with the given mode; its path. */
static const char *write_ca_file(mode_t mode)
{
    static char ca[300];
    snprintf(ca, sizeof(ca), "%s/ca-%d.pem", dir, ++file_counter);
    FILE *f = fopen(ca, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(ca, mode), 0);
    return ca;
}

static void test_ca_file_is_stored(void **state)
{
    (void)state;
    char line[400];
    const char *ca = write_ca_file(0644);
    snprintf(line, sizeof(line), "ca_file = %s", ca);
    struct aad_config *cfg = load_with(line);
    assert_string_equal(cfg->ca_file, ca);
    aad_config_free(cfg);
}

static void test_relative_ca_file_is_refused(void **state)
{
    (void)state;
    expect_refused_with("ca_file = ca.pem", "'ca_file' must be an absolute path");
}

static void test_other_writable_ca_file_is_refused(void **state)
{
    (void)state;
    char line[400];
    const char *ca = write_ca_file(0666);
    snprintf(line, sizeof(line), "ca_file = %s", ca);
    expect_refused_with(line, ca);
    expect_refused_with(line, "writable by group or others");
}

static void test_ca_file_owned_by_another_user_is_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    char line[400];
    const char *ca = write_ca_file(0644);
    assert_int_equal(chown(ca, 65534, 65534), 0);
    snprintf(line, sizeof(line), "ca_file = %s", ca);
    expect_refused_with(line, "not owned by root");
}

static void test_missing_ca_file_is_refused(void **state)
{
    (void)state;
    char line[400];
    snprintf(line, sizeof(line), "ca_file = %s/no-such-ca.pem", dir);
    expect_refused_with(line, "no-such-ca.pem");
}

static void test_symlinked_ca_file_is_refused(void **state)
{
    (void)state;
    char line[400], link_path[300];
    const char *ca = write_ca_file(0644);
    snprintf(link_path, sizeof(link_path), "%s/ca-link-%d.pem", dir, file_counter);
    assert_int_equal(symlink(ca, link_path), 0);
    snprintf(line, sizeof(line), "ca_file = %s", link_path);
    expect_refused_with(line, "symbolic link");
}

static void test_proxy_is_stored(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("proxy = https://proxy.example:3128");
    assert_string_equal(cfg->proxy, "https://proxy.example:3128");
    aad_config_free(cfg);
}

static void test_empty_proxy_means_none(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("proxy =");
    assert_null(cfg->proxy);
    aad_config_free(cfg);
}

static void test_scope_with_openid_is_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("scope = profile openid email");
    assert_string_equal(cfg->scope, "profile openid email");
    aad_config_free(cfg);
    cfg = load_with("scope = openid");
    assert_string_equal(cfg->scope, "openid");
    aad_config_free(cfg);
}

static void test_user_claim_values_are_accepted(void **state)
{
    (void)state;
    const char *values[] = {"preferred_username", "upn", "email"};
    for (size_t i = 0; i < 3; i++) {
        char line[64];
        snprintf(line, sizeof(line), "user_claim = %s", values[i]);
        struct aad_config *cfg = load_with(line);
        assert_string_equal(cfg->user_claim, values[i]);
        aad_config_free(cfg);
    }
}

static void test_domains_list_is_stored(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("domains = contoso.com, fabrikam.com");
    assert_int_equal(cfg->domains.count, 2);
    assert_string_equal(cfg->domains.items[0], "contoso.com");
    assert_string_equal(cfg->domains.items[1], "fabrikam.com");
    assert_true(aad_strlist_contains(&cfg->domains, "FABRIKAM.com", 1));
    assert_false(aad_strlist_contains(&cfg->domains, "FABRIKAM.com", 0));
    assert_false(aad_strlist_contains(&cfg->domains, "example.com", 1));
    aad_config_free(cfg);
}

static void test_user_map_alone_is_enough(void **state)
{
    (void)state;
    struct aad_config *cfg =
        load_ok("tenant = contoso.com\nclient_id = " CLIENT "\nuser_map = /etc/security/aad_users\n");
    assert_string_equal(cfg->user_map, "/etc/security/aad_users");
    assert_int_equal(cfg->domains.count, 0);
    aad_config_free(cfg);
}

static void test_allowed_groups_and_roles_are_stored(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("allowed_groups = " GUID " " CLIENT "\n"
                                       "allowed_roles = Linux.Login,Linux.Admin");
    assert_int_equal(cfg->allowed_groups.count, 2);
    assert_string_equal(cfg->allowed_groups.items[0], GUID);
    assert_string_equal(cfg->allowed_groups.items[1], CLIENT);
    assert_int_equal(cfg->allowed_roles.count, 2);
    assert_string_equal(cfg->allowed_roles.items[0], "Linux.Login");
    assert_string_equal(cfg->allowed_roles.items[1], "Linux.Admin");
    aad_config_free(cfg);
}

static void test_booleans_are_parsed(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("allow_guests = yes\nallow_root = true\n"
                                       "wait_for_enter = no\ndebug = on");
    assert_int_equal(cfg->allow_guests, 1);
    assert_int_equal(cfg->allow_root, 1);
    assert_int_equal(cfg->wait_for_enter, 0);
    assert_int_equal(cfg->debug, 1);
    aad_config_free(cfg);
    cfg = load_with("allow_guests = No\nallow_root = 0\nwait_for_enter = 1\ndebug = off");
    assert_int_equal(cfg->allow_guests, 0);
    assert_int_equal(cfg->allow_root, 0);
    assert_int_equal(cfg->wait_for_enter, 1);
    assert_int_equal(cfg->debug, 0);
    aad_config_free(cfg);
}

/* UID_MIN of /etc/login.defs as useradd reads it, else 1000. */
static long host_uid_min(void)
{
    long uid_min = 1000;
    FILE *f = fopen("/etc/login.defs", "r");
    char line[512], key[16];
    long n;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%15s %ld", key, &n) == 2 && strcmp(key, "UID_MIN") == 0)
            uid_min = n;
    }
    if (f != NULL)
        fclose(f);
    return uid_min;
}

static void test_min_uid_defaults_to_uid_min_and_is_parsed(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("");
    assert_int_equal(cfg->min_uid, host_uid_min());
    aad_config_free(cfg);
    cfg = load_with("min_uid = 500");
    assert_int_equal(cfg->min_uid, 500);
    aad_config_free(cfg);
    cfg = load_with("min_uid = 0");
    assert_int_equal(cfg->min_uid, 0);
    aad_config_free(cfg);
    expect_refused_with("min_uid = -1", "'min_uid' must be a whole number from 0 to 2147483647");
    expect_refused_with("min_uid = 1000x", "'min_uid' must be a whole number from 0");
    expect_refused_with("min_uid = ", "'min_uid' must be a whole number from 0");
    expect_refused_with("min_uid = 4294967296", "'min_uid' must be a whole number from 0");
}

static void test_seconds_are_parsed(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("timeout = 120\nhttp_timeout = 5\nclock_skew = 0");
    assert_int_equal(cfg->timeout, 120);
    assert_int_equal(cfg->http_timeout, 5);
    assert_int_equal(cfg->clock_skew, 0);
    aad_config_free(cfg);
}

static void test_seconds_range_limits_are_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("timeout = 10\nhttp_timeout = 1\nclock_skew = 3600");
    assert_int_equal(cfg->timeout, 10);
    assert_int_equal(cfg->http_timeout, 1);
    assert_int_equal(cfg->clock_skew, 3600);
    aad_config_free(cfg);
    cfg = load_with("timeout = 3600\nhttp_timeout = 120");
    assert_int_equal(cfg->timeout, 3600);
    assert_int_equal(cfg->http_timeout, 120);
    aad_config_free(cfg);
}

static void test_cache_dir_is_stored(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("cache_dir = /run/pam_aad");
    assert_string_equal(cfg->cache_dir, "/run/pam_aad");
    aad_config_free(cfg);
}

static void test_qr_values_are_parsed(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("qr = yes");
    assert_int_equal(cfg->qr, AAD_QR_YES);
    aad_config_free(cfg);
    cfg = load_with("qr = no");
    assert_int_equal(cfg->qr, AAD_QR_NO);
    aad_config_free(cfg);
    cfg = load_with("qr = auto");
    assert_int_equal(cfg->qr, AAD_QR_AUTO);
    aad_config_free(cfg);
}

static void test_later_line_overrides_earlier(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("timeout = 60\ntimeout = 90\ndomains = fabrikam.com");
    assert_int_equal(cfg->timeout, 90);
    assert_int_equal(cfg->domains.count, 1);
    assert_string_equal(cfg->domains.items[0], "fabrikam.com");
    aad_config_free(cfg);
}

/* ---- syntax -------------------------------------------------------------------------- */

static void test_comments_and_blank_lines_are_ignored(void **state)
{
    (void)state;
    struct aad_config *cfg = load_ok("# pam_aad.conf\n\n   \n\t\n"
                                     "tenant = contoso.com   # the tenant\n"
                                     "  # indented comment\n"
                                     "client_id=" CLIENT "\n"
                                     "domains = contoso.com\n"
                                     "timeout = 60#no space before the comment\n");
    assert_string_equal(cfg->tenant, "contoso.com");
    assert_string_equal(cfg->client_id, CLIENT);
    assert_int_equal(cfg->timeout, 60);
    aad_config_free(cfg);
}

static void test_file_without_final_newline_is_read(void **state)
{
    (void)state;
    struct aad_config *cfg =
        load_ok("tenant = contoso.com\nclient_id = " CLIENT "\ndomains = contoso.com");
    assert_string_equal(cfg->domains.items[0], "contoso.com");
    aad_config_free(cfg);
}

static void test_crlf_line_endings_are_accepted(void **state)
{
    (void)state;
    struct aad_config *cfg =
        load_ok("tenant = contoso.com\r\nclient_id = " CLIENT "\r\ndomains = contoso.com\r\n");
    assert_string_equal(cfg->tenant, "contoso.com");
    assert_string_equal(cfg->domains.items[0], "contoso.com");
    aad_config_free(cfg);
}

static void test_lists_separated_by_commas_and_spaces(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("domains = a.com,b.com c.com , d.com,,\te.com ,");
    assert_int_equal(cfg->domains.count, 5);
    const char *want[] = {"a.com", "b.com", "c.com", "d.com", "e.com"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(cfg->domains.items[i], want[i]);
    aad_config_free(cfg);
}

static void test_unknown_key_is_refused(void **state)
{
    (void)state;
    expect_refused_with("tennant = contoso.com", "unknown key 'tennant'");
    expect_refused_with("Tenant = contoso.com", "unknown key");
    expect_refused_with("= contoso.com", "unknown key");
}

static void test_line_without_equals_is_refused(void **state)
{
    (void)state;
    expect_refused_with("tenant contoso.com", "expected 'key = value'");
    expect_refused_with("debug", "expected 'key = value'");
}

static void test_quoted_values_are_refused_with_file_and_line(void **state)
{
    (void)state;
    expect_refused_with("domains = \"contoso.example\"",
                        "values take no quotes: write domains = contoso.example");
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL "domains = \"contoso.example\"\n", 0, NULL, &cfg, &err),
                  AAD_CONFIG_ERROR, err);
    assert_message_has(err, at_line(4));
    expect_refused_with("proxy = 'http://proxy.example:3128'",
                        "values take no quotes: write proxy = http://proxy.example:3128");
    const char *args[] = {"timeout=\"60\""};
    assert_status(load_args(MINIMAL, 1, args, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "module argument 1: values take no quotes");
}

static void test_errors_carry_file_and_line(void **state)
{
    (void)state;
    expect_text_refused("# comment\n\ntenant = contoso.com\nbogus = 1\n", NULL);
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args("# comment\n\ntenant = contoso.com\nbogus = 1\n", 0, NULL, &cfg, &err),
                  AAD_CONFIG_ERROR, err);
    assert_message_has(err, at_line(4));
    assert_status(load_args("\n\n\n\n\ntimeout = forever\n", 0, NULL, &cfg, &err), AAD_CONFIG_ERROR,
                  err);
    assert_message_has(err, at_line(6));
    assert_status(load_args(MINIMAL "\n# x\nline without equals\n", 0, NULL, &cfg, &err),
                  AAD_CONFIG_ERROR, err);
    assert_message_has(err, at_line(6));
}

static void test_nul_byte_in_file_is_refused(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "%s/nul.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(MINIMAL "debug = yes\0no\n", 1, sizeof(MINIMAL "debug = yes\0no\n") - 1, f);
    fclose(f);
    chmod(path, 0600);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(path, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "NUL");
}

/* ---- bad values ---------------------------------------------------------------------- */

static void test_bad_bool_is_refused(void **state)
{
    (void)state;
    expect_refused_with("allow_guests = maybe", "'allow_guests' must be yes or no");
    expect_refused_with("allow_root = 2", "'allow_root' must be yes or no");
    expect_refused_with("wait_for_enter = ", "'wait_for_enter' must be yes or no");
    expect_refused_with("debug = yes please", "'debug' must be yes or no");
}

static void test_bad_timeout_is_refused(void **state)
{
    (void)state;
    expect_refused_with("timeout = abc", "'timeout' must be a whole number of seconds from 10 to 3600");
    expect_refused_with("timeout = 60s", "'timeout' must be a whole number");
    expect_refused_with("timeout = 1e3", "'timeout' must be a whole number");
    expect_refused_with("timeout = ", "'timeout' must be a whole number");
    expect_refused_with("timeout = 9", "'timeout' must be a whole number");
    expect_refused_with("timeout = 3601", "'timeout' must be a whole number");
    expect_refused_with("timeout = -300", "'timeout' must be a whole number");
    expect_refused_with("timeout = 99999999999999999999999", "'timeout' must be a whole number");
}

static void test_bad_http_timeout_is_refused(void **state)
{
    (void)state;
    expect_refused_with("http_timeout = ten", "'http_timeout' must be a whole number of seconds from 1 to 120");
    expect_refused_with("http_timeout = 0", "'http_timeout' must be a whole number");
    expect_refused_with("http_timeout = 121", "'http_timeout' must be a whole number");
    expect_refused_with("http_timeout = 2.5", "'http_timeout' must be a whole number");
}

static void test_bad_clock_skew_is_refused(void **state)
{
    (void)state;
    expect_refused_with("clock_skew = -1", "'clock_skew' must be a whole number of seconds from 0 to 3600");
    expect_refused_with("clock_skew = 3601", "'clock_skew' must be a whole number");
    expect_refused_with("clock_skew = 5m", "'clock_skew' must be a whole number");
}

static void test_bad_qr_is_refused(void **state)
{
    (void)state;
    expect_refused_with("qr = sometimes", "'qr' must be yes, no or auto");
    expect_refused_with("qr =", "'qr' must be yes, no or auto");
}

static void test_multitenant_tenants_are_refused(void **state)
{
    (void)state;
    expect_refused_with("tenant = common", "pinned to one tenant");
    expect_refused_with("tenant = organizations", "pinned to one tenant");
    expect_refused_with("tenant = consumers", "pinned to one tenant");
    expect_refused_with("tenant = Common", "pinned to one tenant");
}

static void test_bad_tenant_is_refused(void **state)
{
    (void)state;
    expect_refused_with("tenant = contoso", "'tenant' must be a tenant GUID or a domain name");
    expect_refused_with("tenant = contoso..com", "'tenant' must be");
    expect_refused_with("tenant = .contoso.com", "'tenant' must be");
    expect_refused_with("tenant = -contoso.com", "'tenant' must be");
    expect_refused_with("tenant = contoso.com/evil", "'tenant' must be");
    expect_refused_with("tenant = contoso.com?x=1", "'tenant' must be");
    expect_refused_with("tenant = 72f988bf-86f1-41af-91ab-2d7cd011db4", "'tenant' must be");
    expect_refused_with("tenant = ", "'tenant' is required");
}

static void test_missing_tenant_is_refused(void **state)
{
    (void)state;
    expect_text_refused("client_id = " CLIENT "\ndomains = contoso.com\n", "'tenant' is required");
}

static void test_missing_or_invalid_client_id_is_refused(void **state)
{
    (void)state;
    expect_text_refused("tenant = contoso.com\ndomains = contoso.com\n", "'client_id' is required");
    expect_refused_with("client_id = my-app", "'client_id' is required and must be the application's GUID");
    expect_refused_with("client_id = {" CLIENT "}", "'client_id'");
    expect_refused_with("client_id = 535fb089-9ff3-47b6-9bfb-4f1264799865x", "'client_id'");
}

static void test_authority_not_https_is_refused(void **state)
{
    (void)state;
    expect_refused_with("authority = http://login.microsoftonline.com", "'authority' must be https://host[:port]");
    expect_refused_with("authority = login.microsoftonline.com", "'authority' must be");
    expect_refused_with("authority = ftp://login.microsoftonline.com", "'authority' must be");
    expect_refused_with("authority = https://", "'authority' must be");
    expect_refused_with("authority = ", "'authority' must be");
}

static void test_authority_with_path_is_refused(void **state)
{
    (void)state;
    expect_refused_with("authority = https://login.microsoftonline.com/contoso.com", "'authority' must be");
    expect_refused_with("authority = https://login.microsoftonline.com/?x=1", "'authority' must be");
    /* '#' starts a comment in the file, so try a fragment as a module argument. */
    const char *argv[] = {"authority=https://login.microsoftonline.com#frag"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL, 1, argv, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "'authority' must be");
}

static void test_authority_with_bad_port_is_refused(void **state)
{
    (void)state;
    expect_refused_with("authority = https://login.microsoftonline.com:", "'authority' must be");
    expect_refused_with("authority = https://login.microsoftonline.com:https", "'authority' must be");
    expect_refused_with("authority = https://login.microsoftonline.com:443:443", "'authority' must be");
    expect_refused_with("authority = https://login.microsoftonline.com:99999", "'authority' must be");
}

static void test_authority_with_user_info_is_refused(void **state)
{
    (void)state;
    expect_refused_with("authority = https://user@login.microsoftonline.com", "'authority' must be");
    expect_refused_with("authority = https://login.microsoftonline.com@evil.example", "'authority' must be");
    expect_refused_with("authority = https://user:pw@login.microsoftonline.com", "'authority' must be");
}

static void test_scope_without_openid_is_refused(void **state)
{
    (void)state;
    expect_refused_with("scope = profile email", "'scope' must contain openid");
    expect_refused_with("scope = openidx profile", "'scope' must contain openid");
    expect_refused_with("scope = xopenid", "'scope' must contain openid");
    expect_refused_with("scope =", "'scope' must contain openid");
}

static void test_bad_user_claim_is_refused(void **state)
{
    (void)state;
    expect_refused_with("user_claim = unique_name", "'user_claim' must be preferred_username, upn or email");
    expect_refused_with("user_claim = UPN", "'user_claim' must be");
    expect_refused_with("user_claim = oid", "'user_claim' must be");
}

static void test_neither_domains_nor_user_map_is_refused(void **state)
{
    (void)state;
    expect_text_refused("tenant = contoso.com\nclient_id = " CLIENT "\n", "set 'domains' or 'user_map'");
    expect_text_refused("tenant = contoso.com\nclient_id = " CLIENT "\ndomains = , \n",
                        "set 'domains' or 'user_map'");
}

static void test_relative_cache_dir_is_refused(void **state)
{
    (void)state;
    expect_refused_with("cache_dir = var/cache/pam_aad", "'cache_dir' must be an absolute path");
    expect_refused_with("cache_dir = ", "'cache_dir' must be an absolute path");
}

static void test_relative_user_map_is_refused(void **state)
{
    (void)state;
    expect_refused_with("user_map = aad_users", "'user_map' must be an absolute path");
    expect_refused_with("user_map = ./aad_users", "'user_map' must be an absolute path");
}

static void test_overlong_value_is_refused(void **state)
{
    (void)state;
    char *text = malloc(8192);
    int n = snprintf(text, 8192, "%sallowed_roles = ", MINIMAL);
    memset(text + n, 'r', 5000);
    strcpy(text + n + 5000, "\n");
    expect_text_refused(text, "too long");
    free(text);
}

static void test_authority_longer_than_512_characters_is_refused(void **state)
{
    (void)state;
    char line[2100];
    int n = snprintf(line, sizeof(line), "authority = https://");
    memset(line + n, 'a', 2000);
    strcpy(line + n + 2000, ".example");
    expect_refused_with(line, "'authority' is longer than 512 characters");
    /* 512 is still fine. */
    n = snprintf(line, sizeof(line), "authority = https://");
    memset(line + n, 'a', 512 - 8 - 8);
    strcpy(line + n + 512 - 16, ".example");
    aad_config_free(load_with(line));
}

/* ---- module arguments ---------------------------------------------------------------------- */

static void test_config_argument_names_the_file(void **state)
{
    (void)state;
    write_file(MINIMAL "timeout = 42\n");
    char arg[300];
    snprintf(arg, sizeof(arg), "config=%s", path);
    const char *argv[] = {arg};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load("/nonexistent/pam_aad.conf", 1, argv, &cfg, &err), AAD_OK, err);
    assert_int_equal(cfg->timeout, 42);
    assert_string_equal(cfg->path, path);
    aad_config_free(cfg);
}

static void test_missing_file_is_refused(void **state)
{
    (void)state;
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load("/nonexistent/pam_aad.conf", 0, NULL, &cfg, &err),
                  AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "/nonexistent/pam_aad.conf");
}

static void test_debug_argument_sets_debug(void **state)
{
    (void)state;
    const char *argv[] = {"debug"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL, 1, argv, &cfg, &err), AAD_OK, err);
    assert_int_equal(cfg->debug, 1);
    aad_config_free(cfg);
}

static void test_key_value_arguments_override_the_file(void **state)
{
    (void)state;
    const char *argv[] = {"timeout=60", "domains=fabrikam.com,contoso.com", "qr=no",
                          "tenant=" GUID, "allow_guests=yes"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL "timeout = 120\nqr = yes\n", 5, argv, &cfg, &err), AAD_OK, err);
    assert_int_equal(cfg->timeout, 60);
    assert_int_equal(cfg->qr, AAD_QR_NO);
    assert_string_equal(cfg->tenant, GUID);
    assert_int_equal(cfg->allow_guests, 1);
    assert_int_equal(cfg->domains.count, 2);
    assert_string_equal(cfg->domains.items[0], "fabrikam.com");
    aad_config_free(cfg);
}

static void test_arguments_complete_a_partial_file(void **state)
{
    (void)state;
    const char *argv[] = {"client_id=" CLIENT, "domains=contoso.com"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args("tenant = contoso.com\n", 2, argv, &cfg, &err), AAD_OK, err);
    assert_string_equal(cfg->client_id, CLIENT);
    aad_config_free(cfg);
}

static void test_bad_argument_value_is_refused(void **state)
{
    (void)state;
    const char *argv[] = {"debug", "timeout=never"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL, 2, argv, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "module argument 2");
    assert_message_has(err, "'timeout'");
}

static void test_argument_cannot_make_config_invalid(void **state)
{
    (void)state;
    const char *argv[] = {"tenant=common"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL, 1, argv, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "pinned to one tenant");
}

static void test_unknown_argument_is_refused(void **state)
{
    (void)state;
    const char *argv1[] = {"use_first_pass"};
    struct aad_config *cfg = NULL;
    struct aad_error err;
    assert_status(load_args(MINIMAL, 1, argv1, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "module argument 1");
    assert_message_has(err, "use_first_pass");
    const char *argv2[] = {"debug", "nosuchkey=1"};
    assert_status(load_args(MINIMAL, 2, argv2, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "module argument 2");
    assert_message_has(err, "unknown key 'nosuchkey'");
}

/* ---- the file must be safe ----------------------------------------------------------------- */

static void test_group_writable_file_is_refused(void **state)
{
    (void)state;
    write_file_mode(MINIMAL, 0620);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(path, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "writable by group or others");
}

static void test_other_writable_file_is_refused(void **state)
{
    (void)state;
    write_file_mode(MINIMAL, 0602);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(path, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_message_has(err, "writable by group or others");
}

static void test_world_readable_file_is_accepted(void **state)
{
    (void)state;
    write_file_mode(MINIMAL, 0644);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(path, 0, NULL, &cfg, &err), AAD_OK, err);
    aad_config_free(cfg);
}

static void test_symlinked_file_is_refused(void **state)
{
    (void)state;
    write_file(MINIMAL);
    char link_path[300];
    snprintf(link_path, sizeof(link_path), "%s/link-%d.conf", dir, file_counter);
    assert_int_equal(symlink(path, link_path), 0);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(link_path, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "symbolic link");
}

static void test_directory_is_refused(void **state)
{
    (void)state;
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(dir, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "not a regular file");
}

static void test_fifo_is_refused(void **state)
{
    (void)state;
    char fifo[300];
    snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    /* Must not block waiting for a writer. */
    assert_status(aad_config_load(fifo, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "not a regular file");
}

static void test_oversized_file_is_refused(void **state)
{
    (void)state;
    size_t n = 70 * 1024;
    char *text = malloc(n + 1);
    memset(text, '#', n);
    memcpy(text, MINIMAL, strlen(MINIMAL));
    text[n] = '\0';
    expect_text_refused(text, "larger than");
    free(text);
}

static void test_file_owned_by_another_user_is_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    write_file(MINIMAL);
    assert_int_equal(chown(path, 65534, 65534), 0);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(path, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "not owned by root");
}

/* ---- describe -------------------------------------------------------------------------------- */

static void collect(void *ctx, const char *text)
{
    char *buf = ctx;
    strncat(buf, text, 8191 - strlen(buf));
    strncat(buf, "\n", 8191 - strlen(buf));
}

/* ---- aad-login token: no account is mapped -------------------------------------------------- */

static void test_tokens_need_no_domains(void **state)
{
    (void)state;
    write_file("tenant = contoso.com\nclient_id = " CLIENT "\n");
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load_for_tokens(path, 0, NULL, &cfg, &err), AAD_OK, err);
    assert_int_equal(cfg->domains.count, 0);
    assert_string_equal(cfg->token_store, "auto");
    aad_config_free(cfg);
}

static void test_tokens_need_no_file(void **state)
{
    (void)state;
    const char *argv[] = {"tenant=contoso.com", "client_id=" CLIENT, "timeout=60"};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load_for_tokens(NULL, 3, argv, &cfg, &err), AAD_OK, err);
    assert_string_equal(cfg->tenant, "contoso.com");
    assert_int_equal(cfg->timeout, 60);
    assert_string_equal(cfg->path, "(command line)");
    aad_config_free(cfg);
}

static void test_tokens_without_a_file_still_need_tenant_and_client(void **state)
{
    (void)state;
    const char *argv[] = {"tenant=contoso.com"};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load_for_tokens(NULL, 1, argv, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
    assert_message_has(err, "'client_id' is required");
}

static void test_login_still_needs_a_file(void **state)
{
    (void)state;
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    assert_status(aad_config_load(NULL, 0, NULL, &cfg, &err), AAD_CONFIG_ERROR, err);
    assert_null(cfg);
}

static void test_token_store_takes_four_values(void **state)
{
    (void)state;
    const char *const good[] = {"auto", "persistent", "user", "none"};
    for (size_t i = 0; i < 4; i++) {
        char line[64];
        snprintf(line, sizeof(line), "token_store = %s", good[i]);
        struct aad_config *cfg = load_with(line);
        assert_string_equal(cfg->token_store, good[i]);
        aad_config_free(cfg);
    }
    expect_refused_with("token_store = file", "'token_store' must be auto, persistent, user or none");
}

static void test_describe_lists_every_setting(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("allowed_roles = a, b\nqr = no");
    char *buf = calloc(1, 8192);
    aad_config_describe(cfg, collect, buf);
    assert_non_null(strstr(buf, "tenant = contoso.com\n"));
    assert_non_null(strstr(buf, "allowed_roles = a, b\n"));
    assert_non_null(strstr(buf, "qr = no\n"));
    assert_non_null(strstr(buf, "timeout = 300\n"));
    assert_non_null(strstr(buf, "proxy = (none)\n"));
    assert_non_null(strstr(buf, "wait_for_enter = yes\n"));
    free(buf);
    aad_config_free(cfg);
}

static void test_describe_masks_the_proxy_password(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("proxy = http://svc:S3cretPw@host:3128");
    assert_string_equal(cfg->proxy, "http://svc:S3cretPw@host:3128"); /* curl still gets it */
    char *buf = calloc(1, 8192);
    aad_config_describe(cfg, collect, buf);
    if (strstr(buf, "S3cretPw") != NULL)
        fail_msg("the proxy password is described: %s", buf);
    assert_non_null(strstr(buf, "proxy = http://svc:***@host:3128\n"));
    free(buf);
    aad_config_free(cfg);

    cfg = load_with("proxy = http://host:3128/");
    buf = calloc(1, 8192);
    aad_config_describe(cfg, collect, buf);
    assert_non_null(strstr(buf, "proxy = http://host:3128/\n"));
    free(buf);
    aad_config_free(cfg);

    cfg = load_with("proxy = svc:p@ss:word@host:3128");
    buf = calloc(1, 8192);
    aad_config_describe(cfg, collect, buf);
    assert_non_null(strstr(buf, "proxy = svc:***@host:3128\n"));
    free(buf);
    aad_config_free(cfg);
}

#define CERT_LINES "client_certificate = /etc/security/app.pem\nclient_key = /etc/security/app.key\n"
#define GROUP_ID "4b0c3a5e-1f2d-4e6a-9b8c-7d1e2f3a4b5c"

static void test_provisioning_defaults(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("min_uid = 1000");
    assert_int_equal(cfg->provision_groups.count, 0);
    assert_int_equal(cfg->provision_uid_min, 1900000000);
    assert_int_equal(cfg->provision_uid_max, 2099999999);
    assert_string_equal(cfg->provision_shell, "/bin/bash");
    assert_int_equal(cfg->provision_grace_days, 30);
    aad_config_free(cfg);
}

static void test_provisioning_keys_are_read(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with(CERT_LINES "provision_groups = " GROUP_ID
                                       "\nprovision_uid_min = 200000\nprovision_uid_max = 299999"
                                       "\nprovision_shell = /bin/zsh\nprovision_grace_days = 0"
                                       "\nmin_uid = 1000");
    assert_int_equal(cfg->provision_groups.count, 1);
    assert_string_equal(cfg->provision_groups.items[0], GROUP_ID);
    assert_int_equal(cfg->provision_uid_min, 200000);
    assert_int_equal(cfg->provision_uid_max, 299999);
    assert_string_equal(cfg->provision_shell, "/bin/zsh");
    assert_int_equal(cfg->provision_grace_days, 0);
    aad_config_free(cfg);
}

static void test_provision_groups_takes_object_ids(void **state)
{
    (void)state;
    expect_refused_with(CERT_LINES "provision_groups = Linux admins",
                        "'provision_groups' takes group object IDs (GUIDs), not 'Linux'");
}

static void test_provision_groups_needs_the_certificate(void **state)
{
    (void)state;
    expect_refused_with("provision_groups = " GROUP_ID,
                        "'provision_groups' needs 'client_certificate' and 'client_key'");
}

static void test_provision_uid_range_is_checked(void **state)
{
    (void)state;
    expect_refused_with("provision_uid_min = 300000\nprovision_uid_max = 200000\nmin_uid = 1000",
                        "'provision_uid_min' (300000) is above 'provision_uid_max' (200000)");
    expect_refused_with("provision_uid_min = 500\nmin_uid = 1000",
                        "'provision_uid_min' (500) is below 'min_uid' (1000)");
    expect_refused_with("provision_grace_days = 4000", "'provision_grace_days' must be a whole number");
}

static void test_provisioned_uids_are_the_range_with_provision_groups(void **state)
{
    (void)state;
    struct aad_config *cfg = load_with("min_uid = 1000");
    assert_false(aad_config_is_provisioned_uid(cfg, 1950000000)); /* no provision_groups */
    aad_config_free(cfg);
    cfg = load_with(CERT_LINES "provision_groups = " GROUP_ID "\nmin_uid = 1000");
    assert_true(aad_config_is_provisioned_uid(cfg, 1900000000));
    assert_true(aad_config_is_provisioned_uid(cfg, 2099999999));
    assert_false(aad_config_is_provisioned_uid(cfg, 1899999999));
    assert_false(aad_config_is_provisioned_uid(cfg, 2100000000));
    assert_false(aad_config_is_provisioned_uid(cfg, 1000));
    aad_config_free(cfg);
}

static void test_provision_shell_is_an_absolute_path(void **state)
{
    (void)state;
    expect_refused_with("provision_shell = bash", "'provision_shell' must be an absolute path");
    expect_refused_with("provision_shell = /bin/sh:x", "'provision_shell' must be an absolute path");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_file_gets_the_defaults),
        cmocka_unit_test(test_tenant_guid_is_accepted),
        cmocka_unit_test(test_tenant_domain_is_accepted),
        cmocka_unit_test(test_client_id_is_stored),
        cmocka_unit_test(test_authority_national_cloud_is_accepted),
        cmocka_unit_test(test_authority_with_port_and_trailing_slash_is_normalised),
        cmocka_unit_test(test_authority_ipv6_literal_is_accepted),
        cmocka_unit_test(test_ca_file_is_stored),
        cmocka_unit_test(test_relative_ca_file_is_refused),
        cmocka_unit_test(test_other_writable_ca_file_is_refused),
        cmocka_unit_test(test_ca_file_owned_by_another_user_is_refused),
        cmocka_unit_test(test_missing_ca_file_is_refused),
        cmocka_unit_test(test_symlinked_ca_file_is_refused),
        cmocka_unit_test(test_upper_case_client_id_is_accepted),
        cmocka_unit_test(test_authority_longer_than_512_characters_is_refused),
        cmocka_unit_test(test_proxy_is_stored),
        cmocka_unit_test(test_empty_proxy_means_none),
        cmocka_unit_test(test_scope_with_openid_is_accepted),
        cmocka_unit_test(test_user_claim_values_are_accepted),
        cmocka_unit_test(test_domains_list_is_stored),
        cmocka_unit_test(test_user_map_alone_is_enough),
        cmocka_unit_test(test_allowed_groups_and_roles_are_stored),
        cmocka_unit_test(test_booleans_are_parsed),
        cmocka_unit_test(test_min_uid_defaults_to_uid_min_and_is_parsed),
        cmocka_unit_test(test_seconds_are_parsed),
        cmocka_unit_test(test_seconds_range_limits_are_accepted),
        cmocka_unit_test(test_cache_dir_is_stored),
        cmocka_unit_test(test_qr_values_are_parsed),
        cmocka_unit_test(test_later_line_overrides_earlier),
        cmocka_unit_test(test_comments_and_blank_lines_are_ignored),
        cmocka_unit_test(test_file_without_final_newline_is_read),
        cmocka_unit_test(test_crlf_line_endings_are_accepted),
        cmocka_unit_test(test_lists_separated_by_commas_and_spaces),
        cmocka_unit_test(test_unknown_key_is_refused),
        cmocka_unit_test(test_line_without_equals_is_refused),
        cmocka_unit_test(test_quoted_values_are_refused_with_file_and_line),
        cmocka_unit_test(test_errors_carry_file_and_line),
        cmocka_unit_test(test_nul_byte_in_file_is_refused),
        cmocka_unit_test(test_bad_bool_is_refused),
        cmocka_unit_test(test_bad_timeout_is_refused),
        cmocka_unit_test(test_bad_http_timeout_is_refused),
        cmocka_unit_test(test_bad_clock_skew_is_refused),
        cmocka_unit_test(test_bad_qr_is_refused),
        cmocka_unit_test(test_multitenant_tenants_are_refused),
        cmocka_unit_test(test_bad_tenant_is_refused),
        cmocka_unit_test(test_missing_tenant_is_refused),
        cmocka_unit_test(test_missing_or_invalid_client_id_is_refused),
        cmocka_unit_test(test_authority_not_https_is_refused),
        cmocka_unit_test(test_authority_with_path_is_refused),
        cmocka_unit_test(test_authority_with_bad_port_is_refused),
        cmocka_unit_test(test_authority_with_user_info_is_refused),
        cmocka_unit_test(test_scope_without_openid_is_refused),
        cmocka_unit_test(test_bad_user_claim_is_refused),
        cmocka_unit_test(test_neither_domains_nor_user_map_is_refused),
        cmocka_unit_test(test_relative_cache_dir_is_refused),
        cmocka_unit_test(test_relative_user_map_is_refused),
        cmocka_unit_test(test_overlong_value_is_refused),
        cmocka_unit_test(test_config_argument_names_the_file),
        cmocka_unit_test(test_missing_file_is_refused),
        cmocka_unit_test(test_debug_argument_sets_debug),
        cmocka_unit_test(test_key_value_arguments_override_the_file),
        cmocka_unit_test(test_arguments_complete_a_partial_file),
        cmocka_unit_test(test_bad_argument_value_is_refused),
        cmocka_unit_test(test_argument_cannot_make_config_invalid),
        cmocka_unit_test(test_unknown_argument_is_refused),
        cmocka_unit_test(test_group_writable_file_is_refused),
        cmocka_unit_test(test_other_writable_file_is_refused),
        cmocka_unit_test(test_world_readable_file_is_accepted),
        cmocka_unit_test(test_symlinked_file_is_refused),
        cmocka_unit_test(test_directory_is_refused),
        cmocka_unit_test(test_fifo_is_refused),
        cmocka_unit_test(test_oversized_file_is_refused),
        cmocka_unit_test(test_file_owned_by_another_user_is_refused),
        cmocka_unit_test(test_tokens_need_no_domains),
        cmocka_unit_test(test_tokens_need_no_file),
        cmocka_unit_test(test_tokens_without_a_file_still_need_tenant_and_client),
        cmocka_unit_test(test_login_still_needs_a_file),
        cmocka_unit_test(test_token_store_takes_four_values),
        cmocka_unit_test(test_describe_lists_every_setting),
        cmocka_unit_test(test_describe_masks_the_proxy_password),
        cmocka_unit_test(test_provisioning_defaults),
        cmocka_unit_test(test_provisioning_keys_are_read),
        cmocka_unit_test(test_provision_groups_takes_object_ids),
        cmocka_unit_test(test_provision_groups_needs_the_certificate),
        cmocka_unit_test(test_provision_uid_range_is_checked),
        cmocka_unit_test(test_provisioned_uids_are_the_range_with_provision_groups),
        cmocka_unit_test(test_provision_shell_is_an_absolute_path),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
