/* aad_wire.c - length-prefixed frames between the module and the helper.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_wire.h"
#include "aad_base.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER_SIZE 8

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int aad_wire_send(int fd, int type, size_t count, const char *const *fields)
{
    size_t payload = 0;
    if (count > AAD_WIRE_MAX_FIELDS) {
        errno = EMSGSIZE;
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        payload += 4 + strlen(fields[i] ? fields[i] : "");
    if (payload > AAD_WIRE_MAX_PAYLOAD) {
        errno = EMSGSIZE;
        return -1;
    }
    size_t total = HEADER_SIZE + payload;
    unsigned char *frame = malloc(total);
    if (frame == NULL)
        return -1;
    frame[0] = AAD_WIRE_VERSION;
    frame[1] = (unsigned char)type;
    frame[2] = (unsigned char)(count >> 8);
    frame[3] = (unsigned char)count;
    put32(frame + 4, (uint32_t)payload);
    unsigned char *p = frame + HEADER_SIZE;
    for (size_t i = 0; i < count; i++) {
        const char *f = fields[i] ? fields[i] : "";
        size_t n = strlen(f);
        put32(p, (uint32_t)n);
        memcpy(p + 4, f, n);
        p += 4 + n;
    }
    int rc = 0;
    for (size_t off = 0; off < total;) {
        ssize_t w = send(fd, frame + off, total - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    int saved = errno;
    aad_wipe(frame, total);
    free(frame);
    errno = saved;
    return rc;
}

/* Reads exactly len bytes before deadline_ms. */
static enum aad_wire_result read_full(int fd, unsigned char *buf, size_t len, int64_t deadline_ms)
{
    size_t got = 0;
    while (got < len) {
        /* Past the deadline, what has already arrived is still read (a
         * verdict that waited while the user sat at the prompt). */
        int64_t left = deadline_ms - aad_monotonic_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = poll(&pfd, 1, left <= 0 ? 0 : left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return AAD_WIRE_IO_ERROR;
        if (n == 0 && left <= 0)
            return AAD_WIRE_TIMEOUT;
        if (n == 0)
            continue;
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0)
            return errno == ECONNRESET ? AAD_WIRE_CLOSED : AAD_WIRE_IO_ERROR;
        if (r == 0)
            return AAD_WIRE_CLOSED;
        got += (size_t)r;
    }
    return AAD_WIRE_OK;
}

/* Splits the payload into NUL-terminated fields in msg->buf. */
static enum aad_wire_result split_fields(const unsigned char *payload, size_t len, size_t count,
                                         struct aad_wire_msg *msg)
{
    msg->buf_size = len + count + 1;
    msg->buf = malloc(msg->buf_size);
    if (msg->buf == NULL)
        return AAD_WIRE_IO_ERROR;
    size_t in = 0, out = 0;
    for (size_t i = 0; i < count; i++) {
        if (len - in < 4)
            return AAD_WIRE_MALFORMED;
        size_t n = get32(payload + in);
        in += 4;
        if (n > len - in || memchr(payload + in, '\0', n) != NULL)
            return AAD_WIRE_MALFORMED;
        msg->field[i] = msg->buf + out;
        msg->len[i] = n;
        memcpy(msg->buf + out, payload + in, n);
        msg->buf[out + n] = '\0';
        in += n;
        out += n + 1;
    }
    msg->count = count;
    return in == len ? AAD_WIRE_OK : AAD_WIRE_MALFORMED;
}

enum aad_wire_result aad_wire_recv(int fd, int64_t deadline_ms, struct aad_wire_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    unsigned char header[HEADER_SIZE];
    enum aad_wire_result r = read_full(fd, header, sizeof(header), deadline_ms);
    if (r != AAD_WIRE_OK)
        return r;
    msg->version = header[0];
    msg->type = header[1];
    size_t count = (size_t)header[2] << 8 | header[3];
    size_t len = get32(header + 4);
    if (msg->version != AAD_WIRE_VERSION)
        return AAD_WIRE_VERSION_MISMATCH;
    if (count > AAD_WIRE_MAX_FIELDS || len > AAD_WIRE_MAX_PAYLOAD || len < 4 * count)
        return AAD_WIRE_MALFORMED;
    unsigned char *payload = malloc(len + 1);
    if (payload == NULL)
        return AAD_WIRE_IO_ERROR;
    r = read_full(fd, payload, len, deadline_ms);
    if (r == AAD_WIRE_OK)
        r = split_fields(payload, len, count, msg);
    aad_wipe(payload, len);
    free(payload);
    if (r != AAD_WIRE_OK)
        aad_wire_msg_clear(msg);
    return r;
}

void aad_wire_msg_clear(struct aad_wire_msg *msg)
{
    if (msg->buf != NULL) {
        aad_wipe(msg->buf, msg->buf_size);
        free(msg->buf);
    }
    int type = msg->type, version = msg->version;
    memset(msg, 0, sizeof(*msg));
    msg->type = type;
    msg->version = version;
}

const char *aad_wire_field(const struct aad_wire_msg *msg, size_t i)
{
    return i < msg->count ? msg->field[i] : "";
}

int aad_wire_long(const struct aad_wire_msg *msg, size_t i, long min, long max, long *out)
{
    const char *s = aad_wire_field(msg, i);
    if (*s == '\0' || strlen(s) > 20)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

const char *aad_wire_result_name(enum aad_wire_result r)
{
    switch (r) {
    case AAD_WIRE_OK: return "ok";
    case AAD_WIRE_CLOSED: return "the other side closed the connection (ended or died)";
    case AAD_WIRE_TIMEOUT: return "no message before the deadline";
    case AAD_WIRE_VERSION_MISMATCH: return "a message of another protocol version";
    case AAD_WIRE_MALFORMED: return "a malformed or oversized message";
    case AAD_WIRE_IO_ERROR: return "the connection failed";
    }
    return "?";
}
