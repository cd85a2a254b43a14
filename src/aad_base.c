/* aad_base.c - status codes, error messages, secret wiping, base64url. */
#include "config.h"

#include "aad_base.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <openssl/crypto.h>

enum aad_status aad_fail(struct aad_error *err, enum aad_status status, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void aad_log(const struct aad_log *log, int priority, const char *fmt, ...)
{
    if (log == NULL || log->fn == NULL || (priority == LOG_DEBUG && !log->debug))
        return;
    char text[512];
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
    }
    return "unknown";
}

void aad_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

void aad_free_secret(char *secret)
{
    if (secret != NULL) {
        aad_wipe(secret, strlen(secret));
        free(secret);
    }
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
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

    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in_len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Non-zero leftover bits mean a non-canonical encoding: two strings
     * would decode to the same bytes, which a signature check must not allow. */
    if (acc != 0)
        goto bad;
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
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
