/* pam_aad_group_writer - the one program that writes /etc/group and
 * /etc/gshadow, for group_map.
 *
 * pam_aad.so executes it as it executes the helper (src/caller/aad_spawn.c:
 * fixed environment, the socket as descriptor 0, nothing else of the
 * caller's), and only once a login's identity is verified and group_map
 * has a change to make: removals while authenticating, grants once the
 * whole stack has accepted the login (pam_setcred or pam_open_session). It
 * reads one request,
 *     account, "+group:<object ID> -group:<object ID> ...", module arguments
 * and checks every group against group_map itself: whatever the module
 * relays of what the network-facing helper decided, only groups the
 * administrator mapped are touched, and only the membership of the account
 * named. It then takes the shadow suite's lock, removes what a dead writer
 * left, prepares its temporary files, confines itself (helper/confine.c:
 * Landlock lets it read group and gshadow only and rename within /etc; the
 * seccomp allowlist lets it open nothing for writing, truncate nothing) and
 * makes the change in one locked edit of both files. It answers with one
 * outcome per want. SIGXFSZ is ignored: a file past its size limit fails a
 * write (and the edit) instead of killing it half-way.
 *
 * It is not meant to be run by hand: on a terminal it says so and exits.
 *
 * Where it runs: in the group writer, executed by pam_aad.so as root once a
 * login is verified; the only process that writes /etc. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aad_config.h"
#include "aad_groupfile.h"
#include "aad_groupmap.h"
#include "aad_groupwants.h"
#include "aad_wire.h"
#include "confine.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif

#define REQUEST_WAIT_MS 5000
/* The lock's 15 s wait, the reading and writing, and room. */
#define WRITER_BOUND_S 60
#define MAX_MODULE_ARGS (AAD_WIRE_MAX_FIELDS - 2)

enum request_field { REQ_ACCOUNT, REQ_WANTS, REQ_FIRST_ARG };

/* Makes the changes that group_map allows; outcome[i] for plan->wants[i]. */
static enum aad_status apply(const struct aad_config *cfg, const char *account,
                             const struct aad_group_plan *plan, enum aad_group_outcome *outcome,
                             int *inconsistent, struct aad_error *err)
{
    struct aad_group_map map;
    enum aad_status st = aad_group_map_read(cfg, NULL, &map, err);
    struct aad_group_change *changes = calloc(plan->count + 1, sizeof(*changes));
    size_t *slot = calloc(plan->count + 1, sizeof(*slot));
    size_t due = 0;
    if (changes == NULL || slot == NULL)
        st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    for (size_t i = 0; i < plan->count; i++) {
        outcome[i] = st == AAD_OK ? AAD_GROUP_NOT_MAPPED : AAD_GROUP_WRITE_FAILED;
        if (st == AAD_OK && aad_group_map_names(&map, plan->wants[i].group)) {
            changes[due] = (struct aad_group_change){plan->wants[i].group, plan->wants[i].member,
                                                     AAD_GROUP_WRITE_FAILED};
            slot[due++] = i;
        }
    }
    if (st == AAD_OK && due > 0) {
        struct aad_groupfile gf;
        st = aad_groupfile_open(&gf, AAD_GROUPFILE_DIR, AAD_GROUPFILE_LOCK, err);
        int first = -1, last = -1;
        for (int t = 0; t < AAD_GROUPFILE_TEMPS; t++) {
            if (gf.tmp_fd[t] >= 0) {
                first = first < 0 || gf.tmp_fd[t] < first ? gf.tmp_fd[t] : first;
                last = gf.tmp_fd[t] > last ? gf.tmp_fd[t] : last;
            }
        }
        const char *const readable[] = {AAD_GROUPFILE_DIR "/group", AAD_GROUPFILE_DIR "/gshadow"};
        if (st == AAD_OK &&
            confine_group_writer(gf.dir, readable, 2, gf.dir_fd, first, last) != 0)
            st = aad_fail(err, AAD_UNAVAILABLE, "cannot confine the group writer: %m");
        if (st == AAD_OK)
            st = aad_groupfile_apply(&gf, account, changes, due, cfg->allow_root, err);
        *inconsistent = gf.inconsistent;
        aad_groupfile_close(&gf);
        for (size_t d = 0; d < due; d++)
            outcome[slot[d]] = st == AAD_OK || changes[d].outcome != AAD_GROUP_WRITE_FAILED
                                   ? changes[d].outcome
                                   : AAD_GROUP_WRITE_FAILED;
    }
    free(changes);
    free(slot);
    aad_group_map_clear(&map);
    return st;
}

static void reply(const enum aad_group_outcome *outcome, size_t n, enum aad_status st,
                  const struct aad_error *err, int inconsistent)
{
    char *text = malloc(n * 3 + 1);
    size_t used = 0;
    if (text == NULL)
        return;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, n * 3 + 1 - used, "%s%d", i ? " " : "",
                                 (int)outcome[i]);
    const char *fields[] = {text, st == AAD_OK ? "" : err->message, inconsistent ? "1" : "0"};
    aad_wire_send(STDIN_FILENO, AAD_MSG_GROUPS_DONE, 3, fields);
    free(text);
}

int main(void)
{
    if (isatty(STDIN_FILENO)) {
        fputs("pam_aad_group_writer is started by pam_aad.so when group_map changes a "
              "membership; it is not a command.\n",
              stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    alarm(WRITER_BOUND_S);
    struct aad_wire_msg req;
    if (aad_wire_recv(STDIN_FILENO, aad_monotonic_ms() + REQUEST_WAIT_MS, &req) != AAD_WIRE_OK)
        return 2;
    struct aad_group_plan plan = {0};
    struct aad_error err = {0};
    struct aad_config *cfg = NULL;
    enum aad_status st = AAD_OK;
    if (req.type != AAD_MSG_GROUPS_SET || req.count < REQ_FIRST_ARG ||
        req.count - REQ_FIRST_ARG > MAX_MODULE_ARGS ||
        !aad_is_valid_account_name(aad_wire_field(&req, REQ_ACCOUNT)) ||
        aad_group_plan_parse(aad_wire_field(&req, REQ_WANTS), -1, &plan) != 0) {
        aad_wire_msg_clear(&req);
        return 2; /* the module reads no answer: every change failed */
    }
    const char *args[MAX_MODULE_ARGS];
    int argc = (int)(req.count - REQ_FIRST_ARG);
    for (int i = 0; i < argc; i++)
        args[i] = req.field[REQ_FIRST_ARG + i];
    st = aad_config_load(AAD_DEFAULT_CONFIG, argc, args, &cfg, &err);
    enum aad_group_outcome *outcome = calloc(plan.count + 1, sizeof(*outcome));
    int inconsistent = 0;
    if (outcome != NULL) {
        for (size_t i = 0; i < plan.count; i++)
            outcome[i] = AAD_GROUP_WRITE_FAILED;
        if (st == AAD_OK)
            st = apply(cfg, aad_wire_field(&req, REQ_ACCOUNT), &plan, outcome, &inconsistent, &err);
        reply(outcome, plan.count, st, &err, inconsistent);
    }
    free(outcome);
    aad_config_free(cfg);
    aad_group_plan_clear(&plan);
    aad_wire_msg_clear(&req);
    return 0;
}
