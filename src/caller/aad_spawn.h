/* aad_spawn.h - executing pam_aad_helper (and the group writer) from the
 * PAM caller's process.
 *
 * The caller may be setuid (su, chsh): everything it hands a child is the
 * invoking user's (environment, descriptors, umask, limits, signal
 * dispositions, supplementary groups). The helper gets none of it: a fixed
 * environment, the socket as descriptor 0, /dev/null as 1 and 2, nothing
 * else open, umask 077, default signal dispositions, its own session (no
 * terminal), real ids equal to the effective ones, no_new_privs, bounded
 * CPU time, file size and descriptors, no core dumps, and death when the
 * caller dies. The file is checked on the descriptor that is executed.
 *
 * The module's child is a reaper (a copy of the caller that executes
 * nothing) whose child is the helper: the reaper waits for the helper's
 * end and ends with its status (a signal's as 128 + the signal). Its end
 * sends the caller no signal and the caller's own waits never see it, so
 * the module may reap it when it likes (aad_helper_reap) and the caller's
 * SIGCHLD disposition is never touched.
 * libc only: the module links it.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_SPAWN_H
#define AAD_SPAWN_H

#include <sys/types.h>
#include "aad_base.h"

struct aad_helper_proc {
    pid_t pid; /* the reaper (below), 0 once reaped */
    int fd;    /* our end of the socketpair, -1 when closed */
    int pidfd; /* the reaper's pidfd, -1 without one */
};

/* What pam_aad_helper may write to one file (its cache entries). */
#define AAD_HELPER_FILE_BYTES (8L * 1024 * 1024)

/* Checks and starts the helper at path (or the group writer: the same
 * rules), which may write files of at most file_bytes. A missing, unsafe (not a regular
 * file, not owned by root - or by the caller when the caller is not root -,
 * writable by group or others) or unexecutable helper is AAD_CONFIG_ERROR
 * (an install problem); failures of the system (fork, socketpair) are
 * AAD_UNAVAILABLE. */
enum aad_status aad_helper_start(const char *path, long file_bytes, struct aad_helper_proc *out,
                                 struct aad_error *err);

/* Opens the helper at path for executing and makes the checks of
 * aad_helper_start on that descriptor (so `aad-login --check` reports what
 * the module would find). On success *fd is open (close-on-exec). */
enum aad_status aad_helper_open(const char *path, int *fd, struct aad_error *err);

/* Closes the socket, gives the helper grace_ms to exit, then kills it (its
 * reaper, whose death is the helper's); always reaps the reaper. Returns the
 * wait status, or -1 when it could not be had. */
int aad_helper_finish(struct aad_helper_proc *p, long grace_ms);

/* Closes the socket and reaps the reaper if the helper has ended (1, the
 * wait status in *status), without waiting: 0 while it runs. */
int aad_helper_reap(struct aad_helper_proc *p, int *status);

/* Closes the reaper's pidfd (aad_helper_finish then polls every 2 ms). */
void aad_helper_drop_pidfd(struct aad_helper_proc *p);

/* "exited with status 3", "killed by signal 11", for the log. */
void aad_describe_wait_status(int status, char *buf, size_t size);

#endif
