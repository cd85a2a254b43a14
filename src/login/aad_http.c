/* aad_http.c - the HTTPS client on libcurl.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_http.h"
#include "aad_ca_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <time.h>

#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#ifndef AAD_SYSTEM_CA_DIR /* configure --with-system-ca-dir sets it */
#define AAD_SYSTEM_CA_DIR "/etc/ssl/certs"
#endif

struct aad_http {
    CURL *curl;
    long timeout_s;
    void (*before_exchange)(void *ctx);
    void *hook_ctx;
    long requests;
    long connections;
    int timed_out; /* the last exchange got no answer within timeout_s */
    const char *ca_file; /* the configuration's, NULL: the system trust store */
    int have_clock;      /* an answer carried a Date header */
    long clock_offset_s; /* this host's clock minus the authority's, then */
};

struct sink {
    struct aad_http_response *resp;
    size_t cap;
    int overflow;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sink *sink = userp;
    struct aad_http_response *resp = sink->resp;
    size_t n = size * nmemb;
    if (n > AAD_HTTP_MAX_BODY - resp->len) {
        sink->overflow = 1;
        return 0; /* aborts the transfer */
    }
    if (resp->len + n + 1 > sink->cap) {
        size_t cap = sink->cap ? sink->cap : 4096;
        while (cap < resp->len + n + 1)
            cap *= 2;
        char *bigger = malloc(cap);
        if (bigger == NULL)
            return 0;
        if (resp->body != NULL) {
            memcpy(bigger, resp->body, resp->len);
            aad_wipe(resp->body, resp->len);
            free(resp->body);
        }
        resp->body = bigger;
        sink->cap = cap;
    }
    memcpy(resp->body + resp->len, data, n);
    resp->len += n;
    resp->body[resp->len] = '\0';
    return n;
}

/* The Date header of the last answer (RFC 9110 IMF-fixdate): the
 * authority's clock, as seconds since the epoch; 0 when absent or bad. */
static time_t answer_date(CURL *c)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(c, "Date", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == NULL)
        return 0;
    time_t t = curl_getdate(h->value, NULL);
    return t > 0 ? t : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct aad_http_response *resp = ((struct sink *)userp)->resp;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        /* Entra sends whole seconds only; anything else counts as absent. */
        long v = 0;
        size_t i = sizeof(name) - 1;
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        size_t digits = 0;
        for (; i < n && data[i] >= '0' && data[i] <= '9' && digits < 7; i++, digits++)
            v = v * 10 + (data[i] - '0');
        if (digits > 0 && digits < 7)
            resp->retry_after = v;
    }
    return n;
}

enum aad_status aad_http_new(const struct aad_http_options *opts, struct aad_http **out,
                             struct aad_error *err)
{
    struct aad_http *http = calloc(1, sizeof(*http));
    if (http == NULL || (http->curl = curl_easy_init()) == NULL) {
        free(http);
        return aad_fail(err, AAD_UNAVAILABLE, "cannot start the HTTPS client");
    }
    http->timeout_s = opts->timeout_s;
    http->ca_file = opts->ca_file;
    http->before_exchange = opts->before_exchange;
    http->hook_ctx = opts->hook_ctx;
    CURL *c = http->curl;
    int bad = 0;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    /* Signals belong to the host process (sshd, sudo): never use them for timeouts. */
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, opts->timeout_s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts->timeout_s) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)AAD_HTTP_MAX_BODY) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT,
                              opts->user_agent ? opts->user_agent : PACKAGE_NAME "/" PACKAGE_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    /* No proxy unless configured: an environment variable must not redirect logins. */
    bad |= curl_easy_setopt(c, CURLOPT_PROXY, opts->proxy ? opts->proxy : "") != CURLE_OK;
    /* Exactly one source of trust anchors, so that OpenSSL parses no more
     * than it must for each connection: ca_file alone; else the system's
     * hashed directory alone (libcurl's bundle default unset, or every
     * anchor of it would be parsed too); else that bundle (no such
     * directory here). */
    const struct aad_preread *ca = aad_preread_find(opts->files, opts->ca_file);
    if (ca != NULL) {
        /* Read while the helper was still root (it may be root's alone). */
        struct curl_blob blob = {ca->text, ca->len, CURL_BLOB_COPY};
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, NULL) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK;
    } else if (opts->ca_file != NULL) {
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK;
    } else if (aad_ca_dir_is_hashed(AAD_SYSTEM_CA_DIR)) {
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, NULL) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_CAPATH, AAD_SYSTEM_CA_DIR) != CURLE_OK;
    }
    if (bad) {
        aad_http_free(http);
        return aad_fail(err, AAD_UNAVAILABLE, "the HTTPS client does not support a required option");
    }
    *out = http;
    return AAD_OK;
}

void aad_http_free(struct aad_http *http)
{
    if (http == NULL)
        return;
    curl_easy_cleanup(http->curl);
    free(http);
}

void aad_http_still_alive(struct aad_http *http)
{
    if (http != NULL && http->before_exchange != NULL)
        http->before_exchange(http->hook_ctx);
}

/* The server's certificate did not verify: when no trust anchor vouches
 * for its issuer, that is ca_file's fault (this host's configuration) or
 * the system store's (a TLS-inspecting proxy whose CA it lacks); an expired
 * or misnamed certificate is the server's. */
static enum aad_status untrusted(struct aad_http *http, const char *url, CURLcode rc,
                                 struct aad_error *err)
{
    long result = 0;
    curl_easy_getinfo(http->curl, CURLINFO_SSL_VERIFYRESULT, &result);
    int no_anchor = rc == CURLE_SSL_CACERT_BADFILE ||
                    result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                    result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                    result == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                    result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                    result == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
    const char *why = rc == CURLE_SSL_CACERT_BADFILE ? "no usable certificate in it"
                      : result != 0 ? X509_verify_cert_error_string(result)
                                    : curl_easy_strerror(rc);
    if (no_anchor && http->ca_file != NULL)
        return aad_fail_as(err, AAD_FAILURE_CA_FILE,
                           "%s: the server's certificate is not issued by a CA of ca_file %s (%s)",
                           url, http->ca_file, why);
    if (no_anchor)
        return aad_fail_as(err, AAD_FAILURE_SYSTEM_TRUST,
                        "%s: the server's certificate is not issued by a CA of the system trust "
                        "store (%s; %s)",
                        url, AAD_SYSTEM_CA_DIR, why);
    return aad_fail(err, AAD_UNAVAILABLE, "%s: the server's certificate failed verification (%s)",
                    url, why);
}

static enum aad_status perform(struct aad_http *http, const char *url,
                               struct aad_http_response *resp, struct aad_error *err)
{
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    struct sink sink = {.resp = resp};
    CURL *c = http->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);

    aad_http_still_alive(http);
    CURLcode rc = curl_easy_perform(c);
    http->requests++;
    http->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    long connects = 0;
    if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        http->connections += connects;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, NULL);

    if (rc != CURLE_OK) {
        aad_http_response_clear(resp);
        if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED)
            return aad_fail(err, AAD_UNAVAILABLE, "%s: response larger than %d bytes", url,
                            AAD_HTTP_MAX_BODY);
        if (rc == CURLE_OPERATION_TIMEDOUT)
            return aad_fail(err, AAD_UNAVAILABLE, "%s: no answer within %ld s", url,
                            http->timeout_s);
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
            return untrusted(http, url, rc, err);
        return aad_fail(err, AAD_UNAVAILABLE, "%s: %s", url, curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    time_t date = answer_date(c);
    if (date > 0) {
        http->have_clock = 1;
        http->clock_offset_s = (long)((long long)time(NULL) - (long long)date);
    }
    char *type = NULL;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != NULL) {
        size_t n = strcspn(type, "; ");
        resp->is_json = n == strlen("application/json") &&
                        strncasecmp(type, "application/json", n) == 0;
    }
    if (resp->body == NULL) {
        resp->body = calloc(1, 1);
        if (resp->body == NULL)
            return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    return AAD_OK;
}

enum aad_status aad_http_get(struct aad_http *http, const char *url, struct aad_http_response *resp,
                             struct aad_error *err)
{
    curl_easy_setopt(http->curl, CURLOPT_HTTPGET, 1L);
    return perform(http, url, resp, err);
}

enum aad_status aad_http_post_form(struct aad_http *http, const char *url, const char *form,
                                   struct aad_http_response *resp, struct aad_error *err)
{
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    enum aad_status st = perform(http, url, resp, err);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, NULL);
    return st;
}

static void free_secret_headers(struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h != NULL; h = h->next)
        aad_wipe(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

/* "Authorization: Bearer <bearer>" and the extra header, if any: a list
 * the caller frees with free_secret_headers. NULL when out of memory. */
static struct curl_slist *bearer_headers(const char *bearer, const char *extra)
{
    size_t auth_size = strlen(bearer) + 32;
    char *auth = malloc(auth_size);
    if (auth == NULL)
        return NULL;
    snprintf(auth, auth_size, "Authorization: Bearer %s", bearer);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    aad_free_secret(auth);
    if (headers == NULL || extra == NULL)
        return headers;
    struct curl_slist *more = curl_slist_append(headers, extra);
    if (more == NULL)
        free_secret_headers(headers);
    return more;
}

enum aad_status aad_http_post_json(struct aad_http *http, const char *url, const char *bearer,
                                   const char *json, struct aad_http_response *resp,
                                   struct aad_error *err)
{
    struct curl_slist *headers = bearer_headers(bearer, "Content-Type: application/json");
    if (headers == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    enum aad_status st = perform(http, url, resp, err);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, NULL);
    free_secret_headers(headers);
    return st;
}

enum aad_status aad_http_get_bearer(struct aad_http *http, const char *url, const char *bearer,
                                    const char *header, struct aad_http_response *resp,
                                    struct aad_error *err)
{
    struct curl_slist *headers = bearer_headers(bearer, header);
    if (headers == NULL)
        return aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(http->curl, CURLOPT_HTTPGET, 1L);
    enum aad_status st = perform(http, url, resp, err);
    curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, NULL);
    free_secret_headers(headers);
    return st;
}

void aad_http_response_clear(struct aad_http_response *resp)
{
    if (resp->body != NULL) {
        aad_wipe(resp->body, resp->len);
        free(resp->body);
    }
    resp->body = NULL;
    resp->len = 0;
}

char *aad_http_escape(struct aad_http *http, const char *s)
{
    char *tmp = curl_easy_escape(http->curl, s, 0);
    if (tmp == NULL)
        return NULL;
    char *copy = strdup(tmp);
    aad_wipe(tmp, strlen(tmp));
    curl_free(tmp);
    return copy;
}

void aad_http_counters(const struct aad_http *http, long *requests, long *connections)
{
    *requests = http->requests;
    *connections = http->connections;
}

int aad_http_timed_out(const struct aad_http *http)
{
    return http->timed_out;
}

int aad_http_clock_offset(const struct aad_http *http, long *offset_s)
{
    if (http == NULL || !http->have_clock)
        return 0;
    *offset_s = http->clock_offset_s;
    return 1;
}
