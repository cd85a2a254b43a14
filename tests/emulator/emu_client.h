/*
 * emu_client: start, drive and stop an aad-emulator from C tests.
 *
 *   struct emu *e = emu_start("tests/emulator/aad-emulator", NULL);
 *   ... point the code under test at emu_authority(e), emu_ca_file(e) ...
 *   emu_control(e, "POST", "/control/approve", "{}", NULL);
 *   emu_stop(e);
 *
 * The emulator's log goes to emu_state_dir(e)/emulator.log (printed to stderr
 * by emu_start when the emulator fails to come up).
 */
#ifndef EMU_CLIENT_H
#define EMU_CLIENT_H

struct emu; /* a running emulator */

/* mkdtemp a state dir, fork/exec emulator_path --state-dir DIR extra_args...
 * (extra_args: NULL-terminated, may be NULL), wait at most 10 s for
 * DIR/emulator.env. NULL on failure (the child is reaped, the dir removed). */
struct emu *emu_start(const char *emulator_path, const char *const extra_args[]);

const char *emu_authority(const struct emu *e); /* "https://127.0.0.1:PORT" */
const char *emu_ca_file(const struct emu *e);
const char *emu_state_dir(const struct emu *e);
/* Any value from emulator.env: "TENANT_ID", "CLIENT_ID", "DOMAIN",
 * "CONTROL_URL", "HTTPS_PORT", ...; NULL if absent. */
const char *emu_env(const struct emu *e, const char *key);

/* One request to the control interface. json_body may be NULL. On success
 * *response_out (if given) receives a malloc'd NUL-terminated body. Returns
 * the HTTP status, or -1 on a transport error. */
int emu_control(struct emu *e, const char *method, const char *path,
                const char *json_body, char **response_out);

/* A counter from GET /control/stats: "discovery", "keys", "devicecode",
 * "token", "other", "graph", "client_credentials" (request counts),
 * "connections", or a dotted path such as "grants.device_code.issued" or
 * "grants.refresh_token.requests" (token requests by grant type). -1 on
 * error. */
int emu_stat(struct emu *e, const char *name);

/* A sign-in of its own for the user oid (device code with offline_access,
 * approved, redeemed over HTTPS) and its refresh token, malloc'd; NULL on
 * failure. For baselines that redeem a refresh token of their own. */
char *emu_sign_in_refresh_token(struct emu *e, const char *oid);

/* The user oid's live refresh token now (each redemption rotates it), from
 * GET /control/refresh, malloc'd; NULL when none is active. */
char *emu_live_refresh_token(struct emu *e, const char *oid);

/* SIGTERM, wait (at most 5 s, then SIGKILL), remove the state dir, free.
 * NULL is accepted. */
void emu_stop(struct emu *e);

#endif
