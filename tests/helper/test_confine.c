/* test_confine.c - what pam_aad_helper gives up before the network:
 * Landlock leaves only cache_dir writable (without truncation), TCP
 * connections only to the login's ports, no signal outside; the seccomp
 * allowlist admits only what a login does. Each case confines a forked
 * child (confinement cannot be undone) and reports what the child could
 * still do. (tests/e2e/test_helper_powers.sh tries the same on the built,
 * running helper.) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"
#include "confine_rules.h"
#ifdef HAVE_CONFINE_FILTER_H
#include <linux/filter.h>
#include "confine_filter.h"
#endif

static char scratch[] = "/tmp/pam_aad_confine.XXXXXX";

/* The running kernel's Landlock ABI (0: none), asked as landlock.c asks. */
static int landlock_abi(void)
{
    long abi = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1 /* VERSION */);
    return abi > 0 ? (int)abi : 0;
}

/* connect() to 127.0.0.1:port with nothing listening: errno. */
static int connect_errno(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr = {htonl(INADDR_LOOPBACK)}};
    int e = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
    close(fd);
    return e;
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

#define ALLOWED_PORT 44443
#define OTHER_PORT 44444

static int files_child(void)
{
    char cache[600], outside[600], victim[700];
    snprintf(cache, sizeof(cache), "%s/cache", scratch);
    snprintf(outside, sizeof(outside), "%s/outside", scratch);
    snprintf(victim, sizeof(victim), "%s/victim", outside);
    const uint16_t ports[] = {ALLOWED_PORT};
    struct landlock_applied applied;
    if (landlock_confine_helper(cache, ports, 1, &applied) != 0 || applied.abi != landlock_abi())
        return 10;
    if (create(cache, "keys.json") != 0)
        return 11; /* the cache stays writable */
    if (create(outside, "planted") != EACCES)
        return 12; /* nothing else is */
    if (open("/etc/hostname", O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES)
        return 13; /* reading is still allowed (CA store, config, resolv.conf) */
    if (mkdir("/tmp/pam_aad_confine_escape", 0700) == 0 || errno != EACCES)
        return 14;
    /* Rights of later ABIs, asked for whatever the build host's headers knew. */
    if (applied.abi >= 3 && (open(victim, O_RDONLY | O_TRUNC) >= 0 || errno != EACCES))
        return 15;
    if (applied.abi >= 4 && (connect_errno(OTHER_PORT) != EACCES ||
                             connect_errno(ALLOWED_PORT) != ECONNREFUSED))
        return 16;
    if (applied.abi >= 6 && (kill(getppid(), 0) == 0 || errno != EPERM))
        return 17;
    return 0;
}

static void test_landlock_leaves_only_the_cache_writable(void **state)
{
    (void)state;
    if (landlock_abi() == 0)
        skip(); /* this kernel has no Landlock: the helper runs without it */
    char outside[600], cache[600];
    snprintf(outside, sizeof(outside), "%s/outside", scratch);
    snprintf(cache, sizeof(cache), "%s/cache", scratch);
    assert_int_equal(mkdir(outside, 0700), 0);
    assert_int_equal(mkdir(cache, 0700), 0);
    assert_int_equal(create(outside, "victim"), 0);
    assert_int_equal(in_child(files_child), 0);
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
    int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return 15;
    close(s);
    /* What it never does is not: an allowlist, not a denylist. */
    if (socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EPERM)
        return 16;
    if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno != EPERM)
        return 17;
    if (chmod("/dev/null", 0666) == 0 || errno != EPERM)
        return 18;
    if (chown("/dev/null", 0, 0) == 0 || errno != EPERM)
        return 19;
    if (truncate("/dev/null", 0) == 0 || errno != EPERM)
        return 20;
    if (open("/dev/null", O_WRONLY | O_TRUNC | O_CLOEXEC) >= 0 || errno != EPERM)
        return 21;
    if (kill(getppid(), 0) == 0 || errno != EPERM)
        return 22;
    if (fork() >= 0 || errno != EPERM) /* clone without CLONE_THREAD */
        return 23;
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

/* A system call of another ABI of this machine (x32 on x86_64) is not
 * merely denied: the thread ends, as a filter naming one ABI must do. */
static int foreign_abi_child(void)
{
    if (confine_syscalls() != 1)
        return 10;
#if defined(__x86_64__)
    syscall(0x40000000L | SYS_getpid); /* __X32_SYSCALL_BIT */
    return 11;
#else
    return 0;
#endif
}

static void test_seccomp_ends_a_foreign_abi_call(void **state)
{
    (void)state;
#if !defined(HAVE_SECCOMP) || !defined(__x86_64__)
    skip(); /* no filter, or no second ABI to try here */
#endif
    assert_int_equal(in_child(foreign_abi_child), 100 + SIGSYS);
}

/* The filter every login loads was made when pam_aad was built: it must be
 * the very program libseccomp makes from today's rules. */
static void test_built_filter_is_what_libseccomp_makes(void **state)
{
    (void)state;
#ifndef HAVE_CONFINE_FILTER_H
    skip(); /* made per login here (cross-compiled, or no libseccomp) */
#else
    static struct sock_filter now[BPF_MAXINSNS];
    size_t n = confine_rules_export(now, BPF_MAXINSNS);
    assert_int_equal(n, sizeof(confine_helper_filter) / sizeof(confine_helper_filter[0]));
    assert_memory_equal(now, confine_helper_filter, sizeof(confine_helper_filter));
#endif
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


/* The group writer: everything it writes is opened before; afterwards
 * only renames within its directory and writes through those descriptors. */
static int writer_child(void)
{
    char etc[600], outside[600], path[700];
    snprintf(etc, sizeof(etc), "%s/etc", scratch);
    snprintf(outside, sizeof(outside), "%s/outside-w", scratch);
    int dir_fd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int tmp = openat(dir_fd, ".group.tmp", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (dir_fd < 0 || tmp < 0)
        return 9;
    char group[700], gshadow[700];
    snprintf(group, sizeof(group), "%s/group", etc);
    snprintf(gshadow, sizeof(gshadow), "%s/gshadow", etc);
    const char *const readable[] = {group, gshadow};
    if (confine_group_writer(etc, readable, 2, dir_fd, tmp, tmp) != 0)
        return 10;
    int landlock = landlock_abi() > 0, filtered = 0;
#ifdef HAVE_SECCOMP
    filtered = 1;
#endif
    /* It reads group before it replaces it (Landlock's rule names the file
     * as it was). */
    int ro = openat(dir_fd, "group", O_RDONLY | O_CLOEXEC);
    /* What it is for: the prepared file is written and renamed over group. */
    if (write(tmp, "sudo:x:27:alice\n", 16) != 16 || fchmod(tmp, 0644) != 0 || fsync(tmp) != 0)
        return 11;
    if (renameat(dir_fd, ".group.tmp", dir_fd, "group") != 0)
        return 12;
    /* Any other file of the directory, or elsewhere, cannot be written. */
    snprintf(path, sizeof(path), "%s/shadow", etc);
    if (landlock && (open(path, O_WRONLY | O_CLOEXEC) >= 0 || errno != EACCES))
        return 13;
    int e = create(outside, "planted"); /* seccomp (EPERM) or Landlock (EACCES) */
    if (landlock && e != EACCES && e != EPERM)
        return 14;
    if (landlock && (open("/tmp/pam_aad_writer_escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0))
        return 15;
    /* Nothing new is created in it (its temporary files exist already). */
    if ((landlock || filtered) && create(etc, "sudoers.d-planted") == 0)
        return 16;
    if (!filtered)
        return 0;
    /* A file opened for reading cannot have its mode or owner changed. */
    if (ro < 0)
        return 17;
    if (fchmod(ro, 0666) == 0 || errno != EPERM || fchown(ro, 1000, 1000) == 0 || errno != EPERM)
        return 18;
    if (ioctl(ro, 0x40086602 /* FS_IOC_SETFLAGS */, &(long){0}) == 0 || errno != EPERM)
        return 19;
    close(ro);
    /* Renames only inside the directory, by its descriptor; no sockets, links. */
    if (rename(path, "/tmp/pam_aad_shadow") == 0 || errno != EPERM)
        return 20;
    int other = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (renameat(dir_fd, "shadow", other, "stolen") == 0 || errno != EPERM)
        return 21;
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
        return 22;
    if (linkat(dir_fd, "shadow", dir_fd, "shadow2", 0) == 0 || errno != EPERM)
        return 23;
    if (openat(dir_fd, ".", O_TMPFILE | O_WRONLY, 0600) >= 0 || errno != EPERM)
        return 24;
    /* Reading group is what it does; truncating it, or reading any other
     * file, is not. */
    if (openat(dir_fd, "group", O_RDONLY | O_TRUNC | O_CLOEXEC) >= 0 || errno != EPERM)
        return 26;
    if (landlock && (openat(dir_fd, "shadow", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES))
        return 27;
    return 0;
}

static void test_group_writer_writes_only_through_its_prepared_files(void **state)
{
    (void)state;
    if (landlock_abi() == 0)
        skip();
    char etc[600], path[700];
    snprintf(etc, sizeof(etc), "%s/etc", scratch);
    assert_int_equal(mkdir(etc, 0755), 0);
    snprintf(path, sizeof(path), "%s/outside-w", scratch);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(create(etc, "group"), 0);
    assert_int_equal(create(etc, "shadow"), 0);
    assert_int_equal(in_child(writer_child), 0);
    snprintf(path, sizeof(path), "%s/group", etc);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 16); /* the rename happened */
    snprintf(path, sizeof(path), "%s/shadow", etc);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600); /* untouched */
    snprintf(path, sizeof(path), "%s/sudoers.d-planted", etc);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    if (mkdtemp(scratch) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_landlock_leaves_only_the_cache_writable),
        cmocka_unit_test(test_seccomp_denies_exec_and_id_changes),
        cmocka_unit_test(test_seccomp_ends_a_foreign_abi_call),
        cmocka_unit_test(test_built_filter_is_what_libseccomp_makes),
        cmocka_unit_test(test_memory_is_capped),
        cmocka_unit_test(test_group_writer_writes_only_through_its_prepared_files),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
    if (system(cmd) != 0)
        failed++;
    return failed;
}
