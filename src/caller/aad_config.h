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

/* An ID token carried in an SSH certificate proves a sign-in at its iat;
 * the SSH signature proves possession of the key now. One hour by default
 * (Entra's ID-token lifetime, and the life of Microsoft's own Azure VM SSH
 * certificates); never more than 12 hours, a working day, after which a
 * stolen key would be a long-lived credential again. */
#define AAD_CERT_MAX_AGE_DEFAULT 3600
#define AAD_CERT_MAX_AGE_CEILING 43200

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
    long cert_max_age; /* seconds after its iat an ID token in an SSH certificate is accepted */
    char *cache_dir;
    enum aad_qr_mode qr;
    int wait_for_enter;
    char *host_label; /* how prompts name this host; NULL: its host name */
    int debug;
    /* Groups overage through Microsoft Graph (issue: tokens with >200 groups). */
    char *graph_endpoint;     /* https://graph.microsoft.com or a national cloud's */
    char *client_certificate; /* PEM certificate registered for the app */
    char *client_key;         /* its private key: root-only */
};

/* Loads the configuration: the file named by a `config=PATH` argument (or
 * default_path), then the module arguments (`debug`, `key=value`) on top.
 * Unknown keys, bad values, missing required keys and unsafe files are
 * AAD_CONFIG_ERROR with "file:line: reason" in err. On success *out must be
 * released with aad_config_free. */
enum aad_status aad_config_load(const char *default_path, int argc, const char **argv,
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
