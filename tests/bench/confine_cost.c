/* confine_cost.c - what pam_aad_helper's confinement costs a login, for
 * `make bench` (row 3c): as root, N fresh children each load the
 * configuration, read its files and run confine_helper() - the helper's own
 * code, linked here - and report how long each step took. Prints the
 * median and range of each step, in ms, one line:
 *
 *   confine N CACHE LANDLOCK DROP SECCOMP TOTAL   (medians)
 *   range DROP_MIN DROP_MAX SECCOMP_MIN SECCOMP_MAX
 *
 *   confine_cost CONFIG N */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aad_config.h"
#include "confine.h"

#define STEPS 4
#define MAX_SAMPLES 200

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int one_sample(const char *config, double out[STEPS])
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        char arg[512];
        snprintf(arg, sizeof(arg), "config=%s", config);
        const char *argv[] = {arg};
        struct aad_config *cfg = NULL;
        struct aad_error err = {0};
        struct confine_report r;
        const char *step = "";
        if (aad_config_load(config, 1, argv, &cfg, &err) != AAD_OK ||
            aad_config_read_files(cfg, &err) != AAD_OK || confine_helper(cfg, &r, &step) != 0)
            _exit(1);
        double t[STEPS] = {r.cache_ms, r.landlock_ms, r.drop_ms, r.seccomp_ms};
        _exit(write(fd[1], t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = pid > 0 ? read(fd[0], out, sizeof(double) * STEPS) : -1;
    close(fd[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    return got == (ssize_t)(sizeof(double) * STEPS) && WIFEXITED(status) &&
                   WEXITSTATUS(status) == 0
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    int n = argc == 3 ? atoi(argv[2]) : 0;
    if (n < 1 || n > MAX_SAMPLES) {
        fprintf(stderr, "usage: confine_cost CONFIG SAMPLES (1-%d)\n", MAX_SAMPLES);
        return 2;
    }
    static double step[STEPS][MAX_SAMPLES], total[MAX_SAMPLES];
    for (int i = 0; i < n; i++) {
        double t[STEPS];
        if (one_sample(argv[1], t) != 0) {
            fprintf(stderr, "confine_cost: the confinement failed (as root?)\n");
            return 1;
        }
        total[i] = 0;
        for (int s = 0; s < STEPS; s++) {
            step[s][i] = t[s];
            total[i] += t[s];
        }
    }
    for (int s = 0; s < STEPS; s++)
        qsort(step[s], (size_t)n, sizeof(double), by_value);
    qsort(total, (size_t)n, sizeof(double), by_value);
    printf("confine %d %.3f %.3f %.3f %.3f %.3f\n", n, step[0][n / 2], step[1][n / 2],
           step[2][n / 2], step[3][n / 2], total[n / 2]);
    printf("range %.3f %.3f %.3f %.3f\n", step[2][0], step[2][n - 1], step[3][0], step[3][n - 1]);
    return 0;
}
