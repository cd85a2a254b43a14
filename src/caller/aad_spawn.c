/* aad_spawn.c - executing pam_aad_helper with nothing of the caller's.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Descriptors are moved at least this high before fork, so that the dup2
 * calls into 0..4 in the child never overwrite one another. */
#define HIGH_FD 10
#define CHILD_EXE_FD 3
#define CHILD_ERR_FD 4

/* What the helper may use: a login takes well under a second of CPU (the
 * limit leaves room for valgrind), writes cache files of at most a few
 * hundred KiB and opens a handful of descriptors. */
#define HELPER_CPU_SECONDS 120
#define HELPER_OPEN_FILES 256

static const char *const helper_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

/* Where the child failed, reported with errno on the error pipe. */
enum child_step { STEP_IDS = 1, STEP_DIRECTORY, STEP_DESCRIPTORS, STEP_LIMITS, STEP_PRCTL, STEP_EXEC,
                  STEP_START };

/* 32-bit ids where the system has both kinds (i386, arm). */
#ifdef SYS_setresuid32
#define SYS_SETRESUID SYS_setresuid32
#define SYS_SETRESGID SYS_setresgid32
#else
#define SYS_SETRESUID SYS_setresuid
#define SYS_SETRESGID SYS_setresgid
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* The helper's stack between its clone and its exec (a few frames). */
#define CHILD_STACK_BYTES (64 * 1024)

/* What the helper-to-be needs between its clone and its exec. */
struct child_args {
    int exe_fd, sock_fd, null_fd, err_fd;
    pid_t parent; /* the reaper */
    rlim_t file_bytes;
    char *const *argv;
};

static enum aad_status check_helper_file(int fd, const char *path, struct aad_error *err)
{
    struct stat st;
    uid_t me = geteuid();
    if (fstat(fd, &st) != 0)
        return aad_fail(err, AAD_CONFIG_ERROR, "helper %s: cannot stat it", path);
    if (!S_ISREG(st.st_mode))
        return aad_fail(err, AAD_CONFIG_ERROR, "helper %s is not a regular file", path);
    if (st.st_uid != 0 && (me == 0 || st.st_uid != me))
        return aad_fail(err, AAD_CONFIG_ERROR, "helper %s is owned by uid %lu, not by root", path,
                        (unsigned long)st.st_uid);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return aad_fail(err, AAD_CONFIG_ERROR, "helper %s is writable by group or others", path);
    if (!(st.st_mode & S_IXUSR))
        return aad_fail(err, AAD_CONFIG_ERROR, "helper %s is not executable", path);
    return AAD_OK;
}

static int move_high(int fd)
{
    if (fd < 0)
        return -1;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
    close(fd);
    return high;
}

static void child_fail(int err_fd, enum child_step step)
{
    int report[2] = {(int)step, errno};
    ssize_t ignored = write(err_fd, report, sizeof(report));
    (void)ignored;
    _exit(127);
}

static void close_from(int first)
{
    if (close_range((unsigned)first, ~0U, 0) == 0)
        return;
    struct rlimit rl;
    /* The hard limit: the soft one is the (possibly hostile) caller's to lower. */
    int last = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < 1048576 ? (int)rl.rlim_max
                                                                          : 1048576;
    for (int fd = first; fd < last; fd++)
        close(fd);
}

static int limit(int resource, rlim_t value)
{
    struct rlimit rl = {value, value};
    return setrlimit(resource, &rl);
}

/* Descriptors: the soft limit only (valgrind, which runs the helper in the
 * memory-check gate, refuses any change of this hard limit). */
static int limit_open_files(rlim_t value)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > value)
        rl.rlim_cur = value;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

/* In the helper-to-be, between its clone and its exec, on the reaper's
 * memory (CLONE_VM): async-signal-safe calls only, nothing allocated. */
static int child_exec(void *arg)
{
    const struct child_args *a = arg;
    int err_fd = a->err_fd;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL); /* SIGKILL, SIGSTOP and the reserved ones fail: fine */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid(); /* no controlling terminal: nothing can prompt on /dev/tty */
    if (chdir("/") != 0) /* not the caller's working directory */
        child_fail(err_fd, STEP_DIRECTORY);
    umask(077);

    /* Every source is >= HIGH_FD, so no dup2 below overwrites another's. */
    if (dup2(a->sock_fd, 0) < 0 || dup2(a->null_fd, 1) < 0 || dup2(a->null_fd, 2) < 0 ||
        dup2(a->exe_fd, CHILD_EXE_FD) < 0 || dup2(err_fd, CHILD_ERR_FD) < 0)
        child_fail(err_fd, STEP_DESCRIPTORS);
    err_fd = CHILD_ERR_FD;
    if (fcntl(CHILD_EXE_FD, F_SETFD, FD_CLOEXEC) != 0 || fcntl(CHILD_ERR_FD, F_SETFD, FD_CLOEXEC) != 0)
        child_fail(err_fd, STEP_DESCRIPTORS);
    close_from(CHILD_ERR_FD + 1);

    if (limit(RLIMIT_CPU, HELPER_CPU_SECONDS) != 0 || limit(RLIMIT_FSIZE, a->file_bytes) != 0 ||
        limit_open_files(HELPER_OPEN_FILES) != 0 || limit(RLIMIT_CORE, 0) != 0)
        child_fail(err_fd, STEP_LIMITS);

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(err_fd, STEP_PRCTL);
    if (getppid() != a->parent) /* the reaper died before PDEATHSIG was armed */
        _exit(127);

    fexecve(CHILD_EXE_FD, a->argv, (char *const *)helper_env);
    child_fail(err_fd, STEP_EXEC);
    return 127;
}


/* The helper's wait status as an exit status of the reaper's: its own
 * below 128, a signal's as 128 + the signal (aad_describe_wait_status). */
static int mirror_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status) < 128 ? WEXITSTATUS(status) : 127;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
}

/* The reaper: the module's child, which starts the helper and waits for
 * its end. A copy of the caller that never executes anything, so it is
 * and stays a "clone" child (clone_quiet): its end sends the caller no
 * signal and the caller's own waits (wait, waitpid(-1)) never see it. So
 * the module can act on the helper's verdict at once and reap the reaper
 * later, while the kernel tears the helper down (0.5-1.3 ms), and leaves
 * the caller's SIGCHLD disposition alone. The price: while it lives, a page
 * the caller writes is copied once (copy-on-write) - a few dozen pages in
 * sshd's, sudo's or su's PAM process, which waits in the conversation.
 * It dies with the caller, and the helper with it (PDEATHSIG both). Every signal stays blocked: the
 * caller's handlers are in its memory. No fork handler ran in it, so the
 * ids are set by the system calls themselves (glibc's wrappers would
 * signal the threads it lists, the caller's). */
static void reaper_main(struct child_args *a, pid_t caller)
{
    /* It holds a copy of the caller's memory: no core dump of it, and no
     * tracing but by a privileged tracer. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0)
        child_fail(a->err_fd, STEP_PRCTL);
    if (getppid() != caller) /* the caller died before PDEATHSIG was armed */
        _exit(127);
    /* A setuid caller has the invoking user as real uid and that user's
     * groups: reaper and helper are root through and through, so the user
     * can neither signal nor trace them. */
    if (geteuid() == 0 &&
        (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_SETRESGID, 0, 0, 0) != 0 ||
         syscall(SYS_SETRESUID, 0, 0, 0) != 0))
        child_fail(a->err_fd, STEP_IDS);
    a->parent = getpid();
    /* vfork's way (the reaper waits until the helper executes): no copy
     * of the caller's page tables to make and then drop. */
    void *stack = mmap(NULL, CHILD_STACK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        child_fail(a->err_fd, STEP_START);
    pid_t helper = clone(child_exec, (char *)stack + CHILD_STACK_BYTES,
                         CLONE_VM | CLONE_VFORK | SIGCHLD, a);
    if (helper < 0)
        child_fail(a->err_fd, STEP_START);
    close_from(0); /* the caller's descriptors: the error pipe's end too */
    int status;
    pid_t w;
    while ((w = waitpid(helper, &status, __WALL)) < 0 && errno == EINTR)
        ;
    _exit(w == helper ? mirror_status(status) : 127);
}

/* Like fork(), but the child's end sends no signal (a "clone" child; it
 * stays one as long as it executes nothing). *pidfd: the child's pidfd
 * (clone3, Linux 5.3), or -1. */
static pid_t clone_quiet(int *pidfd)
{
    *pidfd = -1;
#ifdef SYS_clone3
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid >= 0 || (errno != ENOSYS && errno != EINVAL && errno != EPERM))
        return (pid_t)pid;
    *pidfd = -1;
#endif
    /* Flags 0 (no exit signal), every other argument 0: the same call on
     * every architecture, whatever the order of clone's arguments. */
    return (pid_t)syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
}

/* Waits (bounded) for the child to exec: EOF on the error pipe means it did. */
static enum aad_status await_exec(int err_fd, const char *path, struct aad_error *err)
{
    int report[2] = {0, 0};
    size_t got = 0;
    int64_t deadline = aad_monotonic_ms() + 5000;
    while (got < sizeof(report)) {
        int64_t left = deadline - aad_monotonic_ms();
        struct pollfd pfd = {err_fd, POLLIN, 0};
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return aad_fail(err, AAD_UNAVAILABLE, "helper %s did not start in time", path);
        ssize_t r = read(err_fd, (char *)report + got, sizeof(report) - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == 0)
        return AAD_OK;
    static const char *const steps[] = {"?", "set its ids", "change to /", "set up its descriptors",
                                        "set its limits", "set no_new_privs", "execute it",
                                        "start it"};
    int step = report[0] >= STEP_IDS && report[0] <= STEP_START ? report[0] : 0;
    return aad_fail(err, step == STEP_EXEC ? AAD_CONFIG_ERROR : AAD_UNAVAILABLE,
                    "helper %s: cannot %s: %s", path, steps[step], strerror(report[1]));
}

enum aad_status aad_helper_open(const char *path, int *fd, struct aad_error *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return aad_fail(err, AAD_CONFIG_ERROR, "helper %s: %s", path, strerror(errno));
    enum aad_status st = check_helper_file(*fd, path, err);
    if (st != AAD_OK) {
        close(*fd);
        *fd = -1;
    }
    return st;
}

enum aad_status aad_helper_start(const char *path, long file_bytes, struct aad_helper_proc *out,
                                 struct aad_error *err)
{
    /* Its name, prepared here: the child may not allocate. */
    const char *slash = strrchr(path, '/');
    char name[64];
    snprintf(name, sizeof(name), "%s", slash ? slash + 1 : path);
    char *const argv[] = {name, NULL};
    out->pid = 0;
    out->fd = -1;
    out->pidfd = -1;
    int exe_fd = -1;
    enum aad_status st = aad_helper_open(path, &exe_fd, err);
    if (st != AAD_OK)
        return st;
    int sv[2] = {-1, -1}, pipe_fds[2] = {-1, -1};
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe2(pipe_fds, O_CLOEXEC) != 0) {
        st = aad_fail(err, AAD_UNAVAILABLE, "cannot set up the helper's descriptors: %s",
                      strerror(errno));
        goto out;
    }
    /* Ours too: with the caller's 0-2 closed they would land there, and the
     * caller's own writes to stderr would enter the protocol. */
    exe_fd = move_high(exe_fd);
    null_fd = move_high(null_fd);
    sv[0] = move_high(sv[0]);
    sv[1] = move_high(sv[1]);
    pipe_fds[0] = move_high(pipe_fds[0]);
    pipe_fds[1] = move_high(pipe_fds[1]);
    if (exe_fd < 0 || null_fd < 0 || sv[0] < 0 || sv[1] < 0 || pipe_fds[0] < 0 || pipe_fds[1] < 0) {
        st = aad_fail(err, AAD_UNAVAILABLE, "cannot set up the helper's descriptors");
        goto out;
    }

    /* No handler of the caller's may run in the child before the child has
     * reset them all: every signal is blocked across fork. */
    sigset_t all, caller_mask;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &caller_mask);
    struct child_args args = {exe_fd, sv[1], null_fd, pipe_fds[1], 0, (rlim_t)file_bytes, argv};
    pid_t caller = getpid();
    pid_t pid = clone_quiet(&out->pidfd);
    if (pid == 0)
        reaper_main(&args, caller);
    sigprocmask(SIG_SETMASK, &caller_mask, NULL);
    if (pid < 0) {
        st = aad_fail(err, AAD_UNAVAILABLE, "cannot start the helper: %s", strerror(errno));
        goto out;
    }
    out->pid = pid;
    close(pipe_fds[1]);
    pipe_fds[1] = -1;
    st = await_exec(pipe_fds[0], path, err);
    out->fd = sv[0];
    sv[0] = -1;
    if (st != AAD_OK)
        aad_helper_finish(out, 0);
out:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (pipe_fds[i] >= 0)
            close(pipe_fds[i]);
    }
    if (exe_fd >= 0)
        close(exe_fd);
    if (null_fd >= 0)
        close(null_fd);
    return st;
}

/* 1 when the reaper has ended (reaped now, its status in *status) or is
 * not ours to wait for. __WALL: it is a clone child. */
static int reaped(pid_t pid, int *status)
{
    pid_t w;
    while ((w = waitpid(pid, status, WNOHANG | __WALL)) < 0 && errno == EINTR)
        ;
    return w == pid || w < 0;
}

void aad_helper_drop_pidfd(struct aad_helper_proc *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
}

static void forget(struct aad_helper_proc *p)
{
    aad_helper_drop_pidfd(p);
    p->pid = 0;
}

int aad_helper_reap(struct aad_helper_proc *p, int *status)
{
    *status = -1;
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    if (p->pid <= 0)
        return 1;
    if (!reaped(p->pid, status))
        return 0;
    forget(p);
    return 1;
}

int aad_helper_finish(struct aad_helper_proc *p, long grace_ms)
{
    int status = -1;
    if (aad_helper_reap(p, &status))
        return status;
    int64_t deadline = aad_monotonic_ms() + grace_ms;
    for (;;) {
        int64_t left = deadline - aad_monotonic_ms();
        if (left <= 0) {
            /* The reaper's death is the helper's (PDEATHSIG). */
            kill(p->pid, SIGKILL);
            while (waitpid(p->pid, &status, __WALL) < 0 && errno == EINTR)
                ;
            break;
        }
        /* A pidfd becomes readable when the reaper exits: no polling delay
         * (Linux >= 5.3; otherwise check every 2 ms). */
        if (p->pidfd >= 0) {
            struct pollfd pfd = {p->pidfd, POLLIN, 0};
            poll(&pfd, 1, (int)left);
        } else {
            struct timespec pause = {0, 2 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (reaped(p->pid, &status))
            break;
    }
    forget(p);
    return status;
}

void aad_describe_wait_status(int status, char *buf, size_t size)
{
    if (status == -1)
        snprintf(buf, size, "status unknown");
    else if (WIFEXITED(status) && WEXITSTATUS(status) > 128) /* mirror_status */
        snprintf(buf, size, "killed by signal %d", WEXITSTATUS(status) - 128);
    else if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, size, "stopped");
}
