/* fuzz_keys.c - libFuzzer target: the JWKS and discovery-document parsers
 * (aad_keyset_parse, aad_keyset_find, aad_discovery_parse). The first byte
 * picks the parser, the rest is the document. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aad_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] & 1;
    const char *doc = (const char *)data + 1;
    size_t len = size - 1;
    struct aad_error err;
    if (which == 0) {
        struct aad_keyset *set = NULL;
        if (aad_keyset_parse(doc, len, &set, &err) == AAD_OK) {
            for (size_t i = 0; i < set->count; i++)
                (void)aad_keyset_find(set, set->keys[i].kid);
            (void)aad_keyset_find(set, "no-such-kid");
            aad_keyset_free(set);
        }
    } else {
        struct aad_discovery d;
        if (aad_discovery_parse(doc, len, "https://login.microsoftonline.com", &d, &err) == AAD_OK)
            aad_discovery_clear(&d);
    }
    return 0;
}
