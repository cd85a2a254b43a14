/* test_faults.c - pam_aad.so under load and under failures of its
 * surroundings: 50 parallel logins on one cache directory, cold logins
 * waiting for one fetch from a slow authority, a read-only and
 * a full cache directory, an emulator that dies or freezes mid-login, and a
 * helper that is missing, badly installed, killed, hanging, crashing or
 * talking nonsense (fake_helper.c), or whose caller dies.
 * Same rig as test_hostile.c (real libpam, forked children, syslog capture). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "aad_base.h"
#include "hostile.h"
#include "pam_sandbox.h"
#include "aad_wire.h"

#define APPROVE_ALICE "{\"claims\":{\"preferred_username\":\"" ALICE_UPN "\"}}"
#define PARALLEL_MAX 50

static long bound(void)
{
    return 3 * H.http_timeout * 1000;
}

static int group_setup(void **state)
{
    (void)state;
    return hostile_global_setup();
}

static int group_teardown(void **state)
{
    (void)state;
    hostile_global_teardown();
    return 0;
}

static int setup(void **state)
{
    (void)state;
    hostile_reset();
    return 0;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_parallel_logins_share_one_cache(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/shared-cache", H.root);
    int keys_before = emu_stat(H.emu, "keys");
    struct login_opts o = {.approve = APPROVE_ALICE, .cache_dir = dir};
    /* HOSTILE_PARALLEL lowers it where each process is heavy (valgrind). */
    const char *env = getenv("HOSTILE_PARALLEL");
    int parallel = env ? atoi(env) : PARALLEL_MAX;
    if (parallel < 2 || parallel > PARALLEL_MAX)
        parallel = PARALLEL_MAX;
    struct login_result r[PARALLEL_MAX];
    int pid[PARALLEL_MAX];
    long long start = aad_monotonic_ms();
    /* Two waves: a cold cache written by racing logins, then a warm one
     * read while the second wave's stragglers may still rewrite it. */
    for (int wave = 0; wave < 2; wave++) {
        for (int i = 0; i < parallel; i++) {
            pid[i] = hostile_spawn(&o, &r[i]);
            assert_true(pid[i] > 0);
        }
        for (int i = 0; i < parallel; i++)
            hostile_wait(pid[i], 60000, start, &r[i]);
        for (int i = 0; i < parallel; i++) {
            if (!r[i].exited || r[i].rc != PAM_SUCCESS)
                fail_msg("wave %d login %d: exited %d rc %d; syslog:\n%s", wave, i, r[i].exited,
                         r[i].rc, hostile_syslog());
        }
    }
    const char *log = hostile_syslog();
    assert_int_equal(count(log, "result=success"), 2 * parallel);
    /* a torn or half-written entry would show as an unusable cache */
    assert_int_equal(count(log, "is not usable"), 0);
    assert_int_equal(count(log, "cannot cache"), 0);
    hostile_assert_log_clean(H.emu);
    /* the lock lets one login fetch while the others wait for its result */
    int fetches = emu_stat(H.emu, "keys") - keys_before;
    print_message("%d parallel logins x 2 waves: %d key fetches, %lld ms\n", parallel, fetches,
                  (long long)(aad_monotonic_ms() - start));
    assert_true(fetches >= 1 && fetches < parallel);
}

/* ---- a slow identity provider (SPEC.md §6) ---- */

#define SLOW_LOGINS 30

/* Discovery and keys each take 0.8 x http_timeout: one fetch takes longer
 * than http_timeout, shorter than the two exchanges it is. At least 4 s,
 * so that a loaded host leaves each exchange its 0.8 s of margin. */
static long slow_timeout_s(void)
{
    return H.http_timeout > 4 ? H.http_timeout : 4;
}

struct slow_wave {
    int discovery, keys; /* fetches made by the wave */
    double wakeups;      /* voluntary context switches per login (caller + helper) */
    double cpu_ms;       /* CPU per login (caller + helper) */
};

static void children_usage(long *nvcsw, double *cpu_ms)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
    *nvcsw = ru.ru_nvcsw;
    *cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
              (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int slow_logins(void)
{
    /* HOSTILE_PARALLEL lowers it where each process is heavy (valgrind). */
    const char *env = getenv("HOSTILE_PARALLEL");
    int n = env ? atoi(env) : SLOW_LOGINS;
    return n < 2 || n > SLOW_LOGINS ? SLOW_LOGINS : n;
}

/* Concurrent logins on one cache directory (cold unless a previous wave
 * filled it), all of which must succeed. */
static void login_wave(const char *dir, struct slow_wave *w)
{
    char extra[96]; /* the sign-in itself has time beyond the wait */
    snprintf(extra, sizeof(extra), "http_timeout = %ld\ntimeout = %ld", slow_timeout_s(),
             4 * slow_timeout_s() + 10);
    struct login_opts o = {.approve = APPROVE_ALICE, .cache_dir = dir, .config_extra = extra};
    int n = slow_logins();
    struct login_result r[SLOW_LOGINS];
    int pid[SLOW_LOGINS];
    int discovery = emu_stat(H.emu, "discovery"), keys = emu_stat(H.emu, "keys");
    long nvcsw0, nvcsw1;
    double cpu0, cpu1;
    children_usage(&nvcsw0, &cpu0);
    long long start = aad_monotonic_ms();
    for (int i = 0; i < n; i++) {
        pid[i] = hostile_spawn(&o, &r[i]);
        assert_true(pid[i] > 0);
    }
    for (int i = 0; i < n; i++)
        hostile_wait(pid[i], 60000 * H.time_factor, start, &r[i]);
    children_usage(&nvcsw1, &cpu1);
    w->discovery = emu_stat(H.emu, "discovery") - discovery;
    w->keys = emu_stat(H.emu, "keys") - keys;
    w->wakeups = (double)(nvcsw1 - nvcsw0) / n;
    w->cpu_ms = (cpu1 - cpu0) / n;
    print_message("%d logins: %d discovery + %d keys fetches, %.0f wakeups and %.1f ms CPU per "
                  "login, %lld ms\n",
                  n, w->discovery, w->keys, w->wakeups, w->cpu_ms,
                  (long long)(aad_monotonic_ms() - start));
    for (int i = 0; i < n; i++) {
        if (!r[i].exited || r[i].rc != PAM_SUCCESS)
            fail_msg("login %d: exited %d rc %d; syslog:\n%s", i, r[i].exited, r[i].rc,
                     hostile_syslog());
    }
}

static void slow_authority(void)
{
    char fault[128];
    const char *endpoints[] = {"discovery", "keys"};
    for (int i = 0; i < 2; i++) {
        snprintf(fault, sizeof(fault), "{\"endpoint\":\"%s\",\"delay_ms\":%ld,\"count\":-1}",
                 endpoints[i], slow_timeout_s() * 800);
        hostile_fault(fault);
    }
}

static void test_slow_authority_cold_logins_fetch_once(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/slow-cache-%d", H.root, ++H.seq);
    slow_authority();
    struct slow_wave w;
    login_wave(dir, &w);
    /* The others waited for the one fetch and read its result. */
    assert_int_equal(w.discovery, 1);
    assert_int_equal(w.keys, 1);
    assert_int_equal(count(hostile_syslog(), "for another login's fetch"), 0);
    hostile_assert_log_clean(H.emu);
}

/* An authority slower than http_timeout: the first login's fetch of
 * discovery times out; the others waited for it and do not ask again (the
 * failure is remembered), so the tenant sees one discovery request, and
 * every login is unavailable within about one http_timeout. */
static void test_authority_slower_than_http_timeout_is_asked_once(void **state)
{
    (void)state;
    char dir[400], fault[128], extra[96];
    snprintf(dir, sizeof(dir), "%s/slower-cache-%d", H.root, ++H.seq);
    snprintf(fault, sizeof(fault), "{\"endpoint\":\"discovery\",\"delay_ms\":%ld,\"count\":-1}",
             slow_timeout_s() * 2000);
    hostile_fault(fault);
    snprintf(extra, sizeof(extra), "http_timeout = %ld\ntimeout = 60", slow_timeout_s());
    struct login_opts o = {.cache_dir = dir, .config_extra = extra};
    int n = slow_logins();
    struct login_result r[SLOW_LOGINS];
    int pid[SLOW_LOGINS];
    int discovery = emu_stat(H.emu, "discovery");
    long long start = aad_monotonic_ms();
    for (int i = 0; i < n; i++) {
        pid[i] = hostile_spawn(&o, &r[i]);
        assert_true(pid[i] > 0);
    }
    for (int i = 0; i < n; i++)
        hostile_wait(pid[i], 60000 * H.time_factor, start, &r[i]);
    int asked = emu_stat(H.emu, "discovery") - discovery;
    print_message("%d logins: %d discovery requests, %lld ms\n", n, asked,
                  (long long)(aad_monotonic_ms() - start));
    assert_int_equal(asked, 1);
    for (int i = 0; i < n; i++)
        hostile_expect(&r[i], PAM_AUTHINFO_UNAVAIL,
                       (2 * slow_timeout_s() + 2) * 1000 + 2000);
    assert_true(count(hostile_syslog(), "another login's fetch") >= 1);
}

static void test_waiting_for_a_slow_fetch_does_not_poll(void **state)
{
    (void)state;
    if (H.time_factor > 1) {
        print_message("under valgrind the wakeups counted are valgrind's\n");
        skip();
    }
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/slow-cache-%d", H.root, ++H.seq);
    slow_authority();
    struct slow_wave cold, warm;
    login_wave(dir, &cold); /* all but one wait about 1.6 x http_timeout */
    hostile_reset();
    login_wave(dir, &warm); /* the same logins without the wait */
    /* Polling the lock every 10 ms is 100 wakeups per second of waiting; a
     * blocked waiter wakes up a few times in all (to tell the module it is
     * still there). */
    double extra = cold.wakeups - warm.wakeups;
    double waited_s = 1.6 * (double)slow_timeout_s();
    print_message("waiting added %.0f wakeups per login (%.1f per second waited)\n", extra,
                  extra / waited_s);
    if (extra > 5 * waited_s)
        fail_msg("waiters woke up %.0f times more per login than without the wait: they poll",
                 extra);
}

/* ---- private mounts for the child (root only) ---- */

/* (Explicit "none" strings, not NULL: valgrind checks every mount argument.) */
static int private_mounts(void)
{
    return unshare(CLONE_NEWNS) == 0 && mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0
               ? 0
               : -1;
}

static int read_only_cache(const char *dir)
{
    if (mkdir(dir, 0700) != 0 || private_mounts() != 0 ||
        mount(dir, dir, "none", MS_BIND, NULL) != 0 ||
        mount("none", dir, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
        return -1;
    return 0;
}

static int full_cache(const char *dir)
{
    if (mkdir(dir, 0700) != 0 || private_mounts() != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=16k,mode=0700") != 0)
        return -1;
    /* Fill it up. */
    char path[400], block[4096];
    memset(block, 'x', sizeof(block));
    snprintf(path, sizeof(path), "%s/filler", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
        ;
    if (fd >= 0)
        close(fd);
    return 0;
}

/* Can this process make private mounts at all (root in a container may not)? */
static int can_mount(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char dir[400];
        snprintf(dir, sizeof(dir), "%s/probe-%d", H.root, (int)getpid());
        _exit(read_only_cache(dir) == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void unusable_cache_case(int (*prepare)(const char *dir), const char *warning)
{
    if (!can_mount()) {
        print_message("no private mounts here (not root or no CAP_SYS_ADMIN)\n");
        skip();
    }
    struct login_opts o = {.approve = APPROVE_ALICE, .child_setup = prepare};
    struct login_result r = hostile_login(&o);
    hostile_expect(&r, PAM_SUCCESS, bound());
    const char *log = hostile_syslog();
    if (strstr(log, "cannot cache signing keys") == NULL || strstr(log, warning) == NULL)
        fail_msg("no warning about the cache; syslog:\n%s", log);
}

static void test_read_only_cache_dir_still_logs_in(void **state)
{
    (void)state;
    unusable_cache_case(read_only_cache, "read-only");
}

static void test_full_cache_dir_still_logs_in(void **state)
{
    (void)state;
    unusable_cache_case(full_cache, "disk full");
}

/* ---- the emulator fails mid-login (own emulator: it does not survive) ---- */

static void dying_emulator_case(enum conv_action action, int warm, long bound_ms)
{
    static const char *const args[] = {"--interval", "1", NULL};
    struct emu *e = emu_start(EMULATOR_PATH, args);
    assert_non_null(e);
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/dying-%d-%d", H.root, (int)action, warm);
    if (warm) {
        /* keys already cached: the failure hits the polls */
        struct login_opts o = {.emu = e, .approve = APPROVE_ALICE, .cache_dir = dir};
        struct login_result r = hostile_login(&o);
        assert_int_equal(r.rc, PAM_SUCCESS);
        unlink(H.syslog_file);
    }
    struct login_opts o = {.emu = e, .cache_dir = dir, .action = action};
    struct login_result r = hostile_login(&o);
    const char *pid = emu_env(e, "PID");
    if (action == ACT_STOP_EMULATOR && pid != NULL)
        kill((pid_t)atol(pid), SIGCONT);
    emu_stop(e);
    hostile_expect(&r, PAM_AUTHINFO_UNAVAIL, bound_ms);
}

static void test_emulator_killed_before_keys(void **state)
{
    (void)state;
    dying_emulator_case(ACT_KILL_EMULATOR, 0, bound());
}

static void test_emulator_killed_while_polling(void **state)
{
    (void)state;
    /* three refused polls, one interval apart */
    dying_emulator_case(ACT_KILL_EMULATOR, 1, bound());
}

static void test_emulator_frozen_while_polling(void **state)
{
    (void)state;
    /* connections hang: each poll ends at http_timeout, three in a row */
    dying_emulator_case(ACT_STOP_EMULATOR, 1, 3 * (H.http_timeout + 1) * 1000 + 2000);
}

static void test_emulator_frozen_before_keys(void **state)
{
    (void)state;
    dying_emulator_case(ACT_STOP_EMULATOR, 0, H.http_timeout * 1000 + 2000);
}

/* ---- the helper fails (copies of the real one, and fake_helper.c) ---- */

/* How long a login may take when the module sees the fault at once (no
 * network, no waiting). */
#define FAST_MS 1000
/* A helper that falls silent is given up after http_timeout + 2 s
 * (pam_aad.c); this much more for starting and ending it. */
#define SILENCE_MARGIN_MS 500

static long silence_bound(void)
{
    return H.http_timeout * 1000 + 2000 + SILENCE_MARGIN_MS;
}

/* A private copy of the file from, with mode, owned by the running user. */
static void copy_file(const char *from, const char *to, mode_t mode)
{
    unlink(to);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (in < 0 || out < 0)
        fail_msg("cannot copy %s to %s: %s", from, to, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    assert_int_equal(fchmod(out, mode), 0);
    close(in);
    /* closed before any fork: an open writer would make exec fail (ETXTBSY) */
    assert_int_equal(close(out), 0);
}

/* The fake helper as H.root/fake-helper-MODE (its name is its behaviour). */
static void fake(const char *mode, char *path, size_t size)
{
    snprintf(path, size, "%s/fake-helper-%s", H.root, mode);
    copy_file(FAKE_HELPER, path, 0755);
}

/* A copy of the real helper under a name of its own, so that the processes
 * running it are this test's (other suites may run the build tree's). */
static void real_helper(const char *name, mode_t mode, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", H.root, name);
    copy_file(PAM_AAD_HELPER, path, mode);
}

/* The processes whose executable is path (a zombie has none); the first
 * one found in *pid. */
static int processes_running(const char *path, pid_t *pid)
{
    int n = 0;
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char link[300], exe[1024];
        snprintf(link, sizeof(link), "/proc/%s/exe", de->d_name);
        ssize_t len = readlink(link, exe, sizeof(exe) - 1);
        if (len <= 0)
            continue;
        exe[len] = '\0';
        if (strcmp(exe, path) == 0 && n++ == 0 && pid != NULL)
            *pid = (pid_t)atol(de->d_name);
    }
    closedir(d);
    return n;
}

static long parent_of(pid_t pid)
{
    char state;
    long ppid;
    return hostile_proc_stat((int)pid, &state, &ppid) == 0 ? ppid : -1;
}

/* The live children of parent; the first one found in *child. */
static int children_of(pid_t parent, pid_t *child)
{
    int n = 0;
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char state;
        long ppid;
        if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
            hostile_proc_stat(atoi(de->d_name), &state, &ppid) != 0)
            continue;
        if (ppid == (long)parent && state != 'Z' && n++ == 0)
            *child = (pid_t)atol(de->d_name);
    }
    closedir(d);
    return n;
}

/* Ended: no such process, or only its zombie left. */
static int ended(pid_t pid)
{
    char state;
    long ppid;
    return hostile_proc_stat((int)pid, &state, &ppid) != 0 || state == 'Z';
}

/* Under valgrind (the CI gate) /proc/PID/exe names the tool, and its
 * emulation of fexecve runs scripts. */
static int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Fails unless no process runs path within ms (scaled); returns the wait. */
static long expect_no_process(const char *path, long within_ms)
{
    long long start = aad_monotonic_ms(), end = start + within_ms * H.time_factor;
    pid_t pid = 0;
    while (processes_running(path, &pid) > 0) {
        if (aad_monotonic_ms() > end) {
            kill(pid, SIGKILL);
            fail_msg("helper %s still runs (pid %d, parent %ld) %ld ms later", path, (int)pid,
                     parent_of(pid), within_ms * H.time_factor);
        }
        pause_ms(5);
    }
    return (long)(aad_monotonic_ms() - start);
}

static void expect_log(const char *needle)
{
    const char *log = hostile_syslog();
    if (strstr(log, needle) == NULL)
        fail_msg("no \"%s\" in the syslog:\n%s", needle, log);
}

/* One login through the helper at path: its result, its time, the reason in
 * the log, and no process of it left. */
static struct login_result helper_case(const char *path, int want, long bound_ms,
                                       const char *result, const char *reason)
{
    struct login_opts o = {.helper = path, .hard_limit_ms = 30000};
    struct login_result r = hostile_login(&o);
    hostile_expect(&r, want, bound_ms);
    expect_log(result);
    expect_log(reason);
    expect_no_process(path, 100);
    return r;
}

static void install_case(const char *path, const char *reason)
{
    helper_case(path, PAM_SERVICE_ERR, FAST_MS, "result=configuration error", reason);
}

static void fake_case(const char *mode, int want, long bound_ms, const char *reason)
{
    char path[400];
    fake(mode, path, sizeof(path));
    struct login_result r = helper_case(path, want, bound_ms,
                                        want == PAM_AUTH_ERR ? "result=denied" : "result=unavailable",
                                        reason);
    print_message("fake-helper-%s: %ld ms\n", mode, r.ms);
}

static void test_helper_missing(void **state)
{
    (void)state;
    static const char path[] = "/nonexistent/pam_aad_helper";
    install_case(path, "reason=helper /nonexistent/pam_aad_helper: No such file or directory");
}

static void test_helper_not_owned_by_root(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("not root: a file of another owner cannot be made\n");
        skip();
    }
    char path[400];
    real_helper("helper-uid-4321", 0755, path, sizeof(path));
    assert_int_equal(chown(path, 4321, 4321), 0);
    install_case(path, "is owned by uid 4321, not by root");
}

static void test_helper_group_writable(void **state)
{
    (void)state;
    char path[400];
    real_helper("helper-0775", 0775, path, sizeof(path));
    install_case(path, "is writable by group or others");
}

static void test_helper_world_writable(void **state)
{
    (void)state;
    char path[400];
    real_helper("helper-0757", 0757, path, sizeof(path));
    install_case(path, "is writable by group or others");
}

static void test_helper_not_executable(void **state)
{
    (void)state;
    char path[400];
    real_helper("helper-0644", 0644, path, sizeof(path));
    install_case(path, "is not executable");
}

static void test_helper_is_a_directory(void **state)
{
    (void)state;
    install_case(H.root, "is not a regular file");
}

static void test_helper_is_a_script(void **state)
{
    (void)state;
    /* fexecve of a close-on-exec descriptor cannot run a script: refused
     * as an install problem, not run some other way. */
    if (under_valgrind()) {
        print_message("valgrind's fexecve runs scripts: not the kernel's behaviour\n");
        skip();
    }
    char path[400];
    snprintf(path, sizeof(path), "%s/helper-script", H.root);
    pam_sandbox_write_file(path, "#!/bin/sh\nexit 0\n");
    assert_int_equal(chmod(path, 0755), 0);
    install_case(path, "cannot execute it");
}

static void test_helper_killed_mid_login(void **state)
{
    (void)state;
    /* the real helper, killed by the "user" once the code is shown */
    char path[400];
    real_helper("helper-killed", 0755, path, sizeof(path));
    struct login_opts o = {.helper = path, .action = ACT_KILL_HELPER, .hard_limit_ms = 30000};
    struct login_result r = hostile_login(&o);
    hostile_expect(&r, PAM_AUTHINFO_UNAVAIL, bound());
    expect_log("result=unavailable");
    expect_log("(helper killed by signal 9)");
    expect_no_process(path, 100);
    print_message("helper killed at the prompt: %ld ms\n", r.ms);
}

static void test_helper_hangs(void **state)
{
    (void)state;
    /* reads nothing, writes nothing: given up after http_timeout + 2 s,
     * then killed and reaped (hostile_expect: no child left) */
    fake_case("hang", PAM_AUTHINFO_UNAVAIL, silence_bound(),
              "helper: no message before the deadline (helper killed by signal 9)");
}

static void test_helper_truncated_frame_then_silence(void **state)
{
    (void)state;
    fake_case("partial", PAM_AUTHINFO_UNAVAIL, silence_bound(),
              "helper: no message before the deadline (helper killed by signal 9)");
}

static void test_helper_oversized_frame(void **state)
{
    (void)state;
    fake_case("oversized", PAM_AUTHINFO_UNAVAIL, FAST_MS, "helper: a malformed or oversized message");
}

static void test_helper_frame_of_4_gib(void **state)
{
    (void)state;
    fake_case("huge", PAM_AUTHINFO_UNAVAIL, FAST_MS, "helper: a malformed or oversized message");
}

static void test_helper_field_lengths_do_not_add_up(void **state)
{
    (void)state;
    fake_case("malformed", PAM_AUTHINFO_UNAVAIL, FAST_MS, "helper: a malformed or oversized message");
}

static void test_helper_nul_inside_a_field(void **state)
{
    (void)state;
    fake_case("nul", PAM_AUTHINFO_UNAVAIL, FAST_MS, "helper: a malformed or oversized message");
}

static void test_helper_other_protocol_version(void **state)
{
    (void)state;
    char want[96];
    snprintf(want, sizeof(want), "helper speaks protocol version %d, this module version %d",
             AAD_WIRE_VERSION + 1, AAD_WIRE_VERSION);
    fake_case("version", PAM_AUTHINFO_UNAVAIL, FAST_MS, want);
}

static void test_helper_sends_garbage(void **state)
{
    (void)state;
    fake_case("garbage", PAM_AUTHINFO_UNAVAIL, FAST_MS, "reason=helper");
}

static void test_helper_unknown_message_type(void **state)
{
    (void)state;
    fake_case("unknown-type", PAM_AUTHINFO_UNAVAIL, FAST_MS,
              "helper sent a message of unknown type 99");
}

static void test_helper_exits_at_once(void **state)
{
    (void)state;
    fake_case("exit", PAM_AUTHINFO_UNAVAIL, FAST_MS, "(helper exited with status 3)");
}

static void test_helper_crashes(void **state)
{
    (void)state;
    fake_case("crash", PAM_AUTHINFO_UNAVAIL, FAST_MS,
              "helper: the other side closed the connection (ended or died) (helper killed by signal 11)");
}

static void test_helper_crashes_after_the_code(void **state)
{
    (void)state;
    /* it dies on ENTERED only: the signal in the log proves the code was shown */
    fake_case("crash-after-code", PAM_AUTHINFO_UNAVAIL, FAST_MS,
              "helper: the other side closed the connection (ended or died) (helper killed by signal 11)");
}

static void test_helper_success_for_another_account(void **state)
{
    (void)state;
    /* a clean exit after the verdict: the module's own check refuses it */
    fake_case("other-account", PAM_AUTH_ERR, FAST_MS, "helper: success for another account");
}

/* A helper (taken over, say) may not reach syslog with more than "error",
 * nor forge a line of its own. */
static void test_helper_log_lines_are_clamped(void **state)
{
    (void)state;
    fake_case("loud-log", PAM_AUTH_ERR, FAST_MS, "refused");
    const char *log = hostile_syslog();
    const char *line = strstr(log, "EMERGENCY");
    assert_non_null(line);
    /* LOG_AUTHPRIV|LOG_ERR (83), never LOG_EMERG (80) */
    assert_non_null(strstr(log, "<83> pam_aad("));
    assert_null(strstr(log, "<80> "));
    /* the forged line stays inside the helper's own, its newline replaced */
    assert_non_null(strstr(line, "EMERGENCY?pam_aad(sshd:auth): service=sshd result=success"));
}

static void test_caller_killed_at_prompt_ends_helper(void **state)
{
    (void)state;
    char path[400], marker[400];
    real_helper("helper-orphan", 0755, path, sizeof(path));
    snprintf(marker, sizeof(marker), "%s/at-prompt", H.root);
    unlink(marker);
    struct login_opts o = {.helper = path, .action = ACT_HANG_AT_PROMPT, .marker = marker};
    struct login_result r;
    pid_t pid = (pid_t)hostile_spawn(&o, &r);
    assert_true(pid > 0);
    long long give_up = aad_monotonic_ms() + 15000 * H.time_factor;
    while (access(marker, F_OK) != 0) {
        if (aad_monotonic_ms() > give_up) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("the code was never shown; syslog:\n%s", hostile_syslog());
        }
        pause_ms(5);
    }
    /* The helper waits for Enter, under the reaper: the login child's only
     * child. The helper is the one to watch: it ends after the reaper (the
     * reaper's death is its PDEATHSIG), and only it runs path. */
    pid_t reaper = 0, helper = 0, running = 0;
    assert_int_equal(children_of(pid, &reaper), 1);
    assert_int_equal(children_of(reaper, &helper), 1);
    if (!under_valgrind()) {
        assert_int_equal(processes_running(path, &running), 1);
        assert_int_equal(running, helper);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    long long killed = aad_monotonic_ms(), end = killed + 1500 * H.time_factor;
    while (!ended(helper)) {
        if (aad_monotonic_ms() > end) {
            kill(helper, SIGKILL);
            fail_msg("the helper (pid %d) outlived its caller by %ld ms", (int)helper,
                     1500 * H.time_factor);
        }
        pause_ms(5);
    }
    long ms = (long)(aad_monotonic_ms() - killed);
    expect_no_process(path, 0);
    print_message("helper gone %ld ms after its caller was killed\n", ms);
}

int main(int argc, char **argv)
{
    (void)argc;
    hostile_enter_wrappers(argv);
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_parallel_logins_share_one_cache),
        T(test_slow_authority_cold_logins_fetch_once),
        T(test_waiting_for_a_slow_fetch_does_not_poll),
        T(test_authority_slower_than_http_timeout_is_asked_once),
        T(test_read_only_cache_dir_still_logs_in),
        T(test_full_cache_dir_still_logs_in),
        T(test_emulator_killed_before_keys),
        T(test_emulator_killed_while_polling),
        T(test_emulator_frozen_while_polling),
        T(test_emulator_frozen_before_keys),
        T(test_helper_missing),
        T(test_helper_not_owned_by_root),
        T(test_helper_group_writable),
        T(test_helper_world_writable),
        T(test_helper_not_executable),
        T(test_helper_is_a_directory),
        T(test_helper_is_a_script),
        T(test_helper_killed_mid_login),
        T(test_helper_hangs),
        T(test_helper_truncated_frame_then_silence),
        T(test_helper_oversized_frame),
        T(test_helper_frame_of_4_gib),
        T(test_helper_field_lengths_do_not_add_up),
        T(test_helper_nul_inside_a_field),
        T(test_helper_other_protocol_version),
        T(test_helper_sends_garbage),
        T(test_helper_unknown_message_type),
        T(test_helper_exits_at_once),
        T(test_helper_crashes),
        T(test_helper_crashes_after_the_code),
        T(test_helper_success_for_another_account),
        T(test_helper_log_lines_are_clamped),
        T(test_caller_killed_at_prompt_ends_helper),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
