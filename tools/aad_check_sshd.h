/* aad_check_sshd.h - what sshd will really use (`sshd -T`), for
 * `aad-login --check`: the settings a device-code login depends on, and
 * those of certificate logins (AuthorizedKeysCommand).
 *
 * Where it runs: in aad-login, the administrator's command, with the rights
 * of whoever runs it. */
#ifndef AAD_CHECK_SSHD_H
#define AAD_CHECK_SSHD_H

#include <stddef.h>

struct aad_sshd_settings {
    long login_grace_time;   /* seconds; 0: no limit; -1: not reported */
    int use_pam;             /* 1 yes, 0 no, -1 not reported */
    int kbd_interactive;     /* KbdInteractiveAuthentication, same */
    long max_auth_tries;     /* -1: not reported */
    char authentication_methods[256];
    char max_startups[64];
    /* The certificate path (aad-login ssh, pam_aad_sshkeys). */
    int pubkey;                          /* PubkeyAuthentication: 1, 0, -1 */
    char authorized_keys_command[512];   /* "none" when unset */
    char authorized_keys_command_user[64];
};

/* Runs `sshd -T -f config` (a clean environment, no input, at most
 * timeout_s seconds and 256 KiB of output) and reads its answer. Returns
 * 0, or -1 with why filled (sshd's own first complaint, or the reason it
 * could not be run). */
int aad_sshd_effective(const char *sshd, const char *config, long timeout_s,
                       struct aad_sshd_settings *out, char *why, size_t why_size);

/* The parsing half, on sshd -T's output (lines "keyword value"). */
void aad_sshd_parse(const char *text, struct aad_sshd_settings *out);

#endif
