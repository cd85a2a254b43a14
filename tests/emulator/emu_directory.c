/*
 * Microsoft Graph's directory of users and groups, the part `aad-login sync`
 * reads with the application's token, served under /graph:
 *   GET /v1.0/groups/{id}/transitiveMembers[/microsoft.graph.user]
 *       paged ($top, $skiptoken, @odata.nextLink); the advanced query
 *       $filter=accountEnabled eq false (needs the cast, $count=true and
 *       "ConsistencyLevel: eventual", as Graph does);
 *   GET /v1.0/groups/delta?$filter=id eq '{id}'&$select=members
 *       the group with "members@delta" (paged), then @odata.deltaLink;
 *       $deltatoken=latest gives a deltaLink for now without the members;
 *       a $deltatoken gives what changed since (removals with "@removed");
 *   GET /v1.0/users/{id}.
 * Permissions, as Graph: GroupMember.Read.All for the groups; without
 * User.Read.All a member user comes back as its "@odata.type" and "id"
 * alone, and /users/{id} is 403.
 */
#include "emulator.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CTX_MEMBERS "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
#define CTX_DELTA "https://graph.microsoft.com/v1.0/$metadata#groups(members)"
#define CTX_USER "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
#define USER_TYPE "#microsoft.graph.user"
#define GROUP_TYPE "#microsoft.graph.group"
#define DENIED "Insufficient privileges to complete the operation."
#define MAX_GENERATE 200000

/* One change of a group's membership; its sequence number is its index + 1. */
struct change {
    char group[37];
    char oid[37];            /* a user's, or a nested group's id */
    bool removed;
    bool nested_group;       /* the member is a group */
};

struct emu_directory {
    json_t *users;  /* oid -> {"id","userPrincipalName","accountEnabled"} */
    json_t *groups; /* group id -> {oid: true, ...} in the order added */
    json_t *subgroups;           /* group id -> {nested group id: true} */
    struct change *changes;
    size_t nchanges, cap;
    json_t *group_log;           /* group id -> [indices into changes]: a delta costs its changes */
    json_t *disabled;            /* oid -> true for accounts disabled: the filter costs their number */
    size_t generated;            /* users made by "generate" so far */
    bool group_read, user_read;  /* the application's Graph permissions */
};

struct emu_directory *directory_new(void)
{
    struct emu_directory *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->users = json_object();
    d->groups = json_object();
    d->group_log = json_object();
    d->disabled = json_object();
    d->subgroups = json_object();
    d->group_read = d->user_read = true;
    return d;
}

void directory_free(struct emu_directory *d)
{
    if (!d)
        return;
    json_decref(d->users);
    json_decref(d->groups);
    json_decref(d->group_log);
    json_decref(d->disabled);
    json_decref(d->subgroups);
    free(d->changes);
    free(d);
}

static void lower_copy(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; i + 1 < n && src[i]; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static int log_change(struct emu_directory *d, const char *group, const char *oid, bool removed,
                      bool nested_group)
{
    if (d->nchanges == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct change *bigger = realloc(d->changes, cap * sizeof(*bigger));
        if (!bigger)
            return -1;
        d->changes = bigger;
        d->cap = cap;
    }
    struct change *c = &d->changes[d->nchanges++];
    snprintf(c->group, sizeof c->group, "%.36s", group);
    snprintf(c->oid, sizeof c->oid, "%.36s", oid);
    c->removed = removed;
    c->nested_group = nested_group;
    json_t *log = json_object_get(d->group_log, group);
    if (!log) {
        log = json_array();
        json_object_set_new(d->group_log, group, log);
    }
    return json_array_append_new(log, json_integer((json_int_t)(d->nchanges - 1)));
}

/* The first position in a group's log whose change is at or after seq. */
static size_t log_position(const json_t *log, size_t seq)
{
    size_t lo = 0, hi = json_array_size(log);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((size_t)json_integer_value(json_array_get(log, mid)) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ------------------------------------------------------------ the answers */

static const char *query(struct graph_call *g, const char *name)
{
    return MHD_lookup_connection_value(g->c, MHD_GET_ARGUMENT_KIND, name);
}

/* A member as Graph shows it to an application with the given rights. */
static json_t *member_object(const json_t *user, const char *oid, bool user_read)
{
    json_t *o = json_pack("{s:s,s:s}", "@odata.type", USER_TYPE, "id", oid);
    if (user_read && user) {
        json_object_set(o, "userPrincipalName", json_object_get(user, "userPrincipalName"));
        json_object_set(o, "accountEnabled", json_object_get(user, "accountEnabled"));
    }
    return o;
}

static long page_size(struct graph_call *g, bool *bad)
{
    pthread_mutex_lock(&g->emu->lock);
    long top = g->emu->graph_page_size;
    pthread_mutex_unlock(&g->emu->lock);
    const char *qt = query(g, "$top");
    *bad = false;
    if (qt) {
        char *end;
        long v = strtol(qt, &end, 10);
        if (end == qt || *end || v < 1 || v > EMU_GRAPH_MAX_TOP)
            *bad = true;
        top = v;
    }
    return top;
}

static enum MHD_Result unsupported_query(struct graph_call *g)
{
    return graph_error(g, 400, "Request_UnsupportedQuery", "Unsupported Query.");
}

/* The users of gid and of the groups nested in it (each once) into users,
 * those groups into groups (lock held). */
static void closure(struct emu_directory *d, const char *gid, json_t *users, json_t *groups)
{
    json_t *todo = json_pack("[s]", gid);
    while (json_array_size(todo) > 0) {
        char g[37];
        snprintf(g, sizeof g, "%.36s", json_string_value(json_array_get(todo, 0)));
        json_array_remove(todo, 0);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(d->groups, g), k, v) {
            json_object_set_new(users, k, json_true());
        }
        json_object_foreach(json_object_get(d->subgroups, g), k, v) {
            if (strcmp(k, gid) && !json_object_get(groups, k)) {
                json_object_set_new(groups, k, json_true());
                json_array_append_new(todo, json_string(k));
            }
        }
    }
    json_decref(todo);
}

/* A group with nested groups: its members as Graph lists them (the nested
 * groups first unless cast to users, then every user once), lock held. */
static json_t *nested_listing(struct emu_directory *d, const char *gid, bool cast,
                              bool disabled_only)
{
    json_t *users = json_object(), *groups = json_object(), *list = json_array();
    closure(d, gid, users, groups);
    const char *k;
    json_t *v;
    if (!cast) {
        json_object_foreach(groups, k, v) {
            json_array_append_new(list, json_pack("{s:s,s:s}", "@odata.type", GROUP_TYPE, "id", k));
        }
    }
    json_object_foreach(users, k, v) {
        if (!disabled_only || json_object_get(d->disabled, k))
            json_array_append_new(list, member_object(json_object_get(d->users, k), k, d->user_read));
    }
    json_decref(users);
    json_decref(groups);
    return list;
}

static enum MHD_Result transitive_members(struct graph_call *g, const char *gid, bool cast)
{
    struct emu_directory *d = g->emu->directory;
    const char *filter = query(g, "$filter");
    bool disabled_only = false;
    if (filter) {
        /* An advanced query: Graph wants the cast, $count and the header. */
        const char *cl = MHD_lookup_connection_value(g->c, MHD_HEADER_KIND, "ConsistencyLevel");
        const char *count = query(g, "$count");
        if (strcasecmp(filter, "accountEnabled eq false") || !cast || !cl ||
            strcasecmp(cl, "eventual") || !count || strcasecmp(count, "true"))
            return unsupported_query(g);
        disabled_only = true;
    }
    bool bad = false;
    long top = page_size(g, &bad);
    if (bad)
        return graph_error(g, 400, "Request_BadRequest", "Invalid page size specified.");
    size_t offset = 0;
    const char *skip = query(g, "$skiptoken");
    if (skip) {
        char *end;
        offset = strtoul(skip, &end, 16);
        if (end == skip || *end)
            return graph_error(g, 400, "Directory_ExpiredPageToken",
                               "The specified page token value has expired and can no "
                               "longer be included in your request.");
    }
    pthread_mutex_lock(&g->emu->lock);
    const json_t *members = json_object_get(d->groups, gid);
    bool user_read = d->user_read;
    json_t *value = json_array();
    size_t seen = 0, total = 0;
    const char *oid;
    json_t *v;
    /* The disabled members through the index of disabled users, as Graph's
     * own index answers the advanced query. */
    const json_t *walk = disabled_only ? d->disabled : members;
    if (members && json_object_size(json_object_get(d->subgroups, gid)) > 0) {
        json_t *list = nested_listing(d, gid, cast, disabled_only);
        size_t i;
        json_array_foreach(list, i, v) {
            total++;
            if (seen++ < offset || json_array_size(value) >= (size_t)top)
                continue;
            json_array_append(value, v);
        }
        json_decref(list);
    } else if (members) {
        json_object_foreach((json_t *)walk, oid, v) {
            const json_t *user = json_object_get(d->users, oid);
            if (disabled_only && !json_object_get(members, oid))
                continue;
            total++;
            if (seen++ < offset || json_array_size(value) >= (size_t)top)
                continue;
            json_array_append_new(value, member_object(user, oid, user_read));
        }
    }
    pthread_mutex_unlock(&g->emu->lock);
    if (!members) {
        json_decref(value);
        char msg[160];
        snprintf(msg, sizeof msg, "Resource '%s' does not exist or one of its queried "
                                  "reference-property objects are not present.", gid);
        return graph_error(g, 404, "Request_ResourceNotFound", msg);
    }
    size_t next = offset + json_array_size(value);
    json_t *resp = json_pack("{s:s}", "@odata.context", CTX_MEMBERS);
    if (disabled_only)
        json_object_set_new(resp, "@odata.count", json_integer((json_int_t)total));
    json_object_set_new(resp, "value", value);
    if (next < total)
        json_object_set_new(resp, "@odata.nextLink",
                            json_sprintf("%s%s?$top=%ld&$skiptoken=%zx%s", g->emu->graph_base,
                                         g->path, top, next,
                                         disabled_only ? "&$filter=accountEnabled%20eq%20false"
                                                         "&$count=true"
                                                       : ""));
    snprintf(g->note, sizeof g->note, "%zu..%zu of %zu", offset, next, total);
    return graph_send(g, 200, resp, false);
}

/* Delta links and page tokens: "<group>.<round>.<offset>.<to seq>", where
 * round 0 is the initial round (every current member) and round N + 1 the
 * changes from sequence number N. */
static int parse_token(const char *s, char *gid, size_t *round, size_t *offset, size_t *to)
{
    char g[41];
    unsigned long r, o, t;
    char extra;
    if (!s || sscanf(s, "%40[0-9a-f-].%lx.%lx.%lx%c", g, &r, &o, &t, &extra) != 4 ||
        !is_guid_text(g))
        return -1;
    memcpy(gid, g, 37); /* a GUID: 36 characters and the NUL */
    *round = r;
    *offset = o;
    *to = t;
    return 0;
}

static enum MHD_Result expired_token(struct graph_call *g)
{
    return graph_error(g, 400, "Directory_ExpiredPageToken",
                       "The specified page token value has expired and can no longer be "
                       "included in your request.");
}

static enum MHD_Result groups_delta(struct graph_call *g)
{
    struct emu_directory *d = g->emu->directory;
    char gid[37] = "";
    size_t round = 0, offset = 0, to = 0;
    const char *dt = query(g, "$deltatoken"), *st = query(g, "$skiptoken");
    const char *filter = query(g, "$filter");
    bool latest = dt && !strcmp(dt, "latest");
    if (dt && !latest) {
        size_t unused;
        if (parse_token(dt, gid, &unused, &offset, &to) != 0 || offset != 0)
            return expired_token(g);
        round = to + 1;
    } else if (st) {
        if (parse_token(st, gid, &round, &offset, &to) != 0)
            return expired_token(g);
    } else {
        /* Only the form the sync uses: one group by its id. */
        char want[64];
        if (!filter || sscanf(filter, "id eq '%40[0-9a-fA-F-]'", want) != 1 || !is_guid_text(want))
            return unsupported_query(g);
        lower_copy(gid, sizeof gid, want);
    }
    bool bad = false;
    long top = page_size(g, &bad);
    if (bad)
        top = EMU_GRAPH_MAX_TOP;

    pthread_mutex_lock(&g->emu->lock);
    bool known = json_object_get(d->groups, gid) != NULL;
    size_t now = d->nchanges;
    if (!st)
        to = now; /* this round's snapshot */
    if ((round > 0 && round - 1 > to) || to > now) {
        pthread_mutex_unlock(&g->emu->lock);
        return expired_token(g);
    }
    /* What to report: every member (initial round) or the net change of
     * each member since the round's start (a member's last change wins). */
    json_t *net = json_object();
    if (latest) {
        /* nothing: only the link */
    } else if (round == 0) {
        const char *oid;
        json_t *v;
        json_object_foreach(json_object_get(d->groups, gid), oid, v) {
            json_object_set_new(net, oid, json_integer(0));
        }
        json_object_foreach(json_object_get(d->subgroups, gid), oid, v) {
            json_object_set_new(net, oid, json_integer(2));
        }
    } else {
        const json_t *log = json_object_get(d->group_log, gid);
        for (size_t p = log_position(log, round - 1); p < json_array_size(log); p++) {
            size_t i = (size_t)json_integer_value(json_array_get(log, p));
            if (i >= to)
                break;
            json_object_del(net, d->changes[i].oid); /* keeps the order of the last */
            json_object_set_new(net, d->changes[i].oid,
                                json_integer((d->changes[i].removed ? 1 : 0) |
                                             (d->changes[i].nested_group ? 2 : 0)));
        }
    }
    pthread_mutex_unlock(&g->emu->lock);
    if (!known) {
        json_decref(net);
        char msg[160];
        snprintf(msg, sizeof msg, "Resource '%s' does not exist.", gid);
        return graph_error(g, 404, "Request_ResourceNotFound", msg);
    }
    json_t *members = json_array();
    size_t seen = 0;
    const char *oid;
    json_t *kind;
    json_object_foreach(net, oid, kind) {
        if (seen++ < offset || json_array_size(members) >= (size_t)top)
            continue;
        json_int_t bits = json_integer_value(kind);
        json_t *m = json_pack("{s:s,s:s}", "@odata.type", bits & 2 ? GROUP_TYPE : USER_TYPE,
                              "id", oid);
        if (bits & 1)
            json_object_set_new(m, "@removed", json_pack("{s:s}", "reason", "deleted"));
        json_array_append_new(members, m);
    }
    size_t total = json_object_size(net), next = offset + json_array_size(members);
    json_decref(net);
    json_t *value = json_array();
    if (json_array_size(members) > 0)
        json_array_append_new(value, json_pack("{s:s,s:s,s:o}", "@odata.type", GROUP_TYPE, "id",
                                               gid, "members@delta", members));
    else
        json_decref(members);
    json_t *resp = json_pack("{s:s,s:o}", "@odata.context", CTX_DELTA, "value", value);
    if (next < total)
        json_object_set_new(resp, "@odata.nextLink",
                            json_sprintf("%s/v1.0/groups/delta?$skiptoken=%s.%zx.%zx.%zx",
                                         g->emu->graph_base, gid, round, next, to));
    else
        json_object_set_new(resp, "@odata.deltaLink",
                            json_sprintf("%s/v1.0/groups/delta?$deltatoken=%s.0.0.%zx",
                                         g->emu->graph_base, gid, to));
    snprintf(g->note, sizeof g->note, "delta %zu..%zu of %zu", offset, next, total);
    return graph_send(g, 200, resp, false);
}

static enum MHD_Result get_user(struct graph_call *g, const char *oid)
{
    struct emu_directory *d = g->emu->directory;
    pthread_mutex_lock(&g->emu->lock);
    bool user_read = d->user_read;
    json_t *user = json_deep_copy(json_object_get(d->users, oid));
    pthread_mutex_unlock(&g->emu->lock);
    if (!user_read) {
        json_decref(user);
        return graph_error(g, 403, "Authorization_RequestDenied", DENIED);
    }
    if (!user) {
        char msg[160];
        snprintf(msg, sizeof msg, "Resource '%s' does not exist or one of its queried "
                                  "reference-property objects are not present.", oid);
        return graph_error(g, 404, "Request_ResourceNotFound", msg);
    }
    json_object_set_new(user, "@odata.context", json_string(CTX_USER));
    return graph_send(g, 200, user, false);
}

bool directory_serves(const char *path)
{
    if (!strncasecmp(path, "/v1.0/groups/", 13))
        return true;
    return !strncasecmp(path, "/v1.0/users/", 12) && path[12] && !strchr(path + 12, '/');
}

enum MHD_Result directory_handle(struct graph_call *g)
{
    if (strcmp(g->method, "GET"))
        return graph_error(g, 405, "Request_BadRequest",
                           "Specified HTTP method is not allowed for the request target.");
    struct graph_token t;
    enum MHD_Result refused;
    if (graph_bearer(g, &t, &refused) != 0)
        return refused;
    pthread_mutex_lock(&g->emu->lock);
    bool group_read = g->emu->directory->group_read;
    pthread_mutex_unlock(&g->emu->lock);
    bool users = !strncasecmp(g->path, "/v1.0/users/", 12);
    /* The sync reads as the application; a user's token reads no directory here. */
    if (!t.app || (!users && !group_read))
        return graph_error(g, 403, "Authorization_RequestDenied", DENIED);
    char id[64];
    if (users) {
        lower_copy(id, sizeof id, g->path + 12);
        return get_user(g, id);
    }
    const char *rest = g->path + 13;
    if (!strcasecmp(rest, "delta"))
        return groups_delta(g);
    size_t n = strcspn(rest, "/");
    if (n != 36)
        return graph_error(g, 400, "BadRequest", "Resource not found for the segment 'groups'.");
    char gid[37];
    snprintf(gid, sizeof gid, "%.36s", rest);
    lower_copy(id, sizeof id, gid);
    const char *op = rest + 36;
    if (!strcasecmp(op, "/transitiveMembers"))
        return transitive_members(g, id, false);
    if (!strcasecmp(op, "/transitiveMembers/microsoft.graph.user"))
        return transitive_members(g, id, true);
    return graph_error(g, 400, "BadRequest", "Resource not found for the segment.");
}

/* ---------------------------------------------------------------- control */

/* Creates or updates a user from {"id","userPrincipalName","accountEnabled"}. */
static int put_user(struct emu_directory *d, const json_t *spec, char *oid_out, char *err,
                    size_t errlen)
{
    const char *id = json_string_value(json_object_get(spec, "id"));
    if (!is_guid_text(id)) {
        snprintf(err, errlen, "a user needs an 'id' (GUID)");
        return -1;
    }
    lower_copy(oid_out, 37, id);
    json_t *user = json_object_get(d->users, oid_out);
    if (!user) {
        user = json_pack("{s:s,s:n,s:b}", "id", oid_out, "userPrincipalName", "accountEnabled", 1);
        json_object_set_new(d->users, oid_out, user);
    }
    json_t *upn = json_object_get(spec, "userPrincipalName");
    json_t *enabled = json_object_get(spec, "accountEnabled");
    if ((upn && !json_is_string(upn)) || (enabled && !json_is_boolean(enabled))) {
        snprintf(err, errlen, "'userPrincipalName' is a string, 'accountEnabled' a boolean");
        return -1;
    }
    if (upn)
        json_object_set(user, "userPrincipalName", upn);
    if (enabled)
        json_object_set(user, "accountEnabled", enabled);
    if (json_is_false(json_object_get(user, "accountEnabled")))
        json_object_set_new(d->disabled, oid_out, json_true());
    else
        json_object_del(d->disabled, oid_out);
    return 0;
}

static int group_add(struct emu_directory *d, json_t *members, const char *gid, const char *oid)
{
    if (json_object_get(members, oid))
        return 0;
    json_object_set_new(members, oid, json_true());
    return log_change(d, gid, oid, false, false);
}

static int group_remove(struct emu_directory *d, json_t *members, const char *gid, const char *oid)
{
    if (!json_object_get(members, oid))
        return 0;
    json_object_del(members, oid);
    return log_change(d, gid, oid, true, false);
}

static int edit_group(struct emulator *emu, const json_t *body, char *err, size_t errlen,
                      json_t **answer)
{
    struct emu_directory *d = emu->directory;
    const char *group = json_string_value(json_object_get(body, "group"));
    const json_t *roles = json_object_get(body, "app_roles");
    if (roles) {
        if (!json_is_array(roles)) {
            snprintf(err, errlen, "'app_roles' is an array of permission names");
            return -1;
        }
        d->group_read = d->user_read = false;
        size_t i;
        json_t *r;
        json_array_foreach(roles, i, r) {
            const char *name = json_string_value(r);
            if (name && !strcasecmp(name, "GroupMember.Read.All"))
                d->group_read = true;
            else if (name && !strcasecmp(name, "User.Read.All"))
                d->user_read = true;
        }
    }
    if (!group) {
        if (roles) {
            *answer = json_pack("{s:b,s:b}", "GroupMember.Read.All", d->group_read,
                                "User.Read.All", d->user_read);
            return 0;
        }
        snprintf(err, errlen, "need 'group' (GUID)");
        return -1;
    }
    char gid[37];
    if (!is_guid_text(group)) {
        snprintf(err, errlen, "'group' must be a GUID");
        return -1;
    }
    lower_copy(gid, sizeof gid, group);
    json_t *members = json_object_get(d->groups, gid);
    if (!members) {
        members = json_object();
        json_object_set_new(d->groups, gid, members);
    }
    const json_t *gen = json_object_get(body, "generate");
    if (gen) {
        json_int_t count = json_integer_value(json_object_get(gen, "count"));
        const char *domain = json_string_value(json_object_get(gen, "domain"));
        const char *prefix = json_string_value(json_object_get(gen, "prefix"));
        if (count < 1 || count > MAX_GENERATE) {
            snprintf(err, errlen, "'generate' needs a 'count' from 1 to %d", MAX_GENERATE);
            return -1;
        }
        for (json_int_t i = 0; i < count; i++) {
            char oid[37], upn[160];
            d->generated++;
            snprintf(oid, sizeof oid, "5e5e5e5e-0000-4000-8000-%012zx", d->generated);
            snprintf(upn, sizeof upn, "%s%zu@%s", prefix ? prefix : "member", d->generated,
                     domain ? domain : emu->cfg.domain);
            json_object_set_new(d->users, oid, json_pack("{s:s,s:s,s:b}", "id", oid,
                                                         "userPrincipalName", upn,
                                                         "accountEnabled", 1));
            if (group_add(d, members, gid, oid) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "add"), i, v) {
        char oid[37];
        if (json_is_string(v)) {
            lower_copy(oid, sizeof oid, json_string_value(v));
            if (!json_object_get(d->users, oid)) {
                snprintf(err, errlen, "no user %.40s: add it as an object first", oid);
                return -1;
            }
        } else if (put_user(d, v, oid, err, errlen) != 0) {
            return -1;
        }
        if (group_add(d, members, gid, oid) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    /* Nested groups: a group as a member of this one. */
    json_t *subs = json_object_get(d->subgroups, gid);
    json_array_foreach(json_object_get(body, "add_groups"), i, v) {
        char child[37];
        if (!is_guid_text(json_string_value(v))) {
            snprintf(err, errlen, "'add_groups' takes group ids (GUIDs)");
            return -1;
        }
        lower_copy(child, sizeof child, json_string_value(v));
        if (!json_object_get(d->groups, child))
            json_object_set_new(d->groups, child, json_object());
        if (!subs) {
            subs = json_object();
            json_object_set_new(d->subgroups, gid, subs);
        }
        if (!json_object_get(subs, child)) {
            json_object_set_new(subs, child, json_true());
            if (log_change(d, gid, child, false, true) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    json_array_foreach(json_object_get(body, "remove_groups"), i, v) {
        char child[37];
        lower_copy(child, sizeof child, json_is_string(v) ? json_string_value(v) : "");
        if (subs && json_object_get(subs, child)) {
            json_object_del(subs, child);
            if (log_change(d, gid, child, true, true) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    json_array_foreach(json_object_get(body, "remove"), i, v) {
        char oid[37];
        lower_copy(oid, sizeof oid, json_is_string(v) ? json_string_value(v) : "");
        if (group_remove(d, members, gid, oid) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    *answer = json_pack("{s:s,s:I,s:I}", "group", gid, "members",
                        (json_int_t)json_object_size(members), "changes",
                        (json_int_t)d->nchanges);
    return 0;
}

static int edit_user(struct emulator *emu, const json_t *body, char *err, size_t errlen,
                     json_t **answer)
{
    struct emu_directory *d = emu->directory;
    char oid[37];
    if (json_is_true(json_object_get(body, "delete"))) {
        const char *id = json_string_value(json_object_get(body, "id"));
        if (!is_guid_text(id)) {
            snprintf(err, errlen, "need 'id' (GUID)");
            return -1;
        }
        lower_copy(oid, sizeof oid, id);
        /* A deleted user leaves every group. */
        const char *gid;
        json_t *members;
        json_object_foreach(d->groups, gid, members) {
            if (group_remove(d, members, gid, oid) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
        json_object_del(d->users, oid);
        json_object_del(d->disabled, oid);
        *answer = json_pack("{s:s,s:b}", "id", oid, "deleted", 1);
        return 0;
    }
    if (put_user(d, body, oid, err, errlen) != 0)
        return -1;
    *answer = json_deep_copy(json_object_get(d->users, oid));
    return 0;
}

int directory_control(struct emulator *emu, const char *url, const json_t *body, char *err,
                      size_t errlen, json_t **answer)
{
    pthread_mutex_lock(&emu->lock);
    struct emu_directory *d = emu->directory;
    int rc = 0;
    if (!body) { /* GET /control/graph/directory */
        json_t *groups = json_object();
        const char *gid;
        json_t *members;
        json_object_foreach(d->groups, gid, members) {
            json_object_set_new(groups, gid, json_integer((json_int_t)json_object_size(members)));
        }
        *answer = json_pack("{s:I,s:o,s:I,s:b,s:b}", "users",
                            (json_int_t)json_object_size(d->users), "groups", groups, "changes",
                            (json_int_t)d->nchanges, "GroupMember.Read.All", d->group_read,
                            "User.Read.All", d->user_read);
    } else if (!strcmp(url, "/control/graph/directory")) {
        rc = edit_group(emu, body, err, errlen, answer);
    } else {
        rc = edit_user(emu, body, err, errlen, answer);
    }
    pthread_mutex_unlock(&emu->lock);
    return rc;
}
