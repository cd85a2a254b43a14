/* pam_aad.c - the PAM entry points: PAM words around aad_login().
 *
 * Everything is decided in pam_sm_authenticate: sshd runs authentication
 * in another process than the account phase, so nothing can be carried
 * over with pam_set_data. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "aad_config.h"
#include "aad_login.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif

#define WAITING_NOTICE_EVERY_S 30

struct pam_ui {
    pam_handle_t *pamh;
    int silent;
    long last_notice_left;
};

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

/* One conversation call: the message (unless PAM_SILENT) and the prompt, so
 * that sshd shows both and sudo, which passes PAM_SILENT, still shows the
 * code inside the prompt. */
static int show_code(void *ctx, const char *message, const char *qr, const char *prompt, int wait)
{
    struct pam_ui *ui = ctx;
    char text[4096];
    snprintf(text, sizeof(text), "%s%s%s", message, qr ? "\n" : "", qr ? qr : "");
    struct pam_message info = {PAM_TEXT_INFO, text};
    struct pam_message ask = {PAM_PROMPT_ECHO_OFF, prompt};
    struct pam_message waiting = {PAM_TEXT_INFO, prompt};
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
    return rc == PAM_SUCCESS ? 0 : -1;
}

static void waiting(void *ctx, long seconds_left)
{
    struct pam_ui *ui = ctx;
    if (ui->silent || (ui->last_notice_left != 0 &&
                       ui->last_notice_left - seconds_left < WAITING_NOTICE_EVERY_S))
        return;
    ui->last_notice_left = seconds_left;
    pam_info(ui->pamh, "Waiting for the sign-in to complete (%ld s left)...", seconds_left);
}

static void log_to_syslog(void *ctx, int priority, const char *message)
{
    pam_syslog((pam_handle_t *)ctx, priority, "%s", message);
}

static void describe_setting(void *ctx, const char *text)
{
    pam_syslog((pam_handle_t *)ctx, LOG_DEBUG, "setting: %s", text);
}

/* A value for the log line: the client chose PAM_USER and the tenant chose
 * the UPN, so neither may forge a line or a field (control characters,
 * spaces, "key=" look-alikes are replaced). */
static const char *loggable(const char *value, char *buf, size_t size)
{
    if (value == NULL)
        return "-";
    size_t n = 0;
    for (; value[n] != '\0' && n + 1 < size; n++)
        buf[n] = (value[n] > ' ' && value[n] <= '~' && value[n] != '=') ? value[n] : '?';
    buf[n] = '\0';
    return buf;
}

static int pam_code_of(enum aad_status st)
{
    switch (st) {
    case AAD_OK: return PAM_SUCCESS;
    case AAD_USER_UNKNOWN: return PAM_USER_UNKNOWN;
    case AAD_DENIED: return PAM_AUTH_ERR;
    case AAD_UNAVAILABLE: return PAM_AUTHINFO_UNAVAIL;
    case AAD_CONFIG_ERROR: return PAM_SERVICE_ERR;
    }
    return PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct aad_config *cfg = NULL;
    struct aad_error err = {AAD_OK, ""};
    struct aad_identity id = {0};
    const char *service = NULL, *user = NULL;
    pam_get_item(pamh, PAM_SERVICE, (const void **)&service);

    enum aad_status st = aad_config_load(AAD_DEFAULT_CONFIG, argc, argv, &cfg, &err);
    if (st != AAD_OK) {
        pam_syslog(pamh, LOG_ERR, "service=%s result=%s reason=%s", service ? service : "?",
                   aad_status_name(st), err.message);
        return pam_code_of(st);
    }
    struct aad_log log = {log_to_syslog, pamh, cfg->debug};
    if (cfg->debug)
        aad_config_describe(cfg, describe_setting, pamh);

    int rc = pam_get_user(pamh, &user, NULL);
    if (rc != PAM_SUCCESS || user == NULL) {
        st = AAD_USER_UNKNOWN;
        snprintf(err.message, sizeof(err.message), "no user name (%s)", pam_strerror(pamh, rc));
    } else {
        struct pam_ui ui_ctx = {pamh, (flags & PAM_SILENT) != 0, 0};
        /* QR auto: wherever messages are shown at all. */
        struct aad_ui ui = {show_code, waiting, &ui_ctx, !ui_ctx.silent};
        st = aad_login(cfg, user, &ui, &log, &id, NULL, &err);
    }
    char user_buf[64], upn_buf[128], service_buf[64];
    pam_syslog(pamh, st == AAD_OK ? LOG_INFO : LOG_NOTICE,
               "service=%s user=%s upn=%s oid=%s result=%s reason=%s",
               loggable(service, service_buf, sizeof(service_buf)),
               loggable(user, user_buf, sizeof(user_buf)), loggable(id.upn, upn_buf, sizeof(upn_buf)),
               id.oid ? id.oid : "-", aad_status_name(st), st == AAD_OK ? "verified" : err.message);
    if (st == AAD_DENIED && !(flags & PAM_SILENT) && strstr(err.message, "not authorized") != NULL)
        pam_error(pamh, "You are not authorized to log in to this host.");
    aad_identity_clear(&id);
    aad_config_free(cfg);
    return pam_code_of(st);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
