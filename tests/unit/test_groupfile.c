/* test_groupfile.c - group_map's edits of /etc/group and /etc/gshadow,
 * on temporary copies: membership set as wanted, every other byte kept,
 * both files consistent, nothing created, gid 0 only with allow_root,
 * concurrent writers under the lock lose no update, and a rename that
 * fails (injected below) leaves both files as they were. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "aad_groupfile.h"
#include "unit_support.h"

/* Fault injection: this definition of renameat is the one the group-file
 * code linked into this test calls. The renames numbered in fail_renames
 * (bit 0: the first of an apply) fail with EIO. */
static unsigned fail_renames;
static unsigned renames;

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
    if (fail_renames & (1U << renames++)) {
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_renameat, olddirfd, oldpath, newdirfd, newpath);
}

static char dir[64];
static char lock_path[128];

#define GROUP_TEXT                                                                            \
    "root:x:0:\n"                                                                             \
    "# a comment the shadow suite would keep\n"                                               \
    "sudo:x:27:carol\n"                                                                       \
    "adm:x:4:syslog,alice\n"                                                                  \
    "users:x:100:\n"                                                                          \
    "docker:x:999:bob,alice,dave"
#define GSHADOW_TEXT                                                                          \
    "root:*::\n"                                                                              \
    "# a comment the shadow suite would keep\n"                                               \
    "sudo:*::carol\n"                                                                         \
    "adm:*::syslog,alice\n"                                                                   \
    "users:*::\n"                                                                             \
    "docker:!:carol:bob,alice,dave"

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *read_text(const char *name)
{
    static char buf[2][8192];
    static int which;
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *b = buf[which++ % 2];
    size_t n = fread(b, 1, sizeof(buf[0]) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static int setup(void **state)
{
    (void)state;
    if (unit_make_dir(dir, sizeof(dir), "groupfile") != 0)
        return -1;
    snprintf(lock_path, sizeof(lock_path), "%s/.pwd.lock", dir);
    write_file("group", GROUP_TEXT, 0644);
    write_file("gshadow", GSHADOW_TEXT, 0640);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return unit_remove_dir(dir);
}

/* One apply of one change; returns its outcome. */
static enum aad_group_outcome set_one(const char *account, const char *group, int member,
                                      int allow_root)
{
    struct aad_groupfile gf;
    struct aad_error err = {0};
    assert_status(aad_groupfile_open(&gf, dir, lock_path, &err), AAD_OK, err);
    struct aad_group_change c = {group, member, AAD_GROUP_WRITE_FAILED};
    assert_status(aad_groupfile_apply(&gf, account, &c, 1, allow_root, &err), AAD_OK, err);
    aad_groupfile_close(&gf);
    return c.outcome;
}

static int temp_files_left(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".pam_aad.") != NULL;
    closedir(d);
    return n;
}

static void test_addition_appends_the_account_to_both_files_and_keeps_every_other_byte(void **s)
{
    (void)s;
    assert_int_equal(set_one("alice", "sudo", 1, 0), AAD_GROUP_ADDED);
    assert_string_equal(read_text("group"), "root:x:0:\n"
                                            "# a comment the shadow suite would keep\n"
                                            "sudo:x:27:carol,alice\n"
                                            "adm:x:4:syslog,alice\n"
                                            "users:x:100:\n"
                                            "docker:x:999:bob,alice,dave");
    assert_string_equal(read_text("gshadow"), "root:*::\n"
                                              "# a comment the shadow suite would keep\n"
                                              "sudo:*::carol,alice\n"
                                              "adm:*::syslog,alice\n"
                                              "users:*::\n"
                                              "docker:!:carol:bob,alice,dave");
    assert_int_equal(set_one("alice", "users", 1, 0), AAD_GROUP_ADDED);
    assert_non_null(strstr(read_text("group"), "\nusers:x:100:alice\n"));
    assert_non_null(strstr(read_text("gshadow"), "\nusers:*::alice\n"));
    assert_int_equal(temp_files_left(), 0);
}

static void test_removal_drops_only_the_account(void **s)
{
    (void)s;
    assert_int_equal(set_one("alice", "docker", 0, 0), AAD_GROUP_REMOVED);
    assert_non_null(strstr(read_text("group"), "\ndocker:x:999:bob,dave"));
    assert_non_null(strstr(read_text("gshadow"), "\ndocker:!:carol:bob,dave"));
    /* alice's other group and the admin list (carol) untouched */
    assert_non_null(strstr(read_text("group"), "\nadm:x:4:syslog,alice\n"));
    assert_int_equal(set_one("alice", "adm", 0, 0), AAD_GROUP_REMOVED);
    assert_non_null(strstr(read_text("group"), "\nadm:x:4:syslog\n"));
    assert_int_equal(temp_files_left(), 0);
}

static void test_nothing_is_written_when_membership_already_matches(void **s)
{
    (void)s;
    char path[256];
    struct stat before, after;
    snprintf(path, sizeof(path), "%s/group", dir);
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(set_one("alice", "adm", 1, 0), AAD_GROUP_UNCHANGED);
    assert_int_equal(set_one("alice", "sudo", 0, 0), AAD_GROUP_UNCHANGED);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino); /* not replaced */
    assert_string_equal(read_text("group"), GROUP_TEXT);
    assert_int_equal(temp_files_left(), 0);
}

static void test_missing_group_is_never_created(void **s)
{
    (void)s;
    assert_int_equal(set_one("alice", "wheel", 1, 0), AAD_GROUP_NO_SUCH_GROUP);
    /* local group names are exact: "SUDO" is not "sudo" */
    assert_int_equal(set_one("alice", "SUDO", 1, 0), AAD_GROUP_NO_SUCH_GROUP);
    /* a prefix of a name is not the name */
    assert_int_equal(set_one("alice", "sud", 1, 0), AAD_GROUP_NO_SUCH_GROUP);
    assert_string_equal(read_text("group"), GROUP_TEXT);
    assert_string_equal(read_text("gshadow"), GSHADOW_TEXT);
}

static void test_gid_0_is_left_alone_without_allow_root(void **s)
{
    (void)s;
    assert_int_equal(set_one("alice", "root", 1, 0), AAD_GROUP_ROOT_REFUSED);
    assert_string_equal(read_text("group"), GROUP_TEXT);
    assert_int_equal(set_one("alice", "root", 1, 1), AAD_GROUP_ADDED);
    assert_non_null(strstr(read_text("group"), "root:x:0:alice\n"));
}

static void test_owner_and_mode_are_kept(void **s)
{
    (void)s;
    char path[256];
    struct stat st;
    assert_int_equal(set_one("alice", "sudo", 1, 0), AAD_GROUP_ADDED);
    snprintf(path, sizeof(path), "%s/gshadow", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    snprintf(path, sizeof(path), "%s/group", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_several_groups_change_in_one_edit(void **s)
{
    (void)s;
    struct aad_groupfile gf;
    struct aad_error err = {0};
    assert_status(aad_groupfile_open(&gf, dir, lock_path, &err), AAD_OK, err);
    struct aad_group_change c[] = {{"sudo", 1, 0}, {"docker", 0, 0}, {"wheel", 1, 0},
                                   {"adm", 1, 0}};
    assert_status(aad_groupfile_apply(&gf, "alice", c, 4, 0, &err), AAD_OK, err);
    aad_groupfile_close(&gf);
    assert_int_equal(c[0].outcome, AAD_GROUP_ADDED);
    assert_int_equal(c[1].outcome, AAD_GROUP_REMOVED);
    assert_int_equal(c[2].outcome, AAD_GROUP_NO_SUCH_GROUP);
    assert_int_equal(c[3].outcome, AAD_GROUP_UNCHANGED);
    assert_non_null(strstr(read_text("gshadow"), "sudo:*::carol,alice\n"));
    assert_non_null(strstr(read_text("gshadow"), "docker:!:carol:bob,dave"));
}

static void test_without_gshadow_only_group_is_edited(void **s)
{
    (void)s;
    char path[256];
    snprintf(path, sizeof(path), "%s/gshadow", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(set_one("alice", "sudo", 1, 0), AAD_GROUP_ADDED);
    assert_int_equal(access(path, F_OK), -1);
    assert_non_null(strstr(read_text("group"), "sudo:x:27:carol,alice\n"));
}

static void test_lock_held_by_another_is_waited_for(void **s)
{
    (void)s;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t holder = fork();
    if (holder == 0) {
        int fd = open(lock_path, O_WRONLY | O_CREAT, 0600);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
            _exit(1);
        (void)!write(ready[1], "x", 1);
        usleep(400 * 1000);
        _exit(0);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    int64_t start = aad_monotonic_ms();
    assert_int_equal(set_one("alice", "sudo", 1, 0), AAD_GROUP_ADDED);
    assert_true(aad_monotonic_ms() - start >= 300); /* it waited for the holder */
    int status = 0;
    waitpid(holder, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ready[0]);
    close(ready[1]);
}

static void test_a_missing_directory_is_unavailable(void **s)
{
    (void)s;
    struct aad_groupfile gf;
    struct aad_error err = {0};
    assert_status(aad_groupfile_open(&gf, "/nonexistent-pam-aad", lock_path, &err),
                  AAD_UNAVAILABLE, err);
    aad_groupfile_close(&gf);
}

static void test_preview_tells_what_would_change_and_writes_nothing(void **s)
{
    (void)s;
    struct aad_error err = {0};
    struct aad_group_change c[] = {{"sudo", 1, 0}, {"docker", 0, 0}, {"adm", 1, 0},
                                   {"root", 1, 0}, {"wheel", 0, 0}};
    assert_status(aad_groupfile_preview(dir, "alice", c, 5, 0, &err), AAD_OK, err);
    assert_int_equal(c[0].outcome, AAD_GROUP_ADDED);
    assert_int_equal(c[1].outcome, AAD_GROUP_REMOVED);
    assert_int_equal(c[2].outcome, AAD_GROUP_UNCHANGED);
    assert_int_equal(c[3].outcome, AAD_GROUP_ROOT_REFUSED);
    assert_int_equal(c[4].outcome, AAD_GROUP_NO_SUCH_GROUP);
    assert_string_equal(read_text("group"), GROUP_TEXT);
    assert_string_equal(read_text("gshadow"), GSHADOW_TEXT);
}

/* Without its temporary files (it could not prepare them) nothing is
 * written: what was due fails, the rest stands. */
static void test_apply_without_prepared_files_writes_nothing(void **s)
{
    (void)s;
    struct aad_groupfile gf;
    struct aad_error err = {0};
    assert_status(aad_groupfile_open(&gf, dir, lock_path, &err), AAD_OK, err);
    aad_groupfile_close(&gf);
    struct aad_group_change c[] = {{"sudo", 0, 0}, {"docker", 0, 0}};
    assert_status(aad_groupfile_apply(&gf, "alice", c, 2, 0, &err), AAD_UNAVAILABLE, err);
    assert_int_equal(c[0].outcome, AAD_GROUP_UNCHANGED);    /* not a member: nothing due */
    assert_int_equal(c[1].outcome, AAD_GROUP_WRITE_FAILED); /* a removal that was due */
    assert_string_equal(read_text("group"), GROUP_TEXT);
}

/* How often name is in the member list of the line starting with prefix. */
static int count_member(const char *text, const char *prefix, const char *name)
{
    const char *line = strstr(text, prefix);
    assert_non_null(line);
    int n = 0;
    size_t len = strlen(name);
    for (const char *p = line + strlen(prefix); *p != '\0' && *p != '\n';) {
        n += strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\n' || p[len] == '\0');
        p += strcspn(p, ",\n");
        if (*p == ',')
            p++;
    }
    return n;
}

/* grpck -r on the copies, with a passwd that knows every member (in a
 * private mount namespace): 0 when clean. Skipped (0) when it cannot run. */
static int grpck_status(int writers)
{
    if (geteuid() != 0 || access("/usr/sbin/grpck", X_OK) != 0 || access("/usr/bin/unshare", X_OK) != 0)
        return 0;
    char path[256], cmd[1024];
    snprintf(path, sizeof(path), "%s/passwd", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("root:x:0:0:root:/root:/bin/sh\n", f);
    const char *fixed[] = {"alice", "bob", "carol", "dave", "syslog"};
    for (int i = 0; i < 5; i++)
        fprintf(f, "%s:x:%d:100::/:/bin/sh\n", fixed[i], 2000 + i);
    for (int i = 0; i < writers; i++)
        fprintf(f, "user%02d:x:%d:100::/:/bin/sh\n", i, 3000 + i);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "unshare --mount sh -c 'mount --bind %s/passwd /etc/passwd && "
             "/usr/sbin/grpck -r %s/group %s/gshadow' >%s/grpck.out 2>&1",
             dir, dir, dir, dir);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "grpck -r: %s", read_text("grpck.out"));
    return rc;
}

/* 50 processes add 50 different accounts to the same two groups and take
 * one out of a third, all at once: no update is lost, grpck -r is clean,
 * and apart from the member lists the files are as they were. */
#define WRITERS 50
static void test_concurrent_writers_lose_no_update(void **s)
{
    (void)s;
    const char *group_before = "root:x:0:\nsudo:x:27:carol\nadm:x:4:syslog,alice\n"
                               "users:x:100:\ndocker:x:999:bob,alice,dave\n";
    const char *gshadow_before = "root:*::\nsudo:*::carol\nadm:*::syslog,alice\n"
                                 "users:*::\ndocker:!:carol:bob,alice,dave\n";
    write_file("group", group_before, 0644);
    write_file("gshadow", gshadow_before, 0640);
    assert_int_equal(grpck_status(WRITERS), 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(go[1]);
            char name[32], c;
            snprintf(name, sizeof(name), "user%02d", i);
            struct aad_groupfile gf;
            struct aad_error err = {0};
            if (aad_groupfile_open(&gf, dir, lock_path, &err) != AAD_OK)
                _exit(2);
            (void)!read(go[0], &c, 1); /* all start together */
            struct aad_group_change ch[] = {{"sudo", 1, 0}, {"users", 1, 0}, {"docker", 0, 0}};
            enum aad_status st = aad_groupfile_apply(&gf, name, ch, 3, 0, &err);
            if (st == AAD_OK && i == 7) { /* one of them also takes bob out of docker */
                aad_groupfile_close(&gf);
                st = aad_groupfile_open(&gf, dir, lock_path, &err);
                struct aad_group_change out = {"docker", 0, 0};
                if (st == AAD_OK)
                    st = aad_groupfile_apply(&gf, "bob", &out, 1, 0, &err);
            }
            aad_groupfile_close(&gf);
            _exit(st == AAD_OK ? 0 : 3);
        }
    }
    close(go[0]);
    close(go[1]); /* EOF: go */
    for (int i = 0; i < WRITERS; i++) {
        int status = 0;
        waitpid(pids[i], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const char *group = read_text("group"), *gshadow = read_text("gshadow");
    for (int i = 0; i < WRITERS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "user%02d", i);
        assert_int_equal(count_member(group, "\nsudo:x:27:", name), 1);
        assert_int_equal(count_member(group, "\nusers:x:100:", name), 1);
        assert_int_equal(count_member(gshadow, "\nsudo:*::", name), 1);
        assert_int_equal(count_member(gshadow, "\nusers:*::", name), 1);
    }
    assert_int_equal(count_member(group, "\nsudo:x:27:", "carol"), 1);
    /* bob left docker, alice and dave stay; the other lines are untouched */
    assert_non_null(strstr(group, "\ndocker:x:999:alice,dave\n"));
    assert_non_null(strstr(gshadow, "\ndocker:!:carol:alice,dave\n"));
    assert_int_equal(strncmp(group, "root:x:0:\nsudo:x:27:carol,", 26), 0);
    assert_non_null(strstr(group, "\nadm:x:4:syslog,alice\nusers:x:100:user"));
    assert_non_null(strstr(gshadow, "\nadm:*::syslog,alice\nusers:*::user"));
    /* the member lists of both files agree */
    char a[4096], b[4096];
    assert_int_equal(sscanf(strstr(group, "\nsudo:") + 1, "sudo:x:27:%4095[^\n]", a), 1);
    assert_int_equal(sscanf(strstr(gshadow, "\nsudo:") + 1, "sudo:*::%4095[^\n]", b), 1);
    assert_string_equal(a, b);
    assert_int_equal(temp_files_left(), 0);
    assert_int_equal(grpck_status(WRITERS), 0);
}

/* Removes alice from adm (both files change) with the renames in fail
 * failing; returns the status, err and the groupfile's inconsistency. */
static enum aad_status remove_alice_failing(unsigned fail, struct aad_error *err,
                                            int *inconsistent)
{
    struct aad_groupfile gf;
    assert_status(aad_groupfile_open(&gf, dir, lock_path, err), AAD_OK, *err);
    struct aad_group_change c = {"adm", 0, AAD_GROUP_WRITE_FAILED};
    renames = 0;
    fail_renames = fail;
    enum aad_status st = aad_groupfile_apply(&gf, "alice", &c, 1, 0, err);
    fail_renames = 0;
    *inconsistent = gf.inconsistent;
    aad_groupfile_close(&gf);
    assert_int_equal(c.outcome, st == AAD_OK ? AAD_GROUP_REMOVED : AAD_GROUP_WRITE_FAILED);
    return st;
}

static void test_a_failed_first_rename_changes_nothing(void **s)
{
    (void)s;
    struct aad_error err = {0};
    int inconsistent = -1;
    assert_int_equal(remove_alice_failing(1U << 0, &err, &inconsistent), AAD_UNAVAILABLE);
    assert_int_equal(inconsistent, 0);
    assert_string_equal(read_text("group"), GROUP_TEXT);
    assert_string_equal(read_text("gshadow"), GSHADOW_TEXT);
    assert_int_equal(temp_files_left(), 0);
}

/* group renamed, gshadow not: the old group goes back, so that gshadow
 * does not keep granting (sg, newgrp) what group revoked, or the reverse. */
static void test_a_failed_gshadow_rename_rolls_group_back(void **s)
{
    (void)s;
    struct aad_error err = {0};
    int inconsistent = -1;
    assert_int_equal(remove_alice_failing(1U << 1, &err, &inconsistent), AAD_UNAVAILABLE);
    assert_int_equal(inconsistent, 0);
    assert_non_null(strstr(err.message, "group rolled back"));
    assert_string_equal(read_text("group"), GROUP_TEXT);
    assert_string_equal(read_text("gshadow"), GSHADOW_TEXT);
    assert_int_equal(temp_files_left(), 0);
}

static void test_a_failed_roll_back_is_reported_inconsistent(void **s)
{
    (void)s;
    struct aad_error err = {0};
    int inconsistent = -1;
    assert_int_equal(remove_alice_failing((1U << 1) | (1U << 2), &err, &inconsistent),
                     AAD_UNAVAILABLE);
    assert_int_equal(inconsistent, 1);
    assert_non_null(strstr(err.message, "INCONSISTENT"));
}

static void test_without_faults_both_files_change(void **s)
{
    (void)s;
    struct aad_error err = {0};
    int inconsistent = -1;
    assert_int_equal(remove_alice_failing(0, &err, &inconsistent), AAD_OK);
    assert_null(strstr(read_text("group"), "syslog,alice"));
    assert_null(strstr(read_text("gshadow"), "syslog,alice"));
    assert_int_equal(temp_files_left(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_a_failed_first_rename_changes_nothing),
        T(test_a_failed_gshadow_rename_rolls_group_back),
        T(test_a_failed_roll_back_is_reported_inconsistent),
        T(test_without_faults_both_files_change),
        T(test_addition_appends_the_account_to_both_files_and_keeps_every_other_byte),
        T(test_removal_drops_only_the_account),
        T(test_nothing_is_written_when_membership_already_matches),
        T(test_missing_group_is_never_created),
        T(test_gid_0_is_left_alone_without_allow_root),
        T(test_owner_and_mode_are_kept),
        T(test_several_groups_change_in_one_edit),
        T(test_without_gshadow_only_group_is_edited),
        T(test_lock_held_by_another_is_waited_for),
        T(test_a_missing_directory_is_unavailable),
        T(test_preview_tells_what_would_change_and_writes_nothing),
        T(test_apply_without_prepared_files_writes_nothing),
        T(test_concurrent_writers_lose_no_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
