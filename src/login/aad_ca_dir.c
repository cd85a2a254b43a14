/* aad_ca_dir.c - recognises an OpenSSL hashed CA directory.
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_ca_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

/* Read a small batch at a time: the first batch of a Debian store already
 * holds hash names, and the kernel (ext4's hashed directories) prepares
 * what a read asks for. readdir's 32 KiB batch had it prepare the whole
 * store, 300 entries, on every login: 80-130 us, where one 1 KiB batch
 * takes 18 (measured on this store). */
#define BATCH_BYTES 1024

int aad_ca_dir_is_hashed(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    union {
        struct dirent64 aligned; /* the entries' alignment; read through bytes */
        char bytes[BATCH_BYTES];
    } batch;
    int found = 0;
    ssize_t got;
    while (!found && (got = getdents64(fd, batch.bytes, sizeof(batch.bytes))) > 0) {
        for (ssize_t at = 0; !found && at < got;) {
            const struct dirent64 *e = (const struct dirent64 *)(batch.bytes + at);
            found = is_hashed_name(e->d_name);
            at += e->d_reclen;
        }
    }
    close(fd);
    return found;
}
