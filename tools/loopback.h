/* loopback.h - where the browser comes back to after the sign-in: a small,
 * bounded HTTP listener on 127.0.0.1 for `aad-login ssh`, and the address
 * the user pastes instead when the browser runs on another machine.
 *
 * Where it runs: in aad-login, with the rights of whoever runs it (on the
 * user's workstation). */
#ifndef LOOPBACK_H
#define LOOPBACK_H

#include <stdint.h>

struct loopback {
    int fd;   /* listening socket, 127.0.0.1 only */
    int port; /* chosen by the kernel */
};

/* Listens on 127.0.0.1 at a port the kernel chooses; 0, or -1. */
int loopback_open(struct loopback *lb);
void loopback_close(struct loopback *lb);

/* Decides what one redirect means: 0 when it was this sign-in's (the flow
 * ends), 1 when it was not (a stray request: keep waiting); answer_html is
 * what the browser is shown. */
typedef int (*loopback_judge_fn)(void *ctx, const char *target, const char **answer_html);

/* Waits until deadline_ms (monotonic) for a redirect to reach the listener
 * or, when read_stdin is set, for a pasted address on standard input, and
 * hands each to judge. Returns 0 when judge ended the flow, -1 on timeout
 * or end of input. Requests are bounded (8 KiB, 5 s each), one at a time. */
int loopback_wait(struct loopback *lb, int read_stdin, int64_t deadline_ms,
                  loopback_judge_fn judge, void *ctx);

#endif
