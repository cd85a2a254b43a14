/* harness.c - emulator, private config and a scripted user for tests. */
#include "config.h"

#include "harness.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#ifndef EMULATOR_PATH
#define EMULATOR_PATH "tests/emulator/aad-emulator"
#endif

int harness_start(struct harness *h, const char *const extra_args[])
{
    memset(h, 0, sizeof(*h));
    snprintf(h->dir, sizeof(h->dir), "/tmp/pam_aad_test.XXXXXX");
    if (mkdtemp(h->dir) == NULL)
        return -1;
    snprintf(h->config, sizeof(h->config), "%s/pam_aad.conf", h->dir);
    snprintf(h->cache_dir, sizeof(h->cache_dir), "%s/cache", h->dir);
    h->emu = emu_start(EMULATOR_PATH, extra_args);
    return h->emu != NULL ? 0 : -1;
}

void harness_stop(struct harness *h)
{
    emu_stop(h->emu);
    h->emu = NULL;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: could not remove %s\n", h->dir);
}

/* The test account is nobody (it exists everywhere): above UID_MAX, it is
 * reachable only through a user_map line naming it. */
static void write_user_map(struct harness *h, char *path, size_t size)
{
    snprintf(path, size, "%s.user_map", h->config);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        abort();
    }
    fprintf(f, "%s %s@%s\n", TEST_ACCOUNT, TEST_ACCOUNT, emu_env(h->emu, "DOMAIN"));
    fclose(f);
}

void harness_write_config(struct harness *h, const char *extra_lines)
{
    char user_map[400];
    write_user_map(h, user_map, sizeof(user_map));
    int fd = open(h->config, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        perror(h->config);
        abort();
    }
    fprintf(f,
            "# written by the test harness\n"
            "tenant = %s\n"
            "client_id = %s\n"
            "authority = %s\n"
            "ca_file = %s\n"
            "domains = %s\n"
            "user_map = %s\n"
            "cache_dir = %s\n"
            "runtime_dir = %s/run\n"
            "http_timeout = 5\n"
            "timeout = 60\n"
            "qr = no\n"
            "wait_for_enter = no\n"
            "%s\n",
            emu_env(h->emu, "TENANT_ID"), emu_env(h->emu, "CLIENT_ID"), emu_authority(h->emu),
            emu_ca_file(h->emu), emu_env(h->emu, "DOMAIN"), user_map, h->cache_dir,
            h->dir, extra_lines ? extra_lines : "");
    fclose(f);
}

struct aad_config *harness_config(struct harness *h, int argc, const char **argv)
{
    const char *args[16];
    char config_arg[320];
    snprintf(config_arg, sizeof(config_arg), "config=%s", h->config);
    args[0] = config_arg;
    for (int i = 0; i < argc && i < 15; i++)
        args[i + 1] = argv[i];
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    if (aad_config_load("/nonexistent", argc + 1, args, &cfg, &err) != AAD_OK) {
        fprintf(stderr, "harness: config: %s\n", err.message);
        abort();
    }
    return cfg;
}

int harness_requests(struct harness *h)
{
    static const char *const names[] = {"discovery", "keys", "devicecode", "token", "other"};
    int total = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        total += emu_stat(h->emu, names[i]);
    return total;
}

static int scripted_show_code(void *ctx, const char *message, const char *qr, const char *prompt,
                              int wait)
{
    (void)qr;
    (void)wait;
    struct harness *h = ctx;
    h->codes_shown++;
    h->requests_when_code_shown = harness_requests(h);
    (void)prompt;
    /* The code stands on a line of its own: "  Code: X". */
    const char *code = strstr(message, "\n  Code: ");
    if (code == NULL || sscanf(code + 9, "%63[A-Za-z0-9-]", h->user_code) != 1)
        return -1;
    if (h->decline) {
        char body[128];
        snprintf(body, sizeof(body), "{\"user_code\":\"%s\"}", h->user_code);
        emu_control(h->emu, "POST", "/control/decline", body, NULL);
    } else if (h->approve_with != NULL) {
        json_t *req = json_pack("{s:s, s:o}", "user_code", h->user_code, "claims",
                                json_loads(h->approve_with, 0, NULL));
        char *body = json_dumps(req, JSON_COMPACT);
        emu_control(h->emu, "POST", "/control/approve", body, NULL);
        free(body);
        json_decref(req);
    }
    return 0;
}

static void scripted_waiting(void *ctx, long seconds_left)
{
    (void)seconds_left;
    ((struct harness *)ctx)->waits++;
}

struct aad_ui harness_ui(struct harness *h)
{
    struct aad_ui ui = {.show_code = scripted_show_code, .waiting = scripted_waiting, .ctx = h};
    return ui;
}
