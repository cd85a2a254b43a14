/* token_store.c - a user's sign-in and access tokens in the kernel keyring.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#include "config.h"

#include "token_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aad_base.h"

#define DESCRIPTION_MAX 4000
#define RECORD_MAX (32 * 1024) /* a "user" key's payload limit is 32767 */

/* Only a possessor (this process, which linked the keyring in) may read or
 * change a record; the uid itself may only see that it exists. */
#define RECORD_PERM                                                                                \
    (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH | KEY_POS_LINK |                 \
     KEY_POS_SETATTR | KEY_USR_VIEW)

static const char *const record_names[] = {"sign-in", "access", "app"};

int token_store_open(struct token_store *s, const struct aad_config *cfg, const char **why)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->app, sizeof(s->app), "%s/%s:%s", cfg->authority, cfg->tenant, cfg->client_id);
    const char *want = cfg->token_store;
    if (strcmp(want, "none") == 0) {
        *why = "token_store is none";
        return -1;
    }
    if (strcmp(want, "user") != 0) {
        /* Linked into this process's keyring: possessed, so readable. */
        long ring = keyctl_get_persistent(-1, KEY_SPEC_PROCESS_KEYRING);
        if (ring >= 0) {
            s->kind = TOKEN_STORE_PERSISTENT;
            s->keyring = (key_serial_t)ring;
            return 0;
        }
        *why = errno == EOPNOTSUPP || errno == ENOSYS
                   ? "this kernel has no persistent keyrings (CONFIG_PERSISTENT_KEYRINGS)"
                   : "the persistent keyring cannot be opened";
        if (strcmp(want, "persistent") == 0)
            return -1;
    }
    key_serial_t ring = keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 1);
    if (ring < 0) {
        *why = errno == ENOSYS ? "this kernel has no keyrings" : "the user keyring cannot be opened";
        return -1;
    }
    /* The user keyring is possessed through the session keyring only when
     * linked there; link it into the process keyring as well. */
    if (keyctl_link(ring, KEY_SPEC_PROCESS_KEYRING) != 0) {
        *why = "the user keyring cannot be linked";
        return -1;
    }
    s->kind = TOKEN_STORE_USER;
    s->keyring = ring;
    return 0;
}

const char *token_store_name(const struct token_store *s)
{
    switch (s->kind) {
    case TOKEN_STORE_PERSISTENT: return "persistent keyring";
    case TOKEN_STORE_USER: return "user keyring";
    case TOKEN_STORE_NONE: break;
    }
    return "no store";
}

static int describe(const struct token_store *s, enum token_record what, const char *scope,
                    char *out, size_t size)
{
    int n = snprintf(out, size, "pam_aad:%s:%s%s%s", record_names[what], s->app,
                     scope != NULL ? ":" : "", scope != NULL ? scope : "");
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static key_serial_t find(const struct token_store *s, const char *description)
{
    /* Only this keyring, not those linked below it. */
    long key = keyctl_search(s->keyring, "user", description, 0);
    return key < 0 ? -1 : (key_serial_t)key;
}

char *token_record_string(const json_t *record, const char *name)
{
    const char *v = json_string_value(json_object_get(record, name));
    return v != NULL ? strdup(v) : NULL;
}

void token_record_free(json_t *record)
{
    const char *name;
    json_t *value;
    json_object_foreach(record, name, value) {
        if (json_is_string(value))
            aad_wipe((char *)json_string_value(value), json_string_length(value));
    }
    json_decref(record);
}

json_t *token_store_get(const struct token_store *s, enum token_record what, const char *scope)
{
    char description[DESCRIPTION_MAX];
    if (s->kind == TOKEN_STORE_NONE || describe(s, what, scope, description, sizeof(description)))
        return NULL;
    key_serial_t key = find(s, description);
    if (key < 0)
        return NULL;
    void *payload = NULL;
    long len = keyctl_read_alloc(key, &payload);
    if (len <= 0 || len > RECORD_MAX) {
        free(payload);
        return NULL;
    }
    json_t *record = json_loadb(payload, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    aad_wipe(payload, (size_t)len);
    free(payload);
    if (!json_is_object(record)) {
        json_decref(record);
        return NULL;
    }
    return record;
}

/* Access tokens can be had again; the sign-in cannot. */
static void drop_access_tokens(const struct token_store *s)
{
    token_store_forget(s, TOKEN_RECORD_ACCESS, NULL, 1);
    token_store_forget(s, TOKEN_RECORD_APP, NULL, 1);
}

int token_store_put(const struct token_store *s, enum token_record what, const char *scope,
                    const json_t *record, long lifetime_s)
{
    char description[DESCRIPTION_MAX];
    if (s->kind == TOKEN_STORE_NONE) {
        errno = ENOKEY;
        return -1;
    }
    if (describe(s, what, scope, description, sizeof(description)) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *text = json_dumps(record, JSON_COMPACT);
    if (text == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t len = strlen(text);
    key_serial_t key = -1;
    if (len <= RECORD_MAX) {
        key = add_key("user", description, text, len, s->keyring);
        if (key < 0 && errno == EDQUOT) {
            drop_access_tokens(s);
            key = add_key("user", description, text, len, s->keyring);
        }
    } else {
        errno = E2BIG;
    }
    int saved = errno;
    aad_free_secret(text);
    if (key < 0) {
        errno = saved;
        return -1;
    }
    if (keyctl_setperm(key, RECORD_PERM) != 0 ||
        (lifetime_s > 0 && keyctl_set_timeout(key, (unsigned)lifetime_s) != 0)) {
        saved = errno;
        keyctl_invalidate(key);
        errno = saved;
        return -1;
    }
    return 0;
}

int token_store_forget(const struct token_store *s, enum token_record what, const char *scope,
                       int all)
{
    if (s->kind == TOKEN_STORE_NONE)
        return 0;
    char description[DESCRIPTION_MAX];
    if (!all) {
        if (describe(s, what, scope, description, sizeof(description)) != 0)
            return 0;
        key_serial_t key = find(s, description);
        return key >= 0 && keyctl_invalidate(key) == 0 ? 1 : 0;
    }
    /* Every record of this application (of this kind, or of every kind for
     * a sign-out): the keyring's list, matched by description. */
    char prefix[DESCRIPTION_MAX];
    if (what == TOKEN_RECORD_SIGN_IN)
        snprintf(prefix, sizeof(prefix), "pam_aad:");
    else
        snprintf(prefix, sizeof(prefix), "pam_aad:%s:", record_names[what]);
    void *list = NULL;
    long size = keyctl_read_alloc(s->keyring, &list);
    int forgotten = 0;
    for (long i = 0; list != NULL && i + (long)sizeof(key_serial_t) <= size;
         i += (long)sizeof(key_serial_t)) {
        key_serial_t key;
        memcpy(&key, (char *)list + i, sizeof(key));
        char *info = NULL;
        if (keyctl_describe_alloc(key, &info) < 0)
            continue;
        /* "type;uid;gid;perm;description" */
        const char *d = info;
        for (int f = 0; f < 4 && d != NULL; f++) {
            d = strchr(d, ';');
            d = d != NULL ? d + 1 : NULL;
        }
        int ours = d != NULL && strncmp(info, "user;", 5) == 0 &&
                   strncmp(d, prefix, strlen(prefix)) == 0;
        if (ours) {
            /* The application part follows the record's name. */
            const char *app = strchr(d + strlen("pam_aad:"), ':');
            size_t n = strlen(s->app);
            ours = app != NULL && strncmp(app + 1, s->app, n) == 0 &&
                   (app[1 + n] == '\0' || app[1 + n] == ':');
        }
        if (ours && keyctl_invalidate(key) == 0)
            forgotten++;
        free(info);
    }
    free(list);
    return forgotten;
}
