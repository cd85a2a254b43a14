/* test_group_writer.c - the built group writer (pam_aad_group_writer) holds
 * its own line whatever it is asked: only groups named in group_map, only
 * the account named, nothing on a malformed request; it cannot be killed
 * half-way by a file past its size limit, and it removes what a dead
 * writer left. Driven as the module drives it (aad_group_apply) and with
 * raw requests. Runs as root in a private mount namespace with a scratch
 * directory mounted over /etc (the writer's paths are fixed); otherwise
 * skipped. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "aad_group_apply.h"
#include "aad_groupfile.h"
#include "aad_spawn.h"
#include "aad_wire.h"

#define ADMINS "0b9d8f3e-1c2a-4e5b-9f6d-7a8b9c0d1e2f"
#define GROUP_TEXT "root:x:0:\nsudo:x:27:\naadadmins:x:4300:\n"
#define GSHADOW_TEXT "root:*::\nsudo:*::\naadadmins:!::\n"

static char scratch[] = "/tmp/pam_aad_writer.XXXXXX";
static char config_arg[700], map_arg[700];
static const char *args[2] = {config_arg, map_arg};
static char logged[8192];

static void capture(void *ctx, int priority, const char *message)
{
    (void)ctx;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof(logged) - n, "%d %s\n", priority, message);
}
static const struct aad_log log_to_buffer = {capture, NULL, 1};

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

static int count_temporaries(void)
{
    int n = 0;
    DIR *d = opendir("/etc");
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".pam_aad.") != NULL;
    closedir(d);
    return n;
}

static int setup(void **state)
{
    (void)state;
    write_file("/etc/group", GROUP_TEXT, 0644);
    write_file("/etc/gshadow", GSHADOW_TEXT, 0640);
    logged[0] = '\0';
    return 0;
}

static struct aad_group_plan plan_of(struct aad_group_want *w, size_t n)
{
    return (struct aad_group_plan){w, n};
}

/* As the module asks: returns the status and fills done. */
static enum aad_status apply(const char *account, struct aad_group_plan plan,
                             struct aad_group_applied *done, struct aad_error *err)
{
    return aad_group_apply(GROUP_WRITER, account, &plan, 0, 2, args, &log_to_buffer, done, err);
}

/* One raw request as anything able to start the writer could send it;
 * returns the writer's outcome field ("" when it answered nothing). */
static const char *raw_request(int type, const char *account, const char *wants)
{
    static char answer[256];
    struct aad_helper_proc proc;
    struct aad_error err = {0};
    assert_int_equal(aad_helper_start(GROUP_WRITER, 16L << 20, &proc, &err), AAD_OK);
    const char *fields[] = {account, wants, config_arg, map_arg};
    assert_int_equal(aad_wire_send(proc.fd, type, 4, fields), 0);
    struct aad_wire_msg msg;
    answer[0] = '\0';
    if (aad_wire_recv(proc.fd, aad_monotonic_ms() + 20000, &msg) == AAD_WIRE_OK) {
        snprintf(answer, sizeof(answer), "%s", aad_wire_field(&msg, 0));
        aad_wire_msg_clear(&msg);
    }
    aad_helper_finish(&proc, 5000);
    return answer;
}

static void test_groups_not_in_group_map_are_never_touched(void **state)
{
    (void)state;
    char want[16];
    snprintf(want, sizeof(want), "%d %d %d", AAD_GROUP_ADDED, AAD_GROUP_NOT_MAPPED,
             AAD_GROUP_NOT_MAPPED);
    assert_string_equal(raw_request(AAD_MSG_GROUPS_SET, "alice",
                                    "+aadadmins:" ADMINS " +sudo:" ADMINS " +root:" ADMINS),
                        want);
    assert_string_equal(etc_text("group"), "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n");
    assert_string_equal(etc_text("gshadow"), "root:*::\nsudo:*::\naadadmins:!::alice\n");
    assert_int_equal(count_temporaries(), 0);
}

static void test_only_the_account_named_changes(void **state)
{
    (void)state;
    struct aad_group_want want = {"aadadmins", 1, ADMINS};
    struct aad_group_applied done;
    struct aad_error err = {0};
    assert_int_equal(apply("alice", plan_of(&want, 1), &done, &err), AAD_OK);
    assert_true(done.added);
    assert_string_equal(etc_text("group"), "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n");
    assert_non_null(strstr(logged, "added alice to local group aadadmins (Entra group " ADMINS));
}

static void test_nothing_due_starts_no_writer(void **state)
{
    (void)state;
    /* alice is out already: the preview says so, and nothing is started
     * (a writer that cannot be executed would show up as a failure). */
    struct aad_group_want want = {"aadadmins", 0, ADMINS};
    struct aad_group_plan plan = plan_of(&want, 1);
    struct aad_group_applied done;
    struct aad_error err = {0};
    assert_int_equal(aad_group_apply("/nonexistent/writer", "alice", &plan, 0, 2, args,
                                     &log_to_buffer, &done, &err),
                     AAD_OK);
    assert_false(done.removed);
    assert_non_null(strstr(logged, "alice stays out of local group aadadmins"));
}

static void test_a_writer_that_cannot_start_refuses_a_due_removal(void **state)
{
    (void)state;
    write_file("/etc/group", "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n", 0644);
    struct aad_group_want want = {"aadadmins", 0, ADMINS};
    struct aad_group_plan plan = plan_of(&want, 1);
    struct aad_group_applied done;
    struct aad_error err = {0};
    assert_int_equal(aad_group_apply("/nonexistent/writer", "alice", &plan, 0, 2, args,
                                     &log_to_buffer, &done, &err),
                     AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_NOT_AUTHORIZED);
    assert_false(done.removed);
}

static void test_a_malformed_request_changes_nothing(void **state)
{
    (void)state;
    assert_string_equal(raw_request(AAD_MSG_VERDICT, "alice", "+aadadmins:" ADMINS), "");
    assert_string_equal(raw_request(AAD_MSG_GROUPS_SET, "alice", "aadadmins *aadadmins"), "");
    assert_string_equal(raw_request(AAD_MSG_GROUPS_SET, "../alice", "+aadadmins:" ADMINS), "");
    assert_string_equal(etc_text("group"), GROUP_TEXT);
    assert_int_equal(count_temporaries(), 0);
}

static void test_a_removal_the_writer_cannot_make_refuses(void **state)
{
    (void)state;
    write_file("/etc/group", "root:x:0:\nsudo:x:27:\naadadmins:x:4300:alice\n", 0644);
    assert_int_equal(mount(NULL, "/etc", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
    struct aad_group_want want = {"aadadmins", 0, ADMINS};
    struct aad_group_applied done;
    struct aad_error err = {0};
    enum aad_status st = apply("alice", plan_of(&want, 1), &done, &err);
    assert_int_equal(mount(NULL, "/etc", NULL, MS_REMOUNT | MS_BIND, NULL), 0);
    assert_int_equal(st, AAD_DENIED);
    assert_int_equal(err.kind, AAD_FAILURE_NOT_AUTHORIZED);
    assert_non_null(strstr(err.message, "local group aadadmins could not be updated"));
}

/* A group file past the bound is refused as a whole, by the preview and by
 * the writer alike: no write meets the size limit (SIGXFSZ would kill the
 * writer half-way), nothing is left behind, and a removal refuses. */
static void test_a_group_file_past_the_bound_is_refused_whole(void **state)
{
    (void)state;
    int fd = open("/etc/group", O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    const char *line = "aadadmins:x:4300:alice\n";
    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    static char padding[65536];
    memset(padding, '#', sizeof(padding) - 1);
    padding[sizeof(padding) - 1] = '\n';
    for (long written = 0; written <= AAD_GROUPFILE_MAX_BYTES; written += sizeof(padding))
        assert_int_equal(write(fd, padding, sizeof(padding)), (ssize_t)sizeof(padding));
    close(fd);
    struct aad_group_want want = {"aadadmins", 0, ADMINS};
    struct aad_group_applied done;
    struct aad_error err = {0};
    assert_int_equal(apply("alice", plan_of(&want, 1), &done, &err), AAD_DENIED);
    assert_int_equal(count_temporaries(), 0);
    assert_non_null(strstr(logged, "could not make sure alice is out of local group aadadmins"));
    /* The writer answered (it was not killed): its reason is in the log. */
    assert_non_null(strstr(logged, "the group writer: cannot read"));
}

static void test_temporaries_of_a_dead_writer_are_removed(void **state)
{
    (void)state;
    write_file("/etc/.group.pam_aad.0123456789abcdef", "half a file", 0600);
    write_file("/etc/.gshadow.pam_aad.fedcba9876543210", "half a file", 0600);
    write_file("/etc/.group.other", "not ours", 0600);
    struct aad_group_want want = {"aadadmins", 1, ADMINS};
    struct aad_group_applied done;
    struct aad_error err = {0};
    assert_int_equal(apply("alice", plan_of(&want, 1), &done, &err), AAD_OK);
    assert_int_equal(count_temporaries(), 0);
    assert_int_equal(access("/etc/.group.other", F_OK), 0);
    unlink("/etc/.group.other");
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
    char etc[600], map_path[600], conf_path[600];
    snprintf(etc, sizeof(etc), "%s/etc", scratch);
    snprintf(map_path, sizeof(map_path), "%s/group_map", scratch);
    snprintf(conf_path, sizeof(conf_path), "%s/pam_aad.conf", scratch);
    if (mkdir(etc, 0755) != 0 || mount(etc, "/etc", NULL, MS_BIND, NULL) != 0)
        return 1;
    write_file(map_path, ADMINS " aadadmins\n", 0644);
    write_file(conf_path,
               "tenant = 72f988bf-86f1-41af-91ab-2d7cd011db47\n"
               "client_id = 535fb089-9ff3-47b6-9bfb-4f1264799865\n"
               "domains = contoso.example\n",
               0600);
    snprintf(config_arg, sizeof(config_arg), "config=%s", conf_path);
    snprintf(map_arg, sizeof(map_arg), "group_map=%s", map_path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_groups_not_in_group_map_are_never_touched, setup),
        cmocka_unit_test_setup(test_only_the_account_named_changes, setup),
        cmocka_unit_test_setup(test_nothing_due_starts_no_writer, setup),
        cmocka_unit_test_setup(test_a_writer_that_cannot_start_refuses_a_due_removal, setup),
        cmocka_unit_test_setup(test_a_malformed_request_changes_nothing, setup),
        cmocka_unit_test_setup(test_a_removal_the_writer_cannot_make_refuses, setup),
        cmocka_unit_test_setup(test_a_group_file_past_the_bound_is_refused_whole, setup),
        cmocka_unit_test_setup(test_temporaries_of_a_dead_writer_are_removed, setup),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    umount("/etc");
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
    if (system(cmd) != 0)
        failed++;
    return failed;
}
