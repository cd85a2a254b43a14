/* aad_json.c - JSON parsing of untrusted input: jansson, plus the few rules
 * it does not enforce itself.
 *
 * json_loadb() without JSON_ALLOW_NUL and with JSON_REJECT_DUPLICATES already
 * refuses everything a verifier must refuse inside a document: invalid UTF-8
 * (overlong forms, encoded surrogates, > U+10FFFF), lone or unpaired
 * surrogate escapes, \u0000 and raw control characters, integers outside
 * 64 bits, reals that overflow, duplicate keys (also when spelled with an
 * escape), trailing data. It is fuzzed upstream. Around it we keep only:
 * a size bound, no raw NUL byte anywhere (jansson 2.14 drops one that
 * directly follows a number or a literal: "{\"a\":1\0}" parses; upstream
 * issue akheron/jansson#331), the top level being an object, and a nesting
 * bound tighter than jansson's compile-time JSON_PARSER_MAX_DEPTH (2048).
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_json.h"
#include "aad_base.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* No token, key set or service answer nests anywhere near this. The top-level
 * object is depth 1. */
#define MAX_DEPTH 64

/* Decoded strings and the lexer's buffers may hold secrets (tokens, device
 * codes): every block jansson frees is wiped first. Process-wide, but jansson
 * is only loaded by our own processes (the helper, aad-login), never by the
 * PAM caller. */
static void wiping_free(void *p)
{
    if (p != NULL) {
        aad_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

static void install_wiping_free(void)
{
    json_set_alloc_funcs(malloc, wiping_free);
}

/* 1 when no container in v lies deeper than MAX_DEPTH; v is at depth. */
static int depth_ok(const json_t *v, int depth)
{
    if (!json_is_object(v) && !json_is_array(v))
        return 1;
    if (depth > MAX_DEPTH)
        return 0;
    size_t i;
    const char *key;
    const json_t *child;
    if (json_is_array(v)) {
        json_array_foreach(v, i, child)
            if (!depth_ok(child, depth + 1))
                return 0;
    } else {
        json_object_foreach((json_t *)v, key, child)
            if (!depth_ok(child, depth + 1))
                return 0;
    }
    return 1;
}

json_t *aad_json_parse_object(const char *text, size_t len, size_t max_len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (text == NULL || len == 0 || len > max_len || memchr(text, '\0', len) != NULL)
        return NULL;
    pthread_once(&once, install_wiping_free);
    json_error_t error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    aad_wipe(&error, sizeof(error)); /* its text may quote the input */
    if (root != NULL && (!json_is_object(root) || !depth_ok(root, 1))) {
        json_decref(root);
        root = NULL;
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
