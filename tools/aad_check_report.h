/* aad_check_report.h - what `aad-login --check` found, as lines for the
 * administrator or as one JSON document for fleet monitoring (--json).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_REPORT_H
#define AAD_CHECK_REPORT_H

#include <jansson.h>
#include "aad_base.h"

enum aad_check_result { CHECK_OK, CHECK_FAIL, CHECK_WARN, CHECK_INFO, CHECK_SKIP };

struct aad_check_report {
    int json;           /* collect and print one JSON document at the end */
    int color;          /* text on a terminal */
    json_t *doc;        /* the JSON document (json only) */
    enum aad_status worst; /* configuration error beats unavailable beats success */
};

/* One finding. status is what a failure means (AAD_CONFIG_ERROR or
 * AAD_UNAVAILABLE; ignored unless result is CHECK_FAIL); cause is a short
 * stable word for monitoring ("client_id", "tenant", "unreachable", ...;
 * NULL: none); aadsts is Entra's error code (0: none); ms < 0: not timed;
 * hint (NULL: none) says what to do about it. */
struct aad_check_item {
    const char *name;
    enum aad_check_result result;
    enum aad_status status;
    const char *cause;
    long aadsts;
    double ms;
    const char *message;
    const char *hint;
};

/* 0, or -1 when out of memory. */
int aad_check_report_init(struct aad_check_report *r, int json, int color);
void aad_check_report_add(struct aad_check_report *r, const struct aad_check_item *item);

/* A finding without an exchange (not timed, no AADSTS code). */
void aad_check_note(struct aad_check_report *r, const char *name, enum aad_check_result result,
                    const char *message, const char *hint);
/* A configuration error found without an exchange. */
void aad_check_fail_config(struct aad_check_report *r, const char *name, const char *cause,
                           const char *message, const char *hint);
/* The same, for a finding that is not timed and carries no AADSTS code. */
void aad_check_say(struct aad_check_report *r, const char *name, enum aad_check_result result,
                   enum aad_status status, const char *cause, const char *message,
                   const char *hint);

/* Attaches a JSON value under key of the document (json only; steals it). */
void aad_check_report_set(struct aad_check_report *r, const char *key, json_t *value);

/* Prints the JSON document (json) or nothing more (text), releases r and
 * returns the worst status found. */
enum aad_status aad_check_report_finish(struct aad_check_report *r);

#endif
