/* aad_check_sshd.c - what sshd will really use (`sshd -T`), for
 * `aad-login --check`: the settings a device-code login depends on, and
 * those of certificate logins (AuthorizedKeysCommand).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_sshd.h"
#include "aad_base.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX (256 * 1024)
#define COMPLAINT_MAX 512

static int yes_no(const char *v)
{
    return strcasecmp(v, "yes") == 0;
}

void aad_sshd_parse(const char *text, struct aad_sshd_settings *out)
{
    memset(out, 0, sizeof(*out));
    out->login_grace_time = out->max_auth_tries = -1;
    out->use_pam = out->kbd_interactive = out->pubkey = -1;
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char key[64], value[512];
        /* sshd -T prints "keyword value" with the keyword in lower case. */
        if (len < sizeof(value) && sscanf(line, "%63s %511[^\n]", key, value) == 2) {
            if (!strcmp(key, "logingracetime"))
                out->login_grace_time = strtol(value, NULL, 10);
            else if (!strcmp(key, "usepam"))
                out->use_pam = yes_no(value);
            else if (!strcmp(key, "kbdinteractiveauthentication"))
                out->kbd_interactive = yes_no(value);
            else if (!strcmp(key, "maxauthtries"))
                out->max_auth_tries = strtol(value, NULL, 10);
            else if (!strcmp(key, "authenticationmethods"))
                snprintf(out->authentication_methods, sizeof(out->authentication_methods), "%.255s",
                         value);
            else if (!strcmp(key, "maxstartups"))
                snprintf(out->max_startups, sizeof(out->max_startups), "%.63s", value);
            else if (!strcmp(key, "pubkeyauthentication"))
                out->pubkey = yes_no(value);
            else if (!strcmp(key, "authorizedkeyscommand"))
                snprintf(out->authorized_keys_command, sizeof(out->authorized_keys_command),
                         "%.511s", value);
            else if (!strcmp(key, "authorizedkeyscommanduser"))
                snprintf(out->authorized_keys_command_user,
                         sizeof(out->authorized_keys_command_user), "%.63s", value);
        }
        line = end ? end + 1 : NULL;
    }
}

/* Reads the child's stdout into out and its stderr into complaint until
 * both end or the deadline passes; 0, or -1 on timeout or overflow. */
static int collect(int out_fd, int err_fd, int64_t deadline_ms, char *out, size_t *out_len,
                   char *complaint, size_t *complaint_len)
{
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int64_t left = deadline_ms - aad_monotonic_ms();
        if (left <= 0)
            return -1;
        int n = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char *buf = i == 0 ? out : complaint;
            size_t *len = i == 0 ? out_len : complaint_len;
            size_t cap = i == 0 ? OUTPUT_MAX : COMPLAINT_MAX;
            char discard[512];
            ssize_t got = *len < cap ? read(fds[i].fd, buf + *len, cap - *len)
                                     : read(fds[i].fd, discard, sizeof(discard));
            if (got > 0 && *len < cap)
                *len += (size_t)got;
            else if (got > 0 && i == 0)
                return -1; /* more than any sshd -T prints */
            else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
                fds[i].fd = -1;
        }
    }
    return 0;
}

int aad_sshd_effective(const char *sshd, const char *config, long timeout_s,
                       struct aad_sshd_settings *out, char *why, size_t why_size)
{
    static char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    char *const argv[] = {(char *)sshd, "-T", "-f", (char *)config, NULL};
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, rc = -1;
    char *text = malloc(OUTPUT_MAX + 1);
    char complaint[COMPLAINT_MAX + 1];
    size_t text_len = 0, complaint_len = 0;
    posix_spawn_file_actions_t actions;
    int have_actions = 0;
    pid_t pid = -1;
    if (text == NULL || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
        posix_spawn_file_actions_init(&actions) != 0) {
        snprintf(why, why_size, "cannot run %s: %s", sshd, strerror(errno));
        goto out;
    }
    have_actions = 1;
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    int e = posix_spawn(&pid, sshd, &actions, NULL, argv, env);
    if (e != 0) {
        pid = -1;
        snprintf(why, why_size, "cannot run %s: %s", sshd, strerror(e));
        goto out;
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_pipe[1] = err_pipe[1] = -1;
    int collected = collect(out_pipe[0], err_pipe[0], aad_monotonic_ms() + timeout_s * 1000, text,
                            &text_len, complaint, &complaint_len);
    if (collected != 0)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    text[text_len] = '\0';
    complaint[complaint_len] = '\0';
    complaint[strcspn(complaint, "\r\n")] = '\0';
    if (collected != 0) {
        snprintf(why, why_size, "%s -T did not answer within %ld s", sshd, timeout_s);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* sshd says why on stderr ("Missing privilege separation directory"). */
        for (char *p = complaint; *p != '\0'; p++) {
            if (*p < ' ' || *p == 0x7f)
                *p = '?';
        }
        snprintf(why, why_size, "%s -T -f %s failed: %s", sshd, config,
                 complaint[0] ? complaint : "no reason given");
    } else {
        aad_sshd_parse(text, out);
        rc = 0;
    }
out:
    if (have_actions)
        posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    free(text);
    return rc;
}
