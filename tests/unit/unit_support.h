/* unit_support.h - what the unit tests share: assertions on a library
 * status and its message, and a private scratch directory per test group. */
#ifndef UNIT_SUPPORT_H
#define UNIT_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aad_base.h"

#define assert_message_has(err, sub)                                                          \
    do {                                                                                      \
        if (strstr((err).message, (sub)) == NULL)                                             \
            fail_msg("error message '%s' does not mention '%s'", (err).message, (sub));       \
    } while (0)

#define assert_status(st, want, err)                                                          \
    do {                                                                                      \
        enum aad_status st_ = (st);                                                           \
        if (st_ != (want))                                                                    \
            fail_msg("status %s, expected %s (message: '%s')", aad_status_name(st_),          \
                     aad_status_name(want), (err).message);                                   \
    } while (0)

/* mkdtemp a /tmp directory named after the test group into dir (size >= 64). */
static inline int unit_make_dir(char *dir, size_t size, const char *group)
{
    snprintf(dir, size, "/tmp/aad-unit-%s-XXXXXX", group);
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int unit_remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
