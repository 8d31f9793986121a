/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in stores without a server: a directory store's keys as file
 * names, the received stamp in the file, every bad file refused with a detail
 * that names the path and the fix while the file stays as it was, the check
 * made before a login, the room secured before a save, and lock waits that
 * end on a deadline or a cancel. Each test works in its own directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"
#include "store.h"

typedef scratch fixture; /* dir, and path: dir + "/token.json" */

static int setup(void **state)
{
    return scratch_setup(state, "store", "token.json");
}

static tda_token sample(const char *access, const char *refresh, const char *client_id)
{
    tda_token t;
    memset(&t, 0, sizeof t);
    t.access_token = (char *)(uintptr_t)access;
    t.token_type = (char *)(uintptr_t) "bearer";
    t.refresh_token = (char *)(uintptr_t)refresh;
    t.scope = (char *)(uintptr_t) "public";
    t.created_at = 1796000000;
    t.expires_in = 604800;
    t.expires_at = t.created_at + t.expires_in;
    t.client_id = (char *)(uintptr_t)client_id;
    tda__received_now(&t.received);
    return t;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = malloc(256 * 1024);
    assert_non_null(buf);
    *len = fread(buf, 1, 256 * 1024 - 1, fp);
    buf[*len] = '\0';
    fclose(fp);
    return buf;
}

static void write_bytes(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static int count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        n += strstr(ent->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------- keys */

static void test_keys_become_safe_distinct_file_names(void **state)
{
    static const struct {
        const char *key, *name;
    } rows[] = {
        {"alice", "alice.json"},
        {"Alice", "%41lice.json"},
        {"bob.smith", "bob.smith.json"},
        {".hidden", "%2Ehidden.json"},
        {"a b", "a%20b.json"},
        {"100%", "100%25.json"},
        {"\xc3\xa9", "%C3%A9.json"},
        {"user@example.com", "user%40example.com.json"},
        {"-_0", "-_0.json"},
        {"x.json.lock", "x.json.lock.json"},
    };
    char name[TDA__STORE_NAME_MAX], detail[256];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(
            tda__store_key_file_name(rows[i].key, name, sizeof name, detail, sizeof detail),
            TDA_OK);
        assert_string_equal(name, rows[i].name);
    }
    /* Keys that look alike stay apart, also on a filesystem that ignores case. */
    static const char *const alike[] = {"A",    "a",  "%41", "%2541", ".a",
                                        "%2Ea", "a.", "aA",  "Aa",    "%61"};
    char names[10][TDA__STORE_NAME_MAX];
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(
            tda__store_key_file_name(alike[i], names[i], sizeof names[i], detail, sizeof detail),
            TDA_OK);
    for (size_t i = 0; i < 10; i++)
        for (size_t j = i + 1; j < 10; j++)
            if (strcasecmp(names[i], names[j]) == 0)
                fail_msg("keys '%s' and '%s' share the file %s", alike[i], alike[j], names[i]);
    /* The longest key escapes to a name every filesystem takes (NAME_MAX 255, with the
       lock's and temporary file's suffixes). */
    char longest[TDA__STORE_KEY_MAX + 1];
    memset(longest, '%', TDA__STORE_KEY_MAX);
    longest[TDA__STORE_KEY_MAX] = '\0';
    assert_int_equal(tda__store_key_file_name(longest, name, sizeof name, detail, sizeof detail),
                     TDA_OK);
    assert_true(strlen(name) + strlen(".tmp.XXXXXX") <= 255);
}

static void test_bad_keys_are_refused_with_the_rule(void **state)
{
    static const struct {
        const char *key, *why;
    } rows[] = {
        {"", "empty"},
        {".", "'.' and '..'"},
        {"..", "'.' and '..'"},
        {"a/b", "'/'"},
        {"/", "'/'"},
        {"../../etc/passwd", "'/'"},
        {"a\nb", "control"},
        {"tab\there", "control"},
        {"del\x7f", "control"},
        {"01234567890123456789012345678901234567890123456789012345678901234", "longer than 64"},
    };
    char name[TDA__STORE_NAME_MAX], detail[256];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(
            tda__store_key_file_name(rows[i].key, name, sizeof name, detail, sizeof detail),
            TDA_INVALID_ARGUMENT);
        if (!strstr(detail, rows[i].why))
            fail_msg("key %zu: detail '%s' lacks '%s'", i, detail, rows[i].why);
        assert_null(strstr(detail, "passwd")); /* the key itself is never quoted */
        assert_string_equal(name, "");
    }
    assert_int_equal(tda__store_key_file_name(NULL, name, sizeof name, detail, sizeof detail),
                     TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(detail, "needs a key"));
}

static void test_directory_store_keeps_keys_apart(void **state)
{
    fixture *f = *state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/tokens", f->dir);
    tda_store *s = tda_store_dir_new(dir);
    assert_non_null(s);
    tda_token a = sample("access-alice", "refresh-alice", "cid");
    tda_token b = sample("access-Alice", "refresh-Alice", "cid");
    assert_int_equal(tda_store_save(s, "alice", &a), TDA_OK);
    assert_int_equal(tda_store_save(s, "Alice", &b), TDA_OK);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700); /* made on first use, private */
    char p[256];
    snprintf(p, sizeof p, "%s/%%41lice.json", dir);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_string_equal(tda_store_location(s, "Alice"), p);
    tda_token back;
    assert_int_equal(tda_store_load(s, "alice", "cid", &back), TDA_OK);
    assert_string_equal(back.access_token, "access-alice");
    tda_token_clear(&back);
    assert_int_equal(tda_store_load(s, "Alice", "cid", &back), TDA_OK);
    assert_string_equal(back.access_token, "access-Alice");
    tda_token_clear(&back);
    assert_int_equal(tda_store_load(s, "bob", NULL, &back), TDA_FILE_MISSING);
    assert_non_null(strstr(tda_store_error_detail(s), "bob.json"));
    /* Bad keys fail every call with the rule in the detail, and touch nothing. */
    assert_int_equal(tda_store_load(s, "../token", NULL, &back), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(tda_store_error_detail(s), "'/'"));
    assert_int_equal(tda_store_save(s, "..", &a), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_store_check(s, "", NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_store_save(s, NULL, &a), TDA_INVALID_ARGUMENT);
    assert_int_equal(count_temp_files(dir), 0);
    tda_store_free(s);
}

static void test_file_store_holds_one_token_and_no_keys(void **state)
{
    fixture *f = *state;
    tda_store *s = tda_store_file_new(f->path);
    assert_non_null(s);
    tda_token a = sample("access-one", "refresh-one", "cid");
    assert_int_equal(tda_store_save(s, NULL, &a), TDA_OK);
    tda_token back;
    assert_int_equal(tda_store_load(s, "alice", NULL, &back), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(tda_store_error_detail(s), "tda_store_dir_new"));
    assert_int_equal(tda_store_load(s, NULL, "cid", &back), TDA_OK);
    tda_token_clear(&back);
    assert_string_equal(tda_store_location(s, NULL), f->path);
    tda_store_free(s);
    assert_null(tda_store_file_new(""));
    assert_null(tda_store_file_new(NULL));
    assert_null(tda_store_dir_new(""));
    tda_store_free(NULL);
}

/* ---------------------------------------------------------------- the file */

static void test_the_received_stamp_is_kept(void **state)
{
    fixture *f = *state;
    tda_token t = sample("access-x", "refresh-x", "cid");
    t.received.wall_s = 1234567;
    t.received.uptime_ms = -5000; /* a test may age a token past the boot */
    snprintf(t.received.boot_id, sizeof t.received.boot_id, "boot-id-x");
    snprintf(t.received.host, sizeof t.received.host, "0011223344556677");
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    tda_token back;
    assert_int_equal(tda_token_load(f->path, NULL, &back), TDA_OK);
    assert_int_equal(back.received.wall_s, 1234567);
    assert_int_equal(back.received.uptime_ms, -5000);
    assert_string_equal(back.received.boot_id, "boot-id-x");
    assert_string_equal(back.received.host, "0011223344556677");
    tda_token_clear(&back);
    /* A stamp of the wrong type or size is damage. */
    static const char *const bad[] = {
        "\"received_at\": \"soon\"",
        "\"received_at\": 17.5",
        "\"received_uptime_ms\": 1.5",
        "\"received_boot_id\": 7",
        "\"received_boot_id\": \"0123456789012345678901234567890123456789\"",
        "\"received_host\": null",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
                 "\"scope\":\"\",\"created_at\":1796000000,\"expires_in\":3600, %s}",
                 bad[i]);
        write_bytes(f->path, text, strlen(text), 0600);
        tda_status st = tda_token_load(f->path, NULL, &back);
        if (st != TDA_FILE_CORRUPT)
            fail_msg("%s: %s, want FILE_CORRUPT", bad[i], tda_status_name(st));
    }
}

/* Every kind of bad file: its status, a detail with the path and a fix, the file untouched. */
static void test_bad_files_are_explained_and_left_as_they_were(void **state)
{
    fixture *f = *state;
    tda_store *s = tda_store_file_new(f->path);
    assert_non_null(s);
    static const char good[] = "{\"client_id\":\"other\",\"access_token\":\"a\",\"token_type\":"
                               "\"bearer\",\"refresh_token\":\"r\",\"scope\":\"\",\"created_at\":"
                               "1796000000,\"expires_in\":3600}";
    static const char nuls[64] = {0};
    static const struct {
        const char *what;
        const char *data;
        size_t len;
        mode_t mode;
        tda_status want;
        const char *words;
    } rows[] = {
        {"corrupt", "{\"access_token\": 12}", 20, 0600, TDA_FILE_CORRUPT, "not a valid token file"},
        {"truncated", good, sizeof good / 2, 0600, TDA_FILE_CORRUPT, "not a valid token file"},
        {"empty", "", 0, 0600, TDA_FILE_CORRUPT, "fsync"},
        {"NUL bytes (a lost write)", nuls, sizeof nuls, 0600, TDA_FILE_CORRUPT, "fsync"},
        {"another client's", good, sizeof good - 1, 0600, TDA_WRONG_CLIENT, "client id other"},
        {"readable by others", good, sizeof good - 1, 0644, TDA_FILE_INSECURE, "chmod 600"},
        {"writable by the group", good, sizeof good - 1, 0620, TDA_FILE_INSECURE, "chmod 600"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        write_bytes(f->path, rows[i].data, rows[i].len, rows[i].mode);
        struct stat before, after;
        assert_int_equal(lstat(f->path, &before), 0);
        tda_token back;
        tda_status st = tda_store_load(s, NULL, "cid", &back);
        tda_token_clear(&back);
        const char *detail = tda_store_error_detail(s);
        if (st != rows[i].want)
            fail_msg("%s: %s, want %s", rows[i].what, tda_status_name(st),
                     tda_status_name(rows[i].want));
        if (!strstr(detail, f->path) || !strstr(detail, rows[i].words))
            fail_msg("%s: detail '%s' lacks the path or '%s'", rows[i].what, detail, rows[i].words);
        size_t len;
        char *now = read_all(f->path, &len);
        assert_int_equal(len, rows[i].len);
        assert_memory_equal(now, rows[i].data, len);
        free(now);
        assert_int_equal(lstat(f->path, &after), 0);
        assert_int_equal(after.st_mode, before.st_mode);
        assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
        assert_int_equal(after.st_ino, before.st_ino);
    }
    /* A symlink, and a directory, at the path. */
    char target[160];
    snprintf(target, sizeof target, "%s/real.json", f->dir);
    write_bytes(target, good, sizeof good - 1, 0600);
    unlink(f->path);
    assert_int_equal(symlink(target, f->path), 0);
    tda_token back;
    assert_int_equal(tda_store_load(s, NULL, NULL, &back), TDA_FILE_INSECURE);
    assert_non_null(strstr(tda_store_error_detail(s), "symbolic link"));
    tda_token t = sample("access-new", "refresh-new", "cid");
    assert_int_equal(tda_store_save(s, NULL, &t), TDA_FILE_INSECURE);
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    unlink(f->path);
    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_int_equal(tda_store_load(s, NULL, NULL, &back), TDA_FILE_INSECURE);
    assert_non_null(strstr(tda_store_error_detail(s), "not a regular file"));
    rmdir(f->path);
    assert_int_equal(count_temp_files(f->dir), 0);
    tda_store_free(s);
}

static void test_another_users_file_is_refused(void **state)
{
    fixture *f = *state;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    tda_store *s = tda_store_file_new(f->path);
    tda_token t = sample("access-x", "refresh-x", "cid");
    assert_int_equal(tda_store_save(s, NULL, &t), TDA_OK);
    assert_int_equal(chown(f->path, 65534, 65534), 0);
    tda_token back;
    assert_int_equal(tda_store_load(s, NULL, NULL, &back), TDA_FILE_INSECURE);
    assert_non_null(strstr(tda_store_error_detail(s), "another user (uid 65534)"));
    tda_store_free(s);
}

/* ---------------------------------------------------------------- the check before a login */

static void test_check_makes_the_directory_and_finds_trouble(void **state)
{
    fixture *f = *state;
    char deep[160];
    snprintf(deep, sizeof deep, "%s/a/b/c/token.json", f->dir);
    tda_store *s = tda_store_file_new(deep);
    assert_int_equal(tda_store_check(s, NULL, "cid"), TDA_OK);
    char dir[160];
    snprintf(dir, sizeof dir, "%s/a/b/c", f->dir);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(count_temp_files(dir), 0); /* the trial file is gone */
    assert_int_equal(lstat(deep, &sb), -1);     /* and no token file was made */

    /* A directory others may write to (and not sticky): they could swap the file. */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(tda_store_check(s, NULL, NULL), TDA_FILE_INSECURE);
    assert_non_null(strstr(tda_store_error_detail(s), "chmod go-w"));
    assert_int_equal(chmod(dir, 01777), 0); /* sticky, like /tmp: fine */
    assert_int_equal(tda_store_check(s, NULL, NULL), TDA_OK);
    assert_int_equal(chmod(dir, 0700), 0);

    /* Another client's token there would be destroyed by a login. */
    tda_token other = sample("access-o", "refresh-o", "other-app");
    assert_int_equal(tda_store_save(s, NULL, &other), TDA_OK);
    assert_int_equal(tda_store_check(s, NULL, "cid"), TDA_WRONG_CLIENT);
    assert_non_null(strstr(tda_store_error_detail(s), "would destroy it"));
    assert_int_equal(tda_store_check(s, NULL, "other-app"), TDA_OK);
    /* A damaged file is what a login replaces. */
    write_bytes(deep, "{", 1, 0600);
    assert_int_equal(tda_store_check(s, NULL, "cid"), TDA_OK);
    /* A symlink at the path is refused before any code is shown. */
    unlink(deep);
    assert_int_equal(symlink("/etc/hostname", deep), 0);
    assert_int_equal(tda_store_check(s, NULL, NULL), TDA_FILE_INSECURE);
    unlink(deep);
    /* A file where the directory should be. */
    tda_store *t = tda_store_file_new("/etc/hostname/token.json");
    assert_int_equal(tda_store_check(t, NULL, NULL), TDA_IO);
    assert_non_null(strstr(tda_store_error_detail(t), "not a directory"));
    tda_store_free(t);
    tda_store_free(s);
}

/* ---------------------------------------------------------------- room, then save */

static void test_prepare_secures_the_whole_room_before_the_save(void **state)
{
    fixture *f = *state;
    tda_store *s = tda_store_file_new(f->path);
    tda_token old = sample("access-old", "refresh-old", "cid");
    assert_int_equal(tda_store_save(s, NULL, &old), TDA_OK);
    /* A leftover of a save killed long ago: cleared by the next one under the lock. */
    char debris[192];
    snprintf(debris, sizeof debris, "%s.tmp.AbC123", f->path);
    write_bytes(debris, "{}", 2, 0600);
    struct timespec long_ago[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, debris, long_ago, 0), 0);

    tda_store_wait w = tda__store_wait_for(s, -1);
    void *lock = NULL;
    char detail[512] = "";
    assert_int_equal(s->ops.lock(s->self, NULL, &w, &lock, detail, sizeof detail), TDA_OK);
    assert_int_equal(s->ops.prepare(s->self, lock, detail, sizeof detail), TDA_OK);
    /* The room is allocated now, at the most a token file can take. */
    DIR *d = opendir(f->dir);
    struct dirent *ent;
    int temps = 0;
    while ((ent = readdir(d)) != NULL) {
        if (!strstr(ent->d_name, ".tmp."))
            continue;
        temps++;
        assert_string_not_equal(ent->d_name, "token.json.tmp.AbC123");
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, ent->d_name);
        struct stat sb;
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_true((long long)sb.st_blocks * 512 >= (long long)TDA__TOKEN_FILE_MAX);
    }
    closedir(d);
    assert_int_equal(temps, 1);
    /* The old file is untouched until the save. */
    tda_token back;
    assert_int_equal(tda_store_load(s, NULL, NULL, &back), TDA_OK);
    assert_string_equal(back.access_token, "access-old");
    tda_token_clear(&back);
    tda_token fresh = sample("access-new", "refresh-new", "cid");
    assert_int_equal(s->ops.save(s->self, lock, &fresh, detail, sizeof detail), TDA_OK);
    assert_int_equal(s->ops.unlock(s->self, lock, 1, detail, sizeof detail), TDA_OK);
    assert_int_equal(tda_store_load(s, NULL, "cid", &back), TDA_OK);
    assert_string_equal(back.access_token, "access-new");
    tda_token_clear(&back);
    size_t len;
    char *text = read_all(f->path, &len);
    assert_true(len < 4096); /* the room was given back: the file is its text only */
    free(text);
    assert_int_equal(count_temp_files(f->dir), 0);

    /* An abandoned preparation (the refresh failed) leaves nothing behind. */
    assert_int_equal(s->ops.lock(s->self, NULL, &w, &lock, detail, sizeof detail), TDA_OK);
    assert_int_equal(s->ops.prepare(s->self, lock, detail, sizeof detail), TDA_OK);
    assert_int_equal(count_temp_files(f->dir), 1);
    s->ops.unlock(s->self, lock, 0, detail, sizeof detail);
    assert_int_equal(count_temp_files(f->dir), 0);
    tda_store_free(s);
}

/* ---------------------------------------------------------------- lock waits */

/* How long "at once" may take: more under valgrind (the suite's TDA_TEST_SLOW). */
static int64_t prompt_ms(void)
{
    const char *slow = getenv("TDA_TEST_SLOW");
    return slow && *slow && strcmp(slow, "0") != 0 ? 2000 : 100;
}

static pid_t hold_lock_in_child(const char *path)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd;
        if (tda_token_lock(path, 1000, &fd) != TDA_OK || write(ready[1], "L", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char byte = 0;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    close(ready[1]);
    return pid;
}

static void *cancel_later(void *arg)
{
    int fd = *(int *)arg;
    usleep(150 * 1000);
    assert_int_equal(write(fd, "x", 1), 1);
    return NULL;
}

static void test_a_held_lock_ends_in_locked_or_cancelled_not_a_hang(void **state)
{
    fixture *f = *state;
    pid_t holder = hold_lock_in_child(f->path);
    tda_store *s = tda_store_file_new(f->path);
    assert_int_equal(tda_store_set_lock_timeout_ms(s, -1), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_store_set_lock_timeout_ms(s, 300), TDA_OK);

    /* The deadline: TDA_LOCKED, saying who holds it for how long. */
    tda_token t = sample("access-x", "refresh-x", "cid");
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_store_save(s, NULL, &t), TDA_LOCKED);
    int64_t took = tda_monotonic_ms() - t0;
    assert_true(took >= 300);
    assert_true(took < 300 + 10 * prompt_ms());
    assert_non_null(strstr(tda_store_error_detail(s), "another process has held the lock on"));
    assert_non_null(strstr(tda_store_error_detail(s), ".lock"));
    /* Timeout 0: one try. */
    assert_int_equal(tda_store_set_lock_timeout_ms(s, 0), TDA_OK);
    t0 = tda_monotonic_ms();
    assert_int_equal(tda_store_save(s, NULL, &t), TDA_LOCKED);
    assert_true(tda_monotonic_ms() - t0 < prompt_ms());

    /* A cancel (the pipe a client's cancel writes to) ends the wait at once. */
    int cancel[2];
    assert_int_equal(pipe(cancel), 0);
    tda_store_wait w = {tda_monotonic_ms() + 30000, cancel[0]};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &cancel[1]), 0);
    void *lock = NULL;
    char detail[512];
    t0 = tda_monotonic_ms();
    assert_int_equal(s->ops.lock(s->self, NULL, &w, &lock, detail, sizeof detail), TDA_CANCELLED);
    took = tda_monotonic_ms() - t0;
    pthread_join(th, NULL);
    print_message("a cancel 150 ms into the wait ended it after %lld ms\n", (long long)took);
    assert_true(took >= 150 && took < 150 + prompt_ms());
    assert_non_null(strstr(detail, "cancelled while waiting"));
    close(cancel[0]);
    close(cancel[1]);

    /* Once the holder dies the lock is free again. */
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    assert_int_equal(tda_store_set_lock_timeout_ms(s, 1000), TDA_OK);
    assert_int_equal(tda_store_save(s, NULL, &t), TDA_OK);
    tda_store_free(s);
}

static void test_wait_fd_arguments_and_readiness(void **state)
{
    assert_int_equal(tda_store_wait_fd(NULL, -1, 0, 10), TDA_INVALID_ARGUMENT);
    tda_store_wait past = {tda_monotonic_ms() - 1, -1};
    assert_int_equal(tda_store_wait_fd(&past, -1, 0, 10), TDA_LOCKED);
    int p[2];
    assert_int_equal(pipe(p), 0);
    tda_store_wait w = {tda_monotonic_ms() + 5000, -1};
    assert_int_equal(write(p[1], "x", 1), 1);
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_store_wait_fd(&w, p[0], POLLIN, -1), TDA_OK); /* ready at once */
    assert_true(tda_monotonic_ms() - t0 < prompt_ms());
    assert_int_equal(tda_store_wait_fd(&w, -1, 0, 20), TDA_OK); /* a nap of max_ms */
    close(p[0]);
    close(p[1]);
}

/* ---------------------------------------------------------------- handles */

static void test_store_new_needs_the_required_ops_and_copy_is_deep(void **state)
{
    tda_store_ops ops;
    memset(&ops, 0, sizeof ops);
    assert_null(tda_store_new(NULL, NULL));
    assert_null(tda_store_new(&ops, NULL));

    tda_token t = sample("access-c", "refresh-c", "cid");
    t.scope = NULL;
    tda_token copy;
    assert_int_equal(tda_token_copy(&t, &copy), TDA_OK);
    assert_ptr_not_equal(copy.access_token, t.access_token);
    assert_string_equal(copy.access_token, "access-c");
    assert_string_equal(copy.refresh_token, "refresh-c");
    assert_string_equal(copy.client_id, "cid");
    assert_null(copy.scope);
    assert_memory_equal(&copy.received, &t.received, sizeof t.received);
    assert_int_equal(copy.expires_at, t.expires_at);
    tda_token_clear(&copy);
    assert_int_equal(tda_token_copy(NULL, &copy), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_copy(&t, NULL), TDA_INVALID_ARGUMENT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, scratch_teardown)
    const struct CMUnitTest tests[] = {
        T(test_keys_become_safe_distinct_file_names),
        T(test_bad_keys_are_refused_with_the_rule),
        T(test_directory_store_keeps_keys_apart),
        T(test_file_store_holds_one_token_and_no_keys),
        T(test_the_received_stamp_is_kept),
        T(test_bad_files_are_explained_and_left_as_they_were),
        T(test_another_users_file_is_refused),
        T(test_check_makes_the_directory_and_finds_trouble),
        T(test_prepare_secures_the_whole_room_before_the_save),
        T(test_a_held_lock_ends_in_locked_or_cancelled_not_a_hang),
        T(test_wait_fd_arguments_and_readiness),
        T(test_store_new_needs_the_required_ops_and_copy_is_deep),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
