/* token_output.c - the three shapes of `aad-login token`'s standard output.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "token_output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void token_result_clear(struct token_result *r)
{
    aad_free_secret(r->access_token);
    free(r->scope);
    free(r->upn);
    free(r->oid);
    free(r->tenant);
    memset(r, 0, sizeof(*r));
}

/* {"token_type","access_token","expires_in","expires_on","scope","upn","oid"} */
static json_t *own_json(const struct token_result *r)
{
    long left = (long)(r->expires_on - time(NULL));
    return json_pack("{s:s, s:s, s:I, s:I, s:s*, s:s*, s:s*}", "token_type", "Bearer",
                     "access_token", r->access_token, "expires_in",
                     (json_int_t)(left > 0 ? left : 0), "expires_on", (json_int_t)r->expires_on,
                     "scope", r->scope, "upn", r->upn, "oid", r->oid);
}

/* What `az account get-access-token` prints (azure-cli 2.54 and later):
 * expiresOn is local time without a zone, expires_on the POSIX time. */
static json_t *az_json(const struct token_result *r)
{
    char local[64] = "";
    struct tm tm;
    if (localtime_r(&r->expires_on, &tm) != NULL)
        strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S.000000", &tm);
    return json_pack("{s:s, s:s, s:I, s:s*, s:s}", "accessToken", r->access_token, "expiresOn",
                     local, "expires_on", (json_int_t)r->expires_on, "tenant", r->tenant,
                     "tokenType", "Bearer");
}

enum aad_status token_output_write(int fd, const struct token_result *r, enum token_format format,
                                   struct aad_error *err)
{
    char *text = NULL;
    const char *shown = r->access_token; /* plain: the token itself, not a copy */
    if (format != TOKEN_FORMAT_PLAIN) {
        json_t *o = format == TOKEN_FORMAT_AZ ? az_json(r) : own_json(r);
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_t *copy = json_object_get(o, format == TOKEN_FORMAT_AZ ? "accessToken" : "access_token");
        if (json_is_string(copy))
            aad_wipe((char *)json_string_value(copy), json_string_length(copy));
        json_decref(o);
        if (text == NULL)
            return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
        shown = text;
    }
    int failed = aad_write_all(fd, shown, strlen(shown)) != 0 || aad_write_all(fd, "\n", 1) != 0;
    aad_free_secret(text);
    if (failed)
        return aad_fail(err, AAD_UNAVAILABLE, "the token could not be written to stdout: %s",
                        strerror(errno));
    return AAD_OK;
}
