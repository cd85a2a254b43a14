/* group_writer.h - the one process that may write /etc/group and
 * /etc/gshadow, when group_map is set.
 *
 * The helper forks it before it confines itself and before any network
 * exchange. The writer then prepares everything it will ever write (the
 * lock file, its temporary files in /etc), confines itself tighter than the
 * helper (helper/confine.c, confine_group_writer: no sockets, no new files,
 * writes only through those descriptors, renames only within /etc) and
 * waits for one request over a socketpair: "set this account's membership
 * in these local groups". It checks every group against group_map itself
 * and the account is the one the module asked about, fixed at fork: the
 * network-facing helper can only choose, for the account being logged in
 * to, in or out of the groups the administrator mapped - what a genuine
 * token decides anyway.
 *
 * Where it runs: in the group writer, forked by pam_aad_helper before it
 * confines itself; the only process that writes /etc. */
#ifndef GROUP_WRITER_H
#define GROUP_WRITER_H

#include <sys/types.h>
#include "aad_base.h"
#include "aad_config.h"
#include "aad_login.h"

struct group_writer {
    pid_t pid; /* -1: none */
    int fd;
    long slice_ms; /* how long the helper may stay silent towards the module */
};

/* Forks the writer for account (no-op without group_map: pid stays -1).
 * Returns 0, or -1 when it could not be started (every change then fails). */
int group_writer_start(const struct aad_config *cfg, const char *account,
                       struct group_writer *w);

/* Has the writer apply id->groups and logs one line per change (account,
 * local group, Entra group object ID) and per group left alone. A removal
 * that could not be written is AAD_DENIED (a revoked right must not
 * survive); an addition that could not be written is logged and the
 * login goes on without it. alive (may be NULL) is called while the
 * writer takes long (waiting for the lock), so the module keeps waiting. */
enum aad_status group_writer_apply(struct group_writer *w, const char *account,
                                   const struct aad_group_plan *plan, const struct aad_log *log,
                                   void (*alive)(void *), void *alive_ctx, struct aad_error *err);

/* Closes the socket and reaps the writer (killed if it outlives a bound). */
void group_writer_stop(struct group_writer *w);

#endif
