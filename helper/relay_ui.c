/* relay_ui.c - the login's front end, relayed to pam_aad.so.
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#include "config.h"

#include "relay_ui.h"
#include "aad_wire.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long the helper waits, after its verdict, for the module to take it. */
#define VERDICT_TAKEN_WAIT_MS 1000

/* A prompt was answered. An ENTERED answers the oldest prompt still open:
 * when a renewed code was sent while the user sat at the expired code's
 * prompt, the Enter for that old prompt comes first and says nothing about
 * the new code (taken for it, it made the first poll of a code nobody had
 * seen yet "asked", and its "not yet" prompt awaited the user's real
 * Enter). Only the answer to the latest prompt counts as the user's. */
static void answered(struct relay *r)
{
    if (r->prompts_open > 0)
        r->prompts_open--;
    if (r->prompts_open == 0) {
        r->listening = 1;
        r->entered = 1;
    }
}

/* Waits until until_us (to the microsecond: the next poll is due then)
 * for the module's one kind of message, ENTERED, and returns early when it
 * came. The end of the stream means the caller (sshd, su) is gone: nobody
 * is left to sign in, so the helper ends. */
static void take_input(struct relay *r, int64_t until_us)
{
    struct pollfd pfd = {r->fd, POLLIN, 0};
    int64_t left, wait;
    int n;
    do {
        /* The kernel lets a poll end late by a thousandth of its timeout
         * (select_estimate_accuracy: up to 1 ms of a step of a second,
         * 0.4 ms measured of 0.3 s): the wait stops short by that, and
         * the rest, a millisecond at most, is waited after it. */
        left = until_us - aad_monotonic_us();
        left = left > 0 ? left : 0;
        wait = left > 2000 ? left - left / 1000 - 100 : left;
        struct timespec step = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000L};
        n = ppoll(&pfd, 1, &step, NULL);
    } while (n == 0 && wait < left);
    if (n <= 0)
        return;
    struct aad_wire_msg msg;
    enum aad_wire_result res = aad_wire_recv(r->fd, aad_monotonic_ms() + 1000, &msg);
    if (res != AAD_WIRE_OK)
        _exit(res == AAD_WIRE_CLOSED ? 0 : 2);
    if (msg.type != AAD_MSG_ENTERED)
        _exit(2);
    aad_wire_msg_clear(&msg);
    answered(r);
}

static int show_code(void *ctx, const char *message, const char *qr, const char *prompt, int wait)
{
    struct relay *r = ctx;
    const char *fields[] = {message, qr ? qr : "", prompt, wait ? "1" : "0"};
    if (aad_wire_send(r->fd, AAD_MSG_SHOW_CODE, 4, fields) != 0)
        return -1;
    /* Without a prompt the module reads on at once. */
    if (wait)
        r->prompts_open++;
    r->listening = r->prompts_open == 0;
    return 0;
}

/* The user pressed Enter too early: the module prompts again and sends
 * ENTERED when they answer. */
static int not_yet(void *ctx, const char *prompt)
{
    struct relay *r = ctx;
    const char *fields[] = {prompt};
    if (aad_wire_send(r->fd, AAD_MSG_PROMPT, 1, fields) != 0)
        return -1;
    r->prompts_open++;
    r->listening = 0;
    return 0;
}

static int pause_between_polls(void *ctx, int64_t until_us, long seconds_left)
{
    struct relay *r = ctx;
    take_input(r, aad_monotonic_us());
    if (r->listening && seconds_left != r->last_left) {
        char left[24];
        snprintf(left, sizeof(left), "%ld", seconds_left);
        const char *fields[] = {left};
        if (aad_wire_send(r->fd, AAD_MSG_WAITING, 1, fields) != 0)
            return -1;
        r->last_left = seconds_left;
    }
    if (!r->entered)
        take_input(r, until_us);
    int entered = r->entered;
    r->entered = 0;
    return entered;
}

/* Until the module has taken the verdict: it closes its end then
 * (pam_aad.c, park_helper), or it ends. Bounded. */
static void await_verdict_taken(int fd)
{
    int64_t until = aad_monotonic_ms() + VERDICT_TAKEN_WAIT_MS;
    for (;;) {
        int64_t left = until - aad_monotonic_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
            return;
        char discard[256]; /* an Enter the module sent before it read the verdict */
        ssize_t got = recv(fd, discard, sizeof(discard), MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            return;
    }
}

void relay_verdict(struct relay *r, enum aad_status st, const struct aad_error *err,
                   const struct aad_identity *id, const struct aad_login_session *session)
{
    if (r->verdict_sent)
        return;
    r->verdict_sent = 1;
    char status[16], kind[16], aadsts[24], clock[24];
    const char *kept =
        st == AAD_OK && session != NULL && session->new_refresh_token ? session->new_refresh_token : "";
    char *plan = st == AAD_OK ? aad_group_plan_format(&id->groups) : NULL;
    snprintf(status, sizeof(status), "%d", (int)st);
    snprintf(kind, sizeof(kind), "%d", st == AAD_OK ? (int)AAD_FAILURE_NONE : (int)err->kind);
    snprintf(aadsts, sizeof(aadsts), "%ld", st == AAD_OK ? 0L : err->aadsts);
    snprintf(clock, sizeof(clock), "%ld", st == AAD_OK ? 0L : err->clock_offset_s);
    const char *fields[] = {status,      st == AAD_OK ? "verified" : err->message,
                            id->upn,     id->oid,
                            id->name,    id->tid,
                            id->local_user, kind,
                            aadsts,      plan ? plan : "",
                            kept,        session != NULL && session->refreshed ? "1" : "0",
                            st == AAD_OK ? "" : err->correlation_id, clock};
    /* What the helper does after its verdict (closing its connection,
     * freeing, wiping, the kernel's teardown of its memory at _exit: about
     * 1 ms) is nobody's wait, so it gives the module the CPU: it sleeps
     * until the module has taken the verdict, and goes on at idle priority,
     * which a woken task of normal priority always preempts. The module is
     * often woken on this process's CPU, and the kernel here preempts
     * nothing in kernel mode: on half the logins the module took the
     * verdict 0.85-1.3 ms after it was sent, behind that teardown (measured
     * with timestamps in both processes; 0.02-0.05 ms on the other CPU, and
     * now on either). Sleeping alone moved the wait behind the module's
     * close; idle priority alone did not help. */
    const struct sched_param idle = {0};
    sched_setscheduler(0, SCHED_IDLE, &idle);
    if (aad_wire_send(r->fd, AAD_MSG_VERDICT, sizeof(fields) / sizeof(fields[0]), fields) == 0)
        await_verdict_taken(r->fd);
    free(plan);
}

static void decided(void *ctx, enum aad_status st, const struct aad_identity *id,
                    const struct aad_login_session *session, const struct aad_error *err)
{
    relay_verdict(ctx, st, err, id, session);
}

static void alive(void *ctx)
{
    struct relay *r = ctx;
    take_input(r, aad_monotonic_us()); /* what came already; no wait */
    if (r->listening)
        aad_wire_send(r->fd, AAD_MSG_ALIVE, 0, NULL);
}

struct aad_ui relay_ui(struct relay *r, int qr_ok)
{
    struct aad_ui ui = {show_code, NULL, r, qr_ok, pause_between_polls, alive, not_yet, decided};
    return ui;
}

static void log_line(void *ctx, int priority, const char *message)
{
    struct relay *r = ctx;
    char prio[16];
    snprintf(prio, sizeof(prio), "%d", priority);
    const char *fields[] = {prio, message};
    aad_wire_send(r->fd, AAD_MSG_LOG, 2, fields);
}

struct aad_log relay_log(struct relay *r, int debug)
{
    struct aad_log log = {log_line, r, debug};
    return log;
}
