/* aad_config.h - the settings of SPEC.md: file, module arguments, checks.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_CONFIG_H
#define AAD_CONFIG_H

#include <stddef.h>
#include "aad_base.h"
#include "aad_safefile.h"
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
    char *group_writer; /* group_writer=PATH module argument, NULL: the installed one */
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
    long uid_max;      /* UID_MAX of login.defs: above it, the same (not a key) */
    long overflow_uid; /* nobody's uid (65534): the same (not a key) */
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
    /* Root-only state on a tmpfs: pending records, login slots. */
    char *runtime_dir;
    /* Services whose process already holds the user's groups: a removal
     * seen while authenticating them refuses the authentication. */
    struct aad_strlist group_removal_refuses;
    /* Session sign-in: a re-authentication (reauth_services) in a login
     * session whose interactive sign-in is younger than reauth_max_age is
     * one silent, online refresh (aad_session_store.h); 0: off. */
    long reauth_max_age;
    struct aad_strlist reauth_services;
    long max_logins;          /* helpers at once on this host */
    long max_logins_per_user; /* ... started by one invoking (real) uid */
    /* aad-login sync: the members of these Entra groups become local
     * accounts (libnss-extrausers), with uids derived into the range. */
    struct aad_strlist provision_groups;
    long provision_uid_min, provision_uid_max;
    char *provision_shell;
    long provision_grace_days; /* locked accounts are removed after this */
    /* aad-login token: where a user's sign-in is kept ("auto",
     * "persistent", "user" or "none"; tools/token_store.h). */
    char *token_store;
    int for_tokens; /* loaded for aad-login token: no account is mapped */
    /* The files above, once aad_config_read_files has read them. */
    struct aad_preread_set preread;
};

/* Bounds of the files the configuration names. */
#define AAD_CREDENTIAL_MAX_BYTES (64 * 1024)
#define AAD_CA_FILE_MAX_BYTES (4 * 1024 * 1024)
#define AAD_USER_MAP_MAX_BYTES (1024 * 1024)
#define AAD_GROUP_MAP_MAX_BYTES (1024 * 1024)

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

/* Reads every file the configuration names (ca_file, client_certificate,
 * client_key, user_map, group_map) into cfg->preread, with the rules of
 * aad_safefile (client_key: private), so that they can be used after this
 * process has given up root. Failures are AAD_CONFIG_ERROR naming the
 * file. */
enum aad_status aad_config_read_files(struct aad_config *cfg, struct aad_error *err);

/* Calls line() once per effective setting ("key = value"), for `debug`. */
void aad_config_describe(const struct aad_config *cfg, void (*line)(void *ctx, const char *text),
                         void *ctx);

/* The longest a whole login may take, in seconds: the flow's timeout and the
 * exchanges before and after it. The helper ends itself then, and the
 * module stops waiting for it. */
long aad_config_login_bound_s(const struct aad_config *cfg);

/* True when uid is in the range aad-login sync gives accounts
 * (provision_uid_min..provision_uid_max) and provision_groups is set: the
 * range of people for this host, as UID_MIN..UID_MAX of login.defs is for
 * useradd (the account check lets such a uid in although it is above
 * UID_MAX). */
int aad_config_is_provisioned_uid(const struct aad_config *cfg, unsigned long uid);

/* Adds word to cfg->scope unless it holds it already (offline_access for a
 * sign-in to keep). AAD_CONFIG_ERROR out of memory. */
enum aad_status aad_config_add_scope(struct aad_config *cfg, const char *word,
                                     struct aad_error *err);

/* True when the space-separated scope holds word (case-insensitive). */
int aad_scope_contains(const char *scope, const char *word);

#endif
