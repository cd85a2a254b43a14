/* aad_graph.h - group membership through Microsoft Graph, for tokens whose
 * groups claim overflowed (more than 200 groups: "_claim_names" instead of
 * "groups"). Uses checkMemberGroups, which is transitive.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_GRAPH_H
#define AAD_GRAPH_H

#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"

/* Asks Graph which of groups the user is in: is_member[i] (an array of
 * groups->count) is set for groups->items[i]. With user_oid NULL it asks
 * about the bearer's own user (/me, a delegated token); otherwise about that
 * user (/users/{oid}, an application token). Up to 20 IDs go in one call
 * (Graph's limit). Every failure (HTTP error, throttling, timeout, unusable
 * answer) is AAD_DENIED: without an answer, nobody is a member. */
enum aad_status aad_graph_member_groups(const struct aad_config *cfg, struct aad_http *http,
                                        const char *bearer, const char *user_oid,
                                        const struct aad_strlist *groups, int *is_member,
                                        struct aad_error *err);

#endif
