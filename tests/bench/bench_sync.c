/* bench_sync.c - `make bench`: aad-login sync against the emulator's
 * Microsoft Graph. For groups of 1,000 and 10,000 members: a first sync
 * (every member read and written) and a delta sync after 10 changes (4
 * added, 3 removed, 3 disabled), each in a fresh process: wall time, Graph
 * requests (the emulator's count), peak memory (the child's maxrss). The
 * delta sync at 10,000 is compared with the one at 1,000 measured in the
 * same run: its requests and time must not grow with the group's size.
 * Files go to a scratch directory (--files-dir, --state-dir): no root. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu_client.h"

#define GROUP_FMT "0b7e1e38-7f0e-4a55-9c55-%012d"

struct figures {
    double wall_ms;
    double graph_ms; /* the sync's own count of time spent in Graph requests */
    int requests;
    double rss_mib;
    int exit_code;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* One run of aad-login sync in a fresh process. */
static struct figures run_sync(struct emu *e, const char *work, const char *config,
                               const char *tag)
{
    struct figures f = {0, 0, 0, 0, -1};
    char state[512], files[512], log[512];
    snprintf(state, sizeof(state), "%s/state-%s", work, tag);
    snprintf(files, sizeof(files), "%s/files-%s", work, tag);
    snprintf(log, sizeof(log), "%s/sync-%s.log", work, tag);
    mkdir(state, 0700);
    mkdir(files, 0755);
    emu_control(e, "POST", "/control/stats/reset", "{}", NULL);
    double start = now_ms();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = freopen(log, "a", stdout);
        FILE *err = out ? freopen(log, "a", stderr) : NULL;
        if (err == NULL)
            _exit(127);
        execl(AAD_LOGIN, AAD_LOGIN, "sync", "--config", config, "--state-dir", state,
              "--files-dir", files, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
        return f;
    f.wall_ms = now_ms() - start;
    f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    f.rss_mib = ru.ru_maxrss / 1024.0;
    f.requests = emu_stat(e, "graph");
    /* "... N Graph requests (S s) in T s": Graph's share. */
    FILE *lf = fopen(log, "r");
    char line[1024];
    while (lf != NULL && fgets(line, sizeof(line), lf) != NULL) {
        const char *p = strstr(line, " Graph requests (");
        double s = 0;
        if (p != NULL && sscanf(p, " Graph requests (%lf s)", &s) == 1)
            f.graph_ms = s * 1000.0;
    }
    if (lf != NULL)
        fclose(lf);
    return f;
}

static int control(struct emu *e, const char *path, const char *body)
{
    int st = emu_control(e, "POST", path, body, NULL);
    if (st != 200)
        fprintf(stderr, "bench_sync: %s answered %d\n", path, st);
    return st == 200 ? 0 : -1;
}

/* 10 changes: 4 new members, 3 removed, 3 disabled (generated oids). */
static int ten_changes(struct emu *e, const char *group, int first_generated)
{
    char body[2048];
    snprintf(body, sizeof(body), "{\"group\":\"%s\",\"generate\":{\"count\":4,\"prefix\":\"new\"}}",
             group);
    if (control(e, "/control/graph/directory", body) != 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof(body),
                 "{\"group\":\"%s\",\"remove\":[\"5e5e5e5e-0000-4000-8000-%012x\"]}", group,
                 first_generated + i);
        if (control(e, "/control/graph/directory", body) != 0)
            return -1;
        snprintf(body, sizeof(body),
                 "{\"id\":\"5e5e5e5e-0000-4000-8000-%012x\",\"accountEnabled\":false}",
                 first_generated + 10 + i);
        if (control(e, "/control/graph/user", body) != 0)
            return -1;
    }
    return 0;
}

static void print_row(int members, const char *what, const struct figures *f)
{
    printf("  %7d  %-18s %8.0f ms %7d %9.0f ms %10.0f ms %8.1f MiB%s\n", members, what,
           f->wall_ms, f->requests, f->graph_ms, f->wall_ms - f->graph_ms, f->rss_mib,
           f->exit_code == 0 ? "" : "  (FAILED: see the log)");
}

int main(void)
{
    char work[] = "/tmp/pam_aad_bench_sync.XXXXXX";
    if (mkdtemp(work) == NULL)
        return 1;
    char cmd[2048], cert[128], key[128], config[128];
    snprintf(cert, sizeof(cert), "%s/app.pem", work);
    snprintf(key, sizeof(key), "%s/app.key", work);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 "
             "-subj /CN=bench >/dev/null 2>&1 && chmod 600 %s", key, cert, key);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_sync: openssl cannot make a certificate\n");
        return 1;
    }
    const char *args[] = {"--lifetime", "900", "--quiet", "--client-cert", cert, NULL};
    struct emu *e = emu_start(EMULATOR_PATH, args);
    if (e == NULL)
        return 1;
    static const int sizes[] = {1000, 10000};
    struct figures first[2], delta[2];
    int generated = 0, rc = 0;
    printf("aad-login sync against the emulator (a fresh process per run)\n");
    printf("  %7s  %-18s %11s %7s %12s %13s %12s\n", "members", "run", "wall", "Graph",
           "in Graph", "local", "peak memory");
    for (int i = 0; i < 2; i++) {
        char group[64], body[512], tag[32];
        snprintf(group, sizeof(group), GROUP_FMT, sizes[i]);
        snprintf(config, sizeof(config), "%s/pam_aad-%d.conf", work, sizes[i]);
        FILE *f = fopen(config, "w");
        if (f == NULL)
            return 1;
        fprintf(f,
                "tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\ndomains = %s\n"
                "graph_endpoint = %s\nclient_certificate = %s\nclient_key = %s\n"
                "provision_groups = %s\ncache_dir = %s/cache\n",
                emu_env(e, "TENANT_ID"), emu_env(e, "CLIENT_ID"), emu_authority(e),
                emu_ca_file(e), emu_env(e, "DOMAIN"), emu_env(e, "GRAPH_URL"), cert, key, group,
                work);
        fclose(f);
        chmod(config, 0600);
        snprintf(body, sizeof(body),
                 "{\"group\":\"%s\",\"generate\":{\"count\":%d,\"prefix\":\"m%d-\"}}", group,
                 sizes[i], sizes[i]);
        if (control(e, "/control/graph/directory", body) != 0)
            return 1;
        int first_of_group = generated + 1;
        generated += sizes[i];
        snprintf(tag, sizeof(tag), "%d", sizes[i]);
        first[i] = run_sync(e, work, config, tag);
        print_row(sizes[i], "first sync", &first[i]);
        if (ten_changes(e, group, first_of_group) != 0)
            return 1;
        generated += 4;
        delta[i] = run_sync(e, work, config, tag);
        print_row(sizes[i], "delta, 10 changes", &delta[i]);
        rc |= first[i].exit_code != 0 || delta[i].exit_code != 0;
    }
    double time_ratio = delta[1].wall_ms / (delta[0].wall_ms > 0 ? delta[0].wall_ms : 1);
    double graph_ratio = delta[1].graph_ms / (delta[0].graph_ms > 0 ? delta[0].graph_ms : 1);
    double req_ratio = (double)delta[1].requests / (delta[0].requests > 0 ? delta[0].requests : 1);
    printf("  delta sync at 10,000 members vs 1,000 (baseline, same run): Graph requests x%.2f, "
           "time in Graph x%.2f; wall x%.2f (the local part reads the state and rewrites the "
           "files: it grows with the accounts, %.0f ms per 1,000)\n", req_ratio, graph_ratio,
           time_ratio, (delta[1].wall_ms - delta[1].graph_ms) / 10.0);
    printf("  first sync at 10,000 vs 1,000: requests x%.2f, time x%.2f, memory x%.2f\n",
           (double)first[1].requests / (first[0].requests > 0 ? first[0].requests : 1),
           first[1].wall_ms / (first[0].wall_ms > 0 ? first[0].wall_ms : 1),
           first[1].rss_mib / (first[0].rss_mib > 0 ? first[0].rss_mib : 1));
    /* Graph requests must not grow; the time in Graph may move with the
     * machine's load, so it is held to twice the baseline (plus 20 ms). */
    if (delta[1].requests != delta[0].requests ||
        delta[1].graph_ms > 2.0 * delta[0].graph_ms + 20.0) {
        printf("  NOT HELD: the delta sync grew with the group's size\n");
        rc = 1;
    }
    emu_stop(e);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    if (rc == 0 && system(cmd) != 0)
        rc = 1;
    else if (rc != 0)
        printf("  logs kept in %s\n", work);
    return rc;
}
