/* delay_proxy.c - a TCP proxy on loopback that holds every byte back for a
 * fixed time in each direction, for `make bench`'s "50 ms RTT" rows (this
 * kernel has no netem). The bench runs it in its own network namespace.
 *
 *   delay_proxy ONE_WAY_MS LIFETIME_S
 *
 * listens on 127.0.0.1 (a free port, printed as "port N" on stdout), then
 * reads the upstream port (127.0.0.1) as one line on stdin, and forwards
 * each connection to it: whatever one side sends reaches the other
 * ONE_WAY_MS later (so a round trip costs 2 x ONE_WAY_MS), in order, each
 * direction read without waiting for the delayed writes. TCP's own
 * handshake is completed by the kernel at once, so the proxy adds it: what
 * the client sends first leaves no earlier than a round trip after the
 * connection came (when a client on such a link would have had SYN-ACK)
 * and then takes ONE_WAY_MS like the rest. It exits after LIFETIME_S
 * seconds. */
#include "config.h"

#include "bench_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

struct chunk {
    struct chunk *next;
    double due;
    size_t len; /* 0: the sender closed its side */
    char data[];
};

/* One direction of one connection: a reader thread queues what arrives,
 * a writer thread sends each chunk when it is due. */
struct pipe_dir {
    int from, to;
    double delay_s;
    double not_before; /* nothing is sent on before this (monotonic s) + delay_s */
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct chunk *head, *tail;
    struct conn *conn;
};

struct conn {
    struct pipe_dir up, down;
    pthread_mutex_t lock;
    int threads_left;
};


static void conn_release(struct conn *c)
{
    pthread_mutex_lock(&c->lock);
    int left = --c->threads_left;
    pthread_mutex_unlock(&c->lock);
    if (left > 0)
        return;
    close(c->up.from);
    close(c->up.to);
    free(c);
}

static void push(struct pipe_dir *d, struct chunk *k)
{
    pthread_mutex_lock(&d->lock);
    if (d->tail)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    pthread_cond_signal(&d->ready);
    pthread_mutex_unlock(&d->lock);
}

static void *reader(void *arg)
{
    struct pipe_dir *d = arg;
    for (;;) {
        struct chunk *k = malloc(sizeof(*k) + CHUNK);
        if (k == NULL)
            abort();
        ssize_t n;
        while ((n = read(d->from, k->data, CHUNK)) < 0 && errno == EINTR)
            ;
        k->next = NULL;
        double now = bench_now_s();
        k->due = (now > d->not_before ? now : d->not_before) + d->delay_s;
        k->len = n > 0 ? (size_t)n : 0;
        push(d, k);
        if (n <= 0)
            break;
    }
    conn_release(d->conn);
    return NULL;
}

static void *writer(void *arg)
{
    struct pipe_dir *d = arg;
    int ok = 1;
    for (;;) {
        pthread_mutex_lock(&d->lock);
        while (d->head == NULL)
            pthread_cond_wait(&d->ready, &d->lock);
        struct chunk *k = d->head;
        d->head = k->next;
        if (d->head == NULL)
            d->tail = NULL;
        pthread_mutex_unlock(&d->lock);
        double left;
        while ((left = k->due - bench_now_s()) > 0) {
            struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
            nanosleep(&ts, NULL);
        }
        size_t len = k->len, off = 0;
        while (ok && off < len) {
            ssize_t n = write(d->to, k->data + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                ok = 0;
            else
                off += (size_t)n;
        }
        free(k);
        if (len == 0) {
            shutdown(d->to, SHUT_WR);
            break;
        }
    }
    conn_release(d->conn);
    return NULL;
}

static void start_dir(struct conn *c, struct pipe_dir *d, int from, int to, double delay_s,
                      double not_before)
{
    d->from = from;
    d->to = to;
    d->delay_s = delay_s;
    d->not_before = not_before;
    d->conn = c;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->ready, NULL);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, reader, d) != 0 || pthread_create(&t, &attr, writer, d) != 0)
        abort();
    pthread_attr_destroy(&attr);
}

static int loopback_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: delay_proxy ONE_WAY_MS LIFETIME_S\n");
        return 2;
    }
    double delay_s = atof(argv[1]) / 1e3, end = bench_now_s() + atof(argv[2]);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(addr);
    int lfd = loopback_socket();
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 256) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("delay_proxy: listen");
        return 1;
    }
    printf("port %u\n", ntohs(addr.sin_port));
    fflush(stdout);
    unsigned upstream_port = 0;
    if (scanf("%u", &upstream_port) != 1 || upstream_port == 0 || upstream_port > 65535) {
        fprintf(stderr, "delay_proxy: no upstream port on stdin\n");
        return 1;
    }
    struct sockaddr_in up = {.sin_family = AF_INET, .sin_port = htons((uint16_t)upstream_port)};
    up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double left;
    while ((left = end - bench_now_s()) > 0) {
        struct pollfd pfd = {lfd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(left * 1e3) + 1) <= 0)
            continue;
        int client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        /* The client's SYN came now: its SYN-ACK would be back one round
         * trip later. */
        double handshake_done = bench_now_s() + 2 * delay_s;
        int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int server = loopback_socket();
        if (server < 0 || connect(server, (struct sockaddr *)&up, sizeof(up)) != 0) {
            close(client);
            if (server >= 0)
                close(server);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (c == NULL)
            abort();
        pthread_mutex_init(&c->lock, NULL);
        c->threads_left = 4;
        start_dir(c, &c->up, client, server, delay_s, handshake_done);
        start_dir(c, &c->down, server, client, delay_s, 0);
    }
    return 0;
}
