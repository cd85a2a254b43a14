/*
 * Control interface (plain HTTP on 127.0.0.1): lets tests play the user
 * (approve/decline), rotate keys, tamper with the JWKS, inject faults and
 * read counters. JSON in, JSON out.
 */
#include "emulator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const ep_names[EP_COUNT + 1] = {
    "discovery", "keys", "devicecode", "token", "other", "graph",
    "client_credentials", "any"};

static enum MHD_Result send_obj(struct MHD_Connection *c, unsigned *status_out,
                                unsigned status, json_t *o)
{
    *status_out = status;
    return http_send_json(c, status, o, "no-store", NULL);
}

static enum MHD_Result send_err(struct MHD_Connection *c, unsigned *status_out,
                                unsigned status, const char *msg)
{
    return send_obj(c, status_out, status, json_pack("{s:s}", "error", msg));
}

void fault_free(struct fault *f)
{
    free(f->body);
    free(f->content_type);
    json_decref(f->headers);
    free(f->error);
    free(f->description);
    free(f->redirect);
    json_decref(f->merge);
    memset(f, 0, sizeof *f);
}

void faults_clear(struct emulator *emu)
{
    for (size_t q = 0; q <= EP_COUNT; q++) {
        for (size_t i = 0; i < emu->nfaults[q]; i++)
            fault_free(&emu->faults[q][i]);
        emu->nfaults[q] = 0;
    }
}

static char *dupnull(const char *s)
{
    return s ? strdup(s) : NULL;
}

int fault_take(struct emulator *emu, enum emu_ep ep, struct fault *out)
{
    int rc = -1;
    pthread_mutex_lock(&emu->lock);
    size_t qs[2] = {(size_t)ep, EP_ANY};
    for (size_t j = 0; j < 2 && rc; j++) {
        size_t q = qs[j];
        if (!emu->nfaults[q])
            continue;
        struct fault *f = &emu->faults[q][0];
        *out = *f;
        out->body = dupnull(f->body);
        out->content_type = dupnull(f->content_type);
        out->headers = f->headers ? json_deep_copy(f->headers) : NULL;
        out->error = dupnull(f->error);
        out->description = dupnull(f->description);
        out->redirect = dupnull(f->redirect);
        out->merge = f->merge ? json_deep_copy(f->merge) : NULL;
        if (f->count > 0 && --f->count == 0) {
            fault_free(f);
            memmove(&emu->faults[q][0], &emu->faults[q][1],
                    (emu->nfaults[q] - 1) * sizeof emu->faults[q][0]);
            emu->nfaults[q]--;
        }
        rc = 0;
    }
    pthread_mutex_unlock(&emu->lock);
    return rc;
}

/* Finds a code by user_code (case-insensitive), or the most recent pending
 * one that aad-login --check did not ask for. Caller holds the lock.
 * want_unscheduled skips codes that already have an auto-approval pending. */
static struct device_code *find_code(struct emulator *emu, const char *user_code,
                                     bool want_unscheduled)
{
    int64_t now = emu_now_ms();
    for (size_t i = 0; i < emu->ncodes; i++)
        code_refresh(emu, emu->codes[i], now);
    for (size_t i = emu->ncodes; i-- > 0;) {
        struct device_code *dc = emu->codes[i];
        if (user_code) {
            if (!strcasecmp(dc->user_code, user_code))
                return dc;
        } else if (dc->state == CODE_PENDING && !dc->from_check &&
                   !(want_unscheduled && dc->approve_at_ms)) {
            return dc;
        }
    }
    return NULL;
}

static const char *opt_string(const json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

static enum MHD_Result ctl_codes(struct emulator *emu, struct MHD_Connection *c,
                                 unsigned *st)
{
    json_t *arr = json_array();
    int64_t now = emu_now_ms();
    pthread_mutex_lock(&emu->lock);
    for (size_t i = 0; i < emu->ncodes; i++) {
        struct device_code *dc = emu->codes[i];
        code_refresh(emu, dc, now);
        json_t *o = json_object();
        json_object_set_new(o, "user_code", json_string(dc->user_code));
        json_object_set_new(o, "state", json_string(code_state_name(dc->state)));
        json_object_set_new(o, "client_id", json_string(dc->client_id));
        json_object_set_new(o, "scope", json_string(dc->scope));
        /* Test-only: lets a test replay a code or grep logs for it. */
        json_object_set_new(o, "device_code", json_string(dc->device_code));
        json_object_set_new(o, "polls", json_integer(dc->polls));
        json_object_set_new(o, "check", json_boolean(dc->from_check));
        json_object_set_new(o, "auto_approve",
                            json_boolean(dc->approve_at_ms != 0 &&
                                         dc->state == CODE_PENDING));
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, json_pack("{s:o}", "codes", arr));
}

static enum MHD_Result ctl_approve(struct emulator *emu, struct MHD_Connection *c,
                                   unsigned *st, const json_t *body, bool decline)
{
    struct approval a = {0};
    char err[160];
    if (!decline && approval_from_json(&a, body, err, sizeof err) != 0)
        return send_err(c, st, 400, err);
    const char *uc = opt_string(body, "user_code");
    pthread_mutex_lock(&emu->lock);
    struct device_code *dc = find_code(emu, uc, false);
    if (!dc || dc->state != CODE_PENDING) {
        char msg[96];
        if (!dc)
            snprintf(msg, sizeof msg, uc ? "no such user_code" : "no pending code");
        else
            snprintf(msg, sizeof msg, "code %s is %s", dc->user_code,
                     code_state_name(dc->state));
        pthread_mutex_unlock(&emu->lock);
        if (!decline)
            approval_free(&a);
        return send_err(c, st, dc ? 409 : 404, msg);
    }
    approval_free(&dc->appr);
    dc->approve_at_ms = 0;
    if (decline) {
        /* With aadsts: the user signed in but Entra refused the token
         * (a Conditional Access block, say): the next poll gets that error. */
        json_t *code = json_object_get(body, "aadsts");
        dc->refusal_aadsts = json_is_integer(code) ? (long)json_integer_value(code) : 0;
        dc->state = CODE_DECLINED;
    } else {
        dc->appr = a;
        dc->state = CODE_APPROVED;
    }
    json_t *o = json_pack("{s:s,s:s}", "user_code", dc->user_code, "state",
                          code_state_name(dc->state));
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

/* Ends a code's lifetime now (default: the most recent pending one), as if
 * its expires_in had passed. */
static enum MHD_Result ctl_expire(struct emulator *emu, struct MHD_Connection *c,
                                  unsigned *st, const json_t *body)
{
    const char *uc = opt_string(body, "user_code");
    pthread_mutex_lock(&emu->lock);
    struct device_code *dc = find_code(emu, uc, false);
    if (!dc || (dc->state != CODE_PENDING && dc->state != CODE_APPROVED)) {
        pthread_mutex_unlock(&emu->lock);
        return send_err(c, st, dc ? 409 : 404, dc ? "code is not pending" : "no pending code");
    }
    dc->expires_ms = emu_now_ms();
    dc->approve_at_ms = 0;
    dc->state = CODE_EXPIRED;
    json_t *o = json_pack("{s:s,s:s}", "user_code", dc->user_code, "state", "expired");
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_auto(struct emulator *emu, struct MHD_Connection *c,
                                unsigned *st, const json_t *body)
{
    json_t *dv = json_object_get(body, "delay_ms");
    json_t *cv = json_object_get(body, "count");
    if ((dv && !json_is_integer(dv)) || (cv && !json_is_integer(cv)))
        return send_err(c, st, 400, "'delay_ms' and 'count' must be integers");
    long delay = dv ? (long)json_integer_value(dv) : 0;
    long count = cv ? (long)json_integer_value(cv) : 1;
    if (delay < 0 || delay > 3600L * 1000 || count == 0 || count < -1)
        return send_err(c, st, 400, "bad 'delay_ms' or 'count'");
    bool cancel = json_is_true(json_object_get(body, "cancel"));
    struct approval a;
    char err[160];
    if (approval_from_json(&a, body, err, sizeof err) != 0)
        return send_err(c, st, 400, err);

    json_t *scheduled = json_array();
    pthread_mutex_lock(&emu->lock);
    emu->auto_armed = false;
    approval_free(&emu->auto_appr);
    if (cancel) {
        approval_free(&a);
    } else {
        /* A code already waiting is "the next one" from the user's view. */
        const char *uc = opt_string(body, "user_code");
        struct device_code *dc = find_code(emu, uc, uc == NULL);
        if (dc && dc->state == CODE_PENDING) {
            approval_free(&dc->appr);
            approval_copy(&dc->appr, &a);
            dc->approve_at_ms = emu_now_ms() + delay;
            json_array_append_new(scheduled, json_string(dc->user_code));
            if (count > 0)
                count--;
        }
        if (count != 0 && !uc) {
            emu->auto_armed = true;
            emu->auto_remaining = count;
            emu->auto_delay_ms = delay;
            emu->auto_appr = a;
        } else {
            approval_free(&a);
        }
    }
    json_t *o = json_pack("{s:o,s:b}", "scheduled", scheduled, "armed",
                          emu->auto_armed);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_rotate(struct emulator *emu, struct MHD_Connection *c,
                                  unsigned *st, const json_t *body)
{
    bool keep_old = json_is_true(json_object_get(body, "keep_old"));
    struct signing_key k;
    if (crypto_make_signing_key(&k) != 0)
        return send_err(c, st, 500, "key generation failed");
    pthread_mutex_lock(&emu->lock);
    if (!keep_old) {
        for (size_t i = 0; i < emu->nkeys; i++)
            crypto_free_key(&emu->keys[i]);
        emu->nkeys = 0;
    } else if (emu->nkeys == EMU_MAX_KEYS) {
        crypto_free_key(&emu->keys[0]);
        memmove(&emu->keys[0], &emu->keys[1],
                (emu->nkeys - 1) * sizeof emu->keys[0]);
        emu->nkeys--;
    }
    /* The new key goes last: clients must pick by kid, not by position. */
    emu->keys[emu->nkeys] = k;
    emu->current_key = emu->nkeys++;
    json_t *kids = json_array();
    for (size_t i = 0; i < emu->nkeys; i++)
        json_array_append_new(kids, json_string(emu->keys[i].kid));
    json_t *o = json_pack("{s:s,s:o}", "kid", k.kid, "keys", kids);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_jwks(struct emulator *emu, struct MHD_Connection *c,
                                unsigned *st, const json_t *body)
{
    char *override = NULL;
    json_t *keys = json_object_get(body, "keys");
    json_t *raw = json_object_get(body, "raw");
    if (json_is_true(json_object_get(body, "reset"))) {
        override = NULL;
    } else if (keys) {
        json_t *o = json_pack("{s:O}", "keys", keys);
        override = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    } else if (json_is_string(raw)) {
        override = strndup(json_string_value(raw), json_string_length(raw));
    } else {
        return send_err(c, st, 400, "need 'keys', 'raw' (string) or 'reset'");
    }
    pthread_mutex_lock(&emu->lock);
    free(emu->jwks_override);
    emu->jwks_override = override;
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, json_pack("{s:b}", "override", override != NULL));
}

static int fault_parse(struct fault *f, const json_t *b, size_t *queue,
                       char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->count = 1;
    const char *ep = opt_string(b, "endpoint");
    *queue = EP_ANY;
    if (ep) {
        size_t q;
        for (q = 0; q <= EP_COUNT && strcmp(ep, ep_names[q]); q++)
            ;
        if (q > EP_COUNT) {
            snprintf(err, errlen, "unknown endpoint '%.32s'", ep);
            return -1;
        }
        *queue = q;
    }
    json_t *v;
    if ((v = json_object_get(b, "status"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 100 ||
            json_integer_value(v) > 599) {
            snprintf(err, errlen, "'status' must be 100..599");
            return -1;
        }
        f->status = (int)json_integer_value(v);
    }
    if ((v = json_object_get(b, "count"))) {
        if (!json_is_integer(v) || json_integer_value(v) == 0 ||
            json_integer_value(v) < -1) {
            snprintf(err, errlen, "'count' must be positive or -1");
            return -1;
        }
        f->count = (long)json_integer_value(v);
    }
    if ((v = json_object_get(b, "delay_ms"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > EMU_MAX_DELAY_MS) {
            snprintf(err, errlen, "'delay_ms' must be 0..%d", EMU_MAX_DELAY_MS);
            return -1;
        }
        f->delay_ms = (long)json_integer_value(v);
    }
    if ((v = json_object_get(b, "oversize_bytes"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > EMU_MAX_OVERSIZE) {
            snprintf(err, errlen, "'oversize_bytes' must be 1..%lld",
                     (long long)EMU_MAX_OVERSIZE);
            return -1;
        }
        f->oversize = (long long)json_integer_value(v);
    }
    if ((v = json_object_get(b, "aadsts"))) {
        if (!json_is_integer(v)) {
            snprintf(err, errlen, "'aadsts' must be an integer");
            return -1;
        }
        f->aadsts = (long)json_integer_value(v);
    }
    if ((v = json_object_get(b, "headers"))) {
        const char *k;
        json_t *hv;
        if (!json_is_object(v)) {
            snprintf(err, errlen, "'headers' must be an object");
            return -1;
        }
        json_object_foreach(v, k, hv) {
            if (!json_is_string(hv)) {
                snprintf(err, errlen, "header values must be strings");
                return -1;
            }
        }
        f->headers = json_deep_copy(v);
    }
    struct {
        const char *name;
        char **dst;
    } strs[] = {{"body", &f->body},
                {"content_type", &f->content_type},
                {"error", &f->error},
                {"description", &f->description},
                {"redirect", &f->redirect}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        v = json_object_get(b, strs[i].name);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v)) {
            snprintf(err, errlen, "'%s' must be a string", strs[i].name);
            fault_free(f);
            return -1;
        }
        *strs[i].dst = strndup(json_string_value(v), json_string_length(v));
    }
    if ((v = json_object_get(b, "merge")) && !json_is_null(v)) {
        if (!json_is_object(v)) {
            snprintf(err, errlen, "'merge' must be an object");
            fault_free(f);
            return -1;
        }
        f->merge = json_deep_copy(v);
    }
    f->close = json_is_true(json_object_get(b, "close"));
    return 0;
}

static enum MHD_Result ctl_fault(struct emulator *emu, struct MHD_Connection *c,
                                 unsigned *st, const json_t *body)
{
    if (json_is_true(json_object_get(body, "clear"))) {
        pthread_mutex_lock(&emu->lock);
        faults_clear(emu);
        pthread_mutex_unlock(&emu->lock);
        return send_obj(c, st, 200, json_pack("{s:b}", "cleared", 1));
    }
    struct fault f;
    size_t q;
    char err[160];
    if (fault_parse(&f, body, &q, err, sizeof err) != 0)
        return send_err(c, st, 400, err);
    pthread_mutex_lock(&emu->lock);
    if (emu->nfaults[q] == EMU_MAX_FAULTS) {
        pthread_mutex_unlock(&emu->lock);
        fault_free(&f);
        return send_err(c, st, 507, "fault queue full");
    }
    emu->faults[q][emu->nfaults[q]++] = f;
    size_t n = emu->nfaults[q];
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, json_pack("{s:s,s:i}", "endpoint", ep_names[q],
                                          "queued", (int)n));
}

static enum MHD_Result ctl_stats(struct emulator *emu, struct MHD_Connection *c,
                                 unsigned *st, bool reset)
{
    json_t *req = json_object();
    pthread_mutex_lock(&emu->lock);
    static const char *const grant_names[GRANT_COUNT] = {
        "device_code", "refresh_token", "client_credentials"};
    if (reset) {
        memset(emu->requests, 0, sizeof emu->requests);
        memset(emu->grant_requests, 0, sizeof emu->grant_requests);
        memset(emu->grant_issued, 0, sizeof emu->grant_issued);
        emu->connections = 0;
        memset(&emu->poll_answered, 0, sizeof emu->poll_answered);
    }
    for (size_t i = 0; i < EP_COUNT; i++)
        json_object_set_new(req, ep_names[i], json_integer((json_int_t)emu->requests[i]));
    json_t *grants = json_object();
    for (size_t i = 0; i < GRANT_COUNT; i++)
        json_object_set_new(grants, grant_names[i],
                            json_pack("{s:I,s:I}", "requests",
                                      (json_int_t)emu->grant_requests[i], "issued",
                                      (json_int_t)emu->grant_issued[i]));
    json_t *o = json_pack("{s:o,s:o,s:I,s:f}", "requests", req, "grants", grants,
                          "connections", (json_int_t)emu->connections, "poll_answered_at",
                          (double)emu->poll_answered.tv_sec +
                              emu->poll_answered.tv_nsec / 1e9);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_client_cert(struct emulator *emu,
                                       struct MHD_Connection *c, unsigned *st,
                                       const json_t *body)
{
    const char *pem = opt_string(body, "pem");
    bool clear = json_is_true(json_object_get(body, "clear"));
    if (!clear && !pem)
        return send_err(c, st, 400, "need 'pem' (string) or 'clear'");
    char err[160];
    if (client_cert_set_pem(emu, clear ? NULL : pem, err, sizeof err) != 0)
        return send_err(c, st, 400, err);
    json_t *o = json_object();
    pthread_mutex_lock(&emu->lock);
    client_cert_info(emu, o);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_graph_members(struct emulator *emu,
                                         struct MHD_Connection *c, unsigned *st,
                                         const json_t *body)
{
    char err[160];
    json_t *answer = NULL;
    if (graph_set_members(emu, body, err, sizeof err, &answer) != 0)
        return send_err(c, st, 400, err);
    return send_obj(c, st, 200, answer);
}

static enum MHD_Result ctl_directory(struct emulator *emu, struct MHD_Connection *c,
                                     unsigned *st, const char *url, const json_t *body)
{
    char err[160];
    json_t *answer = NULL;
    if (directory_control(emu, url, body, err, sizeof err, &answer) != 0)
        return send_err(c, st, 400, err);
    return send_obj(c, st, 200, answer);
}

static enum MHD_Result ctl_api(struct emulator *emu, struct MHD_Connection *c,
                              unsigned *st, const json_t *body)
{
    char err[160];
    json_t *answer = NULL;
    if (api_settings(emu, body, err, sizeof err, &answer) != 0)
        return send_err(c, st, 400, err);
    return send_obj(c, st, 200, answer);
}

static enum MHD_Result ctl_refresh(struct emulator *emu, struct MHD_Connection *c,
                                   unsigned *st, const json_t *body)
{
    char err[160];
    json_t *answer = NULL;
    if (refresh_control(emu, body, err, sizeof err, &answer) != 0)
        return send_err(c, st, 400, err);
    return send_obj(c, st, 200, answer);
}

static json_t *graph_settings(struct emulator *emu) /* lock held */
{
    return json_pack("{s:i,s:b,s:I,s:I}", "page_size", (int)emu->graph_page_size,
                     "app_access", emu->graph_app_access, "users_count",
                     (json_int_t)emu->graph_users_count, "applications_count",
                     (json_int_t)emu->graph_apps_count);
}

static enum MHD_Result ctl_graph_settings(struct emulator *emu,
                                          struct MHD_Connection *c,
                                          unsigned *st, const json_t *body)
{
    json_t *ps = json_object_get(body, "page_size");
    json_t *aa = json_object_get(body, "app_access");
    json_t *uc = json_object_get(body, "users_count");
    json_t *ac = json_object_get(body, "applications_count");
    if ((ps && (!json_is_integer(ps) || json_integer_value(ps) < 1 ||
                json_integer_value(ps) > EMU_GRAPH_MAX_TOP)) ||
        (aa && !json_is_boolean(aa)) ||
        (uc && (!json_is_integer(uc) || json_integer_value(uc) < 0)) ||
        (ac && (!json_is_integer(ac) || json_integer_value(ac) < 0)))
        return send_err(c, st, 400, "'page_size' must be 1..999, 'app_access' a boolean, "
                                    "'users_count' and 'applications_count' >= 0");
    pthread_mutex_lock(&emu->lock);
    if (uc)
        emu->graph_users_count = (long)json_integer_value(uc);
    if (ac)
        emu->graph_apps_count = (long)json_integer_value(ac);
    if (ps)
        emu->graph_page_size = (long)json_integer_value(ps);
    if (aa)
        emu->graph_app_access = json_is_true(aa);
    json_t *o = graph_settings(emu);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_graph_state(struct emulator *emu,
                                       struct MHD_Connection *c, unsigned *st)
{
    int64_t now = emu_now_ms();
    json_t *toks = json_array();
    pthread_mutex_lock(&emu->lock);
    json_t *o = graph_settings(emu);
    json_object_set_new(o, "graph_url", json_string(emu->graph_base));
    json_object_set_new(o, "members", json_deep_copy(emu->graph_members));
    for (size_t i = 0; i < emu->ntokens; i++) {
        const struct graph_token *t = &emu->tokens[i];
        json_array_append_new(
            toks, json_pack("{s:s,s:s,s:b,s:I}", "kind", t->app ? "app" : "delegated",
                            "oid", t->oid, "user_read", t->user_read,
                            "expires_in_ms", (json_int_t)(t->expires_ms - now)));
    }
    json_object_set_new(o, "tokens", toks);
    client_cert_info(emu, o);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_info(struct emulator *emu, struct MHD_Connection *c,
                                unsigned *st)
{
    pthread_mutex_lock(&emu->lock);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i}", "authority",
                          emu->authority, "tenant", emu->cfg.tenant, "domain",
                          emu->cfg.domain, "client_id", emu->cfg.client_id,
                          "kid", emu->keys[emu->current_key].kid, "interval",
                          (int)emu->cfg.interval, "expires_in",
                          (int)emu->cfg.expires_in);
    json_object_set_new(o, "graph_url", json_string(emu->graph_base));
    client_cert_info(emu, o);
    pthread_mutex_unlock(&emu->lock);
    return send_obj(c, st, 200, o);
}

static enum MHD_Result ctl_browser(struct emulator *emu, struct MHD_Connection *c,
                                   unsigned *st, const char *url, const json_t *body)
{
    char err[256] = "";
    json_t *answer = NULL;
    int status = authcode_control(emu, url, body, &answer, err, sizeof err);
    if (answer)
        return send_obj(c, st, (unsigned)status, answer);
    return send_err(c, st, (unsigned)status, err);
}

enum MHD_Result control_handle(struct emulator *emu, struct MHD_Connection *c,
                               struct request *rq, const char *method,
                               const char *url)
{
    unsigned st = 0;
    enum MHD_Result r;
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    json_t *body = NULL;
    if (rq->too_large) {
        r = send_err(c, &st, 413, "request body too large");
        goto done;
    }
    if (post) {
        json_error_t jerr;
        body = rq->len ? json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr)
                       : json_object();
        if (!json_is_object(body)) {
            json_decref(body);
            body = NULL;
            r = send_err(c, &st, 400, "body must be a JSON object");
            goto done;
        }
    }

    if (get && !strcmp(url, "/control/codes"))
        r = ctl_codes(emu, c, &st);
    else if (get && !strcmp(url, "/control/stats"))
        r = ctl_stats(emu, c, &st, false);
    else if (get && !strcmp(url, "/control/info"))
        r = ctl_info(emu, c, &st);
    else if (post && !strcmp(url, "/control/stats/reset"))
        r = ctl_stats(emu, c, &st, true);
    else if (post && !strcmp(url, "/control/approve"))
        r = ctl_approve(emu, c, &st, body, false);
    else if (post && !strcmp(url, "/control/decline"))
        r = ctl_approve(emu, c, &st, body, true);
    else if (post && !strcmp(url, "/control/expire"))
        r = ctl_expire(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/api"))
        r = ctl_api(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/auto-approve"))
        r = ctl_auto(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/rotate"))
        r = ctl_rotate(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/jwks"))
        r = ctl_jwks(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/fault"))
        r = ctl_fault(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/client-cert"))
        r = ctl_client_cert(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/graph/members"))
        r = ctl_graph_members(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/graph/settings"))
        r = ctl_graph_settings(emu, c, &st, body);
    else if (post && !strcmp(url, "/control/refresh"))
        r = ctl_refresh(emu, c, &st, body);
    else if (get && !strcmp(url, "/control/refresh"))
        r = send_obj(c, &st, 200, refresh_list(emu));
    else if (get && !strcmp(url, "/control/graph"))
        r = ctl_graph_state(emu, c, &st);
    else if ((post || get) && !strncmp(url, "/control/graph/", 15) &&
             (!strcmp(url + 15, "directory") || (post && !strcmp(url + 15, "user"))))
        r = ctl_directory(emu, c, &st, url, body);
    else if (post && (!strcmp(url, "/control/browser") ||
                      !strcmp(url, "/control/browser/sign-in")))
        r = ctl_browser(emu, c, &st, url, body);
    else if (post && !strcmp(url, "/control/shutdown")) {
        rq->shutdown_after = true; /* acted on once the answer is sent */
        r = send_obj(c, &st, 200, json_pack("{s:b}", "shutdown", 1));
    } else
        r = send_err(c, &st, 404, "unknown control path or method");
done:
    json_decref(body);
    emu_log(emu, "control %s %s -> %u", method, url, st);
    return r;
}
