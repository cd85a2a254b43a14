/* aad_trust.c - issuer and signing keys: cache first, network when needed.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_trust.h"
#include "aad_cache.h"
#include "aad_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <openssl/evp.h>

/* What a login waiting for another's fetch allows beyond its exchanges. */
#define FETCH_WAIT_SLACK_MS 2000
/* How long a failed fetch is remembered: logins in that time fail at once
 * (or use the last known-good keys) instead of asking an authority that
 * did not answer again, each waiting http_timeout. */
#define FAILURE_MEMORY_S 30

struct fetched {
    struct aad_discovery discovery;
    char *jwks_text;
    struct aad_keyset *keys;
};

void aad_trust_cache_name(const struct aad_config *cfg, char *name, size_t size)
{
    unsigned char digest[32];
    unsigned int dlen = 0;
    char input[1024];
    int n = snprintf(input, sizeof(input), "%s\n%s", cfg->authority, cfg->tenant);
    /* Hash what was written: snprintf returns what it wanted to write. The
     * configuration bounds the authority, so nothing is cut in practice. */
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(input) ? sizeof(input) - 1 : (size_t)n;
    EVP_Digest(input, len, digest, &dlen, EVP_sha256(), NULL);
    snprintf(name, size, "keys-%02x%02x%02x%02x%02x%02x%02x%02x.json", digest[0], digest[1],
             digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]);
}

static enum aad_status get_json(struct aad_http *http, const char *url, const char *what,
                                struct aad_http_response *resp, struct aad_error *err)
{
    enum aad_status st = aad_http_get(http, url, resp, err);
    if (st != AAD_OK)
        return st;
    if (resp->status != 200 || !resp->is_json) {
        aad_http_response_clear(resp);
        return aad_fail(err, AAD_UNAVAILABLE, "%s: HTTP %ld%s", what, resp->status,
                        resp->status == 200 ? " but not JSON" : "");
    }
    return AAD_OK;
}

enum aad_status aad_trust_fetch_keys(struct aad_http *http, const char *jwks_uri, char **text,
                                     struct aad_keyset **keys, struct aad_error *err)
{
    struct aad_http_response resp;
    enum aad_status st = get_json(http, jwks_uri, "signing keys", &resp, err);
    if (st == AAD_OK)
        st = aad_keyset_parse(resp.body, resp.len, keys, err);
    if (st == AAD_OK) {
        *text = resp.body; /* kept for the cache */
        return AAD_OK;
    }
    aad_http_response_clear(&resp);
    return st;
}

enum aad_status aad_trust_fetch_discovery(const struct aad_config *cfg, struct aad_http *http,
                                          struct aad_discovery *out, struct aad_error *err)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/v2.0/.well-known/openid-configuration", cfg->authority,
             cfg->tenant);
    struct aad_http_response resp;
    enum aad_status st = get_json(http, url, "discovery document", &resp, err);
    if (st == AAD_OK) {
        st = aad_discovery_parse(resp.body, resp.len, cfg->authority, out, err);
        aad_http_response_clear(&resp);
    }
    if (st == AAD_OK && aad_is_guid(cfg->tenant) && strcasecmp(cfg->tenant, out->tenant_id) != 0) {
        st = aad_fail(err, AAD_UNAVAILABLE, "the discovery document is for tenant %s, not %s",
                      out->tenant_id, cfg->tenant);
        aad_discovery_clear(out);
    }
    return st;
}

static enum aad_status fetch_all(const struct aad_config *cfg, struct aad_http *http,
                                 struct fetched *f, struct aad_error *err)
{
    enum aad_status st = aad_trust_fetch_discovery(cfg, http, &f->discovery, err);
    if (st == AAD_OK)
        st = aad_trust_fetch_keys(http, f->discovery.jwks_uri, &f->jwks_text, &f->keys, err);
    return st;
}

static json_t *entry_of(const struct aad_config *cfg, const struct aad_discovery *d,
                        const char *jwks_text, long long fetched_at, long long forced_at)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "version", 1, "authority",
                     cfg->authority, "tenant", cfg->tenant, "issuer", d->issuer, "tenant_id",
                     d->tenant_id, "jwks_uri", d->jwks_uri, "jwks", jwks_text, "fetched_at",
                     (json_int_t)fetched_at, "forced_at", (json_int_t)forced_at);
}

/* Turns a cache entry into a trust; NULL when it is not for this
 * authority and tenant, or does not hold a usable discovery and key set. */
static struct aad_trust *trust_of_entry(const struct aad_config *cfg, const json_t *entry)
{
    const char *authority = aad_json_string(entry, "authority");
    const char *tenant = aad_json_string(entry, "tenant");
    const char *issuer = aad_json_string(entry, "issuer");
    const char *tenant_id = aad_json_string(entry, "tenant_id");
    const char *jwks_uri = aad_json_string(entry, "jwks_uri");
    const char *jwks = aad_json_string(entry, "jwks");
    long long fetched_at = 0, forced_at = 0;
    if (!authority || !tenant || !issuer || !tenant_id || !jwks_uri || !jwks ||
        strcmp(authority, cfg->authority) != 0 || strcmp(tenant, cfg->tenant) != 0 ||
        aad_json_integer(entry, "fetched_at", &fetched_at) != 1 ||
        aad_json_integer(entry, "forced_at", &forced_at) != 1 || !aad_is_guid(tenant_id))
        return NULL;
    struct aad_trust *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->fetched_at = fetched_at;
    t->forced_at = forced_at;
    t->from_cache = 1;
    t->discovery.issuer = strdup(issuer);
    t->discovery.tenant_id = strdup(tenant_id);
    t->discovery.jwks_uri = strdup(jwks_uri);
    if (!t->discovery.issuer || !t->discovery.tenant_id || !t->discovery.jwks_uri ||
        aad_keyset_parse(jwks, strlen(jwks), &t->keys, NULL) != AAD_OK) {
        aad_trust_free(t);
        return NULL;
    }
    return t;
}

static struct aad_trust *read_cached(const struct aad_config *cfg, const char *name,
                                     const struct aad_log *log)
{
    const char *why = NULL;
    json_t *entry = aad_cache_read(cfg->cache_dir, name, &why);
    if (entry == NULL) {
        aad_log(log, LOG_DEBUG, "key cache %s/%s not used: %s", cfg->cache_dir, name, why);
        return NULL;
    }
    struct aad_trust *t = trust_of_entry(cfg, entry);
    json_decref(entry);
    if (t == NULL)
        aad_log(log, LOG_WARNING, "key cache %s/%s is not usable: ignored", cfg->cache_dir, name);
    return t;
}

/* True when t's keys were fetched less than max_age seconds ago (a fetch
 * time in the future proves nothing and counts as too old). */
static int younger_than(const struct aad_trust *t, long long now, long long max_age)
{
    return t != NULL && t->fetched_at <= now && now - t->fetched_at < max_age;
}

static int is_fresh(const struct aad_trust *t, long long now)
{
    return younger_than(t, now, AAD_TRUST_MAX_AGE);
}

static void save(const struct aad_config *cfg, const char *name, const json_t *entry,
                 const struct aad_log *log)
{
    const char *why = NULL;
    if (entry == NULL || aad_cache_write(cfg->cache_dir, name, entry, &why) != 0)
        aad_log(log, LOG_WARNING, "cannot cache signing keys in %s: %s", cfg->cache_dir,
                why ? why : "out of memory");
}

static void still_waiting(void *http)
{
    aad_http_still_alive(http);
}

/* One process fetches while concurrent logins wait for it, then read its
 * result. They wait, blocked, as long as its fetch of that many exchanges
 * may take (each at most http_timeout, plus slack for a loaded host), and
 * tell the module every half http_timeout that they are alive. Past that,
 * or without a usable lock, a login fetches on its own. */
static int lock_for_fetch(const struct aad_config *cfg, struct aad_http *http,
                          const struct aad_log *log, const char *name, int exchanges)
{
    long step_ms = cfg->http_timeout * 1000;
    struct aad_cache_wait how = {exchanges * step_ms + FETCH_WAIT_SLACK_MS, step_ms / 2,
                                 still_waiting, http};
    const char *why = NULL;
    int lock = aad_cache_lock(cfg->cache_dir, name, &how, &why);
    if (lock == AAD_CACHE_LOCK_TIMED_OUT)
        aad_log(log, LOG_WARNING, "key cache %s/%s: waited %ld ms for another login's fetch: "
                "fetching the signing keys too", cfg->cache_dir, name, how.timeout_ms);
    else if (lock < 0)
        aad_log(log, LOG_DEBUG, "key cache %s/%s not locked: %s", cfg->cache_dir, name, why);
    return lock;
}

/* "keys-<hash>.failed.json": when the last fetch failed, and why. */
static void failure_name(const char *name, char *failed, size_t room)
{
    snprintf(failed, room, "%.*s.failed.json", (int)(strlen(name) - strlen(".json")), name);
}

static void remember_failure(const struct aad_config *cfg, const char *name, long long now,
                             const char *reason)
{
    char failed[80];
    failure_name(name, failed, sizeof(failed));
    json_t *entry = json_pack("{s:I, s:s}", "failed_at", (json_int_t)now, "reason", reason);
    const char *why = NULL;
    if (entry != NULL)
        aad_cache_write(cfg->cache_dir, failed, entry, &why);
    json_decref(entry);
}

/* A fetch that failed less than FAILURE_MEMORY_S ago: its reason, else 0. */
static int recent_failure(const struct aad_config *cfg, const char *name, long long now,
                          char *reason, size_t size)
{
    char failed[80];
    failure_name(name, failed, sizeof(failed));
    const char *why = NULL;
    json_t *entry = aad_cache_read(cfg->cache_dir, failed, &why);
    json_int_t at = entry ? json_integer_value(json_object_get(entry, "failed_at")) : 0;
    const char *said = entry ? aad_json_string(entry, "reason") : NULL;
    int recent = entry != NULL && at <= now && now - at < FAILURE_MEMORY_S;
    if (recent)
        snprintf(reason, size, "another login's fetch failed %lld s ago: %s",
                 (long long)(now - at), said ? said : "?");
    json_decref(entry);
    return recent;
}

enum aad_status aad_trust_load(const struct aad_config *cfg, struct aad_http *http,
                               const struct aad_log *log, struct aad_trust **out,
                               struct aad_error *err)
{
    char name[64];
    aad_trust_cache_name(cfg, name, sizeof(name));
    long long now = (long long)time(NULL);
    struct aad_trust *cached = read_cached(cfg, name, log);
    if (is_fresh(cached, now)) {
        *out = cached;
        return AAD_OK;
    }

    /* Discovery and keys: two exchanges. One fetch in flight per entry: a
     * login that waited for another's reads its result, or the failure it
     * left (remembered for FAILURE_MEMORY_S), and does not ask again; only
     * past that fetch's own bound (a holder stuck) does it fetch itself. */
    int lock = lock_for_fetch(cfg, http, log, name, 2);
    now = (long long)time(NULL);
    if (lock >= 0 || lock == AAD_CACHE_LOCK_TIMED_OUT) {
        struct aad_trust *again = read_cached(cfg, name, log);
        if (is_fresh(again, now)) {
            aad_cache_unlock(lock);
            aad_trust_free(cached);
            *out = again;
            return AAD_OK;
        }
        if (again != NULL) {
            aad_trust_free(cached);
            cached = again;
        }
    }

    struct fetched f = {0};
    char earlier[sizeof(err->message)];
    enum aad_status st;
    if (recent_failure(cfg, name, now, earlier, sizeof(earlier)))
        st = aad_fail(err, AAD_UNAVAILABLE, "%s", earlier);
    else if ((st = fetch_all(cfg, http, &f, err)) != AAD_OK && err != NULL)
        remember_failure(cfg, name, now, err->message);
    if (st == AAD_OK) {
        json_t *entry = entry_of(cfg, &f.discovery, f.jwks_text, now, cached ? cached->forced_at : 0);
        save(cfg, name, entry, log);
        json_decref(entry);
        struct aad_trust *t = calloc(1, sizeof(*t));
        if (t == NULL) {
            st = aad_fail(err, AAD_UNAVAILABLE, "out of memory");
        } else {
            t->discovery = f.discovery;
            memset(&f.discovery, 0, sizeof(f.discovery));
            t->keys = f.keys;
            f.keys = NULL;
            t->fetched_at = now;
            t->forced_at = cached ? cached->forced_at : 0;
            *out = t;
        }
    } else if (cached != NULL && !younger_than(cached, now, AAD_TRUST_LAST_GOOD_MAX_AGE)) {
        /* A key withdrawn from the tenant's set must not live on for ever
         * in the cache of a host that cannot reach the authority. */
        char reason[sizeof(err->message)];
        snprintf(reason, sizeof(reason), "%s", err ? err->message : "?");
        st = aad_fail(err, AAD_UNAVAILABLE,
                      "signing keys cannot be refreshed (%s) and the last known-good set is "
                      "older than %d days",
                      reason, AAD_TRUST_LAST_GOOD_MAX_AGE / 86400);
        aad_log(log, LOG_ERR, "last known-good signing keys not used: fetched at %lld, more than "
                "%d days ago, and refreshing them failed (%s)",
                cached->fetched_at, AAD_TRUST_LAST_GOOD_MAX_AGE / 86400, reason);
    } else if (cached != NULL) {
        aad_log(log, LOG_WARNING, "refreshing signing keys failed (%s): using the last known-good set",
                err ? err->message : "?");
        *out = cached;
        cached = NULL;
        st = AAD_OK;
    }
    aad_cache_unlock(lock);
    aad_discovery_clear(&f.discovery);
    aad_keyset_free(f.keys);
    free(f.jwks_text);
    aad_trust_free(cached);
    return st;
}

/* The current cache entry with forced_at moved to now; NULL when unusable. */
static json_t *entry_with_forced_at(const struct aad_config *cfg, const char *name, long long now)
{
    const char *why = NULL;
    json_t *entry = aad_cache_read(cfg->cache_dir, name, &why);
    struct aad_trust *usable = entry ? trust_of_entry(cfg, entry) : NULL;
    if (usable == NULL) {
        json_decref(entry);
        return NULL;
    }
    aad_trust_free(usable);
    json_object_set_new(entry, "forced_at", json_integer(now));
    return entry;
}

enum aad_status aad_trust_find_key(struct aad_trust *trust, const struct aad_config *cfg,
                                   struct aad_http *http, const struct aad_log *log,
                                   const char *kid, const struct aad_key **key,
                                   struct aad_error *err)
{
    if ((*key = aad_keyset_find(trust->keys, kid)) != NULL)
        return AAD_OK;

    char name[64];
    aad_trust_cache_name(cfg, name, sizeof(name));
    int lock = lock_for_fetch(cfg, http, log, name, 1);
    long long now = (long long)time(NULL);
    /* Another login may have refreshed the keys, or forced a refetch, meanwhile. */
    struct aad_trust *latest = read_cached(cfg, name, log);
    if (latest != NULL && latest->fetched_at >= trust->fetched_at) {
        aad_keyset_free(trust->keys);
        trust->keys = latest->keys;
        latest->keys = NULL;
        trust->fetched_at = latest->fetched_at;
        trust->forced_at = latest->forced_at;
    }
    aad_trust_free(latest);
    enum aad_status st = AAD_OK;
    if ((*key = aad_keyset_find(trust->keys, kid)) == NULL) {
        if (trust->forced_at <= now && now - trust->forced_at < AAD_TRUST_FORCED_INTERVAL) {
            st = aad_fail(err, AAD_DENIED,
                          "token key %s is not among the tenant's keys (refetched %lld s ago)", kid,
                          now - trust->forced_at);
        } else {
            char *text = NULL;
            struct aad_keyset *fresh = NULL;
            trust->forced_at = now;
            struct aad_error fetch_err = {0};
            if (aad_trust_fetch_keys(http, trust->discovery.jwks_uri, &text, &fresh, &fetch_err) == AAD_OK) {
                aad_keyset_free(trust->keys);
                trust->keys = fresh;
                trust->fetched_at = now;
            } else {
                aad_log(log, LOG_WARNING, "refetching signing keys failed: %s", fetch_err.message);
            }
            /* Record the attempt even when it failed: it is what the rate limit counts. */
            json_t *entry = NULL;
            if (text != NULL)
                entry = entry_of(cfg, &trust->discovery, text, trust->fetched_at, now);
            else
                entry = entry_with_forced_at(cfg, name, now);
            if (entry != NULL)
                save(cfg, name, entry, log);
            json_decref(entry);
            free(text);
            if ((*key = aad_keyset_find(trust->keys, kid)) == NULL)
                st = aad_fail(err, AAD_DENIED, "token key %s is not among the tenant's keys", kid);
        }
    }
    aad_cache_unlock(lock);
    return st;
}

void aad_trust_free(struct aad_trust *trust)
{
    if (trust == NULL)
        return;
    aad_discovery_clear(&trust->discovery);
    aad_keyset_free(trust->keys);
    free(trust);
}
