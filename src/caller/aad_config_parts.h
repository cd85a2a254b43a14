/* aad_config_parts.h - what the three parts of the configuration code share
 * (the loader, the key table, the checks); not for other callers.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_CONFIG_PARTS_H
#define AAD_CONFIG_PARTS_H

#include "aad_config.h"

/* The largest uid a setting or login.defs may name. */
#define AAD_CONFIG_MAX_UID 0x7fffffffL

/* Applies one "key = value"; where names the place for messages
 * ("file:line", "module argument N"). Unknown keys, quoted or bad values are
 * AAD_CONFIG_ERROR. */
enum aad_status aad_config_set_key(struct aad_config *cfg, const char *key, const char *value,
                                   const char *where, struct aad_error *err);

/* Checks what no single key can: required keys, the shape of URLs and
 * paths, pairs that go together. Normalises authority and proxy. */
enum aad_status aad_config_check(struct aad_config *cfg, struct aad_error *err);

#endif
