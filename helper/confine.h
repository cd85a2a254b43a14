/* confine.h - what pam_aad_helper gives up before it touches the network,
 * and what the group writer gives up before it edits /etc.
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request; and in the group
 * writer. */
#ifndef CONFINE_H
#define CONFINE_H

#include <stddef.h>
#include "aad_config.h"
#include "landlock.h"

/* Caps the helper's address space (not under AddressSanitizer, which
 * reserves terabytes of shadow memory). 0, or -1 with errno. */
int confine_memory(void);

/* What confine_helper did, for the debug line. */
struct confine_report {
    struct landlock_applied landlock;
    int seccomp; /* 1: the allowlist is loaded; 0: not built, or no seccomp in this kernel */
    char identity[96];
    /* How long each step took, in ms (make bench's row 3c). */
    double cache_ms, landlock_ms, drop_ms, seccomp_ms;
};

/* The helper's whole confinement, once the files the configuration names
 * are read (aad_config_read_files), in this order:
 *  - Landlock, with what the running kernel offers: the file system
 *    read-only but cache_dir, TCP connections only to the ports of the
 *    authority, Graph, the proxy and DNS (53), no signal or abstract
 *    socket outside the helper;
 *  - root given up (helper/identity.h): the helper account, no
 *    capabilities, no bounding set;
 *  - the seccomp allowlist made at build time (confine_rules.c).
 * 0, or -1 with errno and what failed in *step ("Landlock", ...). */
int confine_helper(const struct aad_config *cfg, struct confine_report *report,
                   const char **step);

/* The seccomp allowlist alone (tests). 1 when loaded, 0 when built without
 * libseccomp or when the kernel has no seccomp filters, -1 on failure. */
int confine_syscalls(void);

/* The TCP ports a login connects to under cfg, into ports (room for max):
 * the authority's, Graph's, the proxy's, and 53 (DNS over TCP). Their
 * number. */
size_t confine_login_ports(const struct aad_config *cfg, uint16_t *ports, size_t max);

/* For the group writer (its own program), once it holds every descriptor
 * it will write through: Landlock lets it read only read_only[0..n) (group
 * and gshadow) and make and remove entries of dir - what renaming its
 * temporary files over them needs; the seccomp allowlist
 * (confine_rules_writer) lets it open only for reading by dir_fd, rename
 * and unlink only within dir_fd, fchmod/fchown only first_tmp..last_tmp.
 * Landlock cannot name files inside a directory, so what remains is:
 * rename or unlink of entries of dir. Returns 0, or -1 with errno. */
int confine_group_writer(const char *dir, const char *const *read_only, size_t n, int dir_fd,
                         int first_tmp, int last_tmp);

#endif
