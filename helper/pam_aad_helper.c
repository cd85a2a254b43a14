/* pam_aad_helper - runs one whole login for pam_aad.so, in its own process.
 *
 * pam_aad.so executes it for every login (see src/caller/aad_spawn.c: fixed
 * environment, the socket as descriptor 0, nothing else of the caller's)
 * and relays the conversation. Here live the network, TLS, JSON and the
 * token checks, so that none of it runs inside su, sshd or sudo:
 *
 *   request (account facts, module arguments) -> configuration and the
 *   files it names, read as root -> confinement (Landlock, root given up,
 *   seccomp allowlist: confine.h) -> aad_login() -> verdict (with
 *   group_map's plan, which the module has the group writer apply)
 *
 * It is not meant to be run by hand: on a terminal it says so and exits.
 *
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "aad_config.h"
#include "aad_login.h"
#include "aad_wire.h"
#include "confine.h"
#include "relay_ui.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif

#define REQUEST_WAIT_MS 5000
#define MAX_MODULE_ARGS (AAD_WIRE_MAX_FIELDS - 3)

/* aad_wire.h: AAD_MSG_REQUEST. */
enum request_field {
    REQ_USER, REQ_UID, REQ_QR_OK,
    REQ_KEEP,          /* "1": keep a refresh token for the login session */
    REQ_REFRESH_TOKEN, /* the session's sign-in to redeem, or "" */
    REQ_EXPECT_OID, REQ_EXPECT_TID,
    REQ_FIRST_ARG
};

static enum aad_status run(const struct aad_wire_msg *req, struct relay *relay,
                           struct aad_identity *id, struct aad_login_session *session,
                           struct aad_error *err)
{
    struct aad_account account;
    long uid = -1, qr_ok = 0, keep = 0;
    memset(&account, 0, sizeof(account));
    if (req->count < REQ_FIRST_ARG || req->count - REQ_FIRST_ARG > MAX_MODULE_ARGS ||
        strlen(aad_wire_field(req, REQ_USER)) > AAD_ACCOUNT_NAME_MAX ||
        aad_wire_long(req, REQ_UID, 0, LONG_MAX, &uid) != 0 || (unsigned long)uid > 0xffffffffUL ||
        aad_wire_long(req, REQ_QR_OK, 0, 1, &qr_ok) != 0 ||
        aad_wire_long(req, REQ_KEEP, 0, 1, &keep) != 0)
        return aad_fail(err, AAD_UNAVAILABLE, "the module sent a malformed request");
    session->keep = (int)keep;
    if (aad_wire_field(req, REQ_REFRESH_TOKEN)[0] != '\0') {
        session->refresh_token = aad_wire_field(req, REQ_REFRESH_TOKEN);
        session->expect_oid = aad_wire_field(req, REQ_EXPECT_OID);
        session->expect_tid = aad_wire_field(req, REQ_EXPECT_TID);
    }
    snprintf(account.name, sizeof(account.name), "%s", aad_wire_field(req, REQ_USER));
    account.uid = (unsigned long)uid;

    const char *args[MAX_MODULE_ARGS];
    int argc = (int)(req->count - REQ_FIRST_ARG);
    for (int i = 0; i < argc; i++)
        args[i] = req->field[REQ_FIRST_ARG + i];
    struct aad_config *cfg = NULL;
    enum aad_status st = aad_config_load(AAD_DEFAULT_CONFIG, argc, args, &cfg, err);
    if (st != AAD_OK)
        return st;
    /* Killed by its own alarm past the login's bound, whatever it does. */
    alarm((unsigned)aad_config_login_bound_s(cfg));
    struct aad_log log = relay_log(relay, cfg->debug);
    /* What only root may read is read now: then root is given up. */
    st = aad_config_read_files(cfg, err);
    struct confine_report confined;
    const char *step = "";
    if (st == AAD_OK && confine_helper(cfg, &confined, &step) != 0)
        st = aad_fail(err, AAD_UNAVAILABLE, "cannot confine the helper (%s): %m", step);
    if (st == AAD_OK && cfg->debug) {
        char landlock[512];
        landlock_describe(&confined.landlock, landlock, sizeof(landlock));
        aad_log(&log, LOG_DEBUG, "helper confinement: Landlock %s; seccomp %s; %s", landlock,
                confined.seccomp ? "allowlist loaded" : "not applied (not built, or no seccomp)",
                confined.identity);
    }
    /* A sign-in the login session keeps is asked for with offline_access. */
    if (st == AAD_OK && (session->keep || session->refresh_token != NULL))
        st = aad_config_add_scope(cfg, "offline_access", err);
    struct aad_ui ui = relay_ui(relay, (int)qr_ok);
    if (st == AAD_OK)
        st = aad_login_with_session(cfg, &account, &ui, &log, id, NULL, session, err);
    aad_config_free(cfg);
    return st;
}

int main(void)
{
    if (isatty(STDIN_FILENO)) {
        fputs("pam_aad_helper is started by pam_aad.so for each login; it is not a command.\n"
              "To try a login from a terminal, use aad-login(1).\n",
              stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (confine_memory() != 0)
        return 3;
    /* Until the configuration says how long a login may take. */
    alarm(60);

    struct relay relay = {.fd = STDIN_FILENO, .last_left = -1};
    struct aad_wire_msg req;
    enum aad_wire_result res = aad_wire_recv(relay.fd, aad_monotonic_ms() + REQUEST_WAIT_MS, &req);
    if (res != AAD_WIRE_OK || req.type != AAD_MSG_REQUEST) {
        if (res == AAD_WIRE_OK)
            aad_wire_msg_clear(&req);
        return 2;
    }
    struct aad_error err = {0};
    struct aad_identity id;
    memset(&id, 0, sizeof(id));
    struct aad_login_session session;
    memset(&session, 0, sizeof(session));
    enum aad_status st = run(&req, &relay, &id, &session, &err);
    /* The verdict is the helper's last act that counts: the module acts on
     * it without waiting for this process to be gone (pam_aad.c,
     * park_helper). A login that got as far as a decision sent it already,
     * before letting go of its connection and keys (relay_ui.c, decided);
     * what follows only releases and wipes; the libraries' exit handlers
     * (libcurl's dependencies', OpenSSL's: 0.4 ms of freeing what the
     * kernel frees anyway, all of it reachable) are skipped. */
    relay_verdict(&relay, st, &err, &id, &session);
    aad_wire_msg_clear(&req); /* it held the session's refresh token */
    aad_login_session_clear(&session);
    aad_identity_clear(&id);
    _exit(0);
}
