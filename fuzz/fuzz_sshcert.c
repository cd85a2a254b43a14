/* fuzz_sshcert.c - libFuzzer target: the SSH certificate parser that
 * pam_aad_sshkeys runs on whatever a client offers (aad_sshcert_parse and
 * its base64 front, aad_sshcert_parse_base64), then the nonce commitment
 * over what it read. The first byte picks the form, the rest is the input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aad_sshcert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct aad_sshcert cert;
    struct aad_error err;
    enum aad_status st;
    if ((data[0] & 1) == 0) {
        st = aad_sshcert_parse(data + 1, size - 1, &cert, &err);
    } else {
        char *text = malloc(size);
        if (text == NULL)
            return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        st = aad_sshcert_parse_base64(text, &cert, &err);
        free(text);
    }
    if (st == AAD_OK) {
        char nonce[AAD_SSH_NONCE_CHARS + 1];
        if (cert.has_salt)
            (void)aad_sshcert_nonce(cert.key, cert.salt, nonce);
        aad_sshcert_clear(&cert);
    }
    return 0;
}
