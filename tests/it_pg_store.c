/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store against a real server (a throw-away one of this
 * program's, tests/pg_server.c) and the emulator: the table is made on first
 * use; a login is stored and a token that is not due is one read; a due one
 * is refreshed once and committed before it is returned; a waiter on the row
 * lock takes the pair rotated meanwhile; the lock wait ends on its timeout
 * and on a cancel within 100 ms; a lost refresh answer keeps the row and the
 * next call says to log in again; a connection cut (or a server restarted)
 * after the spend still stores the new pair; a restart between calls costs
 * nothing. Bad input: a table with wrong columns, corrupt JSON in the row, a
 * 10 KB key, keys with quotes, SQL and NUL bytes, bad table names: clear
 * errors, no injection, nothing changed. The password of the connection
 * string never reaches a detail, whatever libpq says.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "pg_server.h"
#include "traktdeviceauth.h"

static pg_server pg;

typedef struct fixture {
    emu e;
    char log[96]; /* the emulator's request log */
} fixture;

static fixture *start(void **state, ...)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->log, sizeof f->log, "%s/emulator.%d.log", pg.dir, rand());
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
    if (f) {
        emu_stop(&f->e);
        unlink(f->log);
        free(f);
    }
    return 0;
}

/* Requests to POST /oauth/token (refreshes, spent or not) in the emulator's log. */
static int refresh_requests(const fixture *f)
{
    int ok, other;
    emu_count_refreshes(f->log, &ok, &other);
    return ok + other;
}

static tda_store *store_on(const char *table)
{
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, table);
    assert_non_null(s);
    return s;
}

/* A login stored under key in table, aged to left_s. */
static tda_token stored(const fixture *f, const char *table, const char *key, int64_t left_s)
{
    tda_token t;
    emu_login(&f->e, &t);
    emu_age_token(&t, left_s);
    tda_store *s = store_on(table);
    tda_status st = tda_store_save(s, key, &t);
    if (st != TDA_OK)
        fail_msg("saving: %s: %s", tda_status_name(st), tda_store_error_detail(s));
    tda_store_free(s);
    return t;
}

/* The row's token as text (NULL: no row); free it. Values bound here too. */
static char *row_text(const char *table, const char *key)
{
    PGconn *c = pg_server_connect(&pg);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT token::text FROM %s WHERE client_id = $1 AND key = $2",
             table);
    const char *values[] = {EMU_CLIENT_ID, key};
    PGresult *r = PQexecParams(c, sql, 2, NULL, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    char *text = PQntuples(r) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    PQfinish(c);
    return text;
}

static int holds(const char *text, const char *token)
{
    return text && token && strstr(text, token) != NULL;
}

/* A connection of the test's holding key's row (BEGIN; SELECT ... FOR UPDATE). */
static PGconn *hold_row(const char *table, const char *key)
{
    PGconn *c = pg_server_connect(&pg);
    PGresult *r = PQexec(c, "BEGIN");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE client_id = $1 AND key = $2 FOR UPDATE",
             table);
    const char *values[] = {EMU_CLIENT_ID, key};
    r = PQexecParams(c, sql, 2, NULL, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    return c;
}

static void end_hold(PGconn *c, const char *how)
{
    PGresult *r = PQexec(c, how);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
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

/* ---------------------------------------------------------------- the lifecycle */

static void test_the_table_is_made_and_a_token_not_due_is_one_read(void **state)
{
    fixture *f = start(state, NULL);
    pg_server_sql(&pg, "DROP TABLE IF EXISTS trakt_tokens");
    tda_store *s = tda_store_pg_new(pg.uri, EMU_CLIENT_ID, NULL); /* the URI form, default table */
    assert_non_null(s);
    assert_int_equal(tda_store_check(s, "alice", EMU_CLIENT_ID), TDA_OK);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM pg_tables WHERE tablename = "
                                         "'trakt_tokens'"),
                     1);
    tda_token t;
    emu_login(&f->e, &t);
    assert_int_equal(tda_store_save(s, "alice", &t), TDA_OK);
    char *text = row_text("trakt_tokens", "alice");
    assert_true(holds(text, t.access_token) && holds(text, t.refresh_token));
    assert_true(holds(text, "received_uptime_ms")); /* the stamp is kept */
    free(text);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM trakt_tokens WHERE "
                                         "token->>'client_id' = 'test-client-id' AND "
                                         "updated_at > now() - interval '1 minute'"),
                     1);

    tda_client *c = emu_client(&f->e);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    assert_string_equal(got.access_token, t.access_token);
    assert_false(info.refreshed || info.rotated || info.stale);
    assert_int_equal(refresh_requests(f), 0);
    tda_token_clear(&got);
    const char *where = tda_store_location(s, "alice");
    assert_non_null(strstr(where, "key \"alice\" of PostgreSQL table \"trakt_tokens\""));
    assert_non_null(strstr(where, "database tda"));
    /* status for a key with none: log in first, saying where it looked. */
    assert_int_equal(tda_token_get(c, s, "bob", &got, &info), TDA_FILE_MISSING);
    assert_non_null(strstr(tda_client_error_detail(c), "no token for key \"bob\""));
    tda_client_free(c);
    tda_token_clear(&t);
    tda_store_free(s);
}

static void test_a_due_token_is_refreshed_once_and_committed_before_it_is_returned(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_due", "alice", 60);
    tda_store *s = store_on("t_due");
    hook_log h = {0};
    tda_store_on_token(s, record_hook, &h);
    tda_client *c = emu_client(&f->e);
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    assert_true(info.refreshed);
    assert_string_not_equal(got.access_token, t.access_token);
    /* Committed: another connection sees the new pair at once. */
    char *text = row_text("t_due", "alice");
    assert_true(holds(text, got.access_token) && holds(text, got.refresh_token));
    assert_false(holds(text, t.refresh_token));
    free(text);
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.access, got.access_token);
    assert_int_equal(h.saved, TDA_OK);
    /* No transaction is left open. */
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE "
                                         "state LIKE 'idle in transaction%'"),
                     0);
    tda_token again;
    assert_int_equal(tda_token_get(c, s, "alice", &again, &info), TDA_OK);
    assert_false(info.refreshed);
    assert_string_equal(again.access_token, got.access_token);
    assert_int_equal(refresh_requests(f), 1);
    /* renew: refreshes whether due or not, and the pair is the stored one. */
    tda_token_clear(&again);
    assert_int_equal(tda_token_renew(c, s, "alice", &again, &info), TDA_OK);
    assert_true(info.refreshed);
    text = row_text("t_due", "alice");
    assert_true(holds(text, again.refresh_token));
    free(text);
    tda_token_clear(&again);
    tda_token_clear(&got);
    tda_token_clear(&t);
    tda_client_free(c);
    tda_store_free(s);
}

typedef struct waiter {
    const emu *e;
    const char *table;
    tda_status st;
    tda_token got;
    tda_get_info info;
} waiter;

static void *get_in_thread(void *arg)
{
    waiter *w = arg;
    tda_client *c = tda_client_new(EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    tda_client_set_base_url(c, w->e->base_url);
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, w->table);
    w->st = tda_token_get(c, s, "alice", &w->got, &w->info);
    tda_store_free(s);
    tda_client_free(c);
    return NULL;
}

static void wait_for_lock_waiters(long n)
{
    for (int i = 0; i < 1000 && pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE "
                                                    "wait_event_type = 'Lock'") < n;
         i++)
        usleep(10 * 1000);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE "
                                         "wait_event_type = 'Lock'"),
                     n);
}

/*
 * Another machine holds the row, refreshes and commits the new pair (which
 * looks due too): the waiter, queued on the row, reads it and makes no
 * request, so the emulator sees exactly the holder's one.
 */
static void test_a_waiter_on_the_row_takes_the_pair_committed_meanwhile(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_wait", "alice", 60);
    PGconn *other = hold_row("t_wait", "alice");
    waiter w = {&f->e, "t_wait", TDA_IO, {0}, {0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, get_in_thread, &w), 0);
    wait_for_lock_waiters(1);
    tda_client *c = emu_client(&f->e);
    tda_token fresh;
    assert_int_equal(tda_refresh_token(c, t.refresh_token, &fresh), TDA_OK);
    /* The holder writes the new pair into the stored value, keeping its (due) stamp. */
    const char *values[] = {fresh.access_token, fresh.refresh_token, EMU_CLIENT_ID, "alice"};
    PGresult *r = PQexecParams(other,
                               "UPDATE t_wait SET token = jsonb_set(jsonb_set(token, "
                               "'{access_token}', to_jsonb($1::text)), '{refresh_token}', "
                               "to_jsonb($2::text)) WHERE client_id = $3 AND key = $4",
                               4, NULL, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdTuples(r), "1");
    PQclear(r);
    end_hold(other, "COMMIT");
    pthread_join(th, NULL);
    if (w.st != TDA_OK)
        fail_msg("the waiter: %s", tda_status_name(w.st));
    assert_true(w.info.rotated);
    assert_false(w.info.refreshed || w.info.stale);
    assert_string_equal(w.got.access_token, fresh.access_token);
    assert_int_equal(refresh_requests(f), 1);
    tda_token_clear(&w.got);
    tda_token_clear(&fresh);
    tda_token_clear(&t);
    tda_client_free(c);
}

/*
 * The pair a waiter finds was spent behind the store's back (nothing wrote
 * the new one): invalid_grant, the row is read again once, it is unchanged,
 * so the caller is told to log in again and the row is left as it was.
 */
static void test_a_pair_spent_elsewhere_says_log_in_again_and_keeps_the_row(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_spent", "alice", 60);
    char *before = row_text("t_spent", "alice");
    tda_client *c = emu_client(&f->e);
    tda_token fresh;
    assert_int_equal(tda_refresh_token(c, t.refresh_token, &fresh), TDA_OK);
    tda_store *s = store_on("t_spent");
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_INVALID_GRANT);
    assert_non_null(strstr(tda_client_error_detail(c), "log in again"));
    char *after = row_text("t_spent", "alice");
    assert_string_equal(after, before);
    free(after);
    free(before);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE "
                                         "state LIKE 'idle in transaction%'"),
                     0);
    tda_store_free(s);
    tda_token_clear(&fresh);
    tda_token_clear(&t);
    tda_client_free(c);
}

typedef struct canceller {
    tda_client *c;
    int64_t at; /* when it cancelled */
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    usleep(200 * 1000);
    k->at = tda_monotonic_ms();
    tda_client_cancel(k->c);
    return NULL;
}

static void test_the_lock_wait_ends_on_its_timeout_and_on_a_cancel(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_lock", "alice", 60);
    PGconn *other = hold_row("t_lock", "alice");
    tda_client *c = emu_client(&f->e);
    tda_store *s = store_on("t_lock");
    tda_token got;
    tda_get_info info;

    /* The timeout: the token still works, so it comes back stale with TDA_LOCKED. */
    assert_int_equal(tda_store_set_lock_timeout_ms(s, 300), TDA_OK);
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    int64_t took = tda_monotonic_ms() - t0;
    print_message("a held row: TDA_LOCKED after %lld ms (lock timeout 300 ms)\n", (long long)took);
    assert_true(took >= 300 && took < 300 + emu_prompt_ms() * 5);
    assert_true(info.stale);
    assert_int_equal(info.refresh_status, TDA_LOCKED);
    assert_non_null(strstr(tda_client_error_detail(c), "lock timeout"));
    assert_string_equal(got.access_token, t.access_token);
    tda_token_clear(&got);
    /* renew never hands out a stale token. */
    assert_int_equal(tda_token_renew(c, s, "alice", &got, &info), TDA_LOCKED);

    /* A cancel from another thread ends the wait within 100 ms. */
    assert_int_equal(tda_store_set_lock_timeout_ms(s, 60000), TDA_OK);
    canceller k = {c, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &k), 0);
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_CANCELLED);
    took = tda_monotonic_ms();
    pthread_join(th, NULL);
    took -= k.at;
    print_message("the cancel ended the row lock wait %lld ms after it was made\n",
                  (long long)took);
    assert_true(took < emu_prompt_ms());
    assert_false(info.stale);
    tda_client_reset_cancel(c);
    /* The cancelled waiter's backend leaves the queue (client_connection_check_interval). */
    for (int i = 0; i < 300 && pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE "
                                                   "wait_event_type = 'Lock'") > 0;
         i++)
        usleep(10 * 1000);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE "
                                         "wait_event_type = 'Lock'"),
                     0);
    end_hold(other, "ROLLBACK");
    /* Free again: it refreshes, on a new connection. */
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    assert_true(info.refreshed);
    assert_int_equal(refresh_requests(f), 1);
    tda_token_clear(&got);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_a_lost_refresh_answer_keeps_the_row_then_says_log_in_again(void **state)
{
    fixture *f = start(state, "--fault", "refresh:1:lose", NULL);
    tda_token t = stored(f, "t_lost", "alice", 60);
    char *before = row_text("t_lost", "alice");
    tda_client *c = emu_client(&f->e);
    tda_store *s = store_on("t_lost");
    tda_token got;
    tda_get_info info;
    /* Trakt rotated the pair, the answer never came: the row is rolled back to the old one. */
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    assert_true(info.stale);
    assert_int_equal(info.refresh_status, TDA_NETWORK);
    assert_string_equal(got.access_token, t.access_token);
    tda_token_clear(&got);
    char *after = row_text("t_lost", "alice");
    assert_string_equal(after, before);
    free(after);
    /* The next call spends the dead refresh token: log in again, and the row stays. */
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_INVALID_GRANT);
    assert_non_null(strstr(tda_client_error_detail(c), "log in again"));
    assert_non_null(strstr(tda_client_error_detail(c), "key \"alice\""));
    after = row_text("t_lost", "alice");
    assert_string_equal(after, before);
    free(after);
    assert_int_equal(refresh_requests(f), 2);
    free(before);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

/* The client's log: on the refresh's answer (spent, not yet saved), cut the store's session. */
typedef struct cutter {
    int restart; /* pg_ctl restart instead of pg_terminate_backend */
    int done;
} cutter;

static void cut_after_answer(const char *line, void *userdata)
{
    cutter *k = userdata;
    if (k->done || strncmp(line, "< HTTP 200", 10) != 0)
        return;
    k->done = 1;
    if (k->restart)
        pg_server_restart(&pg);
    else
        assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM (SELECT "
                                             "pg_terminate_backend(pid) FROM pg_stat_activity "
                                             "WHERE application_name = 'traktdeviceauth' AND "
                                             "state LIKE 'idle in transaction%') x"),
                         1);
}

static void spent_then_cut(void **state, int restart)
{
    fixture *f = start(state, NULL);
    const char *table = restart ? "t_restart_spent" : "t_cut_spent";
    tda_token t = stored(f, table, "alice", 60);
    tda_client *c = emu_client(&f->e);
    tda_store *s = store_on(table);
    cutter k = {restart, 0};
    tda_client_set_log(c, cut_after_answer, &k);
    tda_token got;
    tda_get_info info;
    tda_status st = tda_token_get(c, s, "alice", &got, &info);
    if (st != TDA_OK)
        fail_msg("%s: %s", tda_status_name(st), tda_client_error_detail(c));
    assert_true(k.done);
    assert_true(info.refreshed);
    char *text = row_text(table, "alice");
    assert_true(holds(text, got.access_token) && holds(text, got.refresh_token));
    free(text);
    tda_client_set_log(c, NULL, NULL);
    /* The stored pair works: it is the one Trakt issued last. */
    tda_token next;
    assert_int_equal(tda_token_renew(c, s, "alice", &next, &info), TDA_OK);
    tda_token_clear(&next);
    tda_token_clear(&got);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_a_session_killed_after_the_spend_still_stores_the_new_pair(void **state)
{
    spent_then_cut(state, 0);
}

static void test_a_server_restarted_after_the_spend_still_stores_the_new_pair(void **state)
{
    spent_then_cut(state, 1);
}

static void test_a_restart_between_calls_costs_nothing_and_a_dead_server_is_transient(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_between", "alice", 60);
    tda_client *c = emu_client(&f->e);
    tda_store *s = store_on("t_between");
    tda_token got;
    tda_get_info info;
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    assert_true(info.refreshed);
    tda_token_clear(&got);
    pg_server_restart(&pg); /* the store's connection is now stale */
    assert_int_equal(tda_token_get(c, s, "alice", &got, &info), TDA_OK);
    assert_false(info.refreshed);
    tda_token_clear(&got);
    assert_int_equal(tda_token_renew(c, s, "alice", &got, &info), TDA_OK);
    tda_token_clear(&got);

    /* No server at all: transient, and the detail says why. */
    char conninfo[160];
    snprintf(conninfo, sizeof conninfo, "host=%s/nothing-here port=5432 dbname=tda user=tda",
             pg.dir);
    tda_store *gone = tda_store_pg_new(conninfo, EMU_CLIENT_ID, NULL);
    assert_non_null(gone);
    assert_int_equal(tda_token_get(c, gone, "alice", &got, &info), TDA_NETWORK);
    assert_true(tda_status_is_transient(TDA_NETWORK));
    assert_non_null(strstr(tda_client_error_detail(c), "could not connect to PostgreSQL"));
    assert_int_equal(tda_store_check(gone, "alice", EMU_CLIENT_ID), TDA_NETWORK);
    tda_store_free(gone);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_revoke_removes_the_row_once_trakt_confirms(void **state)
{
    fixture *f = start(state, "--fault", "revoke:1:503", NULL);
    tda_token t = stored(f, "t_revoke", "alice", 86400);
    tda_client *c = emu_client(&f->e);
    tda_store *s = store_on("t_revoke");
    assert_int_equal(tda_token_revoke_stored(c, s, "alice"), TDA_OVERLOADED);
    char *text = row_text("t_revoke", "alice");
    assert_non_null(text); /* kept: the only way to try again */
    free(text);
    assert_int_equal(tda_token_revoke_stored(c, s, "alice"), TDA_OK);
    assert_null(row_text("t_revoke", "alice"));
    tda_token got;
    assert_int_equal(tda_token_get(c, s, "alice", &got, NULL), TDA_FILE_MISSING);
    tda_token_clear(&t);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_rows_are_kept_apart_by_client_id(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_clients", "alice", 86400);
    tda_store *other = tda_store_pg_new(pg.conninfo, "another-client", "t_clients");
    assert_non_null(other);
    tda_token got;
    assert_int_equal(tda_store_load(other, "alice", NULL, &got), TDA_FILE_MISSING);
    /* A token of another client is not saved under this client's rows. */
    assert_int_equal(tda_store_save(other, "alice", &t), TDA_WRONG_CLIENT);
    assert_non_null(strstr(tda_store_error_detail(other), "another-client"));
    /* And a client with another id using this client's store is told so. */
    tda_client *c = tda_client_new("another-client", NULL);
    tda_client_set_base_url(c, f->e.base_url);
    tda_store *s = store_on("t_clients");
    assert_int_equal(tda_token_get(c, s, "alice", &got, NULL), TDA_WRONG_CLIENT);
    tda_client_free(c);
    tda_store_free(s);
    tda_store_free(other);
    tda_token_clear(&t);
}

/* ---------------------------------------------------------------- bad input */

static void test_tables_with_wrong_columns_are_refused_before_any_spend(void **state)
{
    fixture *f = start(state, NULL);
    static const struct {
        const char *table, *sql, *says;
    } cases[] = {
        {"w_text",
         "CREATE TABLE w_text (client_id text NOT NULL, key text NOT NULL, token text "
         "NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY "
         "(client_id, key))",
         "its column token is text, not jsonb"},
        {"w_missing",
         "CREATE TABLE w_missing (client_id text, key text, PRIMARY KEY "
         "(client_id, key))",
         "it has no column token (jsonb)"},
        {"w_unique",
         "CREATE TABLE w_unique (client_id text, key text, token jsonb, updated_at "
         "timestamptz)",
         "nothing keeps (client_id, key) unique"},
        {"w_extra",
         "CREATE TABLE w_extra (client_id text, key text, token jsonb, updated_at "
         "timestamptz, owner text NOT NULL, PRIMARY KEY (client_id, key))",
         "a column owner that is NOT NULL without a default"},
    };
    tda_client *c = emu_client(&f->e);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char drop[96];
        snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", cases[i].table);
        pg_server_sql(&pg, drop);
        pg_server_sql(&pg, cases[i].sql);
        tda_store *s = store_on(cases[i].table);
        assert_int_equal(tda_store_check(s, "alice", EMU_CLIENT_ID), TDA_IO);
        const char *why = tda_store_error_detail(s);
        if (!strstr(why, cases[i].says) || !strstr(why, "many users, many machines"))
            fail_msg("%s: the detail does not say '%s': %s", cases[i].table, cases[i].says, why);
        tda_token got;
        assert_int_equal(tda_token_get(c, s, "alice", &got, NULL), TDA_IO);
        tda_store_free(s);
    }
    assert_int_equal(refresh_requests(f), 0);
    tda_client_free(c);
}

static void test_a_corrupt_row_is_explained_left_alone_and_costs_no_request(void **state)
{
    fixture *f = start(state, NULL);
    tda_token t = stored(f, "t_corrupt", "alice", 60);
    tda_token_clear(&t);
    static const char *const bad[] = {
        "'{\"access_token\": 5}'",
        "'[1, 2]'",
        "'\"just a string\"'",
        "'{}'",
        "(SELECT token - 'refresh_token' FROM t_corrupt WHERE key = 'alice')",
        "(SELECT jsonb_set(token, '{received_at}', '\"yesterday\"') FROM t_corrupt "
        "WHERE key = 'alice')",
    };
    tda_client *c = emu_client(&f->e);
    tda_store *s = store_on("t_corrupt");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tda_token again = stored(f, "t_corrupt", "alice", 60);
        tda_token_clear(&again);
        char sql[512];
        snprintf(sql, sizeof sql, "UPDATE t_corrupt SET token = %s WHERE key = 'alice'", bad[i]);
        pg_server_sql(&pg, sql);
        char *before = row_text("t_corrupt", "alice");
        tda_token got;
        assert_int_equal(tda_token_get(c, s, "alice", &got, NULL), TDA_FILE_CORRUPT);
        const char *why = tda_client_error_detail(c);
        if (!strstr(why, "is not valid") || !strstr(why, "log in again"))
            fail_msg("corrupt value %zu: %s", i, why);
        char *after = row_text("t_corrupt", "alice");
        assert_string_equal(after, before);
        free(after);
        free(before);
    }
    assert_int_equal(refresh_requests(f), 0);
    tda_store_free(s);
    tda_client_free(c);
}

static void test_keys_are_values_never_sql(void **state)
{
    fixture *f = start(state, NULL);
    pg_server_sql(&pg, "DROP TABLE IF EXISTS t_keys");
    tda_store *s = store_on("t_keys");
    tda_client *c = emu_client(&f->e);
    tda_token t;
    emu_login(&f->e, &t);
    static const char *const odd[] = {
        "o'brien", "say \"hi\"",  "x'); DROP TABLE t_keys; --", "back\\slash", "$1",
        "%s%n",    "müller 東京", "a key with spaces",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        assert_int_equal(tda_store_save(s, odd[i], &t), TDA_OK);
        tda_token got;
        assert_int_equal(tda_token_get(c, s, odd[i], &got, NULL), TDA_OK);
        assert_string_equal(got.access_token, t.access_token);
        tda_token_clear(&got);
        char *text = row_text("t_keys", odd[i]); /* stored verbatim, found by that very key */
        assert_non_null(text);
        free(text);
    }
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM t_keys"),
                     (long)(sizeof odd / sizeof odd[0]));

    /* Refused with the rule, the key never quoted. */
    char *big = malloc(10241);
    memset(big, 'k', 10240);
    big[10240] = '\0';
    static const char *const unusable[] = {"",         "tab\there", "new\nline",
                                           "\xff\xfe", "\xc0\xaf",  "bell\a"};
    tda_token got;
    assert_int_equal(tda_store_save(s, big, &t), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(tda_store_error_detail(s), "(10240 bytes): it is longer than 256"));
    assert_null(strstr(tda_store_error_detail(s), "kkkkkkkk"));
    assert_int_equal(tda_token_get(c, s, big, &got, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_store_check(s, big, EMU_CLIENT_ID), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_token_revoke_stored(c, s, big), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_store_save(s, NULL, &t), TDA_INVALID_ARGUMENT);
    assert_non_null(strstr(tda_store_error_detail(s), "needs a key"));
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        assert_int_equal(tda_store_save(s, unusable[i], &t), TDA_INVALID_ARGUMENT);
        assert_non_null(strstr(tda_store_error_detail(s), "unusable key"));
    }
    /* A NUL ends a C string: "alice\0mallory" is the key "alice", whose row it reaches. */
    static const char with_nul[] = "alice\0mallory";
    assert_int_equal(tda_store_save(s, with_nul, &t), TDA_OK);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM t_keys WHERE key = 'alice'"), 1);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM t_keys WHERE key LIKE '%mallory%'"),
                     0);
    free(big);
    /* The table is all there. */
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM t_keys"),
                     (long)(sizeof odd / sizeof odd[0]) + 1);
    tda_token_clear(&t);
    tda_client_free(c);
    tda_store_free(s);
}

static void test_bad_arguments_and_table_names_are_refused(void **state)
{
    static const char *const names[] = {
        "",
        "x; DROP TABLE t",
        "a.b.c",
        "\"quoted\"",
        "1abc",
        "a-b",
        "name with space",
        "a_name_of_sixty_four_characters_is_one_more_than_postgres_allows"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_null(tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, names[i]));
    assert_null(tda_store_pg_new(pg.conninfo, NULL, NULL));
    assert_null(tda_store_pg_new(pg.conninfo, "", NULL));
    assert_null(tda_store_pg_new(pg.conninfo, "bad id", NULL));
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, "public.Mixed_Case");
    assert_non_null(s);
    pg_server_sql(&pg, "DROP TABLE IF EXISTS \"Mixed_Case\"");
    assert_int_equal(tda_store_check(s, "alice", NULL), TDA_OK);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM pg_tables WHERE tablename = "
                                         "'Mixed_Case'"),
                     1);
    tda_store_free(s);
    assert_int_equal(tda_store_pg_available(), 1);
}

/* ---------------------------------------------------------------- secrets */

static void no_password_in(const char *what, const char *text, const char *password)
{
    if (strstr(text, password))
        fail_msg("%s holds the password: %s", what, text);
}

static void test_the_password_never_reaches_a_detail(void **state)
{
    fixture *f = start(state, NULL);
    /* The right password: everything works, and nothing says it. */
    tda_store *s = tda_store_pg_new(pg.pw_conninfo, EMU_CLIENT_ID, "t_pw");
    assert_non_null(s);
    assert_int_equal(tda_store_check(s, "alice", EMU_CLIENT_ID), TDA_OK);
    tda_token t;
    emu_login(&f->e, &t);
    assert_int_equal(tda_store_save(s, "alice", &t), TDA_OK);
    no_password_in("the location", tda_store_location(s, "alice"), pg.password);
    tda_store_free(s);

    /* A wrong one: libpq says why, not what. */
    char wrong[256];
    snprintf(wrong, sizeof wrong, "postgresql://tda_pw:Wrong-Pass-9f3e@/tda?host=%s", pg.dir);
    s = tda_store_pg_new(wrong, EMU_CLIENT_ID, "t_pw");
    assert_non_null(s);
    assert_int_equal(tda_store_check(s, "alice", EMU_CLIENT_ID), TDA_NETWORK);
    const char *why = tda_store_error_detail(s);
    print_message("wrong password: %s\n", why);
    assert_non_null(strstr(why, "password authentication failed"));
    no_password_in("the detail", why, "Wrong-Pass-9f3e");
    tda_client *c = emu_client(&f->e);
    tda_token got;
    assert_int_equal(tda_token_get(c, s, "alice", &got, NULL), TDA_NETWORK);
    no_password_in("the client's detail", tda_client_error_detail(c), "Wrong-Pass-9f3e");
    no_password_in("the location", tda_store_location(s, "alice"), "Wrong-Pass-9f3e");
    tda_store_free(s);

    /* Strings libpq cannot parse (its messages would quote them): withheld. */
    static const char *const unreadable[] = {
        "postgresql://tda_pw:Sekr%7Bt-Pass@[::1/tda",
        "postgresql://tda_pw:Sekr{t-Pass@host:5432/tda?nonsense=1",
        "host=x password=Sekr{t-Pass port",
    };
    for (size_t i = 0; i < sizeof unreadable / sizeof unreadable[0]; i++) {
        s = tda_store_pg_new(unreadable[i], EMU_CLIENT_ID, NULL);
        assert_non_null(s);
        tda_status st = tda_store_check(s, "alice", NULL);
        why = tda_store_error_detail(s);
        print_message("unreadable %zu: %s: %s\n", i, tda_status_name(st), why);
        assert_int_not_equal(st, TDA_OK);
        no_password_in("the detail", why, "Sekr");
        no_password_in("the location", tda_store_location(s, "alice"), "Sekr");
        tda_store_free(s);
    }
    tda_client_free(c);
    tda_token_clear(&t);
}

/* ---------------------------------------------------------------- many at once */

static void test_eight_processes_starting_at_once_make_the_table_once(void **state)
{
    pg_server_sql(&pg, "DROP TABLE IF EXISTS t_race_create");
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[8];
    for (int i = 0; i < 8; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            char byte;
            if (read(go[0], &byte, 1) < 0)
                _exit(3);
            tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, "t_race_create");
            tda_status st = tda_store_check(s, "alice", NULL);
            if (st != TDA_OK)
                fprintf(stderr, "worker %d: %s: %s\n", i, tda_status_name(st),
                        tda_store_error_detail(s));
            tda_store_free(s);
            _exit(st == TDA_OK ? 0 : 1);
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < 8; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static int group_setup(void **state)
{
    pg_server_start(&pg);
    return 0;
}

static int group_teardown(void **state)
{
    pg_server_stop(&pg);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_the_table_is_made_and_a_token_not_due_is_one_read, teardown),
        cmocka_unit_test_teardown(
            test_a_due_token_is_refreshed_once_and_committed_before_it_is_returned, teardown),
        cmocka_unit_test_teardown(test_a_waiter_on_the_row_takes_the_pair_committed_meanwhile,
                                  teardown),
        cmocka_unit_test_teardown(test_a_pair_spent_elsewhere_says_log_in_again_and_keeps_the_row,
                                  teardown),
        cmocka_unit_test_teardown(test_the_lock_wait_ends_on_its_timeout_and_on_a_cancel, teardown),
        cmocka_unit_test_teardown(test_a_lost_refresh_answer_keeps_the_row_then_says_log_in_again,
                                  teardown),
        cmocka_unit_test_teardown(test_a_session_killed_after_the_spend_still_stores_the_new_pair,
                                  teardown),
        cmocka_unit_test_teardown(test_a_server_restarted_after_the_spend_still_stores_the_new_pair,
                                  teardown),
        cmocka_unit_test_teardown(
            test_a_restart_between_calls_costs_nothing_and_a_dead_server_is_transient, teardown),
        cmocka_unit_test_teardown(test_revoke_removes_the_row_once_trakt_confirms, teardown),
        cmocka_unit_test_teardown(test_rows_are_kept_apart_by_client_id, teardown),
        cmocka_unit_test_teardown(test_tables_with_wrong_columns_are_refused_before_any_spend,
                                  teardown),
        cmocka_unit_test_teardown(test_a_corrupt_row_is_explained_left_alone_and_costs_no_request,
                                  teardown),
        cmocka_unit_test_teardown(test_keys_are_values_never_sql, teardown),
        cmocka_unit_test(test_bad_arguments_and_table_names_are_refused),
        cmocka_unit_test_teardown(test_the_password_never_reaches_a_detail, teardown),
        cmocka_unit_test(test_eight_processes_starting_at_once_make_the_table_once),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
