/* pam_sandbox.c - private users, syslog and PAM services for module tests. */
#include "config.h"

#include "pam_sandbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SANDBOX_ENV "PAM_SANDBOX_DIR"

void pam_sandbox_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        abort();
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        abort();
    close(fd);
}

const char *pam_sandbox_enter(char **argv)
{
    const char *ready = getenv(SANDBOX_ENV);
    if (ready != NULL)
        return ready;
    static char dir[] = "/tmp/pam_aad_sandbox.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(99);
    }
    char path[400], preload[1024];
    setenv(SANDBOX_ENV, dir, 1);
    snprintf(path, sizeof(path), "%s/services", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/services/other", dir);
    pam_sandbox_write_file(path, "auth required pam_deny.so\n");
    snprintf(path, sizeof(path), "%s/passwd", dir);
    /* backup: a system account (uid below min_uid), as on Debian. */
    pam_sandbox_write_file(path, "root:x:0:0:root:/root:/bin/sh\n"
                                 "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n"
                                 "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                                 "bob:x:1001:1001:Bob:/home/bob:/bin/sh\n");
    setenv("NSS_WRAPPER_PASSWD", path, 1);
    snprintf(path, sizeof(path), "%s/group", dir);
    pam_sandbox_write_file(path, "root:x:0:\nbackup:x:34:\nalice:x:1000:\nbob:x:1001:\n");
    setenv("NSS_WRAPPER_GROUP", path, 1);
    snprintf(path, sizeof(path), "%s/syslog", dir);
    setenv("SYSLOG_CAPTURE_FILE", path, 1);
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof(preload), "%s:%s%s%s", NSS_WRAPPER_LIB, SYSLOG_CAPTURE_LIB,
             old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    /* Sanitizer builds: the wrappers are preloaded ahead of libasan on purpose. */
    setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 0);
    /* readlink, not execv("/proc/self/exe"): under valgrind the link names
     * the test program, which valgrind then follows. */
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        perror("readlink");
        exit(99);
    }
    self[n] = '\0';
    execv(self, argv);
    perror("execv");
    exit(99);
}
