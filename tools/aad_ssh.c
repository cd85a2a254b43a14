/* aad_ssh.c - `aad-login ssh`: a browser sign-in, then an SSH key and a
 * certificate carrying the ID token, so that plain `ssh -i KEY host` logs
 * in where the device-code flow is blocked.
 *
 *   1. a fresh Ed25519 key and a random salt; nonce = their commitment
 *      (aad_sshcert_nonce);
 *   2. the authorize URL (PKCE S256, redirect http://127.0.0.1:PORT/) opened
 *      in the browser, or shown for a browser elsewhere, whose final address
 *      the user pastes back;
 *   3. the code redeemed for the ID token, whose nonce must be ours;
 *   4. KEY (0600), KEY.pub and KEY-cert.pub written, each atomically.
 * The servers check everything again (pam_aad_sshkeys); this side checks
 * only what guards against a mix-up.
 *
 * Where it runs: in aad-login, with the rights of whoever runs it (on the
 * user's workstation). */
#include "config.h"

#include "aad_ssh.h"
#include "loopback.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aad_authcode.h"
#include "aad_config.h"
#include "aad_http.h"
#include "aad_json.h"
#include "aad_jwt.h"
#include "aad_refusal.h"
#include "aad_sshcert.h"

#define MAX_OVERRIDES 32
#define PATH_MAX_BYTES 4000
/* sshd checks valid_after without slack; a server clock a little behind
 * must not refuse a certificate made a moment ago. */
#define VALID_BEFORE_NOW_S 300

enum ssh_exit { SSH_OK = 0, SSH_REFUSED = 1, SSH_USAGE = 2, SSH_UNAVAILABLE = 3, SSH_CONFIG = 4 };

struct ssh_options {
    const char *key_path; /* NULL: ~/.ssh/id_ed25519_aad */
    const char *browser;  /* a program given the URL; NULL: xdg-open with a display */
    int no_browser;
};

/* The judge of each redirect or pasted address (loopback.h). */
struct sign_in {
    const struct aad_authcode *ac;
    char *code;
    enum aad_status st;
    struct aad_error err;
};

static int exit_of(enum aad_status st)
{
    switch (st) {
    case AAD_OK: return SSH_OK;
    case AAD_UNAVAILABLE: return SSH_UNAVAILABLE;
    case AAD_CONFIG_ERROR: return SSH_CONFIG;
    default: return SSH_REFUSED;
    }
}

static void usage(FILE *f, const char *default_config)
{
    fprintf(f,
            "Usage: aad-login ssh [--config FILE] [-o key=value]... [--key FILE]\n"
            "                     [--no-browser | --browser PROGRAM]\n"
            "Signs you in with Microsoft Entra ID in your browser and writes an SSH key (FILE,\n"
            "default ~/.ssh/id_ed25519_aad) with a certificate (FILE-cert.pub) that carries the\n"
            "sign-in. Then: ssh -i FILE user@host. With no browser here, open the address\n"
            "shown on any device and paste back the address the browser ends on.\n"
            "Default configuration: %s\n"
            "Exit: 0 written, 1 refused, 2 usage, 3 service unavailable, 4 configuration error.\n",
            default_config);
}

static int judge(void *ctx, const char *target, const char **answer_html)
{
    struct sign_in *s = ctx;
    struct aad_error err = {0};
    char *code = NULL;
    enum aad_status st = aad_authcode_read_redirect(s->ac, target, &code, &err);
    if (st == AAD_IGNORE) {
        if (target[0] != '/')
            fprintf(stderr, "aad-login: %s.\nPaste the whole address the browser ends on.\n",
                    err.message);
        return 1;
    }
    s->st = st;
    s->err = err;
    s->code = code;
    *answer_html = st == AAD_OK
                       ? "<!DOCTYPE html><title>aad-login</title><p>Signed in. You can close "
                         "this window and go back to the terminal.</p>"
                       : "<!DOCTYPE html><title>aad-login</title><p>The sign-in did not "
                         "succeed. The terminal says why.</p>";
    return 0;
}

static void start_browser(const struct ssh_options *o, const char *url, pid_t *pid)
{
    const char *program = o->browser;
    if (program == NULL && !o->no_browser &&
        (getenv("DISPLAY") != NULL || getenv("WAYLAND_DISPLAY") != NULL))
        program = "xdg-open";
    *pid = -1;
    if (program == NULL)
        return;
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *const argv[] = {(char *)program, (char *)url, NULL};
    extern char **environ;
    if (posix_spawnp(pid, program, &fa, NULL, argv, environ) != 0)
        *pid = -1;
    posix_spawn_file_actions_destroy(&fa);
}

/* Writes text to path atomically (a new file beside it, then rename). */
static int write_file(const char *path, const char *text, mode_t mode)
{
    char tmp[PATH_MAX_BYTES + 16];
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    int ok = fchmod(fd, mode) == 0 && aad_write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0;
    ok &= close(fd) == 0;
    if (ok && rename(tmp, path) == 0)
        return 0;
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
}

static int default_key_path(char *out, size_t size)
{
    const char *home = getenv("HOME");
    struct passwd *pw = home == NULL ? getpwuid(getuid()) : NULL;
    if (home == NULL && pw != NULL)
        home = pw->pw_dir;
    if (home == NULL)
        return -1;
    char dir[PATH_MAX_BYTES];
    snprintf(dir, sizeof(dir), "%s/.ssh", home);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return snprintf(out, size, "%s/id_ed25519_aad", dir) < (int)size ? 0 : -1;
}

/* What the certificate says of the token: its names, its lifetime. */
struct token_facts {
    char name[AAD_SSHCERT_NAME_MAX + 1]; /* preferred_username, else oid */
    char oid[64];
    long long exp;
};

static enum aad_status read_token(const char *id_token, const char *nonce, struct token_facts *f,
                                  struct aad_error *err)
{
    struct aad_jwt *jwt = NULL;
    enum aad_status st = aad_jwt_parse(id_token, &jwt, err);
    if (st != AAD_OK)
        return aad_fail(err, AAD_UNAVAILABLE, "the ID token is unusable: %s", err->message);
    const char *got = aad_json_string(jwt->claims, "nonce");
    const char *oid = aad_json_string(jwt->claims, "oid");
    const char *upn = aad_json_string(jwt->claims, "preferred_username");
    if (got == NULL || strcmp(got, nonce) != 0)
        st = aad_fail_as(err, AAD_FAILURE_BAD_TOKEN, "the ID token's nonce is not this sign-in's");
    else if (!aad_is_guid(oid) || aad_json_integer(jwt->claims, "exp", &f->exp) != 1)
        st = aad_fail_as(err, AAD_FAILURE_BAD_TOKEN, "the ID token has no oid or exp");
    else if (upn != NULL && (strlen(upn) > AAD_SSHCERT_NAME_MAX ||
                             !aad_is_printable_token(upn, AAD_SSHCERT_NAME_MAX)))
        st = aad_fail_as(err, AAD_FAILURE_BAD_TOKEN, "the ID token's preferred_username is odd");
    if (st == AAD_OK) {
        snprintf(f->oid, sizeof(f->oid), "%s", oid);
        snprintf(f->name, sizeof(f->name), "%s", upn != NULL ? upn : oid);
    }
    aad_jwt_free(jwt);
    return st;
}

/* KEY, KEY.pub and KEY-cert.pub. */
static enum aad_status write_key_files(const char *path, EVP_PKEY *key,
                                       const unsigned char pub[AAD_SSH_ED25519_BYTES],
                                       const struct token_facts *f, const char *id_token,
                                       const unsigned char salt[AAD_SSH_SALT_BYTES],
                                       struct aad_error *err)
{
    const char *principals[] = {f->oid};
    long long now = (long long)time(NULL);
    struct aad_sshcert_spec spec = {pub, key, f->name, principals, 1,
                                    (uint64_t)(now - VALID_BEFORE_NOW_S), (uint64_t)f->exp,
                                    id_token, salt};
    unsigned char *blob = NULL;
    size_t len = 0;
    enum aad_status st = aad_sshcert_make(&spec, &blob, &len, err);
    if (st != AAD_OK)
        return st;
    char *cert_b64 = aad_ssh_base64(blob, len);
    aad_wipe(blob, len);
    free(blob);
    char *private_text = aad_ssh_private_key_text(key, f->name);
    char *public_line = aad_ssh_public_line(pub);
    size_t cert_size = (cert_b64 ? strlen(cert_b64) : 0) + strlen(f->name) + 64;
    size_t pub_size = (public_line ? strlen(public_line) : 0) + strlen(f->name) + 4;
    char *cert_text = cert_b64 ? malloc(cert_size) : NULL;
    char *pub_text = public_line ? malloc(pub_size) : NULL;
    char pub_path[PATH_MAX_BYTES + 16], cert_path[PATH_MAX_BYTES + 16];
    snprintf(pub_path, sizeof(pub_path), "%s.pub", path);
    snprintf(cert_path, sizeof(cert_path), "%s-cert.pub", path);
    if (cert_text == NULL || pub_text == NULL || private_text == NULL) {
        st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    } else {
        snprintf(cert_text, cert_size, "%s %s %s\n", AAD_SSHCERT_TYPE, cert_b64, f->name);
        snprintf(pub_text, pub_size, "%s %s\n", public_line, f->name);
        /* The private key first: a certificate is no use without it. */
        if (write_file(path, private_text, 0600) != 0 || write_file(pub_path, pub_text, 0644) != 0 ||
            write_file(cert_path, cert_text, 0644) != 0)
            st = aad_fail(err, AAD_CONFIG_ERROR, "cannot write %s: %s", path, strerror(errno));
    }
    aad_free_secret(cert_b64);
    aad_free_secret(cert_text);
    aad_free_secret(private_text);
    free(public_line);
    free(pub_text);
    return st;
}

/* Steps 1 to 4 of the comment at the top. */
static enum aad_status sign_in_and_write(const struct aad_config *cfg, const struct ssh_options *o,
                                         const char *key_path, struct token_facts *facts,
                                         struct aad_error *err)
{
    unsigned char pub[AAD_SSH_ED25519_BYTES], salt[AAD_SSH_SALT_BYTES];
    char nonce[AAD_SSH_NONCE_CHARS + 1];
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL || aad_ssh_ed25519_public(key, pub) != 0 ||
        RAND_bytes(salt, sizeof(salt)) != 1 || aad_sshcert_nonce(pub, salt, nonce) != 0) {
        EVP_PKEY_free(key);
        return aad_fail(err, AAD_UNAVAILABLE, "cannot make an Ed25519 key");
    }
    struct loopback lb = {-1, 0};
    struct aad_http *http = NULL;
    struct aad_authcode ac = {0};
    struct aad_tokens tokens = {0};
    struct sign_in s = {&ac, NULL, AAD_OK, {0}};
    pid_t browser = -1;
    struct aad_http_options opts = {.ca_file = cfg->ca_file, .files = &cfg->preread,
                                    .proxy = cfg->proxy, .timeout_s = cfg->http_timeout};
    enum aad_status st = aad_http_new(&opts, &http, err);
    if (st == AAD_OK && loopback_open(&lb) != 0)
        st = aad_fail(err, AAD_UNAVAILABLE, "cannot listen on 127.0.0.1: %s", strerror(errno));
    if (st == AAD_OK)
        st = aad_authcode_begin(cfg, http, lb.port, nonce, &ac, err);
    if (st == AAD_OK) {
        /* The URL alone on its lines, so that a wrapped one copies whole. */
        printf("Sign in with Microsoft Entra ID in your browser:\n\n%s\n\n", ac.url);
        printf("If the browser runs on another machine, sign in there, then paste here the\n"
               "address it ends on (http://127.0.0.1:%d/?code=...).\n",
               lb.port);
        fflush(stdout);
        start_browser(o, ac.url, &browser);
        if (browser > 0)
            printf("Your browser was opened at that address.\n");
        fflush(stdout);
        if (loopback_wait(&lb, 1, aad_monotonic_ms() + (int64_t)cfg->timeout * 1000, judge, &s) !=
            0)
            st = aad_fail_as(err, AAD_FAILURE_TIMED_OUT,
                             "no sign-in came back within %ld s (timeout)", cfg->timeout);
        else if ((st = s.st) != AAD_OK)
            *err = s.err;
    }
    loopback_close(&lb);
    if (st == AAD_OK)
        st = aad_authcode_redeem(cfg, http, &ac, s.code, &tokens, err);
    if (st == AAD_OK)
        st = read_token(tokens.id_token, nonce, facts, err);
    if (st == AAD_OK)
        st = write_key_files(key_path, key, pub, facts, tokens.id_token, salt, err);
    if (browser > 0)
        (void)waitpid(browser, NULL, WNOHANG);
    aad_free_secret(s.code);
    aad_tokens_clear(&tokens);
    aad_authcode_clear(&ac);
    aad_http_free(http);
    EVP_PKEY_free(key);
    return st;
}

int aad_ssh_main(int argc, char **argv, const char *default_config)
{
    static const struct option long_opts[] = {
        {"config", required_argument, NULL, 'f'}, {"option", required_argument, NULL, 'o'},
        {"key", required_argument, NULL, 'k'},    {"browser", required_argument, NULL, 'b'},
        {"no-browser", no_argument, NULL, 'n'},   {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct ssh_options o = {0};
    const char *args[MAX_OVERRIDES + 2];
    char config_arg[PATH_MAX_BYTES + 8] = "";
    int nargs = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "f:o:k:dh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'f': snprintf(config_arg, sizeof(config_arg), "config=%s", optarg); break;
        case 'k': o.key_path = optarg; break;
        case 'b': o.browser = optarg; break;
        case 'n': o.no_browser = 1; break;
        case 'o':
        case 'd':
            if (nargs >= MAX_OVERRIDES) {
                fprintf(stderr, "aad-login: too many -o or -d options (at most %d)\n",
                        MAX_OVERRIDES);
                return SSH_USAGE;
            }
            args[nargs++] = opt == 'o' ? optarg : "debug";
            break;
        case 'h': usage(stdout, default_config); return SSH_OK;
        default: usage(stderr, default_config); return SSH_USAGE;
        }
    }
    if (optind != argc || (o.browser != NULL && o.no_browser)) {
        usage(stderr, default_config);
        return SSH_USAGE;
    }
    if (config_arg[0] != '\0')
        args[nargs++] = config_arg;
    char key_path[PATH_MAX_BYTES];
    if (o.key_path != NULL && strlen(o.key_path) < sizeof(key_path)) {
        snprintf(key_path, sizeof(key_path), "%s", o.key_path);
    } else if (o.key_path != NULL || default_key_path(key_path, sizeof(key_path)) != 0) {
        fprintf(stderr, "aad-login: no usable place for the key (give --key FILE)\n");
        return SSH_USAGE;
    }

    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    struct token_facts facts = {0};
    enum aad_status st = aad_config_load(default_config, nargs, args, &cfg, &err);
    if (st == AAD_OK)
        st = sign_in_and_write(cfg, &o, key_path, &facts, &err);
    if (st == AAD_OK) {
        char until[32];
        time_t exp = (time_t)facts.exp;
        struct tm tm;
        strftime(until, sizeof(until), "%Y-%m-%d %H:%M %Z", localtime_r(&exp, &tm));
        printf("\nSigned in as %s.\n"
               "  key:          %s\n"
               "  certificate:  %s-cert.pub\n"
               "  valid until:  %s (hosts may end it sooner: cert_max_age)\n"
               "Log in with:  ssh -i %s USER@HOST\n",
               facts.name, key_path, key_path, until, key_path);
    } else {
        char sentence[512];
        struct aad_refusal r = {.kind = err.kind,
                                .aadsts = err.aadsts,
                                .account = "your account",
                                .correlation_id = err.correlation_id,
                                .clock_offset_s = err.clock_offset_s};
        aad_refusal_sentence(&r, sentence, sizeof(sentence));
        aad_refusal_wrap(sentence, 78);
        if (sentence[0] != '\0')
            fprintf(stderr, "%s\n", sentence);
        fprintf(stderr, "aad-login: %s: %s\n", st == AAD_DENIED ? "refused" : aad_status_name(st),
                err.message);
    }
    aad_config_free(cfg);
    return exit_of(st);
}
