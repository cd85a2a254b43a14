/* confine.h - what the helper gives up before it touches the network.
 * Where it runs: in pam_aad_helper, which pam_aad.so executes for each login
 * and which confines itself before its first request. */
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

/* For the group writer (helper/group_writer.c), once it holds every
 * descriptor it will write through: Landlock makes the file system
 * read-only except that in dir (NULL: nowhere) regular files may be made
 * and removed - what renaming its temporary files over group and gshadow
 * needs; nothing opened from now on can be written. seccomp adds to the
 * helper's filter: no sockets, links, nodes, directories, attributes,
 * ioctls or opens that create; renames and unlinks only relative to
 * dir_fd; fchmod/fchown only on descriptors first_tmp..last_tmp.
 * Landlock cannot name files inside a directory, so what remains is:
 * rename or unlink of entries of dir. Returns 0, or -1 with errno. */
int confine_group_writer(const char *dir, int dir_fd, int first_tmp, int last_tmp);

#endif
