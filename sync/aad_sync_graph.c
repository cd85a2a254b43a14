/* aad_sync_graph.c - the members of one Entra group, through Microsoft Graph.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync_graph.h"
#include "aad_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#define URL_MAX 2048
#define PAGES_MAX 2000
#define ATTEMPTS_MAX 6
#define RETRY_AFTER_MAX_S 120
#define RETRY_AFTER_DEFAULT_S 5
#define USER_TYPE "#microsoft.graph.user"
#define GROUP_TYPE "#microsoft.graph.group"

/* Which permission a request needs, to name it when Graph says 403. */
static const char PERM_GROUPS[] = "GroupMember.Read.All";
static const char PERM_USERS[] = "User.Read.All";

/* Graph's own words: {"error":{"code","message"}}. */
static void graph_words(const json_t *body, char *out, size_t size)
{
    const json_t *e = json_object_get(body, "error");
    const char *code = aad_json_string(e, "code"), *msg = aad_json_string(e, "message");
    snprintf(out, size, "%.64s%s%.200s", code ? code : "no error code", msg ? ": " : "",
             msg ? msg : "");
    for (char *p = out; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
}

/* A GUID as the state keeps it: lower case. */
static void lower_guid(const char *in, char out[37])
{
    size_t i = 0;
    for (; i < 36 && in[i] != '\0'; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

/* A link from an answer is followed only under graph_endpoint. */
static int is_graph_url(const struct aad_sync_graph *g, const char *url)
{
    size_t n = strlen(g->cfg->graph_endpoint);
    return url != NULL && strlen(url) < URL_MAX && strncmp(url, g->cfg->graph_endpoint, n) == 0 &&
           url[n] == '/' && aad_is_printable_token(url, URL_MAX);
}

/* GET url as the application. AAD_OK with *out the answer (200), or with
 * *out NULL and *status set for a 400, 404 or 410 the caller judges. */
static enum aad_status get_json(struct aad_sync_graph *g, const char *url, int advanced,
                                const char *permission, json_t **out, long *status,
                                struct aad_error *err)
{
    *out = NULL;
    for (int attempt = 1;; attempt++) {
        if (aad_monotonic_ms() >= g->deadline_ms)
            return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                               "the sync's time bound passed while reading Microsoft Graph");
        struct aad_http_response resp;
        struct aad_error net = {0};
        int64_t sent = aad_monotonic_ms();
        enum aad_status st = aad_http_get_bearer(g->http, url, g->token,
                                                 advanced ? "ConsistencyLevel: eventual" : NULL,
                                                 &resp, &net);
        g->requests++;
        g->graph_ms += aad_monotonic_ms() - sent;
        if (st != AAD_OK)
            return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "Microsoft Graph: %s", net.message);
        json_t *body = resp.is_json ? aad_json_parse_object(resp.body, resp.len, AAD_HTTP_MAX_BODY)
                                    : NULL;
        *status = resp.status;
        long retry_after = resp.retry_after;
        aad_http_response_clear(&resp);
        if (*status == 200 && body != NULL) {
            *out = body;
            return AAD_OK;
        }
        char words[300];
        graph_words(body, words, sizeof(words));
        json_decref(body);
        if (*status == 400 || *status == 404 || *status == 410)
            return AAD_OK;
        if (*status == 403)
            return aad_fail_as(err, AAD_FAILURE_HOST_MISCONFIGURED,
                               "Microsoft Graph refused to read the directory (HTTP 403 %s): the "
                               "application needs the permission %s (Application, with admin "
                               "consent)", words, permission);
        if (*status == 401)
            return aad_fail_as(err, AAD_FAILURE_HOST_MISCONFIGURED,
                               "Microsoft Graph refused the application's token (HTTP 401 %s)",
                               words);
        int retriable = *status == 429 || *status == 503 || *status == 504;
        if (!retriable || attempt >= ATTEMPTS_MAX)
            return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                               "Microsoft Graph answered HTTP %ld (%s)%s", *status, words,
                               retriable ? " too many times" : "");
        long wait_s = retry_after < 0 ? RETRY_AFTER_DEFAULT_S : retry_after;
        if (wait_s > RETRY_AFTER_MAX_S)
            wait_s = RETRY_AFTER_MAX_S;
        if (aad_monotonic_ms() + wait_s * 1000 >= g->deadline_ms)
            return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                               "Microsoft Graph is throttling (HTTP %ld, retry after %ld s) past "
                               "the sync's time bound", *status, wait_s);
        aad_log(g->log, LOG_NOTICE, "Microsoft Graph answered HTTP %ld: retrying in %ld s",
                *status, wait_s);
        aad_sleep_until_ms(aad_monotonic_ms() + wait_s * 1000);
    }
}

static enum aad_status no_group(const char *gid, struct aad_error *err)
{
    return aad_fail_as(err, AAD_FAILURE_BAD_CONFIG,
                       "provision_groups: Entra ID has no group %s (Microsoft Graph answered 404)",
                       gid);
}

/* The next page's link: AAD_OK with *next NULL at the end. */
static enum aad_status next_link(struct aad_sync_graph *g, const json_t *page, const char *member,
                                 const char **next, struct aad_error *err)
{
    *next = aad_json_string(page, member);
    if (*next != NULL && !is_graph_url(g, *next))
        return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                           "Microsoft Graph gave a link outside %s: not followed",
                           g->cfg->graph_endpoint);
    return AAD_OK;
}

/* A user as the full read or /users/{id} gives it: {upn, enabled}. */
static enum aad_status read_user(const json_t *o, const char *gid, json_t **entry,
                                 struct aad_error *err)
{
    const char *upn = aad_json_string(o, "userPrincipalName");
    const json_t *enabled = json_object_get(o, "accountEnabled");
    if (upn == NULL || !json_is_boolean(enabled))
        return aad_fail_as(err, AAD_FAILURE_HOST_MISCONFIGURED,
                           "Microsoft Graph gave the members of group %s without their "
                           "userPrincipalName and accountEnabled: the application needs the "
                           "permission %s (Application, with admin consent)", gid, PERM_USERS);
    *entry = json_pack("{s:s,s:b}", "upn", upn, "enabled", json_is_true(enabled));
    return AAD_OK;
}

static enum aad_status latest_delta_link(struct aad_sync_graph *g, const char *gid, char **link,
                                         struct aad_error *err)
{
    char url[URL_MAX];
    snprintf(url, sizeof(url),
             "%s/v1.0/groups/delta?$filter=id%%20eq%%20'%s'&$select=members&$deltatoken=latest",
             g->cfg->graph_endpoint, gid);
    json_t *page = NULL;
    long status = 0;
    enum aad_status st = get_json(g, url, 0, PERM_GROUPS, &page, &status, err);
    const char *delta = NULL;
    if (st == AAD_OK && page == NULL)
        st = status == 404 ? no_group(gid, err)
                           : aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                                         "Microsoft Graph refused the delta query (HTTP %ld)",
                                         status);
    if (st == AAD_OK && (st = next_link(g, page, "@odata.deltaLink", &delta, err)) == AAD_OK &&
        (delta == NULL || (*link = strdup(delta)) == NULL))
        st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "Microsoft Graph gave no delta link");
    json_decref(page);
    return st;
}

/* Calls fn for each object of every page, from first through
 * @odata.nextLink; what names the query in messages. */
typedef enum aad_status (*item_fn)(void *ctx, const json_t *item, struct aad_error *err);

static enum aad_status each_item(struct aad_sync_graph *g, const char *gid, const char *first,
                                 int advanced, const char *permission, const char *what,
                                 item_fn fn, void *ctx, struct aad_error *err)
{
    char *url = strdup(first);
    enum aad_status st = url ? AAD_OK : aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "out of memory");
    for (int pages = 0; st == AAD_OK && url != NULL; pages++) {
        json_t *page = NULL;
        long status = 0;
        if (pages >= PAGES_MAX) {
            st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "%s of group %s has more than %d pages",
                             what, gid, PAGES_MAX);
            break;
        }
        st = get_json(g, url, advanced, permission, &page, &status, err);
        free(url);
        url = NULL;
        if (st == AAD_OK && page == NULL)
            st = status == 404 ? no_group(gid, err)
                               : aad_fail_as(err, AAD_FAILURE_UNAVAILABLE,
                                             "Microsoft Graph refused %s (HTTP %ld)", what, status);
        size_t i;
        json_t *item;
        json_array_foreach(st == AAD_OK ? json_object_get(page, "value") : NULL, i, item) {
            if ((st = fn(ctx, item, err)) != AAD_OK)
                break;
        }
        const char *next = NULL;
        if (st == AAD_OK && (st = next_link(g, page, "@odata.nextLink", &next, err)) == AAD_OK &&
            next != NULL && (url = strdup(next)) == NULL)
            st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "out of memory");
        json_decref(page);
    }
    free(url);
    return st;
}

struct full_read {
    const char *gid;
    json_t *members; /* oid -> true */
    json_t *users;   /* oid -> {upn, enabled} */
    int *nested;
};

static enum aad_status full_item(void *ctx, const json_t *o, struct aad_error *err)
{
    struct full_read *r = ctx;
    const char *type = aad_json_string(o, "@odata.type");
    const char *id = aad_json_string(o, "id");
    if (type != NULL && strcmp(type, GROUP_TYPE) == 0)
        *r->nested = 1;
    if (type == NULL || strcmp(type, USER_TYPE) != 0 || !aad_is_guid(id))
        return AAD_OK; /* devices, service principals: no accounts */
    char oid[37];
    lower_guid(id, oid);
    json_t *entry = NULL;
    enum aad_status st = read_user(o, r->gid, &entry, err);
    if (st != AAD_OK)
        return st;
    json_object_set_new(r->users, oid, entry);
    json_object_set_new(r->members, oid, json_true());
    if (json_object_size(r->users) > AAD_SYNC_MAX_MEMBERS)
        return aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "more than %d members",
                           AAD_SYNC_MAX_MEMBERS);
    return AAD_OK;
}

/* Every transitive member: members (oid -> true) and users (oid -> entry). */
static enum aad_status full_read(struct aad_sync_graph *g, const char *gid, json_t *members,
                                 json_t *users, int *nested, struct aad_error *err)
{
    char first[URL_MAX];
    snprintf(first, sizeof(first),
             "%s/v1.0/groups/%s/transitiveMembers?$select=id,userPrincipalName,accountEnabled"
             "&$top=999", g->cfg->graph_endpoint, gid);
    struct full_read r = {gid, members, users, nested};
    return each_item(g, gid, first, 0, PERM_GROUPS, "the list of members", full_item, &r, err);
}

/* The changes since the group's delta link: members updated, added users
 * listed in added; *expired when Graph no longer knows the link. */
static enum aad_status delta_read(struct aad_sync_graph *g, const char *gid, const char *link,
                                  json_t *members, json_t *added, int *nested, char **new_link,
                                  int *expired, struct aad_error *err)
{
    char *url = is_graph_url(g, link) ? strdup(link) : NULL;
    enum aad_status st = AAD_OK;
    if (url == NULL) {
        *expired = 1;
        return AAD_OK;
    }
    for (int pages = 0; st == AAD_OK && url != NULL; pages++) {
        json_t *page = NULL;
        long status = 0;
        if (pages >= PAGES_MAX) {
            st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "%s of group %s has more than %d pages",
                             "the delta query", gid, PAGES_MAX);
            break;
        }
        st = get_json(g, url, 0, PERM_GROUPS, &page, &status, err);
        free(url);
        url = NULL;
        if (st == AAD_OK && page == NULL) {
            if (status == 404)
                st = no_group(gid, err);
            else
                *expired = 1; /* 400/410: a full read replaces the link */
            break;
        }
        size_t i, j;
        json_t *grp, *m;
        json_array_foreach(st == AAD_OK ? json_object_get(page, "value") : NULL, i, grp) {
            const char *id = aad_json_string(grp, "id");
            if (id == NULL || strcasecmp(id, gid) != 0)
                continue;
            json_array_foreach(json_object_get(grp, "members@delta"), j, m) {
                const char *type = aad_json_string(m, "@odata.type");
                const char *member_id = aad_json_string(m, "id");
                if (type != NULL && strcmp(type, GROUP_TYPE) == 0)
                    *nested = 1;
                if (type == NULL || strcmp(type, USER_TYPE) != 0 || !aad_is_guid(member_id))
                    continue;
                char oid[37];
                lower_guid(member_id, oid);
                if (json_object_get(m, "@removed") != NULL) {
                    json_object_del(members, oid);
                    json_object_del(added, oid);
                } else {
                    json_object_set_new(members, oid, json_true());
                    json_object_set_new(added, oid, json_true());
                }
            }
        }
        const char *next = NULL, *delta = NULL;
        if (st == AAD_OK && (st = next_link(g, page, "@odata.nextLink", &next, err)) == AAD_OK &&
            next != NULL) {
            if ((url = strdup(next)) == NULL)
                st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "out of memory");
        } else if (st == AAD_OK &&
                   (st = next_link(g, page, "@odata.deltaLink", &delta, err)) == AAD_OK) {
            if (delta == NULL || (*new_link = strdup(delta)) == NULL)
                st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "Microsoft Graph gave no delta link");
        }
        json_decref(page);
    }
    free(url);
    return st;
}

/* Details of the members the delta added; one that is gone leaves. */
static enum aad_status read_added(struct aad_sync_graph *g, const char *gid, json_t *members,
                                  const json_t *added, json_t *users, struct aad_error *err)
{
    const char *oid;
    json_t *v;
    json_object_foreach((json_t *)added, oid, v) {
        char url[URL_MAX];
        snprintf(url, sizeof(url), "%s/v1.0/users/%s?$select=id,userPrincipalName,accountEnabled",
                 g->cfg->graph_endpoint, oid);
        json_t *user = NULL, *entry = NULL;
        long status = 0;
        enum aad_status st = get_json(g, url, 0, PERM_USERS, &user, &status, err);
        if (st == AAD_OK && user == NULL && status == 404) {
            json_object_del(members, oid); /* deleted since */
            continue;
        }
        if (st == AAD_OK && user == NULL)
            st = aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "Microsoft Graph answered HTTP %ld",
                             status);
        if (st == AAD_OK && (st = read_user(user, gid, &entry, err)) == AAD_OK)
            json_object_set_new(users, oid, entry);
        json_decref(user);
        if (st != AAD_OK)
            return st;
    }
    return AAD_OK;
}

static enum aad_status disabled_item(void *ctx, const json_t *o, struct aad_error *err)
{
    (void)err;
    const char *id = aad_json_string(o, "id");
    char oid[37];
    if (aad_is_guid(id)) {
        lower_guid(id, oid);
        json_object_set_new(ctx, oid, json_true());
    }
    return AAD_OK;
}

/* The members whose account is disabled, into disabled (oid -> true). */
static enum aad_status disabled_read(struct aad_sync_graph *g, const char *gid, json_t *disabled,
                                     struct aad_error *err)
{
    char first[URL_MAX];
    snprintf(first, sizeof(first),
             "%s/v1.0/groups/%s/transitiveMembers/microsoft.graph.user"
             "?$filter=accountEnabled%%20eq%%20false&$count=true&$select=id&$top=999",
             g->cfg->graph_endpoint, gid);
    return each_item(g, gid, first, 1, PERM_GROUPS, "the query of disabled members",
                     disabled_item, disabled, err);
}

enum aad_status aad_sync_graph_read_group(struct aad_sync_graph *g, const char *gid,
                                          json_t *group, json_t *directory, long long now,
                                          struct aad_error *err)
{
    const char *link = aad_json_string(group, "delta_link");
    json_int_t full_at = json_integer_value(json_object_get(group, "full_read_at"));
    int nested = json_is_true(json_object_get(group, "nested"));
    int full = link == NULL || nested || now - full_at >= AAD_SYNC_FULL_READ_EVERY ||
               now < full_at;
    /* A copy, so that a failure leaves the state as it was (the values are
     * the shared `true`: a shallow copy is a whole one). */
    json_t *members = full ? json_object() : json_copy(json_object_get(group, "members"));
    json_t *users = json_object(), *added = json_object(), *disabled = json_object();
    char *new_link = NULL;
    enum aad_status st = members ? AAD_OK : aad_fail_as(err, AAD_FAILURE_UNAVAILABLE, "out of memory");
    if (st == AAD_OK && !full) {
        int expired = 0;
        st = delta_read(g, gid, link, members, added, &nested, &new_link, &expired, err);
        if (st == AAD_OK && (expired || nested)) {
            aad_log(g->log, LOG_NOTICE, "group %s: %s: reading all its members", gid,
                    expired ? "Microsoft Graph no longer knows the delta link"
                            : "it holds a nested group");
            full = 1;
            free(new_link);
            new_link = NULL;
            json_object_clear(members);
        }
        if (st == AAD_OK && !full)
            st = read_added(g, gid, members, added, users, err);
        if (st == AAD_OK && !full)
            st = disabled_read(g, gid, disabled, err);
    }
    if (st == AAD_OK && full) {
        nested = 0;
        st = latest_delta_link(g, gid, &new_link, err);
        if (st == AAD_OK)
            st = full_read(g, gid, members, users, &nested, err);
    }
    if (st == AAD_OK) {
        /* Commit: the group's entry and its members' directory entries. */
        const char *oid;
        json_t *v;
        json_object_foreach(users, oid, v) {
            json_object_set(directory, oid, v);
        }
        if (!full) {
            json_object_foreach(members, oid, v) {
                json_t *entry = json_object_get(directory, oid);
                if (entry != NULL)
                    json_object_set_new(entry, "enabled",
                                        json_boolean(json_object_get(disabled, oid) == NULL));
            }
        }
        json_object_set(group, "members", members);
        json_object_set_new(group, "delta_link", json_string(new_link));
        json_object_set_new(group, "nested", json_boolean(nested));
        if (full)
            json_object_set_new(group, "full_read_at", json_integer(now));
    }
    free(new_link);
    json_decref(members);
    json_decref(users);
    json_decref(added);
    json_decref(disabled);
    return st;
}
