/*
 * aad-emulator: main program — options, listeners, state files, lifetime.
 *
 * Signals are blocked in every thread and collected by the main thread with
 * sigtimedwait(), so there is no signal handler and no global state: the
 * same wait also enforces the lifetime bound.
 */
#include "emulator.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TENANT    "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define DEFAULT_DOMAIN    "contoso.example"
#define DEFAULT_CLIENT_ID "535fb089-9ff3-47b6-9bfb-4f1264799865"

int64_t emu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void emu_log(struct emulator *emu, const char *fmt, ...)
{
    if (emu->cfg.quiet)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "aad-emulator[%ld] %02d:%02d:%02d.%03ld %s\n", (long)getpid(),
            tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, msg);
}

/* libmicrohttpd's own messages go through the same (quiet-able) log. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct emulator *emu = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    emu_log(emu, "libmicrohttpd: %s", msg);
}

/* The main thread sits in sigtimedwait(); a self-directed SIGTERM wakes it. */
void emu_request_shutdown(struct emulator *emu)
{
    atomic_store(&emu->stopping, true);
    kill(getpid(), SIGTERM);
}

/* ---------------------------------------------------------------- HTTP glue */

static enum MHD_Result access_common(struct emulator *emu, bool https,
                                     struct MHD_Connection *c, const char *url,
                                     const char *method, const char *data,
                                     size_t *size, void **con_cls)
{
    struct request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        if (https) {
            rq->ep = endpoints_classify(url);
            pthread_mutex_lock(&emu->lock);
            emu->requests[rq->ep]++;
            pthread_mutex_unlock(&emu->lock);
        }
        return MHD_YES;
    }
    if (*size) {
        /* Bounded body: the excess is drained and dropped, answered 413. */
        if (!rq->too_large && rq->len + *size > EMU_MAX_BODY) {
            rq->too_large = true;
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
        }
        if (!rq->too_large) {
            char *nb = realloc(rq->body, rq->len + *size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + rq->len, data, *size);
            rq->len += *size;
            nb[rq->len] = '\0';
            rq->body = nb;
        }
        *size = 0;
        return MHD_YES;
    }
    return https ? endpoints_handle(emu, c, rq, method, url)
                 : control_handle(emu, c, rq, method, url);
}

static enum MHD_Result https_access(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version, const char *data,
                                    size_t *size, void **con_cls)
{
    (void)version;
    return access_common(cls, true, c, url, method, data, size, con_cls);
}

static enum MHD_Result control_access(void *cls, struct MHD_Connection *c,
                                      const char *url, const char *method,
                                      const char *version, const char *data,
                                      size_t *size, void **con_cls)
{
    (void)version;
    return access_common(cls, false, c, url, method, data, size, con_cls);
}

static void request_completed(void *cls, struct MHD_Connection *c,
                              void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct emulator *emu = cls;
    struct request *rq = *con_cls;
    if (!rq)
        return;
    if (rq->shutdown_after)
        emu_request_shutdown(emu);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

/* Counts accepted connections on the HTTPS port: with TLS every accepted
 * connection is one handshake, so this shows whether clients reuse them. */
static void connection_notify(void *cls, struct MHD_Connection *c,
                              void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    (void)socket_context;
    struct emulator *emu = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&emu->lock);
        emu->connections++;
        pthread_mutex_unlock(&emu->lock);
    }
}

static struct MHD_Daemon *start_daemon(struct emulator *emu, bool tls)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0; /* ephemeral; read back below */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     MHD_USE_ERROR_LOG;
    if (tls) {
        return MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, https_access, emu,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, emu,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
            MHD_OPTION_HTTPS_MEM_KEY, emu->server_key_pem,
            MHD_OPTION_HTTPS_MEM_CERT, emu->server_cert_pem,
            MHD_OPTION_NOTIFY_COMPLETED, request_completed, emu,
            MHD_OPTION_NOTIFY_CONNECTION, connection_notify, emu,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_END);
    }
    return MHD_start_daemon(
        flags, 0, NULL, NULL, control_access, emu, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, emu, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed,
        emu, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_END);
}

static uint16_t daemon_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

/* ------------------------------------------------------------ state files */

/* Readers poll for these files, so they must never see half of one. */
static int write_atomic(const char *dir, const char *name, const char *text)
{
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- options */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aad-emulator --state-dir DIR [--tenant GUID] [--domain NAME]\n"
            "         [--client-id ID] [--lifetime SECONDS] [--interval N]\n"
            "         [--expires-in N] [--auto-approve-after SECONDS]\n"
            "         [--approve-claims JSON] [--extra-keys N] [--quiet]\n"
            "         [--tls-cert good|expired|wrong-name] [--client-cert PEM]\n"
            "         [--public-authority https://127.0.0.1:PORT]\n"
            "Local Microsoft Entra ID emulator for tests. Writes DIR/ca.pem and\n"
            "DIR/emulator.env (HTTPS_PORT, CONTROL_PORT, AUTHORITY, CA_FILE, PID,\n"
            "GRAPH_URL, ...).\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool is_guid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

static int parse_options(struct emu_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"state-dir", required_argument, NULL, 's'},
        {"tenant", required_argument, NULL, 't'},
        {"domain", required_argument, NULL, 'd'},
        {"client-id", required_argument, NULL, 'c'},
        {"lifetime", required_argument, NULL, 'l'},
        {"interval", required_argument, NULL, 'i'},
        {"expires-in", required_argument, NULL, 'e'},
        {"auto-approve-after", required_argument, NULL, 'a'},
        {"approve-claims", required_argument, NULL, 'C'},
        {"extra-keys", required_argument, NULL, 'x'},
        {"quiet", no_argument, NULL, 'q'},
        {"tls-cert", required_argument, NULL, 'T'},
        {"client-cert", required_argument, NULL, 'K'},
        {"public-authority", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cfg->tenant = DEFAULT_TENANT;
    cfg->domain = DEFAULT_DOMAIN;
    cfg->client_id = DEFAULT_CLIENT_ID;
    cfg->lifetime = 300;
    cfg->interval = 5;
    cfg->expires_in = 900;
    cfg->auto_approve_after = -1;
    int ch;
    long v;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 's': cfg->state_dir = optarg; break;
        case 't':
            if (!is_guid(optarg)) {
                fprintf(stderr, "aad-emulator: --tenant must be a GUID\n");
                return -1;
            }
            cfg->tenant = optarg;
            break;
        case 'd': cfg->domain = optarg; break;
        case 'c': cfg->client_id = optarg; break;
        case 'l':
            if (!parse_long(optarg, 1, 86400, &v))
                goto bad;
            cfg->lifetime = v;
            break;
        case 'i':
            if (!parse_long(optarg, 0, 3600, &v))
                goto bad;
            cfg->interval = v;
            break;
        case 'e':
            if (!parse_long(optarg, 1, 86400, &v))
                goto bad;
            cfg->expires_in = v;
            break;
        case 'a': {
            char *end;
            double d = strtod(optarg, &end);
            if (end == optarg || *end || !(d >= 0 && d <= 3600))
                goto bad;
            cfg->auto_approve_after = d;
            break;
        }
        case 'C': cfg->approve_claims = optarg; break;
        case 'x':
            if (!parse_long(optarg, 0, EMU_MAX_KEYS - 2, &v))
                goto bad;
            cfg->extra_keys = (int)v;
            break;
        case 'q': cfg->quiet = true; break;
        case 'T':
            if (strcmp(optarg, "good") && strcmp(optarg, "expired") &&
                strcmp(optarg, "wrong-name")) {
                fprintf(stderr, "aad-emulator: --tls-cert must be good, expired or wrong-name\n");
                return -1;
            }
            cfg->tls_cert = optarg;
            break;
        case 'K': cfg->client_cert = optarg; break;
        case 'P':
            if (strncmp(optarg, "https://", 8) != 0 || strlen(optarg) > 63) {
                fprintf(stderr, "aad-emulator: --public-authority must be https://..., at most 63 characters\n");
                return -1;
            }
            cfg->public_authority = optarg;
            break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        continue;
    bad:
        fprintf(stderr, "aad-emulator: bad value '%s'\n", optarg);
        return -1;
    }
    if (optind != argc || !cfg->state_dir) {
        usage(stderr);
        return -1;
    }
    if (cfg->approve_claims && cfg->auto_approve_after < 0) {
        fprintf(stderr, "aad-emulator: --approve-claims needs --auto-approve-after\n");
        return -1;
    }
    return 0;
}

/* --auto-approve-after arms an approval for every code (a demo's "user"). */
static int arm_auto_approve(struct emulator *emu)
{
    if (emu->cfg.auto_approve_after < 0)
        return 0;
    json_t *req = json_object();
    if (emu->cfg.approve_claims) {
        json_error_t err;
        json_t *claims = json_loads(emu->cfg.approve_claims,
                                    JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(claims)) {
            fprintf(stderr, "aad-emulator: --approve-claims: not a JSON object\n");
            json_decref(claims);
            json_decref(req);
            return -1;
        }
        json_object_set_new(req, "claims", claims);
    }
    char err[160];
    int rc = approval_from_json(&emu->auto_appr, req, err, sizeof err);
    json_decref(req);
    if (rc != 0) {
        fprintf(stderr, "aad-emulator: %s\n", err);
        return -1;
    }
    emu->auto_armed = true;
    emu->auto_remaining = -1;
    emu->auto_delay_ms = (long)(emu->cfg.auto_approve_after * 1000.0);
    return 0;
}

static void emulator_free(struct emulator *emu)
{
    for (size_t i = 0; i < emu->nkeys; i++)
        crypto_free_key(&emu->keys[i]);
    crypto_free_key(&emu->rogue);
    X509_free(emu->client_cert);
    json_decref(emu->graph_members);
    directory_free(emu->directory);
    for (size_t i = 0; i < emu->ncodes; i++)
        code_free(emu->codes[i]);
    refresh_free_all(emu);
    faults_clear(emu);
    approval_free(&emu->auto_appr);
    authcode_free(emu);
    free(emu->jwks_override);
    free(emu->ca_pem);
    free(emu->server_cert_pem);
    free(emu->server_key_pem);
    pthread_mutex_destroy(&emu->lock);
}

int main(int argc, char **argv)
{
    struct emulator emu;
    memset(&emu, 0, sizeof emu);
    pthread_mutex_init(&emu.lock, NULL);
    atomic_init(&emu.stopping, false);
    if (parse_options(&emu.cfg, argc, argv) != 0)
        return 2;
    emu.graph_members = json_object();
    emu.graph_page_size = 100;
    emu.graph_app_access = true;
    emu.directory = directory_new();
    emu.graph_users_count = 128;
    emu.graph_apps_count = 17;
    emu.api_consent = true;
    emu.api_app_role = true;
    if (emu.cfg.client_cert) {
        char err[256];
        if (client_cert_load_file(&emu, emu.cfg.client_cert, err, sizeof err) != 0) {
            fprintf(stderr, "aad-emulator: --client-cert: %s\n", err);
            emulator_free(&emu);
            return 2;
        }
    }

    if (mkdir(emu.cfg.state_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "aad-emulator: %s: %s\n", emu.cfg.state_dir,
                strerror(errno));
        return 1;
    }

    /* Block before any thread exists so that all of them inherit the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    if (crypto_make_tls(&emu) != 0) {
        fprintf(stderr, "aad-emulator: cannot make TLS certificates\n");
        goto out;
    }
    /* Extra (never signing) keys come first: clients must match the kid. */
    for (int i = 0; i <= emu.cfg.extra_keys; i++) {
        if (crypto_make_signing_key(&emu.keys[emu.nkeys]) != 0) {
            fprintf(stderr, "aad-emulator: cannot make a signing key\n");
            goto out;
        }
        emu.current_key = emu.nkeys++;
    }
    if (arm_auto_approve(&emu) != 0)
        goto out;

    emu.control = start_daemon(&emu, false);
    emu.https = start_daemon(&emu, true);
    if (!emu.control || !emu.https) {
        fprintf(stderr, "aad-emulator: cannot start listeners\n");
        goto out;
    }
    emu.https_port = daemon_port(emu.https);
    emu.control_port = daemon_port(emu.control);
    if (!emu.https_port || !emu.control_port) {
        fprintf(stderr, "aad-emulator: cannot read listening ports\n");
        goto out;
    }
    /* Behind a proxy (make bench's delaying one), documents and tokens name
     * the address clients reach. */
    if (emu.cfg.public_authority)
        snprintf(emu.authority, sizeof emu.authority, "%s", emu.cfg.public_authority);
    else
        snprintf(emu.authority, sizeof emu.authority, "https://127.0.0.1:%u",
                 emu.https_port);
    snprintf(emu.graph_base, sizeof emu.graph_base, "%s/graph", emu.authority);

    char env[8192];
    snprintf(env, sizeof env,
             "HTTPS_PORT=%u\nCONTROL_PORT=%u\nAUTHORITY=%s\nCA_FILE=%s/ca.pem\n"
             "PID=%ld\nCONTROL_URL=http://127.0.0.1:%u\nTENANT_ID=%s\n"
             "DOMAIN=%s\nCLIENT_ID=%s\nGRAPH_URL=%s\n",
             emu.https_port, emu.control_port, emu.authority, emu.cfg.state_dir,
             (long)getpid(), emu.control_port, emu.cfg.tenant, emu.cfg.domain,
             emu.cfg.client_id, emu.graph_base);
    if (write_atomic(emu.cfg.state_dir, "ca.pem", emu.ca_pem) != 0 ||
        write_atomic(emu.cfg.state_dir, "emulator.env", env) != 0) {
        fprintf(stderr, "aad-emulator: cannot write state files in %s\n",
                emu.cfg.state_dir);
        goto out;
    }
    /* The lifetime counts from readiness, so a slow start (valgrind) does
     * not eat the time a test was promised. */
    int64_t deadline = emu_now_ms() + emu.cfg.lifetime * 1000;
    emu_log(&emu, "ready: %s control http://127.0.0.1:%u tenant %s lifetime %lds",
            emu.authority, emu.control_port, emu.cfg.tenant, emu.cfg.lifetime);

    for (;;) {
        int64_t left = deadline - emu_now_ms();
        if (left <= 0) {
            emu_log(&emu, "lifetime of %lds is over, exiting", emu.cfg.lifetime);
            break;
        }
        struct timespec ts = {.tv_sec = left / 1000,
                              .tv_nsec = (left % 1000) * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig > 0) {
            emu_log(&emu, "%s, exiting",
                    atomic_load(&emu.stopping) ? "shutdown requested"
                                               : strsignal(sig));
            break;
        }
        if (errno != EAGAIN && errno != EINTR) {
            perror("aad-emulator: sigtimedwait");
            break;
        }
    }
    rc = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/emulator.env", emu.cfg.state_dir);
    unlink(path); /* no longer reachable: don't advertise it */
out:
    atomic_store(&emu.stopping, true);
    if (emu.https)
        MHD_stop_daemon(emu.https);
    if (emu.control)
        MHD_stop_daemon(emu.control);
    emulator_free(&emu);
    return rc;
}
