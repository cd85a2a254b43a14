/* aad_sync_graph.h - the members of one Entra group, through Microsoft
 * Graph, as the application (its certificate's token):
 *
 *  - a full read: GET /groups/{id}/transitiveMembers (paged by
 *    @odata.nextLink, 999 a page) with each user's userPrincipalName and
 *    accountEnabled; before it, a delta link for "now"
 *    (/groups/delta?$filter=id eq '{id}'&$select=members&$deltatoken=latest),
 *    so a change made during the read is seen again by the next run;
 *  - then, while the link is younger than a day and the group holds no
 *    nested group: the delta query (members@delta since the last run; a
 *    new member's details from /users/{id}) and the members whose account
 *    is disabled (/groups/{id}/transitiveMembers/microsoft.graph.user
 *    ?$filter=accountEnabled eq false, an advanced query): a run costs what
 *    changed and the disabled members, not the size of the group. Nested
 *    groups (whose changes the parent's delta does not show), an expired
 *    delta link and the daily full read (renamed users) read it all again.
 *
 * Every request is bounded (http_timeout, 1 MiB an answer, the run's
 * deadline); 429 and 503 are retried after Retry-After (at most 120 s,
 * within the deadline); only links under graph_endpoint are followed, so
 * the bearer token goes nowhere else.
 *
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#ifndef AAD_SYNC_GRAPH_H
#define AAD_SYNC_GRAPH_H

#include <stdint.h>
#include <jansson.h>

#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"

/* Members a run reads at most, over all groups: a bound on memory. */
#define AAD_SYNC_MAX_MEMBERS 500000
/* A full read again after this many seconds, to see renamed users. */
#define AAD_SYNC_FULL_READ_EVERY (24 * 3600)

struct aad_sync_graph {
    const struct aad_config *cfg;
    struct aad_http *http;
    const char *token;       /* the application's access token (a secret) */
    int64_t deadline_ms;     /* aad_monotonic_ms() by which the run ends */
    const struct aad_log *log;
    long requests;           /* made so far */
    int64_t graph_ms;        /* spent in them (Graph's share of the run) */
};

/* Reads group gid: its entry of the state's "groups" (members, delta link,
 * nested, full_read_at) and the "directory" entries of its members (upn,
 * enabled) are brought up to date. Failures, which leave the state as it
 * was: the permission Graph refused, named (GroupMember.Read.All,
 * User.Read.All) with Graph's answer: AAD_FAILURE_HOST_MISCONFIGURED; no
 * such group: AAD_FAILURE_BAD_CONFIG; Graph unreachable, failing or
 * throttling past the deadline: AAD_FAILURE_UNAVAILABLE. */
enum aad_status aad_sync_graph_read_group(struct aad_sync_graph *g, const char *gid,
                                          json_t *group, json_t *directory, long long now,
                                          struct aad_error *err);

#endif
