/* aad_token.c - `aad-login token`: an access token for a script.
 *
 *   aad-login token [--json] --scope SCOPE...            as the user (device code)
 *   aad-login token --app [--certificate F --key F] --scope RESOURCE/.default
 *
 * The token goes to stdout and nowhere else: the code and the QR code go to
 * stderr (or /dev/tty when stderr is not a terminal), every message to
 * stderr; tokens are wiped once written. The user path
 * verifies the ID token of the sign-in exactly as a login does, so the
 * printed identity is the tenant's word.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_token.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aad_assertion.h"
#include "aad_config.h"
#include "aad_devflow.h"
#include "aad_http.h"
#include "aad_idtoken.h"
#include "aad_json.h"
#include "aad_qr.h"
#include "aad_trust.h"

#define MAX_OVERRIDES 32
#define MAX_SCOPE_TEXT 1024
#define MAX_SCOPE_WORD 256
#define MAX_CLAIM 256
#define DEFAULT_SUFFIX "/.default"

enum token_exit {
    TOKEN_OK = 0,
    TOKEN_REFUSED = 1,
    TOKEN_USAGE = 2,
    TOKEN_UNAVAILABLE = 3,
    TOKEN_CONFIG = 4,
};

struct token_request {
    int app;
    int json;
    char scope[MAX_SCOPE_TEXT]; /* the requested scopes, space-separated */
};

/* What is printed: the token (a secret) and what it is good for. */
struct token_result {
    char *access_token;
    long expires_in;
    char *scope;
    char *upn; /* user path only */
    char *oid;
};

/* Where the person sees the code: stderr, or the terminal itself when
 * stderr is not one (a script's 2>log must not swallow the code). */
struct screen {
    FILE *out;
    int tty;     /* out is a terminal */
    int waiting; /* a countdown line is on it */
};

static void screen_open(struct screen *s)
{
    s->out = stderr;
    s->waiting = 0;
    if (!isatty(STDERR_FILENO)) {
        int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f != NULL)
            s->out = f;
        else if (fd >= 0)
            close(fd);
    }
    s->tty = isatty(fileno(s->out));
}

static void screen_close(struct screen *s)
{
    if (s->waiting)
        fputc('\n', s->out);
    if (s->out != stderr)
        fclose(s->out);
}

static void result_clear(struct token_result *r)
{
    aad_free_secret(r->access_token);
    free(r->scope);
    free(r->upn);
    free(r->oid);
    memset(r, 0, sizeof(*r));
}

static int exit_of(enum aad_status st)
{
    switch (st) {
    case AAD_OK: return TOKEN_OK;
    case AAD_UNAVAILABLE: return TOKEN_UNAVAILABLE;
    case AAD_CONFIG_ERROR: return TOKEN_CONFIG;
    case AAD_DENIED:
    case AAD_USER_UNKNOWN:
    case AAD_IGNORE: break;
    }
    return TOKEN_REFUSED;
}

static void usage(FILE *f, const char *default_config)
{
    fprintf(f,
            "Usage: aad-login token [--config FILE] [-o key=value]... [--json] --scope SCOPE...\n"
            "       aad-login token --app [--certificate FILE --key FILE] [--config FILE]\n"
            "                       [-o key=value]... [--json] --scope RESOURCE/.default\n"
            "Prints an access token for SCOPE on stdout: as the user, who signs in with the\n"
            "code shown on stderr (or /dev/tty), or (--app) as the application, with its\n"
            "certificate.\n"
            "Default configuration: %s\n"
            "Exit: 0 success, 1 refused, 2 usage, 3 service unavailable, 4 configuration error.\n",
            default_config);
}

/* Adds the space-separated words of arg to the request; each must be
 * printable ASCII (it is shown on the terminal and sent in a form). */
static int add_scopes(struct token_request *req, const char *arg)
{
    for (const char *p = arg; *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n > MAX_SCOPE_WORD)
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (p[i] <= ' ' || p[i] > '~')
                return -1;
        }
        size_t used = strlen(req->scope);
        if (n > 0 && used + n + 2 > sizeof(req->scope))
            return -1;
        if (n > 0)
            snprintf(req->scope + used, sizeof(req->scope) - used, "%s%.*s", used ? " " : "",
                     (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* "key=" + an absolute form of path (the configuration's rule for
 * credential files: the file rules themselves stay those of the key). */
static int credential_override(char *out, size_t size, const char *key, const char *path)
{
    char cwd[PATH_MAX];
    int n;
    if (path[0] == '/')
        n = snprintf(out, size, "%s=%s", key, path);
    else if (getcwd(cwd, sizeof(cwd)) != NULL)
        n = snprintf(out, size, "%s=%s/%s", key, cwd, path);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static void log_to_stderr(void *ctx, int priority, const char *message)
{
    struct screen *s = ctx;
    if (s->waiting && s->out == stderr) {
        fputc('\n', stderr);
        s->waiting = 0;
    }
    fprintf(stderr, "aad-login: %s%s\n", priority <= LOG_WARNING ? "warning: " : "", message);
}

/* The code never goes to stdout: that is the script's, and holds the token. */
static void show_code(const struct aad_config *cfg, const struct aad_device_code *dc,
                      const char *scope, const struct screen *s)
{
    fprintf(s->out,
            "To get a token for %s, open %s in a web browser and enter the code %s\n"
            "(enter only a code you asked for yourself).\n",
            scope, dc->verification_uri, dc->user_code);
    int utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    if (cfg->qr == AAD_QR_YES || (cfg->qr == AAD_QR_AUTO && s->tty && utf8)) {
        char *qr = aad_qr_render(dc->verification_uri);
        if (qr != NULL)
            fputs(qr, s->out);
        free(qr);
    }
    fflush(s->out);
}

/* Between polls: a countdown on a terminal, silence elsewhere. */
static int count_down(void *ctx, int64_t until_ms, long seconds_left)
{
    struct screen *s = ctx;
    if (s->tty) {
        fprintf(s->out, "\r\033[2KWaiting for the sign-in... %ld:%02ld left", seconds_left / 60,
                seconds_left % 60);
        fflush(s->out);
        s->waiting = 1;
    }
    aad_sleep_until_ms(until_ms);
    return 0;
}

static char *dup_claim(const json_t *claims, const char *name)
{
    const char *v = aad_json_string(claims, name);
    return v != NULL && aad_is_printable_token(v, MAX_CLAIM) ? strdup(v) : NULL;
}

/* The device-code flow for openid profile + the requested scopes; the ID
 * token is verified as a login verifies it before the access token is
 * handed out. */
static enum aad_status user_token(struct aad_config *cfg, const struct token_request *req,
                                  const struct aad_log *log, struct screen *s,
                                  struct token_result *out, struct aad_error *err)
{
    char scope[MAX_SCOPE_TEXT + 32];
    snprintf(scope, sizeof(scope), "openid profile %s", req->scope);
    char *login_scope = cfg->scope;
    if ((cfg->scope = strdup(scope)) == NULL) {
        cfg->scope = login_scope;
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    free(login_scope);

    struct aad_http_options opts = {.ca_file = cfg->ca_file, .files = &cfg->preread,
                                    .proxy = cfg->proxy, .timeout_s = cfg->http_timeout};
    struct aad_http *http = NULL;
    struct aad_device_code dc = {0};
    struct aad_trust *trust = NULL;
    struct aad_tokens tokens = {0};
    struct aad_jwt *jwt = NULL;
    struct aad_poller poller;
    enum aad_status st = aad_http_new(&opts, &http, err);
    if (st == AAD_OK)
        st = aad_devflow_start(cfg, http, &dc, err);
    int64_t code_ms = aad_monotonic_ms();
    if (st == AAD_OK) {
        show_code(cfg, &dc, req->scope, s);
        st = aad_trust_load(cfg, http, log, &trust, err);
    }
    if (st == AAD_OK) {
        aad_poller_init(&poller, cfg, http, &dc, log, code_ms);
        poller.last_poll_ms = code_ms; /* nobody can have signed in yet */
        st = aad_poller_run(&poller, count_down, s, &tokens, err);
    }
    if (s->waiting) {
        fputc('\n', s->out);
        s->waiting = 0;
    }
    if (st == AAD_OK)
        st = aad_id_token_verify(cfg, trust, http, log, tokens.id_token, &jwt, err);
    if (st == AAD_OK)
        st = aad_id_token_check_guest(cfg, jwt, err);
    if (st == AAD_OK && tokens.access_token == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "the token answer has no usable access_token");
    if (st == AAD_OK) {
        out->upn = dup_claim(jwt->claims, cfg->user_claim);
        out->oid = dup_claim(jwt->claims, "oid");
        out->access_token = tokens.access_token;
        tokens.access_token = NULL;
        out->expires_in = tokens.expires_in;
        out->scope = strdup(tokens.scope ? tokens.scope : req->scope);
    }
    aad_jwt_free(jwt);
    aad_tokens_clear(&tokens);
    aad_device_code_clear(&dc);
    aad_trust_free(trust);
    aad_http_free(http);
    return st;
}

/* The client-credentials grant with the configured certificate. */
static enum aad_status app_token(const struct aad_config *cfg, const struct token_request *req,
                                 struct token_result *out, struct aad_error *err)
{
    if (cfg->client_certificate == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "--app needs the application's certificate: set client_certificate and "
                        "client_key in %s, or give --certificate and --key",
                        cfg->path);
    struct aad_http_options opts = {.ca_file = cfg->ca_file, .files = &cfg->preread,
                                    .proxy = cfg->proxy, .timeout_s = cfg->http_timeout};
    struct aad_http *http = NULL;
    struct aad_app_token t = {0};
    enum aad_status st = aad_http_new(&opts, &http, err);
    if (st == AAD_OK)
        st = aad_assertion_request(cfg, http, req->scope, req->scope, &t, err);
    if (st == AAD_OK) {
        out->access_token = t.access_token;
        t.access_token = NULL;
        out->expires_in = t.expires_in;
        out->scope = strdup(req->scope);
    }
    aad_app_token_clear(&t);
    aad_http_free(http);
    return st;
}

/* Straight to the descriptor, so that no stdio buffer keeps a copy. */
static enum aad_status print_result(const struct token_result *r, int as_json,
                                    struct aad_error *err)
{
    char *text = NULL;
    const char *shown = r->access_token; /* without --json: the token itself, not a copy */
    if (as_json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s*, s:s*, s:s*}", "token_type", "Bearer",
                              "access_token", r->access_token, "expires_in",
                              (json_int_t)r->expires_in, "expires_on",
                              (json_int_t)(time(NULL) + r->expires_in), "scope", r->scope,
                              "upn", r->upn, "oid", r->oid);
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_t *copy = json_object_get(o, "access_token");
        if (json_is_string(copy))
            aad_wipe((char *)json_string_value(copy), json_string_length(copy));
        json_decref(o);
        if (text == NULL)
            return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
        shown = text;
    }
    int failed = aad_write_all(STDOUT_FILENO, shown, strlen(shown)) != 0 ||
                 aad_write_all(STDOUT_FILENO, "\n", 1) != 0;
    aad_free_secret(text);
    if (failed)
        return aad_fail(err, AAD_UNAVAILABLE, "the token could not be written to stdout: %s",
                        strerror(errno));
    return AAD_OK;
}

/* The application's grant takes exactly one RESOURCE/.default. */
static int app_scope_ok(const char *scope)
{
    size_t n = strlen(scope), k = strlen(DEFAULT_SUFFIX);
    return strchr(scope, ' ') == NULL && n > k && strcmp(scope + n - k, DEFAULT_SUFFIX) == 0;
}

int aad_token_main(int argc, char **argv, const char *default_config)
{
    static const struct option long_opts[] = {
        {"scope", required_argument, NULL, 's'},       {"app", no_argument, NULL, 'a'},
        {"certificate", required_argument, NULL, 'C'}, {"key", required_argument, NULL, 'K'},
        {"json", no_argument, NULL, 'j'},              {"config", required_argument, NULL, 'f'},
        {"option", required_argument, NULL, 'o'},      {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
    };
    struct token_request req = {0};
    const char *args[MAX_OVERRIDES + 3];
    char config_arg[PATH_MAX + 16] = "", cert_arg[PATH_MAX + 32] = "", key_arg[PATH_MAX + 32] = "";
    const char *cert_path = NULL, *key_path = NULL;
    int nargs = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "s:f:o:dh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (add_scopes(&req, optarg) != 0) {
                fprintf(stderr, "aad-login: --scope: printable words of at most %d characters, "
                                "%d in all\n", MAX_SCOPE_WORD, MAX_SCOPE_TEXT - 1);
                return TOKEN_USAGE;
            }
            break;
        case 'a': req.app = 1; break;
        case 'j': req.json = 1; break;
        case 'C': cert_path = optarg; break;
        case 'K': key_path = optarg; break;
        case 'f': snprintf(config_arg, sizeof(config_arg), "config=%s", optarg); break;
        case 'o':
        case 'd':
            if (nargs >= MAX_OVERRIDES) {
                fprintf(stderr, "aad-login: too many -o or -d options (at most %d)\n",
                        MAX_OVERRIDES);
                return TOKEN_USAGE;
            }
            args[nargs++] = opt == 'o' ? optarg : "debug";
            break;
        case 'h': usage(stdout, default_config); return TOKEN_OK;
        default: usage(stderr, default_config); return TOKEN_USAGE;
        }
    }
    const char *problem = NULL;
    if (optind != argc)
        problem = "unexpected argument";
    else if (req.scope[0] == '\0')
        problem = "--scope is required";
    else if ((cert_path != NULL || key_path != NULL) && !req.app)
        problem = "--certificate and --key are for --app";
    else if ((cert_path == NULL) != (key_path == NULL))
        problem = "give both --certificate and --key, or neither";
    else if (req.app && !app_scope_ok(req.scope))
        problem = "--app takes exactly one scope, RESOURCE/.default";
    if (problem == NULL && cert_path != NULL &&
        (credential_override(cert_arg, sizeof(cert_arg), "client_certificate", cert_path) != 0 ||
         credential_override(key_arg, sizeof(key_arg), "client_key", key_path) != 0))
        problem = "--certificate or --key: path too long";
    if (problem != NULL) {
        fprintf(stderr, "aad-login token: %s\n", problem);
        usage(stderr, default_config);
        return TOKEN_USAGE;
    }
    if (cert_arg[0] != '\0') {
        args[nargs++] = cert_arg;
        args[nargs++] = key_arg;
    }
    if (config_arg[0] != '\0')
        args[nargs++] = config_arg;

    struct screen s;
    screen_open(&s);
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    struct token_result result = {0};
    enum aad_status st = aad_config_load(default_config, nargs, args, &cfg, &err);
    if (st == AAD_OK) {
        struct aad_log log = {log_to_stderr, &s, cfg->debug};
        st = req.app ? app_token(cfg, &req, &result, &err)
                     : user_token(cfg, &req, &log, &s, &result, &err);
    }
    if (st == AAD_OK)
        st = print_result(&result, req.json, &err);
    if (st != AAD_OK)
        fprintf(stderr, "aad-login token: %s: %s\n",
                st == AAD_DENIED ? "refused" : aad_status_name(st), err.message);
    result_clear(&result);
    aad_config_free(cfg);
    screen_close(&s);
    return exit_of(st);
}
