/* harness.h - what the integration tests share: a running emulator, a
 * private config and cache directory, and a scripted user interface. */
#ifndef HARNESS_H
#define HARNESS_H

#include "aad_config.h"
#include "aad_login.h"
#include "emu_client.h"

struct harness {
    struct emu *emu;
    char dir[256];       /* private temp dir: config, cache, user map */
    char config[300];    /* path of the config file */
    char cache_dir[300];
    /* What the scripted user saw. */
    char user_code[64];
    int codes_shown;
    int requests_when_code_shown; /* emulator request count at that moment */
    int waits;
    /* Approval claims the scripted user sends once the code is shown (JSON
     * object text) or NULL to leave the code alone. */
    const char *approve_with;
    int decline;
};

/* Starts an emulator (extra_args NULL-terminated, may be NULL) and makes the
 * private dir. Returns 0, or -1 when the emulator cannot start. */
int harness_start(struct harness *h, const char *const extra_args[]);
void harness_stop(struct harness *h);

/* Writes the config file: the emulator's authority, tenant, client id and
 * CA, a short interval-friendly timeout, cache_dir in the private dir, then
 * the extra lines (may be NULL). */
void harness_write_config(struct harness *h, const char *extra_lines);

/* Loads the written config (plus module-style args) or fails the test. */
struct aad_config *harness_config(struct harness *h, int argc, const char **argv);

/* A UI that records the code and, as the simulated user, approves or
 * declines it through the emulator's control interface. */
struct aad_ui harness_ui(struct harness *h);

/* The local account the tests log in to (exists on every Debian system,
 * is not uid 0) and its Entra UPN under the emulator's domain. */
#define TEST_ACCOUNT "nobody"
#define TEST_UPN "nobody@contoso.example"

/* Sum of the emulator's request counters. */
int harness_requests(struct harness *h);

#endif
