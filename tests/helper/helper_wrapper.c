/* helper_wrapper.c - a helper= wrapper for tests: sets up the environment
 * the module deliberately does not pass on (a fake clock through
 * libfaketime, for instance), then executes the real helper.
 *
 * The module executes helpers through the descriptor it checked (fexecve),
 * which works for compiled programs only, and gives them no arguments and
 * a fixed environment: so the wrapper reads its instructions from the file
 * beside itself, "<its own path>.conf", lines of
 *     env NAME=VALUE       (added to the environment)
 *     exec /path/to/helper (the program to run; the last one wins)
 * The file must be owned by the wrapper's owner and not writable by others
 * (it decides what runs as root). */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    char self[PATH_MAX], conf[PATH_MAX + 8], line[4096], target[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 126;
    self[n] = '\0';
    snprintf(conf, sizeof(conf), "%s.conf", self);
    struct stat me, st;
    FILE *f = fopen(conf, "re");
    if (f == NULL || stat(self, &me) != 0 || fstat(fileno(f), &st) != 0 ||
        st.st_uid != me.st_uid || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return 126;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "env ", 4) == 0 && strchr(line + 4, '=') != NULL)
            putenv(strdup(line + 4));
        else if (strncmp(line, "exec ", 5) == 0)
            snprintf(target, sizeof(target), "%s", line + 5);
    }
    fclose(f);
    if (target[0] != '/')
        return 126;
    char *const argv[] = {"pam_aad_helper", NULL};
    execv(target, argv);
    return 127;
}
