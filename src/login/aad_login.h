/* aad_login.h - one whole login, top to bottom:
 *   local account -> device code -> show it -> keys -> poll -> verify the
 *   ID token -> map the identity -> authorize.
 * The PAM module and aad-login both call aad_login(); what the user must
 * see reaches them through struct aad_ui, so the core knows neither PAM nor
 * the terminal.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_LOGIN_H
#define AAD_LOGIN_H

#include "aad_account.h"
#include "aad_base.h"
#include "aad_config.h"
#include "aad_devflow.h"
#include "aad_groupplan.h"

struct aad_identity;
struct aad_login_session;

struct aad_ui {
    /* Shows message (URL and code, then the QR code when qr is set) with
     * prompt in one exchange. When wait is set it returns once the user has
     * pressed Enter. Returns 0, or -1 when the user cannot be reached. */
    int (*show_code)(void *ctx, const char *message, const char *qr, const char *prompt, int wait);
    /* The sign-in is still pending (may be NULL). */
    void (*waiting)(void *ctx, long seconds_left);
    void *ctx;
    int qr_ok; /* the caller can show a QR code (used when qr = auto) */
    /* Set by a front end that relays to another process (the helper): then
     * show_code returns at once and the login works on while the user signs
     * in (keys are fetched, the token endpoint is polled at its interval);
     * pause replaces the sleep between polls (and hears the user's Enter),
     * alive is called before each network exchange (may be NULL). NULL for
     * a front end whose show_code waits for Enter itself. */
    aad_pause_fn pause;
    void (*alive)(void *ctx);
    /* Relayed front ends: the user pressed Enter before finishing the
     * sign-in; show prompt and wait for Enter again (sshd shows text only
     * with a prompt). Returns 0, or -1 when the user cannot be reached. May
     * be NULL. */
    int (*not_yet)(void *ctx, const char *prompt);
    /* Called once, when the login is decided and before it lets go of what
     * it used (its HTTPS connection, the keys): a relayed front end hands
     * the verdict on at once (session may be NULL). May be NULL. */
    void (*decided)(void *ctx, enum aad_status st, const struct aad_identity *id,
                    const struct aad_login_session *session, const struct aad_error *err);
};

struct aad_identity {
    char *upn;        /* the user_claim value, may be NULL */
    char *oid;
    char *tid;
    char *name;       /* display name, may be NULL */
    char *local_user; /* the account it maps to */
    struct aad_group_plan groups; /* group_map's local groups for it (empty without group_map) */
};
void aad_identity_clear(struct aad_identity *id);

/* What the login cost on the wire, for tests and benchmarks. */
struct aad_login_report {
    long requests_before_code;
    long requests;
    long connections; /* TLS handshakes */
    int keys_from_cache;
};

/* A login session's sign-in (issue 23, aad_session_store.h), carried through
 * a login. */
struct aad_login_session {
    /* in */
    int keep;                  /* keep a refresh token (the scope holds offline_access) */
    const char *refresh_token; /* the session's, to redeem instead of a device code; or NULL */
    const char *expect_oid, *expect_tid; /* the session's sign-in: the refresh must match */
    /* out */
    char *new_refresh_token; /* secret; NULL when none was obtained */
    int refreshed;           /* verified through the refresh, no device code shown */
};
void aad_login_session_clear(struct aad_login_session *s);

/* Logs account in (its facts were looked up by the caller: the core makes
 * no account lookups). AAD_OK only when a verified token maps to exactly it and
 * passes allowed_groups / allowed_roles; id is then filled (and partly
 * filled on refusals after verification, for the log line). report may be
 * NULL. */
enum aad_status aad_login(const struct aad_config *cfg, const struct aad_account *account,
                          const struct aad_ui *ui,
                          const struct aad_log *log, struct aad_identity *id,
                          struct aad_login_report *report, struct aad_error *err);

/* The same, with a session's sign-in (session may be NULL): its refresh
 * token is redeemed first, in one exchange, and the new ID token passes
 * every check of a login and must carry the session's oid and tid; when
 * Entra refuses it for good (disabled, deleted, revoked) the result is
 * AAD_DENIED of kind AAD_FAILURE_SESSION_ENDED; when a policy asks for a new
 * sign-in (sign-in frequency, MFA, Conditional Access) the device flow runs,
 * with one sentence saying why; an unreachable authority is unavailable.
 * With session->keep, the refresh token of the sign-in is handed back. */
enum aad_status aad_login_with_session(const struct aad_config *cfg,
                                       const struct aad_account *account, const struct aad_ui *ui,
                                       const struct aad_log *log, struct aad_identity *id,
                                       struct aad_login_report *report,
                                       struct aad_login_session *session, struct aad_error *err);

#endif
