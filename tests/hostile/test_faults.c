/* test_faults.c - pam_aad.so under load and under failures of its
 * surroundings: 50 parallel logins on one cache directory, a read-only and
 * a full cache directory, and an emulator that dies or freezes mid-login.
 * Same rig as test_hostile.c (real libpam, forked children, syslog capture). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "aad_base.h"
#include "hostile.h"

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

int main(int argc, char **argv)
{
    (void)argc;
    hostile_enter_wrappers(argv);
#define T(name) cmocka_unit_test_setup(name, setup)
    const struct CMUnitTest tests[] = {
        T(test_parallel_logins_share_one_cache),
        T(test_read_only_cache_dir_still_logs_in),
        T(test_full_cache_dir_still_logs_in),
        T(test_emulator_killed_before_keys),
        T(test_emulator_killed_while_polling),
        T(test_emulator_frozen_while_polling),
        T(test_emulator_frozen_before_keys),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
