/* aad_token.c - `aad-login token`: an access token for a script.
 *
 *   aad-login token [--json|--az-json] --scope SCOPE...   as the user
 *   aad-login token --sign-in [--scope SCOPE...]          sign in once, print nothing
 *   aad-login token --sign-out                            forget the sign-in
 *   aad-login token --app [--certificate F --key F] --scope RESOURCE/.default
 *
 * As the user: an access token still good for 5 minutes is handed out
 * again; else the refresh token of the sign-in (token_store.h: the kernel
 * keyring, never a file) gets a new one silently; else, with a terminal,
 * the device-code flow signs the user in (the ID token verified exactly as
 * a login verifies it) and the sign-in is kept. Without a terminal and
 * without a usable sign-in it fails at once (exit 7): a cron job never
 * waits for a code nobody can see. As the application: the certificate's
 * token, kept per scope the same way; 429 answers are waited out.
 *
 * The token goes to stdout and nowhere else: the code and the QR code go to
 * stderr (or /dev/tty when stderr is not a terminal), every message to
 * stderr; tokens are wiped once written.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_token.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#include "aad_refresh.h"
#include "aad_trust.h"
#include "token_args.h"
#include "token_kept.h"
#include "token_output.h"
#include "token_store.h"

#ifndef AAD_DEFAULT_CACHE_DIR
#define AAD_DEFAULT_CACHE_DIR "/var/cache/pam_aad"
#endif

#define MAX_CLAIM 256
#define MAX_THROTTLED_TRIES 3 /* 429 answers waited out, within timeout */
/* Entra's answer to a refresh token already redeemed: with rotation, the
 * sign of another run of the same user refreshing at the same moment. */
#define RACE_AADSTS 70000
#define RACE_WAIT_MS 2000
#define MAX_RACES 8
#define USER_CACHE "/.cache/pam_aad"

/* Where the person sees the code: stderr, or the terminal itself when
 * stderr is not one (a script's 2>log must not swallow the code). */
struct screen {
    FILE *out;
    int tty;     /* out is a terminal: a person can see a code there */
    int waiting; /* a countdown line is on it */
};

/* One run: its settings, where words go, where the sign-in is kept. */
struct token_run {
    struct aad_config *cfg;
    const struct token_request *req;
    struct screen *screen;
    struct aad_log log;
    struct token_store store;
    struct aad_http *http;
    int sign_in_needed;   /* the refusal means: sign in again (exit 7) */
    int kept_refused;     /* ... because Entra refused the kept sign-in */
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

static void log_to_stderr(void *ctx, int priority, const char *message)
{
    struct screen *s = ctx;
    if (s->waiting && s->out == stderr) {
        fputc('\n', stderr);
        s->waiting = 0;
    }
    fprintf(stderr, "aad-login: %s%s\n", priority <= LOG_WARNING ? "warning: " : "", message);
}

/* The code never goes to stdout: that is the script's, and holds the token.
 * The URL has a line of its own, so that no terminal width breaks it. */
static void show_code(const struct aad_config *cfg, const struct aad_device_code *dc,
                      const char *scope, const struct screen *s)
{
    if (scope[0] != '\0')
        fprintf(s->out, "To get a token for %s, sign in:\n", scope);
    fprintf(s->out,
            "open this page in a web browser\n"
            "%s\n"
            "and enter the code %s (only a code you asked for yourself).\n",
            dc->verification_uri, dc->user_code);
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
static int count_down(void *ctx, int64_t until_us, long seconds_left)
{
    struct screen *s = ctx;
    if (s->tty) {
        fprintf(s->out, "\r\033[2KWaiting for the sign-in... %ld:%02ld left", seconds_left / 60,
                seconds_left % 60);
        fflush(s->out);
        s->waiting = 1;
    }
    aad_sleep_until_us(until_us);
    return 0;
}

static char *dup_claim(const json_t *claims, const char *name)
{
    const char *v = aad_json_string(claims, name);
    return v != NULL && aad_is_printable_token(v, MAX_CLAIM) ? strdup(v) : NULL;
}


static enum aad_status http_of(struct token_run *run, struct aad_error *err)
{
    if (run->http != NULL)
        return AAD_OK;
    struct aad_http_options opts = {.ca_file = run->cfg->ca_file, .files = &run->cfg->preread,
                                    .proxy = run->cfg->proxy,
                                    .timeout_s = run->cfg->http_timeout};
    return aad_http_new(&opts, &run->http, err);
}

/* ---- what the keyring keeps -------------------------------------------- */

/* A kept access token for the scope, into out (logged for --debug). */
static int reuse_token(struct token_run *run, enum token_record what, struct token_result *out)
{
    if (!token_kept_get(&run->store, what, run->req->scope, out))
        return 0;
    aad_log(&run->log, LOG_DEBUG, "a kept token for %s, %lld s left (%s)", run->req->scope,
            (long long)(out->expires_on - time(NULL)), token_store_name(&run->store));
    return 1;
}

static void keep_token(struct token_run *run, enum token_record what,
                       const struct token_result *r)
{
    if (token_kept_put(&run->store, what, run->req->scope, r) < 0)
        aad_log(&run->log, LOG_DEBUG, "the token is not kept in the %s: %s",
                token_store_name(&run->store), strerror(errno));
}

/* The sign-in: the refresh token and the identity it was verified as. */
static int keep_sign_in(struct token_run *run, const char *refresh_token, const char *upn,
                        const char *oid, const char *tenant)
{
    json_t *rec = json_pack("{s:s, s:s*, s:s*, s:s*, s:I}", "refresh_token", refresh_token, "upn",
                            upn, "oid", oid, "tenant", tenant, "signed_in", (json_int_t)time(NULL));
    int rc = rec != NULL ? token_store_put(&run->store, TOKEN_RECORD_SIGN_IN, NULL, rec, 0) : -1;
    token_record_free(rec);
    return rc;
}

/* ---- the three ways to a user's token ---------------------------------- */

/* After losing a race for the refresh token: waits (a little) until the
 * keyring holds another refresh token than `used` (returned) or an access
 * token for the scope (in out, NULL returned). */
static json_t *await_new_sign_in(struct token_run *run, const char *used,
                                 struct token_result *out)
{
    int64_t until = aad_monotonic_ms() + RACE_WAIT_MS;
    for (;;) {
        if (reuse_token(run, TOKEN_RECORD_ACCESS, out))
            return NULL;
        token_result_clear(out);
        json_t *now = token_store_get(&run->store, TOKEN_RECORD_SIGN_IN, NULL);
        const char *is = aad_json_string(now, "refresh_token");
        if (is != NULL && strcmp(is, used) != 0)
            return now;
        token_record_free(now);
        if (aad_monotonic_ms() >= until)
            return NULL;
        aad_sleep_until_ms(aad_monotonic_ms() + 50);
    }
}

/* A silent refresh with the kept sign-in: AAD_OK with out filled; AAD_DENIED
 * with run->sign_in_needed when Entra refused it or there is none. The new
 * refresh token replaces the old one (rotation). A run that lost a race
 * with another run's refresh takes what that run left: its access token for
 * the scope, or its refresh token. */
static enum aad_status refresh_user_token(struct token_run *run, struct token_result *out,
                                          struct aad_error *err)
{
    json_t *sign_in = token_store_get(&run->store, TOKEN_RECORD_SIGN_IN, NULL);
    if (sign_in == NULL || aad_json_string(sign_in, "refresh_token") == NULL) {
        token_record_free(sign_in);
        run->sign_in_needed = 1;
        return aad_fail(err, AAD_DENIED, "no sign-in is kept for this user");
    }
    char scope[TOKEN_MAX_SCOPE_TEXT + 32];
    snprintf(scope, sizeof(scope), "%s offline_access", run->req->scope);
    enum aad_status st = http_of(run, err);
    struct aad_refreshed r = {0};
    int64_t waited_ms = 0;
    for (int tries = 0, raced = 0; st == AAD_OK; tries++) {
        long retry_after = -1;
        st = aad_refresh_redeem(run->cfg, run->http, aad_json_string(sign_in, "refresh_token"),
                                scope, &r, &retry_after, err);
        if (st == AAD_UNAVAILABLE && retry_after > 0 && tries + 1 < MAX_THROTTLED_TRIES &&
            waited_ms + retry_after * 1000 <= run->cfg->timeout * 1000L) {
            aad_log(&run->log, LOG_WARNING, "Entra ID asks to wait %ld s before the refresh",
                    retry_after);
            aad_sleep_until_ms(aad_monotonic_ms() + retry_after * 1000);
            waited_ms += retry_after * 1000;
            st = AAD_OK;
            continue;
        }
        if (st == AAD_DENIED && err->aadsts == RACE_AADSTS && raced < MAX_RACES) {
            /* Used up by another run at the same moment (rotation): its new
             * token (or the access token it got) appears in the keyring. */
            json_t *now = await_new_sign_in(run, aad_json_string(sign_in, "refresh_token"), out);
            if (out->access_token != NULL) {
                token_record_free(now);
                token_record_free(sign_in);
                return AAD_OK;
            }
            if (now != NULL) {
                aad_log(&run->log, LOG_DEBUG, "another run refreshed the sign-in: once more");
                token_record_free(sign_in);
                sign_in = now;
                raced++;
                st = AAD_OK;
                continue;
            }
        }
        break;
    }
    if (st == AAD_OK) {
        if (r.refresh_token != NULL &&
            keep_sign_in(run, r.refresh_token, aad_json_string(sign_in, "upn"),
                         aad_json_string(sign_in, "oid"), aad_json_string(sign_in, "tenant")) != 0)
            aad_log(&run->log, LOG_WARNING, "the new refresh token cannot be kept: %s",
                    strerror(errno));
        out->access_token = r.access_token;
        r.access_token = NULL;
        out->expires_on = time(NULL) + r.expires_in;
        out->scope = strdup(r.scope != NULL ? r.scope : run->req->scope);
        out->upn = token_record_string(sign_in, "upn");
        out->oid = token_record_string(sign_in, "oid");
        out->tenant = token_record_string(sign_in, "tenant");
        aad_log(&run->log, LOG_DEBUG, "refreshed silently for %s", run->req->scope);
    } else if (st == AAD_DENIED) {
        /* Dead for good: forgotten, so that the next run asks at once, and
         * so are the tokens it got (the account may be disabled). */
        token_store_forget(&run->store, TOKEN_RECORD_SIGN_IN, NULL, 0);
        token_store_forget(&run->store, TOKEN_RECORD_ACCESS, NULL, 1);
        run->sign_in_needed = 1;
        run->kept_refused = 1;
    }
    aad_refreshed_clear(&r);
    token_record_free(sign_in);
    return st;
}

/* The device-code flow for openid profile (offline_access when the sign-in
 * can be kept) + the requested scopes; the ID token is verified as a login
 * verifies it before anything is handed out or kept. */
static enum aad_status sign_in_user(struct token_run *run, struct token_result *out,
                                    struct aad_error *err)
{
    struct aad_config *cfg = run->cfg;
    const char *keep = run->store.kind != TOKEN_STORE_NONE ? " offline_access" : "";
    char scope[TOKEN_MAX_SCOPE_TEXT + 64];
    snprintf(scope, sizeof(scope), "openid profile%s%s%s", keep, run->req->scope[0] ? " " : "",
             run->req->scope);
    char *login_scope = cfg->scope;
    if ((cfg->scope = strdup(scope)) == NULL) {
        cfg->scope = login_scope;
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    free(login_scope);

    struct screen *s = run->screen;
    struct aad_device_code dc = {0};
    struct aad_trust *trust = NULL;
    struct aad_tokens tokens = {0};
    struct aad_jwt *jwt = NULL;
    struct aad_poller poller;
    enum aad_status st = http_of(run, err);
    if (st == AAD_OK)
        st = aad_devflow_start(cfg, run->http, &dc, err);
    int64_t code_ms = aad_monotonic_ms();
    if (st == AAD_OK) {
        show_code(cfg, &dc, run->req->scope, s);
        st = aad_trust_load(cfg, run->http, &run->log, &trust, err);
    }
    if (st == AAD_OK) {
        aad_poller_init(&poller, cfg, run->http, &dc, &run->log, code_ms);
        poller.last_poll_us = code_ms * 1000; /* nobody can have signed in yet */
        st = aad_poller_run(&poller, count_down, s, &tokens, err);
    }
    if (s->waiting) {
        fputc('\n', s->out);
        s->waiting = 0;
    }
    if (st == AAD_OK)
        st = aad_id_token_verify(cfg, trust, run->http, &run->log, tokens.id_token, &jwt, err);
    if (st == AAD_OK)
        st = aad_id_token_check_guest(cfg, jwt, err);
    if (st == AAD_OK && tokens.access_token == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "the token answer has no usable access_token");
    if (st == AAD_OK) {
        out->upn = dup_claim(jwt->claims, cfg->user_claim);
        out->oid = dup_claim(jwt->claims, "oid");
        out->tenant = dup_claim(jwt->claims, "tid");
        out->access_token = tokens.access_token;
        tokens.access_token = NULL;
        out->expires_on = time(NULL) + tokens.expires_in;
        out->scope = strdup(tokens.scope ? tokens.scope : run->req->scope);
        if (run->store.kind != TOKEN_STORE_NONE) {
            /* A new sign-in may be another account: no token of the
             * previous one may be handed out after it. */
            token_store_forget(&run->store, TOKEN_RECORD_ACCESS, NULL, 1);
            if (tokens.refresh_token == NULL)
                aad_log(&run->log, LOG_WARNING,
                        "Entra ID sent no refresh token: the next run signs in again");
            else if (keep_sign_in(run, tokens.refresh_token, out->upn, out->oid, out->tenant) != 0)
                aad_log(&run->log, LOG_WARNING, "the sign-in cannot be kept in the %s: %s",
                        token_store_name(&run->store), strerror(errno));
        }
    }
    aad_jwt_free(jwt);
    aad_tokens_clear(&tokens);
    aad_device_code_clear(&dc);
    aad_trust_free(trust);
    return st;
}

/* Why no silent token, and what to do, as one line on stderr. */
static void say_sign_in_needed(const struct aad_error *err, int kept_sign_in_refused)
{
    if (kept_sign_in_refused)
        fprintf(stderr,
                "aad-login token: your sign-in is no longer valid: %s (AADSTS%ld); run "
                "'aad-login token --sign-in' in a terminal.\n",
                aad_refresh_refusal_reason(err->aadsts), err->aadsts);
    else
        fprintf(stderr, "aad-login token: no sign-in is kept for this user and there is no "
                        "terminal to sign in on: run 'aad-login token --sign-in' in a terminal "
                        "first.\n");
}

static enum aad_status user_token(struct token_run *run, struct token_result *out,
                                  struct aad_error *err)
{
    if (!run->req->sign_in) {
        if (reuse_token(run, TOKEN_RECORD_ACCESS, out))
            return AAD_OK;
        token_result_clear(out);
        enum aad_status st = refresh_user_token(run, out, err);
        if (st != AAD_DENIED || !run->sign_in_needed) {
            if (st == AAD_OK)
                keep_token(run, TOKEN_RECORD_ACCESS, out);
            return st;
        }
        if (!run->screen->tty) {
            say_sign_in_needed(err, run->kept_refused);
            return st;
        }
        if (run->kept_refused)
            fprintf(stderr, "aad-login token: your sign-in is no longer valid: %s (AADSTS%ld); "
                            "signing in again.\n",
                    aad_refresh_refusal_reason(err->aadsts), err->aadsts);
        token_result_clear(out);
        run->sign_in_needed = 0;
    } else if (!run->screen->tty) {
        run->sign_in_needed = 1;
        fprintf(stderr, "aad-login token: --sign-in needs a terminal to show the code on.\n");
        return aad_fail(err, AAD_DENIED, "no terminal");
    }
    enum aad_status st = sign_in_user(run, out, err);
    if (st == AAD_OK && run->req->scope[0] != '\0')
        keep_token(run, TOKEN_RECORD_ACCESS, out);
    return st;
}

/* The client-credentials grant with the configured certificate, its token
 * kept per scope; 429 answers are waited out (Retry-After, within
 * timeout). */
static enum aad_status app_token(struct token_run *run, struct token_result *out,
                                 struct aad_error *err)
{
    const struct aad_config *cfg = run->cfg;
    if (cfg->client_certificate == NULL)
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "--app needs the application's certificate: set client_certificate and "
                        "client_key in %s, or give --certificate and --key",
                        cfg->path);
    if (reuse_token(run, TOKEN_RECORD_APP, out))
        return AAD_OK;
    token_result_clear(out);
    struct aad_app_token t = {0};
    enum aad_status st = http_of(run, err);
    int64_t waited_ms = 0;
    for (int tries = 0; st == AAD_OK; tries++) {
        st = aad_assertion_request(cfg, run->http, run->req->scope, run->req->scope, &t, err);
        if (st != AAD_UNAVAILABLE || t.retry_after <= 0 || tries + 1 >= MAX_THROTTLED_TRIES ||
            waited_ms + t.retry_after * 1000 > cfg->timeout * 1000L)
            break;
        aad_log(&run->log, LOG_WARNING, "Entra ID asks to wait %ld s (HTTP 429)", t.retry_after);
        aad_sleep_until_ms(aad_monotonic_ms() + t.retry_after * 1000);
        waited_ms += t.retry_after * 1000;
        aad_app_token_clear(&t);
        st = AAD_OK;
    }
    if (st == AAD_OK) {
        out->access_token = t.access_token;
        t.access_token = NULL;
        out->expires_on = time(NULL) + t.expires_in;
        out->scope = strdup(run->req->scope);
        out->tenant = strdup(cfg->tenant);
        keep_token(run, TOKEN_RECORD_APP, out);
    }
    aad_app_token_clear(&t);
    return st;
}

/* ---- configuration for a person, not only for root --------------------- */

/* An ordinary user cannot write the system's key cache: their own, made
 * with its parents (a fresh account has no ~/.cache). */
static void prepare_cache_dir(struct aad_config *cfg)
{
    if (geteuid() == 0)
        return;
    const char *home = token_home_dir();
    if (strcmp(cfg->cache_dir, AAD_DEFAULT_CACHE_DIR) == 0 && access(cfg->cache_dir, W_OK) != 0 &&
        home != NULL) {
        char *mine = malloc(strlen(home) + sizeof(USER_CACHE));
        if (mine == NULL)
            return;
        sprintf(mine, "%s%s", home, USER_CACHE);
        free(cfg->cache_dir);
        cfg->cache_dir = mine;
    }
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s", cfg->cache_dir) >= sizeof(path))
        return;
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return;
}

/* The sign-out: every record of this application forgotten. Entra ID has
 * no endpoint to revoke one refresh token of a public client (only all of
 * a user's sessions, through Graph's revokeSignInSessions), so nothing is
 * sent. */
static enum aad_status sign_out(struct token_run *run)
{
    int n = token_store_forget(&run->store, TOKEN_RECORD_SIGN_IN, NULL, 1);
    fprintf(stderr, "aad-login token: signed out: %d kept token%s forgotten from the %s.\n", n,
            n == 1 ? "" : "s", token_store_name(&run->store));
    return AAD_OK;
}

static int run_token(struct token_run *run, struct aad_error *err)
{
    const struct token_request *req = run->req;
    const char *why = NULL;
    if (token_store_open(&run->store, run->cfg, &why) != 0) {
        if (req->sign_in || req->sign_out) {
            fprintf(stderr, "aad-login token: there is nowhere to keep a sign-in: %s.\n", why);
            return strcmp(run->cfg->token_store, "none") == 0 ? TOKEN_CONFIG : TOKEN_UNAVAILABLE;
        }
        /* Said once; never a file instead. */
        if (!req->app)
            aad_log(&run->log, LOG_WARNING,
                    "no kernel keyring to keep the sign-in in (%s): every run signs in", why);
    } else {
        aad_log(&run->log, LOG_DEBUG, "sign-in and tokens kept in the %s",
                token_store_name(&run->store));
    }
    if (req->sign_out)
        return exit_of(sign_out(run));
    prepare_cache_dir(run->cfg);
    struct token_result result = {0};
    enum aad_status st = req->app ? app_token(run, &result, err) : user_token(run, &result, err);
    if (st == AAD_OK && !req->sign_in)
        st = token_output_write(STDOUT_FILENO, &result, req->format, err);
    if (st == AAD_OK && req->sign_in)
        fprintf(stderr,
                "aad-login token: signed in as %s.\n"
                "Later runs get their tokens without a sign-in (kept in the %s).\n",
                result.upn ? result.upn : "(unknown)", token_store_name(&run->store));
    int rc = exit_of(st);
    if (st != AAD_OK && run->sign_in_needed) {
        rc = TOKEN_SIGN_IN_NEEDED;
    } else if (st != AAD_OK) {
        fprintf(stderr, "aad-login token: %s: %s\n",
                st == AAD_DENIED ? "refused" : aad_status_name(st), err->message);
    }
    token_result_clear(&result);
    return rc;
}

int aad_token_main(int argc, char **argv, const char *default_config)
{
    struct token_args a;
    int rc = token_args_parse(argc, argv, default_config, &a, stderr);
    if (rc != TOKEN_OK)
        return rc;
    if (a.help) {
        token_args_usage(stdout, default_config);
        return TOKEN_OK;
    }
    char user_config[PATH_MAX], why[PATH_MAX + 256];
    const char *path = NULL;
    if (token_args_config(&a, default_config, user_config, sizeof(user_config), &path, why,
                          sizeof(why)) != 0) {
        fprintf(stderr, "aad-login token: %s\n", why);
        return TOKEN_CONFIG;
    }
    struct screen s;
    screen_open(&s);
    struct token_run run = {.req = &a.req, .screen = &s};
    struct aad_error err = {0};
    if (aad_config_load_for_tokens(path, a.noverrides, a.overrides, &run.cfg, &err) != AAD_OK) {
        fprintf(stderr, "aad-login token: %s: %s\n", aad_status_name(err.status), err.message);
        rc = TOKEN_CONFIG;
    } else {
        run.log = (struct aad_log){log_to_stderr, &s, run.cfg->debug};
        rc = run_token(&run, &err);
    }
    aad_http_free(run.http);
    aad_config_free(run.cfg);
    screen_close(&s);
    return rc;
}
