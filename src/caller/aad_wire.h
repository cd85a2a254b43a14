/* aad_wire.h - the messages between pam_aad.so and pam_aad_helper.
 *
 * One stream socket (a socketpair) carries length-prefixed frames:
 *   version (1 byte) | type (1 byte) | field count (2 bytes) | payload length (4 bytes)
 * then, per field, its length (4 bytes) and its bytes; integers big-endian.
 * Fields are text without NUL bytes. Every length is checked against the
 * limits below before anything is read, and every read has a deadline, so
 * neither side can make the other allocate or wait without bound.
 * libc only: the module links it.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_WIRE_H
#define AAD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define AAD_WIRE_VERSION 3
#define AAD_WIRE_MAX_PAYLOAD (32 * 1024)
#define AAD_WIRE_MAX_FIELDS 48

enum aad_wire_type {
    /* module -> helper */
    AAD_MSG_REQUEST = 1, /* user, uid, qr_ok, keep, the session's refresh token, its
                            oid and tid, then the module arguments */
    AAD_MSG_ENTERED = 2, /* the user answered the prompt (pressed Enter) */
    /* helper -> module */
    AAD_MSG_SHOW_CODE = 10, /* message, qr ("" for none), prompt, wait ("1"/"0") */
    AAD_MSG_WAITING = 11,   /* seconds left until the flow's deadline */
    AAD_MSG_ALIVE = 12,     /* still working (before each network exchange) */
    AAD_MSG_LOG = 13,       /* syslog priority, line */
    AAD_MSG_VERDICT = 14,   /* status, reason, upn, oid, name, tid, local account,
                               failure kind, AADSTS code, group_map's plan, the
                               refresh token kept, "1" when refreshed, Entra's
                               correlation ID, clock offset (s) */
    AAD_MSG_EXEC_FAILED = 15, /* the helper could not be executed: errno */
    AAD_MSG_PROMPT = 16,    /* prompt: ask again (Enter came before the sign-in) */
    /* module -> the group writer (group_writer/) and back */
    AAD_MSG_GROUPS_SET = 20,  /* "+group -group ..." (space-separated) */
    AAD_MSG_GROUPS_DONE = 21, /* outcome numbers, space-separated; why a write failed ("") */
};

/* Why a receive failed. */
enum aad_wire_result {
    AAD_WIRE_OK = 0,
    AAD_WIRE_CLOSED,   /* the other side closed the socket (or died) */
    AAD_WIRE_TIMEOUT,  /* nothing complete before the deadline */
    AAD_WIRE_VERSION_MISMATCH,
    AAD_WIRE_MALFORMED, /* oversized, too many fields, NUL in a field, bad lengths */
    AAD_WIRE_IO_ERROR,
};

struct aad_wire_msg {
    int type;
    int version; /* as received, for the log line on a mismatch */
    size_t count;
    char *field[AAD_WIRE_MAX_FIELDS]; /* NUL-terminated, point into buf */
    size_t len[AAD_WIRE_MAX_FIELDS];
    char *buf;
    size_t buf_size;
};

/* Sends one frame (never raises SIGPIPE). Returns 0, or -1 with errno. */
int aad_wire_send(int fd, int type, size_t count, const char *const *fields);

/* Receives one frame, waiting until deadline_ms (CLOCK_MONOTONIC, as
 * aad_monotonic_ms). On AAD_WIRE_OK msg must be released with
 * aad_wire_msg_clear, which wipes it (frames may carry names and codes). */
enum aad_wire_result aad_wire_recv(int fd, int64_t deadline_ms, struct aad_wire_msg *msg);
void aad_wire_msg_clear(struct aad_wire_msg *msg);

/* Field i as text, or "" when the frame has fewer fields. */
const char *aad_wire_field(const struct aad_wire_msg *msg, size_t i);

/* Field i as a decimal integer in [min, max]; 0 on success, -1 otherwise. */
int aad_wire_long(const struct aad_wire_msg *msg, size_t i, long min, long max, long *out);

/* A short description of a receive failure, for the log. */
const char *aad_wire_result_name(enum aad_wire_result r);

#endif
