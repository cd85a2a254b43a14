/* aad_json.h - strict JSON parsing of untrusted input (jansson).
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_JSON_H
#define AAD_JSON_H

#include <stddef.h>
#include <jansson.h>

/* Parses exactly len bytes as one JSON object. Refuses: more than max_len
 * bytes, duplicate keys (two parsers could read different values), embedded
 * NUL, trailing data and any top-level value other than an object.
 * Returns a new reference or NULL. */
json_t *aad_json_parse_object(const char *text, size_t len, size_t max_len);

/* The string member key of obj, or NULL when missing or not a string. */
const char *aad_json_string(const json_t *obj, const char *key);

/* Reads integer member key into *out. Returns 1 when present and an integer,
 * 0 when missing, -1 when present with another type. */
int aad_json_integer(const json_t *obj, const char *key, long long *out);

#endif
