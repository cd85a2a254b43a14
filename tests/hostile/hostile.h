/* hostile.h - shared machinery of the hostile-IdP and fault tests: the real
 * pam_aad.so under the real libpam (pam_start_confdir), private users
 * (nss_wrapper) and a syslog capture, each login in a forked child so that a
 * crash or a hang of the module is a test failure, not the end of the run. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stddef.h>
#include <openssl/evp.h>

#include "emu_client.h"

#define ALICE_UPN "alice@contoso.example"

struct hostile {
    struct emu *emu;    /* the shared emulator (--interval 1) */
    char root[256];     /* private dir: services, syslog, caches */
    char services[300];
    char syslog_file[300];
    int seq;            /* per-login counter: fresh cache dir, config */
    long http_timeout;  /* seconds, config value (HOSTILE_HTTP_TIMEOUT, default 2) */
    long time_factor;   /* bounds multiplier (HOSTILE_TIME_FACTOR, default 1; valgrind) */
};
extern struct hostile H;

/* Before anything else in main(): re-executes the program under
 * nss_wrapper + syslog capture with private PAM service files. */
void hostile_enter_wrappers(char **argv);
/* Starts the shared emulator; returns 0 or -1. */
int hostile_global_setup(void);
void hostile_global_teardown(void);
/* Per test: clears faults and the JWKS override of H.emu, empties the log. */
void hostile_reset(void);

enum conv_action {
    ACT_NONE = 0,
    ACT_KILL_EMULATOR,
    ACT_STOP_EMULATOR,
    ACT_SHUTDOWN_EMULATOR,
    ACT_KILL_HELPER,    /* SIGKILL to the login child's children: the helper */
    ACT_HANG_AT_PROMPT, /* create login_opts.marker, then never answer */
};

struct login_opts {
    struct emu *emu;          /* NULL: H.emu */
    const char *user;         /* NULL: "alice" */
    const char *approve;      /* JSON object text for /control/approve (user_code added); NULL: never approve */
    const char *config_extra; /* more pam_aad.conf lines */
    const char *helper;       /* the helper= module argument; NULL: PAM_AAD_HELPER */
    const char *marker;       /* ACT_HANG_AT_PROMPT: file created when the code is shown */
    const char *cache_dir;    /* NULL: a fresh one */
    const char *ca_file;      /* NULL: the emulator's CA */
    enum conv_action action;  /* done by the "user" when the code is shown */
    long hard_limit_ms;       /* child is killed after this (default 60 s) */
    /* Runs in the child before pam_start; non-zero: the child exits 201. */
    int (*child_setup)(const char *cache_dir);
};

struct login_result {
    int rc;          /* PAM return code, -1 when the child did not exit normally */
    long ms;         /* wall time of the whole pam_authenticate */
    int exited;      /* child exited normally */
    int sig;         /* signal that killed it, 0 if none */
    int child_left;  /* pam_authenticate returned while a child of the caller (a helper) was
                        still there, running or unreaped */
    char cache_dir[300];
};

struct login_result hostile_login(const struct login_opts *o);
/* Starts the child only (for parallel runs); hostile_wait collects it. */
int hostile_spawn(const struct login_opts *o, struct login_result *r);
void hostile_wait(int pid, long hard_limit_ms, long long start_ms, struct login_result *r);

/* State letter and parent pid of pid from /proc/PID/stat; -1 if it is gone. */
int hostile_proc_stat(int pid, char *state, long *ppid);

/* The captured syslog (static buffer). */
const char *hostile_syslog(void);

/* Asserts: the child exited normally with rc == want, within bound_ms
 * (scaled by time_factor), pam_authenticate left no child process (its
 * helper ended and reaped), and the syslog holds neither a JWT ("eyJ") nor
 * any device code the emulator ever issued. */
void hostile_expect(const struct login_result *r, int want, long bound_ms);
void hostile_assert_log_clean(struct emu *e);

/* POST to the emulator's control API; fails the test unless 2xx. */
void hostile_control(struct emu *e, const char *path, const char *json);
void hostile_fault(const char *json); /* on H.emu */

/* --- test-side crypto for hand-made tokens and key sets --- */
EVP_PKEY *hk_rsa(int bits);
EVP_PKEY *hk_ec(void);
char *hk_b64url(const void *data, size_t len);
/* JWK text of pkey (RSA or EC) with kid and extra members (",..." or ""). */
char *hk_jwk(EVP_PKEY *pkey, const char *kid, const char *extra);
/* Compact JWS over the exact header and payload texts; alg "RS256" (PKCS#1
 * v1.5 SHA-256) or "ES256" (DER ECDSA, only to be refused). */
char *hk_sign(EVP_PKEY *pkey, const char *alg, const char *header, const char *payload);
/* The text of a valid claim set on e for upn (NULL: no preferred_username),
 * with extra members (",\"k\":v..." or "") appended verbatim. */
char *hk_payload(struct emu *e, const char *extra, const char *upn);
/* Publishes exactly these keys ("[...]" JSON array text) on e. */
void hk_publish(struct emu *e, const char *keys_array);
/* The approve body for a raw id token. */
char *hk_approve_raw(const char *token);

/* The cache file name pam_aad uses for e's authority and tenant. */
void hostile_cache_name(struct emu *e, char *name, size_t size);

#endif
