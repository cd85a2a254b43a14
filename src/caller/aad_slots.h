/* aad_slots.h - how many logins run at once: a bound on what any local
 * user, or any SSH client that knows an account name, can make root spend.
 *
 * Each login's helper is a root process of about 12 MiB that sends one
 * device-code request to the tenant and may wait minutes at the prompt;
 * root processes do not count against the invoker's RLIMIT_NPROC. So the
 * module takes a slot before it starts a helper and holds it until the
 * helper is gone: one of max_logins on the host, and, when a setuid caller
 * (su, sudo) acts for an ordinary user, one of max_logins_per_user for
 * that invoking (real) uid. A slot is a byte of a root-only file in
 * runtime_dir/slots locked with an open-file-description lock: the kernel
 * releases it when the module closes the file or its process dies, so no
 * slot leaks and no daemon counts. Over the cap the login is unavailable
 * at once.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_SLOTS_H
#define AAD_SLOTS_H

#include <sys/types.h>
#include "aad_base.h"

struct aad_slots {
    int host_fd; /* -1: none held */
    int user_fd;
};

/* Takes a host slot, and a slot of invoker's when invoker is not root.
 * Not root (the helper then runs with the caller's own rights): nothing is
 * taken, AAD_OK. Full: AAD_UNAVAILABLE saying which cap. Release with
 * aad_slots_release, whatever the result. */
enum aad_status aad_slots_take(const char *runtime_dir, long max_host, long max_per_user,
                               uid_t invoker, struct aad_slots *s, struct aad_error *err);
void aad_slots_release(struct aad_slots *s);

#endif
