/* aad_devflow.h - the OAuth 2.0 device authorization grant (RFC 8628)
 * against Entra ID: the code request, then polling the token endpoint.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_DEVFLOW_H
#define AAD_DEVFLOW_H

#include <stdint.h>
#include <jansson.h>
#include "aad_base.h"
#include "aad_config.h"
#include "aad_http.h"

struct aad_device_code {
    char *device_code; /* secret: wiped on clear */
    char *user_code;
    char *verification_uri;
    long expires_in;
    long interval;
};

/* POST {authority}/{tenant}/oauth2/v2.0/devicecode. Every field of the
 * answer is checked before it may reach a terminal: the user code must be
 * letters, digits and hyphens, the URI https:// and printable. */
enum aad_status aad_devflow_start(const struct aad_config *cfg, struct aad_http *http,
                                  struct aad_device_code *out, struct aad_error *err);
void aad_device_code_clear(struct aad_device_code *dc);

/* The checks of aad_devflow_start on an answer already received (status,
 * whether Content-Type was JSON, the body): exported for fuzzing. */
enum aad_status aad_devflow_parse_code(long status, int is_json, const char *body, size_t len,
                                       struct aad_device_code *out, struct aad_error *err);

struct aad_tokens {
    char *id_token;      /* secret */
    char *access_token;  /* secret, may be NULL */
    char *refresh_token; /* secret, NULL unless the scope held offline_access */
    long expires_in;    /* of the access token, seconds; 0 when not stated */
    char *scope;        /* the scopes granted to the access token, may be NULL */
};
void aad_tokens_clear(struct aad_tokens *t);

/* The tokens of a 200 answer of the token endpoint (any grant), copied out;
 * the token strings in body are wiped. */
enum aad_status aad_tokens_take(json_t *body, struct aad_tokens *out, struct aad_error *err);

/* The polling state machine. */
struct aad_poller {
    const struct aad_config *cfg;
    struct aad_http *http;
    const struct aad_device_code *dc;
    const struct aad_log *log;
    int64_t deadline_ms;  /* monotonic: min(timeout, expires_in) after the code */
    int64_t code_expires_ms; /* monotonic: when the code expires */
    /* When the last poll's answer came (CLOCK_MONOTONIC us; 0: never
     * polled, or the time the code came, as if a poll): the interval is
     * counted from it to the microsecond, so that no poll leaves early and
     * none waits longer than it must. */
    int64_t last_poll_us;
    long polls;           /* polls actually made */
    long interval_s;
    int transient_failures; /* consecutive 5xx, 429 or transport failures */
    /* Polls only when the user says they signed in (Enter), never on a
     * schedule of its own: a poll made while the user is still at their
     * phone would hold the next one back for a whole interval, which the
     * user who presses Enter right after approving would wait out. Only
     * for a front end that passes Enter on while the poller pauses. */
    int poll_on_enter;
    /* Called when a poll the user asked for (Enter) finds the sign-in still
     * pending, so that the user is told and asked again; may be NULL.
     * Returns 0, or -1 when the user can no longer be reached. */
    int (*still_pending)(void *ctx);
    void *still_pending_ctx;
};

void aad_poller_init(struct aad_poller *p, const struct aad_config *cfg, struct aad_http *http,
                     const struct aad_device_code *dc, const struct aad_log *log,
                     int64_t code_received_ms);

/* Waits until until_us (CLOCK_MONOTONIC us, as aad_monotonic_us) with
 * seconds_left until the flow's deadline, for a waiting indicator. Returns
 * 0; 1 when the user said they have signed in (pressed Enter: the poller
 * then polls at once, at most once a second); -1 when the user can no
 * longer be reached (the login then ends). */
typedef int (*aad_pause_fn)(void *ctx, int64_t until_us, long seconds_left);

/* Polls until the user has signed in (AAD_OK, tokens filled), the sign-in
 * was declined or expired or timed out (AAD_DENIED), or the service fails
 * (AAD_UNAVAILABLE). Polls at once when the last poll is older than the
 * interval (with poll_on_enter: once the user pressed Enter, too; a poll
 * that got no answer is retried without another Enter). Between polls it
 * calls pause (NULL: sleep) in steps of at most a second. */
enum aad_status aad_poller_run(struct aad_poller *p, aad_pause_fn pause, void *ctx,
                               struct aad_tokens *out, struct aad_error *err);

/* One poll, for callers that drive the timing themselves. *wait_s is set to
 * the pause before the next poll when the result is "not yet" (returns
 * AAD_OK with out->id_token NULL). */
enum aad_status aad_poller_poll_once(struct aad_poller *p, struct aad_tokens *out, long *wait_s,
                                     struct aad_error *err);

/* The second half of aad_poller_poll_once: judges one answer of the token
 * endpoint (after a successful exchange) and updates the poller. *wait_s
 * must hold the pause to use when the answer does not say otherwise.
 * Exported for fuzzing. */
enum aad_status aad_poller_take_answer(struct aad_poller *p, long status, int is_json,
                                       const char *body, size_t len, long retry_after,
                                       struct aad_tokens *out, long *wait_s, struct aad_error *err);

#endif
