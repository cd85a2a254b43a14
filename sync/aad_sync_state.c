/* aad_sync_state.c - what the sync remembers between runs.
 * Where it runs: in aad-login sync, as root from the systemd timer; it
 * may use HTTPS, JSON and the extrausers files, never /etc/passwd. */
#include "config.h"

#include "aad_sync_state.h"
#include "aad_sync_write.h"
#include "aad_json.h"
#include "aad_safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

enum aad_status aad_sync_state_lock(const char *dir, int *fd, struct aad_error *err)
{
    int dfd = aad_sync_open_dir(dir, 1, err);
    if (dfd < 0)
        return err->status;
    *fd = openat(dfd, AAD_SYNC_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    close(dfd);
    if (*fd < 0)
        return aad_fail(err, AAD_UNAVAILABLE, "%s/%s cannot be opened: %s", dir,
                        AAD_SYNC_LOCK_FILE, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(*fd);
        *fd = -1;
        return aad_fail(err, AAD_UNAVAILABLE, busy ? "another sync is running (%s/%s is locked)"
                                                   : "%s/%s cannot be locked",
                        dir, AAD_SYNC_LOCK_FILE);
    }
    return AAD_OK;
}

json_t *aad_sync_state_object(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

enum aad_status aad_sync_state_load(const char *dir, json_t **state, struct aad_error *err)
{
    struct aad_error dir_err = {0};
    int dfd = aad_sync_open_dir(dir, 0, &dir_err);
    if (dfd < 0 && access(dir, F_OK) == 0) {
        if (err != NULL)
            *err = dir_err;
        return dir_err.status;
    }
    int fd = dfd < 0 ? -1 : openat(dfd, AAD_SYNC_STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (dfd < 0)
        errno = ENOENT;
    else
        close(dfd);
    if (fd < 0 && errno == ENOENT) {
        *state = json_pack("{s:i}", "version", 1);
        return *state ? AAD_OK : aad_fail(err, AAD_UNAVAILABLE, "out of memory");
    }
    if (fd < 0)
        return aad_fail(err, AAD_CONFIG_ERROR, "%s/%s cannot be opened: %s", dir,
                        AAD_SYNC_STATE_FILE, strerror(errno));
    const char *why = NULL;
    char *text = NULL;
    size_t len = 0;
    json_t *s = NULL;
    if (aad_safefile_check_fd(fd, 0, &why) != 0)
        why = why ? why : "unsafe";
    else if (aad_safefile_read_fd(fd, AAD_SYNC_STATE_MAX_BYTES, &text, &len) != 0)
        why = "cannot be read (or is larger than 64 MiB)";
    else if ((s = aad_json_parse_object(text, len, AAD_SYNC_STATE_MAX_BYTES)) == NULL ||
             json_integer_value(json_object_get(s, "version")) != 1)
        why = "is not a sync state of this version";
    free(text);
    close(fd);
    if (why != NULL) {
        json_decref(s);
        return aad_fail(err, AAD_CONFIG_ERROR,
                        "%s/%s %s: the sync stops rather than guess which uids it gave", dir,
                        AAD_SYNC_STATE_FILE, why);
    }
    *state = s;
    return AAD_OK;
}

enum aad_status aad_sync_state_save(const char *dir, const json_t *state, struct aad_error *err)
{
    int dfd = aad_sync_open_dir(dir, 1, err);
    if (dfd < 0)
        return err->status;
    char *text = json_dumps(state, JSON_COMPACT);
    enum aad_status st = text == NULL ? aad_fail(err, AAD_UNAVAILABLE, "out of memory")
                                      : aad_sync_replace(dfd, dir, AAD_SYNC_STATE_FILE, text,
                                                         strlen(text), 0600, (gid_t)-1, err);
    free(text);
    close(dfd);
    return st;
}
