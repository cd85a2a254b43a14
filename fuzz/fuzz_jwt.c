/* fuzz_jwt.c - libFuzzer target: the whole ID-token check on untrusted
 * bytes: aad_jwt_parse -> aad_jwt_verify_signature -> aad_jwt_check_claims
 * -> aad_jwt_is_guest, against one fixed RSA key. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "aad_jwt.h"

static struct aad_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    key.kid = "fuzz-kid";
    key.issuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
    key.pkey = EVP_RSA_gen(2048);
    return key.pkey != NULL ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = malloc(size + 1);
    if (token == NULL)
        return 0;
    memcpy(token, data, size);
    token[size] = '\0';
    struct aad_jwt *jwt = NULL;
    struct aad_error err;
    if (aad_jwt_parse(token, &jwt, &err) == AAD_OK) {
        (void)aad_jwt_verify_signature(jwt, &key, &err);
        /* The claim rules run even when the signature fails, so the fuzzer
         * reaches them without forging RS256. */
        struct aad_jwt_expect x = {
            .issuer = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            .tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47",
            .client_id = "535fb089-9ff3-47b6-9bfb-4f1264799865",
            .now = 1716200000,
            .clock_skew = 300,
        };
        (void)aad_jwt_check_claims(jwt, &key, &x, &err);
        (void)aad_jwt_is_guest(jwt);
        aad_jwt_free(jwt);
    }
    free(token);
    return 0;
}
