/* hostile.c - see hostile.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <security/pam_appl.h>

#include "aad_base.h"
#include "aad_config.h"
#include "aad_trust.h"
#include "hostile.h"
#include "pam_sandbox.h"

struct hostile H;

void hostile_enter_wrappers(char **argv)
{
    const char *root = pam_sandbox_enter(argv);
    memset(&H, 0, sizeof(H));
    snprintf(H.root, sizeof(H.root), "%s", root);
    snprintf(H.services, sizeof(H.services), "%s/services", H.root);
    snprintf(H.syslog_file, sizeof(H.syslog_file), "%s", getenv("SYSLOG_CAPTURE_FILE"));
    const char *t = getenv("HOSTILE_HTTP_TIMEOUT");
    H.http_timeout = t ? atol(t) : 2;
    if (H.http_timeout < 1)
        H.http_timeout = 2;
    t = getenv("HOSTILE_TIME_FACTOR");
    H.time_factor = t ? atol(t) : 1;
    if (H.time_factor < 1)
        H.time_factor = 1;
    /* HOSTILE_ONLY=test_name (a pattern): one case alone, to run it again
     * and again. */
    if (getenv("HOSTILE_ONLY") != NULL)
        cmocka_set_test_filter(getenv("HOSTILE_ONLY"));
}

int hostile_global_setup(void)
{
    /* The emulator bounds its own life; slow runs (valgrind: every login and
     * its helper under memcheck) scale that bound with the time factor. */
    char lifetime[32];
    snprintf(lifetime, sizeof(lifetime), "%ld", 300 * H.time_factor);
    const char *const args[] = {"--interval", "1", "--lifetime", lifetime, NULL};
    H.emu = emu_start(EMULATOR_PATH, args);
    return H.emu != NULL ? 0 : -1;
}

void hostile_global_teardown(void)
{
    emu_stop(H.emu);
    H.emu = NULL;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", H.root);
    if (system(cmd) != 0)
        fprintf(stderr, "hostile: could not remove %s\n", H.root);
}

void hostile_control(struct emu *e, const char *path, const char *json)
{
    char *resp = NULL;
    int st = emu_control(e, "POST", path, json, &resp);
    if (st < 200 || st > 299)
        fprintf(stderr, "control %s %s -> %d %s\n", path, json, st, resp ? resp : "");
    free(resp);
    assert_in_range(st, 200, 299);
}

void hostile_fault(const char *json)
{
    hostile_control(H.emu, "/control/fault", json);
}

void hostile_reset(void)
{
    hostile_control(H.emu, "/control/fault", "{\"clear\":true}");
    hostile_control(H.emu, "/control/jwks", "{\"reset\":true}");
    unlink(H.syslog_file);
}

static long long now_ms(void)
{
    return (long long)aad_monotonic_ms();
}

/* ---------------------------------------------------------- the child side */

/* Added to the child's exit status when pam_authenticate left a child
 * process (PAM codes are below 64; 200 and 201 are the child's own). */
#define CHILD_LEFT 100

struct child_ctx {
    const struct login_opts *o;
    struct emu *emu;
};

int hostile_proc_stat(int pid, char *state, long *ppid)
{
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    size_t n = fread(stat, 1, sizeof(stat) - 1, fp);
    fclose(fp);
    stat[n] = '\0';
    /* pid (comm) state ppid ...: comm may hold anything, the last ')' ends it */
    const char *p = strrchr(stat, ')');
    return p != NULL && sscanf(p + 1, " %c %ld", state, ppid) == 2 ? 0 : -1;
}

/* The children of this process (the login child: its helper). */
static void kill_children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        char state;
        long ppid;
        if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
            hostile_proc_stat(atoi(de->d_name), &state, &ppid) == 0 && ppid == (long)getpid())
            kill((pid_t)atoi(de->d_name), SIGKILL);
    }
    if (d != NULL)
        closedir(d);
}

static void do_action(struct child_ctx *c)
{
    if (c->o->action == ACT_KILL_EMULATOR) {
        const char *pid = emu_env(c->emu, "PID");
        if (pid != NULL && atol(pid) > 1)
            kill((pid_t)atol(pid), SIGKILL);
    } else if (c->o->action == ACT_STOP_EMULATOR) {
        const char *pid = emu_env(c->emu, "PID");
        if (pid != NULL && atol(pid) > 1)
            kill((pid_t)atol(pid), SIGSTOP);
    } else if (c->o->action == ACT_SHUTDOWN_EMULATOR) {
        emu_control(c->emu, "POST", "/control/shutdown", "{}", NULL);
    } else if (c->o->action == ACT_KILL_HELPER) {
        kill_children();
    } else if (c->o->action == ACT_HANG_AT_PROMPT) {
        if (c->o->marker != NULL)
            pam_sandbox_write_file(c->o->marker, "at the prompt\n");
        for (;;)
            pause();
    }
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata)
{
    struct child_ctx *c = appdata;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF && msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        /* The code is on the code screen (the message before the prompt,
         * or the prompt itself under PAM_SILENT). */
        char code[64] = "";
        const char *p = strstr(msg[i]->msg, "Code: ");
        if (p == NULL && i > 0)
            p = strstr(msg[i - 1]->msg, "Code: ");
        if (p != NULL && sscanf(p + 6, "%63[A-Za-z0-9-]", code) == 1) {
            if (c->o->approve != NULL) {
                json_t *body = json_loads(c->o->approve, 0, NULL);
                if (body != NULL) {
                    json_object_set_new(body, "user_code", json_string(code));
                    char *text = json_dumps(body, JSON_COMPACT);
                    emu_control(c->emu, "POST", "/control/approve", text, NULL);
                    free(text);
                    json_decref(body);
                }
            }
            do_action(c);
        }
        r[i].resp = strdup("");
    }
    *resp = r;
    return PAM_SUCCESS;
}

static void write_login_files(const struct login_opts *o, struct emu *e, int seq,
                              struct login_result *r, char *service, size_t ssize)
{
    char config[400], text[4096], path[400];
    if (o->cache_dir != NULL)
        snprintf(r->cache_dir, sizeof(r->cache_dir), "%s", o->cache_dir);
    else
        snprintf(r->cache_dir, sizeof(r->cache_dir), "%s/cache-%d", H.root, seq);
    snprintf(config, sizeof(config), "%s/pam_aad-%d.conf", H.root, seq);
    snprintf(text, sizeof(text),
             "tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\ndomains = %s\n"
             "cache_dir = %s\nruntime_dir = %s/run\nhttp_timeout = %ld\ntimeout = 10\nqr = no\n"
             "wait_for_enter = yes\n%s\n",
             emu_env(e, "TENANT_ID"), emu_env(e, "CLIENT_ID"), emu_authority(e),
             o->ca_file ? o->ca_file : emu_ca_file(e), emu_env(e, "DOMAIN"), r->cache_dir,
             H.root, H.http_timeout, o->config_extra ? o->config_extra : "");
    pam_sandbox_write_file(config, text);
    snprintf(service, ssize, "hostile-%d", seq);
    snprintf(path, sizeof(path), "%s/%s", H.services, service);
    snprintf(text, sizeof(text), "auth required %s helper=%s config=%s\n", PAM_AAD_MODULE,
             o->helper ? o->helper : PAM_AAD_HELPER, config);
    pam_sandbox_write_file(path, text);
}

int hostile_spawn(const struct login_opts *o, struct login_result *r)
{
    struct emu *e = o->emu ? o->emu : H.emu;
    char service[64];
    memset(r, 0, sizeof(*r));
    write_login_files(o, e, ++H.seq, r, service, sizeof(service));
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return (int)pid;
    /* The child: one pam_authenticate, its result as the exit status. */
    if (o->child_setup != NULL && o->child_setup(r->cache_dir) != 0)
        _exit(201);
    struct child_ctx c = {o, e};
    struct pam_conv conv = {conversation, &c};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, o->user ? o->user : "alice", &conv, H.services, &pamh);
    if (rc != PAM_SUCCESS)
        _exit(200);
    rc = pam_authenticate(pamh, 0);
    /* The caller's own waits never see the module's child (the helper's
     * reaper, which the module may reap later), and after pam_end no child
     * is left at all, not even a zombie (__WALL sees clone children).
     * Reported as rc + CHILD_LEFT. */
    int child_left = !(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
    pam_end(pamh, rc);
    child_left |= !(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
    _exit((rc & 0x7f) + (child_left ? CHILD_LEFT : 0));
}

void hostile_wait(int pid, long hard_limit_ms, long long start, struct login_result *r)
{
    int status = 0;
    if (hard_limit_ms <= 0)
        hard_limit_ms = 60000;
    hard_limit_ms *= H.time_factor;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (now_ms() - start > hard_limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "hostile: login hung for %ld ms: killed\n", hard_limit_ms);
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    r->ms = (long)(now_ms() - start);
    r->exited = status != -1 && WIFEXITED(status);
    r->sig = status != -1 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r->rc = r->exited ? WEXITSTATUS(status) : -1;
    if (r->rc >= CHILD_LEFT && r->rc < 2 * CHILD_LEFT) {
        r->child_left = 1;
        r->rc -= CHILD_LEFT;
    }
}

struct login_result hostile_login(const struct login_opts *o)
{
    struct login_result r;
    long long start = now_ms();
    int pid = hostile_spawn(o, &r);
    assert_true(pid > 0);
    hostile_wait(pid, o->hard_limit_ms, start, &r);
    return r;
}

const char *hostile_syslog(void)
{
    static char text[1 << 20];
    text[0] = '\0';
    FILE *fp = fopen(H.syslog_file, "r");
    if (fp != NULL) {
        size_t n = fread(text, 1, sizeof(text) - 1, fp);
        text[n] = '\0';
        fclose(fp);
    }
    return text;
}

void hostile_assert_log_clean(struct emu *e)
{
    const char *log = hostile_syslog();
    if (strstr(log, "eyJ") != NULL)
        fail_msg("syslog holds a JWT:\n%s", log);
    char *resp = NULL;
    if (e == NULL || emu_control(e, "GET", "/control/codes", NULL, &resp) != 200) {
        free(resp);
        return; /* the emulator is gone (killed on purpose) */
    }
    json_t *root = json_loads(resp, 0, NULL);
    free(resp);
    json_t *codes = json_object_get(root, "codes");
    size_t i;
    json_t *c;
    int leaked = 0;
    json_array_foreach(codes, i, c) {
        const char *dc = json_string_value(json_object_get(c, "device_code"));
        if (dc == NULL) {
            leaked = -1; /* the emulator must expose it for this check */
            break;
        }
        /* Any 12-character slice of it would be a leak. */
        char slice[13];
        snprintf(slice, sizeof(slice), "%s", dc + strlen(dc) / 2);
        leaked |= strstr(log, slice) != NULL || strstr(log, dc) != NULL;
    }
    json_decref(root);
    if (leaked < 0)
        fail_msg("the emulator does not list device codes");
    if (leaked)
        fail_msg("syslog holds a device code:\n%s", log);
}

void hostile_expect(const struct login_result *r, int want, long bound_ms)
{
    if (!r->exited)
        fail_msg("the login did not exit normally (signal %d) after %ld ms", r->sig, r->ms);
    if (r->rc != want)
        fail_msg("PAM result %d (%s), expected %d (%s); syslog:\n%s", r->rc,
                 pam_strerror(NULL, r->rc), want, pam_strerror(NULL, want), hostile_syslog());
    if (r->ms > bound_ms * H.time_factor)
        fail_msg("the login took %ld ms, bound %ld ms", r->ms, bound_ms * H.time_factor);
    if (r->child_left)
        fail_msg("a child process was left: seen by the caller's wait after pam_authenticate, or "
                 "not reaped by pam_end");
    hostile_assert_log_clean(H.emu);
}

/* ------------------------------------------------------------------ crypto */

EVP_PKEY *hk_rsa(int bits)
{
    EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
    assert_non_null(k);
    return k;
}

EVP_PKEY *hk_ec(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

char *hk_b64url(const void *data, size_t len)
{
    char *s = aad_base64url_encode(data, len);
    assert_non_null(s);
    return s;
}

static char *bn_b64(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return hk_b64url(buf, (size_t)n);
}

char *hk_jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
    char *out = malloc(4096);
    assert_non_null(out);
    if (EVP_PKEY_is_a(k, "RSA")) {
        char *n = bn_b64(k, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64(k, OSSL_PKEY_PARAM_RSA_E);
        snprintf(out, 4096, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid,
                 n, e, extra);
        free(n);
        free(e);
    } else {
        unsigned char pub[133];
        size_t len = 0;
        assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                         pub, sizeof(pub), &len), 1);
        size_t half = (len - 1) / 2;
        char *x = hk_b64url(pub + 1, half), *y = hk_b64url(pub + 1 + half, half);
        snprintf(out, 4096, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
                 kid, x, y, extra);
        free(x);
        free(y);
    }
    return out;
}

char *hk_sign(EVP_PKEY *k, const char *alg, const char *header, const char *payload)
{
    char *h = hk_b64url(header, strlen(header)), *p = hk_b64url(payload, strlen(payload));
    size_t inlen = strlen(h) + 1 + strlen(p);
    char *input = malloc(inlen + 1);
    assert_non_null(input);
    snprintf(input, inlen + 1, "%s.%s", h, p);
    (void)alg; /* RS256 for RSA keys, ES256 (DER) for EC keys */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = 0;
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(md, NULL, &siglen, (unsigned char *)input, inlen), 1);
    unsigned char *sig = malloc(siglen);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, (unsigned char *)input, inlen), 1);
    EVP_MD_CTX_free(md);
    char *s = hk_b64url(sig, siglen);
    char *out = malloc(inlen + 2 + strlen(s));
    sprintf(out, "%s.%s", input, s);
    free(h);
    free(p);
    free(input);
    free(sig);
    free(s);
    return out;
}

char *hk_payload(struct emu *e, const char *extra, const char *upn)
{
    char *out = malloc(8192 + (extra ? strlen(extra) : 0));
    assert_non_null(out);
    long long now = (long long)time(NULL);
    sprintf(out,
            "{\"aud\":\"%s\",\"iss\":\"%s/%s/v2.0\",\"tid\":\"%s\",\"iat\":%lld,\"nbf\":%lld,"
            "\"exp\":%lld,\"ver\":\"2.0\",\"oid\":\"00000000-0000-0000-0000-00000000a11c\","
            "\"sub\":\"s\",\"name\":\"Alice\"%s%s%s%s}",
            emu_env(e, "CLIENT_ID"), emu_authority(e), emu_env(e, "TENANT_ID"),
            emu_env(e, "TENANT_ID"), now, now, now + 3600, upn ? ",\"preferred_username\":\"" : "",
            upn ? upn : "", upn ? "\"" : "", extra ? extra : "");
    return out;
}

void hk_publish(struct emu *e, const char *keys_array)
{
    char *body = malloc(strlen(keys_array) + 16);
    sprintf(body, "{\"keys\":%s}", keys_array);
    hostile_control(e, "/control/jwks", body);
    free(body);
}

char *hk_approve_raw(const char *token)
{
    json_t *o = json_pack("{s:s}", "raw_id_token", token);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

void hostile_cache_name(struct emu *e, char *name, size_t size)
{
    struct aad_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.authority = (char *)emu_authority(e);
    cfg.tenant = (char *)emu_env(e, "TENANT_ID");
    aad_trust_cache_name(&cfg, name, size);
}
