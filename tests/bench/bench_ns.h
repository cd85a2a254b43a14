/* bench_ns.h - the private world `make bench` measures in.
 *
 * The bench runs as root in its own mount and network namespaces: the
 * loopback interface of a fresh network namespace (no other engineer's
 * servers, no real network; the delaying proxy lives there too), and over
 * the product's real system CA directory (AAD_SYSTEM_CA_DIR) a copy of the
 * host's, to which each emulator's CA is added the way update-ca-certificates
 * adds one: a hashed name in the directory and a line-up at the end of the
 * bundle. So pam_aad runs without ca_file, exactly as on a production host,
 * and the bare baselines read the same directory and the same bundle. The
 * helper's system account, which the package makes, is added to copies of
 * /etc/passwd and /etc/group mounted over them when the host lacks it. */
#ifndef BENCH_NS_H
#define BENCH_NS_H

/* Enters the namespaces and mounts the copies. 0, or -1 with a message on
 * stderr (not root, no unshare). */
int bench_ns_enter(void);

/* Adds the PEM certificate in pem_file to the system store copy: as
 * HASH.0 (HASH.0 replaced when it was the previous emulator's) and
 * appended to the bundle that was there. 0, or -1. */
int bench_ns_trust(const char *pem_file);

/* Removes the copy (the mount goes with the namespace). */
void bench_ns_leave(void);

/* The bundle in the copied store (libcurl's default CAINFO on Debian). */
#define BENCH_SYSTEM_BUNDLE AAD_SYSTEM_CA_DIR "/ca-certificates.crt"

#endif
