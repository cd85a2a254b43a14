/* identity.h - the account pam_aad_helper runs a login as.
 *
 * The module executes the helper as root: it needs root only to read what
 * root alone may read (the client key, perhaps the CA file and the maps:
 * aad_config_read_files) and to hand the cache directory to its account.
 * Then it gives root up before its first request to the network: to the
 * system account AAD_HELPER_USER (configure --with-helper-user, default
 * _pam_aad, created by the package), which owns cache_dir; where that
 * account does not exist, it keeps uid 0 but with no capability at all
 * (and its seccomp filter and Landlock rules keep it from root's files).
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <sys/types.h>

struct helper_identity {
    int found; /* AAD_HELPER_USER exists */
    uid_t uid;
    gid_t gid;
};

/* Looks AAD_HELPER_USER up (as root, before any confinement). */
void identity_lookup(struct helper_identity *id);

/* Makes cache_dir ready for the account (only when running as root):
 * created 0700 when missing; handed to the account when root owns it (a
 * cache of an earlier version). A directory owned by anyone else is left
 * as it is (the cache refuses it). 0, or -1 with errno. */
int identity_prepare_cache(const struct helper_identity *id, const char *cache_dir);

/* Gives root up for good (only when running as root): no supplementary
 * groups, the account's gid and uid when it exists, and no capability -
 * effective, permitted, inheritable, ambient and the bounding set. 0, or -1
 * with errno (the helper must then not go on). */
int identity_drop(const struct helper_identity *id);

/* "uid 998 (_pam_aad), no capabilities" or "uid 0, no capabilities", as
 * this process is now, for the debug line. */
void identity_describe(const struct helper_identity *id, char *buf, size_t size);

#endif
