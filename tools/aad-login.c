/* aad-login - the administrator's command-line twin of pam_aad.so.
 *
 *   aad-login --check [--config FILE]      check the configuration and reach the tenant
 *   aad-login [--config FILE] [-o key=value]... USER   a whole device-code login
 *
 * Exit codes: 0 success, 1 refused (bad token, wrong user, not authorized,
 * declined, expired), 2 usage, 3 the service is unavailable, 4 configuration
 * error, 5 no such local account, 6 an account pam_aad never maps (the PAM
 * module answers PAM_IGNORE: the stack's next method decides). */
#include "config.h"

#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "aad_config.h"
#include "aad_http.h"
#include "aad_keys.h"
#include "aad_login.h"
#include "aad_refusal.h"
#include "aad_trust.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
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
            "Usage: aad-login [--config FILE] [-o key=value]... USER\n"
            "       aad-login --check [--config FILE] [-o key=value]...\n"
            "Signs USER in with Microsoft Entra ID exactly as pam_aad.so would, or (--check)\n"
            "checks the configuration and that the tenant's metadata and keys can be fetched.\n"
            "Default configuration: %s\n"
            "Exit: 0 success, 1 refused, 2 usage, 3 service unavailable, 4 configuration error,\n"
            "      5 no such local account.\n",
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

static int run_check(const struct aad_config *cfg, const struct term *t)
{
    const char *ok = paint(t, "\033[32m"), *bad = paint(t, "\033[31m"), *off = paint(t, "\033[0m");
    struct aad_error err = {0};
    struct aad_http *http = NULL;
    struct aad_discovery d = {0};
    struct aad_keyset *keys = NULL;
    char *text = NULL;
    struct aad_http_options opts = {.ca_file = cfg->ca_file, .proxy = cfg->proxy,
                                    .timeout_s = cfg->http_timeout};

    int64_t start = aad_monotonic_ms();
    enum aad_status st = aad_http_new(&opts, &http, &err);
    if (st == AAD_OK)
        st = aad_trust_fetch_discovery(cfg, http, &d, &err);
    if (st == AAD_OK)
        printf("%sok%s   discovery document (%.0f ms): issuer %s\n", ok, off, ms_since(start),
               d.issuer);
    start = aad_monotonic_ms();
    if (st == AAD_OK)
        st = aad_trust_fetch_keys(http, d.jwks_uri, &text, &keys, &err);
    if (st == AAD_OK)
        printf("%sok%s   signing keys (%.0f ms): %zu usable, %zu skipped\n", ok, off,
               ms_since(start), keys->count, keys->skipped);
    if (st != AAD_OK)
        printf("%sFAIL%s %s\n     %s\n", bad, off, err.message, next_step(st));
    long requests = 0, connections = 0;
    if (http != NULL)
        aad_http_counters(http, &requests, &connections);
    if (st == AAD_OK)
        printf("%sok%s   %ld HTTPS requests over %ld connection(s)\n", ok, off, requests,
               connections);
    free(text);
    aad_keyset_free(keys);
    aad_discovery_clear(&d);
    aad_http_free(http);
    return exit_of(st);
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
    static const struct option long_opts[] = {
        {"check", no_argument, NULL, 'c'},     {"config", required_argument, NULL, 'f'},
        {"option", required_argument, NULL, 'o'}, {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},      {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *args[MAX_OVERRIDES + 2];
    int nargs = 0, check = 0, opt;
    char config_arg[4096 + 8] = "";
    while ((opt = getopt_long(argc, argv, "cf:o:dhV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'c': check = 1; break;
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
    if (check ? optind != argc : optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }

    struct term t = {isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL, 0, 0};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    int64_t start = aad_monotonic_ms();
    enum aad_status st = aad_config_load(AAD_DEFAULT_CONFIG, nargs, args, &cfg, &err);
    if (st != AAD_OK) {
        fprintf(stderr, "aad-login: %s\n%s\n", err.message, next_step(st));
        return exit_of(st);
    }
    if (check || cfg->debug) {
        printf("%sok%s   configuration %s (%.0f ms)\n", paint(&t, "\033[32m"), paint(&t, "\033[0m"),
               cfg->path, ms_since(start));
        if (cfg->debug)
            aad_config_describe(cfg, print_setting, NULL);
    }
    int rc;
    if (check) {
        rc = run_check(cfg, &t);
    } else {
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
        } else {
            /* What pam_aad.so tells the user, then the administrator's detail. */
            char sentence[512];
            struct aad_refusal r = {err.kind, err.aadsts, id.upn, argv[optind]};
            aad_refusal_sentence(&r, sentence, sizeof(sentence));
            if (sentence[0] != '\0')
                fprintf(stderr, "%s\n", sentence);
            fprintf(stderr, "aad-login: %s%s: %s%s\n%s\n", paint(&t, "\033[31m"),
                    st == AAD_DENIED ? "refused" : aad_status_name(st), err.message,
                    paint(&t, "\033[0m"), next_step(st));
        }
        aad_identity_clear(&id);
        rc = exit_of(st);
    }
    aad_config_free(cfg);
    return rc;
}
