/* test_authz.c - who may log in, through the real pam_aad.so: allowed
 * groups and roles, groups overage resolved through the emulator's
 * Microsoft Graph (as the user, and as the application with a certificate),
 * Graph failures, guests, user_map rules and several domains. */
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
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <security/pam_appl.h>

#include "hostile.h"

#define ALICE_OID "00000000-0000-0000-0000-00000000a11c"
#define GROUP_OPS "6f1e1a52-8c1d-4c55-9a47-0d4c8b2f1a01"
#define GROUP_DEV "2b7c9e10-3f4a-4d2e-b8a1-5c6d7e8f9a02"

static char cert_path[400], key_path[400], other_cert_pem[8192], cert_pem[8192];

static long bound(void)
{
    return 3 * H.http_timeout * 1000;
}

/* A self-signed certificate and its key, as an administrator would make
 * with openssl req -x509 for the app registration. */
static void make_credential(char *cert_out, size_t size, const char *cert_file, const char *key_file)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    assert_non_null(key);
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"pam_aad test app", -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    BIO *mem = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(mem, x);
    char *data = NULL;
    long n = BIO_get_mem_data(mem, &data);
    assert_true(n > 0 && (size_t)n < size);
    memcpy(cert_out, data, (size_t)n);
    cert_out[n] = '\0';
    BIO_free(mem);
    if (cert_file != NULL) {
        FILE *f = fopen(cert_file, "w");
        fputs(cert_out, f);
        fclose(f);
        int fd = open(key_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        f = fdopen(fd, "w");
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
        fclose(f);
    }
    X509_free(x);
    EVP_PKEY_free(key);
}

static int group_setup(void **state)
{
    (void)state;
    if (hostile_global_setup() != 0)
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/app-cert.pem", H.root);
    snprintf(key_path, sizeof(key_path), "%s/app-key.pem", H.root);
    make_credential(cert_pem, sizeof(cert_pem), cert_path, key_path);
    make_credential(other_cert_pem, sizeof(other_cert_pem), NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    hostile_global_teardown();
    return 0;
}

static void register_certificate(const char *pem)
{
    json_t *o = json_pack("{s:s}", "pem", pem);
    char *body = json_dumps(o, JSON_COMPACT);
    hostile_control(H.emu, "/control/client-cert", body);
    free(body);
    json_decref(o);
}

static int setup(void **state)
{
    (void)state;
    hostile_reset();
    hostile_control(H.emu, "/control/graph/members", "{\"clear\":true}");
    hostile_control(H.emu, "/control/stats/reset", "{}");
    register_certificate(cert_pem);
    return 0;
}

static void graph_members(const char *groups_json)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"oid\":\"" ALICE_OID "\",\"groups\":%s}", groups_json);
    hostile_control(H.emu, "/control/graph/members", body);
}

/* Logs in as alice with the given approval claims (JSON object members
 * without braces) and config lines. */
static struct login_result login(const char *claims, const char *config)
{
    char approve[2048];
    snprintf(approve, sizeof(approve),
             "{\"claims\":{\"preferred_username\":\"" ALICE_UPN "\",\"oid\":\"" ALICE_OID "\"%s%s}}",
             claims[0] ? "," : "", claims);
    struct login_opts o = {.approve = approve, .config_extra = config};
    struct login_result r = hostile_login(&o);
    hostile_assert_log_clean(H.emu);
    return r;
}

static void expect_log(const char *needle)
{
    if (strstr(hostile_syslog(), needle) == NULL)
        fail_msg("syslog lacks \"%s\":\n%s", needle, hostile_syslog());
}

#define OVERAGE \
    "\"groups\":null,\"_claim_names\":{\"groups\":\"src1\"},\"_claim_sources\":{\"src1\":" \
    "{\"endpoint\":\"https://graph.windows.net/t/users/" ALICE_OID "/getMemberObjects\"}}"
#define GROUPS_OPS_ONLY "allowed_groups = " GROUP_OPS

/* Overage resolved with the login's own token (delegated User.Read). */
static const char *as_user(void)
{
    static char text[1024];
    snprintf(text, sizeof(text), GROUPS_OPS_ONLY "\nscope = openid profile User.Read\ngraph_endpoint = %s",
             emu_env(H.emu, "GRAPH_URL"));
    return text;
}

/* Overage resolved as the application, with its certificate. */
static const char *as_app(void)
{
    static char text[1024];
    snprintf(text, sizeof(text),
             GROUPS_OPS_ONLY "\ngraph_endpoint = %s\nclient_certificate = %s\nclient_key = %s",
             emu_env(H.emu, "GRAPH_URL"), cert_path, key_path);
    return text;
}

/* --- groups in the token ------------------------------------------------- */

static void test_member_of_an_allowed_group_is_admitted(void **state)
{
    (void)state;
    struct login_result r = login("\"groups\":[\"" GROUP_DEV "\",\"" GROUP_OPS "\"]", GROUPS_OPS_ONLY);
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static void test_group_ids_compare_without_case(void **state)
{
    (void)state;
    char claims[256];
    snprintf(claims, sizeof(claims), "\"groups\":[\"%s\"]", "6F1E1A52-8C1D-4C55-9A47-0D4C8B2F1A01");
    struct login_result r = login(claims, GROUPS_OPS_ONLY);
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static void test_non_member_is_refused_as_not_authorized(void **state)
{
    (void)state;
    struct login_result r = login("\"groups\":[\"" GROUP_DEV "\"]", GROUPS_OPS_ONLY);
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("not in any of allowed_groups: not authorized for this host");
}

static void test_token_without_groups_claim_is_refused(void **state)
{
    (void)state;
    struct login_result r = login("\"groups\":null", GROUPS_OPS_ONLY);
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("carries no groups claim");
}

/* --- app roles -------------------------------------------------------------- */

static void test_holder_of_an_allowed_role_is_admitted(void **state)
{
    (void)state;
    struct login_result r = login("\"roles\":[\"Linux.Login\"]", "allowed_roles = Linux.Admin, Linux.Login");
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static void test_missing_role_is_refused(void **state)
{
    (void)state;
    struct login_result r = login("\"roles\":[\"Reader\"]", "allowed_roles = Linux.Login");
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("holds none of allowed_roles");
}

static void test_roles_and_groups_must_both_hold(void **state)
{
    (void)state;
    struct login_result r = login("\"roles\":[\"Linux.Login\"],\"groups\":[\"" GROUP_DEV "\"]",
                                  "allowed_roles = Linux.Login\n" GROUPS_OPS_ONLY);
    hostile_expect(&r, PAM_AUTH_ERR, bound());
}

/* --- groups overage through Microsoft Graph --------------------------------- */

static void test_overage_without_graph_configuration_is_refused(void **state)
{
    (void)state;
    struct login_result r = login(OVERAGE, GROUPS_OPS_ONLY);
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("Graph resolution is not configured");
    assert_int_equal(emu_stat(H.emu, "graph"), 0);
}

static void test_overage_resolved_with_the_users_token_admits_a_member(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_DEV "\",\"" GROUP_OPS "\"]");
    struct login_result r = login(OVERAGE, as_user());
    hostile_expect(&r, PAM_SUCCESS, bound());
    assert_true(emu_stat(H.emu, "graph") >= 1);
    assert_int_equal(emu_stat(H.emu, "client_credentials"), 0);
}

static void test_overage_resolved_with_the_users_token_refuses_a_non_member(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_DEV "\"]");
    struct login_result r = login(OVERAGE, as_user());
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("not in any of allowed_groups");
}

static void test_overage_resolved_as_the_application_admits_a_member(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_OPS "\"]");
    struct login_result r = login(OVERAGE, as_app());
    hostile_expect(&r, PAM_SUCCESS, bound());
    assert_int_equal(emu_stat(H.emu, "client_credentials"), 1);
}

static void test_overage_resolved_as_the_application_refuses_a_non_member(void **state)
{
    (void)state;
    graph_members("[]");
    struct login_result r = login(OVERAGE, as_app());
    hostile_expect(&r, PAM_AUTH_ERR, bound());
}

static void test_certificate_not_registered_for_the_app_is_refused(void **state)
{
    (void)state;
    register_certificate(other_cert_pem);
    graph_members("[\"" GROUP_OPS "\"]");
    struct login_result r = login(OVERAGE, as_app());
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("no application token for Microsoft Graph");
    assert_int_equal(emu_stat(H.emu, "graph"), 0);
}

static void test_private_key_readable_by_group_is_refused(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_OPS "\"]");
    chmod(key_path, 0640);
    struct login_result r = login(OVERAGE, as_app());
    chmod(key_path, 0600);
    /* Read, and so checked, before the helper gives root up: before the
     * device code, as the configuration error it is. */
    hostile_expect(&r, PAM_SERVICE_ERR, bound());
    expect_log("a private key must not be readable by group or others");
    assert_int_equal(emu_stat(H.emu, "client_credentials"), 0);
}

static void test_graph_throttling_refuses_the_login(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_OPS "\"]");
    hostile_fault("{\"endpoint\":\"graph\",\"status\":429,\"headers\":{\"Retry-After\":\"30\"},"
                  "\"body\":\"{}\",\"content_type\":\"application/json\"}");
    struct login_result r = login(OVERAGE, as_user());
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("Microsoft Graph is throttling");
}

static void test_graph_server_error_refuses_the_login(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_OPS "\"]");
    hostile_fault("{\"endpoint\":\"graph\",\"status\":503,\"body\":\"down\"}");
    struct login_result r = login(OVERAGE, as_user());
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("Microsoft Graph answered HTTP 503");
}

static void test_graph_timeout_refuses_the_login(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_OPS "\"]");
    char fault[128];
    snprintf(fault, sizeof(fault), "{\"endpoint\":\"graph\",\"delay_ms\":%ld}", (H.http_timeout + 2) * 1000);
    hostile_fault(fault);
    struct login_result r = login(OVERAGE, as_user());
    hostile_expect(&r, PAM_AUTH_ERR, bound() + 4000);
    expect_log("group membership could not be checked");
}

static void test_token_endpoint_refusing_the_assertion_refuses_the_login(void **state)
{
    (void)state;
    graph_members("[\"" GROUP_OPS "\"]");
    hostile_fault("{\"endpoint\":\"client_credentials\",\"error\":\"invalid_client\"}");
    struct login_result r = login(OVERAGE, as_app());
    hostile_expect(&r, PAM_AUTH_ERR, bound());
}

/* --- guests, user_map, domains ---------------------------------------------- */

static void test_guest_is_refused_by_default(void **state)
{
    (void)state;
    struct login_result r = login("\"idp\":\"https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/\"", "");
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("guest accounts are not accepted");
}

static void test_guest_is_admitted_with_allow_guests(void **state)
{
    (void)state;
    struct login_result r = login("\"idp\":\"https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/\"",
                                  "allow_guests = yes");
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static char *write_user_map(const char *text)
{
    static char path[400];
    snprintf(path, sizeof(path), "%s/user_map", H.root);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_user_map_line_maps_a_upn_from_another_domain(void **state)
{
    (void)state;
    char config[600];
    snprintf(config, sizeof(config), "user_map = %s",
             write_user_map("# local  entra\nalice  Alice.Smith@Partner.example\n"));
    struct login_result r = login("\"preferred_username\":\"alice.smith@partner.example\"", config);
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static void test_oid_pinned_account_refuses_another_object(void **state)
{
    (void)state;
    char config[600];
    snprintf(config, sizeof(config), "user_map = %s",
             write_user_map("alice  oid:11111111-2222-3333-4444-555555555555\n"));
    /* alice@contoso.example would map to alice by domain, but alice is pinned. */
    struct login_result r = login("", config);
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("pinned to another object ID");
}

static void test_oid_line_wins_over_the_upn(void **state)
{
    (void)state;
    char config[600];
    snprintf(config, sizeof(config), "user_map = %s",
             write_user_map("alice  oid:" ALICE_OID "\nbob  " ALICE_UPN "\n"));
    struct login_result r = login("", config);
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static void test_any_of_several_domains_is_accepted(void **state)
{
    (void)state;
    struct login_result r = login("\"preferred_username\":\"Alice@Fabrikam.example\"",
                                  "domains = contoso.example, fabrikam.example");
    hostile_expect(&r, PAM_SUCCESS, bound());
}

static void test_domain_not_listed_is_refused(void **state)
{
    (void)state;
    struct login_result r = login("\"preferred_username\":\"alice@fabrikam.example\"", "");
    hostile_expect(&r, PAM_AUTH_ERR, bound());
    expect_log("is not accepted on this host");
}

int main(int argc, char **argv)
{
    (void)argc;
    hostile_enter_wrappers(argv);
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
        T(test_member_of_an_allowed_group_is_admitted),
        T(test_group_ids_compare_without_case),
        T(test_non_member_is_refused_as_not_authorized),
        T(test_token_without_groups_claim_is_refused),
        T(test_holder_of_an_allowed_role_is_admitted),
        T(test_missing_role_is_refused),
        T(test_roles_and_groups_must_both_hold),
        T(test_overage_without_graph_configuration_is_refused),
        T(test_overage_resolved_with_the_users_token_admits_a_member),
        T(test_overage_resolved_with_the_users_token_refuses_a_non_member),
        T(test_overage_resolved_as_the_application_admits_a_member),
        T(test_overage_resolved_as_the_application_refuses_a_non_member),
        T(test_certificate_not_registered_for_the_app_is_refused),
        T(test_private_key_readable_by_group_is_refused),
        T(test_graph_throttling_refuses_the_login),
        T(test_graph_server_error_refuses_the_login),
        T(test_graph_timeout_refuses_the_login),
        T(test_token_endpoint_refusing_the_assertion_refuses_the_login),
        T(test_guest_is_refused_by_default),
        T(test_guest_is_admitted_with_allow_guests),
        T(test_user_map_line_maps_a_upn_from_another_domain),
        T(test_oid_pinned_account_refuses_another_object),
        T(test_oid_line_wins_over_the_upn),
        T(test_any_of_several_domains_is_accepted),
        T(test_domain_not_listed_is_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
