/*
 * Client credentials for the emulator: the application's registered
 * certificate, verification of client assertions as Entra does it
 * (protocol.md §8), replay detection by jti, and the table of access tokens
 * that the emulator's Graph (emu_graph.c) accepts.
 */
#include "emulator.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define GRAPH_RESOURCE "https://graph.microsoft.com"
#define CERT_DOC "https://docs.microsoft.com/en-us/azure/active-directory/" \
                 "develop/active-directory-certificate-credentials"

/* ------------------------------------------------------------- base64 */

/* Decodes base64 or base64url (both alphabets, padding optional). With
 * url_only, only the unpadded base64url form of a JWS segment is accepted. */
unsigned char *b64_decode_any(const char *s, size_t len, bool url_only,
                              size_t *outlen)
{
    unsigned char *out = malloc(len * 3 / 4 + 4);
    if (!out)
        return NULL;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i], v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '-' || (!url_only && ch == '+'))
            v = 62;
        else if (ch == '_' || (!url_only && ch == '/'))
            v = 63;
        else if (ch == '=' && !url_only) {
            for (size_t j = i; j < len; j++)
                if (s[j] != '=')
                    goto bad;
            break;
        } else
            goto bad;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    if (bits >= 6) /* a lone trailing character carries no byte */
        goto bad;
    *outlen = o;
    return out;
bad:
    free(out);
    return NULL;
}

/* ------------------------------------------------- registered certificate */

int client_cert_set_pem(struct emulator *emu, const char *pem, char *err,
                        size_t errlen)
{
    X509 *x = NULL;
    unsigned char s1[20], s256[32];
    if (pem) {
        BIO *b = BIO_new_mem_buf(pem, -1);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!x) {
            snprintf(err, errlen, "not a PEM X.509 certificate");
            return -1;
        }
        EVP_PKEY *pub = X509_get0_pubkey(x);
        if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
            snprintf(err, errlen, "the certificate's key must be RSA");
            X509_free(x);
            return -1;
        }
        unsigned int n1 = 0, n2 = 0;
        if (X509_digest(x, EVP_sha1(), s1, &n1) != 1 || n1 != 20 ||
            X509_digest(x, EVP_sha256(), s256, &n2) != 1 || n2 != 32) {
            snprintf(err, errlen, "cannot hash the certificate");
            X509_free(x);
            return -1;
        }
    }
    pthread_mutex_lock(&emu->lock);
    X509_free(emu->client_cert);
    emu->client_cert = x;
    if (x) {
        memcpy(emu->client_sha1, s1, sizeof s1);
        memcpy(emu->client_sha256, s256, sizeof s256);
    }
    pthread_mutex_unlock(&emu->lock);
    return 0;
}

int client_cert_load_file(struct emulator *emu, const char *path, char *err,
                          size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char *buf = malloc(EMU_MAX_BODY + 1);
    size_t n = buf ? fread(buf, 1, EMU_MAX_BODY, f) : 0;
    fclose(f);
    if (!buf)
        return -1;
    buf[n] = '\0';
    int rc = client_cert_set_pem(emu, buf, err, errlen);
    free(buf);
    return rc;
}

/* Adds "client_cert": {"x5t","x5t#S256","subject"} or null. Lock held. */
void client_cert_info(struct emulator *emu, json_t *into)
{
    if (!emu->client_cert) {
        json_object_set_new(into, "client_cert", json_null());
        return;
    }
    char *t1 = b64url_encode(emu->client_sha1, sizeof emu->client_sha1);
    char *t256 = b64url_encode(emu->client_sha256, sizeof emu->client_sha256);
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(emu->client_cert), subject,
                      sizeof subject);
    json_object_set_new(into, "client_cert",
                        json_pack("{s:s,s:s,s:s}", "x5t", t1 ? t1 : "",
                                  "x5t#S256", t256 ? t256 : "", "subject",
                                  subject));
    free(t1);
    free(t256);
}

/* ------------------------------------------------------------ assertion */

int cc_error_set(struct cc_error *e, unsigned status, const char *error, long code,
                 const char *fmt, ...)
{
    e->status = status;
    e->error = error;
    e->code = code;
    e->suberror = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    return -1;
}

/* Every refusal of an assertion is a 401 invalid_client. */
#define fail(e, code, ...) cc_error_set(e, 401, "invalid_client", code, __VA_ARGS__)

json_t *segment_json(const char *s, size_t len)
{
    size_t n = 0;
    unsigned char *raw = b64_decode_any(s, len, true, &n);
    if (!raw)
        return NULL;
    json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void iso_time(time_t t, char out[40])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S.0000000Z", &tm);
}

/* The header's thumbprint matches the registered certificate? */
static bool thumb_matches(const char *value, const unsigned char *digest,
                          size_t dlen)
{
    size_t n = 0;
    unsigned char *raw = b64_decode_any(value, strlen(value), false, &n);
    bool ok = raw && n == dlen && !memcmp(raw, digest, dlen);
    free(raw);
    return ok;
}

static bool aud_ok(const struct emulator *emu, const json_t *aud)
{
    const char *s = json_string_value(aud);
    if (!s) {
        /* RFC 7519 allows an array; a single matching member is enough. */
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) {
            if (json_is_string(v) && aud_ok(emu, v))
                return true;
        }
        return false;
    }
    size_t alen = strlen(emu->authority);
    if (strncmp(s, emu->authority, alen) || s[alen] != '/')
        return false;
    const char *t = s + alen + 1;
    const char *rest = strchr(t, '/');
    if (!rest || strcmp(rest, "/oauth2/v2.0/token"))
        return false;
    size_t tl = (size_t)(rest - t);
    return (tl == strlen(emu->cfg.tenant) && !strncasecmp(t, emu->cfg.tenant, tl)) ||
           (tl == strlen(emu->cfg.domain) && !strncasecmp(t, emu->cfg.domain, tl));
}

bool verify_sig(EVP_PKEY *pub, bool pss, const char *input,
                size_t inlen, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pub) == 1;
    /* JWA (RFC 7518 §3.5): PSS salt length = hash length, MGF1 SHA-256. */
    if (ok && pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
    ok = ok && EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input,
                                inlen) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Remembers the jti until the assertion expires. Lock held. */
static bool jti_seen_or_record(struct emulator *emu, const char *hash, time_t exp,
                               time_t now)
{
    size_t w = 0;
    for (size_t i = 0; i < emu->njtis; i++) /* forget the expired ones */
        if (emu->jtis[i].exp >= now)
            emu->jtis[w++] = emu->jtis[i];
    emu->njtis = w;
    for (size_t i = 0; i < emu->njtis; i++)
        if (!strcmp(emu->jtis[i].hash, hash))
            return true;
    if (emu->njtis == EMU_MAX_JTIS) {
        memmove(&emu->jtis[0], &emu->jtis[1],
                (emu->njtis - 1) * sizeof emu->jtis[0]);
        emu->njtis--;
    }
    snprintf(emu->jtis[emu->njtis].hash, sizeof emu->jtis[0].hash, "%s", hash);
    emu->jtis[emu->njtis++].exp = exp;
    return false;
}

int assertion_verify(struct emulator *emu, const char *jwt,
                     const char *client_id, struct cc_error *e)
{
    int rc = -1;
    json_t *hdr = NULL, *cl = NULL;
    unsigned char *sig = NULL;
    EVP_PKEY *pub = NULL;
    const char *d1 = strchr(jwt, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.') ||
        !(hdr = segment_json(jwt, (size_t)(d1 - jwt))) ||
        !(cl = segment_json(d1 + 1, (size_t)(d2 - d1 - 1)))) {
        fail(e, 50027, "JWT token is invalid or malformed.");
        goto out;
    }

    /* Header: alg and the certificate thumbprint. */
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *t256 = json_string_value(json_object_get(hdr, "x5t#S256"));
    const char *t1 = json_string_value(json_object_get(hdr, "x5t"));
    if (!alg || (strcmp(alg, "PS256") && strcmp(alg, "RS256"))) {
        fail(e, 700027,
             "Client assertion failed signature validation. [Reason - The "
             "signature algorithm '%.32s' is not supported; use PS256 or "
             "RS256.]",
             alg ? alg : "");
        goto out;
    }
    pthread_mutex_lock(&emu->lock);
    bool known = emu->client_cert &&
                 ((t256 && thumb_matches(t256, emu->client_sha256, 32)) ||
                  (!t256 && t1 && thumb_matches(t1, emu->client_sha1, 20)));
    char start[40] = "", end[40] = "";
    if (known) {
        pub = X509_get_pubkey(emu->client_cert); /* a reference of our own */
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notBefore(emu->client_cert), &tm) == 1)
            iso_time(timegm(&tm), start);
        if (ASN1_TIME_to_tm(X509_get0_notAfter(emu->client_cert), &tm) == 1)
            iso_time(timegm(&tm), end);
    }
    pthread_mutex_unlock(&emu->lock);
    const char *thumb = t256 ? t256 : t1 ? t1 : "";
    if (!known || !pub) {
        fail(e, 700027,
             "The certificate with identifier used to sign the client "
             "assertion is not registered on application. [Reason - The key "
             "was not found., Thumbprint of key used by client: '%.96s', "
             "Please visit the Azure Portal, Graph Explorer or directly use MS "
             "Graph to see configured keys for app Id '%.64s'. Review the "
             "documentation at https://docs.microsoft.com/en-us/graph/"
             "deployments if you are not using the global endpoint.]",
             thumb, client_id);
        goto out;
    }

    /* Signature over "header.payload" with the registered certificate. */
    size_t siglen = 0;
    sig = b64_decode_any(d2 + 1, strlen(d2 + 1), true, &siglen);
    if (!sig || !siglen ||
        !verify_sig(pub, alg[0] == 'P', jwt, (size_t)(d2 - jwt), sig, siglen)) {
        fail(e, 700027,
             "Client assertion contains an invalid signature. [Reason - The "
             "provided signature value did not match the expected signature "
             "value., Thumbprint of key used by client: '%.96s', Found key "
             "'Start=%s, End=%s']",
             thumb, start, end);
        goto out;
    }

    /* Claims. */
    const char *iss = json_string_value(json_object_get(cl, "iss"));
    const char *sub = json_string_value(json_object_get(cl, "sub"));
    if (!iss || !sub || strcasecmp(iss, client_id) || strcasecmp(sub, client_id)) {
        fail(e, 700021,
             "Client assertion application identifier doesn't match "
             "'client_id' parameter. Review the documentation at %s .",
             CERT_DOC);
        goto out;
    }
    json_t *aud = json_object_get(cl, "aud");
    if (!aud || !aud_ok(emu, aud)) {
        fail(e, 700023,
             "Client assertion audience claim does not match Realm issuer. "
             "Review the documentation at %s .",
             CERT_DOC);
        goto out;
    }
    json_t *jexp = json_object_get(cl, "exp"), *jnbf = json_object_get(cl, "nbf");
    json_t *jiat = json_object_get(cl, "iat");
    const char *jti = json_string_value(json_object_get(cl, "jti"));
    if (!json_is_integer(jexp) || (jnbf && !json_is_integer(jnbf)) ||
        (jiat && !json_is_integer(jiat))) {
        fail(e, 50027, "JWT token is invalid or malformed. The 'exp', 'nbf' "
                       "and 'iat' claims must be integers; 'exp' is required.");
        goto out;
    }
    time_t now = time(NULL);
    time_t exp = (time_t)json_integer_value(jexp);
    time_t nbf = jnbf ? (time_t)json_integer_value(jnbf)
                      : jiat ? (time_t)json_integer_value(jiat) : now;
    if (exp <= now || nbf > now + 5 || exp - nbf > 3600) {
        char cur[40], from[40], until[40];
        iso_time(now, cur);
        iso_time(nbf, from);
        iso_time(exp, until);
        fail(e, 700024,
             "Client assertion is not within its valid time range. Current "
             "time: %s, assertion valid from %s, expiry time of assertion %s.%s "
             "Review the documentation at %s .",
             cur, from, until,
             exp - nbf > 3600 ? " The assertion lifetime exceeds 1 hour." : "",
             CERT_DOC);
        goto out;
    }
    if (!jti || !*jti) {
        fail(e, 50027, "JWT token is invalid or malformed. The client "
                       "assertion has no 'jti' claim.");
        goto out;
    }
    char seed[512], hash[64];
    snprintf(seed, sizeof seed, "%s|%.400s", client_id, jti);
    sha256_b64url(seed, hash);
    pthread_mutex_lock(&emu->lock);
    bool replay = jti_seen_or_record(emu, hash, exp, now);
    pthread_mutex_unlock(&emu->lock);
    if (replay) {
        fail(e, 50013,
             "Assertion is invalid. The client assertion with jti '%.80s' has "
             "already been used; a client assertion may be presented only "
             "once.",
             jti);
        goto out;
    }
    rc = 0;
out:
    json_decref(hdr);
    json_decref(cl);
    free(sig);
    EVP_PKEY_free(pub);
    return rc;
}

/* --------------------------------------------------------- access tokens */

void tokens_add(struct emulator *emu, const char *token, const char *oid,
                bool app, unsigned rights, long life_s)
{
    int64_t now = emu_now_ms();
    size_t w = 0;
    for (size_t i = 0; i < emu->ntokens; i++) /* drop the expired ones */
        if (emu->tokens[i].expires_ms > now)
            emu->tokens[w++] = emu->tokens[i];
    emu->ntokens = w;
    if (emu->ntokens == EMU_MAX_TOKENS) {
        memmove(&emu->tokens[0], &emu->tokens[1],
                (emu->ntokens - 1) * sizeof emu->tokens[0]);
        emu->ntokens--;
    }
    struct graph_token *t = &emu->tokens[emu->ntokens++];
    memset(t, 0, sizeof *t);
    sha256_b64url(token, t->hash);
    snprintf(t->oid, sizeof t->oid, "%s", oid ? oid : "");
    t->app = app;
    t->user_read = rights & GRAPH_READ_MEMBERS;
    t->count_users = rights & GRAPH_COUNT_USERS;
    t->count_apps = rights & GRAPH_COUNT_APPS;
    t->expires_ms = now + (int64_t)life_s * 1000;
}

/* Expired tokens are found too (the caller tells "expired" from "unknown"
 * only for tokens still in the table). */
int tokens_find(struct emulator *emu, const char *token, struct graph_token *out)
{
    char hash[64];
    sha256_b64url(token, hash);
    for (size_t i = emu->ntokens; i-- > 0;) {
        if (!strcmp(emu->tokens[i].hash, hash)) {
            *out = emu->tokens[i];
            return 0;
        }
    }
    return -1;
}

/* "X", "https://graph.microsoft.com/X" or "{graph_base}/X" (case-insensitive). */
static bool graph_scope_is(const struct emulator *emu, const char *p, size_t n,
                           const char *want, bool bare_ok)
{
    const char *prefixes[] = {GRAPH_RESOURCE "/", emu->graph_base, NULL};
    size_t wl = strlen(want);
    if (bare_ok && n == wl && !strncasecmp(p, want, n))
        return true;
    for (size_t i = 0; prefixes[i]; i++) {
        size_t pl = strlen(prefixes[i]);
        bool slash = prefixes[i][pl - 1] != '/';
        size_t full = pl + slash + wl;
        if (n == full && !strncasecmp(p, prefixes[i], pl) &&
            (!slash || p[pl] == '/') && !strncasecmp(p + pl + slash, want, wl))
            return true;
    }
    return false;
}

/* A delegated scope list holds one of rights (or Graph's .default). */
static bool scope_holds(const struct emulator *emu, const char *scope,
                        const char *const *rights)
{
    const char *p = scope;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        for (size_t i = 0; n && rights[i]; i++)
            if (graph_scope_is(emu, p, n, rights[i], true))
                return true;
        if (n && graph_scope_is(emu, p, n, ".default", false))
            return true;
        p += n;
    }
    return false;
}

/* Delegated scopes that let a user read their own group memberships. */
bool scope_grants_graph_read(const struct emulator *emu, const char *scope)
{
    static const char *const rights[] = {"User.Read", "GroupMember.Read.All",
                                         "Directory.Read.All", NULL};
    return scope_holds(emu, scope, rights);
}

/* What a delegated token may do in the emulator's Graph (GRAPH_* bits):
 * read the user's memberships; count users (users/$count needs
 * User.ReadBasic.All, User.Read.All or Directory.Read.All); count app
 * registrations (Application.Read.All or Directory.Read.All). */
unsigned scope_graph_rights(const struct emulator *emu, const char *scope)
{
    static const char *const users[] = {"User.ReadBasic.All", "User.Read.All",
                                        "Directory.Read.All", NULL};
    static const char *const apps[] = {"Application.Read.All",
                                       "Directory.Read.All", NULL};
    return (scope_grants_graph_read(emu, scope) ? GRAPH_READ_MEMBERS : 0) |
           (scope_holds(emu, scope, users) ? GRAPH_COUNT_USERS : 0) |
           (scope_holds(emu, scope, apps) ? GRAPH_COUNT_APPS : 0);
}

/* client_credentials: exactly the Graph ".default" scope. */
bool graph_scope_ok(const struct emulator *emu, const char *scope)
{
    return graph_scope_is(emu, scope, strlen(scope), ".default", false);
}
