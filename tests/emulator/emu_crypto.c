/*
 * Keys, certificates and JWS signatures for the emulator (OpenSSL 3 EVP only).
 */
#include "emulator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

/* A test server without randomness must not limp on with predictable codes. */
void random_bytes(unsigned char *buf, size_t len)
{
    if (RAND_bytes(buf, (int)len) != 1) {
        fprintf(stderr, "aad-emulator: RAND_bytes failed\n");
        abort();
    }
}

void random_guid(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *b64_encode(const unsigned char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

char *b64url_encode(const unsigned char *data, size_t len)
{
    char *s = b64_encode(data, len);
    if (!s)
        return NULL;
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '=')
            break;
        *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
    }
    *w = '\0';
    return s;
}

char *random_b64url(size_t nbytes)
{
    unsigned char buf[512];
    if (nbytes > sizeof buf)
        nbytes = sizeof buf;
    random_bytes(buf, nbytes);
    return b64url_encode(buf, nbytes);
}

void sha256_b64url(const char *text, char out[64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1)
        return;
    char *s = b64url_encode(md, mdlen);
    if (s) {
        snprintf(out, 64, "%s", s);
        free(s);
    }
}

static char *bio_to_string(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_X509(b, x) == 1)
        s = bio_to_string(b);
    BIO_free(b);
    return s;
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
        s = bio_to_string(b);
    BIO_free(b);
    return s;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok == 1 ? 0 : -1;
}

/* Builds a v3 certificate for pub, signed by signer_key. issuer == NULL
 * means self-signed. exts is a NULL-terminated list of (nid, value) pairs. */
static X509 *make_cert(EVP_PKEY *pub, const char *cn, X509 *issuer,
                       EVP_PKEY *signer_key, long days, const int *nids,
                       const char *const *values)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    unsigned char serial[8];
    random_bytes(serial, sizeof serial);
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    int ok = bn && X509_set_version(x, 2) == 1 &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
             X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) != NULL &&
             X509_set_pubkey(x, pub) == 1;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(x);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          (const unsigned char *)cn, -1, -1,
                                          0) == 1;
    ok = ok && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                              : name) == 1;
    for (size_t i = 0; ok && nids[i]; i++)
        ok = add_ext(x, issuer ? issuer : x, nids[i], values[i]) == 0;
    ok = ok && X509_sign(x, signer_key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Throw-away CA + server certificate for 127.0.0.1/localhost. ECDSA P-256
 * keeps start-up fast; only the token-signing key has to be RSA. */
int crypto_make_tls(struct emulator *emu)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    EVP_PKEY *srv_key = EVP_EC_gen("P-256");
    X509 *ca = NULL, *srv = NULL;
    int rc = -1;
    if (!ca_key || !srv_key)
        goto out;

    static const int ca_nids[] = {NID_basic_constraints, NID_key_usage,
                                  NID_subject_key_identifier, 0};
    static const char *const ca_vals[] = {"critical,CA:TRUE",
                                          "critical,keyCertSign,cRLSign",
                                          "hash", NULL};
    ca = make_cert(ca_key, "aad-emulator throw-away test CA", NULL, ca_key, 7,
                   ca_nids, ca_vals);
    if (!ca)
        goto out;

    static const int srv_nids[] = {
        NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
        NID_subject_alt_name, NID_subject_key_identifier,
        NID_authority_key_identifier, 0};
    static const char *const srv_vals[] = {
        "critical,CA:FALSE", "critical,digitalSignature",
        "serverAuth", "IP:127.0.0.1,DNS:localhost", "hash",
        "keyid:always", NULL};
    /* --tls-cert: hostile variants for TLS tests (same CA, so only the
     * property under test is wrong). */
    const char *mode = emu->cfg.tls_cert ? emu->cfg.tls_cert : "good";
    static const char *const other_vals[] = {
        "critical,CA:FALSE", "critical,digitalSignature",
        "serverAuth", "DNS:evil.example", "hash",
        "keyid:always", NULL};
    bool wrong_name = !strcmp(mode, "wrong-name");
    srv = make_cert(srv_key, wrong_name ? "evil.example" : "localhost", ca,
                    ca_key, 7, srv_nids, wrong_name ? other_vals : srv_vals);
    if (!srv)
        goto out;
    if (!strcmp(mode, "expired") &&
        (X509_gmtime_adj(X509_getm_notBefore(srv), -30L * 86400) == NULL ||
         X509_gmtime_adj(X509_getm_notAfter(srv), -86400L) == NULL ||
         X509_sign(srv, ca_key, EVP_sha256()) <= 0))
        goto out;

    emu->ca_pem = cert_pem(ca);
    emu->server_cert_pem = cert_pem(srv);
    emu->server_key_pem = key_pem(srv_key);
    if (emu->ca_pem && emu->server_cert_pem && emu->server_key_pem)
        rc = 0;
out:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    X509_free(ca);
    X509_free(srv);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    return rc;
}

/* RSA-2048 key with a self-signed certificate; kid = x5t = b64url(SHA-1). */
int crypto_make_signing_key(struct signing_key *k)
{
    memset(k, 0, sizeof *k);
    k->pkey = EVP_RSA_gen(2048);
    if (!k->pkey)
        return -1;
    static const int nids[] = {NID_basic_constraints, 0};
    static const char *const vals[] = {"CA:FALSE", NULL};
    k->cert = make_cert(k->pkey, "accounts.accesscontrol.windows.net", NULL,
                        k->pkey, 365, nids, vals);
    if (!k->cert)
        goto fail;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(k->cert, EVP_sha1(), md, &mdlen) != 1)
        goto fail;
    char *kid = b64url_encode(md, mdlen);
    if (!kid)
        goto fail;
    snprintf(k->kid, sizeof k->kid, "%s", kid);
    free(kid);
    return 0;
fail:
    crypto_free_key(k);
    return -1;
}

void crypto_free_key(struct signing_key *k)
{
    EVP_PKEY_free(k->pkey);
    X509_free(k->cert);
    memset(k, 0, sizeof *k);
}

static char *bn_param_b64url(EVP_PKEY *pkey, const char *param)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        return NULL;
    int n = BN_num_bytes(bn);
    unsigned char *buf = malloc((size_t)n + 1);
    char *s = NULL;
    if (buf) {
        BN_bn2bin(bn, buf);
        s = b64url_encode(buf, (size_t)n);
        free(buf);
    }
    BN_free(bn);
    return s;
}

/* One key object exactly as Entra publishes it (protocol.md §5). */
json_t *crypto_jwk(const struct signing_key *k, const char *issuer)
{
    char *n = bn_param_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_E);
    unsigned char *der = NULL;
    int derlen = i2d_X509(k->cert, &der);
    char *x5c = derlen > 0 ? b64_encode(der, (size_t)derlen) : NULL;
    OPENSSL_free(der);
    json_t *jwk = NULL;
    if (n && e && x5c) {
        jwk = json_object();
        json_object_set_new(jwk, "kty", json_string("RSA"));
        json_object_set_new(jwk, "use", json_string("sig"));
        json_object_set_new(jwk, "kid", json_string(k->kid));
        json_object_set_new(jwk, "x5t", json_string(k->kid));
        json_object_set_new(jwk, "n", json_string(n));
        json_object_set_new(jwk, "e", json_string(e));
        json_t *arr = json_array();
        json_array_append_new(arr, json_string(x5c));
        json_object_set_new(jwk, "x5c", arr);
        if (issuer)
            json_object_set_new(jwk, "issuer", json_string(issuer));
    }
    free(n);
    free(e);
    free(x5c);
    return jwk;
}

static const EVP_MD *alg_md(const char *alg)
{
    const char *bits = alg + 2;
    if (!strcmp(bits, "384"))
        return EVP_sha384();
    if (!strcmp(bits, "512"))
        return EVP_sha512();
    return EVP_sha256();
}

static unsigned char *sign_rsa(EVP_PKEY *pkey, const char *alg,
                               const char *input, size_t *siglen)
{
    bool pss = alg[0] == 'P';
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    if (!md || EVP_DigestSignInit(md, &pctx, alg_md(alg), NULL, pkey) != 1)
        goto out;
    if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        goto out;
    if (EVP_DigestSign(md, NULL, siglen, (const unsigned char *)input,
                       strlen(input)) != 1)
        goto out;
    sig = malloc(*siglen);
    if (sig && EVP_DigestSign(md, sig, siglen, (const unsigned char *)input,
                              strlen(input)) != 1) {
        free(sig);
        sig = NULL;
    }
out:
    EVP_MD_CTX_free(md);
    return sig;
}

/* The classic alg-confusion forgery: HMAC keyed with the public key PEM. */
static unsigned char *sign_hmac(EVP_PKEY *pkey, const char *alg,
                                const char *input, size_t *siglen)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    if (b && PEM_write_bio_PUBKEY(b, pkey) == 1)
        pem = bio_to_string(b);
    BIO_free(b);
    if (!pem)
        return NULL;
    const char *digest = !strcmp(alg + 2, "384")   ? "SHA384"
                         : !strcmp(alg + 2, "512") ? "SHA512"
                                                   : "SHA256";
    unsigned char *sig = malloc(EVP_MAX_MD_SIZE);
    if (sig && !EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, pem, strlen(pem),
                          (const unsigned char *)input, strlen(input), sig,
                          EVP_MAX_MD_SIZE, siglen)) {
        free(sig);
        sig = NULL;
    }
    free(pem);
    return sig;
}

char *crypto_sign_jws(const struct signing_key *k, const char *alg,
                      const char *header_json, const char *payload_json,
                      bool empty_signature)
{
    char *h = b64url_encode((const unsigned char *)header_json,
                            strlen(header_json));
    char *p = b64url_encode((const unsigned char *)payload_json,
                            strlen(payload_json));
    char *out = NULL, *input = NULL, *s = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    if (!h || !p)
        goto out;
    size_t inlen = strlen(h) + 1 + strlen(p);
    input = malloc(inlen + 1);
    if (!input)
        goto out;
    snprintf(input, inlen + 1, "%s.%s", h, p);

    if (!alg)
        alg = "RS256";
    bool known_len = strlen(alg) == 5 && (!strcmp(alg + 2, "256") ||
                                          !strcmp(alg + 2, "384") ||
                                          !strcmp(alg + 2, "512"));
    if (empty_signature || !strcmp(alg, "none")) {
        s = strdup("");
    } else if (known_len && alg[0] == 'H' && alg[1] == 'S') {
        sig = sign_hmac(k->pkey, alg, input, &siglen);
    } else if (known_len && (alg[0] == 'R' || alg[0] == 'P') && alg[1] == 'S') {
        sig = sign_rsa(k->pkey, alg, input, &siglen);
    } else {
        /* Unknown alg in the header: still sign RS256 so only alg differs. */
        sig = sign_rsa(k->pkey, "RS256", input, &siglen);
    }
    if (sig)
        s = b64url_encode(sig, siglen);
    if (!s)
        goto out;
    out = malloc(inlen + 2 + strlen(s));
    if (out)
        sprintf(out, "%s.%s", input, s);
out:
    free(h);
    free(p);
    free(input);
    free(sig);
    free(s);
    return out;
}
