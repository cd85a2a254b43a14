/* confine_rules.c - the system calls pam_aad_helper and the group writer
 * may make, as libseccomp allowlists: anything else fails with EPERM. The
 * helper's filter is made from them when pam_aad is built
 * (helper/seccomp_export.c); the writer's at run time (its rules name the
 * descriptors it opened).
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request; and in the group
 * writer. */
#include "config.h"

#include "confine_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/filter.h>

#ifdef HAVE_SECCOMP

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What a login does after it has confined itself: memory, reading files
 * and the cache directory (Landlock says which), HTTPS over sockets, time,
 * the resolver's and the cache lock's threads, signals to itself, its own
 * end. Nothing changes a file's owner, mode, times or attributes,
 * truncates, links, makes devices, executes, traces, signals another
 * process, changes ids or capabilities, mounts, or talks to the kernel's
 * keyrings, BPF, modules or clock. */
static const int helper_allowed[] = {
    /* memory */
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    /* descriptors and files */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(close), SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(stat),
    SCMP_SYS(lstat), SCMP_SYS(statx), SCMP_SYS(fcntl), SCMP_SYS(flock), SCMP_SYS(fsync),
    SCMP_SYS(fdatasync), SCMP_SYS(getdents64), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
    SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(renameat),
    SCMP_SYS(rename), SCMP_SYS(renameat2), SCMP_SYS(unlinkat), SCMP_SYS(unlink), SCMP_SYS(dup),
    SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(eventfd2),
    /* the network (socket() and socketpair() by family below) */
    SCMP_SYS(connect), SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown),
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
    SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
    /* time */
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(alarm),
    /* the process itself */
    SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
    SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getresuid), SCMP_SYS(getresgid),
    SCMP_SYS(getgroups), SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrandom),
    SCMP_SYS(getrlimit), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(futex), SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(membarrier),
    SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
    /* No exception for a sanitizer build: LeakSanitizer, which would need
     * clone and ptrace at exit, is off in it (sanitizer_options.c), so ASan
     * runs check this very filter. */
};

/* Rules with a condition on an argument. */
static int add_conditional_rules(scmp_filter_ctx ctx)
{
    const scmp_datum_t families[] = {AF_INET, AF_INET6, AF_UNIX};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < COUNT(families); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, families[i]));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
                              SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    /* Threads, never another process. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    /* Opening for reading, or making a new cache file; never truncating. */
    const scmp_datum_t no_trunc = O_TRUNC;
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, no_trunc, 0));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, no_trunc, 0));
    /* Its own priority lowered to idle after its verdict (relay_ui.c);
     * never another process's, never raised. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_setscheduler), 2,
                              SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A1(SCMP_CMP_EQ, SCHED_IDLE));
    /* Reading limits, not setting them. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
                              SCMP_A2(SCMP_CMP_EQ, 0));
    /* glibc makes threads with clone3 when it can: ENOSYS makes it use
     * clone, whose flags a filter can see (clone3's are in memory). */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    return rc;
}

/* An allowlist filter: calls is allowed, everything else EPERM; a system
 * call of another architecture ends the thread (KILL_PROCESS needs the
 * seccomp() system call, which valgrind does not emulate). */
static scmp_filter_ctx allowlist(const int *calls, size_t n)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (ctx == NULL)
        return NULL;
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL);
    if (rc == 0) /* the kernel's own error codes, so that ENOSYS can be told apart */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    /* A binary tree, not a list of ~130 comparisons: the kernel runs the
     * filter over every system call number when it loads it (its action
     * cache), and for each call made after: loading took 0.15 ms, 0.055
     * with the tree. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
    if (rc != 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

scmp_filter_ctx confine_rules_helper(void)
{
    scmp_filter_ctx ctx = allowlist(helper_allowed, COUNT(helper_allowed));
    if (ctx != NULL && add_conditional_rules(ctx) != 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

/* The group writer, once it holds its descriptors: reading and writing
 * through them, reading more of the directory by dir_fd, renaming and
 * removing entries of it; its socket to the module; nothing else. */
static const int writer_allowed[] = {
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(lseek), SCMP_SYS(fstat),
    SCMP_SYS(newfstatat), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fcntl), SCMP_SYS(poll),
    SCMP_SYS(ppoll), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getpid), SCMP_SYS(getuid),
    SCMP_SYS(geteuid), SCMP_SYS(getrandom), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(futex), SCMP_SYS(alarm), SCMP_SYS(restart_syscall),
    SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef UNDER_ASAN
    /* AddressSanitizer's own run time (its signal stack, its reports);
     * LeakSanitizer is off in these programs (sanitizer_options.c). */
    SCMP_SYS(sigaltstack), SCMP_SYS(sched_getaffinity), SCMP_SYS(getpgid), SCMP_SYS(mprotect),
    SCMP_SYS(readlink), SCMP_SYS(tgkill), SCMP_SYS(kill), SCMP_SYS(gettid),
#endif
};

int confine_rules_writer(scmp_filter_ctx *out, int dir_fd, int first_tmp, int last_tmp)
{
    *out = allowlist(writer_allowed, COUNT(writer_allowed));
    if (*out == NULL)
        return -ENOMEM;
    scmp_filter_ctx ctx = *out;
    const scmp_datum_t dfd = (scmp_datum_t)(unsigned)dir_fd;
    /* Only for reading (no creating, truncating or writing), by dir_fd. */
    const scmp_datum_t mode_bits = O_ACCMODE | O_CREAT | O_TRUNC | __O_TMPFILE | O_APPEND;
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2, SCMP_A0(SCMP_CMP_EQ, dfd),
                              SCMP_A2(SCMP_CMP_MASKED_EQ, mode_bits, O_RDONLY));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(renameat), 2,
                              SCMP_A0(SCMP_CMP_EQ, dfd), SCMP_A2(SCMP_CMP_EQ, dfd));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 2,
                              SCMP_A0(SCMP_CMP_EQ, dfd), SCMP_A2(SCMP_CMP_EQ, 0));
    /* The temporary files take the old files' owner and mode. */
    const int by_fd[] = {SCMP_SYS(fchmod), SCMP_SYS(fchown)};
    for (size_t i = 0; rc == 0 && i < COUNT(by_fd); i++) {
        for (int fd = first_tmp; rc == 0 && fd <= last_tmp; fd++)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, by_fd[i], 1,
                                  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)(unsigned)fd));
    }
    return rc;
}

size_t confine_rules_export(struct sock_filter *out, size_t max)
{
    scmp_filter_ctx ctx = confine_rules_helper();
    FILE *bpf = tmpfile();
    size_t n = 0;
    if (ctx != NULL && bpf != NULL && seccomp_export_bpf(ctx, fileno(bpf)) == 0) {
        rewind(bpf);
        n = fread(out, sizeof(*out), max, bpf);
        if (n == max && fgetc(bpf) != EOF)
            n = 0; /* longer than out */
    }
    if (ctx != NULL)
        seccomp_release(ctx);
    if (bpf != NULL)
        fclose(bpf);
    return n;
}

#endif
