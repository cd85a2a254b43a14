/* test_pam_stack.c - pam_aad.so loaded by the real libpam, with private PAM
 * service files (pam_start_confdir: unlike pam_wrapper's RTLD_DEEPBIND copy
 * of libpam, it also works under AddressSanitizer) and private users
 * (nss_wrapper):
 * every row of SPEC.md's return-code table, the fallback stack, the
 * conversation, module arguments, and what reaches syslog. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "aad_base.h"
#include "aad_qr.h"
#include "harness.h"
#include "pam_sandbox.h"

#define ALICE_UPN "alice@contoso.example"

/* One conversation call as the application saw it. */
struct conv_call {
    int n;
    int style[4];
    char text[4][4096];
};

struct fixture {
    struct harness h;
    char syslog_file[300];
    struct conv_call calls[16];
    int ncalls;
    int fail_conversation;
    const char *approve_claims; /* approve when the prompt appears */
    int decline;
    long decline_aadsts;        /* decline with this Entra refusal instead */
    int expire_codes;           /* expire this many codes instead of acting */
    int early_enters;           /* press Enter this many times before acting */
    int sit_after_first_ms;     /* the user leaves the first code screen open this long */
    int sit_before_second_ms;   /* ... and takes this long over the second before acting */
    int prompts;                /* prompts answered so far */
    int64_t answered_ms;        /* when Enter was "pressed" */
};


/* The PAM service files of this test: name -> stack. */
static void write_services(const char *service_dir, const char *cfg, const char *user_map)
{
    static const char fallback[] = "[success=done authinfo_unavail=ignore default=die]";
    /* The documented stanzas' control (doc/pam.d): an account pam_aad never
     * maps goes on to the next method, which pam_permit stands in for. */
    static const char documented[] =
        "[success=done authinfo_unavail=ignore ignore=ignore default=die]";
    static const char permit[] = "auth required pam_permit.so\n";
    static const struct {
        const char *name, *control, *args, *next_line;
    } services[] = {
        {"aad", "required", "", ""},
        {"aad-debug", "required", " debug", ""},
        {"aad-fallback", fallback, "", permit},
        {"aad-unreachable", "required", " authority=https://127.0.0.1:1", ""},
        {"aad-fallback-unreachable", fallback, " authority=https://127.0.0.1:1", permit},
        {"aad-other-domain", "required", " domains=other.example", ""},
        {"aad-root", "required", " allow_root=yes user_map=", ""},
        {"aad-system-mapped", "required", " user_map=", ""},
        {"aad-documented", documented, "", permit},
        {"aad-bad-arg", "required", " no_such_key=1", ""},
        {"aad-timeout10", "required", " timeout=10", ""},
        {"aad-label", "required", " host_label=build-07", ""},
        {"aad-no-enter", "required", " wait_for_enter=no", ""},
        {"sshd", "required", " wait_for_enter=no", ""},
        {"aad-other-client", "required", " client_id=00000000-0000-0000-0000-000000000001", ""},
    };
    char path[400], text[2048];
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", service_dir, services[i].name);
        const char *args = services[i].args;
        int wants_map = args[0] != '\0' && args[strlen(args) - 1] == '=';
        snprintf(text, sizeof(text), "auth %s %s helper=%s config=%s%s%s\n%s",
                 services[i].control, PAM_AAD_MODULE, PAM_AAD_HELPER, cfg, args,
                 wants_map ? user_map : "", services[i].next_line);
        pam_sandbox_write_file(path, text);
    }
    snprintf(path, sizeof(path), "%s/aad-no-config", service_dir);
    pam_sandbox_write_file(path, "auth required " PAM_AAD_MODULE " helper=" PAM_AAD_HELPER
                                     " config=/nonexistent/pam_aad.conf\n");
    snprintf(path, sizeof(path), "%s/other", service_dir);
    pam_sandbox_write_file(path, "auth required pam_deny.so\n");
}

static int setup(void **state)
{
    static const char *const args[] = {"--interval", "5", NULL};
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || harness_start(&f->h, args) != 0)
        return -1;
    /* sshd-like defaults: wait for Enter, real interval. */
    snprintf(f->h.config, sizeof(f->h.config), "%s", getenv("PAM_AAD_TEST_CONFIG"));
    harness_write_config(&f->h, "wait_for_enter = yes\nqr = auto");
    snprintf(f->syslog_file, sizeof(f->syslog_file), "%s", getenv("SYSLOG_CAPTURE_FILE"));
    unlink(f->syslog_file);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    harness_stop(&f->h);
    free(f);
    return 0;
}

/* The user code on the code screen ("Code: X") or in the prompt that asks
 * again ("code X at"). */
static const char *code_in(const char *text, char *code, size_t size)
{
    const char *p = strstr(text, "Code: ");
    size_t skip = 6;
    if (p == NULL) {
        p = strstr(text, "code ");
        skip = 5;
    }
    if (p == NULL || sscanf(p + skip, "%31[A-Z0-9-]", code) != 1 || strlen(code) < 6)
        return NULL;
    (void)size;
    return code;
}

/* What the simulated user does with the code shown with this prompt. */
static void act_on_code(struct fixture *f, const char *code)
{
    char body[512];
    if (f->early_enters > 0) {
        f->early_enters--; /* Enter before finishing on the phone */
        return;
    }
    if (f->expire_codes > 0) {
        f->expire_codes--;
        snprintf(body, sizeof(body), "{\"user_code\":\"%s\"}", code);
        emu_control(f->h.emu, "POST", "/control/expire", body, NULL);
    } else if (f->decline || f->decline_aadsts) {
        snprintf(body, sizeof(body), "{\"user_code\":\"%s\",\"aadsts\":%ld}", code,
                 f->decline_aadsts);
        emu_control(f->h.emu, "POST", "/control/decline", body, NULL);
    } else if (f->approve_claims != NULL) {
        snprintf(body, sizeof(body), "{\"user_code\":\"%s\",\"claims\":%s}", code,
                 f->approve_claims);
        emu_control(f->h.emu, "POST", "/control/approve", body, NULL);
    }
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata)
{
    struct fixture *f = appdata;
    if (f->fail_conversation)
        return PAM_CONV_ERR;
    struct conv_call *call = &f->calls[f->ncalls < 15 ? f->ncalls++ : 15];
    call->n = n;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (i < 4) {
            call->style[i] = msg[i]->msg_style;
            snprintf(call->text[i], sizeof(call->text[i]), "%s", msg[i]->msg);
        }
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF && msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        /* The simulated user signs in on another device (the code is in
         * this prompt or the message before it), then presses Enter. */
        char code[32];
        f->prompts++;
        if (f->prompts == 2 && f->sit_before_second_ms > 0)
            usleep((useconds_t)f->sit_before_second_ms * 1000);
        if (code_in(msg[i]->msg, code, sizeof(code)) != NULL ||
            (i > 0 && code_in(msg[i - 1]->msg, code, sizeof(code)) != NULL))
            act_on_code(f, code);
        if (f->prompts == 1 && f->sit_after_first_ms > 0)
            usleep((useconds_t)f->sit_after_first_ms * 1000);
        r[i].resp = strdup("");
    }
    *resp = r;
    f->answered_ms = aad_monotonic_ms();
    return PAM_SUCCESS;
}

static int authenticate(struct fixture *f, const char *service, const char *user, int flags)
{
    struct pam_conv conv = {conversation, f};
    pam_handle_t *pamh = NULL;
    assert_int_equal(pam_start_confdir(service, user, &conv, getenv("PAM_AAD_TEST_SERVICES"), &pamh),
                     PAM_SUCCESS);
    int rc = pam_authenticate(pamh, flags);
    pam_end(pamh, rc);
    return rc;
}

static char *syslog_text(struct fixture *f)
{
    FILE *fp = fopen(f->syslog_file, "r");
    static char text[65536];
    text[0] = '\0';
    if (fp != NULL) {
        size_t n = fread(text, 1, sizeof(text) - 1, fp);
        text[n] = '\0';
        fclose(fp);
    }
    return text;
}

static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_approved_user_gets_pam_success(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
}

static void test_code_and_prompt_come_in_one_conversation_call(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    struct conv_call *first = &f->calls[0];
    assert_int_equal(first->n, 2);
    assert_int_equal(first->style[0], PAM_TEXT_INFO);
    assert_int_equal(first->style[1], PAM_PROMPT_ECHO_OFF);
    char code[32];
    assert_non_null(code_in(first->text[0], code, sizeof(code)));
    assert_non_null(strstr(first->text[0], "https://login.microsoft.com/device"));
    assert_non_null(strstr(first->text[1], "Enter"));
}

/* Terminal rows text takes on an 80-column screen (UTF-8 aware: each QR
 * half-block is one column). */
static int rows_on_80_columns(const char *text)
{
    int rows = 0, col = 0;
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        if (*p == '\0' || *p == '\n') {
            rows += col == 0 ? 1 : (col + 79) / 80;
            col = 0;
            if (*p == '\0')
                return rows;
        } else if ((*p & 0xC0) != 0x80) {
            col++;
        }
    }
}

static void test_code_qr_and_prompt_fit_an_80x24_terminal(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    const char *info = f->calls[0].text[0], *prompt = f->calls[0].text[1];
    if (aad_qr_available())
        assert_non_null(strstr(info, "\xe2\x96")); /* the QR code is there */
    int rows = rows_on_80_columns(info) + rows_on_80_columns(prompt);
    if (rows > 24)
        fail_msg("code, QR and prompt take %d rows of an 80x24 terminal", rows);
    /* URL and code on lines of their own: 80 columns never break them. */
    assert_non_null(strstr(info, "\n  Open: https://login.microsoft.com/device\n"));
    char code[32];
    assert_non_null(code_in(info, code, sizeof(code)));
}

static void test_silent_flag_keeps_the_code_in_the_prompt(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", PAM_SILENT), PAM_SUCCESS);
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[0].style[0], PAM_PROMPT_ECHO_OFF);
    assert_non_null(strstr(f->calls[0].text[0], "https://login.microsoft.com/device"));
    char code[32];
    assert_non_null(code_in(f->calls[0].text[0], code, sizeof(code)));
    assert_non_null(strstr(f->calls[0].text[0], "Press Enter once you have signed in"));
}

static void test_success_follows_enter_at_the_first_poll_the_interval_allows(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    /* interval is 5 s and the code was just shown: the first poll, 5 s
     * after the code (RFC 8628: an Enter brings no poll closer), answers. */
    assert_true(aad_monotonic_ms() - f->answered_ms < 6000);
    assert_int_equal(emu_stat(f->h.emu, "token"), 1);
}

static void test_unknown_user_is_pam_user_unknown_without_traffic(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad", "mallory", 0), PAM_USER_UNKNOWN);
    assert_int_equal(harness_requests(&f->h), 0);
    assert_int_equal(f->ncalls, 0);
}

static void test_other_identity_is_pam_auth_err(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"bob@contoso.example\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
}

static void test_declined_sign_in_is_pam_auth_err(void **state)
{
    struct fixture *f = *state;
    f->decline = 1;
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
}

/* The user is told why: the text of the last message of this style. */
static const char *last_said(const struct fixture *f, int style)
{
    for (int c = f->ncalls - 1; c >= 0; c--) {
        for (int i = f->calls[c].n - 1; i >= 0; i--) {
            if (i < 4 && f->calls[c].style[i] == style)
                return f->calls[c].text[i];
        }
    }
    return "";
}

/* Sentences are broken into lines for the terminal: compare as one line. */
#define assert_told(f, style, needle)                                                    \
    do {                                                                                 \
        char said_[4096];                                                                \
        snprintf(said_, sizeof(said_), "%s", last_said((f), (style)));                   \
        for (char *p_ = said_; *p_ != '\0'; p_++)                                        \
            *p_ = *p_ == '\n' ? ' ' : *p_;                                               \
        if (strstr(said_, (needle)) == NULL)                                             \
            fail_msg("the user was told \"%s\", not \"%s\"", said_, (needle));          \
    } while (0)

static void test_wrong_account_is_told_who_signed_in(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"bob@contoso.example\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
    assert_told(f, PAM_ERROR_MSG, "You signed in as bob@contoso.example; this login is for alice.");
    assert_non_null(strstr(syslog_text(f), "kind=wrong-account"));
}

static void test_wrong_account_is_told_under_pam_silent_too(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"bob@contoso.example\"}";
    assert_int_equal(authenticate(f, "aad", "alice", PAM_SILENT), PAM_AUTH_ERR);
    assert_told(f, PAM_ERROR_MSG, "You signed in as bob@contoso.example; this login is for alice.");
}

static void test_declined_is_told(void **state)
{
    struct fixture *f = *state;
    f->decline = 1;
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
    assert_told(f, PAM_ERROR_MSG, "The sign-in was declined; nobody was logged in.");
}

static void test_expired_code_is_renewed_once_and_shown_as_the_first(void **state)
{
    struct fixture *f = *state;
    f->expire_codes = 1;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    assert_int_equal(f->ncalls, 2);
    char first[32], second[32];
    assert_non_null(code_in(f->calls[0].text[0], first, sizeof(first)));
    assert_non_null(code_in(f->calls[1].text[0], second, sizeof(second)));
    assert_string_not_equal(first, second);
    assert_int_equal(f->calls[1].n, 2); /* message and prompt, as the first */
    assert_non_null(strstr(f->calls[1].text[0], "That code expired; here is a new one."));
    assert_non_null(strstr(f->calls[1].text[0], "Open: https://login.microsoft.com/device"));
}

/* The code expires while the user sits at its screen: the helper renews it
 * at its next poll and sends the new screen, which the module shows only
 * once the old prompt is answered. That Enter belongs to the old screen:
 * the user, slower than an interval over the new code, signs in and
 * presses Enter once, and is logged in - never asked "not yet" by a poll
 * that Enter seemed to ask for (test_screens' sudo-4b failed so). */
static void test_the_enter_of_an_expired_code_is_not_taken_for_the_renewed_one(void **state)
{
    struct fixture *f = *state;
    f->expire_codes = 1;
    f->sit_after_first_ms = 6000;   /* beyond the interval (5 s): renewed meanwhile */
    f->sit_before_second_ms = 6000; /* the renewed code's first poll comes first */
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    assert_int_equal(f->ncalls, 2); /* the two code screens, no "Not signed in yet" */
    assert_non_null(strstr(f->calls[1].text[0], "That code expired; here is a new one."));
}

static void test_second_expired_code_is_told(void **state)
{
    struct fixture *f = *state;
    f->expire_codes = 2;
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
    assert_told(f, PAM_ERROR_MSG, "The code expired before the sign-in was finished; nobody was logged in.");
    assert_non_null(strstr(syslog_text(f), "kind=expired"));
}

static void test_enter_before_the_sign_in_prompts_again(void **state)
{
    struct fixture *f = *state;
    f->early_enters = 1;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    assert_int_equal(f->ncalls, 2);
    assert_int_equal(f->calls[1].n, 1);
    assert_int_equal(f->calls[1].style[0], PAM_PROMPT_ECHO_OFF);
    assert_non_null(strstr(f->calls[1].text[0], "Not signed in yet"));
    assert_non_null(strstr(f->calls[1].text[0], "Finish on your phone, then press Enter"));
    char code[32], again[32];
    code_in(f->calls[0].text[0], code, sizeof(code));
    assert_non_null(code_in(f->calls[1].text[0], again, sizeof(again)));
    assert_string_equal(code, again);
    /* No waiting lines: sshd would show them only after the login. */
    assert_string_equal(last_said(f, PAM_TEXT_INFO), f->calls[0].text[0]);
}

static void test_enter_pressed_until_the_timeout_is_told(void **state)
{
    struct fixture *f = *state;
    f->early_enters = 1000;
    int64_t start = aad_monotonic_ms();
    assert_int_equal(authenticate(f, "aad-timeout10", "alice", 0), PAM_AUTH_ERR);
    assert_true(aad_monotonic_ms() - start < 15000);
    assert_told(f, PAM_ERROR_MSG, "The sign-in was not finished in time; nobody was logged in.");
}

static void test_unreachable_authority_is_told_before_falling_back(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-unreachable", "alice", 0), PAM_AUTHINFO_UNAVAIL);
    assert_told(f, PAM_TEXT_INFO,
                "Microsoft Entra ID cannot be reached; using the next sign-in method.");
}

/* Conditional Access, security defaults and MFA: the user signed in on the
 * phone and Entra refused the token with this code. */
static void check_policy_block(void **state, long aadsts, const char *why)
{
    struct fixture *f = *state;
    char code[64];
    f->decline_aadsts = aadsts;
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
    snprintf(code, sizeof(code), "(AADSTS%ld). Contact your administrator (correlation ID ",
             aadsts);
    assert_told(f, PAM_ERROR_MSG, code); /* Entra's correlation ID, for the helpdesk */
    assert_told(f, PAM_ERROR_MSG, why);
    snprintf(code, sizeof(code), "kind=blocked-by-policy aadsts=%ld", aadsts);
    assert_non_null(strstr(syslog_text(f), code));
}

static void test_conditional_access_block_names_the_code(void **state)
{
    check_policy_block(state, 53003, "Your organization's policy blocked this sign-in");
}

static void test_security_defaults_block_names_the_code(void **state)
{
    check_policy_block(state, 530035, "security defaults block this kind of sign-in");
}

static void test_device_compliance_requirement_names_the_code(void **state)
{
    check_policy_block(state, 530033, "requires a managed device");
}

static void test_platform_block_names_the_code(void **state)
{
    check_policy_block(state, 50005, "Your organization's policy blocked this sign-in");
}

static void test_mfa_requirement_names_the_code(void **state)
{
    check_policy_block(state, 50076, "requires multi-factor authentication");
}

static void test_mfa_registration_requirement_names_the_code(void **state)
{
    check_policy_block(state, 50079, "set up multi-factor authentication first");
}

/* Entra says this host's registration is wrong: PAM_SERVICE_ERR, the user
 * is told to tell the administrator, and the log line has Entra's whole
 * description with its trace and correlation IDs. */
static void check_misconfiguration(void **state, const char *endpoint, long aadsts)
{
    struct fixture *f = *state;
    char text[160];
    snprintf(text, sizeof(text), "{\"endpoint\":\"%s\",\"aadsts\":%ld,\"count\":-1}", endpoint,
             aadsts);
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/fault", text, NULL), 200);
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SERVICE_ERR);
    snprintf(text, sizeof(text),
             "This host's sign-in with Microsoft Entra ID is misconfigured (AADSTS%ld). "
             "Tell your administrator.", aadsts);
    assert_told(f, PAM_ERROR_MSG, text);
    const char *log = syslog_text(f);
    snprintf(text, sizeof(text), "result=configuration error kind=host-misconfigured aadsts=%ld",
             aadsts);
    assert_non_null(strstr(log, text));
    snprintf(text, sizeof(text), "AADSTS%ld: ", aadsts);
    assert_non_null(strstr(log, text));
    assert_non_null(strstr(log, "Trace ID: "));
    assert_non_null(strstr(log, "Correlation ID: "));
    assert_non_null(strstr(log, "Timestamp: "));
}

static void test_unknown_tenant_is_service_err(void **state)
{
    check_misconfiguration(state, "devicecode", 90002);
}

static void test_unknown_client_id_is_service_err(void **state)
{
    check_misconfiguration(state, "devicecode", 700016);
}

static void test_invalid_scope_is_service_err(void **state)
{
    check_misconfiguration(state, "devicecode", 70011);
}

static void test_public_client_flows_off_is_service_err(void **state)
{
    check_misconfiguration(state, "token", 7000218);
}

static void test_missing_consent_is_service_err(void **state)
{
    check_misconfiguration(state, "token", 65001);
}

static void test_misconfigured_client_id_is_not_mistaken_for_an_outage(void **state)
{
    struct fixture *f = *state;
    /* The emulator's own answer to a client it does not know. */
    assert_int_equal(authenticate(f, "aad-other-client", "alice", 0), PAM_SERVICE_ERR);
    assert_told(f, PAM_ERROR_MSG, "misconfigured (AADSTS700016)");
}

static void test_not_authorized_identity_is_told(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad-other-domain", "alice", 0), PAM_AUTH_ERR);
    assert_told(f, PAM_ERROR_MSG, ALICE_UPN " is not authorized to log in to this host.");
}

static void test_guest_is_told(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\",\"acct\":1}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTH_ERR);
    assert_told(f, PAM_ERROR_MSG, "Guest accounts cannot log in to this host.");
}

static void test_broken_configuration_is_told(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-no-config", "alice", 0), PAM_SERVICE_ERR);
    assert_told(f, PAM_ERROR_MSG, "This host's sign-in with Microsoft Entra ID is misconfigured.");
}

static void test_prompt_names_the_host_and_the_account(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad-label", "alice", 0), PAM_SUCCESS);
    assert_non_null(strstr(f->calls[0].text[0], "Sign in to build-07 as alice"));
    assert_non_null(strstr(f->calls[0].text[0], "never use a code sent to you"));
}

static void test_wait_for_enter_no_is_ignored_for_sshd(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "sshd", "alice", 0), PAM_SUCCESS);
    assert_int_equal(f->calls[0].style[1], PAM_PROMPT_ECHO_OFF);
    assert_non_null(strstr(syslog_text(f), "wait_for_enter = no is ignored for sshd"));
}

static void test_wait_for_enter_no_elsewhere_shows_the_code_without_a_prompt(void **state)
{
    struct fixture *f = *state;
    harness_write_config(&f->h, "wait_for_enter = no\ntimeout = 10");
    assert_int_equal(authenticate(f, "aad-no-enter", "alice", 0), PAM_AUTH_ERR);
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[0].style[0], PAM_TEXT_INFO);
    assert_non_null(strstr(f->calls[0].text[0], "Code: "));
}

/* What pam_aad.so itself answers for user, called on a handle of service
 * "aad" with its arguments: libpam turns a stack's only PAM_IGNORE into a
 * failure of its own, which would hide the module's word. */
static int module_answer(struct fixture *f, const char *user)
{
    struct pam_conv conv = {conversation, f};
    pam_handle_t *pamh = NULL;
    assert_int_equal(pam_start_confdir("aad", user, &conv, getenv("PAM_AAD_TEST_SERVICES"), &pamh),
                     PAM_SUCCESS);
    void *h = dlopen(PAM_AAD_MODULE, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    int (*auth)(pam_handle_t *, int, int, const char **) = NULL;
    *(void **)&auth = dlsym(h, "pam_sm_authenticate");
    assert_non_null(auth);
    char helper[400], config[400];
    snprintf(helper, sizeof(helper), "helper=%s", PAM_AAD_HELPER);
    snprintf(config, sizeof(config), "config=%s", f->h.config);
    const char *argv[] = {helper, config};
    int rc = auth(pamh, 0, 2, argv);
    pam_end(pamh, rc);
    dlclose(h);
    return rc;
}

static void test_root_without_allow_root_is_pam_ignore_before_traffic(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"root@contoso.example\"}";
    assert_int_equal(module_answer(f, "root"), PAM_IGNORE);
    assert_int_equal(harness_requests(&f->h), 0);
    assert_int_equal(f->ncalls, 0);
    const char *log = syslog_text(f);
    assert_non_null(strstr(log, "user=root upn=- oid=- result=ignored kind=ignored aadsts=0 "
                                "reason=account root has uid 0 and allow_root is off"));
}

static void test_account_below_min_uid_is_pam_ignore_before_traffic(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"backup@contoso.example\"}";
    assert_int_equal(module_answer(f, "backup"), PAM_IGNORE);
    assert_int_equal(harness_requests(&f->h), 0);
    assert_int_equal(f->ncalls, 0);
    assert_non_null(strstr(syslog_text(f), "result=ignored kind=ignored aadsts=0 reason=account backup has uid 34, "
                                           "below min_uid 1000, and no user_map line names it"));
}

static void test_documented_stanza_lets_root_fall_through_to_the_next_method(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-documented", "root", 0), PAM_SUCCESS);
    assert_int_equal(authenticate(f, "aad-documented", "backup", 0), PAM_SUCCESS);
    assert_int_equal(harness_requests(&f->h), 0);
    assert_int_equal(f->ncalls, 0);
    /* An Entra ID user still signs in with the code; a refusal still ends it. */
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad-documented", "alice", 0), PAM_SUCCESS);
    assert_true(harness_requests(&f->h) > 0);
    f->approve_claims = NULL;
    f->decline = 1;
    assert_int_equal(authenticate(f, "aad-documented", "alice", 0), PAM_AUTH_ERR);
}

static void test_root_with_allow_root_and_a_user_map_line_succeeds(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"root.admin@contoso.example\"}";
    assert_int_equal(authenticate(f, "aad-root", "root", 0), PAM_SUCCESS);
}

static void test_system_account_named_in_user_map_succeeds(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"ops.lead@contoso.example\"}";
    assert_int_equal(authenticate(f, "aad-system-mapped", "backup", 0), PAM_SUCCESS);
}

static void test_user_map_line_reserves_the_account_against_domains(void **state)
{
    struct fixture *f = *state;
    /* user_map: "backup ops.lead@…", "root root.admin@…", "alice alice.smith@…". */
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad-system-mapped", "alice", 0), PAM_AUTH_ERR);
    assert_non_null(strstr(syslog_text(f), "account alice is reserved in user_map for other identities"));
}

/* Tests that move the clock point helper= at a compiled wrapper that sets
 * it up and then executes the real helper: the module accepts it. */
static void test_compiled_wrapper_helper_is_accepted(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad-wrapped", "alice", 0), PAM_SUCCESS);
}

static void test_wrapper_moves_the_helpers_clock(void **state)
{
    struct fixture *f = *state;
    if (access(LIBFAKETIME, R_OK) != 0)
        skip(); /* libfaketime is not installed */
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    /* Three hours ahead: the token is refused for its times, and the
     * authority's Date header shows that this host's clock is to blame. */
    assert_int_equal(authenticate(f, "aad-fake-clock", "alice", 0), PAM_SERVICE_ERR);
    assert_non_null(strstr(syslog_text(f), "kind=clock"));
    assert_non_null(strstr(syslog_text(f), "s ahead of Microsoft Entra ID's (its Date header)"));
    assert_told(f, PAM_ERROR_MSG, "This host's clock is 10");
}

static void test_unreachable_authority_is_authinfo_unavail_fast(void **state)
{
    struct fixture *f = *state;
    int64_t start = aad_monotonic_ms();
    assert_int_equal(authenticate(f, "aad-unreachable", "alice", 0), PAM_AUTHINFO_UNAVAIL);
    assert_true(aad_monotonic_ms() - start < 5000); /* http_timeout */
    /* No code: only the line that says why the stack moves on. */
    assert_int_equal(f->ncalls, 1);
    assert_int_equal(f->calls[0].style[0], PAM_TEXT_INFO);
}

static void test_fallback_stack_moves_on_when_unavailable(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-fallback-unreachable", "alice", 0), PAM_SUCCESS);
}

static void test_fallback_stack_stops_on_refusal(void **state)
{
    struct fixture *f = *state;
    f->decline = 1;
    assert_int_equal(authenticate(f, "aad-fallback", "alice", 0), PAM_AUTH_ERR);
}

static void test_fallback_stack_succeeds_with_approval(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad-fallback", "alice", 0), PAM_SUCCESS);
}

static void test_failing_conversation_is_authinfo_unavail(void **state)
{
    struct fixture *f = *state;
    f->fail_conversation = 1;
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_AUTHINFO_UNAVAIL);
}

static void test_missing_config_is_service_err(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-no-config", "alice", 0), PAM_SERVICE_ERR);
    assert_int_equal(harness_requests(&f->h), 0);
}

static void test_unknown_module_argument_is_service_err(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-bad-arg", "alice", 0), PAM_SERVICE_ERR);
}

static void test_module_argument_overrides_the_file(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    /* The file accepts contoso.example; the argument narrows it to other.example. */
    assert_int_equal(authenticate(f, "aad-other-domain", "alice", 0), PAM_AUTH_ERR);
    assert_non_null(strstr(syslog_text(f), "not accepted on this host"));
}

static void test_one_syslog_line_per_outcome_without_secrets(void **state)
{
    struct fixture *f = *state;
    f->approve_claims = "{\"preferred_username\":\"" ALICE_UPN "\"}";
    assert_int_equal(authenticate(f, "aad", "alice", 0), PAM_SUCCESS);
    const char *log = syslog_text(f);
    assert_int_equal(count_lines_with(log, "result="), 1);
    assert_non_null(strstr(log, "service=aad user=alice upn=" ALICE_UPN " oid="));
    assert_non_null(strstr(log, "result=success"));
    /* Neither the device code nor any JWT may be logged. */
    assert_null(strstr(log, "eyJ"));
    assert_null(strstr(log, "device_code"));
}

static void test_user_name_cannot_forge_a_log_line(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad", "mallory\nservice=sshd user=root result=success x", 0),
                     PAM_USER_UNKNOWN);
    const char *log = syslog_text(f);
    assert_int_equal(count_lines_with(log, "result="), 1);
    assert_null(strstr(log, "result=success"));
    assert_null(strstr(log, "\nservice=sshd"));
}

static void test_debug_logs_every_setting(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(authenticate(f, "aad-debug", "mallory", 0), PAM_USER_UNKNOWN);
    const char *log = syslog_text(f);
    assert_non_null(strstr(log, "setting: tenant = "));
    assert_non_null(strstr(log, "setting: wait_for_enter = yes"));
    assert_non_null(strstr(log, "setting: debug = yes"));
}

static void test_module_exports_only_pam_entry_points(void **state)
{
    (void)state;
    void *h = dlopen(PAM_AAD_MODULE, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    assert_non_null(dlsym(h, "pam_sm_authenticate"));
    assert_non_null(dlsym(h, "pam_sm_setcred"));
    assert_null(dlsym(h, "aad_login"));
    assert_null(dlsym(h, "aad_config_load"));
    assert_null(dlsym(h, "aad_jwt_parse"));
    dlclose(h);
}

/* The sandbox's service files and config path, set once in main(). */
/* A copy of tests/helper/helper_wrapper as SANDBOX/NAME (0755) with its
 * instructions in NAME.conf, and a service NAME whose helper= is it. */
static void install_wrapper(const char *sandbox, const char *name, const char *instructions,
                            const char *cfg)
{
    char path[400], text[2048];
    snprintf(path, sizeof(path), "%s/%s", sandbox, name);
    FILE *in = fopen(HELPER_WRAPPER, "rb");
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    assert_true(in != NULL && out >= 0);
    size_t n;
    while ((n = fread(text, 1, sizeof(text), in)) > 0)
        assert_int_equal(write(out, text, n), (ssize_t)n);
    fclose(in);
    close(out);
    snprintf(text, sizeof(text), "%sexec %s\n", instructions, PAM_AAD_HELPER);
    snprintf(path, sizeof(path), "%s/%s.conf", sandbox, name);
    pam_sandbox_write_file(path, text);
    snprintf(path, sizeof(path), "%s/services/%s", sandbox, name);
    snprintf(text, sizeof(text), "auth required %s helper=%s/%s config=%s\n", PAM_AAD_MODULE,
             sandbox, name, cfg);
    pam_sandbox_write_file(path, text);
}

static void prepare_services(const char *sandbox)
{
    static char services[300], config[300], user_map[300];
    snprintf(services, sizeof(services), "%s/services", sandbox);
    snprintf(config, sizeof(config), "%s/pam_aad.conf", sandbox);
    snprintf(user_map, sizeof(user_map), "%s/pam_aad.users", sandbox);
    setenv("PAM_AAD_TEST_SERVICES", services, 1);
    setenv("PAM_AAD_TEST_CONFIG", config, 1);
    pam_sandbox_write_file(user_map, "backup  ops.lead@contoso.example\n"
                                     "root    root.admin@contoso.example\n"
                                     "alice   alice.smith@contoso.example\n");
    write_services(services, config, user_map);
    install_wrapper(sandbox, "aad-wrapped", "", config);
    /* 3 h ahead: past every token's exp (Entra: 60-90 min) plus the skew. */
    install_wrapper(sandbox, "aad-fake-clock",
                    "env LD_PRELOAD=" LIBFAKETIME "\nenv FAKETIME=+3h\n"
                    /* a sanitizer build's helper accepts the preload */
                    "env ASAN_OPTIONS=verify_asan_link_order=0\n",
                    config);
}

int main(int argc, char **argv)
{
    (void)argc;
    prepare_services(pam_sandbox_enter(argv));
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_approved_user_gets_pam_success),
        T(test_code_and_prompt_come_in_one_conversation_call),
        T(test_code_qr_and_prompt_fit_an_80x24_terminal),
        T(test_silent_flag_keeps_the_code_in_the_prompt),
        T(test_success_follows_enter_at_the_first_poll_the_interval_allows),
        T(test_unknown_user_is_pam_user_unknown_without_traffic),
        T(test_other_identity_is_pam_auth_err),
        T(test_declined_sign_in_is_pam_auth_err),
        T(test_wrong_account_is_told_who_signed_in),
        T(test_wrong_account_is_told_under_pam_silent_too),
        T(test_declined_is_told),
        T(test_expired_code_is_renewed_once_and_shown_as_the_first),
        T(test_the_enter_of_an_expired_code_is_not_taken_for_the_renewed_one),
        T(test_second_expired_code_is_told),
        T(test_enter_before_the_sign_in_prompts_again),
        T(test_enter_pressed_until_the_timeout_is_told),
        T(test_unreachable_authority_is_told_before_falling_back),
        T(test_conditional_access_block_names_the_code),
        T(test_security_defaults_block_names_the_code),
        T(test_device_compliance_requirement_names_the_code),
        T(test_platform_block_names_the_code),
        T(test_mfa_requirement_names_the_code),
        T(test_mfa_registration_requirement_names_the_code),
        T(test_unknown_tenant_is_service_err),
        T(test_unknown_client_id_is_service_err),
        T(test_invalid_scope_is_service_err),
        T(test_public_client_flows_off_is_service_err),
        T(test_missing_consent_is_service_err),
        T(test_misconfigured_client_id_is_not_mistaken_for_an_outage),
        T(test_not_authorized_identity_is_told),
        T(test_guest_is_told),
        T(test_broken_configuration_is_told),
        T(test_prompt_names_the_host_and_the_account),
        T(test_wait_for_enter_no_is_ignored_for_sshd),
        T(test_wait_for_enter_no_elsewhere_shows_the_code_without_a_prompt),
        T(test_root_without_allow_root_is_pam_ignore_before_traffic),
        T(test_account_below_min_uid_is_pam_ignore_before_traffic),
        T(test_documented_stanza_lets_root_fall_through_to_the_next_method),
        T(test_root_with_allow_root_and_a_user_map_line_succeeds),
        T(test_system_account_named_in_user_map_succeeds),
        T(test_user_map_line_reserves_the_account_against_domains),
        T(test_compiled_wrapper_helper_is_accepted),
        T(test_wrapper_moves_the_helpers_clock),
        T(test_unreachable_authority_is_authinfo_unavail_fast),
        T(test_fallback_stack_moves_on_when_unavailable),
        T(test_fallback_stack_stops_on_refusal),
        T(test_fallback_stack_succeeds_with_approval),
        T(test_failing_conversation_is_authinfo_unavail),
        T(test_missing_config_is_service_err),
        T(test_unknown_module_argument_is_service_err),
        T(test_module_argument_overrides_the_file),
        T(test_one_syslog_line_per_outcome_without_secrets),
        T(test_user_name_cannot_forge_a_log_line),
        T(test_debug_logs_every_setting),
        T(test_module_exports_only_pam_entry_points),
#undef T
    };
    /* One test by name (a glob), e.g. to repeat a timing-sensitive one. */
    if (getenv("PAM_AAD_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("PAM_AAD_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
