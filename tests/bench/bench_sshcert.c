/* bench_sshcert.c - `make bench`'s certificate row (9): what sshd waits for
 * when a client offers a certificate from `aad-login ssh`, from its exec of
 * pam_aad_sshkeys to the answer, with the signing keys cached; beside the
 * baseline of the same token verified as the login path verifies it, in a
 * fresh process too (verify_token.c). Samples are interleaved and paired
 * (the median of the per-pair ratios). It also counts the emulator's
 * requests over all the certificate checks: with cached keys there are none.
 *
 * Exit: 0 targets met, 1 a target missed, 2 the bench cannot run.
 *
 * Where it runs: in `make bench` only. */
#include "config.h"

#include "bench_clock.h"
#include "bench_median.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aad_sshcert.h"
#include "emu_client.h"

#define N 25
#define USER "nobody"

/* fork+exec argv (stdin from in_text, stdout read to its end) and wait;
 * the seconds it took, or -1 when it failed (or printed nothing while
 * want_output). */
static double timed_run(const char *const argv[], const char *in_text, int want_output)
{
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    double t0 = bench_now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(null_fd, 2);
        close(in[1]);
        close(out[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (in_text != NULL && write(in[1], in_text, strlen(in_text)) < 0)
        return -1;
    close(in[1]);
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0)
        got += (size_t)n;
    close(out[0]);
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    double t = bench_now_s() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (want_output && got == 0))
        return -1;
    return t;
}

static int requests(struct emu *e)
{
    static const char *const kinds[] = {"discovery", "keys", "devicecode", "token",
                                        "other", "graph", "client_credentials"};
    int sum = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        sum += emu_stat(e, kinds[i]);
    return sum;
}

int main(void)
{
    static const char *const emu_args[] = {"--lifetime", "300", "--quiet", NULL};
    struct emu *e = emu_start(EMULATOR_PATH, emu_args);
    char dir[] = "/tmp/bench-sshcert.XXXXXX";
    if (e == NULL || mkdtemp(dir) == NULL)
        return 2;
    char conf[256], cmd[4096], key[256], cert[256];
    snprintf(conf, sizeof(conf), "%s/pam_aad.conf", dir);
    snprintf(key, sizeof(key), "%s/id", dir);
    snprintf(cert, sizeof(cert), "%s/id-cert.pub", dir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "tenant = %s\nclient_id = %s\nauthority = %s\nca_file = %s\ndomains = %s\n"
               "user_map = %s/user_map\ncache_dir = %s/cache\n",
            emu_env(e, "TENANT_ID"), emu_env(e, "CLIENT_ID"), emu_authority(e), emu_ca_file(e),
            emu_env(e, "DOMAIN"), dir, dir);
    fclose(f);
    chmod(conf, 0600);
    snprintf(cmd, sizeof(cmd), "%s/user_map", dir);
    f = fopen(cmd, "w");
    fprintf(f, "%s %s@%s\n", USER, USER, emu_env(e, "DOMAIN"));
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s/browser", dir);
    f = fopen(cmd, "w");
    fprintf(f, "#!/bin/sh\nexec curl -s -o /dev/null --noproxy '*' --cacert '%s' -L \"$1\"\n",
            emu_ca_file(e));
    fclose(f);
    chmod(cmd, 0755);
    char body[256];
    snprintf(body, sizeof(body), "{\"mode\":\"approve\",\"claims\":{\"preferred_username\":\"%s@%s\"}}",
             USER, emu_env(e, "DOMAIN"));
    emu_control(e, "POST", "/control/browser", body, NULL);
    snprintf(cmd, sizeof(cmd), "%s ssh --config %s --key %s --browser %s/browser </dev/null >/dev/null",
             AAD_LOGIN, conf, key, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_sshcert: aad-login ssh failed\n");
        return 2;
    }
    static char cert_text[64 * 1024]; /* one line: type, base64, comment */
    FILE *cf = fopen(cert, "r");
    char *line = cf ? fgets(cert_text, sizeof(cert_text), cf) : NULL;
    if (cf)
        fclose(cf);
    char *type = cert_text, *blob = line ? strchr(cert_text, ' ') : NULL;
    if (blob == NULL)
        return 2;
    *blob++ = '\0';
    blob[strcspn(blob, " \n")] = '\0';
    struct aad_sshcert c;
    struct aad_error err;
    if (aad_sshcert_parse_base64(blob, &c, &err) != AAD_OK)
        return 2;
    char *token_line = malloc(strlen(c.id_token) + 2);
    sprintf(token_line, "%s\n", c.id_token);

    char config_arg[300];
    snprintf(config_arg, sizeof(config_arg), "config=%s", conf);
    const char *const keys_argv[] = {SSHKEYS, config_arg, USER, type, blob, NULL};
    const char *const verify_argv[] = {VERIFY_TOKEN, conf, USER, NULL};
    /* Warm the cache (and the page cache) first. */
    if (timed_run(keys_argv, NULL, 1) < 0 || timed_run(verify_argv, token_line, 0) < 0) {
        fprintf(stderr, "bench_sshcert: the certificate or the token is refused\n");
        return 2;
    }
    int before = requests(e), bad = 0;
    double k[N], v[N], r[N];
    for (int i = 0; i < N; i++) {
        k[i] = timed_run(keys_argv, NULL, 1);
        v[i] = timed_run(verify_argv, token_line, 0);
        bad += k[i] < 0 || v[i] < 0;
        r[i] = k[i] / v[i];
    }
    int made = requests(e) - before;
    double ratio = bench_median(r, N), km = bench_median(k, N), kmin = k[0], kmax = k[N - 1];
    double vm = bench_median(v, N), vmin = v[0], vmax = v[N - 1];
    char fig[96], base[96], rt[16];
    snprintf(fig, sizeof(fig), "%.1f ms (%.1f-%.1f) pam_aad_sshkeys", km * 1e3, kmin * 1e3,
             kmax * 1e3);
    snprintf(base, sizeof(base), "%.1f ms (%.1f-%.1f) the login path's verification", vm * 1e3,
             vmin * 1e3, vmax * 1e3);
    snprintf(rt, sizeof(rt), "%.2f", ratio);
    printf("| %-48s | %-40s | %-50s | %-5s | %-12s |\n", "9a. certificate: sshd's exec -> answer, warm", fig,
           base, rt, "<= 1.50");
    snprintf(fig, sizeof(fig), "%d requests in %d checks", made, N);
    printf("| %-48s | %-40s | %-50s | %-5s | %-12s |\n", "9b. HTTPS requests with cached keys", fig,
           "-", "-", "0");
    int missed = bad || ratio > 1.50 || made != 0;
    if (missed)
        printf("!! row 9 missed its target (ratio %.2f, %d requests, %d failed samples)\n", ratio,
               made, bad);
    aad_sshcert_clear(&c);
    free(token_line);
    emu_stop(e);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 2;
    return missed ? 1 : 0;
}
