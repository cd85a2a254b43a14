/*
 * HTTP helpers shared by the Entra endpoints and the control interface.
 */
#include "emulator.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_headers(struct MHD_Response *r, const json_t *extra)
{
    const char *k;
    json_t *v;
    if (!extra)
        return;
    json_object_foreach((json_t *)extra, k, v) {
        if (json_is_string(v))
            MHD_add_response_header(r, k, json_string_value(v));
    }
}

enum MHD_Result http_send(struct MHD_Connection *c, unsigned status,
                          const char *content_type, const char *body,
                          size_t len, const json_t *extra_headers)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (content_type && *content_type)
        MHD_add_response_header(r, "Content-Type", content_type);
    add_headers(r, extra_headers);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* JSON answer; cache == NULL means the token-endpoint no-store headers. */
enum MHD_Result http_send_json(struct MHD_Connection *c, unsigned status,
                               json_t *obj, const char *cache,
                               const json_t *extra_headers)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return MHD_NO;
    json_t *h = extra_headers ? json_deep_copy(extra_headers) : json_object();
    if (cache) {
        if (*cache && !json_object_get(h, "Cache-Control"))
            json_object_set_new(h, "Cache-Control", json_string(cache));
    } else {
        if (!json_object_get(h, "Cache-Control"))
            json_object_set_new(h, "Cache-Control",
                                json_string("no-store, no-cache"));
        if (!json_object_get(h, "Pragma"))
            json_object_set_new(h, "Pragma", json_string("no-cache"));
    }
    enum MHD_Result ret = http_send(c, status, "application/json; charset=utf-8",
                                    text, strlen(text), h);
    json_decref(h);
    free(text);
    return ret;
}

/* Oversize body produced on the fly, so N bytes never sit in memory. It is
 * valid JSON when N allows, so a client must reject it for its size. */
struct oversize {
    long long size;
};

static const char OV_PREFIX[] = "{\"error\":\"oversize\",\"padding\":\"";
static const char OV_SUFFIX[] = "\"}";

static ssize_t oversize_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    const struct oversize *ov = cls;
    long long pre = (long long)sizeof OV_PREFIX - 1;
    long long suf = (long long)sizeof OV_SUFFIX - 1;
    bool framed = ov->size >= pre + suf;
    size_t n = 0;
    for (; n < max && (long long)pos + (long long)n < ov->size; n++) {
        long long i = (long long)pos + (long long)n;
        char ch = 'A';
        if (framed && i < pre)
            ch = OV_PREFIX[i];
        else if (framed && i >= ov->size - suf)
            ch = OV_SUFFIX[i - (ov->size - suf)];
        buf[n] = ch;
    }
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

enum MHD_Result http_send_oversize(struct MHD_Connection *c, unsigned status,
                                   const char *content_type, long long size,
                                   const json_t *extra_headers)
{
    struct oversize *ov = malloc(sizeof *ov);
    if (!ov)
        return MHD_NO;
    ov->size = size;
    struct MHD_Response *r = MHD_create_response_from_callback(
        (uint64_t)size, 32 * 1024, oversize_reader, ov, free);
    if (!r) {
        free(ov);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", content_type);
    add_headers(r, extra_headers);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

static char *url_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len &&
                   hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* First value of an application/x-www-form-urlencoded parameter. */
char *form_get(const char *body, const char *name)
{
    if (!body)
        return NULL;
    size_t nlen = strlen(name);
    const char *p = body;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        char *key = url_decode(p, klen);
        bool match = key && strlen(key) == nlen && !memcmp(key, name, nlen);
        free(key);
        if (match)
            return eq ? url_decode(eq + 1, plen - klen - 1) : strdup("");
        if (!end)
            break;
        p = end + 1;
    }
    return NULL;
}

/* Object merge where a JSON null in src deletes the member from dst. */
void json_merge_nulldel(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    if (!json_is_object(dst) || !json_is_object(src))
        return;
    json_object_foreach((json_t *)src, k, v) {
        if (json_is_null(v))
            json_object_del(dst, k);
        else
            json_object_set(dst, k, v);
    }
}

void approval_free(struct approval *a)
{
    json_decref(a->claims);
    json_decref(a->header);
    json_decref(a->token_response);
    free(a->raw_id_token);
    memset(a, 0, sizeof *a);
}

static int take_object(json_t **dst, const json_t *obj, const char *name,
                       char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        snprintf(err, errlen, "'%s' must be an object", name);
        return -1;
    }
    *dst = json_deep_copy(v);
    return 0;
}

int approval_from_json(struct approval *a, const json_t *obj, char *err,
                       size_t errlen)
{
    memset(a, 0, sizeof *a);
    snprintf(a->sign_with, sizeof a->sign_with, "current");
    if (!obj)
        return 0;
    if (take_object(&a->claims, obj, "claims", err, errlen) ||
        take_object(&a->header, obj, "header", err, errlen) ||
        take_object(&a->token_response, obj, "token_response", err, errlen))
        goto fail;
    json_t *raw = json_object_get(obj, "raw_id_token");
    if (raw && !json_is_null(raw)) {
        if (!json_is_string(raw)) {
            snprintf(err, errlen, "'raw_id_token' must be a string");
            goto fail;
        }
        a->raw_id_token = strdup(json_string_value(raw));
    }
    json_t *sw = json_object_get(obj, "sign_with");
    if (sw && !json_is_null(sw)) {
        const char *s = json_string_value(sw);
        if (!s || (strcmp(s, "current") && strcmp(s, "unknown-key") &&
                   strcmp(s, "none"))) {
            snprintf(err, errlen,
                     "'sign_with' must be \"current\", \"unknown-key\" or \"none\"");
            goto fail;
        }
        snprintf(a->sign_with, sizeof a->sign_with, "%s", s);
    }
    return 0;
fail:
    approval_free(a);
    return -1;
}

int approval_copy(struct approval *dst, const struct approval *src)
{
    memset(dst, 0, sizeof *dst);
    dst->claims = src->claims ? json_deep_copy(src->claims) : NULL;
    dst->header = src->header ? json_deep_copy(src->header) : NULL;
    dst->token_response =
        src->token_response ? json_deep_copy(src->token_response) : NULL;
    dst->raw_id_token = src->raw_id_token ? strdup(src->raw_id_token) : NULL;
    memcpy(dst->sign_with, src->sign_with, sizeof dst->sign_with);
    return 0;
}
