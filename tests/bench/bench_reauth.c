/* bench_reauth.c - `make bench`'s row 10: sudo in a login session that
 * keeps its sign-in (reauth_max_age), from pam_start to the result, beside
 * a bare refresh-token POST from a fresh process (curl_post.c: exec,
 * libcurl, TLS, the POST), interleaved and paired (the median of the
 * per-pair ratios); and the HTTPS requests each such sudo makes (one: the
 * refresh; the signing keys are cached). Then the same through
 * delay_proxy.c at 50 ms RTT, where the helper's fixed costs weigh what
 * they weigh against a real Entra ID.
 *
 * The session is real: a child of the bench logs in through a PAM stack
 * with pam_aad and pam_loginuid (which gives it an audit session), and
 * each timed sudo is a fresh tests/bench/pam_driver process (libpam and
 * libc only, as sudo) forked from inside that session. runtime_dir is on
 * /dev/shm (a tmpfs, as /run is).
 *
 * Exit: 0 targets met, 1 a target missed, 2 the bench cannot run.
 *
 * Where it runs: in `make bench` only, as root. */
#include "config.h"

#include "bench_clock.h"
#include "bench_median.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "emu_client.h"

#define N 25
#define USER "nobody"
#define BASELINE_OID "0c0c0c0c-2222-4333-8444-555566667777"
#define TMPFS_MAGIC 0x01021994L
#define TARGET_RATIO 1.20
#define ONE_WAY_MS "25" /* 50 ms RTT, a host near its Entra ID region */

struct setup {
    int delayed; /* the authority behind delay_proxy: 50 ms RTT */
    struct emu *e;
    pid_t proxy;
    char dir[64], run[64], services[128], config[128];
};

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok && chmod(path, mode) == 0 ? 0 : -1;
}

/* fork+exec argv; its first stdout line starting with "done" into line.
 * The time of the fork in *t_fork. 0, or -1 when it failed. */
static int run_for_done(const char *const argv[], char *line, size_t size, double *t_fork)
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    *t_fork = bench_now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 0);
        dup2(out[1], 1);
        dup2(null_fd, 2);
        close(out[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    int found = 0;
    while (f != NULL && !found && fgets(line, (int)size, f) != NULL)
        found = strncmp(line, "done ", 5) == 0;
    if (f != NULL)
        fclose(f);
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return found && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One sudo in the session: pam_start -> result, or -1 when it failed; the
 * CPU time of the caller and the helper in *cpu. */
static double one_sudo(const struct setup *s, double *cpu)
{
    const char *argv[] = {PAM_DRIVER, s->services, "sudo", USER, "auto", NULL};
    char line[512];
    double t_fork, t_main, t_start, t_enter, t_end, cpu_self, cpu_children;
    long kib[4];
    int rc = -1;
    if (run_for_done(argv, line, sizeof(line), &t_fork) != 0 ||
        sscanf(line, "done %d %lf %lf %lf %lf %ld %ld %ld %ld %lf %lf", &rc, &t_main, &t_start,
               &t_enter, &t_end, &kib[0], &kib[1], &kib[2], &kib[3], &cpu_self,
               &cpu_children) != 11 ||
        rc != PAM_SUCCESS)
        return -1;
    *cpu = cpu_self + cpu_children;
    return t_end - t_start;
}

/* A bare refresh POST of a token of its own, from a fresh process: fork ->
 * the whole answer in, or -1; its CPU time in *cpu. */
static double one_bare_refresh(const struct setup *s, double *cpu)
{
    char *rt = emu_live_refresh_token(s->e, BASELINE_OID);
    char url[256], trust[200], form[4096], line[256];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_authority(s->e),
             emu_env(s->e, "TENANT_ID"));
    snprintf(trust, sizeof(trust), "file:%s", emu_ca_file(s->e));
    snprintf(form, sizeof(form),
             "grant_type=refresh_token&client_id=%s&refresh_token=%s&scope=openid%%20profile%%20"
             "offline_access",
             emu_env(s->e, "CLIENT_ID"), rt ? rt : "none");
    free(rt);
    const char *argv[] = {CURL_POST, url, trust, form, NULL};
    double t_fork, t_main, t_end;
    int status = 0;
    if (run_for_done(argv, line, sizeof(line), &t_fork) != 0 ||
        sscanf(line, "done %lf %lf %d %lf", &t_main, &t_end, &status, cpu) != 4 || status != 200)
        return -1;
    return t_end - t_fork;
}

static int all_requests(struct emu *e)
{
    static const char *const kinds[] = {"discovery", "keys", "devicecode", "token",
                                        "other", "graph", "client_credentials"};
    int sum = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        sum += emu_stat(e, kinds[i]);
    return sum;
}

static int answer_every_prompt(int n, const struct pam_message **msg, struct pam_response **resp,
                               void *appdata)
{
    (void)msg;
    (void)appdata;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++)
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            r[i].resp = strdup("");
    *resp = r;
    return PAM_SUCCESS;
}

static long audit_session(void)
{
    FILE *f = fopen("/proc/self/sessionid", "r");
    long id = -1;
    if (f != NULL) {
        if (fscanf(f, "%ld", &id) != 1)
            id = -1;
        fclose(f);
    }
    return id == 4294967295L ? -1 : id;
}

/* In the child: the login, then the series. The exit status says what
 * happened (0 met, 1 missed, 2 cannot run). */
static int signed_in_session(struct setup *s)
{
    struct pam_conv conv = {answer_every_prompt, NULL};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir("login", USER, &conv, s->services, &pamh);
    if (rc == PAM_SUCCESS)
        rc = pam_authenticate(pamh, 0);
    if (rc == PAM_SUCCESS)
        rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
    if (rc == PAM_SUCCESS)
        rc = pam_open_session(pamh, 0);
    long session = audit_session();
    if (rc != PAM_SUCCESS || session < 0) {
        printf("!! 10. the login failed (%s) or gave no audit session (%ld)\n",
               pamh ? pam_strerror(pamh, rc) : "pam_start", session);
        return 2;
    }
    double sudo[N], bare[N], ratio[N], sudo_cpu[N], bare_cpu[N], warm;
    int bad = 0, requests = 0, refreshes = 0, off = 0;
    one_sudo(s, &warm); /* the page cache, as on a host where sudo ran before */
    for (int i = 0; i < N; i++) {
        int req0 = all_requests(s->e), ref0 = emu_stat(s->e, "grants.refresh_token.requests");
        sudo[i] = one_sudo(s, &sudo_cpu[i]);
        int req = all_requests(s->e) - req0;
        int ref = emu_stat(s->e, "grants.refresh_token.requests") - ref0;
        requests += req;
        refreshes += ref;
        off += req != 1 || ref != 1;
        bare[i] = one_bare_refresh(s, &bare_cpu[i]);
        bad += sudo[i] < 0 || bare[i] < 0;
        ratio[i] = sudo[i] / bare[i];
    }
    pam_close_session(pamh, 0);
    pam_setcred(pamh, PAM_DELETE_CRED);
    pam_end(pamh, PAM_SUCCESS);

    double r = bench_median(ratio, N), sm = bench_median(sudo, N), bm = bench_median(bare, N);
    char fig[96], base[96], rt[16];
    snprintf(fig, sizeof(fig), "%.1f ms (%.1f-%.1f) pam_start -> result", sm * 1e3,
             sudo[0] * 1e3, sudo[N - 1] * 1e3);
    snprintf(base, sizeof(base), "%.1f ms (%.1f-%.1f) fresh bare refresh POST", bm * 1e3,
             bare[0] * 1e3, bare[N - 1] * 1e3);
    snprintf(rt, sizeof(rt), "%.2f", r);
    if (s->delayed) {
        /* What a host far from loopback sees: the same, at 50 ms RTT. */
        printf("| %-48s | %-40s | %-50s | %-5s | %-12s |\n", "10d. the same at 50 ms RTT", fig,
               base, rt, "-");
        return bad || off != 0 ? 1 : 0;
    }
    printf("| %-48s | %-40s | %-50s | %-5s | %-12s |\n",
           "10a. sudo in a signed-in session (refresh)", fig, base, rt, "<= 1.20");
    double cm = bench_median(sudo_cpu, N), bcm = bench_median(bare_cpu, N);
    snprintf(fig, sizeof(fig), "%.1f ms caller + helper", cm * 1e3);
    snprintf(base, sizeof(base), "%.1f ms the bare POST's process", bcm * 1e3);
    snprintf(rt, sizeof(rt), "%.2f", cm / bcm);
    printf("| %-48s | %-40s | %-50s | %-5s | %-12s |\n", "10b. CPU of such a sudo", fig, base, rt,
           "-");
    snprintf(fig, sizeof(fig), "%d requests (%d refreshes) in %d sudos", requests, refreshes, N);
    printf("| %-48s | %-40s | %-50s | %-5s | %-12s |\n", "10c. HTTPS requests per such sudo", fig,
           "-", "-", "1");
    int missed = bad || r > TARGET_RATIO || off != 0;
    if (missed)
        printf("!! row 10 missed its target (ratio %.2f, %d sudos not at one refresh request, "
               "%d failed samples)\n",
               r, off, bad);
    return missed ? 1 : 0;
}

/* delay_proxy (its stdin, for the emulator's port, in *to_proxy); its
 * port, or 0. */
static unsigned start_proxy(struct setup *s, int *to_proxy)
{
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return 0;
    s->proxy = fork();
    if (s->proxy == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(DELAY_PROXY, DELAY_PROXY, ONE_WAY_MS, "600", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *to_proxy = in[1];
    char line[64] = "";
    unsigned port = 0;
    FILE *f = fdopen(out[0], "r");
    if (f == NULL || fgets(line, sizeof(line), f) == NULL || sscanf(line, "port %u", &port) != 1)
        port = 0;
    return port;
}

static int prepare(struct setup *s)
{
    static const char *const emu_args[] = {"--interval", "1", "--lifetime", "600", "--quiet",
                                           NULL};
    snprintf(s->dir, sizeof(s->dir), "/tmp/bench-reauth.XXXXXX");
    snprintf(s->run, sizeof(s->run), "/dev/shm/bench-reauth-run.XXXXXX");
    struct statfs sf;
    if (statfs("/dev/shm", &sf) != 0 || sf.f_type != TMPFS_MAGIC || mkdtemp(s->run) == NULL ||
        mkdtemp(s->dir) == NULL || chmod(s->dir, 0755) != 0) {
        printf("!! 10. no tmpfs at /dev/shm, or no temporary directory\n");
        return -1;
    }
    const char *delayed_args[12];
    char public_authority[64];
    int to_proxy = -1;
    if (s->delayed) {
        unsigned port = start_proxy(s, &to_proxy);
        if (port == 0)
            return -1;
        snprintf(public_authority, sizeof(public_authority), "https://127.0.0.1:%u", port);
        size_t n = 0;
        for (; emu_args[n] != NULL; n++)
            delayed_args[n] = emu_args[n];
        delayed_args[n++] = "--public-authority";
        delayed_args[n++] = public_authority;
        delayed_args[n] = NULL;
    }
    s->e = emu_start(EMULATOR_PATH, s->delayed ? delayed_args : emu_args);
    if (s->e == NULL)
        return -1;
    if (s->delayed) {
        char line[32];
        int len = snprintf(line, sizeof(line), "%s\n", emu_env(s->e, "HTTPS_PORT"));
        if (write(to_proxy, line, (size_t)len) != len)
            return -1;
        close(to_proxy);
    }
    char path[256], text[4096];
    snprintf(s->services, sizeof(s->services), "%s/services", s->dir);
    snprintf(s->config, sizeof(s->config), "%s/pam_aad.conf", s->dir);
    mkdir(s->services, 0755);
    snprintf(path, sizeof(path), "%s/user_map", s->dir);
    snprintf(text, sizeof(text), "%s %s@%s\n", USER, USER, emu_env(s->e, "DOMAIN"));
    if (write_file(path, text, 0644) != 0)
        return -1;
    snprintf(text, sizeof(text),
             "tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\ndomains = %s\n"
             "user_map = %s\ncache_dir = %s/cache\nruntime_dir = %s\nqr = no\ntimeout = 60\n",
             emu_env(s->e, "TENANT_ID"), emu_env(s->e, "CLIENT_ID"), emu_authority(s->e),
             emu_ca_file(s->e), emu_env(s->e, "DOMAIN"), path, s->dir, s->run);
    if (write_file(s->config, text, 0644) != 0)
        return -1;
    char module[512];
    snprintf(module, sizeof(module), "%s helper=%s config=%s", PAM_AAD_MODULE, PAM_AAD_HELPER,
             s->config);
    /* The login: Debian's session order, pam_loginuid before pam_aad. */
    snprintf(path, sizeof(path), "%s/login", s->services);
    snprintf(text, sizeof(text),
             "auth required %s\nsession required pam_loginuid.so\nsession optional %s\n", module,
             module);
    if (write_file(path, text, 0644) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/sudo", s->services);
    snprintf(text, sizeof(text), "auth required %s\n", module);
    if (write_file(path, text, 0644) != 0)
        return -1;
    snprintf(text, sizeof(text),
             "{\"delay_ms\":200,\"count\":1,\"claims\":{\"preferred_username\":\"%s@%s\"}}", USER,
             emu_env(s->e, "DOMAIN"));
    char *rt = emu_sign_in_refresh_token(s->e, BASELINE_OID);
    int ok = rt != NULL &&
             emu_control(s->e, "POST", "/control/auto-approve", text, NULL) == 200;
    free(rt);
    return ok ? 0 : -1;
}

/* One series: its setup, the signed-in session in a child, the rows. */
static int series(int delayed)
{
    struct setup s;
    memset(&s, 0, sizeof(s));
    s.delayed = delayed;
    int rc = 2;
    if (prepare(&s) == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int code = signed_in_session(&s);
            fflush(stdout);
            _exit(code);
        }
        int status = -1;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
    }
    emu_stop(s.e);
    if (s.proxy > 0) {
        kill(s.proxy, SIGTERM);
        waitpid(s.proxy, NULL, 0);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", s.dir, s.run);
    if (s.dir[0] != '\0' && system(cmd) != 0)
        rc = 2;
    return rc;
}

int main(void)
{
    if (geteuid() != 0) {
        printf("!! 10. sudo in a signed-in session: needs root (pam_loginuid)\n");
        return 2;
    }
    int rc = series(0), delayed = series(1);
    return rc == 2 || delayed == 2 ? 2 : rc || delayed;
}
