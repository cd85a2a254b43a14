/*
 * Microsoft Graph (v1.0), the part pam_aad needs to resolve group
 * membership (protocol.md §9), served under /graph on the HTTPS listener:
 * checkMemberGroups, getMemberGroups/getMemberObjects and transitiveMemberOf
 * for /me (delegated token) and /users/{oid} (application token).
 */
#include "emulator.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ODATA_JSON "application/json;odata.metadata=minimal;" \
                   "odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
#define CTX_STRINGS "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)"
#define CTX_OBJECTS "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
#define GRAPH_APP_ID "00000003-0000-0000-c000-000000000000"
#define MAX_CHECK_IDS 20
#define SKIP_PREFIX "RFNwdAIAAQAAAA"

enum graph_op { OP_CHECK, OP_MEMBER_GROUPS, OP_MEMBER_OBJECTS, OP_TRANSITIVE };

bool is_guid_text(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

enum MHD_Result graph_send(struct graph_call *g, unsigned status, json_t *obj,
                           bool auth_challenge)
{
    g->status = status;
    if (g->merge && json_is_object(obj))
        json_merge_nulldel(obj, g->merge);
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return MHD_NO;
    json_t *h = g->extra_headers ? json_deep_copy(g->extra_headers) : json_object();
    json_object_set_new(h, "request-id", json_string(g->request_id));
    json_object_set_new(h, "client-request-id", json_string(g->client_request_id));
    if (!json_object_get(h, "Cache-Control"))
        json_object_set_new(h, "Cache-Control", json_string("no-cache"));
    if (auth_challenge)
        json_object_set_new(
            h, "WWW-Authenticate",
            json_sprintf("Bearer realm=\"\", authorization_uri=\"%s/common/"
                         "oauth2/authorize\", client_id=\"%s\"",
                         g->emu->authority, GRAPH_APP_ID));
    enum MHD_Result r = http_send(g->c, status,
                                  status < 300 ? ODATA_JSON : "application/json",
                                  text, strlen(text), h);
    json_decref(h);
    free(text);
    return r;
}

/* Graph's error shape: {"error":{"code","message","innerError":{…}}}. */
enum MHD_Result graph_error(struct graph_call *g, unsigned status,
                            const char *code, const char *message)
{
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    json_t *inner = json_pack("{s:s,s:s,s:s}", "date", date, "request-id",
                              g->request_id, "client-request-id",
                              g->client_request_id);
    json_t *o = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message",
                          message, "innerError", inner);
    snprintf(g->note, sizeof g->note, "%s", code);
    return graph_send(g, status, o, status == 401);
}

enum MHD_Result graph_fault_error(struct graph_call *g, const struct fault *f)
{
    static const struct {
        const char *code;
        unsigned status;
        const char *message;
    } known[] = {
        {"TooManyRequests", 429, "Too many requests."},
        {"activityLimitReached", 429, "The application or user has been throttled."},
        {"serviceNotAvailable", 503, "The service is temporarily unavailable."},
        {"generalException", 500, "An unspecified error has occurred."},
        {"UnknownError", 500, "An unknown error has occurred."},
        {"InvalidAuthenticationToken", 401, "Access token validation failure."},
        {"Authorization_RequestDenied", 403, "Insufficient privileges to complete the operation."},
        {"Request_ResourceNotFound", 404, "Resource does not exist."},
    };
    unsigned status = 400;
    const char *message = "Injected error.";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!strcmp(known[i].code, f->error)) {
            status = known[i].status;
            message = known[i].message;
        }
    }
    if (f->status)
        status = (unsigned)f->status;
    if (f->description)
        message = f->description;
    return graph_error(g, status, f->error, message);
}

/* The groups of a user (deep copy, [] if none); exists tells whether the
 * user is known (has a membership entry or is the default user). */
static json_t *user_groups(struct emulator *emu, const char *oid, bool *exists)
{
    char key[64];
    snprintf(key, sizeof key, "%s", oid);
    lower(key);
    pthread_mutex_lock(&emu->lock);
    json_t *v = json_object_get(emu->graph_members, key);
    json_t *copy = v ? json_deep_copy(v) : json_array();
    pthread_mutex_unlock(&emu->lock);
    if (exists)
        *exists = v != NULL || !strcasecmp(oid, EMU_DEFAULT_OID);
    return copy;
}

static bool group_is_member(const json_t *groups, const char *id)
{
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        const char *gid = json_string_value(json_object_get(g, "id"));
        if (gid && !strcasecmp(gid, id))
            return true;
    }
    return false;
}

static json_t *parse_body(struct graph_call *g)
{
    if (!g->body || !g->len)
        return NULL;
    json_t *b = json_loadb(g->body, g->len, 0, NULL);
    if (!json_is_object(b)) {
        json_decref(b);
        return NULL;
    }
    return b;
}

static enum MHD_Result do_check(struct graph_call *g, const json_t *groups)
{
    json_t *body = parse_body(g);
    json_t *ids = json_object_get(body, "groupIds");
    enum MHD_Result r;
    if (!json_is_array(ids)) {
        r = graph_error(g, 400, "Request_BadRequest",
                        "Invalid request body: 'groupIds' (an array of group "
                        "ids) is required.");
        goto out;
    }
    size_t n = json_array_size(ids);
    if (n < 1 || n > MAX_CHECK_IDS) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "The number of 'groupIds' must be between 1 and %d; %zu given.",
                 MAX_CHECK_IDS, n);
        r = graph_error(g, 400, "Request_BadRequest", msg);
        goto out;
    }
    json_t *value = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        const char *id = json_string_value(v);
        if (!is_guid_text(id)) {
            char msg[160];
            snprintf(msg, sizeof msg, "Invalid GUID: '%.64s'.", id ? id : "");
            json_decref(value);
            r = graph_error(g, 400, "Request_BadRequest", msg);
            goto out;
        }
        if (group_is_member(groups, id))
            json_array_append_new(value, json_string(id));
    }
    snprintf(g->note, sizeof g->note, "%zu of %zu", json_array_size(value), n);
    r = graph_send(g, 200,
                   json_pack("{s:s,s:o}", "@odata.context", CTX_STRINGS, "value",
                             value),
                   false);
out:
    json_decref(body);
    return r;
}

static enum MHD_Result do_member_ids(struct graph_call *g, const json_t *groups)
{
    json_t *body = parse_body(g);
    json_t *seo = json_object_get(body, "securityEnabledOnly");
    enum MHD_Result r;
    if (!json_is_boolean(seo)) {
        json_decref(body);
        return graph_error(g, 400, "Request_BadRequest",
                           "Invalid request body: 'securityEnabledOnly' (a "
                           "boolean) is required.");
    }
    json_t *value = json_array();
    size_t i;
    json_t *grp;
    json_array_foreach(groups, i, grp) {
        if (json_is_true(seo) &&
            json_is_false(json_object_get(grp, "securityEnabled")))
            continue;
        json_array_append(value, json_object_get(grp, "id"));
    }
    r = graph_send(g, 200,
                   json_pack("{s:s,s:o}", "@odata.context", CTX_STRINGS, "value",
                             value),
                   false);
    json_decref(body);
    return r;
}

static const char *query(struct graph_call *g, const char *name)
{
    return MHD_lookup_connection_value(g->c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result do_transitive(struct graph_call *g, const json_t *groups)
{
    struct emulator *emu = g->emu;
    pthread_mutex_lock(&emu->lock);
    long top = emu->graph_page_size;
    pthread_mutex_unlock(&emu->lock);
    const char *qt = query(g, "$top");
    if (qt) {
        char *end;
        long v = strtol(qt, &end, 10);
        if (end == qt || *end || v < 1 || v > EMU_GRAPH_MAX_TOP) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "Invalid page size specified: '%.16s'. Must be between 1 "
                     "and %d inclusive.",
                     qt, EMU_GRAPH_MAX_TOP);
            return graph_error(g, 400, "Request_BadRequest", msg);
        }
        top = v;
    }
    size_t total = json_array_size(groups), offset = 0;
    const char *skip = query(g, "$skiptoken");
    if (skip) {
        /* Opaque to clients ("RFNwdA…" like Graph's): prefix + hex offset. */
        char *end;
        unsigned long v = 0;
        size_t pl = strlen(SKIP_PREFIX);
        bool ok = !strncmp(skip, SKIP_PREFIX, pl) && isxdigit((unsigned char)skip[pl]);
        if (ok) {
            v = strtoul(skip + pl, &end, 16);
            ok = !*end && v <= total;
        }
        if (!ok)
            return graph_error(g, 400, "Directory_ExpiredPageToken",
                               "The specified page token value has expired and "
                               "can no longer be included in your request.");
        offset = v;
    }
    json_t *value = json_array();
    size_t i;
    for (i = offset; i < total && i < offset + (size_t)top; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "@odata.type", json_string("#microsoft.graph.group"));
        json_object_update(o, json_array_get(groups, i));
        json_array_append_new(value, o);
    }
    json_t *resp = json_pack("{s:s,s:o}", "@odata.context", CTX_OBJECTS,
                             "value", value);
    if (i < total)
        json_object_set_new(resp, "@odata.nextLink",
                            json_sprintf("%s%s?$top=%ld&$skiptoken=%s%zx",
                                         emu->graph_base, g->path, top,
                                         SKIP_PREFIX, i));
    snprintf(g->note, sizeof g->note, "%zu..%zu of %zu", offset, i, total);
    return graph_send(g, 200, resp, false);
}

/* Splits "/v1.0/me/op" or "/v1.0/users/{id}/op". */
static int route(const char *path, bool *me, char *id, size_t idlen,
                 enum graph_op *op, char *bad, size_t badlen)
{
    if (strncasecmp(path, "/v1.0/", 6)) {
        size_t n = strcspn(path + (*path == '/'), "/");
        snprintf(bad, badlen, "Invalid version: %.*s", (int)(n > 32 ? 32 : n),
                 path + (*path == '/'));
        return -1;
    }
    const char *p = path + 6, *opname;
    if (!strncasecmp(p, "me/", 3)) {
        *me = true;
        opname = p + 3;
    } else if (!strncasecmp(p, "users/", 6)) {
        *me = false;
        const char *s = strchr(p + 6, '/');
        size_t n = s ? (size_t)(s - p - 6) : 0;
        if (!s || !n || n >= idlen) {
            snprintf(bad, badlen, "Resource not found for the segment '%.64s'.", p);
            return -1;
        }
        memcpy(id, p + 6, n);
        id[n] = '\0';
        opname = s + 1;
    } else {
        size_t n = strcspn(p, "/");
        snprintf(bad, badlen, "Resource not found for the segment '%.*s'.",
                 (int)(n > 64 ? 64 : n), p);
        return -1;
    }
    /* Graph also accepts the namespace-qualified action names. */
    if (!strncasecmp(opname, "microsoft.graph.", 16))
        opname += 16;
    if (!strcasecmp(opname, "checkMemberGroups"))
        *op = OP_CHECK;
    else if (!strcasecmp(opname, "getMemberGroups"))
        *op = OP_MEMBER_GROUPS;
    else if (!strcasecmp(opname, "getMemberObjects"))
        *op = OP_MEMBER_OBJECTS;
    else if (!strcasecmp(opname, "transitiveMemberOf"))
        *op = OP_TRANSITIVE;
    else {
        snprintf(bad, badlen, "Resource not found for the segment '%.64s'.",
                 opname);
        return -1;
    }
    return 0;
}

/* The request's bearer token, among those the emulator issued and not
 * expired: 0 and *t, or -1 with the 401 answer sent in *refused. */
int graph_bearer(struct graph_call *g, struct graph_token *t, enum MHD_Result *refused)
{
    struct emulator *emu = g->emu;
    const char *auth = MHD_lookup_connection_value(g->c, MHD_HEADER_KIND,
                                                   "Authorization");
    const char *tok = NULL;
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        tok = auth + 7;
        while (*tok == ' ')
            tok++;
    }
    if (!tok || !*tok) {
        *refused = graph_error(g, 401, "InvalidAuthenticationToken",
                               "Access token is empty.");
        return -1;
    }
    pthread_mutex_lock(&emu->lock);
    int found = tokens_find(emu, tok, t);
    pthread_mutex_unlock(&emu->lock);
    if (found != 0) {
        *refused = graph_error(g, 401, "InvalidAuthenticationToken",
                               "Access token validation failure. Invalid audience.");
        return -1;
    }
    if (emu_now_ms() >= t->expires_ms) {
        *refused = graph_error(g, 401, "InvalidAuthenticationToken",
                               "Lifetime validation failed, the token is expired.");
        return -1;
    }
    return 0;
}


/* "/v1.0/users/$count" or "/v1.0/applications/$count": 1 or 2, else 0. */
static int count_route(const char *path)
{
    if (!strcasecmp(path, "/v1.0/users/$count"))
        return 1;
    if (!strcasecmp(path, "/v1.0/applications/$count"))
        return 2;
    return 0;
}

/* GET users/$count, applications/$count: an advanced query, answered only
 * with "ConsistencyLevel: eventual", as text/plain holding the number. */
static enum MHD_Result do_count(struct graph_call *g, bool apps,
                                const struct graph_token *tok, bool app_access)
{
    struct graph_token t = *tok;
    bool allowed = t.app ? app_access : (apps ? t.count_apps : t.count_users);
    if (!allowed)
        return graph_error(g, 403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.");
    const char *level = MHD_lookup_connection_value(g->c, MHD_HEADER_KIND,
                                                    "ConsistencyLevel");
    if (!level || strcasecmp(level, "eventual"))
        return graph_error(g, 400, "Request_BadRequest",
                           "Count is not currently supported.");
    pthread_mutex_lock(&g->emu->lock);
    long n = apps ? g->emu->graph_apps_count : g->emu->graph_users_count;
    pthread_mutex_unlock(&g->emu->lock);
    char text[32];
    int len = snprintf(text, sizeof text, "%ld", n);
    json_t *h = g->extra_headers ? json_deep_copy(g->extra_headers) : json_object();
    json_object_set_new(h, "request-id", json_string(g->request_id));
    json_object_set_new(h, "client-request-id", json_string(g->client_request_id));
    g->status = 200;
    snprintf(g->note, sizeof g->note, "%s $count = %ld", apps ? "applications" : "users", n);
    enum MHD_Result r = http_send(g->c, 200, "text/plain;charset=utf-8", text,
                                  (size_t)len, h);
    json_decref(h);
    return r;
}

enum MHD_Result graph_handle(struct graph_call *g)
{
    struct emulator *emu = g->emu;
    if (g->too_large)
        return graph_error(g, 413, "Request_EntityTooLarge",
                           "The request body is too large.");
    /* users/$count and applications/$count first: the directory serves
     * users/{id}. */
    int counted = count_route(g->path);
    if (!counted && directory_serves(g->path))
        return directory_handle(g);
    bool me = false;
    char id[64] = "", bad[192];
    enum graph_op op = OP_TRANSITIVE;
    if (!counted && route(g->path, &me, id, sizeof id, &op, bad, sizeof bad) != 0)
        return graph_error(g, 400, "BadRequest", bad);
    const char *want = counted || op == OP_TRANSITIVE ? "GET" : "POST";
    if (strcmp(g->method, want))
        return graph_error(g, 405, "Request_BadRequest",
                           "Specified HTTP method is not allowed for the "
                           "request target.");

    struct graph_token t;
    enum MHD_Result refused;
    if (graph_bearer(g, &t, &refused) != 0)
        return refused;
    pthread_mutex_lock(&emu->lock);
    bool app_access = emu->graph_app_access;
    pthread_mutex_unlock(&emu->lock);
    if (counted)
        return do_count(g, counted == 2, &t, app_access);
    /* Authorization. */
    const char *subject;
    if (me) {
        if (t.app)
            return graph_error(g, 400, "BadRequest",
                               "/me request is only valid with delegated "
                               "authentication flow.");
        if (!t.oid[0])
            return graph_error(g, 401, "InvalidAuthenticationToken",
                               "Access token validation failure. The token "
                               "has no 'oid' claim.");
        if (!t.user_read)
            return graph_error(g, 403, "Authorization_RequestDenied",
                               "Insufficient privileges to complete the "
                               "operation.");
        subject = t.oid;
    } else {
        bool self = !t.app && !strcasecmp(id, t.oid);
        if ((t.app && !app_access) || (!t.app && (!self || !t.user_read)))
            return graph_error(g, 403, "Authorization_RequestDenied",
                               "Insufficient privileges to complete the "
                               "operation.");
        subject = id;
    }
    bool exists = false;
    json_t *groups = user_groups(emu, subject, &exists);
    enum MHD_Result r;
    if (!me && !exists && strcasecmp(subject, t.oid)) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "Resource '%.64s' does not exist or one of its queried "
                 "reference-property objects are not present.",
                 subject);
        r = graph_error(g, 404, "Request_ResourceNotFound", msg);
    } else if (op == OP_CHECK) {
        r = do_check(g, groups);
    } else if (op == OP_TRANSITIVE) {
        r = do_transitive(g, groups);
    } else {
        r = do_member_ids(g, groups);
    }
    json_decref(groups);
    return r;
}

/* --------------------------------------------------------------- control */

int graph_set_members(struct emulator *emu, const json_t *body, char *err,
                      size_t errlen, json_t **answer)
{
    if (json_is_true(json_object_get(body, "clear"))) {
        pthread_mutex_lock(&emu->lock);
        json_object_clear(emu->graph_members);
        pthread_mutex_unlock(&emu->lock);
        *answer = json_pack("{s:b}", "cleared", 1);
        return 0;
    }
    const char *oid = json_string_value(json_object_get(body, "oid"));
    json_t *groups = json_object_get(body, "groups");
    if (!oid || !*oid || strlen(oid) >= 64 || !json_is_array(groups)) {
        snprintf(err, errlen, "need 'oid' (string) and 'groups' (array), or 'clear'");
        return -1;
    }
    json_t *list = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(groups, i, v) {
        json_t *o;
        if (json_is_string(v)) {
            const char *gid = json_string_value(v);
            o = json_pack("{s:s,s:s+}", "id", gid, "displayName", "Group ", gid);
        } else if (json_is_object(v) && json_is_string(json_object_get(v, "id"))) {
            o = json_deep_copy(v);
            if (!json_object_get(o, "displayName"))
                json_object_set_new(o, "displayName",
                                    json_sprintf("Group %s",
                                                 json_string_value(json_object_get(o, "id"))));
        } else {
            snprintf(err, errlen, "'groups' members must be id strings or "
                                  "objects with an 'id'");
            json_decref(list);
            return -1;
        }
        json_array_append_new(list, o);
    }
    char key[64];
    snprintf(key, sizeof key, "%s", oid);
    lower(key);
    size_t n = json_array_size(list);
    pthread_mutex_lock(&emu->lock);
    json_object_set_new(emu->graph_members, key, list);
    pthread_mutex_unlock(&emu->lock);
    *answer = json_pack("{s:s,s:I}", "oid", key, "groups", (json_int_t)n);
    return 0;
}
