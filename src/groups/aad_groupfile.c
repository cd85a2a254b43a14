/* aad_groupfile.c - membership edits of /etc/group and /etc/gshadow.
 * Where it runs: in the group writer, the one process that writes /etc/group
 * and /etc/gshadow, and read-only in the login core and aad-login; libc
 * only. */
#include "config.h"

#include "aad_groupfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_WAIT_MS 15000 /* what lckpwdf() waits */
#define LOCK_RETRY_MS 10
#define TEMP_INFIX ".pam_aad."

static const char *const file_names[2] = {"group", "gshadow"};

const char *aad_group_outcome_name(enum aad_group_outcome o)
{
    switch (o) {
    case AAD_GROUP_UNCHANGED: return "unchanged";
    case AAD_GROUP_ADDED: return "added";
    case AAD_GROUP_REMOVED: return "removed";
    case AAD_GROUP_NO_SUCH_GROUP: return "no such local group (groups are never created)";
    case AAD_GROUP_ROOT_REFUSED: return "group has gid 0 and allow_root is off";
    case AAD_GROUP_NOT_MAPPED: return "group not named in group_map";
    case AAD_GROUP_WRITE_FAILED: return "could not be written";
    }
    return "?";
}

static int make_temp(int dir_fd, const char *base, char *name, size_t size)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned char r[8];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        int n = snprintf(name, size, ".%s" TEMP_INFIX, base);
        for (size_t i = 0; i < sizeof(r) && (size_t)n + 2 < size; i++)
            n += snprintf(name + n, size - (size_t)n, "%02x", r[i]);
        int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* The lock lckpwdf() takes, with its bounded wait. */
static int lock_files(int fd, int type)
{
    struct flock fl = {.l_type = (short)type, .l_whence = SEEK_SET};
    int64_t deadline = aad_monotonic_ms() + LOCK_WAIT_MS;
    while (fcntl(fd, F_SETLK, &fl) != 0) {
        if ((errno != EACCES && errno != EAGAIN) || aad_monotonic_ms() >= deadline)
            return -1;
        aad_sleep_until_ms(aad_monotonic_ms() + LOCK_RETRY_MS);
    }
    return 0;
}

/* Temporary files of a writer that died before it could remove them. Only
 * called under the lock: a living writer holds it while its files exist. */
static void remove_stale_temporaries(int dir_fd)
{
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        for (int f = 0; f < 2; f++) {
            size_t n = strlen(file_names[f]);
            if (e->d_name[0] == '.' && strncmp(e->d_name + 1, file_names[f], n) == 0 &&
                strncmp(e->d_name + 1 + n, TEMP_INFIX, strlen(TEMP_INFIX)) == 0)
                unlinkat(dir_fd, e->d_name, 0);
        }
    }
    closedir(d);
}

enum aad_status aad_groupfile_open(struct aad_groupfile *gf, const char *dir,
                                   const char *lock_path, struct aad_error *err)
{
    memset(gf, 0, sizeof(*gf));
    gf->lock_fd = -1;
    for (int t = 0; t < AAD_GROUPFILE_TEMPS; t++)
        gf->tmp_fd[t] = -1;
    snprintf(gf->dir, sizeof(gf->dir), "%s", dir);
    gf->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (gf->dir_fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "%s: %m", dir);
    gf->lock_fd = open(lock_path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (gf->lock_fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "%s: %m", lock_path);
    /* Held until aad_groupfile_close: nothing is made in dir without it. */
    if (lock_files(gf->lock_fd, F_WRLCK) != 0)
        return aad_fail(err, AAD_UNAVAILABLE, "cannot lock %s/group: %s", dir, strerror(errno));
    gf->locked = 1;
    remove_stale_temporaries(gf->dir_fd);
    struct stat st;
    gf->has_gshadow = fstatat(gf->dir_fd, file_names[1], &st, AT_SYMLINK_NOFOLLOW) == 0;
    /* The new group, the new gshadow, and the old group kept for a roll back. */
    const int base[AAD_GROUPFILE_TEMPS] = {0, 1, 0};
    for (int t = 0; t < AAD_GROUPFILE_TEMPS; t++) {
        if (base[t] == 1 && !gf->has_gshadow)
            continue;
        gf->tmp_fd[t] = make_temp(gf->dir_fd, file_names[base[t]], gf->tmp_name[t],
                                  sizeof(gf->tmp_name[t]));
        if (gf->tmp_fd[t] < 0) {
            gf->tmp_name[t][0] = '\0';
            return aad_fail(err, AAD_UNAVAILABLE, "%s: cannot create a temporary file: %s", dir,
                            strerror(errno));
        }
    }
    return AAD_OK;
}

void aad_groupfile_close(struct aad_groupfile *gf)
{
    for (int t = 0; t < AAD_GROUPFILE_TEMPS; t++) {
        if (gf->tmp_fd[t] >= 0)
            close(gf->tmp_fd[t]);
        if (gf->tmp_name[t][0] != '\0' && gf->dir_fd >= 0)
            unlinkat(gf->dir_fd, gf->tmp_name[t], 0);
        gf->tmp_fd[t] = -1;
        gf->tmp_name[t][0] = '\0';
    }
    if (gf->locked)
        lock_files(gf->lock_fd, F_UNLCK);
    if (gf->lock_fd >= 0)
        close(gf->lock_fd);
    if (gf->dir_fd >= 0)
        close(gf->dir_fd);
    gf->lock_fd = gf->dir_fd = -1;
    gf->locked = 0;
}

static int read_file(int dir_fd, const char *name, char **text, size_t *len, struct stat *st)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = -1;
    *text = NULL;
    if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_size <= AAD_GROUPFILE_MAX_BYTES) {
        size_t cap = (size_t)st->st_size + 1, used = 0;
        char *buf = malloc(cap + 1);
        ssize_t n = 1;
        while (buf != NULL && n > 0 && used < cap) {
            n = read(fd, buf + used, cap - used);
            if (n > 0)
                used += (size_t)n;
        }
        if (buf != NULL && n >= 0 && used < cap) { /* the whole file, and it did not grow */
            buf[used] = '\0';
            *text = buf;
            *len = used;
            rc = 0;
        } else {
            free(buf);
        }
    }
    close(fd);
    return rc;
}

/* The line of group in text, split at its four fields' colons. */
struct group_line {
    size_t members; /* offset of the member list */
    size_t end;     /* offset of the line's end (its '\n' or the end of text) */
    long gid;
};

static int find_group(const char *text, size_t len, const char *group, struct group_line *out)
{
    size_t name_len = strlen(group);
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (end - start > name_len && memcmp(text + start, group, name_len) == 0 &&
            text[start + name_len] == ':') {
            size_t colons[3], found = 0;
            for (size_t i = start; i < end; i++) {
                if (text[i] == ':' && found < 3)
                    colons[found] = i;
                found += text[i] == ':';
            }
            if (found != 3)
                return 0; /* not a well-formed line: left alone */
            char *stop = NULL;
            out->gid = strtol(text + colons[1] + 1, &stop, 10);
            if (stop == text + colons[1] + 1 || stop != text + colons[2])
                out->gid = -1;
            out->members = colons[2] + 1;
            out->end = end;
            return 1;
        }
        start = end + 1;
    }
    return 0;
}

static int list_has(const char *list, size_t len, const char *account)
{
    size_t alen = strlen(account);
    for (size_t i = 0; i <= len;) {
        const char *comma = memchr(list + i, ',', len - i);
        size_t e = comma ? (size_t)(comma - list) : len;
        if (e - i == alen && memcmp(list + i, account, alen) == 0)
            return 1;
        i = e + 1;
    }
    return 0;
}

/* Rewrites the member list of the line as wanted. Returns 1 when the text
 * changed, 0 when not, -1 out of memory. */
static int edit_members(char **text, size_t *len, const struct group_line *line,
                        const char *account, int member)
{
    const char *list = *text + line->members;
    size_t list_len = line->end - line->members, alen = strlen(account);
    if (list_has(list, list_len, account) == member)
        return 0;
    char *out = malloc(*len + alen + 2);
    if (out == NULL)
        return -1;
    size_t o = line->members;
    memcpy(out, *text, o);
    if (member) {
        memcpy(out + o, list, list_len);
        o += list_len;
        if (list_len > 0)
            out[o++] = ',';
        memcpy(out + o, account, alen);
        o += alen;
    } else {
        int first = 1;
        for (size_t i = 0; i <= list_len;) {
            const char *comma = memchr(list + i, ',', list_len - i);
            size_t e = comma ? (size_t)(comma - list) : list_len;
            if (!(e - i == alen && memcmp(list + i, account, alen) == 0)) {
                if (!first)
                    out[o++] = ',';
                memcpy(out + o, list + i, e - i);
                o += e - i;
                first = 0;
            }
            i = e + 1;
        }
    }
    memcpy(out + o, *text + line->end, *len - line->end);
    o += *len - line->end;
    out[o] = '\0';
    free(*text);
    *text = out;
    *len = o;
    return 1;
}

/* The temporary file gets the contents, the old file's owner and mode,
 * and reaches the disk before it is renamed. */
static int stage(int fd, const char *text, size_t len, const struct stat *old)
{
    if (aad_write_all(fd, text, len) != 0 || fchown(fd, old->st_uid, old->st_gid) != 0 ||
        fchmod(fd, old->st_mode & 07777) != 0 || fsync(fd) != 0)
        return -1;
    return 0;
}

/* Decides every change on the texts. Returns the number of changes due
 * (in the group file), -1 out of memory. */
static int edit_texts(char *text[2], size_t len[2], const int have[2], const char *account,
                      struct aad_group_change *changes, size_t n, int allow_root,
                      int changed[2])
{
    int due = 0;
    for (size_t c = 0; c < n; c++) {
        struct group_line line;
        changes[c].outcome = AAD_GROUP_UNCHANGED;
        if (!find_group(text[0], len[0], changes[c].group, &line)) {
            changes[c].outcome = AAD_GROUP_NO_SUCH_GROUP;
            continue;
        }
        if (line.gid == 0 && !allow_root) {
            changes[c].outcome = AAD_GROUP_ROOT_REFUSED;
            continue;
        }
        for (int f = 0; f < 2; f++) {
            if (!have[f] || (f == 1 && !find_group(text[1], len[1], changes[c].group, &line)))
                continue;
            int rc = edit_members(&text[f], &len[f], &line, account, changes[c].member);
            if (rc < 0)
                return -1;
            changed[f] |= rc;
            if (rc && f == 0) {
                changes[c].outcome = changes[c].member ? AAD_GROUP_ADDED : AAD_GROUP_REMOVED;
                due++;
            }
        }
    }
    return due;
}

/* Both files as read, and edited in memory. */
struct edit {
    char *text[2];
    size_t len[2];
    char *old_group; /* group as read, for a roll back */
    size_t old_group_len;
    struct stat st[2];
    int have[2];
    int changed[2];
};

/* Reads the files (gshadow when with_gshadow) and decides every change.
 * Returns the number of changes due, -1 when a file cannot be read. */
static int read_and_decide(int dir_fd, int with_gshadow, const char *account,
                           struct aad_group_change *changes, size_t n, int allow_root,
                           struct edit *e)
{
    memset(e, 0, sizeof(*e));
    e->have[0] = 1;
    e->have[1] = with_gshadow;
    for (int f = 0; f < 2; f++) {
        if (e->have[f] && read_file(dir_fd, file_names[f], &e->text[f], &e->len[f], &e->st[f]) != 0)
            return -1;
    }
    if ((e->old_group = malloc(e->len[0] + 1)) == NULL)
        return -1;
    memcpy(e->old_group, e->text[0], e->len[0] + 1);
    e->old_group_len = e->len[0];
    return edit_texts(e->text, e->len, e->have, account, changes, n, allow_root, e->changed);
}

static void edit_clear(struct edit *e)
{
    free(e->text[0]);
    free(e->text[1]);
    free(e->old_group);
}

/* Changes that were due are failures; the others stand. */
static void due_failed(struct aad_group_change *changes, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        if (changes[c].outcome == AAD_GROUP_ADDED || changes[c].outcome == AAD_GROUP_REMOVED)
            changes[c].outcome = AAD_GROUP_WRITE_FAILED;
    }
}

enum aad_status aad_groupfile_preview(const char *dir, const char *account,
                                      struct aad_group_change *changes, size_t n, int allow_root,
                                      struct aad_error *err)
{
    for (size_t c = 0; c < n; c++)
        changes[c].outcome = AAD_GROUP_WRITE_FAILED;
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "%s: %m", dir);
    struct edit e;
    int due = read_and_decide(dir_fd, 0, account, changes, n, allow_root, &e);
    edit_clear(&e);
    close(dir_fd);
    if (due < 0) {
        for (size_t c = 0; c < n; c++)
            changes[c].outcome = AAD_GROUP_WRITE_FAILED;
        return aad_fail(err, AAD_UNAVAILABLE, "cannot read %s/group", dir);
    }
    return AAD_OK;
}

/* Renames the temporary file t over file f; 0 or -1 with errno. */
static int put_in_place(struct aad_groupfile *gf, int t, int f)
{
    if (renameat(gf->dir_fd, gf->tmp_name[t], gf->dir_fd, file_names[f]) != 0)
        return -1;
    gf->tmp_name[t][0] = '\0';
    return 0;
}

/* Both files, or neither: when gshadow cannot be put in place after group
 * was, the old group goes back, so that no fault leaves one file granting
 * a membership the other revokes. */
static const char *replace_files(struct aad_groupfile *gf, const struct edit *e)
{
    if (e->changed[0] && e->changed[1] &&
        stage(gf->tmp_fd[AAD_GROUPFILE_TEMP_OLD_GROUP], e->old_group, e->old_group_len,
              &e->st[0]) != 0)
        return "cannot keep a copy for a roll back of";
    if (e->changed[0] && put_in_place(gf, 0, 0) != 0)
        return "cannot rename the temporary file over";
    if (e->changed[1] && put_in_place(gf, 1, 1) != 0) {
        int saved = errno;
        if (e->changed[0] && put_in_place(gf, AAD_GROUPFILE_TEMP_OLD_GROUP, 0) != 0) {
            gf->inconsistent = 1;
            return "INCONSISTENT: group was changed and gshadow could not be, nor could group be "
                   "rolled back; run grpck:";
        }
        errno = saved;
        return "cannot rename the temporary file over (group rolled back)";
    }
    return NULL;
}

enum aad_status aad_groupfile_apply(struct aad_groupfile *gf, const char *account,
                                    struct aad_group_change *changes, size_t n, int allow_root,
                                    struct aad_error *err)
{
    for (size_t c = 0; c < n; c++)
        changes[c].outcome = AAD_GROUP_WRITE_FAILED;
    if (!aad_is_valid_account_name(account))
        return aad_fail(err, AAD_UNAVAILABLE, "'%.40s' is not an account name", account);
    if (!gf->locked || gf->tmp_fd[0] < 0 || (gf->has_gshadow && gf->tmp_fd[1] < 0)) {
        /* Nothing can be written; what was not due anyway still stands. */
        aad_groupfile_preview(gf->dir, account, changes, n, allow_root, NULL);
        due_failed(changes, n);
        return aad_fail(err, AAD_UNAVAILABLE, "%s/group: not prepared for writing", gf->dir);
    }
    struct edit e;
    const char *failed = NULL;
    int due = read_and_decide(gf->dir_fd, gf->has_gshadow, account, changes, n, allow_root, &e);
    if (due < 0)
        failed = "cannot read";
    for (int f = 0; f < 2 && failed == NULL; f++) {
        if (e.changed[f] && stage(gf->tmp_fd[f], e.text[f], e.len[f], &e.st[f]) != 0)
            failed = "cannot write the temporary file for";
    }
    if (failed == NULL)
        failed = replace_files(gf, &e);
    if (failed == NULL && (e.changed[0] || e.changed[1]))
        fsync(gf->dir_fd);
    enum aad_status result = AAD_OK;
    if (failed != NULL) {
        result = aad_fail(err, AAD_UNAVAILABLE, "%s %s/group or gshadow: %s", failed, gf->dir,
                          strerror(errno));
        if (due < 0)
            for (size_t c = 0; c < n; c++)
                changes[c].outcome = AAD_GROUP_WRITE_FAILED;
        due_failed(changes, n);
    }
    edit_clear(&e);
    return result;
}
