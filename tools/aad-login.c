/* aad-login - the administrator's command-line twin of pam_aad.so.
 *
 *   aad-login --check [--json] [--sshd-config FILE] [--config FILE]   what can be checked
 *                                          without a user (tools/aad_check.c)
 *   aad-login [--config FILE] [-o key=value]... USER   a whole device-code login
 *   aad-login token [--app] --scope SCOPE...   an access token for a script (aad_token.c)
 *   aad-login sync [--dry-run]            Entra group members as local accounts (sync/)
 *   aad-login sessions [--drop SESSION]   login sessions that keep a sign-in (aad_sessions.c)
 *   aad-login ssh [--key FILE]   a browser sign-in and an SSH certificate carrying it,
 *                                for tenants that block the device code (aad_ssh.c)
 *
 * Exit codes: 0 success, 1 refused (bad token, wrong user, not authorized,
 * declined, expired), 2 usage, 3 the service is unavailable, 4 configuration
 * error, 5 no such local account, 6 an account pam_aad never maps (the PAM
 * module answers PAM_IGNORE: the stack's next method decides).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "aad_check.h"
#include "aad_config.h"
#include "aad_login.h"
#include "aad_refusal.h"
#include "aad_sync.h"
#include "aad_sessions.h"
#include "aad_ssh.h"
#include "aad_token.h"
#include "group_preview.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif
#ifndef AAD_DEFAULT_HELPER
#define AAD_DEFAULT_HELPER "/usr/libexec/pam_aad/pam_aad_helper"
#endif

enum exit_code {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_UNAVAILABLE = 3,
    EXIT_CONFIG = 4,
    EXIT_NO_USER = 5,
    EXIT_IGNORED = 6,
};

#define MAX_OVERRIDES 32

struct term {
    int color;      /* stdout is a terminal */
    int waiting;    /* a waiting line is on screen */
    unsigned ticks; /* calls of waiting() so far */
};

static int exit_of(enum aad_status st)
{
    switch (st) {
    case AAD_OK: return EXIT_OK;
    case AAD_DENIED: return EXIT_REFUSED;
    case AAD_UNAVAILABLE: return EXIT_UNAVAILABLE;
    case AAD_CONFIG_ERROR: return EXIT_CONFIG;
    case AAD_USER_UNKNOWN: return EXIT_NO_USER;
    case AAD_IGNORE: return EXIT_IGNORED;
    }
    return EXIT_REFUSED;
}

/* What to do next, by kind of failure (the reason itself says what happened). */
static const char *next_step(enum aad_status st)
{
    switch (st) {
    case AAD_DENIED:
        return "The reason above says why this login was refused; the administrator's guide "
               "(section 11) gives the fix for each reason.";
    case AAD_UNAVAILABLE:
        return "Check that this host reaches the authority over HTTPS (proxy, ca_file), then "
               "run 'aad-login --check'.";
    case AAD_CONFIG_ERROR:
        return "Fix the configuration named above; pam_aad.conf(5) lists every key.";
    case AAD_USER_UNKNOWN:
        return "Create the local account first, or give the name of an existing one.";
    case AAD_IGNORE:
        return "pam_aad never logs in to this account: the PAM stack's next method (its "
               "password) decides. To let an Entra ID identity in, name the account in a "
               "user_map line (and set allow_root = yes for root).";
    case AAD_OK:
        break;
    }
    return "";
}

static const char *paint(const struct term *t, const char *code)
{
    return t->color ? code : "";
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: aad-login [--config FILE] [-o key=value]... [--debug] USER\n"
            "       aad-login --check [--json] [--sshd-config FILE] [--sshd-pam FILE]\n"
            "                 [--config FILE] [-o key=value]... [--debug]\n"
            "       aad-login token [--app] [--json] --scope SCOPE...  (aad-login token --help)\n"
            "       aad-login sync [--dry-run]  Entra group members as local accounts\n"
            "                                   (aad-login sync --help)\n"
            "       aad-login sessions [--drop SESSION]  login sessions that keep a sign-in\n"
            "                                   for sudo (aad-login sessions --help)\n"
            "       aad-login ssh [--key FILE] [--no-browser]  (aad-login ssh --help)\n"
            "Signs USER in with Microsoft Entra ID exactly as pam_aad.so would, or (--check)\n"
            "checks what can be checked without a user: the configuration, the tenant, client\n"
            "and scope (a device code is requested and discarded), the signing keys, the\n"
            "account mapping, the helper and sshd's settings (--json: one JSON document).\n"
            "  -d, --debug   print every effective setting and the library's debug lines\n"
            "Default configuration: %s\n"
            "Exit: 0 success, 1 refused, 2 usage, 3 service unavailable, 4 configuration error,\n"
            "      5 no such local account, 6 an account pam_aad never maps.\n",
            AAD_DEFAULT_CONFIG);
}

static void log_to_stderr(void *ctx, int priority, const char *message)
{
    struct term *t = ctx;
    if (t->waiting) {
        fputc('\n', stderr);
        t->waiting = 0;
    }
    fprintf(stderr, "aad-login: %s%s\n", priority <= LOG_WARNING ? "warning: " : "", message);
}

static int show_code(void *ctx, const char *message, const char *qr, const char *prompt, int wait)
{
    struct term *t = ctx;
    printf("%s%s%s\n", paint(t, "\033[1m"), message, paint(t, "\033[0m"));
    if (qr != NULL)
        fputs(qr, stdout);
    printf("%s", prompt);
    fflush(stdout);
    if (!wait) {
        putchar('\n');
        return 0;
    }
    char line[256];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return -1;
    return 0;
}

/* On a terminal: a spinner and a countdown on one line, every second.
 * Elsewhere (logs, pipes): a plain line every 30 seconds. */
static void waiting(void *ctx, long seconds_left)
{
    static const char spinner[] = "|/-\\";
    struct term *t = ctx;
    if (t->color) {
        printf("\r\033[2K%c Waiting for the sign-in... %ld:%02ld left", spinner[t->ticks++ % 4],
               seconds_left / 60, seconds_left % 60);
        t->waiting = 1;
    } else if (t->ticks++ % 30 == 0) {
        printf("Waiting for the sign-in (%ld s left)\n", seconds_left);
    }
    fflush(stdout);
}

static void print_setting(void *ctx, const char *text)
{
    (void)ctx;
    printf("  %s\n", text);
}

static double ms_since(int64_t start)
{
    return (double)(aad_monotonic_ms() - start);
}

/* One "label value" line of a claim; the value comes from the token, so its
 * control characters (C0, DEL and UTF-8 C1) become '?': an escape sequence
 * in a display name must not reach the administrator's terminal. */
static void print_claim(const char *label, const char *value)
{
    printf("  %-21s", label);
    if (value == NULL)
        value = "(none)";
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            putchar('?');
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            putchar('?');
            p++;
        } else {
            putchar(*p);
        }
    }
    putchar('\n');
}

static void print_identity(const struct aad_identity *id, const struct term *t)
{
    printf("%sSigned in and verified.%s\n", paint(t, "\033[1;32m"), paint(t, "\033[0m"));
    print_claim("user principal name:", id->upn);
    print_claim("display name:", id->name);
    print_claim("object ID (oid):", id->oid);
    print_claim("tenant ID (tid):", id->tid);
    print_claim("local account:", id->local_user);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc > 1 && strcmp(argv[1], "token") == 0)
        return aad_token_main(argc - 1, argv + 1, AAD_DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "sync") == 0)
        return aad_sync_main(argc - 1, argv + 1, AAD_DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "sessions") == 0)
        return aad_sessions_main(argc - 1, argv + 1, AAD_DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "ssh") == 0)
        return aad_ssh_main(argc - 1, argv + 1, AAD_DEFAULT_CONFIG);
    static const struct option long_opts[] = {
        {"check", no_argument, NULL, 'c'},     {"config", required_argument, NULL, 'f'},
        {"option", required_argument, NULL, 'o'}, {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},      {"version", no_argument, NULL, 'V'},
        {"json", no_argument, NULL, 'j'},      {"sshd-config", required_argument, NULL, 's'},
        {"state-dir", required_argument, NULL, 'S'},
        {"sshd-pam", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    const char *args[MAX_OVERRIDES + 2];
    int nargs = 0, check = 0, json = 0, opt;
    const char *sshd_config = NULL, *sync_state_dir = AAD_DEFAULT_SYNC_STATE_DIR;
    const char *sshd_pam = "/etc/pam.d/sshd";
    char config_arg[4096 + 8] = "";
    while ((opt = getopt_long(argc, argv, "cf:o:dhV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'c': check = 1; break;
        case 'j': json = 1; break;
        case 's': sshd_config = optarg; break;
        case 'P': sshd_pam = optarg; break;
        case 'S': sync_state_dir = optarg; break;
        case 'f':
            /* Added after the -o options, so that they are numbered from 1. */
            snprintf(config_arg, sizeof(config_arg), "config=%s", optarg);
            break;
        case 'o':
        case 'd':
            /* args keeps one more slot for --config. */
            if (nargs >= MAX_OVERRIDES) {
                fprintf(stderr, "aad-login: too many -o or -d options (at most %d)\n",
                        MAX_OVERRIDES);
                return EXIT_USAGE;
            }
            args[nargs++] = opt == 'o' ? optarg : "debug";
            break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("aad-login (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (config_arg[0] != '\0')
        args[nargs++] = config_arg;
    if (check ? optind != argc
              : (optind != argc - 1 || json || sshd_config != NULL ||
                 strcmp(sshd_pam, "/etc/pam.d/sshd") != 0)) {
        usage(stderr);
        return EXIT_USAGE;
    }

    struct term t = {isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL, 0, 0};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    int64_t start = aad_monotonic_ms();
    enum aad_status st = aad_config_load(AAD_DEFAULT_CONFIG, nargs, args, &cfg, &err);
    if (check) {
        struct aad_check_options o = {.json = json,
                                      .color = t.color,
                                      .helper = AAD_DEFAULT_HELPER,
                                      .sshd = "/usr/sbin/sshd",
                                      .sshd_config = sshd_config,
                                      .pam_sshd = sshd_pam,
                                      .pam_dir = "/etc/pam.d",
                                      .sync_state_dir = sync_state_dir,
                                      .nsswitch = "/etc/nsswitch.conf",
                                      .group_file = "/etc/group"};
        if (cfg != NULL && cfg->debug && !json)
            aad_config_describe(cfg, print_setting, NULL);
        st = aad_check_run(cfg, &err, ms_since(start), &o);
        aad_config_free(cfg);
        return exit_of(st);
    }
    if (st != AAD_OK) {
        fprintf(stderr, "aad-login: %s\n%s\n", err.message, next_step(st));
        return exit_of(st);
    }
    if (cfg->debug) {
        printf("%sok%s   configuration %s (%.0f ms)\n", paint(&t, "\033[32m"), paint(&t, "\033[0m"),
               cfg->path, ms_since(start));
        aad_config_describe(cfg, print_setting, NULL);
    }
    struct aad_log log = {log_to_stderr, &t, cfg->debug};
    int utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    struct aad_ui ui = {.show_code = show_code, .waiting = waiting, .ctx = &t,
                         .qr_ok = isatty(STDOUT_FILENO) && utf8};
    struct aad_identity id = {0};
    /* aad-login is not setuid: whoever runs it owns its environment, so
     * it runs the core in its own process (pam_aad.so uses the helper). */
    struct aad_account account;
    st = aad_account_lookup(cfg, argv[optind], &account, &err);
    if (st == AAD_OK)
        st = aad_login(cfg, &account, &ui, &log, &id, NULL, &err);
    if (t.waiting)
        putchar('\n');
    if (st == AAD_OK) {
        print_identity(&id, &t);
        group_preview_print(&id, cfg->allow_root);
    } else {
        /* What pam_aad.so tells the user, then the administrator's detail. */
        char sentence[512];
        struct aad_refusal r = {err.kind,          err.aadsts,         id.upn, argv[optind],
                                err.correlation_id, err.clock_offset_s};
        aad_refusal_sentence(&r, sentence, sizeof(sentence));
        if (sentence[0] != '\0')
            fprintf(stderr, "%s\n", sentence);
        /* An outage or Entra's verdict on the registration: what to do
         * depends on the cause, as in --check. */
        char hint[512];
        int by_cause = st == AAD_UNAVAILABLE || err.kind == AAD_FAILURE_HOST_MISCONFIGURED ||
                       err.kind == AAD_FAILURE_CA_FILE || err.kind == AAD_FAILURE_CLOCK;
        if (by_cause)
            aad_check_classify(cfg, &err, hint, sizeof(hint));
        fprintf(stderr, "aad-login: %s%s: %s%s\n%s\n", paint(&t, "\033[31m"),
                st == AAD_DENIED ? "refused" : aad_status_name(st), err.message,
                paint(&t, "\033[0m"), by_cause ? hint : next_step(st));
    }
    aad_identity_clear(&id);
    int rc = exit_of(st);
    aad_config_free(cfg);
    return rc;
}
