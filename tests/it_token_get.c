/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tda_token_get and friends against the emulator: the common case makes no
 * request and takes no lock; a due token is refreshed once, saved and handed
 * to the hook; a pair rotated by another process while this one waited is
 * taken, not refreshed again; transient failures return the stored token
 * marked stale while it works, and the failure once it has expired;
 * invalid_grant re-reads the store once; a lock wait ends on cancel within
 * 100 ms and on the timeout with TDA_LOCKED. A toy in-memory store goes
 * through the same logic, with each of its steps recorded, and shows that a
 * room that cannot be had costs no refresh token.
 */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

typedef struct fixture {
    emu e;
    char dir[64];
    char path[128]; /* dir + "/token.json" */
    char log[128];  /* the emulator's request log */
} fixture;

static fixture *start(void **state, ...)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tda-get-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/token.json", f->dir);
    snprintf(f->log, sizeof f->log, "%s/emulator.log", f->dir);
    va_list ap;
    va_start(ap, state);
    emu_start_quick(&f->e, f->log, ap);
    va_end(ap);
    *state = f;
    return f;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    emu_stop(&f->e);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Requests to POST /oauth/token (refreshes, spent or not) in the emulator's log. */
static int refresh_requests(const fixture *f)
{
    int ok, other;
    emu_count_refreshes(f->log, &ok, &other);
    return ok + other;
}

/* Logs in and stores the token in a file store at f->path, aged to left_s. */
static tda_token stored(const fixture *f, int64_t left_s)
{
    tda_token t;
    emu_login(&f->e, &t);
    emu_age_token(&t, left_s);
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    return t;
}

static char *file_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 100000);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 99999, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

typedef struct hook_log {
    int calls;
    char access[128];
    tda_status saved;
} hook_log;

static void record_hook(const char *key, const tda_token *t, tda_status saved, void *userdata)
{
    hook_log *h = userdata;
    h->calls++;
    snprintf(h->access, sizeof h->access, "%s", t->access_token);
    h->saved = saved;
}

/* A child that holds path's lock until killed. */
static pid_t hold_lock(const char *path)
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

static void release(pid_t holder)
{
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
}

/* ---------------------------------------------------------------- the file store */

static void test_a_token_not_due_is_one_read(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, 6 * 86400);
    /* Another process holds the lock the whole time: the common case never asks for it. */
    pid_t holder = hold_lock(f->path);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);
    hook_log h = {0};
    tda_store_on_token(s, record_hook, &h);
    int64_t t0 = tda_monotonic_ms();
    for (int i = 0; i < 100; i++) {
        tda_token got;
        tda_get_info info;
        assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
        assert_string_equal(got.access_token, t.access_token);
        assert_false(info.refreshed || info.rotated || info.stale);
        assert_true(info.age.known);
        assert_false(info.age.due);
        tda_token_clear(&got);
    }
    print_message("100 gets of a valid token took %lld ms\n", (long long)(tda_monotonic_ms() - t0));
    assert_int_equal(refresh_requests(f), 0);
    assert_int_equal(h.calls, 0);
    assert_string_equal(tda_client_error_detail(c), "");
    release(holder);
    tda_store_free(s);
    tda_client_free(c);
    tda_token_clear(&t);
}

static void test_a_due_token_is_refreshed_once_saved_and_handed_to_the_hook(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, 60);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);
    hook_log h = {0};
    tda_store_on_token(s, record_hook, &h);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
    assert_true(info.refreshed);
    assert_false(info.stale || info.rotated);
    assert_string_not_equal(got.access_token, t.access_token);
    assert_string_not_equal(got.refresh_token, t.refresh_token);
    assert_false(info.age.due);
    assert_int_equal(refresh_requests(f), 1);
    /* Saved before it was returned, and told to the hook once. */
    tda_token back;
    assert_int_equal(tda_token_load(f->path, EMU_CLIENT_ID, &back), TDA_OK);
    assert_string_equal(back.access_token, got.access_token);
    assert_string_equal(back.refresh_token, got.refresh_token);
    assert_true(back.received.boot_id[0] != '\0');
    tda_token_clear(&back);
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.access, got.access_token);
    assert_int_equal(h.saved, TDA_OK);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Now it is fresh: the next calls make no request. */
    for (int i = 0; i < 10; i++) {
        tda_token again;
        assert_int_equal(tda_token_get(c, s, NULL, &again, &info), TDA_OK);
        assert_string_equal(again.access_token, got.access_token);
        assert_false(info.refreshed);
        tda_token_clear(&again);
    }
    assert_int_equal(refresh_requests(f), 1);
    /* renew refreshes whether due or not. */
    tda_token renewed;
    assert_int_equal(tda_token_renew(c, s, NULL, &renewed, &info), TDA_OK);
    assert_true(info.refreshed);
    assert_string_not_equal(renewed.access_token, got.access_token);
    assert_int_equal(refresh_requests(f), 2);
    assert_int_equal(h.calls, 2);
    tda_token_clear(&renewed);
    tda_token_clear(&got);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

/* Another process's refresh lands while this one waits for the lock. */
typedef struct waiter {
    const fixture *f;
    tda_token got;
    tda_get_info info;
    tda_status st;
} waiter;

static void *get_in_thread(void *arg)
{
    waiter *w = arg;
    tda_client *c = emu_client(&w->f->e);
    tda_store *s = tda_store_file_new(w->f->path);
    w->st = tda_token_get(c, s, NULL, &w->got, &w->info);
    tda_store_free(s);
    tda_client_free(c);
    return NULL;
}

static void test_a_pair_rotated_while_waiting_is_taken_not_refreshed_again(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, 60);
    /* This thread holds the lock as another process would, and rotates the pair. */
    tda_store *mine = tda_store_file_new(f->path);
    int fd;
    assert_int_equal(tda_token_lock(f->path, 1000, &fd), TDA_OK);
    waiter w = {f, {0}, {0}, TDA_OK};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, get_in_thread, &w), 0);
    /* By then the waiter has read the due token and waits for the lock. */
    usleep((useconds_t)(2 * emu_prompt_ms() * 1000));
    tda_client *c = emu_client(&f->e);
    tda_token fresh;
    assert_int_equal(tda_refresh_token(c, t.refresh_token, &fresh), TDA_OK);
    assert_int_equal(tda_token_save(&fresh, f->path), TDA_OK);
    tda_token_unlock(fd);
    pthread_join(th, NULL);
    assert_int_equal(w.st, TDA_OK);
    assert_true(w.info.rotated);
    assert_false(w.info.refreshed);
    assert_string_equal(w.got.access_token, fresh.access_token);
    assert_int_equal(refresh_requests(f), 1); /* ours only */
    tda_token_clear(&w.got);
    tda_token_clear(&fresh);
    tda_token_clear(&t);
    tda_client_free(c);
    tda_store_free(mine);
}

static void test_transient_failures_return_the_stored_token_while_it_works(void **state)
{
    fixture *f = start(state, "--fault", "refresh:1-9:503", NULL);
    tda_token t = stored(f, 60);
    char *before = file_text(f->path);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
    assert_true(info.stale);
    assert_false(info.refreshed);
    assert_int_equal(info.refresh_status, TDA_OVERLOADED);
    assert_string_equal(got.access_token, t.access_token);
    assert_non_null(strstr(tda_client_error_detail(c), "503"));
    tda_token_clear(&got);
    char *after = file_text(f->path);
    assert_string_equal(after, before); /* untouched */
    free(after);
    /* renew never hands out a stale token. */
    assert_int_equal(tda_token_renew(c, s, NULL, &got, &info), TDA_OVERLOADED);
    assert_null(got.access_token);
    /* Expired: the failure itself. */
    emu_age_token(&t, -10);
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OVERLOADED);
    assert_null(got.access_token);
    assert_false(info.stale);
    assert_int_equal(refresh_requests(f), 3);
    free(before);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_invalid_grant_means_log_in_again_and_keeps_the_file(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, 6 * 86400); /* not even due: renew forces the refresh */
    tda_client *c = emu_client(&f->e);
    tda_token spent;
    assert_int_equal(tda_refresh_token(c, t.refresh_token, &spent), TDA_OK);
    tda_token_clear(&spent);
    char *before = file_text(f->path);
    tda_store *s = tda_store_file_new(f->path);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_renew(c, s, NULL, &got, &info), TDA_INVALID_GRANT);
    assert_non_null(strstr(tda_client_error_detail(c), "log in again"));
    assert_non_null(strstr(tda_client_error_detail(c), f->path));
    /* Due and not expired: still no stale token, since the pair is dead. */
    emu_age_token(&t, 60);
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    free(before);
    before = file_text(f->path);
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_INVALID_GRANT);
    assert_false(info.stale);
    char *after = file_text(f->path);
    assert_string_equal(after, before);
    free(after);
    free(before);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

typedef struct canceller {
    tda_client *c;
    int64_t at; /* when the cancel was made */
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    usleep(200 * 1000);
    k->at = tda_monotonic_ms();
    tda_client_cancel(k->c);
    return NULL;
}

static void test_a_held_lock_ends_in_a_cancel_or_a_timeout_not_a_hang(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, 60);
    pid_t holder = hold_lock(f->path);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);

    /* tda_client_cancel from another thread ends the wait within 100 ms. */
    canceller k = {c, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &k), 0);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_CANCELLED);
    int64_t took = tda_monotonic_ms();
    pthread_join(th, NULL);
    took -= k.at;
    print_message("the cancel ended the lock wait %lld ms after it was made\n", (long long)took);
    assert_true(took < emu_prompt_ms());
    assert_false(info.stale); /* a cancel is an answer, not a failure to paper over */
    tda_client_reset_cancel(c);

    /* The timeout: while the token works, it comes back stale with TDA_LOCKED... */
    assert_int_equal(tda_store_set_lock_timeout_ms(s, 300), TDA_OK);
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
    took = tda_monotonic_ms() - t0;
    assert_true(took >= 300 && took < 300 + emu_prompt_ms() * 5);
    assert_true(info.stale);
    assert_int_equal(info.refresh_status, TDA_LOCKED);
    assert_non_null(strstr(tda_client_error_detail(c), "another process has held the lock"));
    tda_token_clear(&got);
    /* ...and once it has expired, TDA_LOCKED itself. */
    emu_age_token(&t, -1);
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_LOCKED);
    assert_int_equal(refresh_requests(f), 0);
    release(holder);
    /* Free again: it refreshes. */
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
    assert_true(info.refreshed);
    tda_token_clear(&got);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_bad_stored_tokens_fail_clearly_and_stay(void **state)
{
    fixture *f = start(state, NULL);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_FILE_MISSING);
    assert_non_null(strstr(tda_client_error_detail(c), "log in first"));
    /* Another client's token. */
    tda_token t = stored(f, 60);
    free(t.client_id);
    t.client_id = strdup("another-app");
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    char *before = file_text(f->path);
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_WRONG_CLIENT);
    assert_non_null(strstr(tda_client_error_detail(c), "belongs to client id another-app"));
    char *after = file_text(f->path);
    assert_string_equal(after, before);
    free(after);
    free(before);
    /* Open to others. */
    free(t.client_id);
    t.client_id = NULL;
    assert_int_equal(tda_token_save(&t, f->path), TDA_OK);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_FILE_INSECURE);
    assert_non_null(strstr(tda_client_error_detail(c), "chmod 600"));
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    assert_int_equal(refresh_requests(f), 0);
    /* Bad arguments. */
    assert_int_equal(tda_token_get(NULL, s, NULL, &got, &info), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_get(c, NULL, NULL, &got, &info), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_get(c, s, NULL, NULL, &info), TDA_INVALID_ARGUMENT);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_revoke_removes_the_token_only_once_trakt_confirms(void **state)
{
    fixture *f = start(state, "--fault", "revoke:1:503", NULL);
    tda_token t = stored(f, 6 * 86400);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);
    assert_int_equal(tda_token_revoke_stored(c, s, NULL), TDA_OVERLOADED);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(tda_token_revoke_stored(c, s, NULL), TDA_OK);
    assert_int_equal(stat(f->path, &sb), -1);
    assert_int_equal(emu_get_stats(&f->e).revokes, 1); /* the 503 came from "Cloudflare" */
    tda_token got;
    assert_int_equal(tda_token_get(c, s, NULL, &got, NULL), TDA_FILE_MISSING);
    assert_int_equal(tda_token_revoke_stored(c, s, NULL), TDA_FILE_MISSING);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_a_directory_store_refreshes_only_the_due_key(void **state)
{
    fixture *f = start(state, NULL);
    char dir[160];
    snprintf(dir, sizeof dir, "%s/users", f->dir);
    tda_store *s = tda_store_dir_new(dir);
    static const char *const keys[] = {"alice", "Bob", "carol@example.com"};
    char old[3][128];
    for (int i = 0; i < 3; i++) {
        tda_token t;
        emu_login(&f->e, &t);
        emu_age_token(&t, i == 1 ? 60 : 6 * 86400);
        assert_int_equal(tda_store_check(s, keys[i], EMU_CLIENT_ID), TDA_OK);
        assert_int_equal(tda_store_save(s, keys[i], &t), TDA_OK);
        snprintf(old[i], sizeof old[i], "%s", t.access_token);
        tda_token_clear(&t);
    }
    tda_client *c = emu_client(&f->e);
    for (int i = 0; i < 3; i++) {
        tda_token got;
        tda_get_info info;
        assert_int_equal(tda_token_get(c, s, keys[i], &got, &info), TDA_OK);
        assert_int_equal(info.refreshed, i == 1);
        assert_int_equal(strcmp(got.access_token, old[i]) != 0, i == 1);
        tda_token_clear(&got);
    }
    assert_int_equal(refresh_requests(f), 1);
    tda_token got;
    assert_int_equal(tda_token_get(c, s, "../users/alice", &got, NULL), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(tda_client_error_detail(c), "'/'"));
    tda_store_free(s);
    tda_client_free(c);
}

/* A token file as versions before the received stamp wrote it. */
static void write_old_file(const fixture *f, const tda_token *t, int64_t created_at)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fprintf(fp,
            "{\n  \"client_id\": \"%s\",\n  \"access_token\": \"%s\",\n  \"token_type\": "
            "\"bearer\",\n  \"refresh_token\": \"%s\",\n  \"scope\": \"public\",\n  "
            "\"created_at\": %lld,\n  \"expires_in\": %lld,\n  \"expires_at\": %lld\n}\n",
            EMU_CLIENT_ID, t->access_token, t->refresh_token, (long long)created_at,
            (long long)t->expires_in, (long long)(created_at + t->expires_in));
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(f->path, 0600), 0);
}

static void test_an_old_file_without_a_stamp_still_works(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t;
    emu_login(&f->e, &t);
    /* Trakt's created_at stands in for the arrival: an hour ago is not due. */
    write_old_file(f, &t, (int64_t)time(NULL) - 3600);
    tda_client *c = emu_client(&f->e);
    tda_store *s = tda_store_file_new(f->path);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
    assert_false(info.refreshed);
    assert_true(info.age.known);
    assert_true(info.age.elapsed_ms >= 3600 * 1000 && info.age.elapsed_ms < 3700 * 1000);
    assert_string_equal(got.access_token, t.access_token);
    tda_token_clear(&got);
    assert_int_equal(refresh_requests(f), 0);
    /* Six days and 23 hours ago: due; the refresh writes the new format. */
    write_old_file(f, &t, (int64_t)time(NULL) - t.expires_in + 3600);
    assert_int_equal(tda_token_get(c, s, NULL, &got, &info), TDA_OK);
    assert_true(info.refreshed);
    char *text = file_text(f->path);
    assert_non_null(strstr(text, "\"received_boot_id\""));
    free(text);
    tda_token_clear(&got);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

/* ---------------------------------------------------------------- a store of our own */

/* A toy store in memory: one token per key, a mutex for the lock, each step logged. */
typedef struct toy {
    pthread_mutex_t mutex;
    tda_token token; /* the one key's token; access_token NULL: none */
    tda_token after; /* if set: what a lock-ignoring writer stores after the first locked read */
    char steps[512]; /* "load lock load_locked prepare save unlock1 ..." */
    tda_status fail_prepare, fail_save, fail_lock;
    int locked_reads;
} toy;

static void step(toy *t, const char *what)
{
    size_t n = strlen(t->steps);
    snprintf(t->steps + n, sizeof t->steps - n, "%s%s", n ? " " : "", what);
}

static tda_status toy_load(void *self, const char *key, tda_token *out, char *detail, size_t size)
{
    toy *t = self;
    step(t, "load");
    if (!t->token.access_token) {
        snprintf(detail, size, "the toy store holds no token for %s", key ? key : "(none)");
        return TDA_FILE_MISSING;
    }
    return tda_token_copy(&t->token, out);
}

static tda_status toy_lock(void *self, const char *key, const tda_store_wait *wait, void **lock,
                           char *detail, size_t size)
{
    toy *t = self;
    step(t, "lock");
    if (t->fail_lock) {
        snprintf(detail, size, "the toy store's lock is taken");
        return t->fail_lock;
    }
    /* A real store would wait with tda_store_wait_fd; the toy's lock is never contended. */
    pthread_mutex_lock(&t->mutex);
    *lock = t;
    return TDA_OK;
}

static tda_status toy_load_locked(void *self, void *lock, tda_token *out, char *detail, size_t size)
{
    toy *t = self;
    step(t, "load_locked");
    tda_status st = tda_token_copy(&t->token, out);
    if (t->locked_reads++ == 0 && t->after.access_token) {
        tda_token_clear(&t->token);
        t->token = t->after;
        memset(&t->after, 0, sizeof t->after);
    }
    return st;
}

static tda_status toy_prepare(void *self, void *lock, char *detail, size_t size)
{
    toy *t = self;
    step(t, "prepare");
    if (t->fail_prepare)
        snprintf(detail, size, "the toy store is full");
    return t->fail_prepare;
}

static tda_status toy_save(void *self, void *lock, const tda_token *token, char *detail,
                           size_t size)
{
    toy *t = self;
    step(t, "save");
    if (t->fail_save) {
        snprintf(detail, size, "the toy store could not save");
        return t->fail_save;
    }
    tda_token_clear(&t->token);
    return tda_token_copy(token, &t->token);
}

static tda_status toy_unlock(void *self, void *lock, int commit, char *detail, size_t size)
{
    toy *t = self;
    step(t, commit ? "unlock1" : "unlock0");
    pthread_mutex_unlock(&t->mutex);
    return TDA_OK;
}

/* Named members, as the header asks: what this toy leaves out stays NULL, reserved zero. */
static const tda_store_ops toy_ops = {
    .load = toy_load,
    .lock = toy_lock,
    .load_locked = toy_load_locked,
    .prepare = toy_prepare,
    .save = toy_save,
    .unlock = toy_unlock,
};

static void toy_reset(toy *t)
{
    t->steps[0] = '\0';
    t->fail_prepare = t->fail_save = t->fail_lock = TDA_OK;
    t->locked_reads = 0;
}

static void test_a_store_of_our_own_goes_through_the_same_logic(void **state)
{
    fixture *f = start(state, NULL);
    toy t;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.mutex, NULL);
    emu_login(&f->e, &t.token);
    tda_store *s = tda_store_new(&toy_ops, &t);
    assert_non_null(s);
    hook_log h = {0};
    tda_store_on_token(s, record_hook, &h);
    tda_client *c = emu_client(&f->e);
    tda_token got;
    tda_get_info info;

    /* Not due: one load. */
    assert_int_equal(tda_token_get(c, s, "user-1", &got, &info), TDA_OK);
    assert_string_equal(t.steps, "load");
    tda_token_clear(&got);

    /* Due: the whole dance, in order, committed. */
    toy_reset(&t);
    emu_age_token(&t.token, 60);
    char old[128];
    snprintf(old, sizeof old, "%s", t.token.access_token);
    assert_int_equal(tda_token_get(c, s, "user-1", &got, &info), TDA_OK);
    assert_string_equal(t.steps, "load lock load_locked prepare save unlock1");
    assert_true(info.refreshed);
    assert_string_equal(t.token.access_token, got.access_token);
    assert_int_equal(h.calls, 1);
    tda_token_clear(&got);
    assert_int_equal(refresh_requests(f), 1);

    /* No room: nothing spent, the stored token comes back stale. */
    toy_reset(&t);
    emu_age_token(&t.token, 60);
    t.fail_prepare = TDA_NO_SPACE;
    assert_int_equal(tda_token_get(c, s, "user-1", &got, &info), TDA_OK);
    assert_string_equal(t.steps, "load lock load_locked prepare unlock0");
    assert_true(info.stale);
    assert_int_equal(info.refresh_status, TDA_NO_SPACE);
    assert_non_null(strstr(tda_client_error_detail(c), "the refresh token was not spent"));
    assert_int_equal(refresh_requests(f), 1);
    tda_token_clear(&got);

    /* The lock cannot be had: stale, nothing else asked of the store. */
    toy_reset(&t);
    t.fail_lock = TDA_LOCKED;
    assert_int_equal(tda_token_get(c, s, "user-1", &got, &info), TDA_OK);
    assert_string_equal(t.steps, "load lock");
    assert_int_equal(info.refresh_status, TDA_LOCKED);
    tda_token_clear(&got);

    /* The save fails after the spend: the failure is returned, loudly, and the hook still
       gets the new pair so that an application keeping a copy loses nothing. */
    toy_reset(&t);
    t.fail_save = TDA_IO;
    assert_int_equal(tda_token_get(c, s, "user-1", &got, &info), TDA_IO);
    assert_string_equal(t.steps, "load lock load_locked prepare save unlock0");
    assert_non_null(strstr(tda_client_error_detail(c), "the old refresh token is spent"));
    assert_int_equal(h.calls, 2);
    assert_int_equal(h.saved, TDA_IO);
    assert_string_not_equal(h.access, t.token.access_token);
    assert_int_equal(refresh_requests(f), 2);
    assert_null(got.access_token);

    /* invalid_grant, but a writer that ignores the lock had stored a new pair: the one
       re-read finds it. (The stored token is now the spent one, as after the failed save.) */
    toy_reset(&t);
    tda_token replacement;
    emu_login(&f->e, &replacement);
    t.after = replacement;
    assert_int_equal(tda_token_get(c, s, "user-1", &got, &info), TDA_OK);
    assert_string_equal(t.steps, "load lock load_locked prepare load_locked unlock0");
    assert_true(info.rotated);
    assert_string_equal(got.access_token, t.token.access_token);
    assert_int_equal(refresh_requests(f), 3);
    tda_token_clear(&got);

    /* A store without remove cannot revoke. */
    assert_int_equal(tda_token_revoke_stored(c, s, "user-1"), TDA_INVALID_ARGUMENT);
    tda_store_free(s);
    tda_client_free(c);
    tda_token_clear(&t.token);
    pthread_mutex_destroy(&t.mutex);
}

int main(void)
{
#define T(fn) cmocka_unit_test_teardown(fn, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_token_not_due_is_one_read),
        T(test_a_due_token_is_refreshed_once_saved_and_handed_to_the_hook),
        T(test_a_pair_rotated_while_waiting_is_taken_not_refreshed_again),
        T(test_transient_failures_return_the_stored_token_while_it_works),
        T(test_invalid_grant_means_log_in_again_and_keeps_the_file),
        T(test_a_held_lock_ends_in_a_cancel_or_a_timeout_not_a_hang),
        T(test_bad_stored_tokens_fail_clearly_and_stay),
        T(test_revoke_removes_the_token_only_once_trakt_confirms),
        T(test_a_directory_store_refreshes_only_the_due_key),
        T(test_an_old_file_without_a_stamp_still_works),
        T(test_a_store_of_our_own_goes_through_the_same_logic),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
