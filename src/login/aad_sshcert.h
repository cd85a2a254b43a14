/* aad_sshcert.h - the OpenSSH user certificate that carries an Entra ID
 * token (doc/admin-guide.md, "When your tenant blocks the device code").
 *
 * The certificate is an ssh-ed25519-cert-v01@openssh.com (OpenSSH's
 * PROTOCOL.certkeys) for a fresh key made for one sign-in, signed by that
 * same key. Two extensions carry the sign-in: the ID token and a random
 * salt; the token's nonce is the commitment aad_sshcert_nonce() makes to
 * the key and the salt, so the token cannot be moved to another key. The
 * certificate's key ID is the token's preferred_username (else its oid) and
 * its one principal the token's oid, so that sshd's own log names the user.
 *
 * The parser is strict and bounded: it is fed whatever an SSH client offers
 * (sshd's AuthorizedKeysCommand), before any authentication.
 *
 * Where it runs: in pam_aad_sshkeys and aad-login, never in the caller of
 * PAM; it may use OpenSSL. */
#ifndef AAD_SSHCERT_H
#define AAD_SSHCERT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "aad_base.h"

#define AAD_SSHCERT_TYPE "ssh-ed25519-cert-v01@openssh.com"
#define AAD_SSH_KEY_TYPE "ssh-ed25519"
#define AAD_SSHCERT_EXT_TOKEN "entra-id-token@pam-aad"
#define AAD_SSHCERT_EXT_SALT "nonce-salt@pam-aad"
#define AAD_SSH_ED25519_BYTES 32
#define AAD_SSH_SALT_BYTES 32
/* A certificate blob, decoded; an ID token is at most AAD_JWT_MAX_BYTES. */
#define AAD_SSHCERT_MAX_BLOB (40 * 1024)
/* The same bound on its base64 text (sshd's %k). */
#define AAD_SSHCERT_MAX_TEXT ((AAD_SSHCERT_MAX_BLOB + 2) / 3 * 4)
#define AAD_SSHCERT_MAX_PRINCIPALS 8
#define AAD_SSHCERT_NAME_MAX 256
/* base64url of a SHA-256: 43 characters. */
#define AAD_SSH_NONCE_CHARS 43

struct aad_sshcert {
    unsigned char key[AAD_SSH_ED25519_BYTES];    /* the certified key */
    unsigned char signer[AAD_SSH_ED25519_BYTES]; /* the key that signed it */
    uint64_t serial;
    char key_id[AAD_SSHCERT_NAME_MAX + 1];
    char principals[AAD_SSHCERT_MAX_PRINCIPALS][AAD_SSHCERT_NAME_MAX + 1];
    size_t nprincipals;
    uint64_t valid_after, valid_before;
    int has_critical_options; /* sshd enforces them; they are the user's own limits */
    char *id_token;           /* the token extension, NUL-terminated; secret */
    unsigned char salt[AAD_SSH_SALT_BYTES];
    int has_salt;
};

/* Parses a certificate blob (the bytes of sshd's %k) and verifies its
 * signature with the signer key it names. Every departure from the format
 * (wrong type, trailing bytes, oversized or duplicate fields, unsorted
 * extensions, a signature that does not verify) is AAD_DENIED with the
 * reason; the token and salt extensions may be absent (the caller decides).
 * On AAD_OK release out with aad_sshcert_clear. */
enum aad_status aad_sshcert_parse(const unsigned char *blob, size_t len, struct aad_sshcert *out,
                                  struct aad_error *err);

/* The same on sshd's base64 text (%k), bounded by AAD_SSHCERT_MAX_TEXT. */
enum aad_status aad_sshcert_parse_base64(const char *text, struct aad_sshcert *out,
                                         struct aad_error *err);

void aad_sshcert_clear(struct aad_sshcert *cert);

/* The nonce that commits a sign-in to key and salt:
 * base64url(SHA-256("pam_aad ssh-cert v1" NUL || public key blob || salt)). */
int aad_sshcert_nonce(const unsigned char key[AAD_SSH_ED25519_BYTES],
                      const unsigned char salt[AAD_SSH_SALT_BYTES],
                      char out[AAD_SSH_NONCE_CHARS + 1]);

/* What a certificate says, for aad_sshcert_make. */
struct aad_sshcert_spec {
    const unsigned char *key; /* the certified public key (32 bytes) */
    EVP_PKEY *signer;         /* an Ed25519 private key */
    const char *key_id;
    const char *const *principals;
    size_t nprincipals;
    uint64_t valid_after, valid_before;
    const char *id_token;      /* NULL: no token extension */
    const unsigned char *salt; /* NULL: no salt extension; else AAD_SSH_SALT_BYTES */
};

/* Builds and signs a user certificate: the permit-* extensions of
 * ssh-keygen's defaults (a terminal, forwarding) plus the token and salt.
 * *blob is malloc'd (it holds the token: aad_wipe it before free). */
enum aad_status aad_sshcert_make(const struct aad_sshcert_spec *spec, unsigned char **blob,
                                 size_t *len, struct aad_error *err);

/* The raw 32-byte public key of an Ed25519 EVP key; 0, or -1. */
int aad_ssh_ed25519_public(EVP_PKEY *pkey, unsigned char out[AAD_SSH_ED25519_BYTES]);

/* The "ssh-ed25519 AAAA..." form of a raw public key, as authorized_keys
 * and .pub files write it (no comment); malloc'd. */
char *aad_ssh_public_line(const unsigned char key[AAD_SSH_ED25519_BYTES]);

/* OpenSSH's fingerprint of a key ("SHA256:..."), as sshd logs it. */
void aad_ssh_fingerprint(const unsigned char key[AAD_SSH_ED25519_BYTES], char *out, size_t size);

/* The private key in OpenSSH's own unencrypted format ("-----BEGIN
 * OPENSSH PRIVATE KEY-----"), which ssh -i reads; malloc'd, secret. */
char *aad_ssh_private_key_text(EVP_PKEY *pkey, const char *comment);

/* Standard base64 (OpenSSH's text form), no line breaks; malloc'd. */
char *aad_ssh_base64(const unsigned char *data, size_t len);

#endif
