/* aad_groupplan.h - what group_map says the account's local groups should
 * be, from the verified token (or Graph on overage).
 *
 * For every local group named in group_map: a member when the token shows
 * at least one of the Entra groups mapped to it, not a member otherwise.
 * The plan is only words; aad_groupfile.h writes it.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_GROUPPLAN_H
#define AAD_GROUPPLAN_H

#include <jansson.h>
#include "aad_base.h"
#include "aad_config.h"
#include "aad_groupmap.h"
#include "aad_groupwants.h"
#include "aad_http.h"

/* Reads cfg->group_map and decides; with no group_map the plan is empty.
 * claims: the verified token's; access_token may be NULL. An unsafe or
 * malformed group_map is AAD_CONFIG_ERROR; membership that cannot be
 * established (Graph failing) is AAD_DENIED, so that nobody keeps a right
 * by a lookup that failed. Release plan with aad_group_plan_clear. */
enum aad_status aad_group_plan_make(const struct aad_config *cfg, struct aad_http *http,
                                    const json_t *claims, const char *access_token,
                                    const struct aad_log *log, struct aad_group_plan *plan,
                                    struct aad_error *err);

#endif
