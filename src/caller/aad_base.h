/* aad_base.h - status codes, failure kinds, error messages, secret wiping,
 * base64url.
 *
 * Every library function returns an enum aad_status and, on failure, fills a
 * struct aad_error: the status (what PAM returns), the kind (what the user
 * is told, see aad_refusal.h), Entra's AADSTS code when it gave one, and one
 * line for syslog. Callers branch on status and kind, never on the words.
 * Nothing in the library prints or exits.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_BASE_H
#define AAD_BASE_H

#include <stddef.h>
#include <stdint.h>

enum aad_status {
    AAD_OK = 0,
    AAD_USER_UNKNOWN, /* no such local account */
    AAD_DENIED,       /* bad token, wrong user, not authorized, declined, expired, timed out */
    AAD_UNAVAILABLE,  /* authority unreachable, TLS failure, 5xx, unusable response, no conversation */
    AAD_CONFIG_ERROR, /* unreadable or invalid configuration */
    AAD_IGNORE,       /* an account pam_aad may never map: the stack's next method decides */
};

/* Why a login did not succeed, finer than the status: each kind has its own
 * sentence for the user. The status follows from the kind
 * (aad_failure_status). */
enum aad_failure {
    AAD_FAILURE_NONE = 0,          /* success */
    AAD_FAILURE_NO_ACCOUNT,        /* no such local account */
    AAD_FAILURE_IGNORED,           /* an account pam_aad never maps */
    AAD_FAILURE_WRONG_ACCOUNT,     /* signed in as an identity of another account */
    AAD_FAILURE_DECLINED,          /* the user declined on the other device */
    AAD_FAILURE_EXPIRED,           /* the code expired (after its one renewal) */
    AAD_FAILURE_TIMED_OUT,         /* the flow's timeout passed */
    AAD_FAILURE_NOT_AUTHORIZED,    /* the identity may not log in to this host */
    AAD_FAILURE_GUEST,             /* a guest account, allow_guests off */
    AAD_FAILURE_BLOCKED_BY_POLICY, /* Conditional Access, security defaults, MFA */
    AAD_FAILURE_REFUSED,           /* Entra refused the sign-in for another reason */
    AAD_FAILURE_BAD_TOKEN,         /* the token failed verification */
    AAD_FAILURE_HOST_MISCONFIGURED,/* Entra says this host's registration is wrong */
    AAD_FAILURE_BAD_CONFIG,        /* this host's configuration file is wrong */
    AAD_FAILURE_UNAVAILABLE,       /* Entra cannot be reached or gave no usable answer */
    AAD_FAILURE_NO_CONVERSATION,   /* the user cannot be reached */
    AAD_FAILURE_ACCESS_CHANGED,    /* group_map took a group away from a process that holds it */
    AAD_FAILURE_BUSY,              /* too many logins at once (max_logins, max_logins_per_user) */
    AAD_FAILURE_SESSION_ENDED,     /* Entra refused the session's sign-in (disabled, revoked) */
    AAD_FAILURE_CA_FILE,           /* the authority's certificate does not chain to ca_file */
    AAD_FAILURE_CLOCK,             /* this host's clock is too far from the authority's */
    AAD_FAILURE_SYSTEM_TRUST,      /* no CA of the system trust store vouches for the authority
                                      (a TLS-inspecting proxy): unavailable, the stack falls back */
};
#define AAD_FAILURE_LAST AAD_FAILURE_SYSTEM_TRUST

struct aad_error {
    enum aad_status status;
    enum aad_failure kind;
    long aadsts; /* Entra's first error_codes entry; 0 when it gave none */
    char message[1024];
    char correlation_id[40]; /* Entra's correlation ID of a refusal, for the helpdesk; "" if none */
    long clock_offset_s;     /* AAD_FAILURE_CLOCK: this host's clock minus the authority's */
};

#if defined(__GNUC__)
#define AAD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AAD_PRINTF(f, a)
#endif

/* Records a failure in err (may be NULL) and returns status, so callers can
 * write `return aad_fail(err, AAD_DENIED, "...")`. */
enum aad_status aad_fail(struct aad_error *err, enum aad_status status, const char *fmt, ...)
    AAD_PRINTF(3, 4);

/* The same, with the kind: the status is the kind's. */
enum aad_status aad_fail_as(struct aad_error *err, enum aad_failure kind, const char *fmt, ...)
    AAD_PRINTF(3, 4);

/* Re-classifies a failure already recorded (status follows the kind). */
enum aad_status aad_reclassify(struct aad_error *err, enum aad_failure kind);

/* The status a kind of failure returns; the kind a bare status implies. */
enum aad_status aad_failure_status(enum aad_failure kind);
enum aad_failure aad_failure_of_status(enum aad_status status);

/* A short name for a kind, for log lines and --json ("wrong-account", ...). */
const char *aad_failure_name(enum aad_failure kind);

/* Where the library's warnings and debug lines go (syslog for the module,
 * stderr for aad-login); priority is a syslog LOG_* level. fn may be NULL. */
struct aad_log {
    void (*fn)(void *ctx, int priority, const char *message);
    void *ctx;
    int debug; /* pass LOG_DEBUG lines on */
};

void aad_log(const struct aad_log *log, int priority, const char *fmt, ...) AAD_PRINTF(3, 4);

/* A short name for a status ("denied", "unavailable", ...). */
const char *aad_status_name(enum aad_status status);

/* Overwrites len bytes in a way the compiler may not optimise away. */
void aad_wipe(void *p, size_t len);

/* Wipes a NUL-terminated secret and frees it; NULL is fine. */
void aad_free_secret(char *secret);

/* Strict base64url decoding (RFC 4648 §5, no padding, no white space, unused
 * trailing bits must be zero). Returns a malloc'd buffer with a NUL added after
 * the out_len bytes, or NULL for bad input or when the decoded size would
 * exceed max_out. */
unsigned char *aad_base64url_decode(const char *in, size_t in_len, size_t max_out, size_t *out_len);

/* base64url without padding; malloc'd, NUL-terminated; NULL on allocation failure. */
char *aad_base64url_encode(const unsigned char *in, size_t len);

/* Milliseconds of CLOCK_MONOTONIC: for deadlines that must not move with the wall clock. */
int64_t aad_monotonic_ms(void);
/* The same in microseconds (for measurements). */
int64_t aad_monotonic_us(void);

/* Sleeps until the CLOCK_MONOTONIC time until_ms (as aad_monotonic_ms). */
void aad_sleep_until_ms(int64_t until_ms);
/* The same to the microsecond (as aad_monotonic_us). */
void aad_sleep_until_us(int64_t until_us);

/* True when s is a canonical GUID (8-4-4-4-12 hex digits). */
int aad_is_guid(const char *s);

/* True when s (of at most max_len bytes) consists only of printable ASCII
 * without spaces: safe to show on a terminal and to put in a log line. */
int aad_is_printable_token(const char *s, size_t max_len);

/* value made safe for one field of a log line: a client or a token chose
 * it, so control characters, spaces, non-ASCII and '=' (a "key=" look-alike)
 * become '?', and it is cut to size - 1 bytes. NULL gives "-". Returns buf
 * (or "-"). */
const char *aad_loggable(const char *value, char *buf, size_t size);

/* Writes all len bytes (short writes and EINTR retried); 0, or -1 with errno. */
int aad_write_all(int fd, const void *buf, size_t len);

#endif
