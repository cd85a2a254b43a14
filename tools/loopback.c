/* loopback.c - the loopback redirect listener of `aad-login ssh`.
 * Where it runs: in aad-login, with the rights of whoever runs it (on the
 * user's workstation). */
#include "config.h"

#include "loopback.h"
#include "aad_authcode.h"
#include "aad_base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_MAX AAD_AUTHCODE_TARGET_MAX
#define REQUEST_TIMEOUT_MS 5000

int loopback_open(struct loopback *lb)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lb->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lb->fd < 0 || bind(lb->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(lb->fd, 4) != 0 || getsockname(lb->fd, (struct sockaddr *)&a, &len) != 0) {
        loopback_close(lb);
        return -1;
    }
    lb->port = ntohs(a.sin_port);
    return 0;
}

void loopback_close(struct loopback *lb)
{
    if (lb->fd >= 0)
        close(lb->fd);
    lb->fd = -1;
}

/* Reads one request head (to the blank line) within the bounds; returns
 * its request target (malloc'd), or NULL. */
static char *read_request_target(int fd)
{
    char *buf = malloc(REQUEST_MAX + 1);
    size_t len = 0;
    int64_t deadline = aad_monotonic_ms() + REQUEST_TIMEOUT_MS;
    while (buf != NULL && len < REQUEST_MAX) {
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - aad_monotonic_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t got = read(fd, buf + len, REQUEST_MAX - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    char *target = NULL;
    if (buf != NULL) {
        buf[len] = '\0';
        char *sp = strncmp(buf, "GET ", 4) == 0 ? buf + 4 : NULL;
        size_t n = sp ? strcspn(sp, " \r\n") : 0;
        if (sp != NULL && n > 0 && sp[n] == ' ')
            target = strndup(sp, n);
        aad_wipe(buf, len);
    }
    free(buf);
    return target;
}

static void answer(int fd, int status, const char *html)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Bad Request", strlen(html));
    if (n > 0 && aad_write_all(fd, head, (size_t)n) == 0)
        (void)aad_write_all(fd, html, strlen(html));
}

static int serve_one(struct loopback *lb, loopback_judge_fn judge, void *ctx)
{
    int c = accept4(lb->fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return 1;
    char *target = read_request_target(c);
    const char *html = "<!DOCTYPE html><title>aad-login</title><p>Not the sign-in's address.</p>";
    int more = target != NULL && target[0] == '/' ? judge(ctx, target, &html) : 1;
    answer(c, more ? 400 : 200, html);
    close(c);
    aad_free_secret(target);
    return more;
}

/* One pasted line: the address the browser was sent to. */
static int read_pasted(loopback_judge_fn judge, void *ctx, int *input_open)
{
    char line[REQUEST_MAX + 2];
    if (fgets(line, sizeof(line), stdin) == NULL) {
        *input_open = 0;
        return 1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    const char *html = NULL;
    int more = line[0] != '\0' ? judge(ctx, line, &html) : 1;
    aad_wipe(line, sizeof(line));
    return more;
}

int loopback_wait(struct loopback *lb, int read_stdin, int64_t deadline_ms,
                  loopback_judge_fn judge, void *ctx)
{
    int input_open = read_stdin;
    for (;;) {
        int64_t left = deadline_ms - aad_monotonic_ms();
        if (left <= 0)
            return -1;
        struct pollfd p[2] = {{lb->fd, POLLIN, 0}, {input_open ? 0 : -1, POLLIN, 0}};
        int n = poll(p, 2, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && (p[0].revents & POLLIN) && serve_one(lb, judge, ctx) == 0)
            return 0;
        if (n > 0 && (p[1].revents & (POLLIN | POLLHUP)) &&
            read_pasted(judge, ctx, &input_open) == 0)
            return 0;
    }
}
