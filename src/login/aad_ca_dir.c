/* aad_ca_dir.c - recognises an OpenSSL hashed CA directory.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_ca_dir.h"

#include <dirent.h>
#include <string.h>

/* HHHHHHHH.N: eight lowercase hex digits, a dot, a decimal sequence number
 * (the names OpenSSL's directory lookup opens for certificates). */
static int is_hashed_name(const char *name)
{
    size_t len = strlen(name);
    if (len < 10 || len > 12 || name[8] != '.')
        return 0;
    for (size_t i = 0; i < 8; i++)
        if (strchr("0123456789abcdef", name[i]) == NULL)
            return 0;
    for (size_t i = 9; i < len; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

int aad_ca_dir_is_hashed(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int found = 0;
    const struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = is_hashed_name(e->d_name);
    closedir(d);
    return found;
}
