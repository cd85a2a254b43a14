/* confine.c - memory limit, Landlock and seccomp for pam_aad_helper.
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
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

#include "confine_rules.h"

#ifdef HAVE_SECCOMP
#include <linux/filter.h>
#include <linux/seccomp.h>
#ifdef HAVE_CONFINE_FILTER_H
#include "confine_filter.h"
#endif
#endif

/* A login parses at most a few MiB of answers; OpenSSL, libcurl and glibc
 * map a few dozen MiB of their own. */
#define HELPER_ADDRESS_SPACE (1024L * 1024 * 1024)

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

/* Loads a filter libseccomp has just made (rc: how making it went) and
 * releases it. 1; 0 where the kernel runs no seccomp filters (valgrind does
 * not emulate them either); -1 with errno. */
static int load_and_release(scmp_filter_ctx ctx, int rc)
{
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc == -ENOSYS)
        return 0;
    errno = rc < 0 ? -rc : errno;
    return rc == 0 ? 1 : -1;
}

/* The group writer's filter: the helper's rules and its own, made at run
 * time (its rules name descriptors only known then). */
static int load_writer_filter(int dir_fd, int first_tmp, int last_tmp)
{
    scmp_filter_ctx ctx = confine_rules_helper();
    if (ctx == NULL)
        return -1;
    return load_and_release(ctx, confine_rules_writer(ctx, dir_fd, first_tmp, last_tmp));
}

#ifdef HAVE_CONFINE_FILTER_H
/* The helper's own filter is the same for every login: libseccomp made it
 * when pam_aad was built (helper/seccomp_export.c), which saves each login
 * the third of a millisecond libseccomp takes to make it. Loaded as
 * seccomp_load() would: no_new_privs, then the seccomp() system call. */
int confine_syscalls(void)
{
    struct sock_fprog prog = {(unsigned short)(sizeof(confine_helper_filter) /
                                               sizeof(confine_helper_filter[0])),
                              (struct sock_filter *)confine_helper_filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
        return 1;
    return errno == ENOSYS ? 0 : -1; /* ENOSYS: as in load_and_release */
}
#else
int confine_syscalls(void)
{
    scmp_filter_ctx ctx = confine_rules_helper();
    if (ctx == NULL)
        return -1;
    return load_and_release(ctx, 0);
}
#endif

#else

int confine_syscalls(void)
{
    return 0;
}

static int load_writer_filter(int dir_fd, int first_tmp, int last_tmp)
{
    (void)dir_fd, (void)first_tmp, (void)last_tmp;
    return 0;
}

#endif

int confine_group_writer(const char *dir, int dir_fd, int first_tmp, int last_tmp)
{
    if (confine_writer_files(dir) < 0)
        return -1;
    return load_writer_filter(dir_fd, first_tmp, last_tmp) < 0 ? -1 : 0;
}
