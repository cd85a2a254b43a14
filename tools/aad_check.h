/* aad_check.h - `aad-login --check`: everything that can be checked
 * without a user signing in (configuration, tenant, client and scope,
 * signing keys, the account mapping, the helper, sshd), each failure
 * classified as configuration or outage with a hint for its cause.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_H
#define AAD_CHECK_H

#include <stddef.h>
#include "aad_base.h"
#include "aad_config.h"

struct aad_check_options {
    int json;                /* one JSON document on stdout (fleet monitoring) */
    int color;               /* stdout is a terminal */
    const char *helper;      /* the helper pam_aad.so runs when no helper= is given */
    const char *sshd;        /* the sshd program */
    const char *sshd_config; /* checked when given; NULL: sshd's default file, when
                                sshd's PAM stack (pam_sshd, includes followed)
                                names pam_aad */
    const char *pam_sshd;    /* sshd's PAM stack file */
    const char *pam_dir;     /* the PAM stack files (/etc/pam.d) */
    const char *sync_state_dir; /* aad-login sync's state (aad_check_sync.h) */
    const char *nsswitch;       /* /etc/nsswitch.conf */
    const char *group_file;     /* the file group_map's writer edits (/etc/group) */
};

/* Runs the checks and prints what it finds. cfg is NULL when the
 * configuration could not be loaded (load_err says why, in load_ms).
 * Returns the worst finding: AAD_CONFIG_ERROR, AAD_UNAVAILABLE or AAD_OK. */
enum aad_status aad_check_run(const struct aad_config *cfg, const struct aad_error *load_err,
                              double load_ms, const struct aad_check_options *opt);

/* The cause of a failure ("tenant", "client_id", "unreachable", ...: a
 * stable word for monitoring) from its kind and AADSTS code, with what to
 * do about it in hint. Also for the failures of a whole login. */
const char *aad_check_classify(const struct aad_config *cfg, const struct aad_error *err,
                               char *hint, size_t size);

#endif
