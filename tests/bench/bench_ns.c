/* bench_ns.c - private namespaces and system trust store for `make bench`. */
#define _GNU_SOURCE
#include "config.h"

#include "bench_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

static char store_copy[64]; /* the directory mounted over AAD_SYSTEM_CA_DIR */
static char system_bundle[96]; /* the host's bundle, kept beside it */
static char account_files[2][64]; /* passwd and group copies with the helper's account */

static int loopback_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    int rc = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 ? 0 : -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (rc == 0)
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int copy_file(const char *from, const char *to, int append)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, append ? "a" : "w");
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* The package's postinst makes the helper's system account (adduser
 * --system); a host without it makes every helper look it up in vain
 * through each name service (and keep root). Here, unless the host has it,
 * copies of /etc/passwd and /etc/group with it, mounted over them. */
static int helper_account(void)
{
    if (getpwnam(AAD_HELPER_USER) != NULL)
        return 0;
    unsigned id = 999;
    while (id > 100 && (getpwuid(id) != NULL || getgrgid(id) != NULL))
        id--;
    static const char *const files[2] = {"/etc/passwd", "/etc/group"};
    for (int i = 0; i < 2; i++) {
        char line[160];
        snprintf(account_files[i], sizeof(account_files[i]), "/tmp/pam_aad_bench_%s.XXXXXX",
                 i == 0 ? "passwd" : "group");
        int fd = mkstemp(account_files[i]);
        if (fd < 0)
            return -1;
        close(fd);
        if (i == 0)
            snprintf(line, sizeof(line), "%s:x:%u:%u:pam_aad helper:/nonexistent:/usr/sbin/nologin\n",
                     AAD_HELPER_USER, id, id);
        else
            snprintf(line, sizeof(line), "%s:x:%u:\n", AAD_HELPER_USER, id);
        FILE *f = NULL;
        if (copy_file(files[i], account_files[i], 0) != 0 || chmod(account_files[i], 0644) != 0 ||
            (f = fopen(account_files[i], "a")) == NULL || fputs(line, f) < 0 || fclose(f) != 0 ||
            mount(account_files[i], files[i], NULL, MS_BIND, NULL) != 0)
            return -1;
    }
    return 0;
}

int bench_ns_enter(void)
{
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
        fprintf(stderr, "bench: cannot create private mount and network namespaces (%s): "
                        "make bench runs as root\n", strerror(errno));
        return -1;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 || loopback_up() != 0) {
        fprintf(stderr, "bench: namespace set-up failed: %s\n", strerror(errno));
        return -1;
    }
    snprintf(store_copy, sizeof(store_copy), "/tmp/pam_aad_bench_ca.XXXXXX");
    if (mkdtemp(store_copy) == NULL)
        return -1;
    snprintf(system_bundle, sizeof(system_bundle), "%s.bundle", store_copy);
    char cmd[256];
    /* cp -a keeps the hash links and the links into /usr/share/ca-certificates. */
    snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", AAD_SYSTEM_CA_DIR, store_copy);
    if (system(cmd) != 0 || chmod(store_copy, 0755) != 0 ||
        copy_file(BENCH_SYSTEM_BUNDLE, system_bundle, 0) != 0 ||
        mount(store_copy, AAD_SYSTEM_CA_DIR, NULL, MS_BIND, NULL) != 0) {
        fprintf(stderr, "bench: cannot set up the system CA store copy: %s\n", strerror(errno));
        return -1;
    }
    if (helper_account() != 0) {
        fprintf(stderr, "bench: cannot add the helper's account %s: %s\n", AAD_HELPER_USER,
                strerror(errno));
        return -1;
    }
    return 0;
}

int bench_ns_trust(const char *pem_file)
{
    FILE *f = fopen(pem_file, "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (cert == NULL)
        return -1;
    char link[160];
    snprintf(link, sizeof(link), "%s/%08lx.0", store_copy, X509_subject_name_hash(cert));
    X509_free(cert);
    if ((unlink(link) != 0 && errno != ENOENT) || copy_file(pem_file, link, 0) != 0)
        return -1;
    char bundle[160];
    snprintf(bundle, sizeof(bundle), "%s/ca-certificates.crt", store_copy);
    return copy_file(system_bundle, bundle, 0) == 0 && copy_file(pem_file, bundle, 1) == 0 ? 0 : -1;
}

void bench_ns_leave(void)
{
    char cmd[256];
    if (store_copy[0] == '\0')
        return;
    umount2(AAD_SYSTEM_CA_DIR, MNT_DETACH);
    static const char *const files[2] = {"/etc/passwd", "/etc/group"};
    for (int i = 0; i < 2; i++) {
        if (account_files[i][0] != '\0') {
            umount2(files[i], MNT_DETACH);
            unlink(account_files[i]);
        }
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", store_copy, system_bundle);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", store_copy);
}
