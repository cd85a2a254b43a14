/* aad_assertion.c - client-credentials token with a certificate.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_assertion.h"
#include "aad_entra_error.h"
#include "aad_json.h"
#include "aad_safefile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define ASSERTION_LIFETIME 600 /* seconds, as MSAL */

/* OpenSSL's passphrase callback: there is no one to ask (a prompt on
 * /dev/tty would be outside the conversation, with no timeout). */
static int refuse_passphrase(char *buf, int size, int rwflag, void *asked)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(int *)asked = 1;
    return -1;
}

/* The private key: like the config, plus no access for group or others,
 * checked on the descriptor that is read (a path could be swapped); read
 * ahead by the helper while it was root. */
static enum aad_status load_private_key(const struct aad_config *cfg, EVP_PKEY **out,
                                        struct aad_error *err)
{
    const char *path = cfg->client_key;
    char *pem = NULL;
    size_t len = 0;
    enum aad_status st =
        aad_safefile_read_via(&cfg->preread, path, AAD_CREDENTIAL_MAX_BYTES, 1, &pem, &len, err);
    if (st != AAD_OK)
        return st;
    int asked = 0;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    *out = bio ? PEM_read_bio_PrivateKey(bio, NULL, refuse_passphrase, &asked) : NULL;
    BIO_free(bio);
    aad_wipe(pem, len);
    free(pem);
    if (asked) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s: refused: the private key is encrypted (no passphrase can be asked "
                        "for); store it unencrypted, readable by root only",
                        path);
    }
    if (*out == NULL || EVP_PKEY_get_base_id(*out) != EVP_PKEY_RSA || EVP_PKEY_get_bits(*out) < 2048) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: not an RSA private key of 2048 bits or more", path);
    }
    return AAD_OK;
}

/* base64url SHA-256 of the certificate's DER: the "x5t#S256" header. */
static enum aad_status certificate_thumbprint(const struct aad_config *cfg, char **out,
                                             struct aad_error *err)
{
    const char *path = cfg->client_certificate;
    char *pem = NULL;
    size_t len = 0;
    enum aad_status st =
        aad_safefile_read_via(&cfg->preread, path, AAD_CREDENTIAL_MAX_BYTES, 0, &pem, &len, err);
    if (st != AAD_OK)
        return st;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(pem);
    unsigned char digest[32];
    unsigned int dlen = 0;
    if (cert == NULL || X509_digest(cert, EVP_sha256(), digest, &dlen) != 1) {
        X509_free(cert);
        return aad_fail(err, AAD_CONFIG_ERROR, "%s: not a PEM X.509 certificate", path);
    }
    X509_free(cert);
    *out = aad_base64url_encode(digest, dlen);
    return *out ? AAD_OK : aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
}

static char *encode_json(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    char *encoded = text ? aad_base64url_encode((const unsigned char *)text, strlen(text)) : NULL;
    free(text);
    return encoded;
}

static char *random_guid(void)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return NULL;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    char *s = malloc(37);
    if (s != NULL)
        snprintf(s, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
    return s;
}

/* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt of the digest length: PS256. */
static char *sign_ps256(EVP_PKEY *key, const char *input)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t sig_len = 0;
    unsigned char *sig = NULL;
    char *encoded = NULL;
    if (md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
        EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)input, strlen(input)) == 1 &&
        (sig = malloc(sig_len)) != NULL &&
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, strlen(input)) == 1)
        encoded = aad_base64url_encode(sig, sig_len);
    free(sig);
    EVP_MD_CTX_free(md);
    return encoded;
}

enum aad_status aad_assertion_build(const struct aad_config *cfg, const char *audience,
                                    long long now, char **out, struct aad_error *err)
{
    EVP_PKEY *key = NULL;
    char *x5t = NULL, *jti = NULL, *header = NULL, *payload = NULL, *signature = NULL;
    *out = NULL;
    enum aad_status st = certificate_thumbprint(cfg, &x5t, err);
    if (st == AAD_OK)
        st = load_private_key(cfg, &key, err);
    if (st == AAD_OK && (jti = random_guid()) == NULL)
        st = aad_fail(err, AAD_CONFIG_ERROR, "no randomness for the assertion's jti");
    if (st == AAD_OK) {
        json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "PS256", "typ", "JWT", "x5t#S256", x5t);
        json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", audience, "iss",
                              cfg->client_id, "sub", cfg->client_id, "jti", jti, "nbf",
                              (json_int_t)now, "iat", (json_int_t)now, "exp",
                              (json_int_t)(now + ASSERTION_LIFETIME));
        header = h ? encode_json(h) : NULL;
        payload = c ? encode_json(c) : NULL;
        json_decref(h);
        json_decref(c);
    }
    if (st == AAD_OK && header && payload) {
        size_t n = strlen(header) + strlen(payload) + 2;
        char *input = malloc(n);
        if (input != NULL) {
            snprintf(input, n, "%s.%s", header, payload);
            signature = sign_ps256(key, input);
            if (signature != NULL) {
                size_t total = n + strlen(signature) + 1;
                if ((*out = malloc(total)) != NULL)
                    snprintf(*out, total, "%s.%s", input, signature);
            }
            free(input);
        }
        if (signature == NULL || *out == NULL)
            st = aad_fail(err, AAD_CONFIG_ERROR, "the client assertion cannot be signed with %s",
                          cfg->client_key);
    } else if (st == AAD_OK) {
        st = aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    }
    free(x5t);
    free(jti);
    free(header);
    free(payload);
    free(signature);
    EVP_PKEY_free(key);
    return st;
}

/* A refusal of the token endpoint, by kind: the service failing (429,
 * 5xx, temporarily_unavailable, server_error, no error at all) is
 * unavailable; any other is Entra's word, classified as every Entra error
 * is (aad_entra_error: a certificate it does not know is this host's
 * registration being wrong). */
static enum aad_status refusal(long status, const json_t *body, const char *what,
                               struct aad_error *err)
{
    struct aad_entra_error e;
    aad_entra_error_read(body, &e);
    if (status == 429 || status >= 500 || e.error[0] == '\0' ||
        strcmp(e.error, "temporarily_unavailable") == 0 || strcmp(e.error, "server_error") == 0)
        return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                           "no application token for %s: the token endpoint answered HTTP %ld: %s",
                           what, status, e.description);
    char request[320];
    snprintf(request, sizeof(request), "no application token for %s", what);
    return aad_entra_error_fail(&e, request, err);
}

static void wipe_access_token(json_t *body)
{
    json_t *v = json_object_get(body, "access_token");
    if (json_is_string(v))
        aad_wipe((char *)json_string_value(v), json_string_length(v));
}

void aad_app_token_clear(struct aad_app_token *t)
{
    aad_free_secret(t->access_token);
    t->access_token = NULL;
    t->expires_in = 0;
    t->retry_after = -1;
}

enum aad_status aad_assertion_request(const struct aad_config *cfg, struct aad_http *http,
                                      const char *scope, const char *what,
                                      struct aad_app_token *out, struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    out->retry_after = -1;
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", cfg->authority, cfg->tenant);
    char *assertion = NULL;
    enum aad_status st = aad_assertion_build(cfg, url, (long long)time(NULL), &assertion, err);
    if (st != AAD_OK)
        return st;
    char *scope_q = aad_http_escape(http, scope);
    char *client_q = aad_http_escape(http, cfg->client_id);
    size_t n = strlen(assertion) + 512 + (scope_q ? strlen(scope_q) : 0);
    char *form = scope_q && client_q ? malloc(n) : NULL;
    if (form != NULL)
        snprintf(form, n,
                 "grant_type=client_credentials&client_id=%s&scope=%s"
                 "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer"
                 "&client_assertion=%s",
                 client_q, scope_q, assertion);
    free(scope_q);
    free(client_q);
    aad_free_secret(assertion);
    if (form == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");

    struct aad_http_response resp;
    struct aad_error net = {0};
    st = aad_http_post_form(http, url, form, &resp, &net);
    aad_free_secret(form);
    if (st != AAD_OK)
        return aad_fail(err, AAD_UNAVAILABLE, "no application token for %s: %s", what, net.message);
    json_t *body = resp.is_json ? aad_json_parse_object(resp.body, resp.len, AAD_HTTP_MAX_BODY) : NULL;
    long status = resp.status;
    if (status == 429 || status >= 500)
        out->retry_after = resp.retry_after;
    aad_http_response_clear(&resp);
    const char *access = aad_json_string(body, "access_token");
    long long expires_in = 0;
    if (status != 200) {
        st = refusal(status, body, what, err);
    } else if (access == NULL || !aad_is_printable_token(access, 64 * 1024)) {
        st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                         "no application token for %s: the answer has no usable access_token",
                         what);
    } else if ((out->access_token = strdup(access)) == NULL) {
        st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    } else if (aad_json_integer(body, "expires_in", &expires_in) == 1 && expires_in > 0) {
        out->expires_in = expires_in > 24 * 3600 ? 24 * 3600 : (long)expires_in;
    }
    wipe_access_token(body);
    json_decref(body);
    return st;
}

enum aad_status aad_assertion_app_token(const struct aad_config *cfg, struct aad_http *http,
                                        char **token, struct aad_error *err)
{
    char scope[600];
    snprintf(scope, sizeof(scope), "%s/.default", cfg->graph_endpoint);
    struct aad_app_token t;
    enum aad_status st = aad_assertion_request(cfg, http, scope, "Microsoft Graph", &t, err);
    /* The caller decides authorization: whatever Entra or the network
     * said, no token means no access (a key file of ours stays a
     * configuration error). */
    if (st != AAD_OK && err != NULL && err->kind != AAD_FAILURE_BAD_CONFIG) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        st = aad_fail(err, AAD_DENIED, "%s", why);
    }
    *token = t.access_token;
    return st;
}
