/* aad_certcheck.c - an SSH certificate carrying an ID token, checked as a
 * login checks the token, plus what binds the token to the key.
 * Where it runs: in pam_aad_sshkeys (and the tests), never in the caller
 * of PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_certcheck.h"
#include "aad_admit.h"
#include "aad_http.h"
#include "aad_idtoken.h"
#include "aad_json.h"
#include "aad_jwt.h"
#include "aad_trust.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <openssl/crypto.h>

/* What can be decided before any network exchange. */
static enum aad_status check_offline(const struct aad_config *cfg, const struct aad_sshcert *cert,
                                     long long now, struct aad_error *err)
{
    if (cfg->group_map != NULL)
        return aad_fail_as(err, AAD_FAILURE_BAD_CONFIG,
                           "group_map is set, and certificate logins cannot apply it (nothing of "
                           "pam_aad runs as root for them): certificate logins are refused");
    if (cert->id_token == NULL || !cert->has_salt)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the certificate carries no ID token or no salt");
    /* Signed by its own key: the key the token's nonce names is the key
     * whose possession sshd then checks. */
    if (CRYPTO_memcmp(cert->signer, cert->key, AAD_SSH_ED25519_BYTES) != 0)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the certificate is signed by another key than its own");
    if ((unsigned long long)now + (unsigned long long)cfg->clock_skew < cert->valid_after ||
        (unsigned long long)now >= cert->valid_before)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the certificate is not valid now (valid from %llu to %llu, now %lld)",
                           (unsigned long long)cert->valid_after,
                           (unsigned long long)cert->valid_before, now);
    return AAD_OK;
}

/* The token is bound to this key, fresh, and named in the certificate. */
static enum aad_status check_binding(const struct aad_config *cfg, const struct aad_sshcert *cert,
                                     const struct aad_jwt *jwt, long long now,
                                     struct aad_error *err)
{
    char expected[AAD_SSH_NONCE_CHARS + 1];
    const char *nonce = aad_json_string(jwt->claims, "nonce");
    if (aad_sshcert_nonce(cert->key, cert->salt, expected) != 0)
        return aad_fail(err, AAD_UNAVAILABLE, "cannot compute the nonce");
    if (nonce == NULL || strlen(nonce) != AAD_SSH_NONCE_CHARS ||
        CRYPTO_memcmp(nonce, expected, AAD_SSH_NONCE_CHARS) != 0)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the token's nonce does not commit to the certificate's key and salt");
    long long iat = 0;
    (void)aad_json_integer(jwt->claims, "iat", &iat); /* checked by the verification */
    if (now - iat > cfg->cert_max_age)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the token was issued %lld s ago, more than cert_max_age (%ld s): sign "
                           "in again",
                           now - iat, cfg->cert_max_age);
    const char *oid = aad_json_string(jwt->claims, "oid");
    const char *upn = aad_json_string(jwt->claims, "preferred_username");
    const char *name = upn != NULL ? upn : oid;
    if (strcmp(cert->key_id, name) != 0)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the certificate's key ID '%.64s' is not the token's %s",
                           cert->key_id, upn != NULL ? "preferred_username" : "oid");
    if (cert->nprincipals != 1 || strcasecmp(cert->principals[0], oid) != 0)
        return aad_fail_as(err, AAD_FAILURE_BAD_TOKEN,
                           "the certificate's principal is not the token's oid alone");
    return AAD_OK;
}

enum aad_status aad_cert_check(const struct aad_config *cfg, const struct aad_account *account,
                               const struct aad_sshcert *cert, long long now,
                               const struct aad_log *log, struct aad_identity *id,
                               struct aad_error *err)
{
    memset(id, 0, sizeof(*id));
    enum aad_status st = aad_account_check(cfg, account, err);
    if (st == AAD_OK)
        st = check_offline(cfg, cert, now, err);
    if (st != AAD_OK)
        return st;

    struct aad_http *http = NULL;
    struct aad_trust *trust = NULL;
    struct aad_jwt *jwt = NULL;
    struct aad_http_options opts = {.ca_file = cfg->ca_file, .files = &cfg->preread,
                                    .proxy = cfg->proxy, .timeout_s = cfg->http_timeout};
    st = aad_http_new(&opts, &http, err);
    if (st == AAD_OK)
        st = aad_trust_load(cfg, http, log, &trust, err);
    if (st == AAD_OK) {
        if (!trust->from_cache)
            aad_log(log, LOG_DEBUG, "the signing keys were fetched, not read from cache_dir");
        st = aad_id_token_verify(cfg, trust, http, log, cert->id_token, &jwt, err);
    }
    if (st == AAD_OK && (st = check_binding(cfg, cert, jwt, now, err)) != AAD_OK) {
        /* Whose token it was, for the log line. */
        const char *upn = aad_json_string(jwt->claims, cfg->user_claim);
        const char *oid = aad_json_string(jwt->claims, "oid");
        id->upn = upn ? strndup(upn, 256) : NULL;
        id->oid = oid ? strndup(oid, 64) : NULL;
    }
    /* No access token: groups overage is resolved as the application. */
    if (st == AAD_OK)
        st = aad_admit(cfg, account, http, log, jwt, NULL, id, err);
    aad_jwt_free(jwt);
    aad_trust_free(trust);
    aad_http_free(http);
    return st;
}
