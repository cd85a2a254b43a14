/* aad_http.h - the HTTPS client: one libcurl connection for one login.
 *
 * Only https:// is ever spoken, peer and host verification cannot be turned
 * off, redirects are never followed, every exchange is bounded in time and
 * every body in size. The same handle is reused for all requests of a login
 * so that one TLS handshake per host serves the whole login.
 *
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#ifndef AAD_HTTP_H
#define AAD_HTTP_H

#include <stddef.h>
#include "aad_base.h"
#include "aad_safefile.h"

#define AAD_HTTP_MAX_BODY (1024 * 1024)

struct aad_http;

struct aad_http_options {
    const char *ca_file; /* NULL: the system trust store (aad_ca_dir.h) */
    const struct aad_preread_set *files; /* ca_file as read ahead, if it was (may be NULL) */
    const char *proxy;   /* NULL: none */
    long timeout_s;      /* one whole exchange: connect + transfer */
    /* Called before each exchange, which may then take up to timeout_s (the
     * helper tells the module it is still alive). May be NULL. */
    void (*before_exchange)(void *ctx);
    void *hook_ctx;
    const char *user_agent; /* NULL: PACKAGE/VERSION (aad-login --check tags its own) */
};

struct aad_http_response {
    long status;      /* HTTP status code */
    char *body;       /* NUL-terminated, at most AAD_HTTP_MAX_BODY bytes */
    size_t len;
    long retry_after; /* seconds from a Retry-After header, -1 when absent */
    int is_json;      /* Content-Type is application/json */
};

enum aad_status aad_http_new(const struct aad_http_options *opts, struct aad_http **out,
                             struct aad_error *err);
void aad_http_free(struct aad_http *http);

/* GET url. Transport and TLS failures are AAD_UNAVAILABLE, except a
 * server certificate that ca_file does not vouch for (AAD_FAILURE_CA_FILE:
 * this host's configuration); any HTTP status is a success of the exchange
 * and is left to the caller to judge. */
enum aad_status aad_http_get(struct aad_http *http, const char *url, struct aad_http_response *resp,
                             struct aad_error *err);

/* POST an application/x-www-form-urlencoded body (which may hold secrets:
 * it is not copied, the caller wipes it). */
enum aad_status aad_http_post_form(struct aad_http *http, const char *url, const char *form,
                                   struct aad_http_response *resp, struct aad_error *err);

/* POST a JSON body with "Authorization: Bearer <bearer>" (Microsoft Graph).
 * The bearer token is wiped from the request headers afterwards. */
enum aad_status aad_http_post_json(struct aad_http *http, const char *url, const char *bearer,
                                   const char *json, struct aad_http_response *resp,
                                   struct aad_error *err);

/* GET url with "Authorization: Bearer <bearer>" and one more header line
 * ("ConsistencyLevel: eventual"), or none when header is NULL (Microsoft
 * Graph). The bearer token is wiped from the request headers afterwards. */
enum aad_status aad_http_get_bearer(struct aad_http *http, const char *url, const char *bearer,
                                    const char *header, struct aad_http_response *resp,
                                    struct aad_error *err);

/* Wipes and frees the body. */
void aad_http_response_clear(struct aad_http_response *resp);

/* Percent-encodes s for a form body; malloc'd. */
char *aad_http_escape(struct aad_http *http, const char *s);

/* Calls the before_exchange hook (the next step takes at most timeout_s)
 * for a caller that waits for something other than an exchange of its own:
 * another login's fetch. */
void aad_http_still_alive(struct aad_http *http);

/* True when the last exchange got no answer within timeout_s (the
 * authority hangs, rather than refusing or failing quickly). */
int aad_http_timed_out(const struct aad_http *http);

/* This host's clock minus the authority's, from the Date header of the
 * last answer that had one (whole seconds: +-1 s). 1 and *offset_s when
 * known, 0 when no answer carried a Date yet. */
int aad_http_clock_offset(const struct aad_http *http, long *offset_s);

/* Requests made and new connections opened (TLS handshakes) so far. */
void aad_http_counters(const struct aad_http *http, long *requests, long *connections);

#endif
