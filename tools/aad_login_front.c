/* aad_login_front.c - aad-login's front: the program /usr/bin/aad-login.
 *
 * A script that runs `aad-login token` every few minutes mostly gets a
 * token kept from an earlier run (token_kept.h). Loading libcurl and
 * OpenSSL alone costs a fresh process about 5 ms, several times what
 * reading the keyring does; so the front, which links libc, libkeyutils,
 * jansson and the caller's configuration code only, hands out a kept token
 * itself and executes the whole of aad-login (aad-login-core, in
 * $(libexecdir)/pam_aad) for everything else, with the same arguments:
 * another subcommand, no kept token, --debug, --sign-in, a usage error
 * (which the core then explains). The core decides nothing differently:
 * it would hand out the same kept token.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h" /* _GNU_SOURCE: memrchr */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aad_config.h"
#include "token_args.h"
#include "token_kept.h"
#include "token_output.h"
#include "token_store.h"

#ifndef AAD_DEFAULT_CONFIG
#define AAD_DEFAULT_CONFIG "/etc/security/pam_aad.conf"
#endif
#ifndef AAD_LOGIN_CORE
#define AAD_LOGIN_CORE "/usr/libexec/pam_aad/aad-login-core"
#endif
#define CORE_NAME "aad-login-core"

/* 1 when a kept token was printed, 0 when the core must answer. */
static int serve_kept_token(int argc, char **argv)
{
    struct token_args a;
    if (token_args_parse(argc, argv, AAD_DEFAULT_CONFIG, &a, NULL) != TOKEN_OK || a.help ||
        a.req.sign_in || a.req.sign_out)
        return 0;
    char user_config[PATH_MAX], why[PATH_MAX + 256];
    const char *path = NULL;
    if (token_args_config(&a, AAD_DEFAULT_CONFIG, user_config, sizeof(user_config), &path, why,
                          sizeof(why)) != 0)
        return 0;
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    if (aad_config_load_for_tokens(path, a.noverrides, a.overrides, &cfg, &err) != AAD_OK)
        return 0;
    struct token_store store;
    const char *no_store = NULL;
    struct token_result r = {0};
    int served = !cfg->debug && token_store_open(&store, cfg, &no_store) == 0 &&
                 token_kept_get(&store, a.req.app ? TOKEN_RECORD_APP : TOKEN_RECORD_ACCESS,
                                a.req.scope, &r) &&
                 token_output_write(STDOUT_FILENO, &r, a.req.format, &err) == AAD_OK;
    token_result_clear(&r);
    aad_config_free(cfg);
    return served;
}

/* The core next to this program (the build tree), else where the install
 * puts it beside this program (a tree unpacked elsewhere: dpkg-deb -x), else
 * its configured path. */
static const char *core_path(char *buf, size_t size)
{
    static const char *const beside[] = {CORE_NAME, "../libexec/pam_aad/" CORE_NAME};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash = n > 0 ? memrchr(self, '/', (size_t)n) : NULL;
    for (size_t i = 0; slash != NULL && i < sizeof(beside) / sizeof(beside[0]); i++) {
        int len = snprintf(buf, size, "%.*s/%s", (int)(slash - self), self, beside[i]);
        if (len > 0 && (size_t)len < size && access(buf, X_OK) == 0)
            return buf;
    }
    return AAD_LOGIN_CORE;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "token") == 0 && serve_kept_token(argc - 1, argv + 1))
        return TOKEN_OK;
    char buf[PATH_MAX];
    const char *core = core_path(buf, sizeof(buf));
    execv(core, argv);
    fprintf(stderr, "aad-login: cannot run %s: %s\n", core, strerror(errno));
    return TOKEN_UNAVAILABLE;
}
