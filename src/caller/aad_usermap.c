/* aad_usermap.c - reading user_map (libc only).
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_usermap.h"
#include "aad_safefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACCOUNT_NAME_MAX AAD_ACCOUNT_NAME_MAX
#define UPN_MAX 256

static void remember(char *slot, int *conflict, const char *local)
{
    size_t n = strlen(local);
    if (n > ACCOUNT_NAME_MAX)
        return;
    if (slot[0] == '\0')
        memcpy(slot, local, n + 1);
    else if (strcmp(slot, local) != 0)
        *conflict = 1;
}

static int add_once(struct aad_strlist *list, const char *local)
{
    return aad_strlist_contains(list, local, 0) ? 0 : aad_strlist_add(list, local, strlen(local));
}

struct reading {
    const char *path, *upn, *oid;
    struct aad_user_map *r;
};

static enum aad_status read_line(void *ctx, int lineno, char *line, struct aad_error *err)
{
    struct reading *rd = ctx;
    struct aad_user_map *r = rd->r;
    char local[ACCOUNT_NAME_MAX + 2], key[UPN_MAX + 8], extra[2];
    int n = sscanf(line, "%33s %263s %1s", local, key, extra);
    if (n == 2 && aad_is_valid_account_name(local) && strlen(key) <= UPN_MAX + 4) {
        int is_oid = strncasecmp(key, "oid:", 4) == 0;
        if (is_oid && !aad_is_guid(key + 4))
            return aad_fail(err, AAD_CONFIG_ERROR, "%s:%d: '%s' is not oid:<guid>", rd->path,
                            lineno, key);
        if (is_oid && rd->oid != NULL && strcasecmp(key + 4, rd->oid) == 0)
            remember(r->by_oid, &r->oid_conflict, local);
        else if (!is_oid && rd->upn != NULL && strcasecmp(key, rd->upn) == 0)
            remember(r->by_upn, &r->upn_conflict, local);
        if (add_once(&r->named, local) != 0 || (is_oid && add_once(&r->pinned, local) != 0))
            return aad_fail(err, AAD_CONFIG_ERROR, "out of memory");
    } else if (n > 0 && n != EOF) {
        return aad_fail(err, AAD_CONFIG_ERROR, "%s:%d: expected 'localname upn-or-oid:<guid>'",
                        rd->path, lineno);
    }
    return AAD_OK;
}

enum aad_status aad_user_map_read(const struct aad_config *cfg, const char *upn, const char *oid,
                                  struct aad_user_map *r, struct aad_error *err)
{
    memset(r, 0, sizeof(*r));
    struct reading rd = {cfg->user_map, upn, oid, r};
    return aad_safefile_each_line_via(&cfg->preread, cfg->user_map, AAD_USER_MAP_MAX_BYTES,
                                      read_line, &rd, err);
}

void aad_user_map_clear(struct aad_user_map *r)
{
    aad_strlist_clear(&r->named);
    aad_strlist_clear(&r->pinned);
}

enum aad_status aad_user_map_names(const struct aad_config *cfg, const char *account, int *named,
                                   struct aad_error *err)
{
    *named = 0;
    if (cfg->user_map == NULL)
        return AAD_OK;
    struct aad_user_map r;
    enum aad_status st = aad_user_map_read(cfg, NULL, NULL, &r, err);
    if (st == AAD_OK)
        *named = aad_strlist_contains(&r.named, account, 0);
    aad_user_map_clear(&r);
    return st;
}
