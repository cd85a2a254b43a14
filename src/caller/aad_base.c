/* aad_base.c - status codes, error messages, secret wiping, base64url.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_base.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>


static void record(struct aad_error *err, enum aad_status status, enum aad_failure kind,
                   const char *fmt, va_list ap)
{
    if (err == NULL)
        return;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    err->status = status;
    err->kind = kind;
    err->aadsts = 0;
    err->correlation_id[0] = '\0';
    err->clock_offset_s = 0;
}

enum aad_status aad_fail(struct aad_error *err, enum aad_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(err, status, aad_failure_of_status(status), fmt, ap);
    va_end(ap);
    return status;
}

enum aad_status aad_fail_as(struct aad_error *err, enum aad_failure kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(err, aad_failure_status(kind), kind, fmt, ap);
    va_end(ap);
    return aad_failure_status(kind);
}

enum aad_status aad_reclassify(struct aad_error *err, enum aad_failure kind)
{
    err->kind = kind;
    err->status = aad_failure_status(kind);
    return err->status;
}

enum aad_status aad_failure_status(enum aad_failure kind)
{
    switch (kind) {
    case AAD_FAILURE_NONE: return AAD_OK;
    case AAD_FAILURE_NO_ACCOUNT: return AAD_USER_UNKNOWN;
    case AAD_FAILURE_IGNORED: return AAD_IGNORE;
    case AAD_FAILURE_HOST_MISCONFIGURED:
    case AAD_FAILURE_CA_FILE:
    case AAD_FAILURE_CLOCK:
    case AAD_FAILURE_BAD_CONFIG: return AAD_CONFIG_ERROR;
    case AAD_FAILURE_UNAVAILABLE:
    case AAD_FAILURE_SYSTEM_TRUST:
    case AAD_FAILURE_BUSY:
    case AAD_FAILURE_NO_CONVERSATION: return AAD_UNAVAILABLE;
    case AAD_FAILURE_WRONG_ACCOUNT:
    case AAD_FAILURE_DECLINED:
    case AAD_FAILURE_EXPIRED:
    case AAD_FAILURE_TIMED_OUT:
    case AAD_FAILURE_NOT_AUTHORIZED:
    case AAD_FAILURE_ACCESS_CHANGED:
    case AAD_FAILURE_SESSION_ENDED:
    case AAD_FAILURE_GUEST:
    case AAD_FAILURE_BLOCKED_BY_POLICY:
    case AAD_FAILURE_REFUSED:
    case AAD_FAILURE_BAD_TOKEN: return AAD_DENIED;
    }
    return AAD_DENIED; /* fail closed */
}

enum aad_failure aad_failure_of_status(enum aad_status status)
{
    switch (status) {
    case AAD_OK: return AAD_FAILURE_NONE;
    case AAD_USER_UNKNOWN: return AAD_FAILURE_NO_ACCOUNT;
    case AAD_DENIED: return AAD_FAILURE_REFUSED;
    case AAD_UNAVAILABLE: return AAD_FAILURE_UNAVAILABLE;
    case AAD_CONFIG_ERROR: return AAD_FAILURE_BAD_CONFIG;
    case AAD_IGNORE: return AAD_FAILURE_IGNORED;
    }
    return AAD_FAILURE_REFUSED;
}

const char *aad_failure_name(enum aad_failure kind)
{
    static const char *const names[] = {
        [AAD_FAILURE_NONE] = "none",
        [AAD_FAILURE_NO_ACCOUNT] = "no-account",
        [AAD_FAILURE_IGNORED] = "ignored",
        [AAD_FAILURE_WRONG_ACCOUNT] = "wrong-account",
        [AAD_FAILURE_DECLINED] = "declined",
        [AAD_FAILURE_EXPIRED] = "expired",
        [AAD_FAILURE_TIMED_OUT] = "timed-out",
        [AAD_FAILURE_NOT_AUTHORIZED] = "not-authorized",
        [AAD_FAILURE_GUEST] = "guest",
        [AAD_FAILURE_BLOCKED_BY_POLICY] = "blocked-by-policy",
        [AAD_FAILURE_REFUSED] = "refused",
        [AAD_FAILURE_BAD_TOKEN] = "bad-token",
        [AAD_FAILURE_HOST_MISCONFIGURED] = "host-misconfigured",
        [AAD_FAILURE_BAD_CONFIG] = "bad-config",
        [AAD_FAILURE_UNAVAILABLE] = "unavailable",
        [AAD_FAILURE_NO_CONVERSATION] = "no-conversation",
        [AAD_FAILURE_ACCESS_CHANGED] = "access-changed",
        [AAD_FAILURE_BUSY] = "busy",
        [AAD_FAILURE_SESSION_ENDED] = "session-ended",
        [AAD_FAILURE_CA_FILE] = "ca-file",
        [AAD_FAILURE_CLOCK] = "clock",
        [AAD_FAILURE_SYSTEM_TRUST] = "system-trust",
    };
    if ((unsigned)kind > AAD_FAILURE_LAST)
        return "unknown";
    return names[kind];
}

void aad_log(const struct aad_log *log, int priority, const char *fmt, ...)
{
    if (log == NULL || log->fn == NULL || (priority == LOG_DEBUG && !log->debug))
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log->fn(log->ctx, priority, text);
}

const char *aad_status_name(enum aad_status status)
{
    switch (status) {
    case AAD_OK: return "success";
    case AAD_USER_UNKNOWN: return "user unknown";
    case AAD_DENIED: return "denied";
    case AAD_UNAVAILABLE: return "unavailable";
    case AAD_CONFIG_ERROR: return "configuration error";
    case AAD_IGNORE: return "ignored";
    }
    return "unknown";
}

void aad_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        explicit_bzero(p, len);
}

void aad_free_secret(char *secret)
{
    if (secret != NULL) {
        aad_wipe(secret, strlen(secret));
        free(secret);
    }
}

/* One more than the base64url value of each byte; 0 for bytes outside the
 * alphabet (so that the table needs no entry for them). */
static const unsigned char b64url_plus_one[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23,
    ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
    ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44,
    ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51,
    ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58,
    ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

static int b64url_value(unsigned char c)
{
    return (int)b64url_plus_one[c] - 1;
}

unsigned char *aad_base64url_decode(const char *in, size_t in_len, size_t max_out, size_t *out_len)
{
    /* A length of 1 mod 4 can never come from an encoder. */
    if (in_len % 4 == 1)
        return NULL;
    size_t decoded = in_len / 4 * 3 + (in_len % 4 == 0 ? 0 : in_len % 4 - 1);
    if (decoded > max_out)
        return NULL;
    unsigned char *out = malloc(decoded + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)in;
    size_t n = 0, i = 0;
    for (; i + 4 <= in_len; i += 4) {
        int a = b64url_value(s[i]), b = b64url_value(s[i + 1]);
        int c = b64url_value(s[i + 2]), d = b64url_value(s[i + 3]);
        if ((a | b | c | d) < 0)
            goto bad;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[n++] = (unsigned char)(v >> 16);
        out[n++] = (unsigned char)(v >> 8);
        out[n++] = (unsigned char)v;
    }
    if (in_len - i >= 2) {
        int a = b64url_value(s[i]), b = b64url_value(s[i + 1]);
        int c = in_len - i == 3 ? b64url_value(s[i + 2]) : 0;
        if ((a | b | c) < 0)
            goto bad;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        /* Non-zero leftover bits mean a non-canonical encoding: two strings
         * would decode to the same bytes, which a signature check must not allow. */
        if (in_len - i == 2 ? (v & 0xFFFF) != 0 : (v & 0xFF) != 0)
            goto bad;
        out[n++] = (unsigned char)(v >> 16);
        if (in_len - i == 3)
            out[n++] = (unsigned char)(v >> 8);
    }
    out[n] = '\0';
    *out_len = n;
    return out;
bad:
    aad_wipe(out, decoded + 1);
    free(out);
    return NULL;
}

char *aad_base64url_encode(const unsigned char *in, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(len / 3 * 4 + 4 + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        out[n++] = alphabet[v >> 6 & 63];
        out[n++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        out[n++] = alphabet[v >> 6 & 63];
    }
    out[n] = '\0';
    return out;
}

int64_t aad_monotonic_ms(void)
{
    return aad_monotonic_us() / 1000;
}

int64_t aad_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void aad_sleep_until_ms(int64_t until_ms)
{
    aad_sleep_until_us(until_ms * 1000);
}

void aad_sleep_until_us(int64_t until_us)
{
    while (aad_monotonic_us() < until_us) {
        struct timespec at = {(time_t)(until_us / 1000000), (long)(until_us % 1000000) * 1000L};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
    }
}

int aad_is_guid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (s == NULL || strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

int aad_is_printable_token(const char *s, size_t max_len)
{
    if (s == NULL || *s == '\0')
        return 0;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n >= max_len || s[n] <= ' ' || s[n] > '~')
            return 0;
    }
    return 1;
}

int aad_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

const char *aad_loggable(const char *value, char *buf, size_t size)
{
    if (value == NULL || size == 0)
        return "-";
    size_t n = 0;
    for (; value[n] != '\0' && n + 1 < size; n++)
        buf[n] = (value[n] > ' ' && value[n] <= '~' && value[n] != '=') ? value[n] : '?';
    buf[n] = '\0';
    return buf;
}
