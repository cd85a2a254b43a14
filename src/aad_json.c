/* aad_json.c - strict JSON parsing of untrusted input.
 *
 * Tokens, keys and service answers are parsed by this small reader rather
 * than by jansson's own: it accepts exactly RFC 8259 with the extra rules a
 * verifier needs (valid UTF-8, no NUL, paired surrogates, no duplicate keys,
 * bounded depth, integers that fit 64 bits) and it is several times faster,
 * which matters because parsing sits next to the RSA verification on every
 * login. It builds ordinary jansson values, which the rest of the code uses. */
#include "config.h"

#include "aad_json.h"
#include "aad_base.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct reader {
    const unsigned char *p;
    const unsigned char *end;
    int depth;
    char *scratch; /* decoded string bytes */
    size_t scratch_cap;
};

static json_t *read_value(struct reader *r);

static void skip_space(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return 0;
    r->p += n;
    return 1;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0: no overlong forms,
 * no surrogates, nothing above U+10FFFF. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Reads a string (after its opening quote) into r->scratch; *len is set. */
static int read_string_bytes(struct reader *r, size_t *len)
{
    size_t n = 0;
    /* The decoded form is never longer than the encoded one. */
    size_t need = (size_t)(r->end - r->p) + 1;
    if (need > r->scratch_cap) {
        char *bigger = realloc(r->scratch, need);
        if (bigger == NULL)
            return -1;
        r->scratch = bigger;
        r->scratch_cap = need;
    }
    while (r->p < r->end) {
        /* Fast path: a run of plain printable ASCII. */
        const unsigned char *run = r->p;
        while (run < r->end && *run >= 0x20 && *run < 0x80 && *run != '"' && *run != '\\')
            run++;
        if (run != r->p) {
            memcpy(r->scratch + n, r->p, (size_t)(run - r->p));
            n += (size_t)(run - r->p);
            r->p = run;
            if (r->p >= r->end)
                break;
        }
        unsigned c = *r->p;
        if (c == '"') {
            r->p++;
            *len = n;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            size_t k = utf8_length(r->p, r->end);
            if (k == 0)
                return -1;
            memcpy(r->scratch + n, r->p, k);
            n += k;
            r->p += k;
            continue;
        }
        if (r->end - r->p < 2)
            return -1;
        unsigned e = r->p[1];
        r->p += 2;
        const char *simple = strchr("\"\\/bfnrt", (int)e);
        if (e != 0 && simple != NULL && e != 'u') {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            r->scratch[n++] = decoded[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, low;
        if (e != 'u' || r->end - r->p < 4 || hex4(r->p, &cp) != 0)
            return -1;
        r->p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return -1; /* a low surrogate alone */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
                hex4(r->p + 2, &low) != 0 || low < 0xDC00 || low > 0xDFFF)
                return -1;
            r->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp == 0)
            return -1; /* NUL would cut C strings short */
        n += put_utf8(cp, r->scratch + n);
    }
    return -1;
}

static json_t *read_number(struct reader *r)
{
    const unsigned char *start = r->p;
    int is_integer = 1;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end)
        return NULL;
    if (*r->p == '0')
        r->p++;
    else if (*r->p >= '1' && *r->p <= '9')
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    else
        return NULL;
    if (r->p < r->end && *r->p == '.') {
        is_integer = 0;
        r->p++;
        const unsigned char *digits = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
        if (r->p == digits)
            return NULL;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        is_integer = 0;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        const unsigned char *digits = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
        if (r->p == digits)
            return NULL;
    }
    char text[64];
    size_t len = (size_t)(r->p - start);
    if (len >= sizeof(text))
        return NULL; /* no honest claim needs a longer number */
    memcpy(text, start, len);
    text[len] = '\0';
    errno = 0;
    if (is_integer) {
        long long v = strtoll(text, NULL, 10);
        return errno == ERANGE ? NULL : json_integer((json_int_t)v);
    }
    double d = strtod(text, NULL);
    return errno == ERANGE ? NULL : json_real(d);
}

static json_t *read_object(struct reader *r)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return obj;
    }
    for (;;) {
        size_t klen = 0;
        skip_space(r);
        if (r->p >= r->end || *r->p != '"')
            break;
        r->p++;
        if (read_string_bytes(r, &klen) != 0)
            break;
        r->scratch[klen] = '\0';
        /* Duplicate keys: two parsers could pick different values. */
        if (json_object_get(obj, r->scratch) != NULL)
            break;
        /* The value reuses scratch: keep the key apart (on the stack when short). */
        char short_key[128];
        char *key = klen < sizeof(short_key) ? memcpy(short_key, r->scratch, klen + 1)
                                             : strndup(r->scratch, klen);
        skip_space(r);
        json_t *value = NULL;
        if (key != NULL && r->p < r->end && *r->p == ':') {
            r->p++;
            value = read_value(r);
        }
        int ok = value != NULL && json_object_set_new_nocheck(obj, key, value) == 0;
        if (key != short_key)
            free(key);
        if (!ok)
            break;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return obj;
        }
        break;
    }
    json_decref(obj);
    return NULL;
}

static json_t *read_array(struct reader *r)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return arr;
    }
    for (;;) {
        json_t *value = read_value(r);
        if (value == NULL || json_array_append_new(arr, value) != 0)
            break;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return arr;
        }
        break;
    }
    json_decref(arr);
    return NULL;
}

static json_t *read_value(struct reader *r)
{
    skip_space(r);
    if (r->p >= r->end)
        return NULL;
    json_t *v = NULL;
    switch (*r->p) {
    case '{':
    case '[':
        if (++r->depth > MAX_DEPTH)
            return NULL;
        r->p++;
        v = r->p[-1] == '{' ? read_object(r) : read_array(r);
        r->depth--;
        return v;
    case '"': {
        size_t len = 0;
        r->p++;
        if (read_string_bytes(r, &len) != 0)
            return NULL;
        return json_stringn_nocheck(r->scratch, len);
    }
    case 't':
        return literal(r, "true") ? json_true() : NULL;
    case 'f':
        return literal(r, "false") ? json_false() : NULL;
    case 'n':
        return literal(r, "null") ? json_null() : NULL;
    default:
        return read_number(r);
    }
}

json_t *aad_json_parse_object(const char *text, size_t len, size_t max_len)
{
    if (text == NULL || len == 0 || len > max_len)
        return NULL;
    struct reader r = {(const unsigned char *)text, (const unsigned char *)text + len, 0, NULL, 0};
    skip_space(&r);
    json_t *root = r.p < r.end && *r.p == '{' ? read_value(&r) : NULL;
    skip_space(&r);
    if (root != NULL && r.p != r.end) {
        json_decref(root);
        root = NULL;
    }
    if (r.scratch != NULL) {
        /* Decoded strings may be secrets (tokens, device codes). */
        aad_wipe(r.scratch, r.scratch_cap);
        free(r.scratch);
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
