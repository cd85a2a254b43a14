/* test_runtime_records.c - the root-only records under runtime_dir: the
 * session sign-ins (aad_session_store) and what a login leaves for its
 * session phase (aad_pending). A sign-in is kept only in memory (a
 * tmpfs: /dev/shm here), read back only for its own audit session, uid
 * and account (a pending record asked for by another account is removed), forgotten when expired; a value cannot add a line; a
 * directory or record that is not root's, or a link, is refused. Needs
 * root (the records are root's); skipped otherwise. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aad_pending.h"
#include "aad_runtime.h"
#include "aad_session_store.h"
#include "unit_support.h"

#define TOKEN "1.AXkAsecret-refresh-token-for-the-test"
#define TMPFS_MAGIC 0x01021994L

struct dirs {
    char memory[64]; /* on /dev/shm (tmpfs) */
    char disk[96];   /* beside the test binary (not a tmpfs), or "" */
};

static int on_tmpfs(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

static int setup(void **state)
{
    static struct dirs d;
    memset(&d, 0, sizeof(d));
    snprintf(d.memory, sizeof(d.memory), "/dev/shm/aad-unit-records-XXXXXX");
    if (geteuid() != 0 || !on_tmpfs("/dev/shm") || mkdtemp(d.memory) == NULL)
        d.memory[0] = '\0';
    snprintf(d.disk, sizeof(d.disk), "aad-unit-records-disk-XXXXXX");
    if (mkdtemp(d.disk) == NULL || on_tmpfs(d.disk)) {
        if (d.disk[0] != '\0')
            rmdir(d.disk);
        d.disk[0] = '\0';
    }
    *state = &d;
    return 0;
}

static int teardown(void **state)
{
    struct dirs *d = *state;
    if (d->memory[0] != '\0')
        unit_remove_dir(d->memory);
    if (d->disk[0] != '\0')
        unit_remove_dir(d->disk);
    return 0;
}

static const char *memory_dir(void **state)
{
    struct dirs *d = *state;
    if (d->memory[0] == '\0')
        skip(); /* not root, or no tmpfs at /dev/shm */
    return d->memory;
}

static struct aad_session_signin signin(long session, unsigned long uid, const char *account,
                                        long long expires_at)
{
    struct aad_session_signin s = {.session_id = session,
                                   .uid = uid,
                                   .signed_in_at = (long long)time(NULL) - 10,
                                   .expires_at = expires_at,
                                   .refresh_token = (char *)TOKEN,
                                   .oid = (char *)"4f6c2b1e-8d3a-4c7e-9b52-1a0e6d9c3f71",
                                   .tid = (char *)"9b7c2f1e-0000-4000-8000-000000000001",
                                   .upn = (char *)"alice@contoso.example"};
    snprintf(s.account, sizeof(s.account), "%s", account);
    return s;
}

static long long later(void)
{
    return (long long)time(NULL) + 3600;
}

static void test_a_sign_in_is_read_back_for_its_session_uid_and_account(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    struct aad_session_signin s = signin(41, 4242, "alice", later()), got;
    assert_status(aad_session_store_put(dir, &s, &err), AAD_OK, err);
    assert_status(aad_session_store_get(dir, 41, 4242, "alice", time(NULL), &got, &err), AAD_OK,
                  err);
    assert_string_equal(got.refresh_token, TOKEN);
    assert_string_equal(got.upn, "alice@contoso.example");
    assert_string_equal(got.oid, s.oid);
    assert_string_equal(got.tid, s.tid);
    assert_int_equal(got.signed_in_at, s.signed_in_at);
    aad_session_signin_clear(&got);

    /* Another session, another uid, another account of the same uid. */
    assert_status(aad_session_store_get(dir, 42, 4242, "alice", time(NULL), &got, &err),
                  AAD_USER_UNKNOWN, err);
    assert_status(aad_session_store_get(dir, 41, 4243, "alice", time(NULL), &got, &err),
                  AAD_USER_UNKNOWN, err);
    assert_status(aad_session_store_get(dir, 41, 4242, "mallory", time(NULL), &got, &err),
                  AAD_USER_UNKNOWN, err);
    assert_status(aad_session_store_get(dir, AAD_NO_SESSION, 4242, "alice", time(NULL), &got,
                                        &err),
                  AAD_USER_UNKNOWN, err);
    aad_session_store_remove(dir, 41, 4242);
    assert_status(aad_session_store_get(dir, 41, 4242, "alice", time(NULL), &got, &err),
                  AAD_USER_UNKNOWN, err);
}

static void test_the_store_is_root_only(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    struct aad_session_signin s = signin(43, 4242, "alice", later());
    assert_status(aad_session_store_put(dir, &s, &err), AAD_OK, err);
    char path[128];
    struct stat st;
    snprintf(path, sizeof(path), "%s/sessions", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(st.st_uid, 0);
    snprintf(path, sizeof(path), "%s/sessions/43-4242", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, 0);
    aad_session_store_remove(dir, 43, 4242);
}

static void test_an_expired_sign_in_is_forgotten(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    long long now = (long long)time(NULL);
    struct aad_session_signin s = signin(44, 4242, "alice", now), got;
    assert_status(aad_session_store_put(dir, &s, &err), AAD_OK, err);
    assert_status(aad_session_store_get(dir, 44, 4242, "alice", now, &got, &err), AAD_USER_UNKNOWN,
                  err);
    assert_message_has(err, "older than reauth_max_age");
    char path[128];
    snprintf(path, sizeof(path), "%s/sessions/44-4242", dir);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_no_sign_in_is_kept_on_a_disk(void **state)
{
    struct dirs *d = *state;
    if (geteuid() != 0 || d->disk[0] == '\0')
        skip();
    char abs[512], cwd[400];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(abs, sizeof(abs), "%s/%s", cwd, d->disk);
    struct aad_error err = {0};
    struct aad_session_signin s = signin(45, 4242, "alice", later());
    assert_status(aad_session_store_put(abs, &s, &err), AAD_UNAVAILABLE, err);
    assert_message_has(err, "not in memory");
    char path[600];
    snprintf(path, sizeof(path), "%s/sessions/45-4242", abs);
    assert_int_equal(access(path, F_OK), -1);

    /* The pending record keeps the grants there, without the token. */
    struct aad_pending p = {.created = (long long)time(NULL), .grants = (char *)"+aadadmins:g1",
                            .refresh_token = (char *)TOKEN, .upn = (char *)"alice@contoso.example"};
    snprintf(p.account, sizeof(p.account), "alice");
    char handle[AAD_PENDING_HANDLE_LEN + 1];
    int dropped = 0;
    assert_status(aad_pending_put(abs, &p, handle, &dropped, &err), AAD_OK, err);
    assert_int_equal(dropped, 1);
    struct aad_pending got;
    assert_status(aad_pending_get(abs, handle, "alice", &got, &err), AAD_OK, err);
    assert_string_equal(got.grants, "+aadadmins:g1");
    assert_null(got.refresh_token);
    aad_pending_clear(&got);
}

static void test_a_value_cannot_add_a_line(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    struct aad_session_signin s = signin(46, 4242, "alice", later());
    s.upn = (char *)"alice@contoso.example\nrefresh_token forged";
    assert_status(aad_session_store_put(dir, &s, &err), AAD_UNAVAILABLE, err);
    assert_message_has(err, "control character");
    struct aad_pending p = {.created = (long long)time(NULL), .refresh_token = (char *)TOKEN,
                            .upn = (char *)"a\rb"};
    snprintf(p.account, sizeof(p.account), "alice");
    char handle[AAD_PENDING_HANDLE_LEN + 1];
    int dropped = 0;
    assert_status(aad_pending_put(dir, &p, handle, &dropped, &err), AAD_UNAVAILABLE, err);
    assert_true(aad_runtime_value_ok("alice@contoso.example"));
    assert_true(aad_runtime_value_ok(NULL));
    assert_false(aad_runtime_value_ok("a\x7f"));
}

static void test_a_link_or_a_record_not_roots_is_not_read(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    struct aad_session_signin s = signin(47, 4242, "alice", later()), got;
    assert_status(aad_session_store_put(dir, &s, &err), AAD_OK, err);
    char path[128], link[128];
    snprintf(path, sizeof(path), "%s/sessions/47-4242", dir);
    snprintf(link, sizeof(link), "%s/sessions/48-4242", dir);
    assert_int_equal(symlink(path, link), 0);
    assert_status(aad_session_store_get(dir, 48, 4242, "alice", time(NULL), &got, &err),
                  AAD_USER_UNKNOWN, err);
    assert_int_equal(chown(path, 4242, 4242), 0);
    assert_status(aad_session_store_get(dir, 47, 4242, "alice", time(NULL), &got, &err),
                  AAD_USER_UNKNOWN, err);
    unlink(link);
    unlink(path);
}

static void test_a_runtime_dir_not_roots_is_refused(void **state)
{
    const char *dir = memory_dir(state);
    char other[128];
    snprintf(other, sizeof(other), "%s/others", dir);
    assert_int_equal(mkdir(other, 0700), 0);
    assert_int_equal(chown(other, 4242, 4242), 0);
    struct aad_error err = {0};
    struct aad_session_signin s = signin(49, 4242, "alice", later());
    assert_status(aad_session_store_put(other, &s, &err), AAD_UNAVAILABLE, err);
    assert_int_equal(chown(other, 0, 0), 0);
    assert_int_equal(chmod(other, 0755), 0);
    assert_status(aad_session_store_put(other, &s, &err), AAD_UNAVAILABLE, err);
}

struct listed {
    int count, with_token;
    long sessions[8];
};

static void collect(void *ctx, const struct aad_session_signin *s)
{
    struct listed *l = ctx;
    if (l->count < 8)
        l->sessions[l->count] = s->session_id;
    l->count++;
    l->with_token += s->refresh_token != NULL;
}

static void test_each_lists_without_tokens_and_drops_the_expired(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    long long now = (long long)time(NULL);
    struct aad_session_signin live = signin(50, 4242, "alice", later());
    struct aad_session_signin old = signin(51, 4243, "bob", now - 1);
    assert_status(aad_session_store_put(dir, &live, &err), AAD_OK, err);
    assert_status(aad_session_store_put(dir, &old, &err), AAD_OK, err);
    struct listed l = {0};
    assert_int_equal(aad_session_store_each(dir, now, collect, &l, &err), 1);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.sessions[0], 50);
    assert_int_equal(l.with_token, 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/sessions/51-4243", dir);
    assert_int_equal(access(path, F_OK), -1);
    aad_session_store_remove(dir, 50, 4242);
}

static void test_a_pending_sign_in_is_for_its_account_only(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    struct aad_pending p = {.created = (long long)time(NULL), .refresh_token = (char *)TOKEN,
                            .oid = (char *)"o", .tid = (char *)"t",
                            .upn = (char *)"alice@contoso.example"};
    snprintf(p.account, sizeof(p.account), "alice");
    char handle[AAD_PENDING_HANDLE_LEN + 1];
    int dropped = 1;
    assert_status(aad_pending_put(dir, &p, handle, &dropped, &err), AAD_OK, err);
    assert_int_equal(dropped, 0);
    struct aad_pending got;
    assert_status(aad_pending_get(dir, handle, "alice", &got, &err), AAD_OK, err);
    assert_string_equal(got.refresh_token, TOKEN);
    aad_pending_clear(&got);
    /* Asked for by a login to another account, it is gone for good. */
    assert_status(aad_pending_get(dir, handle, "mallory", &got, &err), AAD_USER_UNKNOWN, err);
    assert_status(aad_pending_get(dir, handle, "alice", &got, &err), AAD_USER_UNKNOWN, err);
    assert_status(aad_pending_put(dir, &p, handle, &dropped, &err), AAD_OK, err);
    assert_status(aad_pending_get(dir, handle, "alice", &got, &err), AAD_OK, err);
    assert_string_equal(got.refresh_token, TOKEN);
    aad_pending_clear(&got);
    assert_status(aad_pending_replace(dir, handle, NULL, &err), AAD_OK, err);
    assert_status(aad_pending_get(dir, handle, "alice", &got, &err), AAD_USER_UNKNOWN, err);
}

/* Dates an entry of the pending records age_s seconds back (negative: ahead). */
static void age_by(const char *dir, const char *name, long age_s)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/pending/%s", dir, name);
    time_t then = time(NULL) - (time_t)age_s;
    struct timespec when[2] = {{then, 0}, {then, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, when, AT_SYMLINK_NOFOLLOW), 0);
}

static int pending_exists(const char *dir, const char *handle)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/pending/%s", dir, handle);
    return access(path, F_OK) == 0;
}

/* Records past their age are removed by the next put's scan, which runs
 * at most once a minute; meanwhile get refuses them by their date. */
static void test_expired_pending_records_are_removed_once_a_minute(void **state)
{
    const char *dir = memory_dir(state);
    struct aad_error err = {0};
    struct aad_pending p = {.created = (long long)time(NULL), .grants = (char *)"sudo"};
    snprintf(p.account, sizeof(p.account), "alice");
    char old[AAD_PENDING_HANDLE_LEN + 1], fresh[AAD_PENDING_HANDLE_LEN + 1],
        last[AAD_PENDING_HANDLE_LEN + 1];
    int dropped = 0;
    assert_status(aad_pending_put(dir, &p, old, &dropped, &err), AAD_OK, err);
    age_by(dir, old, AAD_PENDING_MAX_AGE_S + 60);
    /* A scan ran at the first put: the next one, seconds later, does not. */
    assert_status(aad_pending_put(dir, &p, fresh, &dropped, &err), AAD_OK, err);
    assert_true(pending_exists(dir, old));
    /* A minute on, the next put scans again. */
    age_by(dir, ".expired", 61);
    assert_status(aad_pending_put(dir, &p, last, &dropped, &err), AAD_OK, err);
    assert_false(pending_exists(dir, old));
    assert_true(pending_exists(dir, fresh));
    assert_true(pending_exists(dir, last));
    /* A stamp from the future does not stop the scans. */
    age_by(dir, ".expired", -3600);
    age_by(dir, fresh, AAD_PENDING_MAX_AGE_S + 60);
    assert_status(aad_pending_put(dir, &p, old, &dropped, &err), AAD_OK, err);
    assert_false(pending_exists(dir, fresh));
    assert_status(aad_pending_replace(dir, last, NULL, &err), AAD_OK, err);
    assert_status(aad_pending_replace(dir, old, NULL, &err), AAD_OK, err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_sign_in_is_read_back_for_its_session_uid_and_account),
        cmocka_unit_test(test_the_store_is_root_only),
        cmocka_unit_test(test_an_expired_sign_in_is_forgotten),
        cmocka_unit_test(test_no_sign_in_is_kept_on_a_disk),
        cmocka_unit_test(test_a_value_cannot_add_a_line),
        cmocka_unit_test(test_a_link_or_a_record_not_roots_is_not_read),
        cmocka_unit_test(test_a_runtime_dir_not_roots_is_refused),
        cmocka_unit_test(test_each_lists_without_tokens_and_drops_the_expired),
        cmocka_unit_test(test_a_pending_sign_in_is_for_its_account_only),
        cmocka_unit_test(test_expired_pending_records_are_removed_once_a_minute),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
