/* aad_account_name.c - what a local account name may look like.
 * Where it runs: inside the caller of PAM (sshd, su, sudo), and in the
 * helper and aad-login; libc only, no network. */
#include "config.h"

#include "aad_account_name.h"

#include <string.h>

int aad_is_valid_account_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > AAD_ACCOUNT_NAME_MAX || name[0] == '-' || name[0] == '.' ||
        strstr(name, "..") != NULL)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                 c == '-' || (c == '$' && i > 0 && i == len - 1);
        if (!ok)
            return 0;
    }
    /* All digits would be read as a uid by many tools. */
    return strspn(name, "0123456789") != len;
}
