/* token_args.h - the command line of `aad-login token` and the choice of
 * its configuration file, shared by aad-login's front (tools/aad-login.c's
 * launcher, which serves a kept token without loading the network stack)
 * and the subcommand itself (aad_token.c), so that both read the same
 * arguments the same way.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef TOKEN_ARGS_H
#define TOKEN_ARGS_H

#include <limits.h>
#include <stdio.h>

#include "token_output.h"

#define TOKEN_MAX_OVERRIDES 32
#define TOKEN_MAX_SCOPE_TEXT 1024
#define TOKEN_MAX_SCOPE_WORD 256

/* Exit codes of `aad-login token`. */
enum token_exit {
    TOKEN_OK = 0,
    TOKEN_REFUSED = 1,
    TOKEN_USAGE = 2,
    TOKEN_UNAVAILABLE = 3,
    TOKEN_CONFIG = 4,
    TOKEN_SIGN_IN_NEEDED = 7,
};

struct token_request {
    int app;
    int sign_in;
    int sign_out;
    enum token_format format;
    char scope[TOKEN_MAX_SCOPE_TEXT]; /* the requested scopes, space-separated */
};

/* Everything the command line says. */
struct token_args {
    struct token_request req;
    int help;
    const char *config_path; /* --config, or NULL */
    int has_app_ids;         /* --tenant and --client-id both given */
    /* The settings for aad_config_load_for_tokens (-o, -d, --tenant, ...). */
    const char *overrides[TOKEN_MAX_OVERRIDES + 5];
    int noverrides;
    char cert_arg[PATH_MAX + 32], key_arg[PATH_MAX + 32];
    char tenant_arg[300], client_arg[64];
};

/* Parses argv (argv[0] is "token"). Returns TOKEN_OK, or TOKEN_USAGE after
 * printing why (and the usage) on err when err is not NULL. */
int token_args_parse(int argc, char **argv, const char *default_config, struct token_args *a,
                     FILE *err);

void token_args_usage(FILE *f, const char *default_config);

/* Which file: --config; else the user's own ~/.config/pam_aad/token.conf
 * (home from the password database); else the system's when readable;
 * else none (*path NULL) when --tenant and --client-id say enough.
 * Returns 0, or -1 with a sentence saying what to do in why. buf holds the
 * user's path. */
int token_args_config(const struct token_args *a, const char *system_path, char *buf,
                      size_t size, const char **path, char *why, size_t why_size);

/* The user's home directory from the password database (not $HOME), or
 * NULL. */
const char *token_home_dir(void);

#endif
