/* aad_json.c - strict JSON parsing of untrusted input. */
#include "config.h"

#include "aad_json.h"

json_t *aad_json_parse_object(const char *text, size_t len, size_t max_len)
{
    if (text == NULL || len == 0 || len > max_len)
        return NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

const char *aad_json_string(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int aad_json_integer(const json_t *obj, const char *key, long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return -1;
    *out = (long long)json_integer_value(v);
    return 1;
}
