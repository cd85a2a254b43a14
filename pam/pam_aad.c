/* pam_aad.c - the PAM entry points: PAM words around pam_aad_helper.
 *
 * The login itself (network, TLS, JSON, token checks) runs in the helper,
 * never in the caller's process, which may be setuid (su, chsh) with an
 * environment chosen by an unprivileged user. Here: the configuration, the
 * local account's facts from the caller's name service, the conversation
 * and the verdict. libpam and libc only.
 *
 * Everything is decided in pam_sm_authenticate. What group_map grants is
 * made only once the whole stack has accepted the login (pam_sm_setcred or
 * pam_sm_open_session, whichever comes first): sshd runs authentication in
 * another process than those, so the grants are carried over in a
 * root-only pending record (src/caller/aad_pending.h).
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo); links libpam and
 * libc only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/wait.h>

#define PAM_SM_AUTH
#define PAM_SM_SESSION
#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "aad_account.h"
#include "aad_config.h"
#include "aad_last_refusal.h"
#include "aad_refusal.h"
#include "aad_slots.h"
#include "session_phase.h"
#include "aad_spawn.h"
#include "aad_wire.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif

#ifndef AAD_DEFAULT_HELPER
#define AAD_DEFAULT_HELPER "/usr/libexec/pam_aad/pam_aad_helper"
#endif


#define WAITING_NOTICE_EVERY_S 30
/* The helper sends a message before each network exchange, which takes at
 * most http_timeout: silence longer than that (and this much slack for a
 * loaded host) means it hangs. */
#define HELPER_SLACK_MS 2000
/* After its verdict the helper exits (at once; a few seconds under
 * valgrind's leak check); it is killed if it lingers. Without a verdict (it
 * hung, died or broke the protocol) it gets only the moment a dying process
 * needs to be reaped with its own status: the silence bound above is all
 * the time a broken helper gets. */
#define HELPER_EXIT_GRACE_MS 5000
#define HELPER_BROKEN_GRACE_MS 100

/* pam_set_data name of a helper that gave its verdict and was still ending
 * (struct aad_helper_proc): see park_helper. */
#define ENDING_HELPER "pam_aad_ending_helper"

/* pam_set_data name of the last refusal (struct aad_last_refusal): login(1)
 * and sudo retry on the same handle, and its sentence goes on top of the
 * next code screen (an 80x24 screen would push it off otherwise). sshd runs
 * each attempt in a forked process, where this is lost: there it is kept
 * in a record of the connection (aad_last_refusal.h), so that an ssh
 * client that hides banners (LogLevel ERROR, -q) still shows it, in the
 * next prompt's text. */
#define LAST_REFUSAL "pam_aad_last_refusal"
/* ssh prints "(user@host) " before a prompt's first line: room for a host
 * name at least this long is left on it. */
#define SSH_PREFIX_HOST_ROOM 15

struct pam_ui {
    pam_handle_t *pamh;
    int silent;
    int prompting; /* wait_for_enter: the user is asked, not told to wait */
    long last_notice_left;
    const char *last_refusal; /* NULL or the previous attempt's sentence */
};

/* Columns of the first line that ssh's "(user@host) " leaves a sentence,
 * or the whole width for other callers. */
static size_t first_line_width(int sshd, const char *user)
{
    if (!sshd)
        return AAD_TERMINAL_COLUMNS;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    size_t host_len = strlen(host) > SSH_PREFIX_HOST_ROOM ? strlen(host) : SSH_PREFIX_HOST_ROOM;
    size_t prefix = strlen("(@) ") + (user ? strlen(user) : 0) + host_len;
    return prefix + 30 < AAD_TERMINAL_COLUMNS ? AAD_TERMINAL_COLUMNS - prefix : 30;
}

/* The sentence of a refusal, broken into lines for this caller's terminal. */
static void refusal_text(const struct aad_refusal *r, int sshd, char *out, size_t size)
{
    aad_refusal_sentence(r, out, size);
    aad_refusal_wrap_first(out, first_line_width(sshd, r->account), AAD_TERMINAL_COLUMNS);
}

static int converse(pam_handle_t *pamh, const struct pam_message **msgs, int n,
                    struct pam_response **resp)
{
    const struct pam_conv *conv = NULL;
    if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS || conv == NULL ||
        conv->conv == NULL)
        return PAM_CONV_ERR;
    return conv->conv(n, msgs, resp, conv->appdata_ptr);
}

static void free_responses(struct pam_response *resp, int n)
{
    for (int i = 0; resp != NULL && i < n; i++) {
        if (resp[i].resp != NULL) {
            explicit_bzero(resp[i].resp, strlen(resp[i].resp));
            free(resp[i].resp);
        }
    }
    free(resp);
}

/* One conversation call: the message and the prompt, so that sshd shows
 * both. Under PAM_SILENT (sudo) only prompts are shown: the prompt then
 * carries the message (without the QR code). */
static int show_code(void *ctx, const char *message, const char *qr, const char *prompt, int wait)
{
    struct pam_ui *ui = ctx;
    char text[4096], silent_prompt[2048];
    const char *before = ui->last_refusal && !ui->silent ? ui->last_refusal : "";
    snprintf(text, sizeof(text), "%s%s%s%s%s", before, *before ? "\n" : "", message,
             qr ? "\n" : "", qr ? qr : "");
    /* Applications end each message with a new line of their own. */
    size_t len = strlen(text);
    if (len > 0 && text[len - 1] == '\n')
        text[len - 1] = '\0';
    snprintf(silent_prompt, sizeof(silent_prompt), "%s\n%s", message, prompt);
    struct pam_message info = {PAM_TEXT_INFO, text};
    struct pam_message ask = {PAM_PROMPT_ECHO_OFF, ui->silent ? silent_prompt : prompt};
    struct pam_message waiting = {PAM_TEXT_INFO, silent_prompt};
    const struct pam_message *msgs[2];
    int n = 0;
    if (wait) {
        if (!ui->silent)
            msgs[n++] = &info;
        msgs[n++] = &ask;
    } else {
        /* Without a prompt the code must still be seen, PAM_SILENT or not. */
        msgs[n++] = ui->silent ? &waiting : &info;
    }
    struct pam_response *resp = NULL;
    int rc = converse(ui->pamh, msgs, n, &resp);
    free_responses(resp, n);
    explicit_bzero(text, sizeof(text)); /* the user code */
    explicit_bzero(silent_prompt, sizeof(silent_prompt));
    return rc == PAM_SUCCESS ? 0 : -1;
}

/* Enter came before the sign-in was finished: ask again. */
static int prompt_again(struct pam_ui *ui, const char *prompt)
{
    struct pam_message ask = {PAM_PROMPT_ECHO_OFF, prompt};
    const struct pam_message *msgs[] = {&ask};
    struct pam_response *resp = NULL;
    int rc = converse(ui->pamh, msgs, 1, &resp);
    free_responses(resp, 1);
    return rc == PAM_SUCCESS ? 0 : -1;
}

static void waiting(void *ctx, long seconds_left)
{
    struct pam_ui *ui = ctx;
    /* With a prompt, waiting lines would reach an sshd user only after the
     * login (sshd shows text only with the next prompt): the prompt that
     * follows an early Enter says it instead. */
    if (ui->silent || ui->prompting || (ui->last_notice_left != 0 &&
                       ui->last_notice_left - seconds_left < WAITING_NOTICE_EVERY_S))
        return;
    ui->last_notice_left = seconds_left;
    pam_info(ui->pamh, "Waiting for the sign-in to complete (%ld s left)...", seconds_left);
}

static void describe_setting(void *ctx, const char *text)
{
    pam_syslog((pam_handle_t *)ctx, LOG_DEBUG, "setting: %s", text);
}

/* A line the helper sent for syslog: it may say no more than "error"
 * (LOG_EMERG would reach every terminal), and control characters (a
 * forged second line) become '?'. */
static void log_from_helper(pam_handle_t *pamh, int priority, const char *line)
{
    char text[2048];
    size_t n = 0;
    for (; line[n] != '\0' && n + 1 < sizeof(text); n++)
        text[n] = (unsigned char)line[n] < ' ' || line[n] == 0x7f ? '?' : line[n];
    text[n] = '\0';
    pam_syslog(pamh, priority < LOG_ERR ? LOG_ERR : priority, "%s", text);
}

/* A value for the log line: the client chose PAM_USER and the tenant chose
 * the UPN, so neither may forge a line or a field (control characters,
 * spaces, "key=" look-alikes are replaced). */
static const char *loggable(const char *value, char *buf, size_t size)
{
    return aad_loggable(value, buf, size);
}

static int pam_code_of(enum aad_status st)
{
    switch (st) {
    case AAD_OK: return PAM_SUCCESS;
    case AAD_USER_UNKNOWN: return PAM_USER_UNKNOWN;
    case AAD_DENIED: return PAM_AUTH_ERR;
    case AAD_UNAVAILABLE: return PAM_AUTHINFO_UNAVAIL;
    case AAD_CONFIG_ERROR: return PAM_SERVICE_ERR;
    case AAD_IGNORE: return PAM_IGNORE;
    }
    return PAM_AUTH_ERR;
}

/* What the helper said at the end. */
struct verdict {
    enum aad_status status;
    struct aad_error err;
    char upn[257], oid[64];
    char tid[64];
    char *group_plan;    /* group_map's "+group:id -group:id" on success, or NULL */
    char *refresh_token; /* secret: the session's sign-in to keep, or NULL */
    int refreshed;       /* a silent refresh of the session's sign-in */
    int received;        /* the helper did send it */
};

static void verdict_clear(struct verdict *v)
{
    free(v->group_plan);
    aad_free_secret(v->refresh_token);
    v->group_plan = v->refresh_token = NULL;
}

/* The kind and AADSTS code of a verdict. The status decides: a kind that
 * does not belong to it is replaced by the status's own. */
static void take_failure(const struct aad_wire_msg *msg, struct verdict *v)
{
    long kind = 0, aadsts = 0;
    if (aad_wire_long(msg, 7, 0, AAD_FAILURE_LAST, &kind) != 0 ||
        aad_failure_status((enum aad_failure)kind) != v->status)
        kind = aad_failure_of_status(v->status);
    if (aad_wire_long(msg, 8, 0, 99999999L, &aadsts) != 0)
        aadsts = 0;
    v->err.kind = (enum aad_failure)kind;
    v->err.aadsts = aadsts;
    /* Shown to the user: a GUID-like word or nothing; an offset in range. */
    const char *correlation = aad_wire_field(msg, 12);
    if (aad_is_printable_token(correlation, sizeof(v->err.correlation_id) - 1))
        snprintf(v->err.correlation_id, sizeof(v->err.correlation_id), "%s", correlation);
    long offset = 0;
    if (aad_wire_long(msg, 13, -100000000L, 100000000L, &offset) == 0)
        v->err.clock_offset_s = offset;
}

/* Sends the request: the account's facts, what to do with the session's
 * sign-in, and the module arguments (the helper reads the configuration
 * itself, with the same arguments). */
static int send_request(int fd, const struct aad_account *account, int qr_ok,
                        const struct signin_choice *c, int argc, const char **argv)
{
    const char *fields[AAD_WIRE_MAX_FIELDS];
    char uid[24];
    snprintf(uid, sizeof(uid), "%lu", account->uid);
    size_t n = 0;
    fields[n++] = account->name;
    fields[n++] = uid;
    fields[n++] = qr_ok ? "1" : "0";
    fields[n++] = c->keep ? "1" : "0";
    fields[n++] = c->stored_found ? c->stored.refresh_token : "";
    fields[n++] = c->stored_found && c->stored.oid ? c->stored.oid : "";
    fields[n++] = c->stored_found && c->stored.tid ? c->stored.tid : "";
    if (argc < 0 || (size_t)argc > AAD_WIRE_MAX_FIELDS - n) {
        errno = E2BIG;
        return -1;
    }
    for (int i = 0; i < argc; i++)
        fields[n++] = argv[i];
    return aad_wire_send(fd, AAD_MSG_REQUEST, n, fields);
}

static enum aad_status take_verdict(const struct aad_wire_msg *msg,
                                    const struct aad_account *account, struct verdict *v)
{
    long status;
    if (aad_wire_long(msg, 0, AAD_OK, AAD_IGNORE, &status) != 0)
        return aad_fail(&v->err, AAD_UNAVAILABLE, "helper: malformed verdict");
    v->received = 1;
    v->status = (enum aad_status)status;
    snprintf(v->err.message, sizeof(v->err.message), "%s", aad_wire_field(msg, 1));
    snprintf(v->upn, sizeof(v->upn), "%s", aad_wire_field(msg, 2));
    snprintf(v->oid, sizeof(v->oid), "%s", aad_wire_field(msg, 3));
    snprintf(v->tid, sizeof(v->tid), "%s", aad_wire_field(msg, 5));
    v->err.status = v->status;
    take_failure(msg, v);
    /* Success names the account it is for: never another one. */
    if (v->status == AAD_OK && strcmp(aad_wire_field(msg, 6), account->name) != 0)
        return aad_fail(&v->err, AAD_DENIED, "helper: success for another account");
    if (v->status == AAD_OK && (v->group_plan = strdup(aad_wire_field(msg, 9))) == NULL)
        return aad_fail(&v->err, AAD_UNAVAILABLE, "out of memory");
    if (v->status == AAD_OK && aad_wire_field(msg, 10)[0] != '\0' &&
        (v->refresh_token = strdup(aad_wire_field(msg, 10))) == NULL)
        return aad_fail(&v->err, AAD_UNAVAILABLE, "out of memory");
    v->refreshed = v->status == AAD_OK && strcmp(aad_wire_field(msg, 11), "1") == 0;
    return v->status;
}

/* Relays the helper's messages to the conversation and the log until its
 * verdict. Every wait for the helper is bounded; the user's own time at
 * the prompt is not ours to bound (sshd's LoginGraceTime does). */
static enum aad_status relay(pam_handle_t *pamh, const struct aad_config *cfg,
                             const struct aad_account *account, int fd, struct pam_ui *ui,
                             struct verdict *v)
{
    const int64_t silence_ms = cfg->http_timeout * 1000 + HELPER_SLACK_MS;
    const int64_t give_up_ms = aad_monotonic_ms() + aad_config_login_bound_s(cfg) * 1000;
    for (;;) {
        int64_t deadline = aad_monotonic_ms() + silence_ms;
        struct aad_wire_msg msg;
        enum aad_wire_result res = aad_wire_recv(fd, deadline < give_up_ms ? deadline : give_up_ms, &msg);
        if (res == AAD_WIRE_VERSION_MISMATCH)
            return aad_fail(&v->err, AAD_UNAVAILABLE,
                            "helper speaks protocol version %d, this module version %d", msg.version,
                            AAD_WIRE_VERSION);
        if (res != AAD_WIRE_OK)
            return aad_fail(&v->err, AAD_UNAVAILABLE, "helper: %s", aad_wire_result_name(res));
        enum aad_status st = AAD_OK;
        int done = 0;
        long n = 0;
        switch (msg.type) {
        case AAD_MSG_SHOW_CODE: {
            int wait = strcmp(aad_wire_field(&msg, 3), "1") == 0;
            const char *qr = aad_wire_field(&msg, 1);
            if (show_code(ui, aad_wire_field(&msg, 0), *qr ? qr : NULL, aad_wire_field(&msg, 2),
                          wait) != 0) {
                st = aad_fail_as(&v->err, AAD_FAILURE_NO_CONVERSATION,
                                 "the code cannot be shown to the user");
                done = 1;
            } else if (wait) {
                /* The helper may have finished while the user was at the
                 * prompt (signed in before Enter): its verdict is waiting
                 * to be read and it has exited, so this send may fail. The
                 * next read tells. */
                aad_wire_send(fd, AAD_MSG_ENTERED, 0, NULL);
            }
            break;
        }
        case AAD_MSG_PROMPT:
            if (prompt_again(ui, aad_wire_field(&msg, 0)) != 0) {
                st = aad_fail_as(&v->err, AAD_FAILURE_NO_CONVERSATION,
                                 "the user can no longer be reached");
                done = 1;
            } else {
                aad_wire_send(fd, AAD_MSG_ENTERED, 0, NULL); /* as after the code */
            }
            break;
        case AAD_MSG_WAITING:
            if (aad_wire_long(&msg, 0, 0, 100000, &n) == 0)
                waiting(ui, n);
            break;
        case AAD_MSG_ALIVE:
            break;
        case AAD_MSG_LOG:
            if (aad_wire_long(&msg, 0, LOG_EMERG, LOG_DEBUG, &n) == 0 &&
                (n != LOG_DEBUG || cfg->debug))
                log_from_helper(pamh, (int)n, aad_wire_field(&msg, 1));
            break;
        case AAD_MSG_VERDICT:
            st = take_verdict(&msg, account, v);
            done = 1;
            break;
        default:
            st = aad_fail(&v->err, AAD_UNAVAILABLE, "helper sent a message of unknown type %d",
                          msg.type);
            done = 1;
        }
        aad_wire_msg_clear(&msg);
        if (done)
            return st;
    }
}

static void log_helper_end(pam_handle_t *pamh, int status)
{
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    char how[64];
    aad_describe_wait_status(status, how, sizeof(how));
    pam_syslog(pamh, LOG_WARNING, "helper %s after its verdict", how);
}

/* pam_end (or a newer parked helper, or its reaping) drops it: reaped,
 * within the grace a helper has after its verdict. */
static void end_helper(pam_handle_t *pamh, void *data, int error_status)
{
    (void)error_status;
    struct aad_helper_proc *p = data;
    if (p->pid > 0)
        log_helper_end(pamh, aad_helper_finish(p, HELPER_EXIT_GRACE_MS));
    free(p);
}

/* A helper's verdict is its last act (it only wipes what the verdict was
 * made of, then _exit), so the user does not wait for the kernel to tear
 * the helper down (0.5-1.3 ms after Enter): it is reaped once it has
 * ended, at the module's next call or by pam_end at the latest. The
 * caller's own waits never see it (aad_spawn.h): login(1)'s wait(NULL) for
 * its shell cannot take it for the shell. A helper that then does not end
 * cleanly is logged; its verdict stands. */
static void park_helper(pam_handle_t *pamh, struct aad_helper_proc *proc)
{
    int status;
    if (aad_helper_reap(proc, &status)) {
        log_helper_end(pamh, status);
        return;
    }
    struct aad_helper_proc *kept = malloc(sizeof(*kept));
    if (kept == NULL) {
        log_helper_end(pamh, aad_helper_finish(proc, HELPER_EXIT_GRACE_MS));
        return;
    }
    *kept = *proc;
    /* No descriptor is held meanwhile (su keeps the handle while its shell
     * runs): the pid stays the reaper's until it is reaped. */
    aad_helper_drop_pidfd(kept);
    if (pam_set_data(pamh, ENDING_HELPER, kept, end_helper) != PAM_SUCCESS)
        end_helper(pamh, kept, 0);
}

/* Reaps a parked helper that has ended by now (at each call of the module). */
static void reap_ending_helper(pam_handle_t *pamh)
{
    const void *data = NULL;
    int status;
    if (pam_get_data(pamh, ENDING_HELPER, &data) != PAM_SUCCESS || data == NULL)
        return;
    if (!aad_helper_reap((struct aad_helper_proc *)data, &status))
        return;
    log_helper_end(pamh, status);
    pam_set_data(pamh, ENDING_HELPER, NULL, NULL); /* end_helper frees it */
}

/* Starts the helper, runs the login through it, and ends it (no orphans,
 * whatever happened): without a verdict it is reaped (killed if need be)
 * here, after one it is parked (park_helper). */
static enum aad_status login_through_helper(pam_handle_t *pamh, const struct aad_config *cfg,
                                            const struct aad_account *account, int silent,
                                            const struct signin_choice *choice,
                                            const char *last_refusal, int argc,
                                            const char **argv, struct verdict *v)
{
    struct aad_helper_proc proc;
    const char *path = cfg->helper ? cfg->helper : AAD_DEFAULT_HELPER;
    /* Held until the helper is gone: see aad_slots.h. */
    struct aad_slots slots;
    enum aad_status st = aad_slots_take(cfg->runtime_dir, cfg->max_logins,
                                        cfg->max_logins_per_user, getuid(), &slots, &v->err);
    if (st == AAD_OK)
        st = aad_helper_start(path, AAD_HELPER_FILE_BYTES, &proc, &v->err);
    if (st != AAD_OK) {
        aad_slots_release(&slots);
        return st;
    }
    struct pam_ui ui_ctx = {pamh, silent, cfg->wait_for_enter, 0, last_refusal};
    if (send_request(proc.fd, account, !silent, choice, argc, argv) != 0)
        st = aad_fail(&v->err, AAD_UNAVAILABLE, "cannot send the request to the helper: %s",
                      strerror(errno));
    else
        st = relay(pamh, cfg, account, proc.fd, &ui_ctx, v);
    if (v->received) {
        park_helper(pamh, &proc);
    } else {
        char how[64];
        aad_describe_wait_status(aad_helper_finish(&proc, HELPER_BROKEN_GRACE_MS), how,
                                 sizeof(how));
        size_t len = strlen(v->err.message);
        snprintf(v->err.message + len, sizeof(v->err.message) - len, " (helper %s)", how);
    }
    aad_slots_release(&slots);
    return st;
}

/* sshd shows text only together with a prompt: without one (wait_for_enter
 * = no) its user would see the code only after the login ended. */
static int is_sshd(pam_handle_t *pamh, const char *service)
{
    const char *tty = NULL;
    pam_get_item(pamh, PAM_TTY, (const void **)&tty);
    return (service != NULL && strcmp(service, "sshd") == 0) || (tty != NULL && strcmp(tty, "ssh") == 0);
}

static void free_kept(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

/* Keeps a refusal for the next attempt of this login (see LAST_REFUSAL). */
static void keep_refusal(pam_handle_t *pamh, const struct aad_config *cfg, int sshd,
                         const struct aad_last_refusal *r)
{
    struct aad_last_refusal *kept = malloc(sizeof(*kept));
    if (kept != NULL) {
        *kept = *r;
        if (pam_set_data(pamh, LAST_REFUSAL, kept, free_kept) != PAM_SUCCESS)
            free(kept);
    }
    char name[64];
    struct aad_error err = {0};
    if (sshd && cfg != NULL && geteuid() == 0 && aad_last_refusal_name(name, sizeof(name)) == 0 &&
        aad_last_refusal_put(cfg->runtime_dir, name, r, &err) != AAD_OK)
        pam_syslog(pamh, LOG_WARNING, "the refusal is not kept for the next attempt: %s",
                   err.message);
}

/* The previous attempt's refusal of this login, if any (taken: it is shown
 * once, or kept again by the caller). */
static int recall_refusal(pam_handle_t *pamh, const struct aad_config *cfg, int sshd,
                          const char *account, struct aad_last_refusal *out)
{
    const void *kept = NULL;
    char name[64];
    struct aad_error err = {0};
    if (pam_get_data(pamh, LAST_REFUSAL, &kept) == PAM_SUCCESS && kept != NULL) {
        *out = *(const struct aad_last_refusal *)kept;
        pam_set_data(pamh, LAST_REFUSAL, NULL, NULL);
        return strcmp(out->account, account) == 0;
    }
    return sshd && geteuid() == 0 && aad_last_refusal_name(name, sizeof(name)) == 0 &&
           aad_last_refusal_take(cfg->runtime_dir, name, account, out, &err) == AAD_OK;
}

/* The last attempt was refused in a way a new code cannot change (a
 * Conditional Access block the device-code flow never satisfies): no code
 * is shown; the sentence again, in a prompt under sshd (a banner may be
 * hidden there), and PAM_MAXTRIES so that the caller stops asking. */
static int refuse_again(pam_handle_t *pamh, const struct aad_config *cfg, int sshd,
                        const struct aad_last_refusal *last)
{
    char sentence[512], text[700];
    struct aad_refusal r = aad_last_refusal_view(last);
    refusal_text(&r, sshd, sentence, sizeof(sentence));
    snprintf(text, sizeof(text), "%s\nA new code would be blocked the same way.%s", sentence,
             sshd ? " Press Enter to close:" : "");
    if (sshd) {
        struct pam_ui ui = {pamh, 0, 1, 0, NULL};
        prompt_again(&ui, text);
    } else {
        pam_error(pamh, "%s", text);
    }
    keep_refusal(pamh, cfg, sshd, last);
    pam_syslog(pamh, LOG_NOTICE,
               "user=%s result=denied kind=%s aadsts=%ld reason=no new code: the last attempt "
               "was blocked the same way (correlation ID %s)",
               last->account, aad_failure_name(last->kind), last->aadsts,
               last->correlation_id[0] ? last->correlation_id : "-");
    return PAM_MAXTRIES;
}

/* One sentence the user can act on, before the module returns. It is sent
 * even under PAM_SILENT (sudo passes it on every attempt): it is not
 * chatter but the only way to learn why a sign-in just made on another
 * device did not log them in. A refusal is kept for the next attempt. */
static void tell_user(pam_handle_t *pamh, const struct aad_config *cfg, int sshd,
                      const struct verdict *v, const char *account)
{
    char sentence[512];
    struct aad_refusal r = {v->err.kind,           v->err.aadsts,
                            v->upn[0] ? v->upn : NULL, account,
                            v->err.correlation_id, v->err.clock_offset_s};
    refusal_text(&r, sshd, sentence, sizeof(sentence));
    if (sentence[0] == '\0')
        return;
    if (aad_refusal_is_fallback(v->err.kind)) {
        pam_info(pamh, "%s", sentence);
        return;
    }
    pam_error(pamh, "%s", sentence);
    if (account == NULL)
        return;
    struct aad_last_refusal last = {.kind = v->err.kind, .aadsts = v->err.aadsts,
                                    .clock_offset_s = v->err.clock_offset_s};
    snprintf(last.correlation_id, sizeof(last.correlation_id), "%s", v->err.correlation_id);
    snprintf(last.upn, sizeof(last.upn), "%.127s", v->upn);
    snprintf(last.account, sizeof(last.account), "%s", account);
    keep_refusal(pamh, cfg, sshd, &last);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct aad_config *cfg = NULL;
    struct verdict v;
    memset(&v, 0, sizeof(v));
    const char *service = NULL, *user = NULL;
    pam_get_item(pamh, PAM_SERVICE, (const void **)&service);
    reap_ending_helper(pamh);

    enum aad_status st = aad_config_load(AAD_DEFAULT_CONFIG, argc, argv, &cfg, &v.err);
    if (st != AAD_OK) {
        pam_syslog(pamh, LOG_ERR, "service=%s result=%s kind=%s reason=%s",
                   service ? service : "?", aad_status_name(st), aad_failure_name(v.err.kind),
                   v.err.message);
        tell_user(pamh, NULL, 0, &v, NULL);
        return pam_code_of(st);
    }
    if (cfg->debug)
        aad_config_describe(cfg, describe_setting, pamh);
    /* The helper reads the same arguments, plus this one when sshd forces
     * it (a list too long for the request fails there, as without it). */
    const char *args[AAD_WIRE_MAX_FIELDS];
    if (!cfg->wait_for_enter && is_sshd(pamh, service) && argc >= 0 &&
        argc < AAD_WIRE_MAX_FIELDS) {
        pam_syslog(pamh, LOG_WARNING,
                   "wait_for_enter = no is ignored for sshd, which would show the code only "
                   "after the login");
        cfg->wait_for_enter = 1;
        memcpy(args, argv, (size_t)argc * sizeof(*args));
        args[argc++] = "wait_for_enter=yes";
        argv = args;
    }

    /* The account's facts come from the caller's name service (the one the
     * session will use), before any helper or network traffic. An account
     * pam_aad may never map (root without allow_root, a system account no
     * user_map line names) is PAM_IGNORE here: the stack's next method
     * (root's password: break-glass) decides. */
    struct aad_account account;
    const int sshd = is_sshd(pamh, service);
    struct aad_last_refusal last;
    char last_sentence[512] = "";
    int rc = pam_get_user(pamh, &user, NULL);
    if (rc != PAM_SUCCESS || user == NULL) {
        st = aad_fail(&v.err, AAD_USER_UNKNOWN, "no user name (%s)", pam_strerror(pamh, rc));
    } else {
        st = aad_account_lookup(cfg, user, &account, &v.err);
        int recalled = st == AAD_OK && recall_refusal(pamh, cfg, sshd, account.name, &last);
        if (recalled && aad_refusal_repeats(last.kind, last.aadsts)) {
            rc = refuse_again(pamh, cfg, sshd, &last);
            aad_config_free(cfg);
            return rc;
        }
        if (recalled) {
            struct aad_refusal r = aad_last_refusal_view(&last);
            refusal_text(&r, sshd, last_sentence, sizeof(last_sentence));
        }
        struct signin_choice choice;
        signin_choose(cfg, service, &account, &choice);
        if (cfg->debug && choice.why_none[0] != '\0')
            pam_syslog(pamh, LOG_DEBUG, "session sign-in: none to redeem: %s", choice.why_none);
        if (st == AAD_OK)
            st = login_through_helper(pamh, cfg, &account, (flags & PAM_SILENT) != 0, &choice,
                                      last_sentence[0] ? last_sentence : NULL, argc, argv, &v);
        if (st == AAD_OK) {
            struct verified done = {account.name, account.uid, service, v.upn, v.oid,
                                    v.tid,        v.group_plan, v.refresh_token, v.refreshed};
            st = carry_verified(pamh, cfg, argc, argv, &done, &choice, &v.err);
        }
        if (st == AAD_OK && v.refreshed && !(flags & PAM_SILENT))
            pam_info(pamh, "Signed in with Microsoft Entra ID as %s (session sign-in, checked "
                           "just now).", v.upn[0] ? v.upn : account.name);
        /* A refusal (not an outage) of a re-authentication that redeemed
         * the session's sign-in ends that sign-in: Entra ID refused it, or
         * the refreshed identity no longer passes (the token is used up),
         * and its sentence says "log in again". sudo's retry asks for a
         * device-code sign-in, which Entra ID decides anew. */
        if (st == AAD_DENIED && choice.stored_found)
            signin_forget(cfg, &choice);
        signin_choice_clear(&choice);
    }
    char user_buf[64], upn_buf[128], service_buf[64], oid_buf[64];
    pam_syslog(pamh, st == AAD_OK ? LOG_INFO : LOG_NOTICE,
               "service=%s user=%s upn=%s oid=%s result=%s kind=%s aadsts=%ld reason=%s",
               loggable(service, service_buf, sizeof(service_buf)),
               loggable(user, user_buf, sizeof(user_buf)),
               loggable(v.upn[0] ? v.upn : NULL, upn_buf, sizeof(upn_buf)),
               loggable(v.oid[0] ? v.oid : NULL, oid_buf, sizeof(oid_buf)), aad_status_name(st),
               aad_failure_name(st == AAD_OK ? AAD_FAILURE_NONE : v.err.kind), v.err.aadsts,
               st == AAD_OK ? "verified" : v.err.message);
    if (st != AAD_OK)
        tell_user(pamh, cfg, sshd, &v, user);
    verdict_clear(&v);
    aad_config_free(cfg);
    reap_ending_helper(pamh);
    return pam_code_of(st);
}

/* Once the stack has accepted the login: credentials are set up (login,
 * su: after initgroups; sshd: before its session's initgroups). */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    reap_ending_helper(pamh);
    if (flags & (PAM_ESTABLISH_CRED | PAM_REINITIALIZE_CRED))
        carry_into_session(pamh, argc, argv, 1);
    return PAM_SUCCESS;
}

/* The same for a stack whose application opens the session first. */
PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    reap_ending_helper(pamh);
    (void)flags;
    carry_into_session(pamh, argc, argv, 0);
    return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    reap_ending_helper(pamh);
    (void)flags;
    carry_close_session(pamh, argc, argv);
    return PAM_SUCCESS;
}
