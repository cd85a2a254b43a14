/* confine.h - what the helper gives up before it touches the network. */
#ifndef CONFINE_H
#define CONFINE_H

/* Caps the helper's address space (not under AddressSanitizer, which
 * reserves terabytes of shadow memory). 0, or -1 with errno. */
int confine_memory(void);

/* Landlock, where the kernel has it: the whole file system becomes
 * read-only except cache_dir (created first when missing), and signals to
 * processes outside the helper are refused (ABI 6). Returns the Landlock
 * ABI version applied, 0 when the kernel has no Landlock, -1 on failure. */
int confine_files(const char *cache_dir);

/* seccomp, where built with libseccomp: the system calls a login never
 * makes fail with EPERM from here on - executing programs, tracing or
 * reading other processes, changing ids or capabilities, mounts and
 * namespaces, kernel modules, keyrings, BPF, the clock, rebooting - and
 * system calls of another architecture end the calling thread. Returns 1 when a
 * filter was loaded, 0 when built without libseccomp or when the kernel has
 * no seccomp filters, -1 on failure. */
int confine_syscalls(void);

#endif
