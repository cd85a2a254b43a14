/* group_writer.c - the confined process that writes group_map's changes.
 * Where it runs: in the group writer, forked by pam_aad_helper before it
 * confines itself; the only process that writes /etc. */
#include "config.h"

#include "group_writer.h"
#include "aad_groupfile.h"
#include "aad_groupmap.h"
#include "aad_wire.h"
#include "confine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#define WRITER_FD 3
#define REPLY_WAIT_MS 30000 /* the lock's 15 s wait, the writes, and room */
#define REAP_WAIT_MS 2000
#define MAX_GROUPS 4096

/* Splits a space-separated field in place; returns the number of words. */
static size_t split_words(char *text, char **words, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(text, " ", &save); w != NULL && n < max;
         w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    return n;
}

/* The writer's side: everything it will write is prepared, then it gives
 * up the rest and serves one request. */
static void serve(const struct aad_config *cfg, const char *account)
{
    alarm((unsigned)aad_config_login_bound_s(cfg) + REPLY_WAIT_MS / 1000);
    struct aad_error err = {0};
    struct aad_group_map map;
    int have_map = aad_group_map_read(cfg->group_map, NULL, &map, &err) == AAD_OK;
    struct aad_groupfile gf;
    int ready = aad_groupfile_open(&gf, AAD_GROUPFILE_DIR, AAD_GROUPFILE_LOCK, &err) == AAD_OK;
    struct aad_error unprepared = err; /* why nothing can be written, if so */
    if (!ready)
        aad_groupfile_close(&gf); /* nothing half-prepared: gshadow without group */
    int last_tmp = gf.tmp_fd[1] >= 0 ? gf.tmp_fd[1] : gf.tmp_fd[0];
    /* Not confined: it writes nothing (without its temporary files,
     * aad_groupfile_apply only tells what was due). */
    if (confine_group_writer(ready ? gf.dir : NULL, gf.dir_fd, gf.tmp_fd[0], last_tmp) != 0) {
        aad_fail(&unprepared, AAD_UNAVAILABLE, "cannot confine the group writer: %m");
        aad_groupfile_close(&gf);
        ready = 0;
    }

    struct aad_wire_msg req;
    if (aad_wire_recv(WRITER_FD, aad_monotonic_ms() + (aad_config_login_bound_s(cfg) * 1000),
                      &req) != AAD_WIRE_OK) {
        aad_groupfile_close(&gf);
        _exit(0); /* the login was refused, or the helper is gone: nothing to do */
    }
    static char *words[MAX_GROUPS];
    static struct aad_group_change mapped[MAX_GROUPS];
    static enum aad_group_outcome outcome[MAX_GROUPS];
    static size_t slot[MAX_GROUPS];
    static char reply[MAX_GROUPS * 2 + 1];
    size_t n = req.type == AAD_MSG_GROUPS_SET && req.count == 1
                   ? split_words(req.field[0], words, MAX_GROUPS) : 0;
    size_t due = 0;
    for (size_t i = 0; i < n; i++) {
        outcome[i] = AAD_GROUP_NOT_MAPPED;
        /* Only groups the administrator mapped, whatever the helper asks. */
        if ((words[i][0] == '+' || words[i][0] == '-') && have_map &&
            aad_group_map_names(&map, words[i] + 1)) {
            mapped[due] = (struct aad_group_change){words[i] + 1, words[i][0] == '+',
                                                    AAD_GROUP_WRITE_FAILED};
            slot[due++] = i;
        }
    }
    if (due > 0 && aad_groupfile_apply(&gf, account, mapped, due, cfg->allow_root, &err) == AAD_OK)
        err.message[0] = '\0';
    else if (!ready)
        err = unprepared;
    for (size_t d = 0; d < due; d++)
        outcome[slot[d]] = mapped[d].outcome;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(reply + used, sizeof(reply) - used, "%s%d", i ? " " : "",
                                 (int)outcome[i]);
    reply[used] = '\0';
    /* The reason a write failed, for the helper's log. */
    const char *fields[] = {reply, due > 0 ? err.message : ""};
    aad_wire_send(WRITER_FD, AAD_MSG_GROUPS_DONE, 2, fields);
    aad_wire_msg_clear(&req);
    aad_groupfile_close(&gf);
    aad_group_map_clear(&map);
    _exit(0);
}

int group_writer_start(const struct aad_config *cfg, const char *account, struct group_writer *w)
{
    w->pid = -1;
    w->fd = -1;
    w->slice_ms = cfg->http_timeout * 1000 / 2;
    if (cfg->group_map == NULL)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        /* Only the socket to the helper: not the module's socket, so the
         * module sees the helper end when it ends. */
        if (sv[1] != WRITER_FD && dup2(sv[1], WRITER_FD) != WRITER_FD)
            _exit(1);
        close_range(WRITER_FD + 1, ~0U, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < WRITER_FD && null >= 0; fd++)
            dup2(null, fd);
        if (null > WRITER_FD)
            close(null);
        serve(cfg, account);
    }
    close(sv[1]);
    w->pid = pid;
    w->fd = sv[0];
    return 0;
}

/* The writer's answer: one outcome per want, or none (out stays as it
 * was: all failed). Called only after send_wants succeeded (w->fd open). */
static void receive_outcomes(struct group_writer *w, size_t n, enum aad_group_outcome *out,
                             const struct aad_log *log, void (*alive)(void *), void *alive_ctx)
{
    struct aad_wire_msg msg;
    int64_t until = aad_monotonic_ms() + REPLY_WAIT_MS;
    /* While the writer waits for the lock (up to 15 s), the module hears
     * from us at least every slice: it counts silence as a hang. */
    struct pollfd p = {w->fd, POLLIN, 0};
    while (aad_monotonic_ms() < until && poll(&p, 1, (int)w->slice_ms) == 0) {
        if (alive != NULL)
            alive(alive_ctx);
    }
    enum aad_wire_result res = aad_wire_recv(w->fd, until, &msg);
    if (res != AAD_WIRE_OK) {
        aad_log(log, LOG_ERR, "group_map: no answer from the group writer: %s",
                aad_wire_result_name(res));
        return;
    }
    char *words[MAX_GROUPS];
    size_t got = msg.type == AAD_MSG_GROUPS_DONE && msg.count == 2
                     ? split_words(msg.field[0], words, MAX_GROUPS) : 0;
    if (got == n && msg.field[1][0] != '\0')
        aad_log(log, LOG_ERR, "group_map: the group writer: %.300s", msg.field[1]);
    for (size_t i = 0; got == n && i < n; i++) {
        char *end = NULL;
        long v = strtol(words[i], &end, 10);
        if (*end == '\0' && v >= 0 && v <= AAD_GROUP_OUTCOME_MAX)
            out[i] = (enum aad_group_outcome)v;
    }
    aad_wire_msg_clear(&msg);
}

static int send_wants(struct group_writer *w, const struct aad_group_plan *plan)
{
    size_t size = plan->count * (AAD_ACCOUNT_NAME_MAX + 2) + 1, used = 0;
    char *text = malloc(size);
    if (text == NULL)
        return -1;
    text[0] = '\0';
    for (size_t i = 0; i < plan->count; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%c%s", i ? " " : "",
                                 plan->wants[i].member ? '+' : '-', plan->wants[i].group);
    const char *fields[] = {text};
    int rc = w->fd >= 0 ? aad_wire_send(w->fd, AAD_MSG_GROUPS_SET, 1, fields) : -1;
    free(text);
    return rc;
}

enum aad_status group_writer_apply(struct group_writer *w, const char *account,
                                   const struct aad_group_plan *plan, const struct aad_log *log,
                                   void (*alive)(void *), void *alive_ctx, struct aad_error *err)
{
    if (plan->count == 0)
        return AAD_OK;
    enum aad_group_outcome *out = calloc(plan->count, sizeof(*out));
    if (out == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    for (size_t i = 0; i < plan->count; i++)
        out[i] = AAD_GROUP_WRITE_FAILED; /* until the writer says otherwise */
    if (send_wants(w, plan) == 0)
        receive_outcomes(w, plan->count, out, log, alive, alive_ctx);
    else
        aad_log(log, LOG_ERR, "group_map: the group writer cannot be reached");
    enum aad_status st = AAD_OK;
    for (size_t i = 0; i < plan->count; i++) {
        const struct aad_group_want *g = &plan->wants[i];
        switch (out[i]) {
        case AAD_GROUP_ADDED:
            aad_log(log, LOG_NOTICE, "group_map: added %s to local group %s (Entra group %s)",
                    account, g->group, g->entra_id);
            break;
        case AAD_GROUP_REMOVED:
            aad_log(log, LOG_NOTICE,
                    "group_map: removed %s from local group %s (not in Entra group %s nor any "
                    "other mapped to it)", account, g->group, g->entra_id);
            break;
        case AAD_GROUP_UNCHANGED:
            aad_log(log, LOG_DEBUG, "group_map: %s %s local group %s, as Entra group %s says",
                    account, g->member ? "stays in" : "stays out of", g->group, g->entra_id);
            break;
        case AAD_GROUP_WRITE_FAILED:
            if (g->member) {
                aad_log(log, LOG_ERR,
                        "group_map: could not add %s to local group %s (Entra group %s): the "
                        "login goes on without it", account, g->group, g->entra_id);
            } else {
                aad_log(log, LOG_ERR,
                        "group_map: could not make sure %s is out of local group %s (Entra group "
                        "%s): login refused", account, g->group, g->entra_id);
                st = aad_fail_as(err, AAD_FAILURE_NOT_AUTHORIZED,
                                 "local group %s could not be updated: not authorized for this "
                                 "host", g->group);
            }
            break;
        default:
            aad_log(log, LOG_WARNING, "group_map: local group %s left alone for %s (Entra group %s): %s",
                    g->group, account, g->entra_id, aad_group_outcome_name(out[i]));
        }
    }
    free(out);
    return st;
}

void group_writer_stop(struct group_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->pid <= 0)
        return;
    /* It ends when the socket closes; its own alarm bounds it otherwise
     * (the helper's Landlock may not signal it). */
    for (int64_t until = aad_monotonic_ms() + REAP_WAIT_MS; aad_monotonic_ms() < until;) {
        if (waitpid(w->pid, NULL, WNOHANG) != 0)
            break;
        aad_sleep_until_ms(aad_monotonic_ms() + 10);
    }
    w->pid = -1;
}
