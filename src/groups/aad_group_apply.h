/* aad_group_apply.h - the module's side of group_map: what is due now, and
 * the group writer started to make it so.
 *
 * The helper decides the plan from the verified token; the module applies
 * removals while authenticating and grants once the stack has accepted the
 * login. Before anything is started, the group file is read (a preview):
 * the writer, and its files in /etc, exist only when a change is due.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo); libc only. */
#ifndef AAD_GROUP_APPLY_H
#define AAD_GROUP_APPLY_H

#include "aad_base.h"
#include "aad_groupwants.h"

/* What aad_group_apply did. */
struct aad_group_applied {
    int removed;      /* a membership was taken away */
    int added;        /* ... granted */
    int inconsistent; /* the writer left group and gshadow disagreeing */
};

/* Makes account's membership in plan's groups as plan says, through the
 * group writer at writer (executed with the module arguments argc/argv, so
 * that it reads the same configuration), and logs one line per group: the
 * account, the local group, the Entra group. A removal that was due and
 * could not be written is AAD_DENIED with kind AAD_FAILURE_NOT_AUTHORIZED
 * (a revoked right must not survive); a grant that could not be written is
 * logged, and AAD_OK. */
enum aad_status aad_group_apply(const char *writer, const char *account,
                                const struct aad_group_plan *plan, int allow_root, int argc,
                                const char **argv, const struct aad_log *log,
                                struct aad_group_applied *done, struct aad_error *err);

#endif
