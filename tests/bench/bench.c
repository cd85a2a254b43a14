/* bench.c - `make bench`: what a login costs, each figure beside a
 * baseline measured in the same run on the same machine.
 *
 * Every figure comes from fresh processes driven through libpam, as sshd
 * runs a login: tests/bench/pam_driver (libpam and libc only) loads
 * pam_aad.so, which executes pam_aad_helper; the baselines are fresh
 * processes too (tests/bench/curl_post, libcurl only; pam_post, the same
 * POST after a PAM caller's start; pam_unix.so and pam_permit.so in the
 * same driver; the same sshd). Each figure is the median of several
 * samples, with their minimum and maximum, and each pam_aad series is
 * taken interleaved with its baseline's (the ratio of paired series is the
 * median of the per-pair ratios: see paired()). The emulator's interval is
 * Entra's own, 5 s, wherever a login polls after Enter.
 *
 * The bench runs in private mount and network namespaces (bench_ns.h):
 * pam_aad has no ca_file and trusts the system store at its real path, to
 * which the emulator's CA is added as update-ca-certificates would add it.
 *
 *  1. the fork of a fresh caller -> the code in its conversation, cold and
 *     warm cache, vs a fresh process that starts as a PAM caller too
 *     (libpam, pam_permit) and then makes a bare libcurl POST of the same
 *     request with anchors from the same hashed directory; a bare POST
 *     with the system bundle instead; the same with a one-certificate
 *     ca_file; requests and TLS handshakes before the code
 *  2. approval + Enter -> result, cold and warm cache: Enter 1.5 s after
 *     the approval, or at once (a cold login then still fetches its keys);
 *     Enter while still signing in ("not yet"), then again after the
 *     interval, or within it (the interval rule's wait, then the result)
 *  3. CPU and peak memory of a whole login (caller + helper) vs pam_post
 *     and the bare POST
 *  4. module load + first pam_authenticate, and the memory added to the
 *     caller, vs pam_unix.so; the caller's CPU for a whole login vs
 *     pam_unix checking a SHA-512 password
 *  5. the same at 50 ms RTT through a delaying proxy (delay_proxy.c, TCP's
 *     handshake delayed too): round trips before the code and after Enter
 *  6. 200 concurrent logins on one cache dir, fast and slow authority, and
 *     one slower than http_timeout
 *  7. a whole real SSH login, code to shell with the poll inside, vs
 *     pam_unix with a SHA-512-crypt password and with one hashed as this
 *     host's passwd(1) hashes it (ssh_login.sh)
 *  8. `aad-login token` for scripts, in private keyrings: a fresh run
 *     handing out a kept token vs `keyctl pipe` of a key of the same size,
 *     and a fresh run making one silent refresh vs a bare libcurl POST of
 *     the same refresh (curl_post.c)
 *
 * The exit status is 1 when a target is missed (each miss is listed after
 * the table), 2 when the bench cannot run; every row is printed anyway.
 */
#include "config.h"

#include "bench_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sched.h>

#include <curl/curl.h>
#include <jansson.h>
#include <keyutils.h>
#include <security/pam_appl.h>

#include "bench_ns.h"
#include "emu_client.h"

#define USER "nobody"
#define UPN "nobody@contoso.example"
#define CONCURRENT_LOGINS 200
#define NO_SUCH_USER "no-such-user-bench"
#define ONE_WAY_MS 25 /* 50 ms RTT */

/* Samples per series. Enter rows and their floors: 9, where 5 let a row's
 * median move by 0.2-0.5 of the target between runs of one build. */
enum { N_CODE = 25, N_ENTER = 9, N_FLOOR = 9, N_RTT = 7, N_FOOT = 15, N_SSH = 15 };


static void sleep_until_s(double when)
{
    double left;
    while ((left = when - bench_now_s()) > 0) {
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ---- figures ------------------------------------------------------------- */

struct spread {
    double med, min, max;
    int n;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static struct spread spread_of(const double *v, int n)
{
    struct spread s = {0, 0, 0, n};
    if (n <= 0)
        return s;
    double *sorted = malloc((size_t)n * sizeof(*sorted));
    memcpy(sorted, v, (size_t)n * sizeof(*sorted));
    qsort(sorted, (size_t)n, sizeof(*sorted), cmp_double);
    s.med = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    s.min = sorted[0];
    s.max = sorted[n - 1];
    free(sorted);
    return s;
}

/* "9.41 ms (8.02-12.30)" from seconds, scaled by unit (1e3: ms). */
static const char *fmt(char *buf, size_t size, struct spread s, double unit, const char *what)
{
    snprintf(buf, size, "%.2f %s (%.2f-%.2f)", s.med * unit, what, s.min * unit, s.max * unit);
    return buf;
}

static char missed_list[2048];
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

static void row(const char *what, const char *figure, const char *baseline, const char *ratio,
                const char *target)
{
    printf("| %-48s | %-40s | %-50s | %-5s | %-18s |\n", what, figure, baseline, ratio, target);
    fflush(stdout);
}

static const char *ratio_of(char *buf, size_t size, double a, double b)
{
    snprintf(buf, size, "%.2f", b > 0 ? a / b : 0);
    return buf;
}

/* The ratio of two series taken in pairs (a[i] next to b[i]): the median
 * of a[i] / b[i]. This machine's speed drifts between two levels (about 10
 * and 14 ms for the same bare POST, for seconds at a time); a pair sees
 * one level, while the medians of two series can each fall on either. */
static double paired(const double *a, const double *b, int n)
{
    double r[64];
    int m = 0;
    for (int i = 0; i < n && m < 64; i++)
        if (b[i] > 0)
            r[m++] = a[i] / b[i];
    return spread_of(r, m).med;
}

/* ---- processes ------------------------------------------------------------ */

/* A program started with fork + exec: its stdout is ours to read, its
 * stdin ours to write (or /dev/null). t_fork is taken just before fork. */
struct child {
    pid_t pid;
    FILE *out;
    int in;
    double t_fork;
    /* Set when reaped: its CPU from exec to exit, with every process it
     * reaped, as wait4 reports it (the same account for a login and for
     * its baselines: each one's exit and clean-up count). */
    double cpu;
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
    c->t_fork = bench_now_s();
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
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    while (wait4(c->pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    c->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    return status;
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

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        abort();
    close(fd);
}

/* ---- a session: an emulator, PAM services, configurations ---------------- */

struct session {
    struct emu *emu;
    struct child proxy; /* pid 0: none */
    char dir[128], services[160], cache[160], run[160], config[256];
};

/* The delaying proxy, listening before the emulator starts (which names it
 * as its authority); told the emulator's port once that is known. */
static unsigned proxy_start(struct child *p)
{
    char delay[16], line[64];
    unsigned port = 0;
    snprintf(delay, sizeof(delay), "%d", ONE_WAY_MS);
    const char *argv[] = {DELAY_PROXY, delay, "900", NULL};
    child_start(p, argv, 1);
    if (!child_line(p, line, sizeof(line)) || sscanf(line, "port %u", &port) != 1)
        abort();
    return port;
}

/* Writes service NAME and its configuration (CA_FILE: "" for the system
 * store, the production default). */
static void session_service(struct session *s, const char *name, int with_ca_file, const char *extra)
{
    char path[256], config[256], text[2048], user_map[256];
    snprintf(config, sizeof(config), "%s/%s.conf", s->dir, name);
    /* USER is nobody: above UID_MAX, it is reached through a user_map line. */
    snprintf(user_map, sizeof(user_map), "%s/user_map", s->dir);
    snprintf(text, sizeof(text), "%s %s@%s\n", USER, USER, emu_env(s->emu, "DOMAIN"));
    write_file(user_map, text);
    snprintf(path, sizeof(path), "%s/%s", s->services, name);
    snprintf(text, sizeof(text), "auth required %s helper=%s config=%s\n", PAM_AAD_MODULE,
             PAM_AAD_HELPER, config);
    write_file(path, text);
    snprintf(text, sizeof(text),
             "tenant = %s\nclient_id = %s\nauthority = %s\ndomains = %s\ncache_dir = %s\n"
             "user_map = %s\nruntime_dir = %s\nmax_logins = 1024\n"
             "qr = no\ntimeout = 60\n%s%s%s\n%s\n",
             emu_env(s->emu, "TENANT_ID"), emu_env(s->emu, "CLIENT_ID"), emu_authority(s->emu),
             emu_env(s->emu, "DOMAIN"), s->cache, user_map, s->run,
             with_ca_file ? "ca_file = " : "",
             with_ca_file ? emu_ca_file(s->emu) : "", with_ca_file ? "\n" : "", extra);
    write_file(config, text);
    if (strcmp(name, "bench") == 0)
        snprintf(s->config, sizeof(s->config), "%s", config);
}

/* Service "bench": the system trust store; "bench-ca-file": a one-certificate
 * ca_file. With delayed, the authority is the proxy (50 ms RTT). */
static void session_open(struct session *s, const char *const emu_args[], const char *extra,
                         int delayed)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/pam_aad_bench.XXXXXX");
    /* The helper, once it has given root up, reaches its cache inside. */
    if (mkdtemp(s->dir) == NULL || chmod(s->dir, 0755) != 0)
        abort();
    /* runtime_dir on a tmpfs, as the default /run/pam_aad is (the module
     * keeps a session's sign-in only in memory, and its slot locks and
     * pending records are written there on every login). */
    snprintf(s->run, sizeof(s->run), "%s/run", s->dir);
    if (mkdir(s->run, 0700) != 0 ||
        mount("tmpfs", s->run, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=16m") != 0)
        abort();
    const char *args[24];
    char authority[64];
    int n = 0;
    for (; n < 20 && emu_args[n] != NULL; n++)
        args[n] = emu_args[n];
    if (delayed) {
        snprintf(authority, sizeof(authority), "https://127.0.0.1:%u", proxy_start(&s->proxy));
        args[n++] = "--public-authority";
        args[n++] = authority;
    }
    args[n] = NULL;
    s->emu = emu_start(EMULATOR_PATH, args);
    if (s->emu == NULL)
        abort();
    if (delayed) {
        char port[16];
        int len = snprintf(port, sizeof(port), "%s\n", emu_env(s->emu, "HTTPS_PORT"));
        if (write(s->proxy.in, port, (size_t)len) != len)
            abort();
    }
    if (bench_ns_trust(emu_ca_file(s->emu)) != 0) {
        fprintf(stderr, "bench: cannot add the emulator's CA to the system store copy\n");
        abort();
    }
    snprintf(s->services, sizeof(s->services), "%s/services", s->dir);
    snprintf(s->cache, sizeof(s->cache), "%s/cache", s->dir);
    mkdir(s->services, 0700);
    session_service(s, "bench", 0, extra);
    session_service(s, "bench-ca-file", 1, extra);
    char permit[256];
    snprintf(permit, sizeof(permit), "%s/permit", s->services);
    write_file(permit, "auth required pam_permit.so\n");
}

static void session_close(struct session *s)
{
    emu_stop(s->emu);
    if (s->proxy.pid > 0) {
        kill(s->proxy.pid, SIGTERM);
        child_end(&s->proxy);
    }
    umount2(s->run, MNT_DETACH);
    remove_tree(s->dir);
}

/* The emulator's counters (GET /control/stats), or NULL. */
static json_t *emu_stats(struct emu *e)
{
    char *resp = NULL;
    json_t *root = NULL;
    if (emu_control(e, "GET", "/control/stats", NULL, &resp) == 200)
        root = json_loads(resp, 0, NULL);
    free(resp);
    return root;
}

/* Every request the counters hold (all endpoints); -1 without them. */
static int requests_in(const json_t *stats)
{
    if (stats == NULL)
        return -1;
    int total = 0;
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(stats, "requests"), name, v) {
        total += (int)json_integer_value(v);
    }
    return total;
}

/* Every request the emulator counted (all endpoints), in one query. */
static int emu_requests(struct emu *e)
{
    json_t *stats = emu_stats(e);
    int total = requests_in(stats);
    json_decref(stats);
    return total;
}

/* When the emulator answered the last device-code poll (bench_now_s's
 * clock), or -1. */
static double poll_answered_in(const json_t *stats)
{
    json_t *at = json_object_get(stats, "poll_answered_at");
    return json_is_number(at) && json_number_value(at) > 0 ? json_number_value(at) : -1;
}

static void approve_code(struct session *s, const char *code)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"user_code\":\"%s\",\"claims\":{\"preferred_username\":\"" UPN "\"}}", code);
    if (emu_control(s->emu, "POST", "/control/approve", body, NULL) != 200)
        fprintf(stderr, "bench: the emulator did not approve %s\n", code);
}

/* ---- pam_driver runs --------------------------------------------------------- */

/* What pam_driver printed: see tests/bench/pam_driver.c. */
struct run {
    int rc;
    double t_code, t_main, t_start, t_enter, t_end;
    long rss0, hwm0, rss1, hwm1, maxrss_self, maxrss_children;
    double cpu_self, cpu_children;
    double cpu_whole; /* the caller's process and all it reaped, exec to exit (child.cpu) */
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

/* The fork of a fresh caller (its exec, libpam, pam_start loading the
 * module) -> the code in its conversation (the driver ends the login
 * there), as a person counts: everything from the caller's start is in it.
 * Its own start up to pam_start goes to *own_start (row 1f). -1 when no
 * code came. */
static double fresh_time_to_code(struct session *s, const char *service, double *own_start)
{
    const char *argv[] = {PAM_DRIVER, s->services, service, USER, "code", NULL};
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
    if (own_start != NULL)
        *own_start = r.t_start - c.t_fork;
    return r.t_code - c.t_fork;
}

struct bare {
    double secs, cpu;
    long maxrss;
};

/* Fork/exec of a bare libcurl POST of the same device-code request -> its
 * whole answer; trust is "dir:PATH" or "file:PATH" (curl_post.c). With
 * caller_start, the process starts as a PAM caller first (pam_post: libpam
 * loaded, pam_start and pam_permit's pam_authenticate), so that it starts
 * as pam_driver does and the ratio shows what pam_aad adds. */
static int fresh_post(struct session *s, int caller_start, const char *trust, struct bare *b)
{
    char url[256], form[256];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/devicecode", emu_authority(s->emu),
             emu_env(s->emu, "TENANT_ID"));
    snprintf(form, sizeof(form), "client_id=%s&scope=openid%%20profile", emu_env(s->emu, "CLIENT_ID"));
    const char *bare_argv[] = {CURL_POST, url, trust, form, NULL};
    const char *caller_argv[] = {PAM_POST, s->services, "permit", url, trust, form, NULL};
    struct child c;
    child_start(&c, caller_start ? caller_argv : bare_argv, 0);
    char line[256];
    double t_main = 0, t_end = 0;
    long status = 0;
    /* Its printed CPU is skipped: the CPU counted is wait4's (below). */
    int got = child_line(&c, line, sizeof(line)) &&
              sscanf(line, "done %lf %lf %ld %*f %ld", &t_main, &t_end, &status, &b->maxrss) == 4;
    int ws = child_end(&c);
    b->cpu = c.cpu; /* as the login's: exec to exit, not the figure it printed before its exit */
    if (!got || status != 200 || ws != 0) {
        fprintf(stderr, "bench: %s %s failed (HTTP %ld)\n", caller_start ? "pam_post" : "curl_post",
                trust, status);
        return -1;
    }
    b->secs = t_end - c.t_fork;
    return 0;
}

static int fresh_bare_post(struct session *s, const char *trust, struct bare *b)
{
    return fresh_post(s, 0, trust, b);
}

/* A fresh caller in pam_driver's MODE (with a stdin of ours), up to its
 * code in r. 0 when the code came. */
static int login_to_code(struct session *s, const char *mode, struct child *c, struct run *r)
{
    const char *argv[] = {PAM_DRIVER, s->services, "bench", USER, mode, NULL};
    char line[512];
    memset(r, 0, sizeof(*r));
    r->rc = -1;
    child_start(c, argv, 1);
    return child_line(c, line, sizeof(line)) &&
                   sscanf(line, "code %lf %31s", &r->t_code, r->code) == 2
               ? 0
               : -1;
}

/* Requests seen by the emulator during one login, counted from two points. */
struct login_requests {
    int after_code;  /* from the code shown to the end (-1: unknown) */
    int after_enter; /* from just before the (last) Enter to the end */
};

/* A whole login in a fresh caller: the code is approved as soon as it
 * shows, and Enter comes enter_after_s after the code (0: at once, as soon
 * as the approval is in). */
static int fresh_login_enter(struct session *s, double enter_after_s, struct run *r,
                             struct login_requests *req)
{
    struct child c;
    req->after_code = req->after_enter = -1;
    int at_start = emu_requests(s->emu);
    if (login_to_code(s, "enter", &c, r) == 0) {
        approve_code(s, r->code);
        sleep_until_s(r->t_code + enter_after_s);
        int before = emu_requests(s->emu);
        if (write(c.in, "\n", 1) == 1 && read_run(&c, r) == 0) {
            int at_end = emu_requests(s->emu);
            req->after_enter = at_end - before;
            req->after_code = at_end - at_start - 1; /* the code's own request */
        }
    }
    child_end(&c);
    r->cpu_whole = c.cpu;
    return r->rc;
}

/* The user presses Enter while still signing in, enter_after_s after the
 * code; the module says "not signed in yet" (*t_not_yet: from that Enter
 * to this prompt, with *req_not_yet requests meanwhile; *t_answered: when
 * the emulator answered the poll that Enter made); the user finishes
 * (approved then) and presses Enter again then_after_s later: r and
 * *req_after as for fresh_login_enter. */
static int fresh_login_again(struct session *s, double enter_after_s, double then_after_s,
                             double *t_not_yet, double *t_answered, int *req_not_yet,
                             struct run *r, int *req_after)
{
    struct child c;
    char line[512];
    *req_not_yet = *req_after = -1;
    *t_not_yet = *t_answered = -1;
    double t_again = 0, t_first_enter = 0;
    if (login_to_code(s, "again", &c, r) == 0) {
        sleep_until_s(r->t_code + enter_after_s);
        int before = emu_requests(s->emu);
        if (write(c.in, "\n", 1) == 1 && child_line(&c, line, sizeof(line)) &&
            sscanf(line, "again %lf %lf", &t_again, &t_first_enter) == 2) {
            json_t *stats = emu_stats(s->emu); /* the requests and the answer's time at once */
            *req_not_yet = requests_in(stats) - before;
            *t_answered = poll_answered_in(stats);
            json_decref(stats);
            *t_not_yet = t_again - t_first_enter;
            approve_code(s, r->code);
            sleep_until_s(t_again + then_after_s);
            before = emu_requests(s->emu);
            if (write(c.in, "\n", 1) == 1 && read_run(&c, r) == 0)
                *req_after = emu_requests(s->emu) - before;
        }
    }
    child_end(&c);
    return r->rc;
}

/* Requests and TLS handshakes the emulator has seen when the device-code
 * request is being answered, in a fresh caller: the emulator holds that
 * answer back (300 ms) and the counters are read meanwhile (the helper
 * fetches keys right after the code, which would race with a later read). */
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
    double give_up = bench_now_s() + 5;
    while (emu_stat(s->emu, "devicecode") < 1 && bench_now_s() < give_up)
        sleep_until_s(bench_now_s() + 0.002);
    *requests = emu_requests(s->emu);
    *connections = emu_stat(s->emu, "connections");
    read_run(&c, &r);
    child_end(&c);
    if (r.t_code == 0)
        *requests = *connections = -1;
}

/* ---- baseline for a poll: one bare successful poll on a warm connection --- */

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

/* One exchange on c's connection: a POST of form, or a GET (form NULL),
 * of the tenant's path. Its time. */
static double bare_exchange_on(CURL *c, struct session *s, const char *path, const char *form,
                               char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/%s%s", emu_authority(s->emu), emu_env(s->emu, "TENANT_ID"), path);
    body[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, emu_ca_file(s->emu));
    if (form != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    else
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    double start = bench_now_s();
    if (curl_easy_perform(c) != CURLE_OK)
        abort();
    return bench_now_s() - start;
}

struct bare_polls {
    struct spread poll; /* one successful poll, right after the approval */
    struct spread idle; /* the same after IDLE_S with nothing on the connection */
    struct spread idle_again; /* after AGAIN_S, the second Enter's pause (2f, 5e) */
    struct spread cold; /* discovery, keys, then a poll: a cold login's Enter at once */
};

/* How long the user takes from the approval to Enter in rows 2a, 2b, 2e-2g:
 * the machine, the emulator and the connection sit idle that long. */
#define IDLE_S 1.5
/* From the "not yet" prompt to the second Enter in rows 2f and 5e. */
#define AGAIN_S 5.5

/* A device code of the emulator's, approved: its device_code escaped into
 * the token request's form. */
static void approved_poll_form(CURL *c, struct session *s, char *form, size_t size)
{
    char body[8192], device_code[2048], user_code[32], approve[128];
    snprintf(form, size, "client_id=%s&scope=openid%%20profile", emu_env(s->emu, "CLIENT_ID"));
    bare_exchange_on(c, s, "/oauth2/v2.0/devicecode", form, body);
    json_t *dc = json_loads(body, 0, NULL);
    snprintf(device_code, sizeof(device_code), "%s",
             json_string_value(json_object_get(dc, "device_code")));
    snprintf(user_code, sizeof(user_code), "%s", json_string_value(json_object_get(dc, "user_code")));
    json_decref(dc);
    snprintf(approve, sizeof(approve), "{\"user_code\":\"%s\"}", user_code);
    emu_control(s->emu, "POST", "/control/approve", approve, NULL);
    char *escaped = curl_easy_escape(c, device_code, 0);
    snprintf(form, size,
             "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Adevice_code"
             "&client_id=%s&device_code=%s",
             emu_env(s->emu, "CLIENT_ID"), escaped);
    curl_free(escaped);
}

static double bare_poll_on(CURL *c, struct session *s, const char *form)
{
    char body[8192];
    double t = bare_exchange_on(c, s, "/oauth2/v2.0/token", form, body);
    if (strstr(body, "id_token") == NULL) {
        fprintf(stderr, "bench: the bare poll failed: %.300s\n", body);
        abort();
    }
    return t;
}

/* The floors for Enter -> result, bare libcurl on a warm connection (the
 * helper's is warm too): the successful poll itself (the service signs a
 * token for it), right after the approval and after IDLE_S of nothing, as
 * when the user presses Enter that long after; and for a cold login whose
 * Enter comes before its keys, the discovery document, the keys and that
 * poll, one after the other on the connection, as the helper must. Median
 * of N_FLOOR. */
static struct bare_polls bare_successful_poll(struct session *s)
{
    double t[N_FLOOR], idle[N_FLOOR], cold[N_FLOOR], again[N_FLOOR];
    CURL *c = curl_easy_init();
    for (int i = 0; i < N_FLOOR; i++) {
        char form[4096], body[8192];
        approved_poll_form(c, s, form, sizeof(form));
        t[i] = bare_poll_on(c, s, form);
        approved_poll_form(c, s, form, sizeof(form));
        double documents = bare_exchange_on(c, s, "/v2.0/.well-known/openid-configuration", NULL, body) +
                           bare_exchange_on(c, s, "/discovery/v2.0/keys", NULL, body);
        cold[i] = documents + bare_poll_on(c, s, form);
        approved_poll_form(c, s, form, sizeof(form));
        sleep_until_s(bench_now_s() + IDLE_S);
        idle[i] = bare_poll_on(c, s, form);
        approved_poll_form(c, s, form, sizeof(form));
        sleep_until_s(bench_now_s() + AGAIN_S);
        again[i] = bare_poll_on(c, s, form);
    }
    curl_easy_cleanup(c);
    struct bare_polls b = {spread_of(t, N_FLOOR), spread_of(idle, N_FLOOR),
                           spread_of(again, N_FLOOR), spread_of(cold, N_FLOOR)};
    return b;
}

/* ---- 1. time to code ---------------------------------------------------------- */

static const char dir_trust[] = "dir:" AAD_SYSTEM_CA_DIR;
static const char bundle_trust[] = "file:" BENCH_SYSTEM_BUNDLE;

/* The bare POST with the hashed directory, from row 1: printed beside
 * row 3 (whose own baseline, pam_post, runs next to each login). */
static double bare_cpu[2 * N_CODE];
static double bare_maxrss[2 * N_CODE];
static int bare_samples;

/* A bare POST with the hashed directory: its time in *secs, its CPU and
 * peak RSS kept for row 3. */
static int bare_dir_sample(struct session *s, double *secs)
{
    struct bare b;
    int rc = fresh_bare_post(s, dir_trust, &b);
    *secs = b.secs;
    if (rc == 0 && bare_samples < 2 * N_CODE) {
        bare_cpu[bare_samples] = b.cpu;
        bare_maxrss[bare_samples++] = (double)b.maxrss;
    }
    return rc;
}

/* pam_post with the hashed directory: the baseline of time to code. */
static int caller_post_sample(struct session *s, double *secs)
{
    struct bare b;
    int rc = fresh_post(s, 1, dir_trust, &b);
    *secs = b.secs;
    return rc;
}

#define CODE_TARGET 1.15

static void code_row(const char *name, const char *short_name, const double *aad,
                     const double *base, const char *base_name, int bad)
{
    char fig[160], text[192], ratio[16], tmp[96], target[16];
    double r = paired(aad, base, N_CODE);
    snprintf(text, sizeof(text), "%s %s", fmt(tmp, sizeof(tmp), spread_of(base, N_CODE), 1e3, "ms"),
             base_name);
    snprintf(target, sizeof(target), "<= %.2f", CODE_TARGET);
    row(name, fmt(fig, sizeof(fig), spread_of(aad, N_CODE), 1e3, "ms"), text,
        ratio_of(ratio, sizeof(ratio), r, 1), target);
    check(!bad && r <= CODE_TARGET, short_name, ratio);
}

static void bench_time_to_code(void)
{
    static const char *const args[] = {"--interval", "5", "--lifetime", "600", NULL};
    struct session s;
    session_open(&s, args, "wait_for_enter = yes", 0);
    char file_trust[256];
    snprintf(file_trust, sizeof(file_trust), "file:%s", emu_ca_file(s.emu));
    double cold[N_CODE], warm[N_CODE], with_file[N_CODE];
    double base_cold[N_CODE], base_warm[N_CODE], base_file[N_CODE];
    double dir_cold[N_CODE], dir_warm[N_CODE], bundle[N_CODE];
    double own_start[N_CODE];
    int bad = 0, cold_req, cold_conn, warm_req, warm_conn;
    struct bare b;

    remove_tree(s.cache);
    fresh_requests_before_code(&s, &cold_req, &cold_conn);
    for (int i = 0; i < N_CODE; i++) {
        remove_tree(s.cache);
        bad += caller_post_sample(&s, &base_cold[i]) != 0;
        bad += (cold[i] = fresh_time_to_code(&s, "bench", NULL)) < 0;
        bad += bare_dir_sample(&s, &dir_cold[i]) != 0;
        bad += fresh_bare_post(&s, bundle_trust, &b) != 0;
        bundle[i] = b.secs;
    }
    /* One whole login fills the cache. */
    struct run r;
    struct login_requests req;
    bad += fresh_login_enter(&s, 0.2, &r, &req) != PAM_SUCCESS;
    fresh_requests_before_code(&s, &warm_req, &warm_conn);
    for (int i = 0; i < N_CODE; i++) {
        bad += caller_post_sample(&s, &base_warm[i]) != 0;
        bad += (warm[i] = fresh_time_to_code(&s, "bench", &own_start[i])) < 0;
        bad += bare_dir_sample(&s, &dir_warm[i]) != 0;
        bad += fresh_post(&s, 1, file_trust, &b) != 0;
        base_file[i] = b.secs;
        bad += (with_file[i] = fresh_time_to_code(&s, "bench-ca-file", NULL)) < 0;
    }
    session_close(&s);

    char fig[160], base[192], ratio[16], why[96], tmp[96];
    struct spread c = spread_of(cold, N_CODE), dc = spread_of(dir_cold, N_CODE),
                  bu = spread_of(bundle, N_CODE), os = spread_of(own_start, N_CODE);
    code_row("1a. fork -> code, cold, system store", "1a. time to code, cold cache", cold,
             base_cold, "caller + POST, dir", bad);
    code_row("1b. fork -> code, warm, system store", "1b. time to code, warm cache", warm,
             base_warm, "caller + POST, dir", bad);
    row("1c. bare POST: system bundle vs hashed dir", fmt(fig, sizeof(fig), bu, 1e3, "ms"),
        (snprintf(base, sizeof(base), "%s bare POST, dir", fmt(tmp, sizeof(tmp), dc, 1e3, "ms")), base),
        ratio_of(ratio, sizeof(ratio), paired(bundle, dir_cold, N_CODE), 1), "1a < bundle");
    snprintf(why, sizeof(why), "1a %.2f ms, bare POST with the bundle %.2f ms", c.med * 1e3, bu.med * 1e3);
    check(!bad && c.med < bu.med, "1c. time to code pays no bundle parse", why);
    code_row("1d. fork -> code, warm, ca_file", "1d. time to code, ca_file", with_file, base_file,
             "caller + POST, file", bad);
    snprintf(fig, sizeof(fig), "%d req, %d TLS (cold)", cold_req, cold_conn);
    snprintf(base, sizeof(base), "%d req, %d TLS (warm)", warm_req, warm_conn);
    row("1e. HTTPS requests / handshakes before code", fig, base, "-", "1 and 1");
    snprintf(why, sizeof(why), "cold %d/%d, warm %d/%d", cold_req, cold_conn, warm_req, warm_conn);
    check(cold_req == 1 && cold_conn == 1 && warm_req == 1 && warm_conn == 1,
          "1e. requests before code", why);
    /* 1f: the part of 1b that any PAM caller has, and the bare POST
     * without it, for whoever compares with a process that is no caller. */
    snprintf(base, sizeof(base), "1b %.2f x a bare POST (%s)", paired(warm, dir_warm, N_CODE),
             fmt(tmp, sizeof(tmp), spread_of(dir_warm, N_CODE), 1e3, "ms"));
    row("1f. in 1b: the caller's fork -> pam_start", fmt(fig, sizeof(fig), os, 1e3, "ms"), base,
        "-", "-");
    if (bad)
        printf("!! %d samples of row 1 failed\n", bad);
}

/* ---- 2, 3. Enter -> result; CPU and memory of a login ------------------------- */

struct enter_series {
    double t[N_ENTER], cpu[N_ENTER], caller_cpu[N_ENTER], helper_rss[N_ENTER],
        caller_rss[N_ENTER];
    double rule_wait[N_ENTER]; /* the part of t the interval rule imposes */
    /* pam_post's CPU, run right after each login when asked (row 3a's
     * pairs: the VM's speed level holds for seconds, not for a whole run) */
    double post_cpu[N_ENTER];
    int fewest, most, failed;
};

/* An empty series: no sample yet, so no fewest or most requests. */
static void series_start(struct enter_series *e)
{
    memset(e, 0, sizeof(*e));
    e->fewest = 1 << 30;
}

/* Sample i of e: its time, and the requests it saw (-1: unknown) or its
 * failure. */
static void series_add(struct enter_series *e, int i, double t, int ok, int requests)
{
    e->t[i] = t;
    e->failed += !ok || requests < 0;
    e->most = requests > e->most ? requests : e->most;
    e->fewest = requests < e->fewest ? requests : e->fewest;
}

/* Whose requests a series counts: those after Enter, or (a cold login
 * whose Enter comes at once, before its keys are in) all after the code. */
enum counted { AFTER_ENTER, AFTER_CODE };

/* n logins, Enter enter_after_s after the code (approved at once; 0: Enter
 * at once); cold: the cache emptied before each; with_post: each followed
 * by pam_post (e->post_cpu). */
static void enter_series(struct session *s, int n, int cold, double enter_after_s,
                         enum counted counted, int with_post, struct enter_series *e)
{
    series_start(e);
    for (int i = 0; i < n; i++) {
        struct run r;
        struct login_requests req;
        if (cold)
            remove_tree(s->cache);
        int ok = fresh_login_enter(s, enter_after_s, &r, &req) == PAM_SUCCESS;
        series_add(e, i, r.t_end - r.t_enter, ok,
                   counted == AFTER_CODE ? req.after_code : req.after_enter);
        e->cpu[i] = r.cpu_whole;
        struct bare post;
        if (with_post && fresh_post(s, 1, dir_trust, &post) == 0)
            e->post_cpu[i] = post.cpu;
        e->caller_cpu[i] = r.cpu_self;
        e->helper_rss[i] = (double)r.maxrss_children;
        e->caller_rss[i] = (double)r.maxrss_self;
    }
}

/* n logins in which Enter comes while the user is still signing in (1.5 s
 * after the code: the first poll, at once), then again once signed in,
 * then_after_s after the "not yet" (fresh_login_again): "not yet" in
 * *not_yet, the result in *then_in. Polls never come closer than the
 * interval (RFC 8628), which the helper counts from the last poll's answer
 * (a poll can then never reach the service early, whatever the network's
 * jitter): a second Enter within it waits for the rest of it, which
 * then_in->rule_wait records - from when the emulator answered, so that
 * the answer's way back to the helper counts against pam_aad. */
static void again_series(struct session *s, int n, double then_after_s, long interval_s,
                         struct enter_series *not_yet, struct enter_series *then_in)
{
    series_start(not_yet);
    series_start(then_in);
    for (int i = 0; i < n; i++) {
        struct run r;
        int req_not_yet, req_after;
        double t_not_yet, t_answered;
        int ok = fresh_login_again(s, 1.5, then_after_s, &t_not_yet, &t_answered,
                                   &req_not_yet, &r, &req_after) == PAM_SUCCESS &&
                 t_answered > 0;
        series_add(not_yet, i, t_not_yet, ok, req_not_yet);
        series_add(then_in, i, r.t_end - r.t_enter, ok, req_after);
        double rule = t_answered + (double)interval_s - r.t_enter;
        then_in->rule_wait[i] = rule > 0 ? rule : 0;
    }
}

/* Enter -> result may take at most this many times its bare floor. */
#define ENTER_TARGET 1.5

/* One row: Enter -> result, checked for exactly `requests` requests and a
 * median within ENTER_TARGET of the floor's (floor_name: what it is);
 * rtt_s > 0: also in round trips, at most requests + 0.5. */
static void enter_row(const char *name, const struct enter_series *e, int n, int requests,
                      struct spread floor, const char *floor_name, double rtt_s)
{
    struct spread t = spread_of(e->t, n);
    char fig[160], base[192], ratio[16], target[32], why[160], tmp[96];
    if (rtt_s > 0) {
        snprintf(fig, sizeof(fig), "%s = %.2f RTT, %d req", fmt(tmp, sizeof(tmp), t, 1e3, "ms"),
                 t.med / rtt_s, e->most);
        snprintf(target, sizeof(target), "<=%.1f RTT %d req", requests + 0.5, requests);
    } else {
        snprintf(fig, sizeof(fig), "%s, %d req", fmt(tmp, sizeof(tmp), t, 1e3, "ms"), e->most);
        snprintf(target, sizeof(target), "<=%.1f, %d req", ENTER_TARGET, requests);
    }
    snprintf(base, sizeof(base), "%s %s", fmt(tmp, sizeof(tmp), floor, 1e3, "ms"), floor_name);
    row(name, fig, base, ratio_of(ratio, sizeof(ratio), t.med, floor.med), target);
    snprintf(why, sizeof(why), "%d-%d request(s), %d/%d logins failed, %.2f ms = %.2f x %s",
             e->fewest, e->most, e->failed, n, t.med * 1e3, floor.med > 0 ? t.med / floor.med : 0,
             floor_name);
    check(!e->failed && e->fewest == requests && e->most == requests &&
              t.med <= ENTER_TARGET * floor.med &&
              (rtt_s <= 0 || t.med <= (requests + 0.5) * rtt_s),
          name, why);
}

/* A row whose Enter came within the interval of the last poll: the rule
 * (RFC 8628, the spec's Behaviour 4) makes it wait for the rest of the
 * interval; the target is on what comes after that wait. */
static void rule_row(const char *name, const struct enter_series *e, int n, struct spread floor,
                     double rtt_s)
{
    double beyond[N_ENTER];
    for (int i = 0; i < n; i++)
        beyond[i] = e->t[i] - e->rule_wait[i];
    struct spread t = spread_of(e->t, n), rule = spread_of(e->rule_wait, n),
                  b = spread_of(beyond, n);
    char fig[160], base[192], ratio[16], target[32], why[160], tmp[96];
    if (rtt_s > 0)
        snprintf(fig, sizeof(fig), "%.2f s = rule %.2f s + %.2f RTT, %d req", t.med, rule.med,
                 b.med / rtt_s, e->most);
    else
        snprintf(fig, sizeof(fig), "%.2f s = rule %.2f s + %.2f ms, %d req", t.med, rule.med,
                 b.med * 1e3, e->most);
    snprintf(base, sizeof(base), "%s bare poll, idle", fmt(tmp, sizeof(tmp), floor, 1e3, "ms"));
    snprintf(target, sizeof(target), "rule+<=%.1f, 1 req", ENTER_TARGET);
    row(name, fig, base, ratio_of(ratio, sizeof(ratio), b.med, floor.med), target);
    snprintf(why, sizeof(why), "%d-%d request(s), %d/%d logins failed, %.2f ms past the rule",
             e->fewest, e->most, e->failed, n, b.med * 1e3);
    check(!e->failed && e->fewest == 1 && e->most == 1 && b.med <= ENTER_TARGET * floor.med, name,
          why);
}

/* Row 3c: the helper's own confinement code, run by CONFINE_COST in fresh
 * children ("confine N CACHE LANDLOCK DROP SECCOMP TOTAL" in ms). */
static void confine_cost(const char *config, char *line, size_t size)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "%s '%s' %d", CONFINE_COST, config, N_ENTER * 2);
    line[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (p != NULL) {
        if (fgets(line, (int)size, p) == NULL)
            line[0] = '\0';
        pclose(p);
    }
}

static void confine_row(const char *line, double login_cpu_s)
{
    int n = 0;
    double cache, landlock, drop, seccomp, total;
    char fig[160], base[192], ratio[16];
    int ok = sscanf(line, "confine %d %lf %lf %lf %lf %lf", &n, &cache, &landlock, &drop, &seccomp,
                    &total) == 6;
    /* Giving root up is finding the account, handing it the cache, and the
     * change of ids; the allowlist is loading the seccomp filter. */
    double cost = cache + drop + seccomp;
    if (ok) {
        snprintf(fig, sizeof(fig), "%.2f ms: account+cache %.2f, ids %.2f, allowlist %.2f",
                 cost, cache, drop, seccomp);
        snprintf(base, sizeof(base), "%.2f ms CPU of a login (3a); Landlock %.2f ms",
                 login_cpu_s * 1e3, landlock);
        ratio_of(ratio, sizeof(ratio), cost / 1e3, login_cpu_s);
    } else {
        snprintf(fig, sizeof(fig), "not measured (%s)", CONFINE_COST);
        snprintf(base, sizeof(base), "-");
        snprintf(ratio, sizeof(ratio), "-");
    }
    row("3c. giving root up + the allowlist, per login", fig, base, ratio, "<= 0.05");
    check(ok && cost / 1e3 <= 0.05 * login_cpu_s,
          "3c. giving root up + the allowlist, per login", "more than 5% of a login's CPU");
}

/* ---- 4c. the caller's CPU for a whole login ---------------------------------- */

#define BENCH_PASSWORD "bench-pw-4c"

/* Over /etc/shadow (in the bench's private mount namespace), a copy in
 * which USER's password is BENCH_PASSWORD hashed with SHA-512-crypt. The
 * copy's path in copy; 0, or -1. */
static int shadow_with_password(char *copy, size_t size)
{
    char cmd[300], hash[256] = "", line[1024];
    snprintf(cmd, sizeof(cmd), "%s sha512 '%s'", HASH_PASSWORD, BENCH_PASSWORD);
    FILE *p = popen(cmd, "r");
    if (p == NULL || fgets(hash, sizeof(hash), p) == NULL)
        hash[0] = '\0';
    if (p != NULL)
        pclose(p);
    hash[strcspn(hash, "\n")] = '\0';
    snprintf(copy, size, "/tmp/pam_aad_bench_shadow.XXXXXX");
    int fd = mkstemp(copy);
    FILE *in = fopen("/etc/shadow", "r"), *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (hash[0] != '$' || in == NULL || out == NULL) {
        if (in != NULL)
            fclose(in);
        if (out != NULL)
            fclose(out);
        return -1;
    }
    while (fgets(line, sizeof(line), in) != NULL)
        if (strncmp(line, USER ":", strlen(USER ":")) != 0)
            fputs(line, out);
    fprintf(out, "%s:%s:19000:0:99999:7:::\n", USER, hash);
    fclose(in);
    int ok = fclose(out) == 0;
    return ok && mount(copy, "/etc/shadow", NULL, MS_BIND, NULL) == 0 ? 0 : -1;
}

/* The caller's own CPU for one whole login in a fresh pam_driver (its
 * exec and libpam included): pam_unix checking a SHA-512-crypt password
 * (mode "password"), or pam_permit. */
static double caller_cpu_of(const char *dir, const char *service, const char *mode)
{
    const char *argv[] = {PAM_DRIVER, dir, service, USER, mode, NULL};
    struct child c;
    struct run r;
    memset(&r, 0, sizeof(r));
    child_start(&c, argv, 1);
    char line[64];
    int len = snprintf(line, sizeof(line), "%s\n", BENCH_PASSWORD);
    if (strcmp(mode, "password") == 0 && write(c.in, line, (size_t)len) != len)
        r.rc = -1;
    int got = read_run(&c, &r) == 0;
    child_end(&c);
    return got && r.rc == PAM_SUCCESS ? r.cpu_self : -1;
}

/* Row 4c: what a whole pam_aad login costs the caller's process (sshd's
 * child, su, sudo): the module, the helper's start and the relay, from
 * the warm logins of row 2b; beside the same caller checking a SHA-512
 * password with pam_unix (row 7's baseline), and pam_permit (the caller
 * with no work of a module's). */
static void bench_caller_cpu(struct spread aad)
{
    char dir[] = "/tmp/pam_aad_bench_4c.XXXXXX", path[300], text[300], shadow[64];
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/unix", dir);
    snprintf(text, sizeof(text), "auth required %s nodelay\n", PAM_UNIX_MODULE);
    write_file(path, text);
    snprintf(path, sizeof(path), "%s/permit", dir);
    write_file(path, "auth required pam_permit.so\n");
    double unix_cpu[N_FOOT] = {0}, permit_cpu[N_FOOT] = {0};
    int bad = shadow_with_password(shadow, sizeof(shadow)) != 0;
    for (int i = 0; i < N_FOOT && !bad; i++) {
        bad += (unix_cpu[i] = caller_cpu_of(dir, "unix", "password")) < 0;
        bad += (permit_cpu[i] = caller_cpu_of(dir, "permit", "auto")) < 0;
    }
    if (umount2("/etc/shadow", 0) != 0 && !bad)
        bad = 1;
    unlink(shadow);
    remove_tree(dir);
    struct spread u = spread_of(unix_cpu, bad ? 0 : N_FOOT), p = spread_of(permit_cpu, bad ? 0 : N_FOOT);
    char fig[160], base[192], ratio[16], tmp[96], why[96];
    snprintf(base, sizeof(base), "%s pam_unix sha512 (permit %.2f)",
             fmt(tmp, sizeof(tmp), u, 1e3, "ms"), p.med * 1e3);
    ratio_of(ratio, sizeof(ratio), aad.med, u.med);
    row("4c. caller's CPU, whole login", fmt(fig, sizeof(fig), aad, 1e3, "ms"), base, ratio,
        "<= 1.00");
    snprintf(why, sizeof(why), "%s x pam_unix, +%.2f ms over pam_permit", ratio,
             (aad.med - p.med) * 1e3);
    check(!bad && u.med > 0 && aad.med <= u.med, "4c. caller's CPU for a whole login", why);
}

static void bench_enter(void)
{
    /* Entra's own interval, 5 s, in every row. The user approves as soon
     * as the code shows, and presses Enter 1.5 s later (2a, 2b) or at once
     * (2c, 2d: before a cold login has its keys). */
    static const char *const args[] = {"--interval", "5", "--lifetime", "900", NULL};
    struct session s;
    struct enter_series cold, warm, warm_at_once, cold_at_once, not_yet, then_in, not_yet2, soon;

    session_open(&s, args, "wait_for_enter = yes", 0);
    struct bare_polls floor = bare_successful_poll(&s);
    enter_series(&s, N_ENTER, 1, 1.5, AFTER_ENTER, 0, &cold);
    enter_series(&s, N_ENTER, 0, 1.5, AFTER_ENTER, 1, &warm);
    enter_series(&s, N_ENTER, 0, 0, AFTER_ENTER, 0, &warm_at_once);
    enter_series(&s, N_ENTER, 1, 0, AFTER_CODE, 0, &cold_at_once);
    /* 2e-2g: Enter while still signing in, then once signed in: after the
     * interval (2f), or 1.5 s later, within it (2g). */
    again_series(&s, N_ENTER, AGAIN_S, 5, &not_yet, &then_in);
    again_series(&s, N_ENTER, 1.5, 5, &not_yet2, &soon);
    char confine[256];
    confine_cost(s.config, confine, sizeof(confine));
    session_close(&s);
    enter_row("2a. signed in, then Enter -> result, cold", &cold, N_ENTER, 1, floor.idle,
              "bare poll, idle", 0);
    enter_row("2b. signed in, then Enter -> result, warm", &warm, N_ENTER, 1, floor.idle,
              "bare poll, idle", 0);
    enter_row("2c. approved, Enter at once -> result, warm", &warm_at_once, N_ENTER, 1, floor.poll,
              "bare poll", 0);
    enter_row("2d. approved, Enter at once -> result, cold", &cold_at_once, N_ENTER, 3, floor.cold,
              "bare keys+poll", 0);
    enter_row("2e. still signing in: Enter -> \"not yet\"", &not_yet, N_ENTER, 1, floor.idle,
              "bare poll, idle", 0);
    enter_row("2f. then signed in: Enter 5.5 s on -> result", &then_in, N_ENTER, 1,
              floor.idle_again, "bare poll, idle 5.5 s", 0);
    rule_row("2g. then signed in: Enter 1.5 s on -> result", &soon, N_ENTER, floor.idle, 0);

    /* 3: a whole warm login, caller + helper, beside a process that starts
     * as a PAM caller and makes the bare POST (pam_post) right after it
     * (paired), and beside the bare POST alone (from row 1). */
    struct spread cpu = spread_of(warm.cpu, N_ENTER), bcpu = spread_of(bare_cpu, bare_samples),
                  pcpu = spread_of(warm.post_cpu, N_ENTER);
    double cpu_ratio = paired(warm.cpu, warm.post_cpu, N_ENTER);
    struct spread hrss = spread_of(warm.helper_rss, N_ENTER),
                  crss = spread_of(warm.caller_rss, N_ENTER),
                  brss = spread_of(bare_maxrss, bare_samples);
    char fig[160], base[192], ratio[16], tmp[96], why[96];
    snprintf(base, sizeof(base), "%s caller+POST (bare POST %.2f)",
             fmt(tmp, sizeof(tmp), pcpu, 1e3, "ms"), bcpu.med * 1e3);
    ratio_of(ratio, sizeof(ratio), cpu_ratio, 1);
    row("3a. CPU of a whole login (caller + helper)", fmt(fig, sizeof(fig), cpu, 1e3, "ms"), base,
        ratio, "<= 1.30");
    snprintf(why, sizeof(why), "%s x caller+POST, %.2f x the bare POST", ratio,
             bcpu.med > 0 ? cpu.med / bcpu.med : 0);
    check(cold.failed + warm.failed == 0 && pcpu.min > 0 && cpu_ratio <= 1.30,
          "3a. CPU of a whole login", why);
    snprintf(fig, sizeof(fig), "helper %.0f KiB, caller %.0f", hrss.med, crss.med);
    snprintf(base, sizeof(base), "%.0f KiB (%.0f-%.0f) bare POST process", brss.med, brss.min, brss.max);
    row("3b. peak RSS of a login's processes", fig, base,
        ratio_of(ratio, sizeof(ratio), hrss.med, brss.med), "-");
    confine_row(confine, cpu.med);
    bench_caller_cpu(spread_of(warm.caller_cpu, N_ENTER));
}

/* ---- 5. at 50 ms RTT ------------------------------------------------------------ */

static void bench_rtt(void)
{
    static const char *const args[] = {"--interval", "5", "--lifetime", "900", NULL};
    const double rtt = 2 * ONE_WAY_MS / 1e3;
    struct session s;
    struct enter_series signed_in, cold_at_once, not_yet, then_in;
    session_open(&s, args, "wait_for_enter = yes", 1);
    struct bare_polls floor = bare_successful_poll(&s);
    double code[N_RTT], base[N_RTT];
    int bad = 0;
    struct run r;
    struct login_requests req;
    bad += fresh_login_enter(&s, 0.5, &r, &req) != PAM_SUCCESS; /* fills the cache */
    for (int i = 0; i < N_RTT; i++) {
        struct bare b;
        bad += fresh_post(&s, 1, dir_trust, &b) != 0;
        base[i] = b.secs;
        bad += (code[i] = fresh_time_to_code(&s, "bench", NULL)) < 0;
    }
    enter_series(&s, N_ENTER, 0, 1.5, AFTER_ENTER, 0, &signed_in);
    enter_series(&s, N_ENTER, 1, 0, AFTER_CODE, 0, &cold_at_once);
    again_series(&s, N_ENTER, AGAIN_S, 5, &not_yet, &then_in);
    session_close(&s);

    struct spread c = spread_of(code, N_RTT), bp = spread_of(base, N_RTT);
    char fig[160], text[192], ratio[16], tmp[96], why[128];
    snprintf(fig, sizeof(fig), "%s = %.2f RTT", fmt(tmp, sizeof(tmp), c, 1e3, "ms"), c.med / rtt);
    snprintf(text, sizeof(text), "%s = %.2f RTT caller + POST", fmt(tmp, sizeof(tmp), bp, 1e3, "ms"),
             bp.med / rtt);
    double rp = paired(code, base, N_RTT);
    row("5a. 50 ms RTT: fork -> code, warm", fig, text, ratio_of(ratio, sizeof(ratio), rp, 1),
        "<=1.15, <=3.5 RTT");
    snprintf(why, sizeof(why), "%s x caller + POST, %.2f RTT", ratio, c.med / rtt);
    check(!bad && rp <= CODE_TARGET && c.med <= 3.5 * rtt, "5a. time to code at 50 ms RTT", why);
    enter_row("5b. 50 ms RTT: signed in, then Enter", &signed_in, N_ENTER, 1, floor.idle,
              "bare poll, idle", rtt);
    enter_row("5c. 50 ms RTT: cold, Enter at once", &cold_at_once, N_ENTER, 3, floor.cold,
              "bare keys+poll", rtt);
    enter_row("5d. 50 ms RTT: still signing in: Enter", &not_yet, N_ENTER, 1, floor.idle,
              "bare poll, idle", rtt);
    enter_row("5e. 50 ms RTT: then signed in: Enter", &then_in, N_ENTER, 1, floor.idle_again,
              "bare poll, idle 5.5 s", rtt);
}

/* ---- 6. concurrent logins --------------------------------------------------------- */

struct wave {
    int ok, unavailable, total;
    double wall, cpu_caller, cpu_helper;
};

/* CONCURRENT_LOGINS fresh callers at once on the session's one cache dir. */
static void concurrent_logins(struct session *s, struct wave *w)
{
    memset(w, 0, sizeof(*w));
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        abort();
    const char *argv[] = {PAM_DRIVER, s->services, "bench", USER, "auto", NULL};
    double start = bench_now_s();
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
        w->unavailable += r.rc == PAM_AUTHINFO_UNAVAIL;
        w->cpu_caller += r.cpu_self;
        w->cpu_helper += r.cpu_children;
    }
    fclose(in);
    for (int i = 0; i < CONCURRENT_LOGINS; i++)
        waitpid(pids[i], NULL, 0); /* not wait(): the emulator is our child too */
    w->wall = bench_now_s() - start;
}

static const char *const concurrency_args[] = {"--interval", "1", "--lifetime", "600",
                                               "--auto-approve-after", "0", "--approve-claims",
                                               "{\"preferred_username\":\"" UPN "\"}", NULL};

/* Discovery and keys each take a little under http_timeout: the one fetch
 * of a cold cache takes longer than http_timeout, and every other login
 * must wait for it rather than fetch too. */
#define SLOW_HTTP_TIMEOUT_S 5
#define SLOW_EXCHANGE_MS (SLOW_HTTP_TIMEOUT_S * 800)

static void concurrency_rows(int slow)
{
    struct session s;
    char extra[128];
    snprintf(extra, sizeof(extra), "wait_for_enter = no\nhttp_timeout = %d", SLOW_HTTP_TIMEOUT_S);
    session_open(&s, concurrency_args, extra, 0);
    const char *endpoints[] = {"discovery", "keys"};
    for (int i = 0; slow && i < 2; i++) {
        char fault[128];
        snprintf(fault, sizeof(fault), "{\"endpoint\":\"%s\",\"delay_ms\":%d,\"count\":-1}",
                 endpoints[i], SLOW_EXCHANGE_MS);
        if (emu_control(s.emu, "POST", "/control/fault", fault, NULL) != 200)
            abort();
    }
    struct wave w;
    concurrent_logins(&s, &w);
    int discovery = emu_stat(s.emu, "discovery"), keys = emu_stat(s.emu, "keys");
    session_close(&s);
    int n = w.total ? w.total : 1;
    char name[96], fig[160], base[192], why[128];
    snprintf(name, sizeof(name), "6%c. 200 concurrent cold logins, %s", slow ? 'c' : 'a',
             slow ? "slow authority" : "fast authority");
    snprintf(fig, sizeof(fig), "%d/%d ok, %.1f s wall", w.ok, CONCURRENT_LOGINS, w.wall);
    snprintf(base, sizeof(base), "%.1f ms CPU/login (caller %.1f + helper %.1f)",
             (w.cpu_caller + w.cpu_helper) / n * 1e3, w.cpu_caller / n * 1e3,
             w.cpu_helper / n * 1e3);
    row(name, fig, base, "-", "all ok");
    snprintf(name, sizeof(name), "6%c. discovery + keys fetches, %s", slow ? 'd' : 'b',
             slow ? "slow authority" : "fast authority");
    snprintf(fig, sizeof(fig), "%d + %d", discovery, keys);
    snprintf(base, sizeof(base), slow ? "each takes %.1f s, http_timeout %d s" : "-",
             SLOW_EXCHANGE_MS / 1e3, SLOW_HTTP_TIMEOUT_S);
    row(name, fig, base, "-", "1 + 1");
    snprintf(why, sizeof(why), "%d discovery + %d keys fetches, %d/%d logins succeeded", discovery,
             keys, w.ok, CONCURRENT_LOGINS);
    check(discovery == 1 && keys == 1 && w.ok == CONCURRENT_LOGINS, name, why);
}

/* Rows 6e, 6f: an authority whose discovery answers later than
 * http_timeout. Every login fails (unavailable, so that a stack falls
 * back), but only one asks it: the others wait for that fetch and take its
 * failure instead of adding to the load of an authority already too slow. */
#define TOO_SLOW_EXCHANGE_MS (SLOW_HTTP_TIMEOUT_S * 1400)

static void concurrency_past_timeout(void)
{
    struct session s;
    char extra[128], fault[128];
    snprintf(extra, sizeof(extra), "wait_for_enter = no\nhttp_timeout = %d", SLOW_HTTP_TIMEOUT_S);
    session_open(&s, concurrency_args, extra, 0);
    snprintf(fault, sizeof(fault), "{\"endpoint\":\"discovery\",\"delay_ms\":%d,\"count\":-1}",
             TOO_SLOW_EXCHANGE_MS);
    if (emu_control(s.emu, "POST", "/control/fault", fault, NULL) != 200)
        abort();
    struct wave w;
    concurrent_logins(&s, &w);
    int discovery = emu_stat(s.emu, "discovery"), keys = emu_stat(s.emu, "keys");
    session_close(&s);
    char fig[160], base[192], why[160];
    snprintf(fig, sizeof(fig), "%d/%d unavailable, %.1f s wall", w.unavailable, CONCURRENT_LOGINS,
             w.wall);
    snprintf(base, sizeof(base), "discovery takes %.1f s, http_timeout %d s",
             TOO_SLOW_EXCHANGE_MS / 1e3, SLOW_HTTP_TIMEOUT_S);
    row("6e. 200 cold logins, authority past timeout", fig, base, "-", "all unavail.");
    snprintf(fig, sizeof(fig), "%d + %d", discovery, keys);
    row("6f. discovery + keys requests, past timeout", fig, "-", "-", "1 + 0");
    snprintf(why, sizeof(why), "%d discovery + %d keys requests, %d/%d logins unavailable, %.1f s",
             discovery, keys, w.unavailable, CONCURRENT_LOGINS, w.wall);
    check(discovery == 1 && keys == 0 && w.unavailable == CONCURRENT_LOGINS &&
              w.wall <= 3.0 * SLOW_HTTP_TIMEOUT_S,
          "6e/6f. logins against an authority past http_timeout", why);
}

/* ---- 4. module footprint in the caller ------------------------------------------ */

static void bench_footprint(void)
{
    char dir[] = "/tmp/pam_aad_bench_fp.XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    /* A complete configuration: the first call reads it, then stops at the
     * unknown user, before any helper or network. pam_unix.so without its
     * failure delay, which would otherwise be the whole figure. */
    char path[256], text[512];
    snprintf(path, sizeof(path), "%s/pam_aad.conf", dir);
    write_file(path, "tenant = contoso.example\nclient_id = 535fb089-9ff3-47b6-9bfb-4f1264799865\n"
                     "domains = contoso.example\n");
    snprintf(path, sizeof(path), "%s/aad", dir);
    snprintf(text, sizeof(text), "auth required %s helper=%s config=%s/pam_aad.conf\n",
             PAM_AAD_MODULE, PAM_AAD_HELPER, dir);
    write_file(path, text);
    snprintf(path, sizeof(path), "%s/unix", dir);
    snprintf(text, sizeof(text), "auth required %s nodelay\n", PAM_UNIX_MODULE);
    write_file(path, text);

    const char *services[2] = {"aad", "unix"};
    double secs[2][N_FOOT], rss[2][N_FOOT];
    int bad = 0;
    for (int i = 0; i < N_FOOT; i++) {
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
        }
    }
    remove_tree(dir);
    struct spread ta = spread_of(secs[0], N_FOOT), tu = spread_of(secs[1], N_FOOT),
                  ra = spread_of(rss[0], N_FOOT), ru = spread_of(rss[1], N_FOOT);
    char fig[160], base[192], ratio[16], tmp[96];
    snprintf(base, sizeof(base), "%s pam_unix.so", fmt(tmp, sizeof(tmp), tu, 1e3, "ms"));
    double rt = paired(secs[0], secs[1], N_FOOT), rr = paired(rss[0], rss[1], N_FOOT);
    row("4a. fresh caller: load + 1st authenticate", fmt(fig, sizeof(fig), ta, 1e3, "ms"), base,
        ratio_of(ratio, sizeof(ratio), rt, 1), "<= 1.50");
    check(!bad && rt <= 1.50, "4a. load + first pam_authenticate", ratio);
    snprintf(fig, sizeof(fig), "+%.0f KiB (%.0f-%.0f)", ra.med, ra.min, ra.max);
    snprintf(base, sizeof(base), "+%.0f KiB (%.0f-%.0f) pam_unix.so", ru.med, ru.min, ru.max);
    row("4b. RSS added to the caller", fig, base, ratio_of(ratio, sizeof(ratio), rr, 1), "<= 1.50");
    check(!bad && ru.med > 0 && rr <= 1.50, "4b. RSS added to the caller", ratio);
    if (bad)
        printf("!! %d footprint samples were unusable\n", bad);
}

/* ---- 7. a whole SSH login -------------------------------------------------------- */

static void bench_ssh(void)
{
    static const char *const args[] = {"--interval", "5", "--lifetime", "900", NULL};
    struct session s;
    session_open(&s, args, "wait_for_enter = yes", 0);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "top_srcdir='%s' sh '%s/tests/bench/ssh_login.sh' %d '%s' '%s' '%s' '%s' '%s' '%s'",
             TOP_SRCDIR, TOP_SRCDIR, N_SSH, PAM_AAD_MODULE, PAM_AAD_HELPER, s.config,
             emu_env(s.emu, "CONTROL_URL"), "aaduser@contoso.example", HASH_PASSWORD);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    /* aad, unix (this host's password hash), unix-sha512 */
    static const char *const modes[3] = {"aad", "unix", "unix-sha512"};
    double ms_of[3][N_SSH] = {{0}};
    int n_of[3] = {0, 0, 0};
    char line[128], mode[16], method[16] = "?";
    double ms;
    while (p && fgets(line, sizeof(line), p) != NULL) {
        if (sscanf(line, "method %15s", method) == 1 || sscanf(line, "ssh %15s %lf", mode, &ms) != 2)
            continue;
        for (int m = 0; m < 3; m++)
            if (strcmp(mode, modes[m]) == 0 && n_of[m] < N_SSH)
                ms_of[m][n_of[m]++] = ms / 1e3;
    }
    int rc = p ? pclose(p) : -1;
    session_close(&s);
    struct spread a = spread_of(ms_of[0], n_of[0]), u = spread_of(ms_of[1], n_of[1]),
                  u6 = spread_of(ms_of[2], n_of[2]);
    char fig[160], base[192], ratio[16], tmp[96];
    snprintf(fig, sizeof(fig), "%s, %d/%d", fmt(tmp, sizeof(tmp), a, 1e3, "ms"), n_of[0], N_SSH);
    /* ssh_login.sh runs the three kinds in turn: sample i of each is one round. */
    double ru = paired(ms_of[0], ms_of[1], N_SSH), ru6 = paired(ms_of[0], ms_of[2], N_SSH);
    snprintf(base, sizeof(base), "%s pam_unix, sha512, %d/%d",
             fmt(tmp, sizeof(tmp), u6, 1e3, "ms"), n_of[2], N_SSH);
    row("7. ssh -> shell, poll inside (same sshd)", fig, base, ratio_of(ratio, sizeof(ratio), ru6, 1),
        "<= 1.00");
    check(rc == 0 && n_of[0] == N_SSH && n_of[2] == N_SSH && ru6 <= 1.00,
          "7. whole SSH login vs pam_unix with SHA-512", ratio);
    snprintf(base, sizeof(base), "%s pam_unix, %s, %d/%d", fmt(tmp, sizeof(tmp), u, 1e3, "ms"),
             method, n_of[1], N_SSH);
    row("7b. the same vs this host's passwd hash", fig, base, ratio_of(ratio, sizeof(ratio), ru, 1),
        "<= 1.00");
    check(rc == 0 && n_of[0] == N_SSH && n_of[1] == N_SSH && ru <= 1.00,
          "7b. whole SSH login vs pam_unix with this host's hash", ratio);
}

/* ---- 8. aad-login token for scripts ---------------------------------------------- */

/* Runs section() in a child with private keyrings: a new user namespace
 * mapping uids and gids 0..65535 to themselves (a persistent keyring
 * belongs to one) and a new session keyring, so that the host's keyrings
 * never hold the bench's sign-in. Its rows are printed by the child; its
 * misses come back through a pipe. */
static void in_private_keyrings(void (*section)(void))
{
    int ready[2], go[2], report[2];
    if (pipe(ready) != 0 || pipe(go) != 0 || pipe(report) != 0)
        abort();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || c != 'y' || read(go[0], &c, 1) != 1 || c != 'y' ||
            keyctl_join_session_keyring(NULL) < 0)
            _exit(100);
        /* Only this section's misses go back: the parent has its own. */
        missed_list[0] = '\0';
        missed = 0;
        section();
        fflush(stdout);
        if (write(report[1], missed_list, strlen(missed_list)) < 0)
            _exit(100);
        _exit(missed);
    }
    close(report[1]);
    char c = 'n', path[64];
    if (read(ready[0], &c, 1) == 1 && c == 'y') {
        c = 'y';
        for (const char *const *map = (const char *const[]){"uid_map", "gid_map", NULL}; *map; map++) {
            snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, *map);
            int fd = open(path, O_WRONLY);
            if (fd < 0 || write(fd, "0 0 65536", 9) != 9)
                c = 'n';
            if (fd >= 0)
                close(fd);
        }
    }
    if (write(go[1], &c, 1) != 1)
        c = 'n';
    size_t len = strlen(missed_list);
    ssize_t n;
    while (len + 1 < sizeof(missed_list) &&
           (n = read(report[0], missed_list + len, sizeof(missed_list) - len - 1)) > 0)
        len += (size_t)n;
    missed_list[len] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
    if (code == 100) {
        printf("!! 8. tokens for scripts: no private user namespace here (rows skipped)\n");
        check(0, "8. tokens for scripts", "no private user namespace");
    } else {
        missed += code;
    }
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    close(report[0]);
}

/* Fork to exit of a fresh process, stdout and stderr to /dev/null; -1 when
 * its status is not 0. */
static double fresh_exit_s(const char *const argv[])
{
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    double start = bench_now_s();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = -1;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    double secs = bench_now_s() - start;
    close(null_fd);
    return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? secs : -1;
}

enum { N_TOKEN = 25 };
#define BENCH_OTHER_OID "0b0b0b0b-1111-4222-8333-444455556666"

static void script_tokens_section(void)
{
    const char *emu_args[] = {"--interval", "1", "--lifetime", "600", "--quiet", NULL};
    struct emu *e = emu_start(EMULATOR_PATH, emu_args);
    char dir[] = "/tmp/pam_aad_bench_tok.XXXXXX", conf[128], cmd[1024], token[8192] = "";
    if (e == NULL || mkdtemp(dir) == NULL)
        abort();
    snprintf(conf, sizeof(conf), "%s/token.conf", dir);
    snprintf(cmd, sizeof(cmd), "tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\n"
             "cache_dir = %s/cache\nqr = no\ntimeout = 30\n", emu_env(e, "TENANT_ID"),
             emu_env(e, "CLIENT_ID"), emu_authority(e), emu_ca_file(e), dir);
    write_file(conf, cmd);
    emu_control(e, "POST", "/control/auto-approve", "{\"delay_ms\":200,\"count\":1}", NULL);
    /* Signed in once, on a terminal (script(1) gives it one). */
    snprintf(cmd, sizeof(cmd), "script -q -e -c '%s token --config %s --sign-in "
             "--scope https://graph.microsoft.com/User.Read' /dev/null </dev/null >/dev/null 2>&1",
             AAD_LOGIN, conf);
    int signed_in = system(cmd) == 0;
    snprintf(cmd, sizeof(cmd), "%s token --config %s --scope https://graph.microsoft.com/User.Read",
             AAD_LOGIN, conf);
    FILE *p = signed_in ? popen(cmd, "r") : NULL;
    size_t len = p ? fread(token, 1, sizeof(token) - 1, p) : 0;
    if (p != NULL && pclose(p) != 0)
        len = 0;
    token[len] = '\0';
    long key = len > 0 ? add_key("user", "bench:same-size", token, len, KEY_SPEC_SESSION_KEYRING) : -1;
    memset(token, 0, sizeof(token));
    char *rt = signed_in ? emu_sign_in_refresh_token(e, BENCH_OTHER_OID) : NULL;
    if (!signed_in || key < 0 || rt == NULL) {
        printf("!! 8. tokens for scripts: the sign-in failed (%d, %ld, %s)\n", signed_in, key,
               rt ? "rt" : "no rt");
        check(0, "8. tokens for scripts", "no sign-in");
        free(rt);
        emu_stop(e);
        remove_tree(dir);
        return;
    }
    free(rt);

    /* a. a kept token, vs keyctl reading a key of the same size. */
    char key_id[32];
    snprintf(key_id, sizeof(key_id), "%ld", key);
    const char *kept[] = {AAD_LOGIN, "token", "--config", conf, "--scope",
                          "https://graph.microsoft.com/User.Read", NULL};
    const char *bare_key[] = {KEYCTL, "pipe", key_id, NULL};
    double ta[N_TOKEN], tb[N_TOKEN], diff[N_TOKEN];
    int bad = 0;
    for (int i = 0; i < N_TOKEN; i++) {
        ta[i] = fresh_exit_s(kept);
        tb[i] = fresh_exit_s(bare_key);
        bad += ta[i] < 0 || tb[i] < 0;
        diff[i] = ta[i] - tb[i];
    }
    struct spread sa = spread_of(ta, N_TOKEN), sb = spread_of(tb, N_TOKEN), sd = spread_of(diff, N_TOKEN);
    char fig[160], base[192], ratio[16], tmp[96];
    snprintf(base, sizeof(base), "%s keyctl pipe, %zu B key", fmt(tmp, sizeof(tmp), sb, 1e3, "ms"), len);
    snprintf(ratio, sizeof(ratio), "+%.2f", sd.med * 1e3);
    row("8a. fresh aad-login token, token kept", fmt(fig, sizeof(fig), sa, 1e3, "ms"), base, ratio,
        "+<= 2 ms");
    check(!bad && sd.med <= 0.002, "8a. aad-login token, kept token", ratio);

    /* b. a silent refresh (a scope never asked for: one refresh each), vs
     * a bare libcurl POST of the same refresh from a fresh process. */
    double tr[N_TOKEN], tp[N_TOKEN];
    int reqs = 0;
    char *before = NULL;
    if (emu_control(e, "GET", "/control/stats", NULL, &before) != 200)
        bad++;
    free(before);
    emu_control(e, "POST", "/control/stats/reset", NULL, NULL);
    for (int i = 0; i < N_TOKEN; i++) {
        char scope[96], url[256], form[2048];
        snprintf(scope, sizeof(scope), "https://graph.microsoft.com/Bench.Scope%02d", i);
        const char *refresh[] = {AAD_LOGIN, "token", "--config", conf, "--scope", scope, NULL};
        tr[i] = fresh_exit_s(refresh);
        char *live = emu_live_refresh_token(e, BENCH_OTHER_OID);
        snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_authority(e), emu_env(e, "TENANT_ID"));
        snprintf(form, sizeof(form),
                 "grant_type=refresh_token&client_id=%s&refresh_token=%s&scope="
                 "https%%3A%%2F%%2Fgraph.microsoft.com%%2FBench.Scope%02d%%20offline_access",
                 emu_env(e, "CLIENT_ID"), live ? live : "none", i);
        free(live);
        char trust[160];
        snprintf(trust, sizeof(trust), "file:%s", emu_ca_file(e));
        const char *post[] = {CURL_POST, url, trust, form, NULL};
        tp[i] = fresh_exit_s(post);
        bad += tr[i] < 0 || tp[i] < 0;
    }
    reqs = emu_requests(e);
    struct spread sr = spread_of(tr, N_TOKEN), sp = spread_of(tp, N_TOKEN);
    double rr = paired(tr, tp, N_TOKEN);
    snprintf(base, sizeof(base), "%s bare refresh POST", fmt(tmp, sizeof(tmp), sp, 1e3, "ms"));
    row("8b. fresh aad-login token, one silent refresh", fmt(fig, sizeof(fig), sr, 1e3, "ms"), base,
        ratio_of(ratio, sizeof(ratio), rr, 1), "<= 1.20");
    /* One token request per run: the refresh of aad-login and the bare one. */
    check(!bad && rr <= 1.20 && reqs == 2 * N_TOKEN, "8b. aad-login token, silent refresh", ratio);
    if (reqs != 2 * N_TOKEN)
        printf("!! 8b: %d requests for %d runs and %d bare POSTs\n", reqs, N_TOKEN, N_TOKEN);
    emu_stop(e);
    remove_tree(dir);
}

static void bench_script_tokens(void)
{
    in_private_keyrings(script_tokens_section);
}

static void bench_concurrency(void)
{
    concurrency_rows(0);
    concurrency_rows(1);
    concurrency_past_timeout();
}

/* Sections by name (`tests/bench/bench enter rtt`), for working on one
 * cost at a time; `make bench` runs them all. Row 3 compares with row 1's
 * baselines, so "enter" without "code" leaves 3a without one. */
static const struct section {
    const char *name;
    void (*run)(void);
} sections[] = {
    {"code", bench_time_to_code},         {"enter", bench_enter},
    {"footprint", bench_footprint},       {"rtt", bench_rtt},
    {"concurrency", bench_concurrency},   {"ssh", bench_ssh},
    {"tokens", bench_script_tokens},
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

static int wanted(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return argc < 2;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        while (k < N_SECTIONS && strcmp(argv[i], sections[k].name) != 0)
            k++;
        if (k == N_SECTIONS) {
            fprintf(stderr, "bench: no section %s (code enter footprint rtt concurrency ssh tokens)\n",
                    argv[i]);
            return 2;
        }
    }
    if (bench_ns_enter() != 0)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("pam_aad %s benchmark: %ld CPU(s), emulator on the loopback of a private network "
           "namespace, no ca_file (the system store at %s), median (min-max) of each series, "
           "each beside its baseline from the same run; ratio: of the medians, or the median of "
           "the ratios of paired samples (1, 3a, 4a, 4b, 5a, 7). Enter rows at Entra's interval, 5 s. "
           "Row 7b's password is hashed as this host's passwd(1) hashes it.\n\n",
           PACKAGE_VERSION, sysconf(_SC_NPROCESSORS_ONLN), AAD_SYSTEM_CA_DIR);
    row("measure", "pam_aad", "baseline", "ratio", "target");
    printf("|%s|%s|%s|%s|%s|\n", "--------------------------------------------------",
           "------------------------------------------",
           "----------------------------------------------------", "-------", "--------------------");
    for (size_t k = 0; k < N_SECTIONS; k++)
        if (wanted(argc, argv, sections[k].name))
            sections[k].run();
    curl_global_cleanup();
    bench_ns_leave();
    if (missed)
        printf("\n%s", missed_list);
    return missed ? 1 : 0;
}
