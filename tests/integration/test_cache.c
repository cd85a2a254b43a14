/* test_cache.c - the signing-key cache of SPEC.md §6 against the emulator:
 * freshness, rotation, the forced-refetch rate limit, unsafe or corrupt
 * entries, and concurrent processes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aad_base.h"
#include "aad_cache.h"
#include "aad_http.h"
#include "aad_trust.h"
#include "harness.h"

struct fixture {
    struct harness h;
    struct aad_config *cfg;
    struct aad_http *http;
    char entry_path[400];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || harness_start(&f->h, NULL) != 0) {
        free(f);
        return -1;
    }
    harness_write_config(&f->h, NULL);
    f->cfg = harness_config(&f->h, 0, NULL);
    struct aad_http_options opts = {.ca_file = f->cfg->ca_file, .timeout_s = f->cfg->http_timeout};
    if (aad_http_new(&opts, &f->http, NULL) != AAD_OK)
        return -1;
    char name[64];
    aad_trust_cache_name(f->cfg, name, sizeof(name));
    snprintf(f->entry_path, sizeof(f->entry_path), "%s/%s", f->cfg->cache_dir, name);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    aad_http_free(f->http);
    aad_config_free(f->cfg);
    harness_stop(&f->h);
    free(f);
    return 0;
}

static struct aad_trust *load(struct fixture *f, enum aad_status want)
{
    struct aad_trust *t = NULL;
    struct aad_error err = {0};
    assert_int_equal(aad_trust_load(f->cfg, f->http, NULL, &t, &err), want);
    return t;
}

static int keys_fetches(struct fixture *f)
{
    return emu_stat(f->h.emu, "keys");
}

/* Rewrites one integer member of the cache entry. */
static void edit_entry(struct fixture *f, const char *member, long long value)
{
    json_t *entry = json_load_file(f->entry_path, 0, NULL);
    assert_non_null(entry);
    json_object_set_new(entry, member, json_integer(value));
    assert_int_equal(json_dump_file(entry, f->entry_path, 0), 0);
    chmod(f->entry_path, 0600);
    json_decref(entry);
}

static char *rotate(struct fixture *f)
{
    char *resp = NULL;
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/rotate", "{\"keep_old\":false}", &resp), 200);
    json_t *o = json_loads(resp, 0, NULL);
    char *kid = strdup(json_string_value(json_object_get(o, "kid")));
    json_decref(o);
    free(resp);
    return kid;
}

static void test_cold_cache_is_fetched_and_stored_privately(void **state)
{
    struct fixture *f = *state;
    struct aad_trust *t = load(f, AAD_OK);
    assert_false(t->from_cache);
    assert_int_equal(keys_fetches(f), 1);
    struct stat st;
    assert_int_equal(stat(f->entry_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(f->cfg->cache_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    aad_trust_free(t);
}

static void test_warm_cache_needs_no_request(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    struct aad_trust *t = load(f, AAD_OK);
    assert_true(t->from_cache);
    assert_int_equal(keys_fetches(f), 1);
    assert_int_equal(emu_stat(f->h.emu, "discovery"), 1);
    aad_trust_free(t);
}

static void test_cache_older_than_a_day_is_refetched(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    edit_entry(f, "fetched_at", (long long)time(NULL) - AAD_TRUST_MAX_AGE - 10);
    struct aad_trust *t = load(f, AAD_OK);
    assert_false(t->from_cache);
    assert_int_equal(keys_fetches(f), 2);
    aad_trust_free(t);
}

static void test_failed_refresh_keeps_last_known_good_keys(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    edit_entry(f, "fetched_at", (long long)time(NULL) - AAD_TRUST_MAX_AGE - 10);
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/fault",
                                 "{\"endpoint\":\"any\",\"status\":500,\"count\":-1}", NULL), 200);
    struct aad_trust *t = load(f, AAD_OK);
    assert_true(t->from_cache);
    assert_true(t->keys->count > 0);
    aad_trust_free(t);
}

static void capture_log(void *ctx, int priority, const char *message)
{
    (void)priority;
    char *buf = ctx;
    strncat(buf, message, 4095 - strlen(buf));
    strncat(buf, "\n", 4095 - strlen(buf));
}

/* The tenant withdraws a key; the host's cached set, last fetched 30 days
 * ago, still holds it, and the authority cannot be reached: the withdrawn
 * key must not be usable, the load is unavailable with a clear log line. */
static void test_last_known_good_keys_expire_after_seven_days(void **state)
{
    struct fixture *f = *state;
    struct aad_trust *t = load(f, AAD_OK);
    char withdrawn[300];
    snprintf(withdrawn, sizeof(withdrawn), "%s", t->keys->keys[0].kid);
    aad_trust_free(t);
    free(rotate(f)); /* keep_old false: the old key leaves the tenant's set */
    edit_entry(f, "fetched_at", (long long)time(NULL) - 30 * 24 * 3600);
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/fault",
                                 "{\"endpoint\":\"any\",\"status\":500,\"count\":-1}", NULL), 200);
    char logged[4096] = "";
    struct aad_log log = {capture_log, logged, 0};
    struct aad_error err = {0};
    t = NULL;
    enum aad_status st = aad_trust_load(f->cfg, f->http, &log, &t, &err);
    if (st == AAD_OK) {
        int still = aad_keyset_find(t->keys, withdrawn) != NULL;
        aad_trust_free(t);
        fail_msg("a 30-day-old cache was used%s", still ? " and the withdrawn key is accepted" : "");
    }
    assert_int_equal(st, AAD_UNAVAILABLE);
    assert_null(t);
    assert_non_null(strstr(err.message, "older than 7 days"));
    assert_non_null(strstr(logged, "last known-good signing keys not used"));
}

static void test_last_known_good_keys_of_six_days_are_used(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    edit_entry(f, "fetched_at", (long long)time(NULL) - 6 * 24 * 3600);
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/fault",
                                 "{\"endpoint\":\"any\",\"status\":500,\"count\":-1}", NULL), 200);
    struct aad_trust *t = load(f, AAD_OK);
    assert_true(t->from_cache);
    aad_trust_free(t);
}

static void test_cold_cache_and_unreachable_service_is_unavailable(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(emu_control(f->h.emu, "POST", "/control/fault",
                                 "{\"endpoint\":\"discovery\",\"status\":503}", NULL), 200);
    assert_null(load(f, AAD_UNAVAILABLE));
}

static void test_corrupt_cache_is_ignored_and_replaced(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    int fd = open(f->entry_path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"keys\": [tru", 13), 13);
    close(fd);
    struct aad_trust *t = load(f, AAD_OK);
    assert_false(t->from_cache);
    aad_trust_free(t);
    json_t *entry = json_load_file(f->entry_path, 0, NULL);
    assert_non_null(entry); /* replaced by a good one */
    json_decref(entry);
}

static void test_group_writable_cache_is_ignored(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    chmod(f->entry_path, 0620);
    struct aad_trust *t = load(f, AAD_OK);
    assert_false(t->from_cache);
    assert_int_equal(keys_fetches(f), 2);
    aad_trust_free(t);
}

static void test_insecure_cache_directory_is_not_used(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    chmod(f->cfg->cache_dir, 0777);
    struct aad_trust *t = load(f, AAD_OK);
    assert_false(t->from_cache);
    aad_trust_free(t);
    chmod(f->cfg->cache_dir, 0700);
}

static void test_symlinked_cache_entry_is_ignored(void **state)
{
    struct fixture *f = *state;
    aad_trust_free(load(f, AAD_OK));
    char moved[450];
    snprintf(moved, sizeof(moved), "%s/elsewhere.json", f->h.dir);
    assert_int_equal(rename(f->entry_path, moved), 0);
    assert_int_equal(symlink(moved, f->entry_path), 0);
    struct aad_trust *t = load(f, AAD_OK);
    assert_false(t->from_cache);
    aad_trust_free(t);
    struct stat st;
    assert_int_equal(lstat(f->entry_path, &st), 0);
    assert_true(S_ISREG(st.st_mode)); /* the link was replaced, not followed */
}

static void test_unknown_kid_forces_one_refetch(void **state)
{
    struct fixture *f = *state;
    struct aad_trust *t = load(f, AAD_OK);
    char *kid = rotate(f);
    const struct aad_key *key = NULL;
    struct aad_error err = {0};
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, kid, &key, &err), AAD_OK);
    assert_string_equal(key->kid, kid);
    assert_int_equal(keys_fetches(f), 2);
    free(kid);
    aad_trust_free(t);
}

static void test_forced_refetch_happens_at_most_every_five_minutes(void **state)
{
    struct fixture *f = *state;
    struct aad_trust *t = load(f, AAD_OK);
    const struct aad_key *key = NULL;
    struct aad_error err = {0};
    char *kid1 = rotate(f);
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, kid1, &key, &err), AAD_OK);
    char *kid2 = rotate(f);
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, kid2, &key, &err), AAD_DENIED);
    assert_int_equal(keys_fetches(f), 2);
    /* Five minutes later, it may refetch again. */
    edit_entry(f, "forced_at", (long long)time(NULL) - AAD_TRUST_FORCED_INTERVAL - 1);
    t->forced_at = 0;
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, kid2, &key, &err), AAD_OK);
    assert_int_equal(keys_fetches(f), 3);
    free(kid1);
    free(kid2);
    aad_trust_free(t);
}

static void test_forced_refetch_limit_holds_across_processes(void **state)
{
    struct fixture *f = *state;
    struct aad_trust *t = load(f, AAD_OK);
    const struct aad_key *key = NULL;
    struct aad_error err = {0};
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, "no-such-kid", &key, &err), AAD_DENIED);
    assert_int_equal(keys_fetches(f), 2);
    aad_trust_free(t);
    /* A new login (a new process under sshd) reads the limit from the cache. */
    t = load(f, AAD_OK);
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, "other-kid", &key, &err), AAD_DENIED);
    assert_int_equal(keys_fetches(f), 2);
    aad_trust_free(t);
}

static void test_cold_fetch_is_not_counted_as_forced(void **state)
{
    struct fixture *f = *state;
    struct aad_trust *t = load(f, AAD_OK);
    assert_int_equal(t->forced_at, 0);
    char *kid = rotate(f);
    const struct aad_key *key = NULL;
    struct aad_error err = {0};
    assert_int_equal(aad_trust_find_key(t, f->cfg, f->http, NULL, kid, &key, &err), AAD_OK);
    free(kid);
    aad_trust_free(t);
}

static void test_concurrent_cold_logins_fetch_keys_once(void **state)
{
    struct fixture *f = *state;
    enum { CHILDREN = 8 };
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            struct aad_http *http = NULL;
            struct aad_http_options opts = {.ca_file = f->cfg->ca_file, .timeout_s = f->cfg->http_timeout};
            struct aad_trust *t = NULL;
            int ok = aad_http_new(&opts, &http, NULL) == AAD_OK &&
                     aad_trust_load(f->cfg, http, NULL, &t, NULL) == AAD_OK;
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < CHILDREN; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(keys_fetches(f), 1);
}

/* Holds the entry's lock as another login fetching would; returns its fd. */
static int hold_lock(struct fixture *f)
{
    char path[450];
    snprintf(path, sizeof(path), "%s.lock", f->entry_path);
    mkdir(f->cfg->cache_dir, 0700);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    return fd;
}

static void count_tick(void *ctx)
{
    ++*(int *)ctx;
}

static const char *entry_name(struct fixture *f)
{
    return strrchr(f->entry_path, '/') + 1;
}

/* A holder that never lets go: the waiter gives up at its bound, having
 * said every tick that it is still there, and the lock it was waiting for
 * is not left taken behind it. */
static void test_lock_wait_is_bounded_and_tells_it_is_alive(void **state)
{
    struct fixture *f = *state;
    int holder = hold_lock(f);
    int ticks = 0;
    struct aad_cache_wait how = {1000, 200, count_tick, &ticks};
    const char *why = NULL;
    int64_t start = aad_monotonic_ms();
    assert_int_equal(aad_cache_lock(f->cfg->cache_dir, entry_name(f), &how, &why),
                     AAD_CACHE_LOCK_TIMED_OUT);
    int64_t waited = aad_monotonic_ms() - start;
    assert_true(waited >= 1000 && waited < 3000);
    assert_true(ticks >= 3 && ticks <= 5);
    close(holder);
    /* The abandoned waiter gets the lock now and drops it at once. */
    holder = -1;
    for (int i = 0; i < 100 && holder < 0; i++) {
        usleep(10 * 1000);
        struct aad_cache_wait once = {0, 0, NULL, NULL};
        holder = aad_cache_lock(f->cfg->cache_dir, entry_name(f), &once, &why);
    }
    assert_true(holder >= 0);
    aad_cache_unlock(holder);
}

/* The waiter has the lock as soon as the holder lets go, not at a tick. */
static void test_lock_waiter_takes_the_lock_when_released(void **state)
{
    struct fixture *f = *state;
    int holder = hold_lock(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(300 * 1000);
        _exit(0); /* the lock goes with the child's copy of the descriptor */
    }
    close(holder);
    struct aad_cache_wait how = {5000, 0, NULL, NULL};
    const char *why = NULL;
    int64_t start = aad_monotonic_ms();
    int fd = aad_cache_lock(f->cfg->cache_dir, entry_name(f), &how, &why);
    int64_t waited = aad_monotonic_ms() - start;
    assert_true(fd >= 0);
    assert_true(waited >= 200 && waited < 2000);
    aad_cache_unlock(fd);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* A login that waited its bound for another's fetch fetches on its own. */
static void test_waiter_fetches_itself_after_a_fetchs_time(void **state)
{
    struct fixture *f = *state;
    int holder = hold_lock(f);
    f->cfg->http_timeout = 1; /* discovery + keys: 2 s, plus 2 s of slack */
    char logged[4096] = "";
    struct aad_log log = {capture_log, logged, 0};
    struct aad_trust *t = NULL;
    int64_t start = aad_monotonic_ms();
    assert_int_equal(aad_trust_load(f->cfg, f->http, &log, &t, NULL), AAD_OK);
    int64_t waited = aad_monotonic_ms() - start;
    close(holder);
    assert_false(t->from_cache);
    aad_trust_free(t);
    assert_true(waited >= 4000 && waited < 7000);
    assert_int_equal(keys_fetches(f), 1);
    assert_non_null(strstr(logged, "waited 4000 ms for another login's fetch"));
}

static void test_concurrent_writers_never_show_a_torn_entry(void **state)
{
    struct fixture *f = *state;
    enum { WRITERS = 4, ROUNDS = 50 };
    char pad[64 * 1024];
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    const char *why = NULL;
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            int bad = 0;
            for (int r = 0; r < ROUNDS; r++) {
                json_t *e = json_pack("{s:i, s:s, s:i}", "a", w * 1000 + r, "pad", pad, "b", w * 1000 + r);
                bad |= aad_cache_write(f->cfg->cache_dir, "torn-test", e, &why) != 0;
                json_decref(e);
                json_t *seen = aad_cache_read(f->cfg->cache_dir, "torn-test", &why);
                bad |= seen == NULL ||
                       json_integer_value(json_object_get(seen, "a")) !=
                           json_integer_value(json_object_get(seen, "b"));
                json_decref(seen);
            }
            _exit(bad);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status = 0;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_cold_cache_is_fetched_and_stored_privately),
        T(test_warm_cache_needs_no_request),
        T(test_cache_older_than_a_day_is_refetched),
        T(test_failed_refresh_keeps_last_known_good_keys),
        T(test_last_known_good_keys_expire_after_seven_days),
        T(test_last_known_good_keys_of_six_days_are_used),
        T(test_cold_cache_and_unreachable_service_is_unavailable),
        T(test_corrupt_cache_is_ignored_and_replaced),
        T(test_group_writable_cache_is_ignored),
        T(test_insecure_cache_directory_is_not_used),
        T(test_symlinked_cache_entry_is_ignored),
        T(test_unknown_kid_forces_one_refetch),
        T(test_forced_refetch_happens_at_most_every_five_minutes),
        T(test_forced_refetch_limit_holds_across_processes),
        T(test_cold_fetch_is_not_counted_as_forced),
        T(test_concurrent_cold_logins_fetch_keys_once),
        T(test_lock_wait_is_bounded_and_tells_it_is_alive),
        T(test_lock_waiter_takes_the_lock_when_released),
        T(test_waiter_fetches_itself_after_a_fetchs_time),
        T(test_concurrent_writers_never_show_a_torn_entry),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
