/* aad_check_session.c - the session sign-in's part of `aad-login --check`.
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_session.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aad_runtime.h"
#include "aad_session_store.h"
#include "aad_check_pam.h"

/* Whether the kernel keeps audit session IDs at all (CONFIG_AUDIT): the
 * file exists. 1, or 0. */
static int kernel_has_audit_sessions(void)
{
    return access("/proc/self/sessionid", R_OK) == 0;
}

/* runtime_dir, or the nearest directory above it that exists (the module
 * makes it at the first login): on a tmpfs? 1, 0, or -1 none found. */
static int runtime_dir_in_memory(const char *runtime_dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", runtime_dir);
    for (;;) {
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            int in_memory = aad_runtime_in_memory(fd);
            close(fd);
            return in_memory;
        }
        char *slash = strrchr(path, '/');
        if (slash == NULL || slash == path)
            return -1;
        *slash = '\0';
    }
}

void aad_check_session(struct aad_check_report *r, const struct aad_config *cfg,
                       const char *pam_dir)
{
    char text[PATH_MAX + 512];
    if (cfg->reauth_max_age == 0) {
        aad_check_note(r, "session sign-in", CHECK_INFO,
             "off (reauth_max_age = 0): every sudo asks for a device-code sign-in", NULL);
        aad_check_report_set(r, "session_signin",
                             json_pack("{s:b, s:I}", "on", 0, "reauth_max_age", (json_int_t)0));
        return;
    }
    char services[256] = "";
    for (size_t i = 0; i < cfg->reauth_services.count; i++)
        snprintf(services + strlen(services), sizeof(services) - strlen(services), "%s%s",
                 i ? ", " : "", cfg->reauth_services.items[i]);
    snprintf(text, sizeof(text),
             "reauth_max_age = %ld s (%ld h %02ld min): %s in a session signed in through "
             "pam_aad is answered by a silent refresh Entra ID checks",
             cfg->reauth_max_age, cfg->reauth_max_age / 3600, cfg->reauth_max_age % 3600 / 60,
             services);
    aad_check_note(r, "session sign-in", CHECK_OK, text, NULL);

    int audit = kernel_has_audit_sessions();
    long own = aad_audit_session_id();
    if (audit) {
        snprintf(text, sizeof(text), "this kernel gives logins audit session IDs");
        if (own != AAD_NO_SESSION)
            snprintf(text, sizeof(text),
                     "this kernel gives logins audit session IDs (this command runs in "
                     "session %ld)",
                     own);
        aad_check_note(r, "audit sessions", CHECK_OK, text, NULL);
    } else {
        aad_check_note(r, "audit sessions", CHECK_WARN,
             "this kernel has no audit session IDs (/proc/self/sessionid): no login keeps a "
             "sign-in, and every sudo asks for a device-code sign-in",
             "Use a kernel built with CONFIG_AUDIT (every distribution kernel is).");
    }

    int in_memory = runtime_dir_in_memory(cfg->runtime_dir);
    if (in_memory == 1) {
        snprintf(text, sizeof(text), "%s is in memory (tmpfs): session sign-ins are kept there",
                 cfg->runtime_dir);
        aad_check_note(r, "runtime_dir", CHECK_OK, text, NULL);
    } else {
        snprintf(text, sizeof(text),
                 "%s is not in memory (tmpfs): no session sign-in is kept (a refresh token "
                 "never goes to disk)",
                 cfg->runtime_dir);
        aad_check_note(r, "runtime_dir", CHECK_WARN, text,
             "Keep runtime_dir under /run, a tmpfs on every systemd host.");
    }

    int loginuid_missing = 0;
    static const char *const services_checked[] = {"sshd", "login"};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", pam_dir, services_checked[i]);
        if (!aad_check_pam_uses_pam_aad(path, NULL, 0) ||
            aad_check_pam_runs(path, "session", "pam_loginuid", NULL, 0))
            continue;
        loginuid_missing = 1;
        snprintf(text, sizeof(text),
                 "%s uses pam_aad but its session stack does not run pam_loginuid: its logins "
                 "have no audit session, so none keeps a sign-in",
                 path);
        aad_check_note(r, "audit sessions", CHECK_WARN, text,
             "Add 'session required pam_loginuid.so' to that file (Debian's default has it).");
    }
    aad_check_report_set(
        r, "session_signin",
        json_pack("{s:b, s:I, s:o, s:b, s:o, s:b}", "on", 1, "reauth_max_age",
                  (json_int_t)cfg->reauth_max_age, "services", json_string(services),
                  "audit_sessions", audit,
                  "runtime_dir_in_memory", in_memory < 0 ? json_null() : json_boolean(in_memory),
                  "pam_loginuid_missing", loginuid_missing));
}
