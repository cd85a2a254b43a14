/* aad_config.h - the settings of SPEC.md: file, module arguments, checks.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_CONFIG_H
#define AAD_CONFIG_H

#include <stddef.h>
#include "aad_base.h"
#include "aad_strlist.h"

enum aad_qr_mode { AAD_QR_NO, AAD_QR_YES, AAD_QR_AUTO };

#define AAD_HOST_LABEL_MAX 64

struct aad_config {
    char *path;   /* the file that was read */
    char *helper; /* helper=PATH module argument, NULL: the installed pam_aad_helper */
    char *tenant;
    char *client_id;
    char *authority; /* https://host[:port], no trailing slash */
    char *ca_file;
    char *proxy;
    char *scope;
    char *user_claim;
    struct aad_strlist domains;
    char *user_map;
    char *group_map; /* Entra group object ID -> local group lines (aad_groupmap.h) */
    struct aad_strlist allowed_groups;
    struct aad_strlist allowed_roles;
    int allow_guests;
    int allow_root;
    long min_uid; /* below it, only a user_map line reaches an account */
    long timeout;
    long http_timeout;
    long clock_skew;
    char *cache_dir;
    enum aad_qr_mode qr;
    int wait_for_enter;
    char *host_label; /* how prompts name this host; NULL: its host name */
    int debug;
    /* Groups overage through Microsoft Graph (issue: tokens with >200 groups). */
    char *graph_endpoint;     /* https://graph.microsoft.com or a national cloud's */
    char *client_certificate; /* PEM certificate registered for the app */
    char *client_key;         /* its private key: root-only */
    /* aad-login token: where a user's sign-in is kept ("auto",
     * "persistent", "user" or "none"; tools/token_store.h). */
    char *token_store;
    int for_tokens; /* loaded for aad-login token: no account is mapped */
};

/* Loads the configuration: the file named by a `config=PATH` argument (or
 * default_path), then the module arguments (`debug`, `key=value`) on top.
 * Unknown keys, bad values, missing required keys and unsafe files are
 * AAD_CONFIG_ERROR with "file:line: reason" in err. On success *out must be
 * released with aad_config_free. */
enum aad_status aad_config_load(const char *default_path, int argc, const char **argv,
                                struct aad_config **out, struct aad_error *err);

/* The same for `aad-login token`, which maps no account: `domains` and
 * `user_map` are not required. path NULL reads no file at all (every
 * setting from argv, the rest the defaults). */
enum aad_status aad_config_load_for_tokens(const char *path, int argc, const char **argv,
                                           struct aad_config **out, struct aad_error *err);

void aad_config_free(struct aad_config *cfg);

/* Calls line() once per effective setting ("key = value"), for `debug`. */
void aad_config_describe(const struct aad_config *cfg, void (*line)(void *ctx, const char *text),
                         void *ctx);

/* The longest a whole login may take, in seconds: the flow's timeout and the
 * exchanges before and after it. The helper ends itself then, and the
 * module stops waiting for it. */
long aad_config_login_bound_s(const struct aad_config *cfg);

/* True when the space-separated scope holds word (case-insensitive). */
int aad_scope_contains(const char *scope, const char *word);

#endif
