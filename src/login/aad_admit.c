/* aad_admit.c - a verified ID token: guest rule, mapping, authorization.
 * Where it runs: in pam_aad_helper, pam_aad_sshkeys and aad-login, never in
 * the caller of PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_admit.h"
#include "aad_authz.h"
#include "aad_idtoken.h"
#include "aad_json.h"
#include "aad_mapping.h"

#include <stdlib.h>
#include <string.h>

static char *dup_claim(const json_t *claims, const char *name)
{
    const char *v = aad_json_string(claims, name);
    return v ? strndup(v, 256) : NULL;
}

enum aad_status aad_admit(const struct aad_config *cfg, const struct aad_account *account,
                          struct aad_http *http, const struct aad_log *log,
                          const struct aad_jwt *jwt, const char *access_token,
                          struct aad_identity *id, struct aad_error *err)
{
    /* From here on the claims are the tenant's word: record them for the log. */
    id->upn = dup_claim(jwt->claims, cfg->user_claim);
    id->oid = dup_claim(jwt->claims, "oid");
    id->tid = dup_claim(jwt->claims, "tid");
    id->name = dup_claim(jwt->claims, "name");
    enum aad_status st = aad_id_token_check_guest(cfg, jwt, err);
    if (st == AAD_OK) {
        st = aad_map_identity(cfg, account, aad_json_string(jwt->claims, cfg->user_claim),
                              id->oid, &id->local_user, err);
        if (st == AAD_DENIED)
            aad_reclassify(err, AAD_FAILURE_NOT_AUTHORIZED);
    }
    if (st == AAD_OK && strcmp(id->local_user, account->name) != 0)
        st = aad_fail_as(err, AAD_FAILURE_WRONG_ACCOUNT,
                         "signed in as %.200s, which is account %s, not %s",
                         id->upn ? id->upn : id->oid, id->local_user, account->name);
    if (st == AAD_OK) {
        st = aad_authorize(cfg, http, jwt->claims, access_token, log, err);
        if (st == AAD_DENIED)
            aad_reclassify(err, AAD_FAILURE_NOT_AUTHORIZED);
    }
    return st;
}
