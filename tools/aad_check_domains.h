/* aad_check_domains.h - `aad-login --check`: is each entry of `domains` a
 * verified domain of the configured tenant?
 *
 * Entra ID answers the discovery document of a tenant by any of its
 * verified domains (login.microsoftonline.com/contoso.com/v2.0/...), with
 * the tenant's GUID in the issuer; a name that is no verified domain of any
 * tenant is AADSTS90002. So each domain is looked up without credentials,
 * and a UPN domain that can never appear in a token of this tenant (a typo,
 * an unverified domain, another tenant's) is found before every login
 * fails.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_DOMAINS_H
#define AAD_CHECK_DOMAINS_H

#include "aad_check_report.h"
#include "aad_config.h"
#include "aad_http.h"

/* tenant_id: the configured tenant's GUID (from its discovery document). */
void aad_check_domains(struct aad_check_report *r, const struct aad_config *cfg,
                       struct aad_http *http, const char *tenant_id);

#endif
