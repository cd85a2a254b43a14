/* test_confine.c - what pam_aad_helper gives up before the network:
 * Landlock leaves only cache_dir writable, seccomp denies the system calls a
 * login never makes. Each case confines a forked child (confinement cannot
 * be undone) and reports what the child could still do. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"

static char scratch[] = "/tmp/pam_aad_confine.XXXXXX";

static int landlock_abi(void)
{
#ifdef LANDLOCK_CREATE_RULESET_VERSION
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi > 0 ? (int)abi : 0;
#else
    return 0;
#endif
}

/* Runs fn in a child; returns its exit status (fn's return value). */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static int create(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

static int files_child(void)
{
    char cache[600], outside[600];
    snprintf(cache, sizeof(cache), "%s/cache", scratch);
    snprintf(outside, sizeof(outside), "%s/outside", scratch);
    if (confine_files(cache) != landlock_abi())
        return 10;
    if (create(cache, "keys.json") != 0)
        return 11; /* the cache stays writable */
    if (create(outside, "planted") != EACCES)
        return 12; /* nothing else is */
    if (open("/etc/hostname", O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES)
        return 13; /* reading is still allowed (CA store, config, resolv.conf) */
    if (mkdir("/tmp/pam_aad_confine_escape", 0700) == 0 || errno != EACCES)
        return 14;
    return 0;
}

static void test_landlock_leaves_only_the_cache_writable(void **state)
{
    (void)state;
    if (landlock_abi() == 0)
        skip(); /* this kernel has no Landlock: the helper runs without it */
    char outside[600];
    snprintf(outside, sizeof(outside), "%s/outside", scratch);
    assert_int_equal(mkdir(outside, 0700), 0);
    assert_int_equal(in_child(files_child), 0);
    /* The cache directory was created by confine_files when missing. */
    char keys[600];
    snprintf(keys, sizeof(keys), "%s/cache/keys.json", scratch);
    assert_int_equal(access(keys, F_OK), 0);
}

static int syscalls_child(void)
{
    if (confine_syscalls() != 1)
        return 10;
    char *const argv[] = {"true", NULL};
    execve("/bin/true", argv, argv + 1);
    if (errno != EPERM)
        return 11;
    if (setuid(getuid()) == 0 || errno != EPERM)
        return 12;
    if (syscall(SYS_unshare, 0) == 0 || errno != EPERM)
        return 13;
    /* What a login does is still allowed. */
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 14;
    close(fd);
    return 0;
}

static void test_seccomp_denies_exec_and_id_changes(void **state)
{
    (void)state;
#ifndef HAVE_SECCOMP
    skip(); /* built without libseccomp */
#endif
    assert_int_equal(in_child(syscalls_child), 0);
}

static int memory_child(void)
{
    if (confine_memory() != 0)
        return 10;
#if !defined(__SANITIZE_ADDRESS__)
    void *p = malloc((size_t)2 << 30); /* 2 GiB: over the cap */
    if (p != NULL)
        return 11;
#endif
    return 0;
}

static void test_memory_is_capped(void **state)
{
    (void)state;
    assert_int_equal(in_child(memory_child), 0);
}

int main(void)
{
    if (mkdtemp(scratch) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_landlock_leaves_only_the_cache_writable),
        cmocka_unit_test(test_seccomp_denies_exec_and_id_changes),
        cmocka_unit_test(test_memory_is_capped),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
    if (system(cmd) != 0)
        failed++;
    return failed;
}
