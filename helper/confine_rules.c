/* confine_rules.c - the system calls pam_aad_helper and its group writer
 * give up, as libseccomp rules. The helper's filter is made from them when
 * pam_aad is built (helper/seccomp_export.c); the writer's at run time.
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#include "config.h"

#include "confine_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/filter.h>

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

int confine_rules_writer(scmp_filter_ctx ctx, int dir_fd, int first_tmp, int last_tmp)
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

scmp_filter_ctx confine_rules_helper(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return NULL;
    /* Another architecture's system call ends the calling thread (KILL_PROCESS
     * needs the seccomp() system call, which valgrind does not emulate). */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL);
    if (rc == 0) /* the kernel's own error codes, so that ENOSYS can be told apart */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (rc == 0)
        rc = deny_all(ctx, denied_syscalls, COUNT(denied_syscalls));
    if (rc != 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
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
