/* bench.c - `make bench`: what a login costs, each figure beside a
 * baseline measured in the same run on the same machine.
 *
 * Logins run as they really do: each sample is a fresh process
 * (tests/bench/pam_driver, linking libpam only, stands for sshd or su;
 * tests/bench/curl_post, linking libcurl only, is the bare request it is
 * compared with), never a fork of this process, which has libcurl and
 * OpenSSL loaded already. Figures are medians of several samples.
 *
 *  1. one full ID-token validation (parse, key lookup, RS256, claims) vs one
 *     RS256 verification with a verifier prepared as the product prepares
 *     its own (EVP_PKEY_CTX set up once per key, then SHA-256 + verify);
 *     under 4b, the share of a login's CPU that validation takes
 *  2. fork/exec of the caller -> code in its conversation, cold and warm
 *     cache, vs fork/exec of a bare libcurl POST of the same request ->
 *     its answer; requests and TLS handshakes before the code and for a
 *     whole login
 *  3. approval and Enter -> PAM_SUCCESS: Enter at once (in this process),
 *     Enter before the first poll, and Enter after the sign-in finished
 *     (then the answer must already be there: no request after Enter)
 *  4. 200 concurrent logins (fresh callers, one cache dir): CPU and RSS of
 *     the caller and of the helper, key fetches; and the fetches of 200
 *     cold logins against an authority whose discovery and keys each take
 *     0.8 x http_timeout (one fetch, the others wait for it)
 *  5. module load + first pam_authenticate in a fresh caller vs pam_unix.so,
 *     and the resident memory each adds to the caller
 *
 * The exit status is 1 when a checked target (rows 2a, 2b, 3c, 3d, 4e, 5a, 5b)
 * is missed; every row is printed anyway.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <security/pam_appl.h>

#include "aad_base.h"
#include "aad_jwt.h"
#include "aad_keys.h"
#include "emu_client.h"
#include "token_maker.h"

#define USER "nobody"
#define UPN "nobody@contoso.example"
#define CONCURRENT_LOGINS 200
#define NO_SUCH_USER "no-such-user-bench"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Targets that are checked: each miss is listed after the table and makes
 * the exit status 1. */
static char missed_list[1024];
static int missed;

static void check(int held, const char *row_name, const char *why)
{
    if (!held) {
        missed++;
        size_t len = strlen(missed_list);
        snprintf(missed_list + len, sizeof(missed_list) - len, "!! target missed: %s (%s)\n",
                 row_name, why);
    }
}

static void sleep_until_s(double when)
{
    double left;
    while ((left = when - now_s()) > 0) {
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static void row(const char *what, const char *figure, const char *baseline, const char *ratio,
                const char *target)
{
    printf("| %-47s | %-22s | %-26s | %-9s | %-14s |\n", what, figure, baseline, ratio, target);
}

/* ---- 1. validation throughput ------------------------------------------- */

static const char *const claims_json =
    "{\"aud\":\"535fb089-9ff3-47b6-9bfb-4f1264799865\","
    "\"iss\":\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0\","
    "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"aio\":\"AVQAq/8WAAAAxjQFHaFYFP0Vq0nS5o2pKqMiL3Y+oqp\","
    "\"name\":\"Abe Lincoln\",\"oid\":\"690222be-ff1a-4d56-abd1-7e4f7d38e474\","
    "\"preferred_username\":\"abeli@contoso.com\",\"rh\":\"1.AXkAv4j5cvGGr0GRqy180BHbR4kAAAAAAAAAwAAAAAAAAAB5AAA.\","
    "\"sid\":\"00b3f1f3-4f5e-4b8f-b7a0-7f4f5e6d7c8b\",\"sub\":\"HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ\","
    "\"tid\":\"72f988bf-86f1-41af-91ab-2d7cd011db47\",\"uti\":\"fqiBqXLPj0eQa82S-IYFAA\",\"ver\":\"2.0\"}";

static double validation_s; /* one full validation, from figure 1 */

static void bench_validation(void)
{
    EVP_PKEY *pkey = tm_generate_rsa(2048);
    json_t *keys = json_array();
    json_array_append_new(keys, tm_jwk(pkey, "bench-kid", "https://login.microsoftonline.com/{tenantid}/v2.0"));
    char *jwks = tm_jwks_text(keys);
    struct aad_keyset *set = NULL;
    if (aad_keyset_parse(jwks, strlen(jwks), &set, NULL) != AAD_OK)
        abort();
    long long t = (long long)time(NULL);
    char claims[2048];
    snprintf(claims, sizeof(claims), claims_json, t, t, t + 3600);
    char *token = tm_make_token(pkey, "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"bench-kid\"}", claims);
    struct aad_jwt_expect expect = {
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "72f988bf-86f1-41af-91ab-2d7cd011db47", "535fb089-9ff3-47b6-9bfb-4f1264799865", t, 300};

    /* The baseline verifies exactly the bytes the token's signature covers,
     * with a verifier prepared once the way src/aad_keys.c prepares each key's
     * (PKCS#1 v1.5, SHA-256), so the difference is what validation adds. */
    const char *dot2 = strrchr(token, '.');
    size_t input_len = (size_t)(dot2 - token);
    struct aad_jwt *probe = NULL;
    if (aad_jwt_parse(token, &probe, NULL) != AAD_OK)
        abort();
    const struct aad_key *key = aad_keyset_find(set, "bench-kid");
    EVP_PKEY_CTX *verifier = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (verifier == NULL || EVP_PKEY_verify_init(verifier) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(verifier, RSA_PKCS1_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(verifier, EVP_sha256()) <= 0)
        abort();

    double best_full = 0, best_raw = 0;
    for (int round = 0; round < 3; round++) {
        long n = 0;
        double start = now_s(), end;
        while ((end = now_s()) - start < 0.7) {
            for (int i = 0; i < 50; i++, n++) {
                struct aad_jwt *jwt = NULL;
                const struct aad_key *k = NULL;
                if (aad_jwt_parse(token, &jwt, NULL) != AAD_OK ||
                    (k = aad_keyset_find(set, jwt->kid)) == NULL ||
                    aad_jwt_verify_signature(jwt, k, NULL) != AAD_OK ||
                    aad_jwt_check_claims(jwt, k, &expect, NULL) != AAD_OK)
                    abort();
                aad_jwt_free(jwt);
            }
        }
        if (n / (end - start) > best_full)
            best_full = n / (end - start);
        n = 0;
        start = now_s();
        while ((end = now_s()) - start < 0.7) {
            for (int i = 0; i < 50; i++, n++) {
                unsigned char digest[32];
                unsigned int digest_len = 0;
                if (EVP_Digest(token, input_len, digest, &digest_len, EVP_sha256(), NULL) != 1 ||
                    EVP_PKEY_verify(verifier, probe->signature, probe->signature_len, digest,
                                    digest_len) != 1)
                    abort();
            }
        }
        if (n / (end - start) > best_raw)
            best_raw = n / (end - start);
    }
    validation_s = 1.0 / best_full;
    /* No target: validation is measured against what it costs a login (4b). */
    char fig[64], base[64], ratio[32];
    snprintf(fig, sizeof(fig), "%.1f us/token", 1e6 / best_full);
    snprintf(base, sizeof(base), "%.1f us prepared RS256", 1e6 / best_raw);
    snprintf(ratio, sizeof(ratio), "%.2f", best_raw / best_full);
    row("1. full ID-token validation (warm keys)", fig, base, ratio, "-");
    EVP_PKEY_CTX_free(verifier);
    aad_jwt_free(probe);
    aad_keyset_free(set);
    free(token);
    free(jwks);
    json_decref(keys);
    EVP_PKEY_free(pkey);
}

/* ---- shared PAM driving ----------------------------------------------- */

struct session {
    struct emu *emu;
    char dir[128], services[160], config[160], cache[160];
    double t_enter; /* when the conversation returned ("Enter") */
    int approve;
};

/* Every request the emulator counted (all endpoints), in one query. */
static int emu_requests(struct emu *e)
{
    char *resp = NULL;
    int total = -1;
    if (emu_control(e, "GET", "/control/stats", NULL, &resp) == 200) {
        json_t *root = json_loads(resp, 0, NULL);
        const char *name;
        json_t *v;
        total = 0;
        json_object_foreach(json_object_get(root, "requests"), name, v) {
            total += (int)json_integer_value(v);
        }
        json_decref(root);
    }
    free(resp);
    return total;
}

static void approve_code(struct session *s, const char *code)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"user_code\":\"%s\",\"claims\":{\"preferred_username\":\"" UPN "\"}}", code);
    if (emu_control(s->emu, "POST", "/control/approve", body, NULL) != 200)
        fprintf(stderr, "bench: the emulator did not approve %s\n", code);
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata)
{
    struct session *s = appdata;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    for (int i = 0; i < n; i++) {
        const char *p = strstr(msg[i]->msg, "Code ");
        if (p != NULL && s->approve && msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            char code[32];
            sscanf(p + 5, "%31[A-Z0-9-]", code);
            approve_code(s, code);
        }
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            r[i].resp = strdup("");
    }
    *resp = r;
    s->t_enter = now_s();
    return PAM_SUCCESS;
}

static void session_open(struct session *s, const char *const emu_args[], const char *extra)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/pam_aad_bench.XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        abort();
    s->emu = emu_start(EMULATOR_PATH, emu_args);
    if (s->emu == NULL)
        abort();
    snprintf(s->services, sizeof(s->services), "%s/services", s->dir);
    snprintf(s->config, sizeof(s->config), "%s/pam_aad.conf", s->dir);
    snprintf(s->cache, sizeof(s->cache), "%s/cache", s->dir);
    mkdir(s->services, 0700);
    char path[256];
    snprintf(path, sizeof(path), "%s/bench", s->services);
    FILE *f = fopen(path, "w");
    fprintf(f, "auth required %s helper=%s config=%s\n", PAM_AAD_MODULE, PAM_AAD_HELPER,
            s->config);
    fclose(f);
    int fd = open(s->config, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    f = fdopen(fd, "w");
    fprintf(f, "tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\ndomains = %s\n"
               "cache_dir = %s\nqr = no\ntimeout = 60\n%s\n",
            emu_env(s->emu, "TENANT_ID"), emu_env(s->emu, "CLIENT_ID"), emu_authority(s->emu),
            emu_ca_file(s->emu), emu_env(s->emu, "DOMAIN"), s->cache, extra);
    fclose(f);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* rm -rf in this process (no shell between two samples). */
static void remove_tree(const char *dir)
{
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        fprintf(stderr, "bench: cannot remove %s: %s\n", dir, strerror(errno));
}

static void session_close(struct session *s)
{
    emu_stop(s->emu);
    remove_tree(s->dir);
}

/* A login in this process, for Enter at once (3a). */
static int pam_login(struct session *s)
{
    struct pam_conv conv = {conversation, s};
    pam_handle_t *pamh = NULL;
    if (pam_start_confdir("bench", USER, &conv, s->services, &pamh) != PAM_SUCCESS)
        return -1;
    int rc = pam_authenticate(pamh, 0);
    pam_end(pamh, rc);
    return rc;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
    char *buf = userp;
    size_t have = strlen(buf), n = size * nmemb;
    if (have + n < 8192) {
        memcpy(buf + have, data, n);
        buf[have + n] = '\0';
    }
    return n;
}

/* One bare libcurl POST to the emulator; a fresh handle unless *keep_handle
 * holds one (then the connection is reused). The answer goes to body. */
static double bare_post(struct session *s, const char *path, const char *form, CURL **keep_handle,
                        char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/%s%s", emu_authority(s->emu), emu_env(s->emu, "TENANT_ID"), path);
    CURL *c = keep_handle && *keep_handle ? *keep_handle : curl_easy_init();
    body[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, emu_ca_file(s->emu));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    double start = now_s();
    if (curl_easy_perform(c) != CURLE_OK)
        abort();
    double elapsed = now_s() - start;
    if (keep_handle)
        *keep_handle = c;
    else
        curl_easy_cleanup(c);
    return elapsed;
}

/* The floor for approval -> success: the successful poll itself (the
 * service signs a token for it) on a warm connection, done by bare libcurl. */
static double bare_successful_poll(struct session *s, CURL **kept)
{
    char form[4096], body[8192], device_code[2048], user_code[32], approve[128];
    snprintf(form, sizeof(form), "client_id=%s&scope=openid%%20profile", emu_env(s->emu, "CLIENT_ID"));
    bare_post(s, "/oauth2/v2.0/devicecode", form, kept, body);
    json_t *dc = json_loads(body, 0, NULL);
    snprintf(device_code, sizeof(device_code), "%s", json_string_value(json_object_get(dc, "device_code")));
    snprintf(user_code, sizeof(user_code), "%s", json_string_value(json_object_get(dc, "user_code")));
    json_decref(dc);
    snprintf(approve, sizeof(approve), "{\"user_code\":\"%s\"}", user_code);
    emu_control(s->emu, "POST", "/control/approve", approve, NULL);
    char *escaped = curl_easy_escape(*kept, device_code, 0);
    snprintf(form, sizeof(form),
             "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Adevice_code&client_id=%s&device_code=%s",
             emu_env(s->emu, "CLIENT_ID"), escaped);
    curl_free(escaped);
    double t = bare_post(s, "/oauth2/v2.0/token", form, kept, body);
    if (strstr(body, "id_token") == NULL) {
        fprintf(stderr, "bench: the bare poll failed: %.300s\n", body);
        abort();
    }
    return t;
}

/* ---- fresh processes ------------------------------------------------------- */

/* A program started with fork + exec: its stdout is ours to read, its
 * stdin ours to write (or /dev/null). t_fork is taken just before fork. */
struct child {
    pid_t pid;
    FILE *out;
    int in;
    double t_fork;
};

static pid_t spawn(const char *const argv[], int in_fd, int out_fd)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        if (dup2(in_fd >= 0 ? in_fd : null_fd, 0) < 0 || dup2(out_fd, 1) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void child_start(struct child *c, const char *const argv[], int with_stdin)
{
    int out[2], in[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || (with_stdin && pipe2(in, O_CLOEXEC) != 0))
        abort();
    c->t_fork = now_s();
    c->pid = spawn(argv, in[0], out[1]);
    close(out[1]);
    c->out = fdopen(out[0], "r");
    c->in = in[1];
    if (in[0] >= 0)
        close(in[0]);
}

static int child_line(struct child *c, char *buf, size_t size)
{
    return fgets(buf, (int)size, c->out) != NULL;
}

/* Closes its stdin (a driver waiting for Enter gets EOF and ends), reads
 * what is left and reaps it. */
static int child_end(struct child *c)
{
    char rest[512];
    if (c->in >= 0)
        close(c->in);
    while (fgets(rest, sizeof(rest), c->out) != NULL)
        ;
    fclose(c->out);
    int status = -1;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* What pam_driver printed: see tests/bench/pam_driver.c. */
struct run {
    int rc;
    double t_code, t_main, t_start, t_enter, t_end;
    long rss0, hwm0, rss1, hwm1, maxrss_self, maxrss_children;
    double cpu_self, cpu_children;
    char code[32];
};

static int parse_done(const char *line, struct run *r)
{
    return sscanf(line, "done %d %lf %lf %lf %lf %ld %ld %ld %ld %lf %lf %ld %ld", &r->rc,
                  &r->t_main, &r->t_start, &r->t_enter, &r->t_end, &r->rss0, &r->hwm0, &r->rss1,
                  &r->hwm1, &r->cpu_self, &r->cpu_children, &r->maxrss_self,
                  &r->maxrss_children) == 13;
}

/* Reads pam_driver's lines (its code, if any) up to "done". */
static int read_run(struct child *c, struct run *r)
{
    char line[512];
    while (child_line(c, line, sizeof(line))) {
        if (sscanf(line, "code %lf %31s", &r->t_code, r->code) == 2)
            continue;
        if (parse_done(line, r))
            return 0;
    }
    return -1;
}

/* Fork/exec of the caller -> the code in its conversation (the driver
 * ends the login there). */
static double fresh_time_to_code(struct session *s)
{
    const char *argv[] = {PAM_DRIVER, s->services, "bench", USER, "code", NULL};
    struct child c;
    struct run r;
    memset(&r, 0, sizeof(r));
    child_start(&c, argv, 0);
    read_run(&c, &r);
    child_end(&c);
    if (r.t_code == 0) {
        fprintf(stderr, "bench: pam_driver got no code (rc %d)\n", r.rc);
        return -1;
    }
    return r.t_code - c.t_fork;
}

/* Fork/exec of a bare libcurl POST of the same device-code request -> its
 * whole answer. */
static double fresh_bare_post(struct session *s)
{
    char url[256], form[256];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/devicecode", emu_authority(s->emu),
             emu_env(s->emu, "TENANT_ID"));
    snprintf(form, sizeof(form), "client_id=%s&scope=openid%%20profile", emu_env(s->emu, "CLIENT_ID"));
    const char *argv[] = {CURL_POST, url, emu_ca_file(s->emu), form, NULL};
    struct child c;
    child_start(&c, argv, 0);
    char line[256];
    double t_main = 0, t_end = 0;
    long status = 0;
    int got = child_line(&c, line, sizeof(line)) &&
              sscanf(line, "done %lf %lf %ld", &t_main, &t_end, &status) == 3;
    int ws = child_end(&c);
    if (!got || status != 200 || ws != 0) {
        fprintf(stderr, "bench: curl_post failed (HTTP %ld)\n", status);
        return -1;
    }
    return t_end - c.t_fork;
}

/* A whole login in a fresh caller: the code is approved as soon as it
 * shows, and Enter comes enter_after_s after the code. *after_enter gets
 * the number of requests the emulator saw from just before Enter to the
 * end of the login. */
static int fresh_login_enter(struct session *s, double enter_after_s, struct run *r,
                             int *after_enter)
{
    const char *argv[] = {PAM_DRIVER, s->services, "bench", USER, "enter", NULL};
    struct child c;
    char line[512];
    memset(r, 0, sizeof(*r));
    r->rc = -1;
    *after_enter = -1;
    child_start(&c, argv, 1);
    if (child_line(&c, line, sizeof(line)) && sscanf(line, "code %lf %31s", &r->t_code, r->code) == 2) {
        approve_code(s, r->code);
        sleep_until_s(r->t_code + enter_after_s);
        int before = emu_requests(s->emu);
        if (write(c.in, "\n", 1) == 1 && read_run(&c, r) == 0)
            *after_enter = emu_requests(s->emu) - before;
    }
    child_end(&c);
    return r->rc;
}

/* Requests and TLS handshakes the emulator has seen when the device-code
 * request is being answered, in a fresh caller. The helper fetches keys
 * right after sending the code, so counters read when the code reaches the
 * conversation race with those fetches; here the emulator holds the
 * device-code answer back (300 ms) and the counters are read meanwhile:
 * everything asked before or along with that request, which the code
 * could have waited for (nothing is asked between its answer and the code:
 * src/aad_login.c). */
static void fresh_requests_before_code(struct session *s, int *requests, int *connections)
{
    emu_control(s->emu, "POST", "/control/stats/reset", NULL, NULL);
    emu_control(s->emu, "POST", "/control/fault", "{\"endpoint\":\"devicecode\",\"delay_ms\":300}",
                NULL);
    const char *argv[] = {PAM_DRIVER, s->services, "bench", USER, "code", NULL};
    struct child c;
    struct run r;
    memset(&r, 0, sizeof(r));
    child_start(&c, argv, 0);
    double give_up = now_s() + 5;
    while (emu_stat(s->emu, "devicecode") < 1 && now_s() < give_up)
        sleep_until_s(now_s() + 0.002);
    *requests = emu_requests(s->emu);
    *connections = emu_stat(s->emu, "connections");
    read_run(&c, &r);
    child_end(&c);
    if (r.t_code == 0)
        *requests = *connections = -1;
}

/* ---- 2 and 3. time to code, approval to success --------------------------- */

static double poll_rtt_s; /* one successful bare poll on a warm connection */

static void bench_login_latency(void)
{
    static const char *const args[] = {"--interval", "5", "--lifetime", "300", NULL};
    struct session s;
    session_open(&s, args, "wait_for_enter = yes");
    s.approve = 1;
    enum { N_INPROC = 5, N = 21, N_ENTER = 7 };
    double at_once[N_INPROC];
    int failures = 0;

    /* In this process, warm cache: approval and Enter at once, as fast as
     * no user can be (the code was shown a moment before). */
    failures += pam_login(&s) != PAM_SUCCESS;
    for (int i = 0; i < N_INPROC; i++) {
        failures += pam_login(&s) != PAM_SUCCESS;
        at_once[i] = now_s() - s.t_enter;
    }
    double poll_rtt[N];
    CURL *kept = NULL;
    for (int i = 0; i < N; i++)
        poll_rtt[i] = bare_successful_poll(&s, &kept);
    curl_easy_cleanup(kept);
    poll_rtt_s = median(poll_rtt, N);

    /* Fresh processes, each pam_aad sample beside a bare one. */
    double cold[N], warm[N], bare[2 * N];
    int bad = 0, cold_req, cold_conn, warm_req, warm_conn, login_conn = -1;
    remove_tree(s.cache);
    fresh_requests_before_code(&s, &cold_req, &cold_conn);
    for (int i = 0; i < N; i++) {
        remove_tree(s.cache);
        bare[i] = fresh_bare_post(&s);
        cold[i] = fresh_time_to_code(&s);
        bad += bare[i] < 0 || cold[i] < 0;
    }
    /* Enter 1.5 s after the code: the sign-in is done, the first poll
     * (interval 5 s) not yet sent, so Enter sends it at once. These whole
     * logins also fill the cache for the warm samples. */
    double before_poll[N_ENTER];
    int before_poll_req = 0;
    for (int i = 0; i < N_ENTER; i++) {
        struct run r;
        int after = 0;
        if (i == N_ENTER - 1) /* a whole warm login: how many handshakes */
            emu_control(s.emu, "POST", "/control/stats/reset", NULL, NULL);
        failures += fresh_login_enter(&s, 1.5, &r, &after) != PAM_SUCCESS;
        if (i == N_ENTER - 1)
            login_conn = emu_stat(s.emu, "connections");
        before_poll[i] = r.t_end - r.t_enter;
        before_poll_req = after > before_poll_req ? after : before_poll_req;
    }
    fresh_requests_before_code(&s, &warm_req, &warm_conn);
    for (int i = 0; i < N; i++) {
        bare[N + i] = fresh_bare_post(&s);
        warm[i] = fresh_time_to_code(&s);
        bad += bare[N + i] < 0 || warm[i] < 0;
    }

    /* Each pam_aad series against the bare samples taken between its own
     * (the machine's speed drifts over a run). */
    double mbc = median(bare, N), mbw = median(bare + N, N), mc = median(cold, N),
           mw = median(warm, N);
    double mo = median(at_once, N_INPROC), mbp = median(before_poll, N_ENTER);
    char fig[64], base[64], ratio[32];
    snprintf(fig, sizeof(fig), "%.2f ms", mc * 1e3);
    snprintf(base, sizeof(base), "%.2f ms fresh bare POST", mbc * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", mc / mbc);
    row("2a. fresh caller -> code, cold cache", fig, base, ratio, "<= 1.20");
    check(!bad && mc / mbc <= 1.20, "2a. time to code, cold cache", ratio);
    snprintf(fig, sizeof(fig), "%.2f ms", mw * 1e3);
    snprintf(base, sizeof(base), "%.2f ms fresh bare POST", mbw * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", mw / mbw);
    row("2b. fresh caller -> code, warm cache", fig, base, ratio, "<= 1.20");
    check(!bad && mw / mbw <= 1.20, "2b. time to code, warm cache", ratio);
    snprintf(fig, sizeof(fig), "%d req, %d TLS (cold)", cold_req, cold_conn);
    snprintf(base, sizeof(base), "%d req, %d TLS (warm)", warm_req, warm_conn);
    row("2c. HTTPS requests / handshakes before code", fig, base, "-", "1 and 1");
    snprintf(fig, sizeof(fig), "%d TLS handshake(s)", login_conn);
    row("2d. whole warm login", fig, "-", "-", "1");
    snprintf(fig, sizeof(fig), "%.2f ms", mo * 1e3);
    snprintf(base, sizeof(base), "%.2f ms poll + validation", (poll_rtt_s + validation_s) * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", mo / (poll_rtt_s + validation_s));
    row("3a. approval + Enter at once -> PAM_SUCCESS", fig, base, ratio, "-");
    snprintf(fig, sizeof(fig), "%.2f ms, %d req", mbp * 1e3, before_poll_req);
    snprintf(ratio, sizeof(ratio), "%.2f", mbp / (poll_rtt_s + validation_s));
    row("3b. Enter before 1st poll -> PAM_SUCCESS", fig, base, ratio, "~1, 1 req");
    if (failures)
        printf("!! %d logins failed\n", failures);
    session_close(&s);
}

/* ---- 3c, 3d. Enter after the sign-in finished ------------------------------ */

static void bench_enter_after_sign_in(void)
{
    static const char *const args[] = {"--interval", "1", "--lifetime", "300", NULL};
    struct session s;
    session_open(&s, args, "wait_for_enter = yes");
    enum { N = 7 };
    double after[N];
    int failures = 0, most = 0, unknown = 0, failed_rc = 0;
    for (int i = 0; i < N; i++) {
        struct run r;
        int req = 0;
        /* Approved at once, Enter half a second past the interval: the
         * helper has had its successful poll by then. */
        int rc = fresh_login_enter(&s, 1.5, &r, &req);
        if (rc != PAM_SUCCESS) {
            failures++;
            failed_rc = rc;
        }
        after[i] = r.t_end - r.t_enter;
        unknown += req < 0;
        most = req > most ? req : most;
    }
    double ma = median(after, N);
    char fig[64], base[64], ratio[32], why[64];
    if (failures)
        snprintf(fig, sizeof(fig), "%d/%d FAILED, %.3f ms", failures, N, ma * 1e3);
    else
        snprintf(fig, sizeof(fig), "%.3f ms", ma * 1e3);
    snprintf(base, sizeof(base), "%.2f ms bare poll RTT", poll_rtt_s * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", ma / poll_rtt_s);
    row("3c. signed in, then Enter -> PAM_SUCCESS", fig, base, ratio, "0 round trips");
    snprintf(fig, sizeof(fig), "%d request(s) (max)", most);
    snprintf(base, sizeof(base), "%d/%d logins succeeded", N - failures, N);
    row("3d. requests after Enter (interval 1 s)", fig, base, "-", "0");
    if (failures)
        printf("!! %d/%d logins failed, the last with PAM code %d (%s)\n", failures, N, failed_rc,
               failed_rc > 0 ? pam_strerror(NULL, failed_rc) : "no answer");
    snprintf(why, sizeof(why), "%d request(s), %d failed logins", most, failures + unknown);
    check(failures == 0 && unknown == 0, "3c. signed in, then Enter", why);
    check(failures == 0 && unknown == 0 && most == 0, "3d. requests after Enter", why);
    session_close(&s);
}

/* ---- 4. concurrent logins ------------------------------------------------- */

struct wave {
    int ok, total;
    double wall, cpu_caller, cpu_helper;
    long rss_caller, rss_helper;
};

/* CONCURRENT_LOGINS fresh callers at once on the session's one cache dir. */
static void concurrent_logins(struct session *s, struct wave *w)
{
    memset(w, 0, sizeof(*w));
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        abort();
    const char *argv[] = {PAM_DRIVER, s->services, "bench", USER, "auto", NULL};
    double start = now_s();
    pid_t pids[CONCURRENT_LOGINS];
    for (int i = 0; i < CONCURRENT_LOGINS; i++)
        pids[i] = spawn(argv, -1, pipefd[1]);
    close(pipefd[1]);
    /* Every driver writes each line with one write of less than PIPE_BUF. */
    FILE *in = fdopen(pipefd[0], "r");
    char line[512];
    while (fgets(line, sizeof(line), in) != NULL) {
        struct run r;
        if (!parse_done(line, &r))
            continue;
        w->total++;
        w->ok += r.rc == PAM_SUCCESS;
        w->cpu_caller += r.cpu_self;
        w->cpu_helper += r.cpu_children;
        w->rss_caller = r.maxrss_self > w->rss_caller ? r.maxrss_self : w->rss_caller;
        w->rss_helper = r.maxrss_children > w->rss_helper ? r.maxrss_children : w->rss_helper;
    }
    fclose(in);
    for (int i = 0; i < CONCURRENT_LOGINS; i++)
        waitpid(pids[i], NULL, 0); /* not wait(): the emulator is our child too */
    w->wall = now_s() - start;
}

static const char *const concurrency_args[] = {"--interval", "1", "--lifetime", "300",
                                               "--auto-approve-after", "0", "--approve-claims",
                                               "{\"preferred_username\":\"" UPN "\"}", NULL};

static void bench_concurrency(void)
{
    struct session s;
    session_open(&s, concurrency_args, "wait_for_enter = no");
    struct wave w;
    concurrent_logins(&s, &w);
    char fig[64], base[64];
    snprintf(fig, sizeof(fig), "%d/%d succeeded", w.ok, CONCURRENT_LOGINS);
    snprintf(base, sizeof(base), "%.1f s wall (interval 1 s)", w.wall);
    row("4a. 200 concurrent logins, one cache dir", fig, base, "-", "all");
    int n = w.total;
    snprintf(fig, sizeof(fig), "%.1f ms CPU/login", n ? (w.cpu_caller + w.cpu_helper) / n * 1e3 : 0);
    snprintf(base, sizeof(base), "caller %.1f + helper %.1f", n ? w.cpu_caller / n * 1e3 : 0,
             n ? w.cpu_helper / n * 1e3 : 0);
    row("4b. CPU per login (caller + helper)", fig, base, "-", "-");
    double cpu_login = n ? (w.cpu_caller + w.cpu_helper) / n : 0;
    char ratio[32];
    snprintf(fig, sizeof(fig), "%.1f us (row 1)", validation_s * 1e6);
    snprintf(base, sizeof(base), "%.1f ms CPU/login (4b)", cpu_login * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f%%", cpu_login > 0 ? validation_s / cpu_login * 100 : 0);
    row("    of which ID-token validation", fig, base, ratio, "-");
    snprintf(fig, sizeof(fig), "helper %ld KiB", w.rss_helper);
    snprintf(base, sizeof(base), "caller %ld KiB", w.rss_caller);
    row("4c. peak RSS per login process", fig, base, "-", "-");
    snprintf(fig, sizeof(fig), "%d fetch(es) of keys", emu_stat(s.emu, "keys"));
    snprintf(base, sizeof(base), "%d of discovery", emu_stat(s.emu, "discovery"));
    row("4d. signing-key fetches for 200 logins", fig, base, "-", "1");
    session_close(&s);
}

/* Discovery and keys each take a little under http_timeout: the one fetch
 * of a cold cache takes longer than http_timeout, and every other login
 * must wait for it rather than fetch too. 5 s leaves each exchange 1 s of
 * margin while 200 logins share two cores. */
#define SLOW_HTTP_TIMEOUT_S 5
#define SLOW_EXCHANGE_MS (SLOW_HTTP_TIMEOUT_S * 800)

static void bench_slow_authority(void)
{
    struct session s;
    char extra[128];
    snprintf(extra, sizeof(extra), "wait_for_enter = no\nhttp_timeout = %d", SLOW_HTTP_TIMEOUT_S);
    session_open(&s, concurrency_args, extra);
    const char *endpoints[] = {"discovery", "keys"};
    for (int i = 0; i < 2; i++) {
        char fault[128];
        snprintf(fault, sizeof(fault), "{\"endpoint\":\"%s\",\"delay_ms\":%d,\"count\":-1}",
                 endpoints[i], SLOW_EXCHANGE_MS);
        if (emu_control(s.emu, "POST", "/control/fault", fault, NULL) != 200)
            abort();
    }
    struct wave w;
    concurrent_logins(&s, &w);
    int discovery = emu_stat(s.emu, "discovery"), keys = emu_stat(s.emu, "keys");
    char fig[64], base[64], why[96];
    snprintf(fig, sizeof(fig), "%d + %d", discovery, keys);
    snprintf(base, sizeof(base), "%d/%d ok, %.1f s wall", w.ok, CONCURRENT_LOGINS, w.wall);
    row("4e. fetches for 200 cold logins, slow authority", fig, base, "-", "1 + 1");
    snprintf(why, sizeof(why), "%d discovery + %d keys fetches, %d/%d logins succeeded", discovery,
             keys, w.ok, CONCURRENT_LOGINS);
    check(discovery == 1 && keys == 1 && w.ok == CONCURRENT_LOGINS,
          "4e. fetches for 200 cold logins, slow authority", why);
    session_close(&s);
}

/* ---- 5. module footprint in the caller ------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void bench_footprint(void)
{
    char dir[] = "/tmp/pam_aad_bench_fp.XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    /* A complete configuration: the first call reads it, then stops at the
     * unknown user, before any helper or network. pam_unix.so without its
     * failure delay, which would otherwise be the whole figure. */
    char text[512];
    write_file(dir, "pam_aad.conf",
               "tenant = contoso.example\nclient_id = 535fb089-9ff3-47b6-9bfb-4f1264799865\n"
               "domains = contoso.example\n");
    snprintf(text, sizeof(text), "auth required %s helper=%s config=%s/pam_aad.conf\n",
             PAM_AAD_MODULE, PAM_AAD_HELPER, dir);
    write_file(dir, "aad", text);
    snprintf(text, sizeof(text), "auth required %s nodelay\n", PAM_UNIX_MODULE);
    write_file(dir, "unix", text);

    enum { N = 15 };
    const char *services[2] = {"aad", "unix"};
    double secs[2][N];
    double rss[2][N], hwm[2][N];
    int bad = 0;
    for (int i = 0; i < N; i++) {
        for (int m = 0; m < 2; m++) {
            const char *argv[] = {PAM_DRIVER, dir, services[m], NO_SUCH_USER, "footprint", NULL};
            struct child c;
            struct run r;
            memset(&r, 0, sizeof(r));
            child_start(&c, argv, 0);
            int got = read_run(&c, &r) == 0;
            child_end(&c);
            /* Refused, and without starting the helper. */
            bad += !got || r.rc == PAM_SUCCESS || r.cpu_children > 0 || r.maxrss_children > 0;
            secs[m][i] = r.t_end - r.t_start;
            rss[m][i] = (double)(r.rss1 - r.rss0);
            hwm[m][i] = (double)(r.hwm1 - r.hwm0);
        }
    }
    remove_tree(dir);
    double t_aad = median(secs[0], N), t_unix = median(secs[1], N);
    double r_aad = median(rss[0], N), r_unix = median(rss[1], N);
    double h_aad = median(hwm[0], N), h_unix = median(hwm[1], N);
    char fig[64], base[64], ratio[32];
    snprintf(fig, sizeof(fig), "%.2f ms", t_aad * 1e3);
    snprintf(base, sizeof(base), "%.2f ms pam_unix.so", t_unix * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", t_aad / t_unix);
    row("5a. fresh caller: load + 1st authenticate", fig, base, ratio, "<= 1.50");
    check(!bad && t_aad / t_unix <= 1.50, "5a. load + first pam_authenticate", ratio);
    snprintf(fig, sizeof(fig), "+%.0f KiB (HWM +%.0f)", r_aad, h_aad);
    snprintf(base, sizeof(base), "+%.0f KiB (HWM +%.0f) unix", r_unix, h_unix);
    snprintf(ratio, sizeof(ratio), "%.2f", r_unix > 0 ? r_aad / r_unix : 0);
    row("5b. RSS added to the caller", fig, base, ratio, "<= 1.50");
    check(!bad && r_unix > 0 && r_aad / r_unix <= 1.50, "5b. RSS added to the caller", ratio);
    if (bad)
        printf("!! %d footprint samples were unusable\n", bad);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("pam_aad %s benchmark: %ld CPU(s), emulator on loopback; each figure beside a "
           "baseline measured in the same run.\n\n",
           PACKAGE_VERSION, sysconf(_SC_NPROCESSORS_ONLN));
    row("measure", "pam_aad", "baseline", "ratio", "target");
    printf("|%s|%s|%s|%s|%s|\n", "-------------------------------------------------",
           "------------------------", "----------------------------", "-----------",
           "----------------");
    fflush(stdout);
    bench_validation();
    fflush(stdout);
    bench_login_latency();
    fflush(stdout);
    bench_enter_after_sign_in();
    fflush(stdout);
    bench_concurrency();
    fflush(stdout);
    bench_slow_authority();
    fflush(stdout);
    bench_footprint();
    fflush(stdout);
    curl_global_cleanup();
    if (missed)
        printf("\n%s", missed_list);
    return missed ? 1 : 0;
}
