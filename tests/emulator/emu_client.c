/*
 * emu_client: fork/exec an aad-emulator and talk to its control port
 * (libcurl + jansson). Plain C11 plus POSIX; for tests only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, prctl */
#endif
#include "emu_client.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EMU_ENV_MAX      16
#define EMU_START_MS     10000
#define EMU_STOP_MS      5000
#define EMU_RESPONSE_MAX (16 * 1024 * 1024)

struct emu {
    pid_t pid;
    char dir[4096];
    char *keys[EMU_ENV_MAX];
    char *values[EMU_ENV_MAX];
    size_t nenv;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *emu_env(const struct emu *e, const char *key)
{
    if (!e)
        return NULL;
    for (size_t i = 0; i < e->nenv; i++)
        if (!strcmp(e->keys[i], key))
            return e->values[i];
    return NULL;
}

const char *emu_authority(const struct emu *e) { return emu_env(e, "AUTHORITY"); }
const char *emu_ca_file(const struct emu *e) { return emu_env(e, "CA_FILE"); }
const char *emu_state_dir(const struct emu *e) { return e ? e->dir : NULL; }

static int load_env(struct emu *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/emulator.env", e->dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[4608];
    while (fgets(line, sizeof line, f) && e->nenv < EMU_ENV_MAX) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        e->keys[e->nenv] = strdup(line);
        e->values[e->nenv] = strdup(eq + 1);
        e->nenv++;
    }
    fclose(f);
    return emu_authority(e) && emu_ca_file(e) && emu_env(e, "CONTROL_PORT")
               ? 0 : -1;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void dump_log(const struct emu *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/emulator.log", e->dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char buf[1024];
    fprintf(stderr, "emu_client: --- %s ---\n", path);
    while (fgets(buf, sizeof buf, f))
        fputs(buf, stderr);
    fclose(f);
}

/* Waits for the child with a bound; SIGKILL once the bound is reached. */
static void reap(pid_t pid, long bound_ms)
{
    long long end = now_ms() + bound_ms;
    for (;;) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        if (now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return;
        }
        sleep_ms(20);
    }
}

static void emu_free(struct emu *e)
{
    for (size_t i = 0; i < e->nenv; i++) {
        free(e->keys[i]);
        free(e->values[i]);
    }
    free(e);
}

struct emu *emu_start(const char *emulator_path, const char *const extra_args[])
{
    struct emu *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/aad-emu.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e->dir)) {
        free(e);
        return NULL;
    }

    size_t nextra = 0;
    while (extra_args && extra_args[nextra])
        nextra++;
    const char **argv = calloc(nextra + 4, sizeof *argv);
    if (!argv) {
        rmdir(e->dir);
        free(e);
        return NULL;
    }
    argv[0] = emulator_path;
    argv[1] = "--state-dir";
    argv[2] = e->dir;
    for (size_t i = 0; i < nextra; i++)
        argv[3 + i] = extra_args[i];

    char logpath[4200];
    snprintf(logpath, sizeof logpath, "%s/emulator.log", e->dir);
    pid_t parent = getpid();
    e->pid = fork();
    if (e->pid == 0) {
        /* A crashed test must not leave the emulator behind. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            if (fd > STDERR_FILENO)
                close(fd);
        }
        execv(emulator_path, (char *const *)argv);
        fprintf(stderr, "emu_client: exec %s: %s\n", emulator_path,
                strerror(errno));
        _exit(127);
    }
    free(argv);
    if (e->pid < 0) {
        remove_dir(e->dir);
        free(e);
        return NULL;
    }

    long long end = now_ms() + EMU_START_MS;
    bool child_gone = false;
    while (load_env(e) != 0) {
        for (size_t i = 0; i < e->nenv; i++) {
            free(e->keys[i]);
            free(e->values[i]);
        }
        e->nenv = 0;
        if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
            child_gone = true;
            break;
        }
        if (now_ms() >= end)
            break;
        sleep_ms(20);
    }
    if (e->nenv == 0 || !emu_authority(e)) {
        fprintf(stderr, "emu_client: %s did not start\n", emulator_path);
        if (!child_gone) {
            kill(e->pid, SIGTERM);
            reap(e->pid, EMU_STOP_MS);
        }
        dump_log(e);
        remove_dir(e->dir);
        emu_free(e);
        return NULL;
    }
    return e;
}

struct buf {
    char *data;
    size_t len;
    bool overflow;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > EMU_RESPONSE_MAX) {
        b->overflow = true;
        return 0;
    }
    char *nd = realloc(b->data, b->len + n + 1);
    if (!nd)
        return 0;
    memcpy(nd + b->len, ptr, n);
    b->len += n;
    nd[b->len] = '\0';
    b->data = nd;
    return n;
}

int emu_control(struct emu *e, const char *method, const char *path,
                const char *json_body, char **response_out)
{
    if (response_out)
        *response_out = NULL;
    const char *port = emu_env(e, "CONTROL_PORT");
    if (!port || !method || !path)
        return -1;
    CURL *curl = curl_easy_init();
    if (!curl)
        return -1;
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%s%s", port, path);
    struct buf b = {0};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    if (!strcmp(method, "POST") || json_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body ? json_body : "");
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    int status = -1;
    if (curl_easy_perform(curl) == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        status = (int)code;
        if (response_out) {
            *response_out = b.data ? b.data : strdup("");
            b.data = NULL;
        }
    }
    free(b.data);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    return status;
}

int emu_stat(struct emu *e, const char *name)
{
    char *resp = NULL;
    if (emu_control(e, "GET", "/control/stats", NULL, &resp) != 200) {
        free(resp);
        return -1;
    }
    json_t *root = json_loads(resp, 0, NULL);
    free(resp);
    json_t *v = json_object_get(root, name);
    if (!v)
        v = json_object_get(json_object_get(root, "requests"), name);
    /* "grants.refresh_token.requests": a path of members. */
    char path[128];
    if (!v && strchr(name, '.') && strlen(name) < sizeof path) {
        strcpy(path, name);
        v = root;
        char *save = NULL;
        for (char *part = strtok_r(path, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
            v = json_object_get(v, part);
    }
    int n = json_is_integer(v) ? (int)json_integer_value(v) : -1;
    json_decref(root);
    return n;
}

void emu_stop(struct emu *e)
{
    if (!e)
        return;
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        reap(e->pid, EMU_STOP_MS);
    }
    remove_dir(e->dir);
    emu_free(e);
}

/* One HTTPS form POST to the emulator's authority path; the answer as JSON
 * (NULL on failure). */
static json_t *authority_post(struct emu *e, const char *path, const char *form)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    char url[512];
    snprintf(url, sizeof url, "%s/%s%s", emu_authority(e), emu_env(e, "TENANT_ID"), path);
    struct buf b = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, emu_ca_file(e));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    json_t *answer = curl_easy_perform(curl) == CURLE_OK && b.data
                         ? json_loads(b.data, 0, NULL)
                         : NULL;
    free(b.data);
    curl_easy_cleanup(curl);
    return answer;
}

char *emu_sign_in_refresh_token(struct emu *e, const char *oid)
{
    char form[2048], approve[160];
    snprintf(form, sizeof form, "client_id=%s&scope=openid%%20profile%%20offline_access",
             emu_env(e, "CLIENT_ID"));
    json_t *dc = authority_post(e, "/oauth2/v2.0/devicecode", form);
    const char *device_code = json_string_value(json_object_get(dc, "device_code"));
    snprintf(approve, sizeof approve, "{\"claims\":{\"oid\":\"%s\"}}", oid);
    char *rt = NULL;
    if (device_code && emu_control(e, "POST", "/control/approve", approve, NULL) == 200) {
        snprintf(form, sizeof form, "grant_type=device_code&client_id=%s&device_code=%s",
                 emu_env(e, "CLIENT_ID"), device_code);
        json_t *t = authority_post(e, "/oauth2/v2.0/token", form);
        const char *v = json_string_value(json_object_get(t, "refresh_token"));
        rt = v ? strdup(v) : NULL;
        json_decref(t);
    }
    json_decref(dc);
    return rt;
}

char *emu_live_refresh_token(struct emu *e, const char *oid)
{
    char *resp = NULL, *rt = NULL;
    if (emu_control(e, "GET", "/control/refresh", NULL, &resp) == 200) {
        json_t *root = json_loads(resp, 0, NULL), *t;
        size_t i;
        json_array_foreach(json_object_get(root, "refresh_tokens"), i, t) {
            const char *who = json_string_value(json_object_get(t, "oid"));
            const char *state = json_string_value(json_object_get(t, "state"));
            const char *token = json_string_value(json_object_get(t, "refresh_token"));
            if (who && state && token && !strcmp(who, oid) && !strcmp(state, "active")) {
                free(rt);
                rt = strdup(token);
            }
        }
        json_decref(root);
    }
    free(resp);
    return rt;
}
