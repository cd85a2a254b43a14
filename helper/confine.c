/* confine.c - memory limit, Landlock, root given up and seccomp, in the
 * order they must come.
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request; and in the group
 * writer. */
#include "config.h"

#include "confine.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine_rules.h"
#include "identity.h"

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
#define DNS_PORT 53
#define HTTPS_PORT 443

int confine_memory(void)
{
#ifdef UNDER_ASAN
    return 0;
#else
    struct rlimit rl = {HELPER_ADDRESS_SPACE, HELPER_ADDRESS_SPACE};
    return setrlimit(RLIMIT_AS, &rl);
#endif
}

/* The port of scheme://[user@]host[:port][/...], or dflt. */
static uint16_t url_port(const char *url, uint16_t dflt)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t authority = strcspn(p, "/?#");
    const char *at = memchr(p, '@', authority);
    if (at != NULL) {
        authority -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *end = p + authority, *colon = NULL;
    const char *host_end = *p == '[' ? memchr(p, ']', authority) : p;
    for (const char *q = host_end ? host_end : p; q < end; q++) {
        if (*q == ':')
            colon = q;
    }
    if (colon == NULL)
        return dflt;
    long port = strtol(colon + 1, NULL, 10);
    return port > 0 && port <= 65535 ? (uint16_t)port : dflt;
}

size_t confine_login_ports(const struct aad_config *cfg, uint16_t *ports, size_t max)
{
    uint16_t all[4] = {DNS_PORT, url_port(cfg->authority, HTTPS_PORT),
                       url_port(cfg->graph_endpoint, HTTPS_PORT), 0};
    size_t n = 3;
    if (cfg->proxy != NULL) /* libcurl's default for a proxy without a port */
        all[n++] = url_port(cfg->proxy, strncmp(cfg->proxy, "https://", 8) == 0 ? 443 : 1080);
    size_t out = 0;
    for (size_t i = 0; i < n && out < max; i++) {
        int seen = 0;
        for (size_t j = 0; j < out; j++)
            seen |= ports[j] == all[i];
        if (!seen)
            ports[out++] = all[i];
    }
    return out;
}

#ifdef HAVE_SECCOMP

/* Loads a filter libseccomp has just made (rc: how making it went) and
 * releases it. 1; 0 where the kernel runs no seccomp filters (valgrind does
 * not emulate them either); -1 with errno. */
static int load_and_release(scmp_filter_ctx ctx, int rc)
{
    if (rc == 0)
        rc = seccomp_load(ctx);
    if (ctx != NULL)
        seccomp_release(ctx);
    if (rc == -ENOSYS)
        return 0;
    errno = rc < 0 ? -rc : errno;
    return rc == 0 ? 1 : -1;
}

static int load_writer_filter(int dir_fd, int first_tmp, int last_tmp)
{
    scmp_filter_ctx ctx = NULL;
    int rc = confine_rules_writer(&ctx, dir_fd, first_tmp, last_tmp);
    return load_and_release(ctx, rc);
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

int confine_helper(const struct aad_config *cfg, struct confine_report *report,
                   const char **step)
{
    memset(report, 0, sizeof(*report));
    struct helper_identity id;
    int64_t t0 = aad_monotonic_us();
    identity_lookup(&id);
    uint16_t ports[4];
    size_t n = confine_login_ports(cfg, ports, 4);
    *step = "the cache directory";
    if (identity_prepare_cache(&id, cfg->cache_dir) != 0)
        return -1;
    int64_t t1 = aad_monotonic_us();
    *step = "Landlock";
    if (landlock_confine_helper(cfg->cache_dir, ports, n, &report->landlock) != 0)
        return -1;
    int64_t t2 = aad_monotonic_us();
    *step = "giving up root";
    if (identity_drop(&id) != 0)
        return -1;
    int64_t t3 = aad_monotonic_us();
    identity_describe(&id, report->identity, sizeof(report->identity));
    *step = "seccomp";
    report->seccomp = confine_syscalls();
    int64_t t4 = aad_monotonic_us();
    report->cache_ms = (double)(t1 - t0) / 1e3;
    report->landlock_ms = (double)(t2 - t1) / 1e3;
    report->drop_ms = (double)(t3 - t2) / 1e3;
    report->seccomp_ms = (double)(t4 - t3) / 1e3;
    return report->seccomp < 0 ? -1 : 0;
}

int confine_group_writer(const char *dir, const char *const *read_only, size_t n, int dir_fd,
                         int first_tmp, int last_tmp)
{
    struct landlock_applied applied;
    if (landlock_confine_writer(dir, read_only, n, &applied) != 0)
        return -1;
    return load_writer_filter(dir_fd, first_tmp, last_tmp) < 0 ? -1 : 0;
}
