/* landlock.c - Landlock rules chosen from the running kernel's ABI.
 *
 * The kernel's own definitions, as of ABI 6 (Linux 6.12): the project
 * carries them so that what is requested depends on the kernel a login
 * runs on, never on the headers of the machine that built the helper.
 *
 * Where it runs: in pam_aad_helper and the group writer, before their first
 * request. */
#include "config.h"

#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

/* File-system rights, with the ABI that brought each. */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_FS_ABI1 ((1ULL << 13) - 1)
/* Network rights (ABI 4) and scopes (ABI 6). */
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* Rights that apply to a regular file (not to directories). */
#define LL_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | \
                        LL_FS_IOCTL_DEV)

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
} __attribute__((packed));

static int running_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return abi > 0 ? (int)abi : 0;
}

/* Everything the kernel of this ABI can refuse. */
static void handled_by(int abi, struct landlock_applied *a)
{
    a->abi = abi;
    a->fs = abi >= 1 ? LL_FS_ABI1 : 0;
    if (abi >= 2)
        a->fs |= LL_FS_REFER;
    if (abi >= 3)
        a->fs |= LL_FS_TRUNCATE;
    if (abi >= 5)
        a->fs |= LL_FS_IOCTL_DEV;
    a->net = abi >= 4 ? LL_NET_BIND_TCP | LL_NET_CONNECT_TCP : 0;
    a->scoped = abi >= 6 ? LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL : 0;
}

static int new_ruleset(const struct landlock_applied *a)
{
    struct ll_ruleset_attr attr = {a->fs, a->net, a->scoped};
    /* Each ABI knows the attribute up to its own last field. */
    size_t size = a->abi >= 6 ? sizeof(attr) : a->abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
    return (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
}

static int allow_path(int ruleset, const char *path, uint64_t rights)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ll_path_beneath_attr rule = {rights, fd};
    long rc = syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc == 0 ? 0 : -1;
}

static int allow_port(int ruleset, uint16_t port)
{
    struct ll_net_port_attr rule = {LL_NET_CONNECT_TCP, port};
    return syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) == 0 ? 0 : -1;
}

static int enforce(int ruleset, int rc)
{
    if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        rc = -1;
    if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
        rc = -1;
    int saved = errno;
    close(ruleset);
    errno = saved;
    return rc;
}

int landlock_confine_helper(const char *cache_dir, const uint16_t *ports, size_t n,
                            struct landlock_applied *applied)
{
    handled_by(running_abi(), applied);
    if (applied->abi == 0)
        return 0; /* no Landlock in this kernel (or disabled): nothing to apply */
    int ruleset = new_ruleset(applied);
    if (ruleset < 0)
        return -1;
    const uint64_t read_only = LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_EXECUTE;
    /* The cache: its entries are written to a new file and renamed. */
    const uint64_t cache = LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_WRITE_FILE | LL_FS_MAKE_REG |
                           LL_FS_REMOVE_FILE;
    int rc = allow_path(ruleset, "/", read_only & applied->fs);
    if (rc == 0)
        rc = allow_path(ruleset, cache_dir, cache & applied->fs);
    for (size_t i = 0; rc == 0 && applied->net != 0 && i < n; i++)
        rc = allow_port(ruleset, ports[i]);
    return enforce(ruleset, rc);
}

int landlock_confine_writer(const char *dir, const char *const *read_only, size_t n,
                            struct landlock_applied *applied)
{
    handled_by(running_abi(), applied);
    if (applied->abi == 0)
        return 0;
    int ruleset = new_ruleset(applied);
    if (ruleset < 0)
        return -1;
    /* Renaming a file over another in dir: remove the one, make the other. */
    int rc = allow_path(ruleset, dir, (LL_FS_REMOVE_FILE | LL_FS_MAKE_REG) & applied->fs);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (allow_path(ruleset, read_only[i], LL_FS_READ_FILE & applied->fs) != 0 &&
            errno != ENOENT) /* gshadow is optional */
            rc = -1;
    }
    return enforce(ruleset, rc);
}

void landlock_describe(const struct landlock_applied *a, char *buf, size_t size)
{
    static const char *const fs_names[] = {
        "execute",   "write_file", "read_file",  "read_dir", "remove_dir", "remove_file",
        "make_char", "make_dir",   "make_reg",   "make_sock", "make_fifo", "make_block",
        "make_sym",  "refer",      "truncate",   "ioctl_dev"};
    static const char *const net_names[] = {"bind_tcp", "connect_tcp"};
    static const char *const scope_names[] = {"abstract_unix_socket", "signal"};
    const struct {
        const char *label;
        uint64_t bits;
        const char *const *names;
        size_t count;
    } groups[] = {{"fs", a->fs, fs_names, 16}, {"net", a->net, net_names, 2},
                  {"scoped", a->scoped, scope_names, 2}};
    size_t used = (size_t)snprintf(buf, size, "ABI %d", a->abi);
    for (size_t g = 0; g < 3 && used < size; g++) {
        if (groups[g].bits == 0)
            continue;
        used += (size_t)snprintf(buf + used, size - used, "%s %s", g == 0 ? ":" : ";",
                                 groups[g].label);
        for (size_t i = 0; i < groups[g].count && used < size; i++) {
            if (groups[g].bits & (1ULL << i))
                used += (size_t)snprintf(buf + used, size - used, " %s", groups[g].names[i]);
        }
    }
    if (a->abi == 0 && size > 0)
        snprintf(buf, size, "none (the kernel has no Landlock)");
}
