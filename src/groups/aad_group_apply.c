/* aad_group_apply.c - group_map's changes: previewed, then made by the
 * group writer.
 * Where it runs: inside the caller of PAM (sshd, su, sudo); libc only. */
#include "config.h"

#include "aad_group_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "aad_groupfile.h"
#include "aad_spawn.h"
#include "aad_wire.h"

#define REPLY_WAIT_MS 30000 /* the writer's lock wait (15 s), the writes, and room */
#define WRITER_EXIT_GRACE_MS 2000
/* The writer's file-size limit: the largest group file it reads and what
 * one edit can add, so that no write ever meets it. */
#define WRITER_FILE_BYTES (AAD_GROUPFILE_MAX_BYTES + 1024L * 1024)

/* Runs the writer on the wants in due; fills out[] (one per want). */
static enum aad_status run_writer(const char *writer, const char *account,
                                  const struct aad_group_plan *due, int argc, const char **argv,
                                  enum aad_group_outcome *out, struct aad_group_applied *done,
                                  struct aad_error *err)
{
    char *wants = aad_group_plan_format(due);
    if (wants == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    struct aad_helper_proc proc;
    enum aad_status st = aad_helper_start(writer, WRITER_FILE_BYTES, &proc, err);
    if (st != AAD_OK) {
        free(wants);
        return st;
    }
    const char *fields[AAD_WIRE_MAX_FIELDS];
    size_t n = 0;
    fields[n++] = account;
    fields[n++] = wants;
    for (int i = 0; i < argc && n < AAD_WIRE_MAX_FIELDS; i++)
        fields[n++] = argv[i];
    struct aad_wire_msg msg = {0};
    enum aad_wire_result res = AAD_WIRE_IO_ERROR;
    if (aad_wire_send(proc.fd, AAD_MSG_GROUPS_SET, n, fields) == 0)
        res = aad_wire_recv(proc.fd, aad_monotonic_ms() + REPLY_WAIT_MS, &msg);
    free(wants);
    if (res != AAD_WIRE_OK) {
        st = aad_fail(err, AAD_UNAVAILABLE, "no answer from the group writer: %s",
                      aad_wire_result_name(res));
    } else {
        /* One outcome per want, or none (all failed). */
        const char *p = aad_wire_field(&msg, 0);
        size_t got = 0;
        while (msg.type == AAD_MSG_GROUPS_DONE && got < due->count && *p != '\0') {
            char *end = NULL;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > AAD_GROUP_OUTCOME_MAX)
                break;
            out[got++] = (enum aad_group_outcome)v;
            p = end + strspn(end, " ");
        }
        if (got != due->count)
            for (size_t i = 0; i < due->count; i++)
                out[i] = AAD_GROUP_WRITE_FAILED;
        done->inconsistent = strcmp(aad_wire_field(&msg, 2), "1") == 0;
        if (aad_wire_field(&msg, 1)[0] != '\0')
            st = aad_fail(err, AAD_UNAVAILABLE, "the group writer: %.300s", aad_wire_field(&msg, 1));
        aad_wire_msg_clear(&msg);
    }
    aad_helper_finish(&proc, WRITER_EXIT_GRACE_MS);
    return st;
}

static enum aad_status log_outcome(const char *account, const struct aad_group_want *g,
                                   enum aad_group_outcome o, const struct aad_log *log,
                                   struct aad_group_applied *done, struct aad_error *err)
{
    switch (o) {
    case AAD_GROUP_ADDED:
        done->added = 1;
        aad_log(log, LOG_NOTICE, "group_map: added %s to local group %s (Entra group %s)",
                account, g->group, g->entra_id);
        return AAD_OK;
    case AAD_GROUP_REMOVED:
        done->removed = 1;
        aad_log(log, LOG_NOTICE,
                "group_map: removed %s from local group %s (not in Entra group %s nor any other "
                "mapped to it)", account, g->group, g->entra_id);
        return AAD_OK;
    case AAD_GROUP_UNCHANGED:
        aad_log(log, LOG_DEBUG, "group_map: %s %s local group %s, as Entra group %s says", account,
                g->member ? "stays in" : "stays out of", g->group, g->entra_id);
        return AAD_OK;
    case AAD_GROUP_WRITE_FAILED:
        if (g->member) {
            aad_log(log, LOG_ERR,
                    "group_map: could not add %s to local group %s (Entra group %s): the login "
                    "goes on without it", account, g->group, g->entra_id);
            return AAD_OK;
        }
        aad_log(log, LOG_ERR,
                "group_map: could not make sure %s is out of local group %s (Entra group %s): "
                "login refused", account, g->group, g->entra_id);
        return aad_fail_as(err, AAD_FAILURE_NOT_AUTHORIZED,
                           "local group %s could not be updated: not authorized for this host",
                           g->group);
    default:
        aad_log(log, LOG_WARNING, "group_map: local group %s left alone for %s (Entra group %s): %s",
                g->group, account, g->entra_id, aad_group_outcome_name(o));
        return AAD_OK;
    }
}

enum aad_status aad_group_apply(const char *writer, const char *account,
                                const struct aad_group_plan *plan, int allow_root, int argc,
                                const char **argv, const struct aad_log *log,
                                struct aad_group_applied *done, struct aad_error *err)
{
    memset(done, 0, sizeof(*done));
    if (plan->count == 0)
        return AAD_OK;
    struct aad_group_change *changes = calloc(plan->count, sizeof(*changes));
    enum aad_group_outcome *out = calloc(plan->count, sizeof(*out));
    struct aad_group_plan due = {calloc(plan->count, sizeof(*due.wants)), 0};
    size_t *slot = calloc(plan->count, sizeof(*slot));
    enum aad_status st = AAD_OK;
    if (changes == NULL || out == NULL || due.wants == NULL || slot == NULL) {
        st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < plan->count; i++)
        changes[i] = (struct aad_group_change){plan->wants[i].group, plan->wants[i].member,
                                               AAD_GROUP_WRITE_FAILED};
    /* What is due, from the group file as it is (a file that cannot be
     * read: everything is, and the writer will say). */
    struct aad_error ignored = {0};
    aad_groupfile_preview(AAD_GROUPFILE_DIR, account, changes, plan->count, allow_root, &ignored);
    for (size_t i = 0; i < plan->count; i++) {
        out[i] = changes[i].outcome;
        if (out[i] == AAD_GROUP_ADDED || out[i] == AAD_GROUP_REMOVED ||
            out[i] == AAD_GROUP_WRITE_FAILED) {
            slot[due.count] = i;
            due.wants[due.count++] = plan->wants[i];
        }
    }
    if (due.count > 0) {
        enum aad_group_outcome *written = calloc(due.count, sizeof(*written));
        for (size_t d = 0; written != NULL && d < due.count; d++)
            written[d] = AAD_GROUP_WRITE_FAILED; /* until the writer says otherwise */
        struct aad_error why = {0};
        if (written == NULL ||
            run_writer(writer, account, &due, argc, argv, written, done, &why) != AAD_OK) {
            aad_log(log, done->inconsistent ? LOG_ALERT : LOG_ERR, "group_map: %s",
                    written ? why.message : "out of memory");
        }
        for (size_t d = 0; d < due.count; d++)
            out[slot[d]] = written ? written[d] : AAD_GROUP_WRITE_FAILED;
        free(written);
    }
    for (size_t i = 0; i < plan->count; i++) {
        enum aad_status one = log_outcome(account, &plan->wants[i], out[i], log, done, err);
        if (st == AAD_OK)
            st = one;
    }
out:
    free(changes);
    free(out);
    free(due.wants);
    free(slot);
    return st;
}
