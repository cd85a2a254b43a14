/* confine_rules.h - the helper's seccomp rules, shared by its run-time
 * confinement (helper/confine.c) and the build-time export of its filter
 * (helper/seccomp_export.c).
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#ifndef CONFINE_RULES_H
#define CONFINE_RULES_H

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef HAVE_SECCOMP
#include <stddef.h>
#include <seccomp.h>

/* The helper's filter: the system calls a login makes are allowed (socket()
 * for AF_INET, AF_INET6 and AF_UNIX only, clone() for threads only, no
 * open that truncates), every other fails with EPERM, and any of another
 * architecture ends the thread. NULL on failure; the caller
 * seccomp_release()s it. */
scmp_filter_ctx confine_rules_helper(void);

/* The group writer's filter, made into *out: reading and writing through
 * descriptors it holds; opening only for reading and only by dir_fd;
 * renames and unlinks only within dir_fd; fchmod/fchown only on the
 * descriptors first_tmp..last_tmp; everything else EPERM. 0, or a negative
 * errno (*out, when not NULL, is the caller's to release). */
int confine_rules_writer(scmp_filter_ctx *out, int dir_fd, int first_tmp, int last_tmp);

/* The helper's filter as libseccomp makes it now, as BPF instructions in
 * out (room for max). Their number, or 0 when it cannot be made or does
 * not fit. */
struct sock_filter;
size_t confine_rules_export(struct sock_filter *out, size_t max);
#endif

#endif
