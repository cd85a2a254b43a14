/* fake_helper.c - a misbehaving pam_aad_helper for tests/hostile/test_faults.
 *
 * pam_aad.so executes it (fexecve, argv {"pam_aad_helper"}, a fixed
 * environment, the socket as descriptor 0), so its behaviour comes from its
 * own file name: the test copies it to fake-helper-MODE and names that copy
 * with helper=. When /proc/self/exe does not tell (under valgrind it names
 * the tool), the helper= argument in the module's request does.
 *
 * Unless the mode ends it, the fake lingers after its misdeed (never reading
 * the socket's end), so that pam_aad.so has to kill and reap it. An alarm
 * ends it anyway should the module fail to, so a failed test leaves no
 * process behind for long. */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aad_base.h"
#include "aad_wire.h"

#define PREFIX "fake-helper-"
#define SAFETY_ALARM_S 60

static const int fd = STDIN_FILENO;

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A frame header written by hand: any version, count and length. */
static void header(unsigned char *h, int version, int type, unsigned count, uint32_t len)
{
    h[0] = (unsigned char)version;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(count >> 8);
    h[3] = (unsigned char)count;
    put32(h + 4, len);
}

static void send_raw(const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            _exit(4);
        p += w;
        len -= (size_t)w;
    }
}

static void linger(void)
{
    for (;;)
        pause();
}

/* The mode from a path ".../fake-helper-MODE", or NULL. */
static const char *mode_of(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, PREFIX, strlen(PREFIX)) != 0)
        return NULL;
    snprintf(buf, size, "%s", base + strlen(PREFIX));
    return buf;
}

static const char *mode_from_exe(char *buf, size_t size)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    return mode_of(self, buf, size);
}

/* The request's fields 3.. are the module arguments. */
static const char *mode_from_request(const struct aad_wire_msg *req, char *buf, size_t size)
{
    for (size_t i = 3; i < req->count; i++) {
        if (strncmp(req->field[i], "helper=", 7) == 0)
            return mode_of(req->field[i] + 7, buf, size);
    }
    return NULL;
}

static void read_request(struct aad_wire_msg *req)
{
    if (aad_wire_recv(fd, aad_monotonic_ms() + 5000, req) != AAD_WIRE_OK ||
        req->type != AAD_MSG_REQUEST)
        _exit(5);
}

static void show_code(void)
{
    const char *fields[] = {"To sign in, open https://x/device and enter ABCD-EFGH (fake helper).",
                            "", "Code ABCD-EFGH at https://x/device, press Enter", "1"};
    if (aad_wire_send(fd, AAD_MSG_SHOW_CODE, 4, fields) != 0)
        _exit(4);
}

static void await_entered(void)
{
    struct aad_wire_msg msg;
    if (aad_wire_recv(fd, aad_monotonic_ms() + 10000, &msg) != AAD_WIRE_OK ||
        msg.type != AAD_MSG_ENTERED)
        _exit(6);
    aad_wire_msg_clear(&msg);
}

/* A real SIGSEGV death, also in a sanitizer build (whose handler would
 * otherwise report the signal and exit with status 1). */
static void crash(void)
{
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
}

int main(void)
{
    alarm(SAFETY_ALARM_S);
    char buf[64];
    const char *mode = mode_from_exe(buf, sizeof(buf));
    if (mode != NULL && strcmp(mode, "hang") == 0)
        linger(); /* reads nothing, writes nothing */
    if (mode != NULL && strcmp(mode, "exit") == 0)
        _exit(3); /* before the request */

    struct aad_wire_msg req;
    read_request(&req);
    if (mode == NULL)
        mode = mode_from_request(&req, buf, sizeof(buf));
    aad_wire_msg_clear(&req);
    if (mode == NULL)
        _exit(7);

    unsigned char h[8];
    if (strcmp(mode, "hang") == 0) {
        linger();
    } else if (strcmp(mode, "exit") == 0) {
        _exit(3);
    } else if (strcmp(mode, "oversized") == 0) {
        /* One byte over the limit, announced only: nothing may be allocated for it. */
        header(h, AAD_WIRE_VERSION, AAD_MSG_LOG, 2, AAD_WIRE_MAX_PAYLOAD + 1);
        send_raw(h, sizeof(h));
    } else if (strcmp(mode, "huge") == 0) {
        header(h, AAD_WIRE_VERSION, AAD_MSG_LOG, 2, 0xffffffffu);
        send_raw(h, sizeof(h));
    } else if (strcmp(mode, "version") == 0) {
        /* A well-formed empty verdict of protocol version 2. */
        header(h, AAD_WIRE_VERSION + 1, AAD_MSG_VERDICT, 0, 0);
        send_raw(h, sizeof(h));
    } else if (strcmp(mode, "malformed") == 0) {
        /* Two fields in 12 bytes: "abcd", then one that claims 100 bytes. */
        unsigned char f[8 + 12];
        header(f, AAD_WIRE_VERSION, AAD_MSG_LOG, 2, 12);
        put32(f + 8, 4);
        memcpy(f + 12, "abcd", 4);
        put32(f + 16, 100);
        send_raw(f, sizeof(f));
    } else if (strcmp(mode, "nul") == 0) {
        /* A LOG frame (priority "3") whose line "ab\0cd" has a NUL inside. */
        unsigned char f[8 + 5 + 9];
        header(f, AAD_WIRE_VERSION, AAD_MSG_LOG, 2, 5 + 9);
        put32(f + 8, 1);
        f[12] = '3';
        put32(f + 13, 5);
        memcpy(f + 17, "ab\0cd", 5);
        send_raw(f, sizeof(f));
    } else if (strcmp(mode, "garbage") == 0) {
        /* Bytes from a fixed generator: whatever they announce, no hang and no crash. */
        unsigned char junk[4096];
        uint32_t x = 0x2545f491u;
        for (size_t i = 0; i < sizeof(junk); i++) {
            x = x * 1664525u + 1013904223u;
            junk[i] = (unsigned char)(x >> 24);
        }
        send_raw(junk, sizeof(junk));
    } else if (strcmp(mode, "partial") == 0) {
        /* Announces 100 bytes, sends 10, then falls silent. */
        unsigned char f[8 + 10];
        memset(f, 'x', sizeof(f));
        header(f, AAD_WIRE_VERSION, AAD_MSG_LOG, 2, 100);
        send_raw(f, sizeof(f));
    } else if (strcmp(mode, "loud-log") == 0) {
        /* LOG_EMERG (which rsyslog writes to every terminal) with a forged
         * second line, then an ordinary refusal. */
        const char *loud[] = {"0", "EMERGENCY\npam_aad(sshd:auth): service=sshd result=success"};
        const char *verdict[] = {"2", "refused", "", "", "", "", ""};
        if (aad_wire_send(fd, AAD_MSG_LOG, 2, loud) != 0 ||
            aad_wire_send(fd, AAD_MSG_VERDICT, 7, verdict) != 0)
            _exit(4);
        _exit(0);
    } else if (strcmp(mode, "unknown-type") == 0) {
        if (aad_wire_send(fd, 99, 0, NULL) != 0)
            _exit(4);
    } else if (strcmp(mode, "other-account") == 0) {
        /* "Success" for bob in a login for alice. */
        const char *fields[] = {"0", "verified", "bob@contoso.example", "oid", "Bob", "tid", "bob"};
        if (aad_wire_send(fd, AAD_MSG_VERDICT, 7, fields) != 0)
            _exit(4);
        _exit(0); /* and ends cleanly, as the real helper does */
    } else if (strcmp(mode, "crash") == 0) {
        crash();
    } else if (strcmp(mode, "crash-after-code") == 0) {
        show_code();
        await_entered();
        crash();
    } else {
        _exit(8);
    }
    linger();
}
