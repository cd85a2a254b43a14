/* bench.c - `make bench`: what a login costs, each figure beside a
 * baseline measured in the same run on the same machine.
 *
 *  1. ID tokens fully validated per second vs raw RSA-2048 verifications
 *  2. pam_authenticate entry -> code in the conversation, cold and warm
 *     cache, vs one bare libcurl POST of the same request; requests and
 *     TLS handshakes before the code and for a whole login
 *  3. approval (and Enter) -> PAM_SUCCESS vs one poll round trip + validation
 *  4. 200 concurrent logins (processes, one cache dir): CPU, RSS, key fetches
 *  5. dlopen + first call of pam_aad.so vs pam_unix.so, and resident size
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <security/pam_appl.h>

#include "aad_base.h"
#include "aad_jwt.h"
#include "aad_keys.h"
#include "emu_client.h"
#include "token_maker.h"

#define USER "nobody"
#define UPN "nobody@contoso.example"
#define CONCURRENT_LOGINS 200

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

static void row(const char *what, const char *figure, const char *baseline, const char *ratio,
                const char *target)
{
    printf("| %-44s | %-22s | %-26s | %-9s | %-14s |\n", what, figure, baseline, ratio, target);
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

    /* The baseline verifies exactly the bytes the token's signature covers. */
    const char *dot2 = strrchr(token, '.');
    size_t input_len = (size_t)(dot2 - token);
    struct aad_jwt *probe = NULL;
    if (aad_jwt_parse(token, &probe, NULL) != AAD_OK)
        abort();
    const struct aad_key *key = aad_keyset_find(set, "bench-kid");

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
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
                    EVP_DigestVerify(md, probe->signature, probe->signature_len,
                                     (const unsigned char *)token, input_len) != 1)
                    abort();
                EVP_MD_CTX_free(md);
            }
        }
        if (n / (end - start) > best_raw)
            best_raw = n / (end - start);
    }
    validation_s = 1.0 / best_full;
    char fig[64], base[64], ratio[32];
    snprintf(fig, sizeof(fig), "%.0f tokens/s", best_full);
    snprintf(base, sizeof(base), "%.0f RSA verifies/s", best_raw);
    snprintf(ratio, sizeof(ratio), "%.2f", best_full / best_raw);
    row("1. full ID-token validation (warm keys)", fig, base, ratio, ">= 0.90");
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
    double t_code, t_enter;
    int requests_at_code, connections_at_code;
    int approve;
    int record_stats; /* ask the emulator for its counters when the code shows */
};

static int emu_requests(struct emu *e)
{
    return emu_stat(e, "discovery") + emu_stat(e, "keys") + emu_stat(e, "devicecode") +
           emu_stat(e, "token") + emu_stat(e, "other");
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata)
{
    struct session *s = appdata;
    if (s->t_code == 0) {
        s->t_code = now_s();
    }
    if (s->record_stats && s->requests_at_code < 0) {
        s->requests_at_code = emu_requests(s->emu);
        s->connections_at_code = emu_stat(s->emu, "connections");
    }
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    for (int i = 0; i < n; i++) {
        const char *p = strstr(msg[i]->msg, "Code ");
        if (p != NULL && s->approve && msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            char code[32], body[256];
            sscanf(p + 5, "%31[A-Z0-9-]", code);
            snprintf(body, sizeof(body),
                     "{\"user_code\":\"%s\",\"claims\":{\"preferred_username\":\"" UPN "\"}}", code);
            emu_control(s->emu, "POST", "/control/approve", body, NULL);
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

static void session_close(struct session *s)
{
    emu_stop(s->emu);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", s->dir);
}

static int pam_login(struct session *s, double *t_start)
{
    struct pam_conv conv = {conversation, s};
    pam_handle_t *pamh = NULL;
    s->t_code = 0;
    s->requests_at_code = -1;
    if (pam_start_confdir("bench", USER, &conv, s->services, &pamh) != PAM_SUCCESS)
        return -1;
    *t_start = now_s();
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

/* ---- 2 and 3. time to code, approval to success --------------------------- */

static void bench_login_latency(void)
{
    static const char *const args[] = {"--interval", "5", "--lifetime", "300", NULL};
    struct session s;
    session_open(&s, args, "wait_for_enter = yes");
    s.approve = 1;
    s.record_stats = 1;
    enum { N = 15 };
    double cold[N], warm[N], bare[N], approval[N], start;
    int cold_req = 0, cold_conn = 0, warm_req = 0, warm_conn = 0, login_conn = 0, failures = 0;
    char form[256];
    snprintf(form, sizeof(form), "client_id=%s&scope=openid%%20profile", emu_env(s.emu, "CLIENT_ID"));

    for (int i = 0; i < N; i++) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s.cache);
        if (system(cmd) != 0)
            abort();
        emu_control(s.emu, "POST", "/control/stats/reset", NULL, NULL);
        failures += pam_login(&s, &start) != PAM_SUCCESS;
        cold[i] = s.t_code - start;
        cold_req = s.requests_at_code;
        cold_conn = s.connections_at_code;

        emu_control(s.emu, "POST", "/control/stats/reset", NULL, NULL);
        failures += pam_login(&s, &start) != PAM_SUCCESS;
        double done = now_s();
        warm[i] = s.t_code - start;
        approval[i] = done - s.t_enter;
        warm_req = s.requests_at_code;
        warm_conn = s.connections_at_code;
        login_conn = emu_stat(s.emu, "connections");

        char body[8192];
        bare[i] = bare_post(&s, "/oauth2/v2.0/devicecode", form, NULL, body);
    }
    double poll_rtt[N];
    CURL *kept = NULL;
    for (int i = 0; i < N; i++)
        poll_rtt[i] = bare_successful_poll(&s, &kept);
    curl_easy_cleanup(kept);

    double mb = median(bare, N), mc = median(cold, N), mw = median(warm, N);
    double ma = median(approval, N), mp = median(poll_rtt, N);
    char fig[64], base[64], ratio[32];
    snprintf(fig, sizeof(fig), "%.2f ms", mc * 1e3);
    snprintf(base, sizeof(base), "%.2f ms bare POST", mb * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", mc / mb);
    row("2a. time to code, cold cache", fig, base, ratio, "<= 1.20");
    snprintf(fig, sizeof(fig), "%.2f ms", mw * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", mw / mb);
    row("2b. time to code, warm cache", fig, base, ratio, "<= 1.20");
    snprintf(fig, sizeof(fig), "%d req, %d TLS (cold)", cold_req, cold_conn);
    snprintf(base, sizeof(base), "%d req, %d TLS (warm)", warm_req, warm_conn);
    row("2c. HTTPS requests / handshakes before code", fig, base, "-", "1 and 1");
    snprintf(fig, sizeof(fig), "%d TLS handshake(s)", login_conn);
    row("2d. whole warm login", fig, "-", "-", "1");
    snprintf(fig, sizeof(fig), "%.2f ms", ma * 1e3);
    snprintf(base, sizeof(base), "%.2f ms poll + validation", (mp + validation_s) * 1e3);
    snprintf(ratio, sizeof(ratio), "%.2f", ma / (mp + validation_s));
    row("3. approval + Enter -> PAM_SUCCESS", fig, base, ratio, "~1, no interval");
    if (failures)
        printf("!! %d logins failed\n", failures);
    session_close(&s);
}

/* ---- 4. concurrent logins ------------------------------------------------- */

static void bench_concurrency(void)
{
    static const char *const args[] = {"--interval", "1", "--lifetime", "300",
                                       "--auto-approve-after", "0", "--approve-claims",
                                       "{\"preferred_username\":\"" UPN "\"}", NULL};
    struct session s;
    session_open(&s, args, "wait_for_enter = no");
    int pipefd[2];
    if (pipe(pipefd) != 0)
        abort();
    double start = now_s();
    pid_t pids[CONCURRENT_LOGINS];
    for (int i = 0; i < CONCURRENT_LOGINS; i++) {
        pid_t pid = pids[i] = fork();
        if (pid == 0) {
            close(pipefd[0]);
            double t;
            int rc = pam_login(&s, &t);
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                         ru.ru_stime.tv_usec / 1e6;
            char line[128];
            int n = snprintf(line, sizeof(line), "%d %.6f %ld\n", rc, cpu, ru.ru_maxrss);
            if (write(pipefd[1], line, (size_t)n) != n)
                _exit(2);
            _exit(0);
        }
    }
    close(pipefd[1]);
    FILE *in = fdopen(pipefd[0], "r");
    int ok = 0, total = 0, rc;
    double cpu, cpu_sum = 0;
    long rss, rss_max = 0;
    while (fscanf(in, "%d %lf %ld", &rc, &cpu, &rss) == 3) {
        total++;
        ok += rc == PAM_SUCCESS;
        cpu_sum += cpu;
        rss_max = rss > rss_max ? rss : rss_max;
    }
    fclose(in);
    for (int i = 0; i < CONCURRENT_LOGINS; i++)
        waitpid(pids[i], NULL, 0); /* not wait(): the emulator is our child too */
    double wall = now_s() - start;
    char fig[64], base[64];
    snprintf(fig, sizeof(fig), "%d/%d succeeded", ok, CONCURRENT_LOGINS);
    snprintf(base, sizeof(base), "%.1f s wall (interval 1 s)", wall);
    row("4a. 200 concurrent logins, one cache dir", fig, base, "-", "all");
    snprintf(fig, sizeof(fig), "%.1f ms CPU/login", total ? cpu_sum / total * 1e3 : 0);
    snprintf(base, sizeof(base), "peak RSS %ld KiB/process", rss_max);
    row("4b. cost per login process", fig, base, "-", "-");
    snprintf(fig, sizeof(fig), "%d fetch(es) of keys", emu_stat(s.emu, "keys"));
    snprintf(base, sizeof(base), "%d of discovery", emu_stat(s.emu, "discovery"));
    row("4c. signing-key fetches for 200 logins", fig, base, "-", "1");
    session_close(&s);
}

/* ---- 5. module footprint --------------------------------------------------- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static int empty_conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                              void *appdata)
{
    (void)msg;
    (void)appdata;
    *resp = calloc((size_t)n, sizeof(**resp));
    for (int i = 0; i < n; i++)
        (*resp)[i].resp = strdup("");
    return PAM_SUCCESS;
}

static void bench_footprint(void)
{
    /* A complete config: the first call loads it, then stops at the unknown user. */
    char config[] = "/tmp/pam_aad_bench_conf.XXXXXX";
    int fd = mkstemp(config);
    const char text[] = "tenant = contoso.example\nclient_id = 535fb089-9ff3-47b6-9bfb-4f1264799865\n"
                        "domains = contoso.example\n";
    if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
        abort();
    close(fd);
    char config_arg[64];
    snprintf(config_arg, sizeof(config_arg), "config=%s", config);
    /* Each measurement in a fresh child, so nothing is loaded yet. */
    const char *mods[2] = {PAM_AAD_MODULE, PAM_UNIX_MODULE};
    double secs[2];
    long kib[2];
    for (int m = 0; m < 2; m++) {
        int pipefd[2];
        if (pipe(pipefd) != 0)
            abort();
        if (fork() == 0) {
            long before = rss_kib();
            double start = now_s();
            void *h = dlopen(mods[m], RTLD_NOW | RTLD_LOCAL);
            int (*auth)(pam_handle_t *, int, int, const char **) =
                h ? (int (*)(pam_handle_t *, int, int, const char **))dlsym(h, "pam_sm_authenticate") : NULL;
            /* First call: a PAM handle for a user who does not exist, so the
             * module does its whole setup and stops before the network. */
            struct pam_conv conv = {empty_conversation, NULL};
            pam_handle_t *pamh = NULL;
            pam_start("bench", "no-such-user-bench", &conv, &pamh);
            const char *argv[] = {config_arg};
            if (auth)
                auth(pamh, PAM_SILENT, m == 0 ? 1 : 0, argv);
            double elapsed = now_s() - start;
            long after = rss_kib();
            char line[64];
            int n = snprintf(line, sizeof(line), "%.6f %ld\n", elapsed, after - before);
            if (write(pipefd[1], line, (size_t)n) != n)
                _exit(2);
            _exit(0);
        }
        close(pipefd[1]);
        FILE *in = fdopen(pipefd[0], "r");
        if (fscanf(in, "%lf %ld", &secs[m], &kib[m]) != 2)
            abort();
        fclose(in);
        while (wait(NULL) > 0)
            ; /* only the measuring child exists here */
    }
    unlink(config);
    char fig[64], base[64], ratio[32];
    snprintf(fig, sizeof(fig), "%.2f ms", secs[0] * 1e3);
    snprintf(base, sizeof(base), "%.2f ms pam_unix.so", secs[1] * 1e3);
    snprintf(ratio, sizeof(ratio), "%.1f", secs[0] / secs[1]);
    row("5a. dlopen + first call", fig, base, ratio, "-");
    snprintf(fig, sizeof(fig), "+%ld KiB RSS", kib[0]);
    snprintf(base, sizeof(base), "+%ld KiB pam_unix.so", kib[1]);
    row("5b. resident size after first call", fig, base, "-", "-");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("pam_aad %s benchmark: %ld CPU(s), emulator on loopback; each figure beside a "
           "baseline measured in the same run.\n\n",
           PACKAGE_VERSION, sysconf(_SC_NPROCESSORS_ONLN));
    row("measure", "pam_aad", "baseline", "ratio", "target");
    printf("|%s|%s|%s|%s|%s|\n", "----------------------------------------------",
           "------------------------", "----------------------------", "-----------",
           "----------------");
    fflush(stdout);
    bench_validation();
    fflush(stdout);
    bench_login_latency();
    fflush(stdout);
    bench_concurrency();
    fflush(stdout);
    bench_footprint();
    curl_global_cleanup();
    return 0;
}
