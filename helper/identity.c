/* identity.c - pam_aad_helper gives root up once it holds what needs it.
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#include "config.h"

#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AAD_HELPER_USER
#define AAD_HELPER_USER "_pam_aad"
#endif

/* Capabilities above this number do not exist yet; PR_CAPBSET_DROP says
 * EINVAL past the kernel's last one. */
#define CAP_NUMBER_BOUND 64

void identity_lookup(struct helper_identity *id)
{
    memset(id, 0, sizeof(*id));
    struct passwd pw, *found = NULL;
    char buf[4096];
    if (getpwnam_r(AAD_HELPER_USER, &pw, buf, sizeof(buf), &found) == 0 && found != NULL &&
        found->pw_uid != 0) {
        id->found = 1;
        id->uid = found->pw_uid;
        id->gid = found->pw_gid;
    }
}

int identity_prepare_cache(const struct helper_identity *id, const char *cache_dir)
{
    if (geteuid() != 0)
        return 0;
    if (mkdir(cache_dir, 0700) != 0 && errno != EEXIST)
        return -1;
    if (!id->found)
        return 0;
    int fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = fstat(fd, &st);
    /* Only root's own directory is handed over, never another account's. */
    if (rc == 0 && st.st_uid == 0)
        rc = fchown(fd, id->uid, id->gid) == 0 && fchmod(fd, 0700) == 0 ? 0 : -1;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static int drop_capabilities(void)
{
    /* The bounding set first: dropping from it needs CAP_SETPCAP, which
     * goes with the rest. */
    for (int cap = 0; cap < CAP_NUMBER_BOUND; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
            continue;
        if (errno != EINVAL)
            return -1;
        break; /* past the kernel's last capability: so is every higher one */
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return -1;
    return 0;
}

static int clear_capability_sets(void)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &header, data) != 0)
        return -1;
    /* Read back: nothing may be left. */
    if (syscall(SYS_capget, &header, data) != 0)
        return -1;
    for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            errno = EPERM;
            return -1;
        }
    }
    return 0;
}

int identity_drop(const struct helper_identity *id)
{
    if (geteuid() != 0)
        return 0;
    if (drop_capabilities() != 0 || setgroups(0, NULL) != 0)
        return -1;
    if (id->found) {
        if (setresgid(id->gid, id->gid, id->gid) != 0 || setresuid(id->uid, id->uid, id->uid) != 0)
            return -1;
        /* Root cannot come back. */
        if (setresuid(0, 0, 0) == 0) {
            errno = EPERM;
            return -1;
        }
    }
    return clear_capability_sets();
}

void identity_describe(const struct helper_identity *id, char *buf, size_t size)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    /* Zeroed: valgrind marks only the first of the two words capget fills. */
    memset(data, 0, sizeof(data));
    int none = syscall(SYS_capget, &header, data) == 0 &&
               !(data[0].effective | data[0].permitted | data[1].effective | data[1].permitted);
    uid_t uid = geteuid();
    int named = id->found && uid == id->uid;
    snprintf(buf, size, "uid %lu%s, %s", (unsigned long)uid, named ? " (" AAD_HELPER_USER ")" : "",
             none ? "no capabilities" : "capabilities left");
}
