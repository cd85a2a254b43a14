/* verify_token.c - the baseline of `make bench`'s certificate row: in a
 * fresh process, what the login path does with an ID token once it has
 * one (pam_aad_helper's check after the poll): configuration, the account,
 * the keys from the cache, aad_id_token_verify, aad_admit. The token comes
 * on stdin.
 *
 *   verify_token CONFIG USER <TOKEN     exit 0 when the login path accepts it
 *
 * Where it runs: in `make bench` only. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aad_account.h"
#include "aad_admit.h"
#include "aad_config.h"
#include "aad_http.h"
#include "aad_idtoken.h"
#include "aad_trust.h"

int main(int argc, char **argv)
{
    static char token[64 * 1024];
    if (argc != 3 || fgets(token, sizeof(token), stdin) == NULL)
        return 2;
    token[strcspn(token, "\n")] = '\0';
    char config_arg[4200];
    snprintf(config_arg, sizeof(config_arg), "config=%s", argv[1]);
    const char *args[] = {config_arg};
    struct aad_config *cfg = NULL;
    struct aad_error err = {0};
    struct aad_account account;
    struct aad_http *http = NULL;
    struct aad_trust *trust = NULL;
    struct aad_jwt *jwt = NULL;
    struct aad_identity id = {0};
    struct aad_log log = {NULL, NULL, 0};
    enum aad_status st = aad_config_load(args[0], 1, args, &cfg, &err);
    if (st == AAD_OK)
        st = aad_account_lookup(cfg, argv[2], &account, &err);
    struct aad_http_options opts = {.ca_file = cfg ? cfg->ca_file : NULL,
                                    .files = cfg ? &cfg->preread : NULL,
                                    .proxy = cfg ? cfg->proxy : NULL,
                                    .timeout_s = cfg ? cfg->http_timeout : 10};
    if (st == AAD_OK)
        st = aad_http_new(&opts, &http, &err);
    if (st == AAD_OK)
        st = aad_trust_load(cfg, http, &log, &trust, &err);
    if (st == AAD_OK)
        st = aad_id_token_verify(cfg, trust, http, &log, token, &jwt, &err);
    if (st == AAD_OK)
        st = aad_admit(cfg, &account, http, &log, jwt, NULL, &id, &err);
    if (st != AAD_OK)
        fprintf(stderr, "verify_token: %s\n", err.message);
    aad_identity_clear(&id);
    aad_jwt_free(jwt);
    aad_trust_free(trust);
    aad_http_free(http);
    aad_config_free(cfg);
    return st == AAD_OK ? 0 : 1;
}
