/* landlock.h - Landlock rules for pam_aad_helper and the group writer,
 * with the rights the *running* kernel knows (its ABI version), not those
 * the build host's headers knew: the constants of ABI 1-6 are the
 * project's own (landlock.c), so a helper built on Debian 12's 6.1 headers
 * still asks a newer kernel for truncation, network and signal scoping.
 *
 * Where it runs: in pam_aad_helper and the group writer, before their first
 * request. */
#ifndef LANDLOCK_H
#define LANDLOCK_H

#include <stddef.h>
#include <stdint.h>

/* What a ruleset handled: the kernel's ABI version (0: no Landlock) and
 * the file-system, network and scope rights it covers. */
struct landlock_applied {
    int abi;
    uint64_t fs, net, scoped;
};

/* The helper: the whole file system read-only (and executable: NSS may
 * load a library), cache_dir (which must exist) readable and writable
 * without truncation; TCP connections only to ports[0..n); no TCP bind;
 * no signal to, and no abstract socket of, a process outside the helper.
 * 0 (applied is filled; abi 0 when the kernel has no Landlock), or -1 with
 * errno. */
int landlock_confine_helper(const char *cache_dir, const uint16_t *ports, size_t n,
                            struct landlock_applied *applied);

/* The group writer: nothing readable but the files in read_only[0..n)
 * (group and gshadow), and in dir only the making and removing of entries
 * that renaming its temporary files over them needs; no network at all. */
int landlock_confine_writer(const char *dir, const char *const *read_only, size_t n,
                            struct landlock_applied *applied);

/* "ABI 7: fs execute, write_file, ..., truncate, ioctl_dev; net
 * bind_tcp, connect_tcp; scoped signal, abstract_unix_socket", for the
 * debug line. */
void landlock_describe(const struct landlock_applied *applied, char *buf, size_t size);

#endif
