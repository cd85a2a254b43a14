/* aad_check_sync.h - the sync's part of `aad-login --check` (only when
 * provision_groups is set): whether nsswitch.conf lists extrausers, and
 * the last run of `aad-login sync` (when, how many, errors, who was
 * skipped and why, uid collisions).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_SYNC_H
#define AAD_CHECK_SYNC_H

#include "aad_check_report.h"
#include "aad_config.h"

/* A last run older than this is reported (the timer runs every few minutes). */
#define AAD_CHECK_SYNC_STALE_S 3600

void aad_check_sync(struct aad_check_report *r, const struct aad_config *cfg,
                    const char *state_dir, const char *nsswitch);

#endif
