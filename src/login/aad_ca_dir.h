/* aad_ca_dir.h - is a directory an OpenSSL hashed CA directory?
 *
 * OpenSSL looks up a trust anchor in such a directory by the hash of the
 * issuer's name (HHHHHHHH.N, as c_rehash or update-ca-certificates write
 * them) and reads only the certificates a chain needs, where a bundle is
 * parsed whole (about 150 certificates, some 50 ms of CPU) for every
 * connection. A directory without such names (RHEL's /etc/ssl/certs holds
 * bundles only) would make every verification fail, so it is not used.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_CA_DIR_H
#define AAD_CA_DIR_H

/* 1 when dir can be opened and holds at least one HHHHHHHH.N entry. */
int aad_ca_dir_is_hashed(const char *dir);

#endif
