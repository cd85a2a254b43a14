/* test_group_writer.c - the group writer holds its own line whatever the
 * helper (the network-facing side) asks: only groups named in group_map,
 * only the account fixed when it was forked, nothing without a request.
 * Runs as root in a private mount namespace with a scratch directory
 * mounted over /etc (the writer's paths are fixed); otherwise skipped. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aad_groupfile.h"
#include "aad_wire.h"
#include "group_writer.h"

#define ADMINS "0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f"
#define GROUP_TEXT "root:x:0:\nsudo:x:27:\naadadmins:x:4300:\n"
#define GSHADOW_TEXT "root:*::\nsudo:*::\naadadmins:!::\n"

static char scratch[] = "/tmp/pam_aad_writer.XXXXXX";
static char map_path[600];
static struct aad_config cfg;

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static const char *etc_text(const char *name)
{
    static char buf[4096];
    char path[64];
    snprintf(path, sizeof(path), "/etc/%s", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    write_file("/etc/group", GROUP_TEXT, 0644);
    write_file("/etc/gshadow", GSHADOW_TEXT, 0640);
    return 0;
}

/* Sends one raw request as a compromised helper could; returns the
 * writer's outcome field (static). */
static const char *raw_request(struct group_writer *w, int type, const char *field)
{
    static char answer[256];
    const char *fields[] = {field};
    assert_int_equal(aad_wire_send(w->fd, type, 1, fields), 0);
    struct aad_wire_msg msg;
    answer[0] = '\0';
    if (aad_wire_recv(w->fd, aad_monotonic_ms() + 20000, &msg) == AAD_WIRE_OK) {
        snprintf(answer, sizeof(answer), "%s", aad_wire_field(&msg, 0));
        aad_wire_msg_clear(&msg);
    }
    return answer;
}

static void test_groups_not_in_group_map_are_never_touched(void **state)
{
    (void)state;
    struct group_writer w;
    assert_int_equal(group_writer_start(&cfg, "alice", &w), 0);
    char want[16];
    snprintf(want, sizeof(want), "%d %d %d", AAD_GROUP_ADDED, AAD_GROUP_NOT_MAPPED,
             AAD_GROUP_NOT_MAPPED);
    assert_string_equal(raw_request(&w, AAD_MSG_GROUPS_SET, "+aadadmins +sudo +root"), want);
    group_writer_stop(&w);
    assert_string_equal(etc_text("group"), "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n");
    assert_string_equal(etc_text("gshadow"), "root:*::\nsudo:*::\naadadmins:!::alice\n");
}

static void test_the_account_is_the_one_fixed_at_fork(void **state)
{
    (void)state;
    struct group_writer w;
    assert_int_equal(group_writer_start(&cfg, "alice", &w), 0);
    /* A plan carries no account: whatever the helper logs, alice changes. */
    struct aad_group_want want = {"aadadmins", 1, ADMINS};
    struct aad_group_plan plan = {&want, 1};
    struct aad_error err = {0};
    assert_int_equal(group_writer_apply(&w, "mallory", &plan, NULL, NULL, NULL, &err), AAD_OK);
    group_writer_stop(&w);
    assert_string_equal(etc_text("group"), "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n");
}

static void test_nothing_is_written_without_a_request(void **state)
{
    (void)state;
    struct group_writer w;
    assert_int_equal(group_writer_start(&cfg, "alice", &w), 0);
    pid_t pid = w.pid;
    group_writer_stop(&w); /* the login was refused: the socket closes */
    waitpid(pid, NULL, 0);
    assert_string_equal(etc_text("group"), GROUP_TEXT);
    DIR *d = opendir("/etc");
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        assert_null(strstr(e->d_name, ".pam_aad.")); /* its temporary files are gone */
    closedir(d);
}

static void test_a_malformed_request_changes_nothing(void **state)
{
    (void)state;
    struct group_writer w;
    assert_int_equal(group_writer_start(&cfg, "alice", &w), 0);
    assert_string_equal(raw_request(&w, AAD_MSG_VERDICT, "+aadadmins"), "");
    group_writer_stop(&w);
    assert_int_equal(group_writer_start(&cfg, "alice", &w), 0);
    char want[16];
    snprintf(want, sizeof(want), "%d %d", AAD_GROUP_NOT_MAPPED, AAD_GROUP_NOT_MAPPED);
    assert_string_equal(raw_request(&w, AAD_MSG_GROUPS_SET, "aadadmins *aadadmins"), want);
    group_writer_stop(&w);
    assert_string_equal(etc_text("group"), GROUP_TEXT);
}

static void test_a_removal_the_writer_cannot_make_refuses(void **state)
{
    (void)state;
    write_file("/etc/group", "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n", 0644);
    assert_int_equal(mount(NULL, "/etc", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
    struct group_writer w;
    assert_int_equal(group_writer_start(&cfg, "alice", &w), 0);
    struct aad_group_want want = {"aadadmins", 0, ADMINS};
    struct aad_group_plan plan = {&want, 1};
    struct aad_error err = {0};
    assert_int_equal(group_writer_apply(&w, "alice", &plan, NULL, NULL, NULL, &err), AAD_DENIED);
    assert_non_null(strstr(err.message, "local group aadadmins could not be updated"));
    group_writer_stop(&w);
    assert_int_equal(mount(NULL, "/etc", NULL, MS_REMOUNT | MS_BIND, NULL), 0);
}

int main(void)
{
    if (geteuid() != 0) {
        puts("SKIP: needs root (a private mount namespace over /etc)");
        return 77;
    }
    if (mkdtemp(scratch) == NULL || unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        puts("SKIP: cannot make a private mount namespace");
        return 77;
    }
    char etc[600];
    snprintf(etc, sizeof(etc), "%s/etc", scratch);
    snprintf(map_path, sizeof(map_path), "%s/group_map", scratch);
    if (mkdir(etc, 0755) != 0 || mount(etc, "/etc", NULL, MS_BIND, NULL) != 0)
        return 1;
    FILE *f = fopen(map_path, "w");
    if (f == NULL)
        return 1;
    fputs(ADMINS " aadadmins\n", f);
    fclose(f);
    cfg.group_map = map_path;
    cfg.timeout = 10;
    cfg.http_timeout = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_groups_not_in_group_map_are_never_touched, setup),
        cmocka_unit_test_setup(test_the_account_is_the_one_fixed_at_fork, setup),
        cmocka_unit_test_setup(test_nothing_is_written_without_a_request, setup),
        cmocka_unit_test_setup(test_a_malformed_request_changes_nothing, setup),
        cmocka_unit_test_setup(test_a_removal_the_writer_cannot_make_refuses, setup),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    umount("/etc");
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
    if (system(cmd) != 0)
        failed++;
    return failed;
}
