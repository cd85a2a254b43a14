/* aad_account_name.h - what a local account or group name may look like
 * (libc only). Below both the account facts and the user_map reader, so
 * that neither needs the other for it.
 *
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#ifndef AAD_ACCOUNT_NAME_H
#define AAD_ACCOUNT_NAME_H

#define AAD_ACCOUNT_NAME_MAX 32

/* True when name is a plausible Unix account name (what useradd accepts,
 * lower case, at most AAD_ACCOUNT_NAME_MAX bytes). */
int aad_is_valid_account_name(const char *name);

#endif
