/* sshcert_forge.c - hostile variants of a certificate `aad-login ssh` wrote,
 * for the refusal tests of pam_aad_sshkeys. Prints the variant's base64
 * blob (sshd's %k) on stdout.
 *
 *   sshcert_forge MODE KEY CERT [ARG]
 *     resign   the same certificate signed by another key
 *     newkey   the same token and salt certifying a new key (self-signed);
 *              ARG, when given, is where the new private key is written
 *     tamper   one byte of the token changed, signature left as it was
 *     keyid    key ID ARG, signed properly by KEY
 *     expired  validity ended an hour ago, signed properly by KEY
 *     notoken  no token extension, signed properly by KEY
 *
 * Where it runs: in the tests only. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "aad_sshcert.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = malloc(128 * 1024);
    size_t n = f && buf ? fread(buf, 1, 128 * 1024 - 1, f) : 0;
    if (f)
        fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static unsigned char *b64_decode(const char *text, size_t len, size_t *out_len)
{
    unsigned char *out = malloc(len / 4 * 3 + 3);
    int n = out ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) : -1;
    if (n < 0)
        return NULL;
    while (len > 0 && text[len - 1] == '=') {
        n--;
        len--;
    }
    *out_len = (size_t)n;
    return out;
}

static uint32_t u32_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The Ed25519 key of our own unencrypted openssh-key-v1 file. */
static EVP_PKEY *read_key(const char *path)
{
    char *text = slurp(path);
    char *b = text ? strstr(text, "KEY-----\n") : NULL;
    char *e = b ? strstr(b, "-----END") : NULL;
    if (!e)
        return NULL;
    b += 9;
    char *joined = malloc((size_t)(e - b) + 1);
    size_t n = 0;
    for (char *p = b; p < e; p++)
        if (*p != '\n')
            joined[n++] = *p;
    size_t len = 0;
    unsigned char *raw = b64_decode(joined, n, &len);
    /* magic(15) "none" "none" "" nkeys pubblob secret{check check type pub priv...} */
    size_t o = 15;
    for (int i = 0; i < 3; i++)
        o += 4 + u32_at(raw + o);
    o += 4;
    o += 4 + u32_at(raw + o); /* public blob */
    o += 4 + 8;               /* secret's length, the two checks */
    o += 4 + u32_at(raw + o); /* type */
    o += 4 + u32_at(raw + o); /* public key */
    EVP_PKEY *k = u32_at(raw + o) == 64
                      ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + o + 4, 32)
                      : NULL;
    free(raw);
    free(joined);
    free(text);
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *mode = argv[1];
    EVP_PKEY *key = read_key(argv[2]);
    char *cert_text = slurp(argv[3]);
    char *b64 = cert_text ? strchr(cert_text, ' ') : NULL;
    if (!key || !b64)
        return 2;
    b64++;
    b64[strcspn(b64, " \n")] = '\0';
    size_t len = 0;
    unsigned char *blob = b64_decode(b64, strlen(b64), &len);
    struct aad_sshcert c;
    struct aad_error err;
    if (aad_sshcert_parse(blob, len, &c, &err) != AAD_OK) {
        fprintf(stderr, "forge: %s\n", err.message);
        return 2;
    }
    if (!strcmp(mode, "tamper")) {
        /* A byte in the middle of the token's payload, no new signature. */
        unsigned char *at = (unsigned char *)memmem(blob, len, c.id_token, strlen(c.id_token));
        at[strlen(c.id_token) / 2] ^= 0x01;
        char *out = aad_ssh_base64(blob, len);
        printf("%s\n", out);
        return 0;
    }
    const char *principals[AAD_SSHCERT_MAX_PRINCIPALS];
    for (size_t i = 0; i < c.nprincipals; i++)
        principals[i] = c.principals[i];
    EVP_PKEY *fresh = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    unsigned char fresh_pub[32];
    aad_ssh_ed25519_public(fresh, fresh_pub);
    struct aad_sshcert_spec s = {c.key, key, c.key_id, principals, c.nprincipals,
                                 c.valid_after, c.valid_before, c.id_token, c.salt};
    if (!strcmp(mode, "resign")) {
        s.signer = fresh;
    } else if (!strcmp(mode, "newkey")) {
        s.key = fresh_pub;
        s.signer = fresh;
        FILE *kf = argc > 4 ? fopen(argv[4], "w") : NULL;
        if (kf != NULL) {
            fchmod(fileno(kf), 0600);
            fputs(aad_ssh_private_key_text(fresh, "forged"), kf);
            fclose(kf);
        }
    } else if (!strcmp(mode, "keyid") && argc > 4) {
        s.key_id = argv[4];
    } else if (!strcmp(mode, "expired")) {
        s.valid_after = (uint64_t)time(NULL) - 7200;
        s.valid_before = (uint64_t)time(NULL) - 3600;
    } else if (!strcmp(mode, "notoken")) {
        s.id_token = NULL;
        s.salt = NULL;
    } else {
        return 2;
    }
    unsigned char *out = NULL;
    size_t out_len = 0;
    if (aad_sshcert_make(&s, &out, &out_len, &err) != AAD_OK)
        return 2;
    printf("%s\n", aad_ssh_base64(out, out_len));
    return 0;
}
