/* pam_driver.c - one PAM login in a fresh process, for `make bench`.
 *
 * It stands for the PAM caller (sshd, su): it links libpam and libc only,
 * so that what the module adds to a caller (time, memory) is measured
 * against a process that has loaded nothing else. The bench fork/execs it
 * once per sample:
 *
 *   pam_driver CONFDIR SERVICE USER MODE
 *
 * runs pam_start_confdir(SERVICE, USER, CONFDIR) + pam_authenticate, and
 * answers the conversation according to MODE:
 *
 *   footprint  every prompt with "" (the bench uses an unknown user, so the
 *              module stops before any network)
 *   code       at the device code: prints it, then fails the conversation
 *              (the login ends there)
 *   enter      at the device code: prints it, then waits for a line on
 *              stdin (the bench approves the code with the emulator and
 *              waits), then "presses Enter" (returns "")
 *   again      as enter, and at a prompt after the code (the module's "not
 *              signed in yet"): prints "again T T_ENTER" (T_ENTER: when the
 *              first Enter went back), then waits for a line on stdin too
 *   auto       every prompt with "" (the emulator approves by itself)
 *   password   every prompt with the line the bench writes on stdin (a
 *              pam_unix login to an account the bench gave that password)
 *
 * Output on stdout, one flushed line each (times in CLOCK_MONOTONIC
 * seconds, which all processes share, so the bench can subtract the time
 * it forked; sizes in KiB):
 *
 *   code T USERCODE
 *   again T T_ENTER                      (mode again)
 *   done RC T_MAIN T_START T_ENTER T_END RSS0 HWM0 RSS1 HWM1 CPU_SELF CPU_CHILDREN
 *        MAXRSS_SELF MAXRSS_CHILDREN
 *
 * T_START/RSS0/HWM0 are taken just before pam_start_confdir, T_END/RSS1/
 * HWM1 just after pam_authenticate (before pam_end unloads the modules;
 * the sizes in mode footprint only, else -1);
 * CPU and MAXRSS of the children are those of the helper the module ran. */
#include "config.h"

#include "bench_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

enum mode { M_FOOTPRINT, M_CODE, M_ENTER, M_AGAIN, M_AUTO, M_PASSWORD };


struct state {
    enum mode mode;
    int code_seen;
    double t_enter;
    char password[128]; /* mode password: read at the first prompt */
};


static void status_kib(long *rss, long *hwm)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    *rss = *hwm = -1;
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %ld kB", rss);
        sscanf(line, "VmHWM: %ld kB", hwm);
    }
    if (f)
        fclose(f);
}

static int is_prompt(const struct pam_message *m)
{
    return m->msg_style == PAM_PROMPT_ECHO_OFF || m->msg_style == PAM_PROMPT_ECHO_ON;
}

static double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
           ru->ru_stime.tv_usec / 1e6;
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata)
{
    struct state *s = appdata;
    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    const char *code = NULL;
    for (int i = 0; i < n && code == NULL; i++)
        code = strstr(msg[i]->msg, "Code: ");
    if (code != NULL && !s->code_seen) {
        double t = bench_now_s();
        char user_code[32] = "";
        sscanf(code + 6, "%31[A-Z0-9-]", user_code);
        s->code_seen = 1;
        printf("code %.9f %s\n", t, user_code);
        fflush(stdout);
        if (s->mode == M_CODE)
            return PAM_CONV_ERR;
        if (s->mode == M_ENTER || s->mode == M_AGAIN) {
            char line[64];
            if (fgets(line, sizeof(line), stdin) == NULL)
                return PAM_CONV_ERR;
        }
    }
    /* A prompt after the code's: the module's "not signed in yet". */
    int again = 0;
    for (int i = 0; i < n && code == NULL && s->code_seen && s->mode == M_AGAIN; i++)
        again |= is_prompt(msg[i]);
    if (again) {
        printf("again %.9f %.9f\n", bench_now_s(), s->t_enter);
        fflush(stdout);
        char line[64];
        if (fgets(line, sizeof(line), stdin) == NULL)
            return PAM_CONV_ERR;
    }
    if (s->mode == M_PASSWORD && s->password[0] == '\0') {
        if (fgets(s->password, sizeof(s->password), stdin) == NULL)
            return PAM_CONV_ERR;
        s->password[strcspn(s->password, "\n")] = '\0';
    }
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++)
        if (is_prompt(msg[i]))
            r[i].resp = strdup(s->mode == M_PASSWORD ? s->password : "");
    *resp = r;
    if (code != NULL || again)
        s->t_enter = bench_now_s(); /* the last thing before "Enter" reaches the module */
    return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
    double t_main = bench_now_s();
    static const char *const modes[] = {"footprint", "code", "enter", "again", "auto", "password"};
    struct state s = {M_FOOTPRINT, 0, 0, ""};
    int m = 0;
    while (argc == 5 && m < 6 && strcmp(argv[4], modes[m]) != 0)
        m++;
    if (argc != 5 || m == 6) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER "
                        "footprint|code|enter|again|auto|password\n");
        return 2;
    }
    s.mode = (enum mode)m;

    struct pam_conv conv = {conversation, &s};
    pam_handle_t *pamh = NULL;
    /* Memory is read in mode footprint alone: reading /proc/self/status
     * takes time, which a login's figures must not include. */
    long rss0 = -1, hwm0 = -1, rss1 = -1, hwm1 = -1;
    if (s.mode == M_FOOTPRINT)
        status_kib(&rss0, &hwm0);
    double t_start = bench_now_s();
    int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
    if (rc == PAM_SUCCESS)
        rc = pam_authenticate(pamh, 0);
    double t_end = bench_now_s();
    if (s.mode == M_FOOTPRINT)
        status_kib(&rss1, &hwm1);
    /* CPU after pam_end: the module reaps the helper's reaper once the
     * helper has ended, by pam_end at the latest, and only reaped children
     * (and what they reaped) count in RUSAGE_CHILDREN. */
    if (pamh != NULL)
        pam_end(pamh, rc);
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    printf("done %d %.9f %.9f %.9f %.9f %ld %ld %ld %ld %.6f %.6f %ld %ld\n", rc, t_main, t_start,
           s.t_enter, t_end, rss0, hwm0, rss1, hwm1, cpu_of(&self), cpu_of(&children),
           self.ru_maxrss, children.ru_maxrss);
    fflush(stdout);
    return 0;
}
