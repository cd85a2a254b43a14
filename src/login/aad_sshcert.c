/* aad_sshcert.c - the OpenSSH user certificate that carries an Entra ID
 * token: strict parsing and signature check, the nonce commitment, making
 * one (PROTOCOL.certkeys, RFC 8709 for Ed25519).
 * Where it runs: in pam_aad_sshkeys and aad-login, never in the caller of
 * PAM; it may use OpenSSL. */
#include "config.h"

#include "aad_sshcert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define CERT_TYPE_USER 1
#define SIGNATURE_BYTES 64
#define NONCE_DOMAIN "pam_aad ssh-cert v1"

/* --- reading: a cursor that never passes its end ------------------------ */

struct reader {
    const unsigned char *p;
    size_t left;
};

static int get_u32(struct reader *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return 0;
}

static int get_u64(struct reader *r, uint64_t *v)
{
    uint32_t hi, lo;
    if (get_u32(r, &hi) != 0 || get_u32(r, &lo) != 0)
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* A length-prefixed string, as a sub-reader over its bytes. */
static int get_string(struct reader *r, struct reader *s)
{
    uint32_t n;
    if (get_u32(r, &n) != 0 || n > r->left)
        return -1;
    s->p = r->p;
    s->left = n;
    r->p += n;
    r->left -= n;
    return 0;
}

static int string_is(const struct reader *s, const char *text)
{
    return s->left == strlen(text) && memcmp(s->p, text, s->left) == 0;
}

/* A name of printable ASCII, at most AAD_SSHCERT_NAME_MAX bytes: it may
 * reach a log line (sshd logs the key ID). */
static int copy_name(const struct reader *s, char out[AAD_SSHCERT_NAME_MAX + 1])
{
    if (s->left > AAD_SSHCERT_NAME_MAX)
        return -1;
    for (size_t i = 0; i < s->left; i++) {
        if (s->p[i] < 0x20 || s->p[i] > 0x7e)
            return -1;
    }
    memcpy(out, s->p, s->left);
    out[s->left] = '\0';
    return 0;
}

/* "ssh-ed25519" + 32-byte key. */
static int get_ed25519_blob(struct reader *blob, unsigned char out[AAD_SSH_ED25519_BYTES])
{
    struct reader type, key;
    if (get_string(blob, &type) != 0 || !string_is(&type, AAD_SSH_KEY_TYPE) ||
        get_string(blob, &key) != 0 || key.left != AAD_SSH_ED25519_BYTES || blob->left != 0)
        return -1;
    memcpy(out, key.p, AAD_SSH_ED25519_BYTES);
    return 0;
}

static int compare_names(const struct reader *a, const struct reader *b)
{
    size_t n = a->left < b->left ? a->left : b->left;
    int c = memcmp(a->p, b->p, n);
    return c != 0 ? c : (a->left > b->left) - (a->left < b->left);
}

/* The extensions: name/data pairs in strictly increasing order (no
 * duplicates: two readers could take different values). */
static enum aad_status read_extensions(struct reader *exts, struct aad_sshcert *out,
                                       struct aad_error *err)
{
    struct reader prev = {NULL, 0};
    while (exts->left > 0) {
        struct reader name, data;
        if (get_string(exts, &name) != 0 || get_string(exts, &data) != 0)
            return aad_fail(err, AAD_DENIED, "the certificate's extensions are malformed");
        if (name.left == 0 || name.left > AAD_SSHCERT_NAME_MAX)
            return aad_fail(err, AAD_DENIED, "the certificate has an extension without a name");
        if (prev.p != NULL && compare_names(&prev, &name) >= 0)
            return aad_fail(err, AAD_DENIED,
                            "the certificate's extensions are repeated or out of order");
        prev = name;
        /* A value is a string inside the data (as ssh-keygen -O extension:name=value). */
        struct reader value;
        int is_token = string_is(&name, AAD_SSHCERT_EXT_TOKEN);
        int is_salt = string_is(&name, AAD_SSHCERT_EXT_SALT);
        if (!is_token && !is_salt)
            continue;
        if (get_string(&data, &value) != 0 || data.left != 0)
            return aad_fail(err, AAD_DENIED, "the certificate's %s extension is malformed",
                            is_token ? AAD_SSHCERT_EXT_TOKEN : AAD_SSHCERT_EXT_SALT);
        if (is_salt) {
            if (value.left != AAD_SSH_SALT_BYTES)
                return aad_fail(err, AAD_DENIED, "the certificate's salt is not %d bytes",
                                AAD_SSH_SALT_BYTES);
            memcpy(out->salt, value.p, AAD_SSH_SALT_BYTES);
            out->has_salt = 1;
            continue;
        }
        if (value.left == 0 || memchr(value.p, '\0', value.left) != NULL)
            return aad_fail(err, AAD_DENIED, "the certificate's ID token is empty or holds NUL");
        if ((out->id_token = malloc(value.left + 1)) == NULL)
            return aad_fail(err, AAD_DENIED, "out of memory");
        memcpy(out->id_token, value.p, value.left);
        out->id_token[value.left] = '\0';
    }
    return AAD_OK;
}

static enum aad_status verify_signature(const unsigned char signer[AAD_SSH_ED25519_BYTES],
                                        const unsigned char *signed_data, size_t signed_len,
                                        struct reader *sig_blob, struct aad_error *err)
{
    struct reader type, sig;
    if (get_string(sig_blob, &type) != 0 || !string_is(&type, AAD_SSH_KEY_TYPE) ||
        get_string(sig_blob, &sig) != 0 || sig.left != SIGNATURE_BYTES || sig_blob->left != 0)
        return aad_fail(err, AAD_DENIED, "the certificate's signature is not an Ed25519 signature");
    EVP_PKEY *pkey =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, signer, AAD_SSH_ED25519_BYTES);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = pkey != NULL && ctx != NULL &&
             EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
             EVP_DigestVerify(ctx, sig.p, sig.left, signed_data, signed_len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    if (!ok)
        return aad_fail(err, AAD_DENIED, "the certificate's signature does not verify");
    return AAD_OK;
}

static enum aad_status parse(const unsigned char *blob, size_t len, struct aad_sshcert *out,
                             struct aad_error *err)
{
    struct reader r = {blob, len}, s;
    uint32_t type = 0;
    if (len > AAD_SSHCERT_MAX_BLOB)
        return aad_fail(err, AAD_DENIED, "the certificate is larger than %d bytes",
                        AAD_SSHCERT_MAX_BLOB);
    if (get_string(&r, &s) != 0 || !string_is(&s, AAD_SSHCERT_TYPE))
        return aad_fail(err, AAD_DENIED, "not an %s certificate", AAD_SSHCERT_TYPE);
    struct reader nonce, key, key_id, principals, critical, exts, reserved, signer, sig;
    if (get_string(&r, &nonce) != 0 || get_string(&r, &key) != 0 ||
        key.left != AAD_SSH_ED25519_BYTES || get_u64(&r, &out->serial) != 0 ||
        get_u32(&r, &type) != 0 || get_string(&r, &key_id) != 0 ||
        get_string(&r, &principals) != 0 || get_u64(&r, &out->valid_after) != 0 ||
        get_u64(&r, &out->valid_before) != 0 || get_string(&r, &critical) != 0 ||
        get_string(&r, &exts) != 0 || get_string(&r, &reserved) != 0 ||
        get_string(&r, &signer) != 0)
        return aad_fail(err, AAD_DENIED, "the certificate is truncated or malformed");
    size_t signed_len = len - r.left;
    if (get_string(&r, &sig) != 0 || r.left != 0)
        return aad_fail(err, AAD_DENIED, "the certificate's signature is missing or followed by data");
    memcpy(out->key, key.p, AAD_SSH_ED25519_BYTES);
    if (nonce.left < 16 || nonce.left > 64)
        return aad_fail(err, AAD_DENIED, "the certificate's nonce is not 16 to 64 bytes");
    if (type != CERT_TYPE_USER)
        return aad_fail(err, AAD_DENIED, "not a user certificate");
    if (copy_name(&key_id, out->key_id) != 0)
        return aad_fail(err, AAD_DENIED, "the certificate's key ID is not a printable name");
    while (principals.left > 0) {
        struct reader p;
        if (out->nprincipals == AAD_SSHCERT_MAX_PRINCIPALS || get_string(&principals, &p) != 0 ||
            copy_name(&p, out->principals[out->nprincipals]) != 0)
            return aad_fail(err, AAD_DENIED, "the certificate's principals are malformed");
        out->nprincipals++;
    }
    if (reserved.left != 0)
        return aad_fail(err, AAD_DENIED, "the certificate's reserved field is not empty");
    out->has_critical_options = critical.left > 0;
    if (get_ed25519_blob(&signer, out->signer) != 0)
        return aad_fail(err, AAD_DENIED, "the certificate is not signed by an Ed25519 key");
    /* The whole structure first: a self-signed certificate's signature
     * protects nothing from its author, so the parser must not rely on it. */
    enum aad_status st = read_extensions(&exts, out, err);
    if (st == AAD_OK)
        st = verify_signature(out->signer, blob, signed_len, &sig, err);
    return st;
}

enum aad_status aad_sshcert_parse(const unsigned char *blob, size_t len, struct aad_sshcert *out,
                                  struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    enum aad_status st = parse(blob, len, out, err);
    if (st != AAD_OK)
        aad_sshcert_clear(out);
    return st;
}

enum aad_status aad_sshcert_parse_base64(const char *text, struct aad_sshcert *out,
                                         struct aad_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t n = strnlen(text, AAD_SSHCERT_MAX_TEXT + 1);
    if (n > AAD_SSHCERT_MAX_TEXT || n % 4 != 0)
        return aad_fail(err, AAD_DENIED, "the certificate's text is too long or not base64");
    /* Standard base64 with padding, read by the strict base64url decoder. */
    char *url = malloc(n + 1);
    if (url == NULL)
        return aad_fail(err, AAD_DENIED, "out of memory");
    size_t m = n;
    for (int pad = 0; pad < 2 && m > 0 && text[m - 1] == '='; pad++)
        m--;
    int ok = 1;
    for (size_t i = 0; i < m; i++) {
        char c = text[i];
        ok &= c != '-' && c != '_' && c != '=';
        url[i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    url[m] = '\0';
    size_t len = 0;
    unsigned char *blob = ok ? aad_base64url_decode(url, m, AAD_SSHCERT_MAX_BLOB, &len) : NULL;
    free(url);
    if (blob == NULL)
        return aad_fail(err, AAD_DENIED, "the certificate's text is not canonical base64");
    enum aad_status st = aad_sshcert_parse(blob, len, out, err);
    aad_wipe(blob, len);
    free(blob);
    return st;
}

void aad_sshcert_clear(struct aad_sshcert *cert)
{
    aad_free_secret(cert->id_token);
    aad_wipe(cert, sizeof(*cert));
}

/* --- writing --------------------------------------------------------- */

struct writer {
    unsigned char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct writer *w, const void *data, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = (w->len + n) * 2 + 256;
        unsigned char *bigger = malloc(cap);
        if (bigger == NULL || cap > 4 * AAD_SSHCERT_MAX_BLOB) {
            free(bigger);
            w->failed = 1;
            return;
        }
        if (w->len > 0)
            memcpy(bigger, w->buf, w->len);
        if (w->buf != NULL) {
            aad_wipe(w->buf, w->len); /* it may hold the token */
            free(w->buf);
        }
        w->buf = bigger;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put_u32(struct writer *w, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(w, b, 4);
}

static void put_u64(struct writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)(v >> 32));
    put_u32(w, (uint32_t)v);
}

static void put_string(struct writer *w, const void *data, size_t n)
{
    put_u32(w, (uint32_t)n);
    put(w, data, n);
}

static void put_cstring(struct writer *w, const char *s)
{
    put_string(w, s, strlen(s));
}

static void writer_free(struct writer *w)
{
    if (w->buf != NULL)
        aad_wipe(w->buf, w->len);
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static void put_key_blob(struct writer *w, const unsigned char key[AAD_SSH_ED25519_BYTES])
{
    struct writer k = {0};
    put_cstring(&k, AAD_SSH_KEY_TYPE);
    put_string(&k, key, AAD_SSH_ED25519_BYTES);
    w->failed |= k.failed;
    put_string(w, k.buf, k.len);
    writer_free(&k);
}

int aad_sshcert_nonce(const unsigned char key[AAD_SSH_ED25519_BYTES],
                      const unsigned char salt[AAD_SSH_SALT_BYTES],
                      char out[AAD_SSH_NONCE_CHARS + 1])
{
    struct writer w = {0};
    unsigned char digest[32];
    unsigned int dlen = 0;
    put(&w, NONCE_DOMAIN, sizeof(NONCE_DOMAIN)); /* with its NUL */
    put_cstring(&w, AAD_SSH_KEY_TYPE); /* the key blob, of fixed length */
    put_string(&w, key, AAD_SSH_ED25519_BYTES);
    put(&w, salt, AAD_SSH_SALT_BYTES);
    int ok = !w.failed && EVP_Digest(w.buf, w.len, digest, &dlen, EVP_sha256(), NULL) == 1;
    writer_free(&w);
    char *text = ok ? aad_base64url_encode(digest, sizeof(digest)) : NULL;
    if (text == NULL || strlen(text) != AAD_SSH_NONCE_CHARS) {
        free(text);
        return -1;
    }
    memcpy(out, text, AAD_SSH_NONCE_CHARS + 1);
    free(text);
    return 0;
}

/* An extension's data: the value as a string inside the data string. */
static void put_extension(struct writer *w, const char *name, const void *value, size_t n)
{
    put_cstring(w, name);
    if (value == NULL) {
        put_u32(w, 0);
        return;
    }
    put_u32(w, (uint32_t)(n + 4));
    put_string(w, value, n);
}

enum aad_status aad_sshcert_make(const struct aad_sshcert_spec *spec, unsigned char **blob,
                                 size_t *len, struct aad_error *err)
{
    *blob = NULL;
    *len = 0;
    unsigned char signer[AAD_SSH_ED25519_BYTES], nonce[32], sig[SIGNATURE_BYTES];
    if (aad_ssh_ed25519_public(spec->signer, signer) != 0 || RAND_bytes(nonce, sizeof(nonce)) != 1)
        return aad_fail(err, AAD_UNAVAILABLE, "cannot use the Ed25519 key");
    struct writer w = {0}, list = {0}, exts = {0};
    put_cstring(&w, AAD_SSHCERT_TYPE);
    put_string(&w, nonce, sizeof(nonce));
    put_string(&w, spec->key, AAD_SSH_ED25519_BYTES);
    put_u64(&w, 0); /* serial */
    put_u32(&w, CERT_TYPE_USER);
    put_cstring(&w, spec->key_id);
    for (size_t i = 0; i < spec->nprincipals; i++)
        put_cstring(&list, spec->principals[i]);
    put_string(&w, list.buf, list.len);
    put_u64(&w, spec->valid_after);
    put_u64(&w, spec->valid_before);
    put_u32(&w, 0); /* no critical options */
    /* In the byte order OpenSSH requires. */
    if (spec->id_token != NULL)
        put_extension(&exts, AAD_SSHCERT_EXT_TOKEN, spec->id_token, strlen(spec->id_token));
    if (spec->salt != NULL)
        put_extension(&exts, AAD_SSHCERT_EXT_SALT, spec->salt, AAD_SSH_SALT_BYTES);
    static const char *const permits[] = {"permit-X11-forwarding", "permit-agent-forwarding",
                                          "permit-port-forwarding", "permit-pty",
                                          "permit-user-rc"};
    for (size_t i = 0; i < sizeof(permits) / sizeof(permits[0]); i++)
        put_extension(&exts, permits[i], NULL, 0);
    put_string(&w, exts.buf, exts.len);
    put_u32(&w, 0); /* reserved */
    put_key_blob(&w, signer);
    w.failed |= list.failed | exts.failed;
    writer_free(&list);
    writer_free(&exts);

    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = !w.failed && ctx != NULL &&
             EVP_DigestSignInit(ctx, NULL, NULL, NULL, spec->signer) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, w.buf, w.len) == 1 && sig_len == SIGNATURE_BYTES;
    EVP_MD_CTX_free(ctx);
    if (ok) {
        struct writer s = {0};
        put_cstring(&s, AAD_SSH_KEY_TYPE);
        put_string(&s, sig, sig_len);
        w.failed |= s.failed;
        put_string(&w, s.buf, s.len);
        writer_free(&s);
    }
    if (!ok || w.failed) {
        writer_free(&w);
        return aad_fail(err, AAD_UNAVAILABLE, "cannot sign the certificate");
    }
    *blob = w.buf;
    *len = w.len;
    return AAD_OK;
}

int aad_ssh_ed25519_public(EVP_PKEY *pkey, unsigned char out[AAD_SSH_ED25519_BYTES])
{
    size_t n = AAD_SSH_ED25519_BYTES;
    if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1 || n != AAD_SSH_ED25519_BYTES)
        return -1;
    return 0;
}

char *aad_ssh_base64(const unsigned char *data, size_t len)
{
    if (len > 4 * AAD_SSHCERT_MAX_BLOB)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

char *aad_ssh_public_line(const unsigned char key[AAD_SSH_ED25519_BYTES])
{
    struct writer w = {0};
    put_cstring(&w, AAD_SSH_KEY_TYPE);
    put_string(&w, key, AAD_SSH_ED25519_BYTES);
    char *b64 = w.failed ? NULL : aad_ssh_base64(w.buf, w.len);
    writer_free(&w);
    char *line = b64 ? malloc(strlen(AAD_SSH_KEY_TYPE) + 1 + strlen(b64) + 1) : NULL;
    if (line != NULL)
        sprintf(line, "%s %s", AAD_SSH_KEY_TYPE, b64);
    free(b64);
    return line;
}

void aad_ssh_fingerprint(const unsigned char key[AAD_SSH_ED25519_BYTES], char *out, size_t size)
{
    struct writer w = {0};
    unsigned char digest[32];
    unsigned int dlen = 0;
    put_cstring(&w, AAD_SSH_KEY_TYPE);
    put_string(&w, key, AAD_SSH_ED25519_BYTES);
    char *b64 = !w.failed && EVP_Digest(w.buf, w.len, digest, &dlen, EVP_sha256(), NULL) == 1
                    ? aad_ssh_base64(digest, sizeof(digest))
                    : NULL;
    writer_free(&w);
    if (b64 != NULL)
        b64[strcspn(b64, "=")] = '\0'; /* OpenSSH shows it unpadded */
    snprintf(out, size, "SHA256:%s", b64 ? b64 : "?");
    free(b64);
}

char *aad_ssh_private_key_text(EVP_PKEY *pkey, const char *comment)
{
    unsigned char pub[AAD_SSH_ED25519_BYTES], priv[64];
    size_t n = AAD_SSH_ED25519_BYTES;
    uint32_t check = 0;
    if (aad_ssh_ed25519_public(pkey, pub) != 0 ||
        EVP_PKEY_get_raw_private_key(pkey, priv, &n) != 1 || n != AAD_SSH_ED25519_BYTES ||
        RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
        return NULL;
    memcpy(priv + AAD_SSH_ED25519_BYTES, pub, AAD_SSH_ED25519_BYTES); /* seed || public */
    /* openssh-key-v1, unencrypted (PROTOCOL.key). */
    struct writer secret = {0}, w = {0};
    put_u32(&secret, check);
    put_u32(&secret, check);
    put_cstring(&secret, AAD_SSH_KEY_TYPE);
    put_string(&secret, pub, sizeof(pub));
    put_string(&secret, priv, sizeof(priv));
    put_cstring(&secret, comment);
    for (unsigned char pad = 1; secret.len % 8 != 0; pad++)
        put(&secret, &pad, 1);
    aad_wipe(priv, sizeof(priv));
    put(&w, "openssh-key-v1", sizeof("openssh-key-v1")); /* with its NUL */
    put_cstring(&w, "none");
    put_cstring(&w, "none");
    put_cstring(&w, "");
    put_u32(&w, 1);
    put_key_blob(&w, pub);
    w.failed |= secret.failed;
    put_string(&w, secret.buf, secret.len);
    writer_free(&secret);
    char *b64 = w.failed ? NULL : aad_ssh_base64(w.buf, w.len);
    writer_free(&w);
    if (b64 == NULL)
        return NULL;
    static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
    static const char end[] = "-----END OPENSSH PRIVATE KEY-----\n";
    size_t len = strlen(b64);
    char *text = malloc(sizeof(begin) + len + len / 70 + 1 + sizeof(end));
    if (text != NULL) {
        size_t o = 0;
        memcpy(text, begin, sizeof(begin) - 1);
        o = sizeof(begin) - 1;
        for (size_t i = 0; i < len; i += 70) { /* ssh-keygen's line length */
            size_t k = len - i < 70 ? len - i : 70;
            memcpy(text + o, b64 + i, k);
            o += k;
            text[o++] = '\n';
        }
        memcpy(text + o, end, sizeof(end)); /* with its NUL */
    }
    aad_free_secret(b64);
    return text;
}
