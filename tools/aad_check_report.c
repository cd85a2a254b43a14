/* aad_check_report.c - what `aad-login --check` found, as lines for the
 * administrator or as one JSON document for fleet monitoring (--json).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_report.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const result_names[] = {"ok", "fail", "warn", "info", "skip"};

int aad_check_report_init(struct aad_check_report *r, int json, int color)
{
    r->json = json;
    r->color = color && !json;
    r->worst = AAD_OK;
    r->doc = NULL;
    if (!json)
        return 0;
    r->doc = json_object();
    if (r->doc == NULL || json_object_set_new(r->doc, "checks", json_array()) != 0)
        return -1;
    return 0;
}

static int rank(enum aad_status st)
{
    return st == AAD_CONFIG_ERROR ? 2 : st == AAD_OK ? 0 : 1;
}

static void add_json(struct aad_check_report *r, const struct aad_check_item *it)
{
    json_t *o = json_pack("{s:s, s:s}", "check", it->name, "result", result_names[it->result]);
    if (o == NULL)
        return;
    if (it->result == CHECK_FAIL)
        json_object_set_new(o, "status", json_string(aad_status_name(it->status)));
    if (it->cause != NULL)
        json_object_set_new(o, "cause", json_string(it->cause));
    if (it->aadsts != 0)
        json_object_set_new(o, "aadsts", json_integer(it->aadsts));
    if (it->ms >= 0)
        json_object_set_new(o, "ms", json_integer((json_int_t)it->ms));
    if (it->message != NULL)
        json_object_set_new(o, "message", json_string(it->message));
    if (it->hint != NULL)
        json_object_set_new(o, "hint", json_string(it->hint));
    json_array_append_new(json_object_get(r->doc, "checks"), o);
}

static void add_text(const struct aad_check_report *r, const struct aad_check_item *it)
{
    static const char *const colors[] = {"\033[32m", "\033[31m", "\033[33m", "", ""};
    const char *on = r->color ? colors[it->result] : "", *off = r->color ? "\033[0m" : "";
    printf("%s%-4s%s %s", on, it->result == CHECK_FAIL ? "FAIL" : result_names[it->result], off,
           it->name);
    if (it->ms >= 0)
        printf(" (%.0f ms)", it->ms);
    if (it->message != NULL)
        printf(": %s", it->message);
    putchar('\n');
    if (it->aadsts != 0)
        printf("     Entra ID: AADSTS%ld\n", it->aadsts);
    if (it->hint != NULL)
        printf("     %s%s\n",
               it->result != CHECK_FAIL         ? ""
               : it->status == AAD_CONFIG_ERROR ? "Configuration: "
               : it->status == AAD_UNAVAILABLE  ? "Outage: "
                                                : "Refused: ",
               it->hint);
}

void aad_check_report_add(struct aad_check_report *r, const struct aad_check_item *item)
{
    if (item->result == CHECK_FAIL && rank(item->status) > rank(r->worst))
        r->worst = item->status;
    if (r->json)
        add_json(r, item);
    else
        add_text(r, item);
    fflush(stdout);
}

void aad_check_report_set(struct aad_check_report *r, const char *key, json_t *value)
{
    if (r->json && value != NULL)
        json_object_set_new(r->doc, key, value);
    else
        json_decref(value);
}

enum aad_status aad_check_report_finish(struct aad_check_report *r)
{
    if (r->json) {
        json_object_set_new(r->doc, "result", json_string(aad_status_name(r->worst)));
        char *text = json_dumps(r->doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (text != NULL) {
            puts(text);
            free(text);
        }
        json_decref(r->doc);
        r->doc = NULL;
    }
    fflush(stdout);
    return r->worst;
}

void aad_check_say(struct aad_check_report *r, const char *name, enum aad_check_result result,
                   enum aad_status status, const char *cause, const char *message,
                   const char *hint)
{
    struct aad_check_item it = {name, result, status, cause, 0, -1, message, hint};
    aad_check_report_add(r, &it);
}

void aad_check_note(struct aad_check_report *r, const char *name, enum aad_check_result result,
                    const char *message, const char *hint)
{
    aad_check_say(r, name, result, AAD_OK, NULL, message, hint);
}

void aad_check_fail_config(struct aad_check_report *r, const char *name, const char *cause,
                           const char *message, const char *hint)
{
    aad_check_say(r, name, CHECK_FAIL, AAD_CONFIG_ERROR, cause, message, hint);
}
