/*
 * Smoke test of emu_client against a real aad-emulator: a full device-code
 * flow over one reused TLS connection, control calls, stop and cleanup.
 *
 * usage: emu_client_test [EMULATOR]   (default: $AAD_EMULATOR, else
 *        tests/emulator/aad-emulator, else ./aad-emulator)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "emu_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
            failures++;                                                       \
        }                                                                     \
    } while (0)

struct buf {
    char data[65536];
    size_t len;
};

static size_t on_data(char *p, size_t s, size_t n, void *ud)
{
    struct buf *b = ud;
    size_t len = s * n;
    if (b->len + len >= sizeof b->data)
        return 0;
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* One HTTPS exchange on a shared easy handle (so the connection is reused). */
static json_t *https(CURL *c, const struct emu *e, const char *path,
                     const char *form, long *status)
{
    char url[512];
    struct buf b = {.len = 0};
    snprintf(url, sizeof url, "%s%s", emu_authority(e), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, emu_ca_file(e));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (form)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    else
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    *status = -1;
    if (curl_easy_perform(c) != CURLE_OK)
        return NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return json_loads(b.data, 0, NULL);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : getenv("AAD_EMULATOR");
    if (!path)
        path = access("tests/emulator/aad-emulator", X_OK) == 0
                   ? "tests/emulator/aad-emulator" : "./aad-emulator";
    const char *args[] = {"--lifetime", "60", "--interval", "1", NULL};
    struct emu *e = emu_start(path, args);
    if (!e) {
        fprintf(stderr, "FAIL: emu_start(%s)\n", path);
        return 1;
    }
    CHECK(strncmp(emu_authority(e), "https://127.0.0.1:", 18) == 0);
    CHECK(access(emu_ca_file(e), R_OK) == 0);
    const char *tenant = emu_env(e, "TENANT_ID");
    const char *client = emu_env(e, "CLIENT_ID");
    CHECK(tenant && client);
    char state_dir[4096];
    snprintf(state_dir, sizeof state_dir, "%s", emu_state_dir(e));

    CHECK(emu_control(e, "POST", "/control/stats/reset", NULL, NULL) == 200);
    CURL *c = curl_easy_init();
    char p[256], form[2048];
    long st;

    snprintf(p, sizeof p, "/%s/v2.0/.well-known/openid-configuration", tenant);
    json_t *d = https(c, e, p, NULL, &st);
    CHECK(st == 200 && json_is_string(json_object_get(d, "jwks_uri")));
    json_decref(d);

    snprintf(p, sizeof p, "/%s/oauth2/v2.0/devicecode", tenant);
    snprintf(form, sizeof form, "client_id=%s&scope=openid%%20profile", client);
    json_t *dc = https(c, e, p, form, &st);
    CHECK(st == 200);
    const char *device_code = json_string_value(json_object_get(dc, "device_code"));
    const char *user_code = json_string_value(json_object_get(dc, "user_code"));
    CHECK(device_code && user_code && strlen(user_code) == 9);

    snprintf(p, sizeof p, "/%s/oauth2/v2.0/token", tenant);
    snprintf(form, sizeof form,
             "grant_type=urn:ietf:params:oauth:grant-type:device_code"
             "&client_id=%s&device_code=%s", client, device_code ? device_code : "");
    json_t *t = https(c, e, p, form, &st);
    CHECK(st == 400);
    CHECK(!strcmp(str(t, "error"), "authorization_pending"));
    json_decref(t);

    char *resp = NULL, body[256];
    snprintf(body, sizeof body, "{\"user_code\":\"%s\"}", user_code ? user_code : "");
    CHECK(emu_control(e, "POST", "/control/approve", body, &resp) == 200);
    CHECK(resp && strstr(resp, "approved"));
    free(resp);

    t = https(c, e, p, form, &st);
    CHECK(st == 200);
    CHECK(json_is_string(json_object_get(t, "id_token")));
    CHECK(!strcmp(str(t, "token_type"), "Bearer"));
    json_decref(t);
    json_decref(dc);
    curl_easy_cleanup(c);

    CHECK(emu_stat(e, "connections") == 1); /* one handle, one TLS connection */
    CHECK(emu_stat(e, "discovery") == 1);
    CHECK(emu_stat(e, "devicecode") == 1);
    CHECK(emu_stat(e, "token") == 2);
    CHECK(emu_stat(e, "grants.device_code.requests") == 2);
    CHECK(emu_stat(e, "grants.device_code.issued") == 1);
    CHECK(emu_stat(e, "grants.refresh_token.requests") == 0);
    CHECK(emu_stat(e, "grants.nonsense.requests") == -1);
    CHECK(emu_stat(e, "nonsense") == -1);
    CHECK(emu_control(e, "GET", "/control/nonsense", NULL, NULL) == 404);

    emu_stop(e);
    struct stat sb;
    CHECK(stat(state_dir, &sb) != 0); /* state dir removed */

    CHECK(emu_start("/nonexistent/aad-emulator", NULL) == NULL);

    if (failures) {
        fprintf(stderr, "emu_client_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("emu_client_test: all checks passed\n");
    return 0;
}
