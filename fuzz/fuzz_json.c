/* fuzz_json.c - libFuzzer target: aad_json_parse_object, the parser of every
 * untrusted document (jansson's json_loadb plus our checks around it), on
 * raw bytes. Besides crashes and leaks it checks the contract: whatever is
 * accepted is an object, holds no container deeper than 64, came from input
 * without a NUL byte within the size bound, is also what plain jansson reads,
 * and survives a dump and re-parse unchanged. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aad_json.h"

#define MAX_LEN 65536
#define MAX_DEPTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int depth_of(const json_t *v)
{
    int deepest = 0;
    size_t i;
    const char *key;
    json_t *child;
    if (json_is_array(v)) {
        json_array_foreach(v, i, child) {
            int d = depth_of(child);
            deepest = d > deepest ? d : deepest;
        }
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child) {
            int d = depth_of(child);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *ours = aad_json_parse_object(text, size, MAX_LEN);
    if (ours == NULL)
        return 0;
    if (!json_is_object(ours) || depth_of(ours) > MAX_DEPTH || size > MAX_LEN ||
        memchr(text, '\0', size) != NULL)
        abort();
    json_t *plain = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (plain == NULL || !json_equal(ours, plain))
        abort();
    json_decref(plain);
    size_t need = json_dumpb(ours, NULL, 0, JSON_COMPACT);
    char *dump = need > 0 ? malloc(need) : NULL;
    if (dump != NULL && json_dumpb(ours, dump, need, JSON_COMPACT) == need) {
        json_t *again = aad_json_parse_object(dump, need, (size_t)-1);
        if (again == NULL || !json_equal(ours, again))
            abort();
        json_decref(again);
    }
    free(dump);
    json_decref(ours);
    return 0;
}
