/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token file (src/token_file.c): save/load round trips, the permission
 * and symlink rules, corrupt and foreign files, the refresh margin, and the
 * lock beside the file. Every test works in its own mkdtemp directory under
 * /tmp, removed afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "scratch.h"
#include "slow.h"
#include "traktdeviceauth.h"

typedef scratch fixture; /* dir, and path: dir + "/token.json" */

static int setup(void **state)
{
    return scratch_setup(state, "token-file", "token.json");
}

/* A token whose strings are literals: never passed to tda_token_clear. */
static tda_token sample_token(const char *access, const char *refresh, const char *client_id)
{
    tda_token t;
    memset(&t, 0, sizeof t);
    t.access_token = (char *)(uintptr_t)access;
    t.token_type = (char *)(uintptr_t) "bearer";
    t.refresh_token = (char *)(uintptr_t)refresh;
    t.scope = (char *)(uintptr_t) "public";
    t.created_at = 1700000000;
    t.expires_in = 604800;
    t.expires_at = t.created_at + t.expires_in;
    t.client_id = (char *)(uintptr_t)client_id;
    return t;
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    write_file(path, text, strlen(text), mode);
}

/* The whole file as a malloc'ed NUL-terminated string; *len gets its size. */
static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t n = fread(buf + used, 1, 4096, fp);
        used += n;
        if (n == 0)
            break;
    }
    fclose(fp);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}

static mode_t file_mode(const char *path)
{
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    return sb.st_mode & 07777;
}

/* Names in dir other than "." and ".."; *tmp_files gets how many contain ".tmp.". */
static int count_entries(const char *dir, int *tmp_files)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0, tmp = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        n++;
        if (strstr(ent->d_name, ".tmp."))
            tmp++;
    }
    closedir(d);
    if (tmp_files)
        *tmp_files = tmp;
    return n;
}

static void assert_token_zeroed(const tda_token *t)
{
    assert_null(t->access_token);
    assert_null(t->token_type);
    assert_null(t->refresh_token);
    assert_null(t->scope);
    assert_null(t->client_id);
    assert_int_equal(t->created_at, 0);
    assert_int_equal(t->expires_in, 0);
    assert_int_equal(t->expires_at, 0);
}

/* ---------------------------------------------------------------- save and load */

static void test_round_trip_keeps_every_field(void **state)
{
    fixture *f = *state;
    tda_token t = sample_token("acc-\xc3\xa9-\"quoted\"-\\-1234567890", "ref-0987654321",
                               "my-client");
    t.scope = (char *)(uintptr_t) "public private";
    t.created_at = 1712345678;
    t.expires_in = 86400;
    t.expires_at = t.created_at + t.expires_in;
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    tda_token back;
    assert_int_equal(tda_token_load(f->path, "my-client", &back), TDA_OK);
    assert_string_equal(back.access_token, t.access_token);
    assert_string_equal(back.token_type, "bearer");
    assert_string_equal(back.refresh_token, t.refresh_token);
    assert_string_equal(back.scope, "public private");
    assert_int_equal(back.created_at, 1712345678);
    assert_int_equal(back.expires_in, 86400);
    assert_int_equal(back.expires_at, 1712345678 + 86400);
    assert_string_equal(back.client_id, "my-client");
    tda_token_clear(&back);
    assert_token_zeroed(&back);
}

static void test_saved_file_is_0600_valid_json_and_leaves_no_temp_file(void **state)
{
    fixture *f = *state;
    tda_token t = sample_token("access-abc", "refresh-def", "cid");
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    assert_int_equal(file_mode(f->path), 0600);
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));

    json_error_t err;
    json_t *root = json_load_file(f->path, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(root);
    assert_true(json_is_object(root));
    assert_string_equal(json_string_value(json_object_get(root, "access_token")), "access-abc");
    assert_string_equal(json_string_value(json_object_get(root, "refresh_token")), "refresh-def");
    assert_string_equal(json_string_value(json_object_get(root, "token_type")), "bearer");
    assert_string_equal(json_string_value(json_object_get(root, "scope")), "public");
    assert_string_equal(json_string_value(json_object_get(root, "client_id")), "cid");
    assert_int_equal(json_integer_value(json_object_get(root, "created_at")), 1700000000);
    assert_int_equal(json_integer_value(json_object_get(root, "expires_in")), 604800);
    json_decref(root);

    int tmp = -1;
    assert_int_equal(count_entries(f->dir, &tmp), 1);
    assert_int_equal(tmp, 0);
}

static void test_save_replaces_an_existing_file(void **state)
{
    fixture *f = *state;
    /* An old, loose file is replaced whole, and the new one is 0600 again. */
    write_text(f->path, "old contents that are much longer than nothing at all", 0644);
    tda_token a = sample_token("access-A", "refresh-A", "cid");
    tda_token b = sample_token("access-B-longer-than-A", "refresh-B", "cid");
    assert_int_equal(tda_token_save(&a, f->path), TDA_OK);
    assert_int_equal(file_mode(f->path), 0600);
    assert_int_equal(tda_token_save(&b, f->path), TDA_OK);
    assert_int_equal(tda_token_save(&a, f->path), TDA_OK);
    assert_int_equal(tda_token_save(&b, f->path), TDA_OK);
    tda_token back;
    assert_int_equal(tda_token_load(f->path, "cid", &back), TDA_OK);
    assert_string_equal(back.access_token, "access-B-longer-than-A");
    assert_string_equal(back.refresh_token, "refresh-B");
    tda_token_clear(&back);
    assert_int_equal(file_mode(f->path), 0600);
    int tmp = -1;
    assert_int_equal(count_entries(f->dir, &tmp), 1);
    assert_int_equal(tmp, 0);
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    tda_token back;
    assert_int_equal(tda_token_load(f->path, NULL, &back), TDA_FILE_MISSING);
    assert_token_zeroed(&back);
}

static void test_group_or_other_access_is_insecure(void **state)
{
    fixture *f = *state;
    const mode_t modes[] = {0640, 0604, 0660, 0620, 0602, 0644, 0666};
    tda_token t = sample_token("access-abc", "refresh-def", "cid");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
        assert_int_equal(chmod(f->path, modes[i]), 0);
        tda_token back;
        memset(&back, 0xab, sizeof back);
        tda_status st = tda_token_load(f->path, "cid", &back);
        if (st != TDA_FILE_INSECURE)
            fail_msg("mode %04o: got %s, want FILE_INSECURE", (unsigned)modes[i],
                     tda_status_name(st));
        assert_token_zeroed(&back);
    }
    /* chmod 600 fixes it, as the documentation says. */
    assert_int_equal(chmod(f->path, 0600), 0);
    tda_token back;
    assert_int_equal(tda_token_load(f->path, "cid", &back), TDA_OK);
    tda_token_clear(&back);
}

static void test_symlink_is_refused_for_load_and_save(void **state)
{
    fixture *f = *state;
    char target[256];
    snprintf(target, sizeof target, "%s/real.json", f->dir);
    tda_token a = sample_token("access-A", "refresh-A", "cid");
    assert_int_equal(tda_token_save(&a, target), TDA_OK);
    assert_int_equal(file_mode(target), 0600);
    size_t before_len = 0;
    char *before = read_file(target, &before_len);
    assert_int_equal(symlink(target, f->path), 0);

    tda_token back;
    memset(&back, 0xab, sizeof back);
    assert_int_equal(tda_token_load(f->path, "cid", &back), TDA_FILE_INSECURE);
    assert_token_zeroed(&back);

    tda_token b = sample_token("access-B", "refresh-B", "cid");
    assert_int_equal(tda_token_save(&b, f->path), TDA_FILE_INSECURE);
    /* Nothing was written through the link, and the link itself is still there. */
    size_t after_len = 0;
    char *after = read_file(target, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    int tmp = -1;
    assert_int_equal(count_entries(f->dir, &tmp), 2);
    assert_int_equal(tmp, 0);
    free(before);
    free(after);

    /* A dangling symlink is refused as well. */
    assert_int_equal(unlink(target), 0);
    assert_int_equal(tda_token_save(&b, f->path), TDA_FILE_INSECURE);
    assert_int_equal(lstat(target, &sb), -1);
    assert_int_equal(tda_token_load(f->path, "cid", &back), TDA_FILE_INSECURE);
}

static void test_directory_at_the_path_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(f->path, 0700), 0);
    tda_token back;
    memset(&back, 0xab, sizeof back);
    tda_status st = tda_token_load(f->path, NULL, &back);
    assert_int_not_equal(st, TDA_OK);
    assert_int_not_equal(st, TDA_FILE_MISSING);
    assert_token_zeroed(&back);
    tda_token t = sample_token("access-abc", "refresh-def", "cid");
    assert_int_not_equal(tda_token_save(&t, f->path), TDA_OK);
    /* The failed save cleaned up after itself. */
    int tmp = -1;
    assert_int_equal(count_entries(f->dir, &tmp), 1);
    assert_int_equal(tmp, 0);
}

/* Runs tda_token_load in a child so that a hang fails the test instead of stalling it. */
static int load_status_in_child(const char *path, long limit_ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tda_token back;
        tda_status st = tda_token_load(path, NULL, &back);
        tda_token_clear(&back);
        _exit((int)st);
    }
    int status = 0;
    int64_t give_up = tda_monotonic_ms() + limit_ms;
    pid_t done;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && tda_monotonic_ms() < give_up)
        usleep(10000);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("tda_token_load still running after %ld ms", limit_ms);
    }
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_fifo_at_the_path_is_refused_without_blocking(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkfifo(f->path, 0600), 0);
    /* Nobody ever writes to the FIFO: a blocking open would wait for ever. */
    assert_int_equal(load_status_in_child(f->path, test_bound_ms(3000)), TDA_FILE_INSECURE);
}

/* Set by a test that could not run here; main then exits 77, which ctest reports as skipped. */
static int skipped;

static void test_file_of_another_user_is_insecure(void **state)
{
    fixture *f = *state;
    if (geteuid() != 0) {
        /* Only root can give a file away. CI runs as root, so it runs there; elsewhere the
         * whole program is reported as skipped (ctest lists it), never passed quietly. */
        print_error("SKIPPED: the file-of-another-user check needs root (CI runs it as root)\n");
        skipped = 1;
        skip();
    }
    tda_token t = sample_token("access-abc", "refresh-def", "cid");
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    assert_int_equal(chown(f->path, 65534, 65534), 0);
    tda_token back;
    assert_int_equal(tda_token_load(f->path, "cid", &back), TDA_FILE_INSECURE);
    assert_token_zeroed(&back);
}

static void test_corrupt_files(void **state)
{
    fixture *f = *state;
    static const char *const bodies[] = {
        "",
        "{",
        "[]",
        "null",
        "\"just a string\"",
        "{}",
        /* missing access_token */
        "{\"token_type\":\"bearer\",\"refresh_token\":\"r\",\"scope\":\"public\","
        "\"created_at\":1700000000,\"expires_in\":3600}",
        /* missing refresh_token */
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"scope\":\"public\","
        "\"created_at\":1700000000,\"expires_in\":3600}",
        /* access_token a number */
        "{\"access_token\":12345,\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000,\"expires_in\":3600}",
        /* expires_in a string */
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000,\"expires_in\":\"3600\"}",
        /* created_at a float */
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000.5,\"expires_in\":3600}",
        /* scope null */
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":null,\"created_at\":1700000000,\"expires_in\":3600}",
        /* empty access_token */
        "{\"access_token\":\"\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000,\"expires_in\":3600}",
        /* a complete token cut short, as a torn write would leave it */
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000,\"expires_in\":36",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        write_text(f->path, bodies[i], 0600);
        tda_token back;
        memset(&back, 0xab, sizeof back);
        tda_status st = tda_token_load(f->path, NULL, &back);
        if (st != TDA_FILE_CORRUPT)
            fail_msg("body %zu (%.40s): got %s, want FILE_CORRUPT", i, bodies[i],
                     tda_status_name(st));
        assert_token_zeroed(&back);
    }
    /* A client id of the wrong type is damage, not a token without a client id. */
    write_text(f->path,
               "{\"client_id\":42,\"access_token\":\"a\",\"token_type\":\"bearer\","
               "\"refresh_token\":\"r\",\"scope\":\"public\",\"created_at\":1700000000,"
               "\"expires_in\":3600}",
               0600);
    tda_token typed;
    assert_int_equal(tda_token_load(f->path, NULL, &typed), TDA_FILE_CORRUPT);
    assert_token_zeroed(&typed);
    /* A whole token followed by a NUL and garbage: the file, not its C string, is parsed. */
    static const char with_nul[] =
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000,\"expires_in\":3600}\0garbage";
    write_file(f->path, with_nul, sizeof with_nul - 1, 0600);
    assert_int_equal(tda_token_load(f->path, NULL, &typed), TDA_FILE_CORRUPT);
    assert_token_zeroed(&typed);
    /* 100 KB of spaces: oversized, and no token anyway. */
    size_t big = 100 * 1024;
    char *spaces = malloc(big);
    assert_non_null(spaces);
    memset(spaces, ' ', big);
    write_file(f->path, spaces, big, 0600);
    free(spaces);
    tda_token back;
    memset(&back, 0xab, sizeof back);
    assert_int_equal(tda_token_load(f->path, NULL, &back), TDA_FILE_CORRUPT);
    assert_token_zeroed(&back);
}

static void test_client_id_checks(void **state)
{
    fixture *f = *state;
    tda_token t = sample_token("access-abc", "refresh-def", "client-one");
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);

    tda_token back;
    assert_int_equal(tda_token_load(f->path, "client-two", &back), TDA_WRONG_CLIENT);
    /* *out is still filled, for a message. */
    assert_non_null(back.client_id);
    assert_string_equal(back.client_id, "client-one");
    tda_token_clear(&back);

    assert_int_equal(tda_token_load(f->path, NULL, &back), TDA_OK);
    assert_string_equal(back.client_id, "client-one");
    assert_string_equal(back.access_token, "access-abc");
    tda_token_clear(&back);

    assert_int_equal(tda_token_load(f->path, "client-one", &back), TDA_OK);
    tda_token_clear(&back);
}

static void test_file_without_client_id_loads_with_null_client_id(void **state)
{
    fixture *f = *state;
    write_text(f->path,
               "{\"access_token\":\"hand-access\",\"token_type\":\"bearer\","
               "\"refresh_token\":\"hand-refresh\",\"scope\":\"public\","
               "\"created_at\":1700000000,\"expires_in\":7200}\n",
               0600);
    tda_token back;
    assert_int_equal(tda_token_load(f->path, "any-client", &back), TDA_OK);
    assert_null(back.client_id);
    assert_string_equal(back.access_token, "hand-access");
    assert_string_equal(back.refresh_token, "hand-refresh");
    assert_int_equal(back.expires_at, 1700000000 + 7200);
    tda_token_clear(&back);

    /* A token without client id saves and loads the same way. */
    tda_token t = sample_token("access-x", "refresh-x", NULL);
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    assert_int_equal(tda_token_load(f->path, NULL, &back), TDA_OK);
    assert_null(back.client_id);
    assert_string_equal(back.access_token, "access-x");
    tda_token_clear(&back);
}

static void test_save_into_a_missing_directory_is_io(void **state)
{
    fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/token.json", f->dir);
    tda_token t = sample_token("access-abc", "refresh-def", "cid");
    assert_int_equal(tda_token_save(&t, path), TDA_IO);
    assert_int_equal(count_entries(f->dir, NULL), 0);
}

static void test_save_with_null_fields_is_an_argument_error(void **state)
{
    fixture *f = *state;
    tda_token t = sample_token("access-abc", "refresh-def", "cid");
    assert_int_equal(tda_token_save(NULL, f->path), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_save(&t, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_save(&t, ""), TDA_INVALID_ARGUMENT);
    tda_token u = t;
    u.access_token = NULL;
    assert_int_equal(tda_token_save(&u, f->path), TDA_INVALID_ARGUMENT);
    u = t;
    u.refresh_token = NULL;
    assert_int_equal(tda_token_save(&u, f->path), TDA_INVALID_ARGUMENT);
    u = t;
    u.token_type = NULL;
    assert_int_equal(tda_token_save(&u, f->path), TDA_INVALID_ARGUMENT);
    /* Nothing was created on the way. */
    assert_int_equal(count_entries(f->dir, NULL), 0);

    tda_token back;
    assert_int_equal(tda_token_load(NULL, NULL, &back), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_load(f->path, NULL, NULL), TDA_INVALID_ARGUMENT);
}

/* ---------------------------------------------------------------- refresh margin */

static int needs_refresh(int64_t lifetime_s, int64_t left_s)
{
    tda_token t;
    memset(&t, 0, sizeof t);
    t.created_at = 1700000000;
    t.expires_in = lifetime_s;
    t.expires_at = t.created_at + lifetime_s;
    return tda_token_needs_refresh(&t, t.expires_at - left_s);
}

static void test_needs_refresh_scales_with_the_lifetime(void **state)
{
    const int64_t hour = 3600, day = 24 * hour;
    /* 7 days: refresh in the last 16.8 hours. */
    assert_int_equal(needs_refresh(7 * day, day), 0);
    assert_int_equal(needs_refresh(7 * day, 12 * hour), 1);
    assert_int_equal(needs_refresh(7 * day, 7 * day), 0); /* brand new */
    /* 24 hours: refresh in the last 2.4 hours. */
    assert_int_equal(needs_refresh(day, 3 * hour), 0);
    assert_int_equal(needs_refresh(day, 2 * hour), 1);
    /* 3 months: refresh in the last 9 days. */
    assert_int_equal(needs_refresh(90 * day, 10 * day), 0);
    assert_int_equal(needs_refresh(90 * day, 8 * day), 1);
    /* 5 minutes: a tenth is 30 s, so the 60 s floor rules. */
    assert_int_equal(needs_refresh(300, 61), 0);
    assert_int_equal(needs_refresh(300, 59), 1);
    /* Expired, just or long ago. */
    assert_int_equal(needs_refresh(7 * day, 0), 1);
    assert_int_equal(needs_refresh(7 * day, -1), 1);
    assert_int_equal(needs_refresh(day, -30 * day), 1);
    assert_int_equal(tda_token_needs_refresh(NULL, 1700000000), 1);
}

/* ---------------------------------------------------------------- lock */

/* In a child: try the lock; exit with its status, or 99 when a timeout came too early. */
static pid_t try_lock_in_child(const char *path, long timeout_ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int64_t t0 = tda_monotonic_ms();
        int fd = -1;
        tda_status st = tda_token_lock(path, timeout_ms, &fd);
        int64_t took = tda_monotonic_ms() - t0;
        if (st == TDA_TIMED_OUT && (fd != -1 || took < timeout_ms))
            _exit(99);
        if (st == TDA_OK)
            tda_token_unlock(fd);
        _exit((int)st);
    }
    return pid;
}

static int child_exit_code(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_lock_excludes_another_process_until_unlocked(void **state)
{
    fixture *f = *state;
    int fd = -1;
    assert_int_equal(tda_token_lock(f->path, 100, &fd), TDA_OK);
    assert_true(fd >= 0);
    char lock_path[256];
    snprintf(lock_path, sizeof lock_path, "%s.lock", f->path);
    assert_int_equal(file_mode(lock_path), 0600);

    assert_int_equal(child_exit_code(try_lock_in_child(f->path, 100)), TDA_TIMED_OUT);
    tda_token_unlock(fd);
    assert_int_equal(child_exit_code(try_lock_in_child(f->path, 100)), TDA_OK);
    /* And in this process again, now that the child let go. */
    assert_int_equal(tda_token_lock(f->path, 100, &fd), TDA_OK);
    tda_token_unlock(fd);
    assert_int_equal(file_mode(lock_path), 0600);

    /* Arguments. */
    assert_int_equal(tda_token_lock(f->path, -1, &fd), TDA_INVALID_ARGUMENT);
    assert_int_equal(fd, -1);
    assert_int_equal(tda_token_lock(NULL, 100, &fd), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_lock(f->path, 100, NULL), TDA_INVALID_ARGUMENT);
    tda_token_unlock(-1); /* harmless */
}

static void test_lock_of_a_killed_holder_is_released(void **state)
{
    fixture *f = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        int fd = -1;
        if (tda_token_lock(f->path, 1000, &fd) != TDA_OK)
            _exit(1);
        if (write(ready[1], "L", 1) != 1)
            _exit(2);
        for (;;)
            pause(); /* hold the lock until killed */
    }
    close(ready[1]);
    char byte = 0;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    assert_int_equal(byte, 'L');

    int fd = -1;
    assert_int_equal(tda_token_lock(f->path, 100, &fd), TDA_TIMED_OUT);
    assert_int_equal(fd, -1);

    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    /* No unlock ever ran, yet the lock is free at once. */
    assert_int_equal(tda_token_lock(f->path, 100, &fd), TDA_OK);
    tda_token_unlock(fd);
}

static void test_lock_file_symlink_is_refused(void **state)
{
    fixture *f = *state;
    char lock_path[256], target[256];
    snprintf(lock_path, sizeof lock_path, "%s.lock", f->path);
    snprintf(target, sizeof target, "%s/elsewhere", f->dir);
    assert_int_equal(symlink(target, lock_path), 0);
    int fd = -1;
    assert_int_equal(tda_token_lock(f->path, 100, &fd), TDA_FILE_INSECURE);
    assert_int_equal(fd, -1);
    struct stat sb;
    assert_int_equal(lstat(target, &sb), -1); /* nothing created through the link */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, scratch_teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip_keeps_every_field),
        T(test_saved_file_is_0600_valid_json_and_leaves_no_temp_file),
        T(test_save_replaces_an_existing_file),
        T(test_missing_file),
        T(test_group_or_other_access_is_insecure),
        T(test_symlink_is_refused_for_load_and_save),
        T(test_directory_at_the_path_is_refused),
        T(test_fifo_at_the_path_is_refused_without_blocking),
        T(test_file_of_another_user_is_insecure),
        T(test_corrupt_files),
        T(test_client_id_checks),
        T(test_file_without_client_id_loads_with_null_client_id),
        T(test_save_into_a_missing_directory_is_io),
        T(test_save_with_null_fields_is_an_argument_error),
        T(test_needs_refresh_scales_with_the_lifetime),
        T(test_lock_excludes_another_process_until_unlocked),
        T(test_lock_of_a_killed_holder_is_released),
        T(test_lock_file_symlink_is_refused),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed ? failed : skipped ? 77 : 0;
}
