/* confine.c - memory limit and Landlock for pam_aad_helper. */
#include "config.h"

#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

/* A login parses at most a few MiB of answers; OpenSSL, libcurl and glibc
 * map a few dozen MiB of their own. */
#define HELPER_ADDRESS_SPACE (1024L * 1024 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

int confine_memory(void)
{
#ifdef UNDER_ASAN
    return 0;
#else
    struct rlimit rl = {HELPER_ADDRESS_SPACE, HELPER_ADDRESS_SPACE};
    return setrlimit(RLIMIT_AS, &rl);
#endif
}

#ifdef LANDLOCK_CREATE_RULESET_VERSION

/* The file-system rights each Landlock ABI knows. */
static uint64_t fs_rights(int abi)
{
    uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                 LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
    if (abi >= 2)
        r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
    if (abi >= 3)
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
    (void)abi;
    return r;
}

static int allow(int ruleset, const char *path, uint64_t rights)
{
    struct landlock_path_beneath_attr rule = {.allowed_access = rights};
    rule.parent_fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
    if (rule.parent_fd < 0)
        return -1;
    long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int saved = errno;
    close(rule.parent_fd);
    errno = saved;
    return rc == 0 ? 0 : -1;
}

/* Applies a ruleset handling every right this ABI knows, granting
 * rights[i] beneath paths[i] (a missing path is skipped when may_miss). */
static int restrict_files(long abi, const char *const *paths, const uint64_t *rights, size_t n,
                          int may_miss)
{
    struct landlock_ruleset_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.handled_access_fs = fs_rights((int)abi);
    size_t attr_size = offsetof(struct landlock_ruleset_attr, handled_access_fs) +
                       sizeof(attr.handled_access_fs);
#if defined(LANDLOCK_SCOPE_SIGNAL)
    if (abi >= 6) {
        attr.scoped = LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
        attr_size = sizeof(attr);
    }
#endif
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (allow(ruleset, paths[i], rights[i] & attr.handled_access_fs) != 0 &&
            !(may_miss && i > 0 && errno == ENOENT))
            rc = -1;
    }
    if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        rc = -1;
    if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
        rc = -1;
    int saved = errno;
    close(ruleset);
    errno = saved;
    return rc == 0 ? (int)abi : -1;
}

#define READ_ONLY (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

static long landlock_version(void)
{
    return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

int confine_files(const char *cache_dir)
{
    long abi = landlock_version();
    if (abi < 1)
        return 0; /* no Landlock in this kernel (or disabled): nothing to apply */
    /* The cache is the one place a login writes; it must exist before a
     * rule can name it (aad_cache checks its owner and mode as always). */
    mkdir(cache_dir, 0700);
    const char *paths[] = {"/", cache_dir};
    const uint64_t rights[] = {READ_ONLY | LANDLOCK_ACCESS_FS_EXECUTE, fs_rights((int)abi)};
    return restrict_files(abi, paths, rights, 2, 1);
}

static int confine_writer_files(const char *dir)
{
    long abi = landlock_version();
    if (abi < 1)
        return 0;
    /* In dir: making a regular file and removing one, which is what a
     * rename within it needs; no writing to anything opened from now on. */
    const char *paths[] = {"/", dir};
    const uint64_t rights[] = {READ_ONLY, READ_ONLY | LANDLOCK_ACCESS_FS_MAKE_REG |
                                              LANDLOCK_ACCESS_FS_REMOVE_FILE};
    return restrict_files(abi, paths, rights, dir ? 2 : 1, 0);
}

#else

int confine_files(const char *cache_dir)
{
    (void)cache_dir;
    return 0;
}

static int confine_writer_files(const char *dir)
{
    (void)dir;
    return 0;
}

#endif

#ifdef HAVE_SECCOMP

/* Nothing a login does (HTTPS, JSON, the cache, the relay) needs these. */
static const int denied_syscalls[] = {
    SCMP_SYS(execve), SCMP_SYS(execveat),
#ifndef UNDER_ASAN
    SCMP_SYS(ptrace), /* LeakSanitizer stops the world with ptrace at exit */
#endif
    SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
    SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid), SCMP_SYS(setregid),
    SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups), SCMP_SYS(setfsuid),
    SCMP_SYS(setfsgid), SCMP_SYS(capset), SCMP_SYS(personality),
    SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
    SCMP_SYS(fsopen), SCMP_SYS(fsconfig), SCMP_SYS(fsmount), SCMP_SYS(fspick),
    SCMP_SYS(move_mount), SCMP_SYS(open_tree), SCMP_SYS(mount_setattr),
    SCMP_SYS(pidfd_getfd), SCMP_SYS(process_madvise), SCMP_SYS(kcmp),
    SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register),
    SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(open_by_handle_at),
    SCMP_SYS(name_to_handle_at), SCMP_SYS(fanotify_init), SCMP_SYS(quotactl),
    SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
    SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(reboot), SCMP_SYS(swapon),
    SCMP_SYS(swapoff), SCMP_SYS(acct), SCMP_SYS(iopl), SCMP_SYS(ioperm), SCMP_SYS(syslog),
    SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd), SCMP_SYS(keyctl),
    SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(io_uring_setup),
    SCMP_SYS(clock_settime), SCMP_SYS(clock_adjtime), SCMP_SYS(settimeofday),
    SCMP_SYS(adjtimex), SCMP_SYS(sethostname), SCMP_SYS(setdomainname),
};

/* What the group writer never does either: make sockets, links, nodes or
 * directories, change files by name, set attributes or flags. */
static const int writer_denied_syscalls[] = {
    SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
    SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(link), SCMP_SYS(linkat),
    SCMP_SYS(symlink), SCMP_SYS(symlinkat), SCMP_SYS(mknod), SCMP_SYS(mknodat),
    SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(rename),
    SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(creat), SCMP_SYS(truncate),
    SCMP_SYS(chmod), SCMP_SYS(fchmodat), SCMP_SYS(chown), SCMP_SYS(lchown),
    SCMP_SYS(fchownat), SCMP_SYS(ioctl), SCMP_SYS(setxattr), SCMP_SYS(lsetxattr),
    SCMP_SYS(fsetxattr), SCMP_SYS(removexattr), SCMP_SYS(lremovexattr),
    SCMP_SYS(fremovexattr), SCMP_SYS(utimensat), SCMP_SYS(utime), SCMP_SYS(utimes),
    SCMP_SYS(futimesat), SCMP_SYS(memfd_create), SCMP_SYS(fork), SCMP_SYS(vfork),
};

#define DENY SCMP_ACT_ERRNO(EPERM)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int deny_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = seccomp_rule_add(ctx, DENY, calls[i], 0);
    return rc;
}

/* Renames and unlinks only within dir_fd; fchmod/fchown only on the
 * descriptors first_tmp..last_tmp; no open that creates. */
static int writer_rules(scmp_filter_ctx ctx, int dir_fd, int first_tmp, int last_tmp)
{
    int rc = deny_all(ctx, writer_denied_syscalls, COUNT(writer_denied_syscalls));
    scmp_datum_t dfd = (scmp_datum_t)(unsigned)dir_fd;
    if (rc == 0)
        rc = seccomp_rule_add(ctx, DENY, SCMP_SYS(renameat), 1, SCMP_A0(SCMP_CMP_NE, dfd));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, DENY, SCMP_SYS(renameat), 1, SCMP_A2(SCMP_CMP_NE, dfd));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, DENY, SCMP_SYS(unlinkat), 1, SCMP_A0(SCMP_CMP_NE, dfd));
    const scmp_datum_t creating[] = {O_CREAT, __O_TMPFILE};
    for (size_t i = 0; i < COUNT(creating); i++) {
        if (rc == 0)
            rc = seccomp_rule_add(ctx, DENY, SCMP_SYS(open), 1,
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, creating[i], creating[i]));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, DENY, SCMP_SYS(openat), 1,
                                  SCMP_A2(SCMP_CMP_MASKED_EQ, creating[i], creating[i]));
    }
    if (rc == 0)
        rc = seccomp_rule_add(ctx, DENY, SCMP_SYS(openat2), 0);
    const int by_fd[] = {SCMP_SYS(fchmod), SCMP_SYS(fchown)};
    for (size_t i = 0; rc == 0 && i < COUNT(by_fd); i++) {
        rc = seccomp_rule_add(ctx, DENY, by_fd[i], 1,
                              SCMP_A0(SCMP_CMP_LT, (scmp_datum_t)(unsigned)first_tmp));
        if (rc == 0)
            rc = seccomp_rule_add(ctx, DENY, by_fd[i], 1,
                                  SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)(unsigned)last_tmp));
    }
    return rc;
}

/* The helper's filter, and with writer set the group writer's on top. */
static int load_filter(int writer, int dir_fd, int first_tmp, int last_tmp)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return -1;
    /* Another architecture's system call ends the calling thread (KILL_PROCESS
     * needs the seccomp() system call, which valgrind does not emulate). */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL);
    if (rc == 0) /* the kernel's own error codes, so that ENOSYS can be told apart */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (rc == 0)
        rc = deny_all(ctx, denied_syscalls, COUNT(denied_syscalls));
    if (rc == 0 && writer)
        rc = writer_rules(ctx, dir_fd, first_tmp, last_tmp);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc == -ENOSYS)
        return 0; /* no seccomp filters here (valgrind does not emulate them either) */
    errno = rc < 0 ? -rc : errno;
    return rc == 0 ? 1 : -1;
}

int confine_syscalls(void)
{
    return load_filter(0, -1, -1, -1);
}

#else

int confine_syscalls(void)
{
    return 0;
}

static int load_filter(int writer, int dir_fd, int first_tmp, int last_tmp)
{
    (void)writer, (void)dir_fd, (void)first_tmp, (void)last_tmp;
    return 0;
}

#endif

int confine_group_writer(const char *dir, int dir_fd, int first_tmp, int last_tmp)
{
    if (confine_writer_files(dir) < 0)
        return -1;
    return load_filter(1, dir_fd, first_tmp, last_tmp) < 0 ? -1 : 0;
}
