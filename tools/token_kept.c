/* token_kept.c - access tokens kept in the keyring and handed out again.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "token_kept.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>


int token_kept_get(const struct token_store *s, enum token_record what, const char *scope,
                   struct token_result *out)
{
    json_t *rec = token_store_get(s, what, scope);
    json_int_t expires_on = json_integer_value(json_object_get(rec, "expires_on"));
    int usable = rec != NULL && json_is_string(json_object_get(rec, "access_token")) &&
                 expires_on - (json_int_t)time(NULL) > TOKEN_MIN_LEFT_S;
    if (usable) {
        out->access_token = token_record_string(rec, "access_token");
        out->expires_on = (time_t)expires_on;
        out->scope = token_record_string(rec, "scope");
        out->upn = token_record_string(rec, "upn");
        out->oid = token_record_string(rec, "oid");
        out->tenant = token_record_string(rec, "tenant");
        usable = out->access_token != NULL;
    }
    token_record_free(rec);
    return usable;
}

int token_kept_put(const struct token_store *s, enum token_record what, const char *scope,
                   const struct token_result *r)
{
    long lifetime = (long)(r->expires_on - time(NULL)) - TOKEN_MIN_LEFT_S;
    if (s->kind == TOKEN_STORE_NONE || lifetime <= 0)
        return 1;
    json_t *rec = json_pack("{s:s, s:I, s:s*, s:s*, s:s*, s:s*}", "access_token", r->access_token,
                            "expires_on", (json_int_t)r->expires_on, "scope", r->scope, "upn",
                            r->upn, "oid", r->oid, "tenant", r->tenant);
    int rc = rec != NULL ? token_store_put(s, what, scope, rec, lifetime) : -1;
    token_record_free(rec);
    return rc;
}
