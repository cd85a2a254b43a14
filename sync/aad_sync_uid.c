/* aad_sync_uid.c - the uid of an account the sync makes, from its oid.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync_uid.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

unsigned long aad_sync_uid_candidate(const char *oid, unsigned k, unsigned long min,
                                     unsigned long max)
{
    char text[96];
    int n = snprintf(text, sizeof(text), "pam_aad-uid:%.40s:%u", oid, k);
    for (int i = 0; i < n; i++)
        text[i] = (char)tolower((unsigned char)text[i]);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    uint64_t v = 0;
    if (EVP_Digest(text, (size_t)n, digest, &len, EVP_sha256(), NULL) == 1 && len >= 8) {
        for (int i = 0; i < 8; i++)
            v = (v << 8) | digest[i];
    }
    uint64_t size = (uint64_t)max - (uint64_t)min + 1;
    return (unsigned long)((uint64_t)min + v % size);
}

int aad_sync_uid_reserved(unsigned long uid)
{
    return uid == 65534 || uid == 65535 || uid >= 0xffffffffUL;
}
