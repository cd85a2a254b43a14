/* token_output.h - how `aad-login token` prints a token on stdout: the
 * token alone, its own JSON object (--json), or exactly the fields of
 * `az account get-access-token` (--az-json), so that a script written for
 * the Azure CLI switches by changing one command.
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef TOKEN_OUTPUT_H
#define TOKEN_OUTPUT_H

#include <time.h>

#include "aad_base.h"

enum token_format { TOKEN_FORMAT_PLAIN = 0, TOKEN_FORMAT_JSON, TOKEN_FORMAT_AZ };

/* What is printed: the token (a secret) and what it is good for. */
struct token_result {
    char *access_token;
    time_t expires_on; /* seconds since the epoch */
    char *scope;
    char *upn;    /* user path only */
    char *oid;    /* user path only */
    char *tenant; /* the tenant's GUID when known, else the configured tenant */
};
void token_result_clear(struct token_result *r);

/* Writes the result to fd in format, straight to the descriptor so that no
 * stdio buffer keeps a copy; every copy made on the way is wiped. */
enum aad_status token_output_write(int fd, const struct token_result *r, enum token_format format,
                                   struct aad_error *err);

#endif
