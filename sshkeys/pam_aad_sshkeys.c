/* pam_aad_sshkeys - sshd's AuthorizedKeysCommand for SSH certificates that
 * carry an Entra ID token (doc/admin-guide.md, "When your tenant blocks the
 * device code"):
 *
 *   AuthorizedKeysCommand /usr/libexec/pam_aad/pam_aad_sshkeys %u %t %k
 *   AuthorizedKeysCommandUser _pam_aad
 *
 * Arguments: any `config=PATH` and `key=value` settings (as pam_aad.so's),
 * then the account, the offered key's type and its base64 blob. For a
 * certificate that passes every check of aad_certcheck.h it prints the one
 * authorized_keys line that lets sshd accept exactly that certificate for
 * that account (its own key as the certificate authority, its principal),
 * and nothing otherwise. Keys of other kinds are not its business: no
 * output, no log line above debug. Each certificate leaves one log line
 * (LOG_AUTHPRIV) with the verdict and the reason, never the token.
 *
 * Exit: 0 when it answered (accepted or refused), 1 for a configuration
 * error, 3 when the service or its keys cannot be reached, 2 for usage.
 * The whole run is bounded (alarm) so that sshd never waits on it for long.
 *
 * Where it runs: in pam_aad_sshkeys, executed by sshd as an unprivileged
 * AuthorizedKeysCommandUser (_pam_aad), before any authentication of the
 * client; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "aad_account.h"
#include "aad_certcheck.h"
#include "aad_config.h"
#include "aad_login.h"
#include "aad_sshcert.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif

/* Before the configuration is read; then a few exchanges' worth. */
#define STARTUP_BOUND_S 30
#define EXCHANGES_BOUND 5
#define MAX_SETTINGS 32
#define TYPE_MAX 64

enum keys_exit { KEYS_ANSWERED = 0, KEYS_CONFIG = 1, KEYS_USAGE = 2, KEYS_UNAVAILABLE = 3 };

static void log_syslog(void *ctx, int priority, const char *message)
{
    (void)ctx;
    syslog(priority, "%s", message);
}

static int exit_of(enum aad_status st)
{
    switch (st) {
    case AAD_CONFIG_ERROR: return KEYS_CONFIG;
    case AAD_UNAVAILABLE: return KEYS_UNAVAILABLE;
    default: return KEYS_ANSWERED;
    }
}

static int answer(const struct aad_config *cfg, const char *user, const struct aad_sshcert *cert)
{
    struct aad_log log = {log_syslog, NULL, cfg->debug};
    struct aad_account account;
    struct aad_identity id = {0};
    struct aad_error err = {0};
    char fp[64];
    aad_ssh_fingerprint(cert->key, fp, sizeof(fp));
    enum aad_status st = aad_account_lookup(cfg, user, &account, &err);
    if (st == AAD_OK)
        st = aad_cert_check(cfg, &account, cert, (long long)time(NULL), &log, &id, &err);
    char *key_line = st == AAD_OK ? aad_ssh_public_line(cert->key) : NULL;
    /* The account came from the client, the names from the token. */
    char who[AAD_ACCOUNT_NAME_MAX + 1], upn[257], oid[64];
    aad_loggable(user, who, sizeof(who));
    aad_loggable(id.upn, upn, sizeof(upn));
    aad_loggable(id.oid, oid, sizeof(oid));
    if (st == AAD_OK && key_line != NULL) {
        /* The certificate is its own authority; its one principal is the oid. */
        printf("cert-authority,principals=\"%s\" %s\n", cert->principals[0], key_line);
        fflush(stdout);
        syslog(LOG_INFO, "accepted certificate for %s: upn=%s oid=%s key %s", who,
               id.upn ? upn : "-", id.oid ? oid : "-", fp);
    } else {
        if (st == AAD_OK)
            st = aad_fail(&err, AAD_UNAVAILABLE, "out of memory");
        syslog(st == AAD_DENIED ? LOG_NOTICE : LOG_ERR,
               "refused certificate for %s (upn=%s oid=%s key %s): %s [%s]", who,
               id.upn ? upn : "-", id.oid ? oid : "-", fp, err.message,
               aad_failure_name(err.kind));
    }
    free(key_line);
    aad_identity_clear(&id);
    return exit_of(st);
}

int main(int argc, char **argv)
{
    alarm(STARTUP_BOUND_S);
    umask(077);
    /* Nothing of whoever started it decides what it trusts (OPENSSL_CONF,
     * SSL_CERT_FILE, ...): sshd gives it a small environment, a person
     * trying it by hand may not. */
    clearenv();
    /* stderr too: sshd discards it, an administrator trying by hand sees it. */
    openlog("pam_aad_sshkeys", LOG_PID | LOG_PERROR, LOG_AUTHPRIV);
    if (argc < 4 || argc - 4 > MAX_SETTINGS) {
        fprintf(stderr, "Usage: pam_aad_sshkeys [config=PATH] [key=value]... USER TYPE KEY\n"
                        "(sshd_config: AuthorizedKeysCommand %s %%u %%t %%k)\n",
                argv[0]);
        return KEYS_USAGE;
    }
    const char *user = argv[argc - 3], *type = argv[argc - 2], *key = argv[argc - 1];
    if (strnlen(type, TYPE_MAX + 1) > TYPE_MAX || strcmp(type, AAD_SSHCERT_TYPE) != 0)
        return KEYS_ANSWERED; /* a plain key or another kind of certificate */

    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    enum aad_status st =
        aad_config_load(AAD_DEFAULT_CONFIG, argc - 4, (const char **)argv + 1, &cfg, &err);
    char who[AAD_ACCOUNT_NAME_MAX + 1];
    aad_loggable(user, who, sizeof(who));
    if (st != AAD_OK) {
        syslog(LOG_ERR, "refused certificate for %s: %s [%s]", who, err.message,
               aad_failure_name(err.kind));
        return exit_of(st);
    }
    alarm((unsigned)(EXCHANGES_BOUND * cfg->http_timeout + 5));
    struct aad_sshcert cert;
    st = aad_sshcert_parse_base64(key, &cert, &err);
    int rc;
    if (st != AAD_OK) {
        syslog(LOG_NOTICE, "refused certificate for %s: %s [%s]", who, err.message,
               aad_failure_name(AAD_FAILURE_BAD_TOKEN));
        rc = KEYS_ANSWERED;
    } else if (cert.id_token == NULL) {
        if (cfg->debug)
            syslog(LOG_DEBUG, "certificate for %s carries no Entra ID token: not ours", who);
        rc = KEYS_ANSWERED;
    } else {
        rc = answer(cfg, user, &cert);
    }
    aad_sshcert_clear(&cert);
    aad_config_free(cfg);
    closelog();
    return rc;
}
