/* aad_base.h - status codes, error messages, secret wiping, base64url.
 *
 * Every library function returns an enum aad_status and, on failure, fills a
 * struct aad_error with one human sentence that may reach syslog and (where
 * safe) the user. Nothing in the library prints or exits. */
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

struct aad_error {
    enum aad_status status;
    char message[320];
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

/* Sleeps until the CLOCK_MONOTONIC time until_ms (as aad_monotonic_ms). */
void aad_sleep_until_ms(int64_t until_ms);

/* True when s is a canonical GUID (8-4-4-4-12 hex digits). */
int aad_is_guid(const char *s);

/* True when s (of at most max_len bytes) consists only of printable ASCII
 * without spaces: safe to show on a terminal and to put in a log line. */
int aad_is_printable_token(const char *s, size_t max_len);

#endif
