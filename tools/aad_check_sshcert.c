/* aad_check_sshcert.c - sshd's settings for certificate logins.
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "aad_check_sshcert.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME "sshd certificates"

/* True when one of AuthenticationMethods' lists is publickey alone. */
static int publickey_alone(const char *methods)
{
    if (methods[0] == '\0' || strcmp(methods, "any") == 0)
        return 1;
    for (const char *p = methods; *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n == 9 && strncmp(p, "publickey", 9) == 0)
            return 1;
        p += n + strspn(p + n, " ");
    }
    return 0;
}

/* The keys user can use cache_dir and read the configuration. */
static void check_user_files(struct aad_check_report *r, const struct aad_config *cfg,
                             const struct passwd *pw)
{
    char line[768];
    struct stat st;
    if (stat(cfg->cache_dir, &st) == 0 && st.st_uid != pw->pw_uid) {
        snprintf(line, sizeof(line), "cache_dir %s is not owned by %s: pam_aad_sshkeys cannot "
                 "keep the signing keys there", cfg->cache_dir, pw->pw_name);
        aad_check_note(r, NAME, CHECK_WARN, line,
                       "chown the cache directory to the AuthorizedKeysCommandUser (the Debian "
                       "package makes /var/cache/pam_aad _pam_aad's).");
    }
    if (stat(cfg->path, &st) == 0 && st.st_uid != pw->pw_uid && (st.st_mode & S_IROTH) == 0) {
        snprintf(line, sizeof(line), "%s is not readable by %s", cfg->path, pw->pw_name);
        aad_check_fail_config(r, NAME, "sshd_keys_config", line,
                              "Make the configuration world-readable (0644: it holds no secret; "
                              "client_key is a file of its own).");
    }
}

json_t *aad_check_sshd_certificates(struct aad_check_report *r, const struct aad_config *cfg,
                                    const struct aad_sshd_settings *s)
{
    const char *akc = s->authorized_keys_command, *user = s->authorized_keys_command_user;
    char line[1024], program[512];
    if (strstr(akc, "pam_aad_sshkeys") == NULL) {
        aad_check_note(r, NAME, CHECK_INFO,
                       "not configured: AuthorizedKeysCommand does not run pam_aad_sshkeys", NULL);
        return json_pack("{s:b}", "configured", 0);
    }
    snprintf(program, sizeof(program), "%.*s", (int)strcspn(akc, " "), akc);
    int failed = 0;
    if (strstr(akc, " %u") == NULL || strstr(akc, " %t") == NULL || strstr(akc, " %k") == NULL) {
        snprintf(line, sizeof(line), "AuthorizedKeysCommand %s lacks %%u %%t %%k", akc);
        aad_check_fail_config(r, NAME, "sshd_authorizedkeyscommand", line,
                              "Write 'AuthorizedKeysCommand " AAD_SSHKEYS_PATH " %u %t %k'.");
        failed = 1;
    } else if (access(program, X_OK) != 0) {
        snprintf(line, sizeof(line), "AuthorizedKeysCommand %s is not installed", program);
        aad_check_fail_config(r, NAME, "sshd_authorizedkeyscommand", line, NULL);
        failed = 1;
    }
    if (s->pubkey != 1) {
        aad_check_fail_config(r, NAME, "sshd_pubkey",
                              "PubkeyAuthentication is not yes: no certificate is ever offered",
                              "Set 'PubkeyAuthentication yes' (doc/sshd_config.d/pam_aad_sshkeys.conf).");
        failed = 1;
    }
    struct passwd *pw = user[0] != '\0' && strcmp(user, "none") != 0 ? getpwnam(user) : NULL;
    if (pw == NULL || pw->pw_uid == 0) {
        snprintf(line, sizeof(line), "AuthorizedKeysCommandUser is %s: pam_aad_sshkeys must run "
                 "as an unprivileged user of its own", user[0] ? user : "unset");
        aad_check_fail_config(r, NAME, "sshd_authorizedkeyscommanduser", line,
                              "Set 'AuthorizedKeysCommandUser _pam_aad'.");
        failed = 1;
    } else {
        check_user_files(r, cfg, pw);
    }
    if (!publickey_alone(s->authentication_methods)) {
        snprintf(line, sizeof(line), "AuthenticationMethods %s does not let a certificate in alone",
                 s->authentication_methods);
        aad_check_fail_config(r, NAME, "sshd_authenticationmethods", line,
                              "Add 'publickey' as a list of its own, e.g. 'AuthenticationMethods "
                              "publickey keyboard-interactive'.");
        failed = 1;
    }
    if (cfg->group_map != NULL) {
        aad_check_fail_config(r, NAME, "group_map",
                              "group_map is set: every certificate login is refused, because "
                              "no process of pam_aad runs as root for it to apply group_map",
                              "Use certificate logins without group_map, or manage these groups "
                              "another way (guide: \"When your tenant blocks the device code\").");
        failed = 1;
    }
    if (!failed) {
        snprintf(line, sizeof(line), "%s as %s, PubkeyAuthentication yes, cert_max_age %ld s", akc,
                 user, cfg->cert_max_age);
        aad_check_note(r, NAME, CHECK_OK, line, NULL);
    }
    return json_pack("{s:b, s:s, s:s, s:b, s:I}", "configured", 1, "authorizedkeyscommand", akc,
                     "authorizedkeyscommanduser", user, "pubkeyauthentication", s->pubkey == 1,
                     "cert_max_age", (json_int_t)cfg->cert_max_age);
}
