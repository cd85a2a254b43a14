/* hash_password.c - for `make bench`'s SSH baseline: a password hashed the
 * way this host's passwd(1) would hash it, so that pam_unix checks it at
 * the cost a real password login has here.
 *
 *   hash_password METHOD PASSWORD
 *
 * METHOD is pam_unix's option of that name in common-password (yescrypt,
 * Debian's default since 11; sha512; ...); the cost is libxcrypt's default
 * for it, as pam_unix uses without a "rounds=" option. Prints the hash. */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const char *const methods[][2] = {
        {"yescrypt", "$y$"}, {"gost_yescrypt", "$gy$"}, {"sha512", "$6$"},
        {"sha256", "$5$"},   {"blowfish", "$2b$"},      {"md5", "$1$"},
    };
    const char *prefix = NULL;
    for (size_t i = 0; argc == 3 && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(argv[1], methods[i][0]) == 0)
            prefix = methods[i][1];
    if (prefix == NULL) {
        fprintf(stderr, "usage: hash_password yescrypt|gost_yescrypt|sha512|sha256|blowfish|md5 PASSWORD\n");
        return 2;
    }
    char *salt = crypt_gensalt_ra(prefix, 0, NULL, 0);
    struct crypt_data data;
    memset(&data, 0, sizeof(data));
    const char *hash = salt ? crypt_r(argv[2], salt, &data) : NULL;
    free(salt);
    if (hash == NULL || hash[0] == '*') {
        fprintf(stderr, "hash_password: libcrypt cannot hash with %s\n", argv[1]);
        return 1;
    }
    puts(hash);
    return 0;
}
