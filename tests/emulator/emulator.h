/*
 * aad-emulator: a local Microsoft Entra ID (Azure AD) emulator for tests.
 *
 * One struct emulator holds all state. The HTTPS (Entra) and HTTP (control)
 * daemons run thread-per-connection, so every access to the mutable parts
 * (codes, keys, faults, stats, auto-approval) happens under emu->lock.
 */
#ifndef AAD_EMULATOR_H
#define AAD_EMULATOR_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strndup, strcasecmp, sigtimedwait, usleep */
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define EMU_MAX_BODY      (64 * 1024)   /* request bodies above this get 413 */
#define EMU_MAX_CODES     1024          /* device codes kept in memory */
#define EMU_MAX_FAULTS    256           /* queued faults, all endpoints */
#define EMU_MAX_KEYS      16            /* signing keys listed in the JWKS */
#define EMU_MAX_DELAY_MS  120000        /* cap for any injected delay */
#define EMU_MAX_OVERSIZE  (256LL * 1024 * 1024)
#define EMU_MAX_TOKENS    1024          /* Graph access tokens remembered */
#define EMU_MAX_JTIS      4096          /* client-assertion jti values remembered */
#define EMU_MAX_REFRESH   1024          /* refresh tokens remembered */
#define EMU_GRAPH_MAX_TOP 999           /* largest $top / page_size */
#define EMU_DEFAULT_OID   "4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71"
/* The protected API besides Graph (emu_api.c). */
#define EMU_API_URI       "api://aad-emulator-api"
#define EMU_API_APP_ID    "6e3c9a5b-2f41-4d8e-a7b0-93c1d5e8f024"
#define EMU_API_SCOPE     "Data.Read"      /* its delegated permission */
#define EMU_API_ROLE      "Data.Read.All"  /* its application permission */

/* Endpoint classes: used for stats and for fault queues. */
enum emu_ep {
    EP_DISCOVERY = 0,
    EP_KEYS,
    EP_DEVICECODE,
    EP_TOKEN,
    EP_OTHER,
    EP_GRAPH,               /* /graph/... (Microsoft Graph) */
    EP_CLIENT_CREDENTIALS,  /* token endpoint, grant_type=client_credentials */
    EP_COUNT
};
#define EP_ANY EP_COUNT /* fault queue index that matches every endpoint */

/* Grant types of the token endpoint, counted apart (GET /control/stats). */
enum emu_grant {
    GRANT_DEVICE_CODE = 0,
    GRANT_REFRESH_TOKEN,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_COUNT
};

enum code_state {
    CODE_PENDING = 0,
    CODE_APPROVED,
    CODE_DECLINED,
    CODE_REDEEMED,
    CODE_EXPIRED
};

/* What to put in the token response once a code is approved.
 * All JSON members are owned references (or NULL). */
struct approval {
    json_t *claims;         /* merged over default claims; null deletes */
    json_t *header;         /* merged over default JOSE header */
    json_t *token_response; /* merged over the success response */
    char *raw_id_token;     /* returned verbatim instead of a signed token */
    char sign_with[16];     /* "current", "unknown-key" or "none" */
};

struct device_code {
    char user_code[16];
    char *device_code;
    char client_id[128];
    char *scope;
    enum code_state state;
    int64_t issued_ms;      /* monotonic */
    int64_t expires_ms;     /* monotonic */
    int64_t approve_at_ms;  /* monotonic, 0 = no scheduled approval */
    unsigned polls;
    struct approval appr;   /* valid once approved or scheduled */
    long refusal_aadsts;    /* declined with this AADSTS code (0: the user declined) */
    bool from_check;        /* asked for by aad-login --check (its User-Agent): shown to
                               nobody, so approved only when named by user_code */
};

/* The User-Agent aad-login --check sends (tools/aad_check.c). */
#define EMU_CHECK_USER_AGENT_MARK "aad-login --check"


struct signing_key {
    EVP_PKEY *pkey;
    X509 *cert;
    char kid[64];           /* = x5t: base64url SHA-1 of the cert DER */
};

/* An access token the emulator's Graph accepts (only its hash is kept). */
struct graph_token {
    char hash[64];          /* base64url SHA-256 of the token text */
    char oid[64];           /* signed-in user (delegated); "" for app tokens */
    bool app;               /* client-credentials (application) token */
    bool user_read;         /* delegated: may read the user's memberships */
    bool count_users;       /* delegated: may read users/$count */
    bool count_apps;        /* delegated: may read applications/$count */
    int64_t expires_ms;     /* monotonic */
};

/* A refresh token the emulator issued (emu_refresh.c). */
enum refresh_state { RT_ACTIVE = 0, RT_USED, RT_REVOKED };
struct refresh_token {
    char *token;            /* the text (a test tool may show it) */
    char client_id[128];
    char oid[64];
    json_t *claims;         /* the ID-token claims of the sign-in */
    char *scope;            /* the scope of the original grant */
    enum refresh_state state;
    long aadsts;            /* RT_REVOKED: why, as Entra says it */
    time_t issued;
};

/* A client-assertion jti already used (replay detection). */
struct seen_jti {
    char hash[64];          /* base64url SHA-256 of client_id|jti */
    time_t exp;             /* forgotten after the assertion's exp */
};

struct fault {
    int status;             /* 0 = pass through (only delay/headers) */
    char *body;
    char *content_type;
    json_t *headers;        /* object of string values */
    long delay_ms;
    long count;             /* remaining; -1 = forever */
    char *error;            /* Entra error shortcut */
    char *description;      /* overrides the error text */
    long aadsts;            /* overrides the AADSTS number */
    long long oversize;     /* serve a body of this many bytes */
    bool close;
    char *redirect;
    json_t *merge;          /* merged (null deletes) over the normal JSON answer */
};

struct emu_config {
    const char *state_dir;
    const char *tenant;
    const char *domain;
    const char *client_id;
    long lifetime;
    long interval;
    long expires_in;
    double auto_approve_after;   /* < 0: off */
    const char *approve_claims;  /* JSON text */
    int extra_keys;
    bool quiet;
    const char *tls_cert;        /* NULL/"good", "expired" or "wrong-name" */
    const char *client_cert;     /* PEM file: the app's registered certificate */
    const char *public_authority; /* what clients are told: a proxy in front */
};

struct emulator {
    struct emu_config cfg;
    pthread_mutex_t lock;
    atomic_bool stopping;

    /* TLS material for the HTTPS listener (PEM text). */
    char *ca_pem;
    char *server_cert_pem;
    char *server_key_pem;

    struct MHD_Daemon *https;
    struct MHD_Daemon *control;
    uint16_t https_port;
    uint16_t control_port;
    char authority[64];          /* https://127.0.0.1:PORT, or the public one */
    char graph_base[80];         /* https://127.0.0.1:PORT/graph */

    /* --- everything below is protected by lock --- */
    struct signing_key keys[EMU_MAX_KEYS]; /* listed in the JWKS */
    size_t nkeys;
    size_t current_key;                    /* index into keys: signs tokens */
    struct signing_key rogue;              /* not published; for forgeries */
    char *jwks_override;                   /* served verbatim when set */

    struct device_code *codes[EMU_MAX_CODES];
    size_t ncodes;

    struct fault faults[EP_COUNT + 1][EMU_MAX_FAULTS];
    size_t nfaults[EP_COUNT + 1];

    /* Armed auto-approval for codes issued later. */
    bool auto_armed;
    long auto_remaining;         /* -1 = every future code */
    long auto_delay_ms;
    struct approval auto_appr;

    unsigned long requests[EP_COUNT];
    unsigned long connections;
    unsigned long grant_requests[GRANT_COUNT]; /* token requests by grant type */
    unsigned long grant_issued[GRANT_COUNT];   /* of which answered with tokens */
    /* When the last device-code poll was answered (CLOCK_MONOTONIC, which
     * every process on the machine shares; 0: none yet). */
    struct timespec poll_answered;

    /* Refresh tokens, oldest first. */
    struct refresh_token refresh[EMU_MAX_REFRESH];
    size_t nrefresh;

    /* Client credentials: the registered certificate (NULL = none). */
    X509 *client_cert;
    unsigned char client_sha1[20];
    unsigned char client_sha256[32];
    struct seen_jti jtis[EMU_MAX_JTIS];
    size_t njtis;

    /* Graph: issued access tokens, memberships, settings. */
    struct graph_token tokens[EMU_MAX_TOKENS];
    size_t ntokens;
    json_t *graph_members;       /* {"<oid lowercase>":[{"id","displayName",...}]} */
    long graph_page_size;        /* default page of transitiveMemberOf */
    bool graph_app_access;       /* app tokens may read any user's groups */
    struct emu_directory *directory; /* users, groups, their change log */
    long graph_users_count;      /* answer of users/$count */
    long graph_apps_count;       /* answer of applications/$count */

    /* The protected API: consent to its delegated permission, and its
     * application permission granted to the client. */
    bool api_consent;
    bool api_app_role;
    long api_token_life;         /* seconds of its app tokens; 0: 3599 */

    /* The authorization code flow (emu_authcode.c); NULL until used. */
    struct emu_authcode *authcode;
};

/* One Graph request being answered (filled by emu_endpoints.c). */
struct graph_call {
    struct emulator *emu;
    struct MHD_Connection *c;
    const char *method;
    const char *path;            /* URL without the "/graph" prefix */
    const char *body;
    size_t len;
    bool too_large;
    const json_t *extra_headers; /* fault headers etc. */
    const json_t *merge;         /* fault: merged over the JSON answer */
    char request_id[37];
    char client_request_id[64];
    unsigned status;
    char note[64];
};

/* Outcome of a failed client-credentials request, in Entra's terms. */
struct cc_error {
    unsigned status;
    const char *error;
    long code;
    char text[1024];
    const char *suberror;        /* Entra's "suberror" member, or NULL */
};

/* Per-request context, allocated on the first access-handler call. */
struct request {
    char *body;
    size_t len;
    bool too_large;
    bool shutdown_after;         /* /control/shutdown: stop when sent */
    enum emu_ep ep;
};

/* ---- emulator.c ---- */
int64_t emu_now_ms(void);
void emu_log(struct emulator *emu, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void emu_request_shutdown(struct emulator *emu);

/* ---- emu_crypto.c ---- */
int crypto_make_tls(struct emulator *emu);
int crypto_make_signing_key(struct signing_key *k);
void crypto_free_key(struct signing_key *k);
json_t *crypto_jwk(const struct signing_key *k, const char *issuer);
/* Signs header.payload per alg (RS*, PS*, HS256 with the public key PEM as
 * the HMAC secret, "none" = empty). Returns malloc'd compact JWS or NULL. */
char *crypto_sign_jws(const struct signing_key *k, const char *alg,
                      const char *header_json, const char *payload_json,
                      bool empty_signature);
char *b64url_encode(const unsigned char *data, size_t len);
char *b64_encode(const unsigned char *data, size_t len);
void random_bytes(unsigned char *buf, size_t len);
void random_guid(char out[37]);
char *random_b64url(size_t nbytes);
void sha256_b64url(const char *text, char out[64]);

/* ---- emu_http.c: shared HTTP helpers ---- */
enum MHD_Result http_send(struct MHD_Connection *c, unsigned status,
                          const char *content_type, const char *body,
                          size_t len, const json_t *extra_headers);
enum MHD_Result http_send_json(struct MHD_Connection *c, unsigned status,
                               json_t *obj /* stolen */, const char *cache,
                               const json_t *extra_headers);
enum MHD_Result http_send_oversize(struct MHD_Connection *c, unsigned status,
                                   const char *content_type, long long size,
                                   const json_t *extra_headers);
char *form_get(const char *body, const char *name); /* malloc'd or NULL */
void approval_free(struct approval *a);
int approval_from_json(struct approval *a, const json_t *obj, char *err,
                       size_t errlen);
int approval_copy(struct approval *dst, const struct approval *src);
void json_merge_nulldel(json_t *dst, const json_t *src);

/* ---- emu_endpoints.c ---- */
enum MHD_Result endpoints_handle(struct emulator *emu,
                                 struct MHD_Connection *c,
                                 struct request *rq, const char *method,
                                 const char *url);
enum emu_ep endpoints_classify(const char *url);
void code_refresh(struct emulator *emu, struct device_code *dc, int64_t now);
void code_free(struct device_code *dc);
const char *code_state_name(enum code_state s);

/* ---- emu_assert.c: client assertions, registered certificate, tokens ---- */
int client_cert_set_pem(struct emulator *emu, const char *pem, char *err,
                        size_t errlen);  /* NULL pem clears; takes the lock */
int client_cert_load_file(struct emulator *emu, const char *path, char *err,
                          size_t errlen);
void client_cert_info(struct emulator *emu, json_t *into); /* lock held */
/* Verifies a client assertion like Entra (protocol.md §8); records its jti.
 * Returns 0 if accepted, else fills *e. Takes the lock. */
int assertion_verify(struct emulator *emu, const char *jwt,
                     const char *client_id, struct cc_error *e);
/* What a Graph token may do (tokens_add's rights). */
#define GRAPH_READ_MEMBERS 1u
#define GRAPH_COUNT_USERS  2u
#define GRAPH_COUNT_APPS   4u
#define GRAPH_ALL_RIGHTS   7u
/* Caller holds the lock. */
void tokens_add(struct emulator *emu, const char *token, const char *oid,
                bool app, unsigned rights, long life_s);
int tokens_find(struct emulator *emu, const char *token,
                struct graph_token *out);
/* Fills *e (text from fmt) and returns -1. */
int cc_error_set(struct cc_error *e, unsigned status, const char *error,
                 long code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* JWS helpers shared with the protected API. */
unsigned char *b64_decode_any(const char *s, size_t len, bool url_only,
                              size_t *outlen);
json_t *segment_json(const char *s, size_t len);
bool verify_sig(EVP_PKEY *pub, bool pss, const char *input, size_t inlen,
                const unsigned char *sig, size_t siglen);
bool scope_grants_graph_read(const struct emulator *emu, const char *scope);
unsigned scope_graph_rights(const struct emulator *emu, const char *scope);
bool graph_scope_ok(const struct emulator *emu, const char *scope);

/* ---- emu_graph.c: Microsoft Graph under /graph ---- */
enum MHD_Result graph_handle(struct graph_call *g);
/* Graph's JSON answer (obj is consumed), and its error shape. */
enum MHD_Result graph_send(struct graph_call *g, unsigned status, json_t *obj,
                           bool auth_challenge);
enum MHD_Result graph_error(struct graph_call *g, unsigned status,
                            const char *code, const char *message);
/* The request's bearer token: 0, or -1 with the 401 answer in *refused. */
int graph_bearer(struct graph_call *g, struct graph_token *t, enum MHD_Result *refused);
enum MHD_Result graph_fault_error(struct graph_call *g, const struct fault *f);
/* Control: members (oid + groups, or clear). Takes the lock. */
int graph_set_members(struct emulator *emu, const json_t *body, char *err,
                      size_t errlen, json_t **answer);
bool is_guid_text(const char *s);

/* ---- emu_directory.c: Graph's users and groups, for aad-login sync ---- */
struct emu_directory;
struct emu_directory *directory_new(void);
void directory_free(struct emu_directory *d);
bool directory_serves(const char *path); /* /v1.0/groups/..., /v1.0/users/{id} */
enum MHD_Result directory_handle(struct graph_call *g);
/* Control: POST /control/graph/directory, /control/graph/user; GET
 * /control/graph/directory. Take the lock. */
int directory_control(struct emulator *emu, const char *url, const json_t *body,
                      char *err, size_t errlen, json_t **answer);

/* ---- emu_api.c: the protected API (EMU_API_URI) and GET /api/whoami ---- */
bool api_scope_names(const char *scope);      /* a word is EMU_API_URI/... */
bool api_scope_is_default(const char *scope); /* exactly EMU_API_URI/.default */
/* Device-code request: a resource that is neither Graph nor the API. */
int api_check_resource(struct emulator *emu, const char *scope, struct cc_error *e);
/* Lock held: the API is asked for but not consented to (AADSTS65001). */
int api_consent_refused(struct emulator *emu, const char *scope,
                        const char *client_id, struct cc_error *e);
char *api_granted_scope(const char *scope);
/* Signed access tokens for the API (lock held). */
char *api_user_token(struct emulator *emu, const json_t *id_claims,
                     const char *client_id, time_t now, long life);
char *api_app_token(struct emulator *emu, const char *client_id, time_t now,
                    long life);
/* Control: {"consent":bool,"app_role":bool,"app_token_lifetime":s}. Takes
 * the lock. */
int api_settings(struct emulator *emu, const json_t *body, char *err,
                 size_t errlen, json_t **answer);
bool api_is_path(const char *url);
enum MHD_Result api_handle(struct emulator *emu, struct MHD_Connection *c,
                           const char *method, json_t *headers,
                           unsigned *status_out, char *note, size_t notelen);

/* ---- emu_refresh.c: refresh tokens (rotation, revocation) ---- */
/* Lock held: a new refresh token for a sign-in (claims are copied);
 * malloc'd text or NULL. */
char *refresh_issue(struct emulator *emu, const char *client_id,
                    const char *scope, const json_t *claims);
/* Lock held: redeems a refresh token for client_id. On success 0, with the
 * sign-in's claims (*claims, a new reference) and original scope (*scope,
 * malloc'd); the token is used up (rotation). Else -1 with Entra's error. */
int refresh_redeem(struct emulator *emu, const char *token,
                   const char *client_id, json_t **claims, char **scope,
                   struct cc_error *e);
/* The error Entra gives a refresh of a token revoked for code (lock not
 * needed). */
int refresh_refusal(long code, const char *oid, struct cc_error *e);
/* Control: POST /control/refresh {"oid","aadsts"}; takes the lock. */
int refresh_control(struct emulator *emu, const json_t *body, char *err,
                    size_t errlen, json_t **answer);
/* Control: GET /control/refresh; takes the lock. */
json_t *refresh_list(struct emulator *emu);
void refresh_free_all(struct emulator *emu);
/* ---- emu_authcode.c: authorization code + PKCE, a browser sign-in ---- */
struct emu_authcode;
bool authcode_is_path(const char *url); /* /{t}/oauth2/v2.0/authorize */
/* GET .../authorize: the sign-in page, or Entra's 302 back to the loopback
 * redirect URI (as /control/browser says). Takes the lock. */
enum MHD_Result authcode_authorize(struct emulator *emu, struct MHD_Connection *c,
                                   const json_t *headers, unsigned *status,
                                   char *note, size_t notelen);
/* Token endpoint, grant_type=authorization_code (lock held): checks and
 * uses up the code; on success fills *dc (client_id, scope, approval with
 * the request's nonce) for the token answer, else *e. */
int authcode_redeem(struct emulator *emu, const char *body,
                    struct device_code *dc, struct cc_error *e);
/* POST /control/browser and /control/browser/sign-in: returns the HTTP
 * status, *answer or err. Takes the lock. */
int authcode_control(struct emulator *emu, const char *url, const json_t *body,
                     json_t **answer, char *err, size_t errlen);
void authcode_free(struct emulator *emu); /* at exit */
/* Entra's error value, status and text for an AADSTS code it knows
 * (emu_endpoints.c); 0 if unknown. */
int entra_code_info(long code, const char **error, unsigned *status,
                    const char **text);

/* ---- emu_control.c ---- */
enum MHD_Result control_handle(struct emulator *emu, struct MHD_Connection *c,
                               struct request *rq, const char *method,
                               const char *url);
void fault_free(struct fault *f);
/* Takes one matching fault off the queues (endpoint first, then "any") into
 * *out (a deep copy the caller frees). Returns 0 if one applied. */
int fault_take(struct emulator *emu, enum emu_ep ep, struct fault *out);
void faults_clear(struct emulator *emu);

#endif
