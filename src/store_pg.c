/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store: one row per (client id, key) in a table, the token
 * as JSONB in the token file's format (token_json.c), so a pair is one value
 * written at once and access and refresh tokens can never come from two
 * answers. The lock is a transaction holding the row (SELECT ... FOR UPDATE)
 * across the refresh request; the new pair is written and committed before
 * the lifecycle returns it, so a worker on another machine that waited for
 * the row reads the new pair and makes no request. Every value is a bound
 * parameter; the table name, the one thing put into the SQL text, is
 * checked to be a plain identifier and quoted.
 *
 * If the connection is lost after the refresh token was spent (a server
 * restart, a failover, a killed session), the transaction is gone, but the
 * new pair must not be: the store connects again and writes it where the row
 * still holds the pair that was spent (or already holds this one, when the
 * lost COMMIT had in fact landed). No other process can have a working pair
 * from the spent one, so nothing newer is overwritten; a row a login or a
 * revoke changed meanwhile is left alone.
 */
#include <stdio.h>
#include <string.h>

#include "pg_session.h"

/* Any constant: it only has to be the same for everyone creating the table. */
#define CREATE_LOCK_ID "7427190321577162861"

typedef struct pg_store {
    tda__pg_session session;
    char *client_id;
    char table[TDA__PG_TABLE_SQL_MAX + 1]; /* quoted, for SQL and for to_regclass */
    char *where;                           /* the last location text */
    int table_ready;                       /* made or found with the right columns */
    int in_txn;                            /* a lock's transaction is open */
    /* The last row load parsed, as text and parsed (secrets, wiped): an unchanged row, the
       common case of a token that is not due, is compared, not parsed again. */
    char *last_text;
    size_t last_len;
    tda_token last;
    /* The statements, with the table name in them. */
    char *sql_select, *sql_lock, *sql_upsert, *sql_delete, *sql_rewrite, *sql_create;
} pg_store;

typedef struct pg_lock {
    char *key;
    char *found;   /* the row's token as locked (JSON text), NULL: no row; a secret */
    char *spent;   /* the refresh token the lifecycle read under this lock (load_locked) */
    char *saved;   /* the JSON text saved in this transaction, NULL: none; a secret */
    char *fresh;   /* the saved token's refresh token */
    int landed;    /* the save was written outside the transaction (after a lost connection) */
    int lost;      /* the transaction is gone with its connection */
    int cancel_fd; /* the client's, for the statements before the spend */
    long wait_ms;  /* the lock wait it was given, for taking the row again */
} pg_lock;

static const char *location(pg_store *ps, const char *key);

static tda_status no_memory(char *detail, size_t size)
{
    return tda__say(TDA_NO_MEMORY, detail, size, "out of memory");
}

static tda_status connect_io(pg_store *ps, int cancel_fd, char *detail, size_t size)
{
    tda__pg_wait w = tda__pg_wait_io(&ps->session, cancel_fd);
    return tda__pg_connect(&ps->session, &w, detail, size);
}

static tda_status exec_io(pg_store *ps, int cancel_fd, const char *what, const char *sql, int n,
                          const char *const *values, PGresult **res, char *detail, size_t size)
{
    tda__pg_wait w = tda__pg_wait_io(&ps->session, cancel_fd);
    return tda__pg_exec(&ps->session, &w, what, sql, n, values, res, NULL, detail, size);
}

/* ---------------------------------------------------------------- the table */

static const char schema_hint[] =
    "the table must have client_id text, key text, token jsonb and updated_at timestamptz, "
    "all NOT NULL, and PRIMARY KEY (client_id, key): see README, 'many users, many machines'";

/* Why the table's columns will not do, or NULL when they will. */
static const char *judge_columns(const PGresult *r, char *why, size_t size)
{
    static const struct {
        const char *name;
        const char *type;
    } wanted[] = {
        {"client_id", "text"},
        {"key", "text"},
        {"token", "jsonb"},
        {"updated_at", "timestamp with time zone"},
    };
    int found[4] = {0};
    for (int row = 0; row < PQntuples(r); row++) {
        const char *name = PQgetvalue(r, row, 0);
        const char *type = PQgetvalue(r, row, 1);
        int not_null = PQgetvalue(r, row, 2)[0] == 't';
        int has_default = PQgetvalue(r, row, 3)[0] == 't';
        size_t i = 0;
        while (i < 4 && strcmp(name, wanted[i].name) != 0)
            i++;
        if (i == 4) {
            if (not_null && !has_default) {
                snprintf(why, size,
                         "it has a column %.63s that is NOT NULL without a default, "
                         "which this store cannot fill",
                         name);
                return why;
            }
            continue;
        }
        if (strcmp(type, wanted[i].type) != 0) {
            snprintf(why, size, "its column %s is %.63s, not %s", name, type, wanted[i].type);
            return why;
        }
        found[i] = 1;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!found[i]) {
            snprintf(why, size, "it has no column %s (%s)", wanted[i].name, wanted[i].type);
            return why;
        }
    }
    return NULL;
}

static tda_status check_columns(pg_store *ps, int cancel_fd, int *exists, char *detail, size_t size)
{
    *exists = 0;
    const char *const values[] = {ps->table};
    PGresult *r;
    tda_status st = exec_io(ps, cancel_fd, "looking for the token table",
                            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), "
                            "a.attnotnull, a.atthasdef, (SELECT count(*) FROM pg_index i "
                            "WHERE i.indrelid = a.attrelid AND i.indisunique "
                            "AND i.indnkeyatts = 2 AND (SELECT array_agg(b.attname::text "
                            "ORDER BY b.attname::text) FROM pg_attribute b "
                            "WHERE b.attrelid = i.indrelid AND b.attnum = ANY (i.indkey)) "
                            "= ARRAY['client_id', 'key']) FROM pg_attribute a "
                            "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 "
                            "AND NOT a.attisdropped",
                            1, values, &r, detail, size);
    if (st != TDA_OK)
        return st;
    *exists = PQntuples(r) > 0;
    char why[200];
    const char *wrong = *exists ? judge_columns(r, why, sizeof why) : NULL;
    if (!wrong && *exists && strcmp(PQgetvalue(r, 0, 4), "0") == 0)
        wrong = "nothing keeps (client_id, key) unique";
    PQclear(r);
    if (wrong)
        return tda__say(TDA_IO, detail, size,
                        "the PostgreSQL table %s cannot hold tokens: %s; "
                        "%s",
                        ps->table, wrong, schema_hint);
    return TDA_OK;
}

/*
 * The table, made when missing. CREATE TABLE IF NOT EXISTS alone is not safe
 * when many workers start at once (two can both find it missing and one then
 * fails on the catalog's unique index), so the makers take turns under an
 * advisory lock.
 */
static tda_status ensure_table(pg_store *ps, int cancel_fd, char *detail, size_t size)
{
    if (ps->table_ready)
        return TDA_OK;
    int exists;
    tda_status st = check_columns(ps, cancel_fd, &exists, detail, size);
    if (st != TDA_OK || exists) {
        ps->table_ready = st == TDA_OK;
        return st;
    }
    st = exec_io(ps, cancel_fd, "making the token table", "BEGIN", 0, NULL, NULL, detail, size);
    if (st == TDA_OK)
        st = exec_io(ps, cancel_fd, "making the token table",
                     "SELECT pg_advisory_xact_lock(" CREATE_LOCK_ID ")", 0, NULL, NULL, detail,
                     size);
    if (st == TDA_OK)
        st = exec_io(ps, cancel_fd, "making the token table", ps->sql_create, 0, NULL, NULL, detail,
                     size);
    if (st == TDA_OK)
        st = exec_io(ps, cancel_fd, "making the token table", "COMMIT", 0, NULL, NULL, detail,
                     size);
    if (st != TDA_OK) {
        if (ps->session.conn) {
            char ignored[TDA__STORE_DETAIL_SIZE];
            exec_io(ps, -1, "undoing", "ROLLBACK", 0, NULL, NULL, ignored, sizeof ignored);
        }
        size_t at = strlen(detail);
        if (st == TDA_IO) /* refused, not interrupted: someone must make it */
            snprintf(detail + at, size - at,
                     "; the table %s does not exist and could not be "
                     "made: create it as README's 'many users, many machines' shows, or let "
                     "this role create tables",
                     ps->table);
        return st;
    }
    st = check_columns(ps, cancel_fd, &exists, detail, size);
    if (st == TDA_OK && !exists)
        st = tda__say(TDA_IO, detail, size,
                      "the table %s was made but cannot be found: check "
                      "search_path",
                      ps->table);
    ps->table_ready = st == TDA_OK;
    return st;
}

/* Connected, with the table there: what every operation starts with. */
static tda_status ready(pg_store *ps, int cancel_fd, char *detail, size_t size)
{
    tda_status st = connect_io(ps, cancel_fd, detail, size);
    if (st == TDA_OK)
        st = ensure_table(ps, cancel_fd, detail, size);
    return st;
}

/* A failure that a stale connection explains (the server restarted since it was made). */
static int retry_fresh(const pg_store *ps, tda_status st, int was_reused)
{
    return st == TDA_NETWORK && was_reused && !ps->session.conn;
}

/* ---------------------------------------------------------------- reading */

static tda_status parse_row(pg_store *ps, const char *key, const char *text, tda_token *out,
                            char *detail, size_t size)
{
    char why[TDA__STORE_DETAIL_SIZE];
    tda_status st = tda__token_from_json(text, strlen(text), out, why, sizeof why);
    if (st == TDA_NO_MEMORY)
        return no_memory(detail, size);
    if (st != TDA_OK)
        return tda__say(st, detail, size,
                        "the token stored for %s is not valid: %s; log in "
                        "again to replace it",
                        location(ps, key), why);
    return TDA_OK;
}

static tda_status missing(pg_store *ps, const char *key, char *detail, size_t size)
{
    return tda__say(TDA_FILE_MISSING, detail, size, "no token for %s: log in first",
                    location(ps, key));
}

static void forget_last(pg_store *ps)
{
    if (ps->last_text) {
        tda__wipe(ps->last_text, ps->last_len);
        tda__free(ps->last_text);
    }
    ps->last_text = NULL;
    ps->last_len = 0;
    tda_token_clear(&ps->last);
}

static tda_status pg_load(void *self, const char *key, tda_token *out, char *detail, size_t size)
{
    pg_store *ps = self;
    tda_status st = tda__pg_check_key(key, detail, size);
    if (st != TDA_OK)
        return st;
    const char *const values[] = {ps->client_id, key};
    PGresult *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        st = ready(ps, -1, detail, size);
        int was_reused = ps->session.reused;
        if (st == TDA_OK)
            st = exec_io(ps, -1, "reading the token", ps->sql_select, 2, values, &r, detail, size);
        if (!retry_fresh(ps, st, was_reused))
            break;
    }
    if (st != TDA_OK)
        return st;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return missing(ps, key, detail, size);
    }
    char *text = PQgetvalue(r, 0, 0);
    size_t len = (size_t)PQgetlength(r, 0, 0);
    if (ps->last_text && len == ps->last_len && memcmp(text, ps->last_text, len) == 0) {
        st = tda_token_copy(&ps->last, out);
        if (st != TDA_OK)
            st = no_memory(detail, size);
    } else {
        st = parse_row(ps, key, text, out, detail, size);
        forget_last(ps);
        if (st == TDA_OK && (ps->last_text = tda__malloc(len + 1)) != NULL) {
            memcpy(ps->last_text, text, len + 1);
            ps->last_len = len;
            if (tda_token_copy(out, &ps->last) != TDA_OK)
                forget_last(ps); /* only a cache: no memory for it is no failure */
        }
    }
    tda__wipe(text, len);
    PQclear(r);
    return st;
}

/* ---------------------------------------------------------------- the lock */

static void lock_free(pg_lock *l)
{
    if (!l)
        return;
    tda__free(l->key);
    tda__free_secret(l->found);
    tda__free_secret(l->spent);
    tda__free_secret(l->saved);
    tda__free_secret(l->fresh);
    tda__free(l);
}

static void rollback(pg_store *ps)
{
    char ignored[TDA__STORE_DETAIL_SIZE];
    if (ps->in_txn && ps->session.conn &&
        exec_io(ps, -1, "undoing", "ROLLBACK", 0, NULL, NULL, ignored, sizeof ignored) != TDA_OK)
        tda__pg_drop(&ps->session); /* closing undoes it too */
    ps->in_txn = 0;
}

/* BEGIN, the limits of the wait, and the row, locked: one try on the current connection. */
static tda_status lock_row(pg_store *ps, pg_lock *l, const tda_store_wait *wait, char *detail,
                           size_t size)
{
    tda_status st = exec_io(ps, wait->cancel_fd, "starting a transaction", "BEGIN", 0, NULL, NULL,
                            detail, size);
    if (st != TDA_OK)
        return st;
    ps->in_txn = 1;
    /* lock_timeout 0 would mean no limit: the least is 1 ms, which tries once. */
    int64_t left = wait->deadline_ms - tda_monotonic_ms();
    char lock_ms[24], idle_ms[24], check_ms[24];
    snprintf(lock_ms, sizeof lock_ms, "%lld", (long long)(left > 0 ? left : 1));
    snprintf(idle_ms, sizeof idle_ms, "%ld", TDA__PG_IDLE_IN_TXN_MS);
    snprintf(check_ms, sizeof check_ms, "%ld", TDA__PG_CHECK_CLIENT_MS);
    const char *const limits[] = {lock_ms, idle_ms, check_ms};
    int with_check = PQserverVersion(ps->session.conn) >= 140000;
    st = exec_io(ps, wait->cancel_fd, "setting the lock's limits",
                 with_check ? "SELECT set_config('lock_timeout', $1, true), "
                              "set_config('idle_in_transaction_session_timeout', $2, true), "
                              "set_config('client_connection_check_interval', $3, true)"
                            : "SELECT set_config('lock_timeout', $1, true), "
                              "set_config('idle_in_transaction_session_timeout', $2, true)",
                 with_check ? 3 : 2, limits, NULL, detail, size);
    if (st != TDA_OK)
        return st;
    /* The server ends the wait at lock_timeout; our own deadline only catches a silent one. */
    const char *const values[] = {ps->client_id, l->key};
    tda__pg_wait w = {tda_monotonic_ms() + (left > 0 ? left : 0) + ps->session.io_timeout_ms,
                      wait->cancel_fd};
    PGresult *r;
    char sqlstate[6];
    st = tda__pg_exec(&ps->session, &w, "waiting for the token's row lock", ps->sql_lock, 2, values,
                      &r, sqlstate, detail, size);
    if (st == TDA_LOCKED) {
        snprintf(detail, size,
                 "another process has held the lock on %s for longer than the "
                 "lock timeout (PostgreSQL's lock_timeout passed); try again later",
                 location(ps, l->key));
        return st;
    }
    if (st != TDA_OK)
        return st;
    if (PQntuples(r) > 0 && !(l->found = tda__strdup(PQgetvalue(r, 0, 0))))
        st = no_memory(detail, size);
    if (PQntuples(r) > 0) {
        char *text = PQgetvalue(r, 0, 0);
        tda__wipe(text, strlen(text));
    }
    PQclear(r);
    return st;
}

static tda_status pg_lock_op(void *self, const char *key, const tda_store_wait *wait, void **lock,
                             char *detail, size_t size)
{
    pg_store *ps = self;
    *lock = NULL;
    tda_status st = tda__pg_check_key(key, detail, size);
    if (st != TDA_OK)
        return st;
    if (ps->in_txn)
        return tda__say(TDA_INVALID_ARGUMENT, detail, size,
                        "this PostgreSQL store handle "
                        "already holds a lock: use one handle per thread, one lock at a time");
    pg_lock *l = tda__calloc(1, sizeof *l);
    if (!l || !(l->key = tda__strdup(key))) {
        lock_free(l);
        return no_memory(detail, size);
    }
    l->cancel_fd = wait->cancel_fd;
    int64_t span = wait->deadline_ms - tda_monotonic_ms();
    l->wait_ms = span > 0 ? (long)span : 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        st = ready(ps, wait->cancel_fd, detail, size);
        int was_reused = ps->session.reused;
        if (st == TDA_OK)
            st = lock_row(ps, l, wait, detail, size);
        if (st != TDA_OK)
            rollback(ps);
        if (!retry_fresh(ps, st, was_reused))
            break;
        tda__free_secret(l->found);
        l->found = NULL;
    }
    if (st != TDA_OK) {
        lock_free(l);
        return st;
    }
    *lock = l;
    return TDA_OK;
}

/*
 * The second read under one lock is the lifecycle's look after invalid_grant.
 * Under FOR UPDATE the row cannot have changed, but a process whose
 * connection was cut after its refresh (a server restart) is writing its new
 * pair again on a new connection (write_again), and that write waits for this
 * very row. So the row is let go and taken again, for up to
 * TDA__PG_REREAD_GRACE_MS: such a write, queued on the row, lands first and is
 * read, instead of a user being told to log in again while the good pair
 * waits behind us. Only this rare path waits; the lock is PostgreSQL's.
 */
/* The row as locked still holds the refresh token that was spent (a row that does not parse:
   no, the caller is told about it). */
static int still_spent(const pg_lock *l)
{
    if (!l->found)
        return 0;
    tda_token t;
    char why[TDA__STORE_DETAIL_SIZE];
    if (tda__token_from_json(l->found, strlen(l->found), &t, why, sizeof why) != TDA_OK)
        return 0;
    int same = strcmp(t.refresh_token, l->spent) == 0;
    tda_token_clear(&t);
    return same;
}

static tda_status take_row_again(pg_store *ps, pg_lock *l, char *detail, size_t size)
{
    int64_t until = tda_monotonic_ms() + TDA__PG_REREAD_GRACE_MS;
    for (;;) {
        rollback(ps);
        tda__free_secret(l->found);
        l->found = NULL;
        tda_store_wait wait = {tda_monotonic_ms() + l->wait_ms, l->cancel_fd};
        tda_status st = connect_io(ps, l->cancel_fd, detail, size);
        if (st == TDA_OK)
            st = lock_row(ps, l, &wait, detail, size);
        if (st != TDA_OK) {
            rollback(ps);
            l->lost = 1;
            return st;
        }
        /* Another pair (or none: a revoke) is an answer; the spent one may still change. */
        if (!still_spent(l) || tda_monotonic_ms() >= until)
            return TDA_OK;
        rollback(ps); /* let a queued write in */
        tda_store_wait nap = {tda_monotonic_ms() + 50, l->cancel_fd};
        if (tda_store_wait_fd(&nap, -1, 0, 50) == TDA_CANCELLED)
            return tda__say(TDA_CANCELLED, detail, size, "cancelled while reading %s again",
                            location(ps, l->key));
    }
}

static tda_status pg_load_locked(void *self, void *lock, tda_token *out, char *detail, size_t size)
{
    pg_store *ps = self;
    pg_lock *l = lock;
    if (l->spent) {
        tda_status st = take_row_again(ps, l, detail, size);
        if (st != TDA_OK)
            return st;
    }
    /* Under FOR UPDATE no one else can change the row: what the lock read is what it holds. */
    if (!l->found)
        return missing(ps, l->key, detail, size);
    tda_status st = parse_row(ps, l->key, l->found, out, detail, size);
    if (st == TDA_OK && !l->spent && !(l->spent = tda__strdup(out->refresh_token))) {
        tda_token_clear(out);
        st = no_memory(detail, size);
    }
    return st;
}

static tda_status pg_prepare(void *self, void *lock, char *detail, size_t size)
{
    pg_store *ps = self;
    pg_lock *l = lock;
    /* The connection the save needs is the one holding the lock: it must still be there. */
    if (!ps->session.conn || PQstatus(ps->session.conn) != CONNECTION_OK) {
        l->lost = 1;
        return tda__say(TDA_NETWORK, detail, size,
                        "the connection to PostgreSQL was lost while "
                        "holding the lock on %s",
                        location(ps, l->key));
    }
    return TDA_OK;
}

/* ---------------------------------------------------------------- writing */

/*
 * After the connection was lost with a spent refresh token: a new connection,
 * and the new pair written where the row still holds the spent pair or
 * already this one; for a login (nothing spent), written as a save would.
 * Tries until TDA__PG_SAVE_RETRY_MS have passed, without the cancel: this pair
 * is the only one.
 */
static tda_status write_again(pg_store *ps, pg_lock *l, char *detail, size_t size)
{
    ps->in_txn = 0;
    l->lost = 1;
    int64_t give_up = tda_monotonic_ms() + TDA__PG_SAVE_RETRY_MS;
    long pause_ms = 10;
    char why[TDA__STORE_DETAIL_SIZE] = "";
    for (;;) {
        tda_status st = connect_io(ps, -1, why, sizeof why);
        if (st == TDA_OK && l->spent) {
            const char *const values[] = {ps->client_id, l->key, l->saved, l->spent, l->fresh};
            PGresult *r;
            st = exec_io(ps, -1, "saving the new pair again", ps->sql_rewrite, 5, values, &r, why,
                         sizeof why);
            if (st == TDA_OK) {
                int rows = PQntuples(r);
                PQclear(r);
                if (rows == 1) {
                    l->landed = 1;
                    return TDA_OK;
                }
                return tda__say(TDA_IO, detail, size,
                                "the connection to PostgreSQL was lost "
                                "after the refresh; on a new one, %s no longer held the pair "
                                "that was spent (a login or a revoke changed it meanwhile), so "
                                "the new pair was not written over it",
                                location(ps, l->key));
            }
        } else if (st == TDA_OK) {
            const char *const values[] = {ps->client_id, l->key, l->saved};
            st = exec_io(ps, -1, "saving the token again", ps->sql_upsert, 3, values, NULL, why,
                         sizeof why);
            if (st == TDA_OK) {
                l->landed = 1;
                return TDA_OK;
            }
        }
        int transient = st == TDA_NETWORK || st == TDA_TIMED_OUT || st == TDA_LOCKED;
        if (!transient || tda_monotonic_ms() + pause_ms > give_up)
            return tda__say(st, detail, size,
                            "the connection to PostgreSQL was lost before the "
                            "new pair was committed, and storing it again failed: %s",
                            why);
        tda_store_wait nap = {tda_monotonic_ms() + pause_ms, -1};
        tda_store_wait_fd(&nap, -1, 0, pause_ms);
        /* Short: a waiter that takes the row first while this pair is unwritten reads a
           spent refresh token (see take_row_again). */
        pause_ms = pause_ms < 20 ? pause_ms * 2 : 20;
    }
}

static int connection_gone(const pg_store *ps, tda_status st)
{
    return !ps->session.conn && (st == TDA_NETWORK || st == TDA_TIMED_OUT);
}

static tda_status pg_save(void *self, void *lock, const tda_token *t, char *detail, size_t size)
{
    pg_store *ps = self;
    pg_lock *l = lock;
    if (t->client_id && strcmp(t->client_id, ps->client_id) != 0)
        return tda__say(TDA_WRONG_CLIENT, detail, size,
                        "the token belongs to client id %s, but "
                        "this store keeps the tokens of client id %s",
                        t->client_id, ps->client_id);
    tda_token copy = *t; /* the row's client id, also when the token names none */
    copy.client_id = ps->client_id;
    char *text;
    size_t len;
    tda_status st = tda__token_to_json(&copy, &text, &len);
    if (st != TDA_OK)
        return tda__say(st, detail, size,
                        st == TDA_NO_MEMORY ? "out of memory saving %s"
                                            : "a token with missing fields for "
                                              "%s",
                        location(ps, l->key));
    tda__free_secret(l->saved);
    tda__free_secret(l->fresh);
    l->saved = text;
    l->fresh = tda__strdup(t->refresh_token);
    if (!l->fresh)
        return no_memory(detail, size);
    if (l->lost || !ps->in_txn)
        return write_again(ps, l, detail, size);
    const char *const values[] = {ps->client_id, l->key, l->saved};
    tda__pg_hide(&ps->session, t->access_token);
    tda__pg_hide(&ps->session, t->refresh_token);
    st = exec_io(ps, -1, "saving the token", ps->sql_upsert, 3, values, NULL, detail, size);
    tda__pg_forget_secrets(&ps->session);
    if (connection_gone(ps, st))
        return write_again(ps, l, detail, size);
    return st;
}

static tda_status pg_remove(void *self, void *lock, char *detail, size_t size)
{
    pg_store *ps = self;
    pg_lock *l = lock;
    if (l->lost || !ps->in_txn)
        return tda__say(TDA_NETWORK, detail, size,
                        "the connection to PostgreSQL was lost while "
                        "holding the lock on %s",
                        location(ps, l->key));
    const char *const values[] = {ps->client_id, l->key};
    return exec_io(ps, -1, "removing the token", ps->sql_delete, 2, values, NULL, detail, size);
}

static tda_status pg_unlock(void *self, void *lock, int commit, char *detail, size_t size)
{
    pg_store *ps = self;
    pg_lock *l = lock;
    if (!l)
        return TDA_OK;
    tda_status st = TDA_OK;
    if (!commit) {
        rollback(ps);
    } else if (l->landed) {
        ps->in_txn = 0; /* written on a connection of its own: nothing left to commit */
    } else if (l->lost || !ps->in_txn) {
        st = tda__say(TDA_NETWORK, detail, size,
                      "the connection to PostgreSQL was lost before "
                      "the change to %s was committed",
                      location(ps, l->key));
    } else {
        st = exec_io(ps, -1, "committing", "COMMIT", 0, NULL, NULL, detail, size);
        ps->in_txn = 0;
        /* A COMMIT whose answer was lost may or may not have landed: write_again tells. */
        if (connection_gone(ps, st) && l->saved)
            st = write_again(ps, l, detail, size);
    }
    lock_free(l);
    return st;
}

/* ---------------------------------------------------------------- the rest */

static tda_status pg_check(void *self, const char *key, char *detail, size_t size)
{
    pg_store *ps = self;
    tda_status st = tda__pg_check_key(key, detail, size);
    if (st == TDA_OK)
        st = ready(ps, -1, detail, size);
    if (st == TDA_NETWORK && !ps->session.conn) /* once more: the connection may be stale */
        st = ready(ps, -1, detail, size);
    return st;
}

/* Where the connection goes, without anything secret: database, host, port. */
static void describe_server(const pg_store *ps, char *out, size_t size)
{
    PGconn *c = ps->session.conn;
    if (c) {
        snprintf(out, size, "database %s on %s port %s", PQdb(c), PQhost(c), PQport(c));
        return;
    }
    snprintf(out, size, "the database of the connection string");
    if (ps->session.unreadable)
        return;
    PQconninfoOption *opts = PQconninfoParse(ps->session.conninfo ? ps->session.conninfo : "",
                                             NULL);
    const char *db = NULL, *host = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
            db = o->val;
        else if (strcmp(o->keyword, "host") == 0 && o->val && *o->val)
            host = o->val;
    }
    if (db || host)
        snprintf(out, size, "database %s on %s", db ? db : "(default)",
                 host ? host : "(default host)");
    if (opts) {
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->val)
                tda__wipe(o->val, strlen(o->val));
        PQconninfoFree(opts);
    }
}

static const char *location(pg_store *ps, const char *key)
{
    char server[300];
    describe_server(ps, server, sizeof server);
    char ignored[TDA__STORE_DETAIL_SIZE];
    int key_ok = tda__pg_check_key(key, ignored, sizeof ignored) == TDA_OK;
    size_t len = strlen(ps->table) + strlen(server) + (key_ok ? strlen(key) : 0) + 96;
    char *text = tda__malloc(len);
    if (!text)
        return ps->where ? ps->where : ps->table;
    if (key_ok)
        snprintf(text, len, "key \"%s\" of PostgreSQL table %s (%s)", key, ps->table, server);
    else
        snprintf(text, len, "PostgreSQL table %s (%s)", ps->table, server);
    tda__free(ps->where);
    ps->where = text;
    return text;
}

static const char *pg_location(void *self, const char *key)
{
    return location(self, key);
}

static void pg_destroy(void *self)
{
    pg_store *ps = self;
    if (!ps)
        return;
    tda__pg_session_clear(&ps->session);
    forget_last(ps);
    tda__free(ps->client_id);
    tda__free(ps->where);
    tda__free(ps->sql_select);
    tda__free(ps->sql_lock);
    tda__free(ps->sql_upsert);
    tda__free(ps->sql_delete);
    tda__free(ps->sql_rewrite);
    tda__free(ps->sql_create);
    tda__free(ps);
}

static const tda_store_ops pg_ops = {
    .load = pg_load,
    .lock = pg_lock_op,
    .load_locked = pg_load_locked,
    .prepare = pg_prepare,
    .save = pg_save,
    .remove = pg_remove,
    .unlock = pg_unlock,
    .check = pg_check,
    .location = pg_location,
    .destroy = pg_destroy,
};

/* head, the table's name, tail: the one way the SQL text gets a name from outside. */
static char *statement(const char *head, const char *table, const char *tail)
{
    size_t len = strlen(head) + strlen(table) + strlen(tail) + 1;
    char *sql = tda__malloc(len);
    if (sql)
        snprintf(sql, len, "%s%s%s", head, table, tail);
    return sql;
}

tda_store *tda_store_pg_new(const char *conninfo, const char *client_id, const char *table)
{
    if (!tda__pg_client_id_ok(client_id))
        return NULL;
    pg_store *ps = tda__calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    if (!tda__pg_table_sql(table ? table : TDA__PG_DEFAULT_TABLE, ps->table, sizeof ps->table) ||
        tda__pg_session_init(&ps->session, conninfo) != TDA_OK) {
        tda__free(ps);
        return NULL;
    }
    ps->client_id = tda__strdup(client_id);
#define WHERE_ROW " WHERE client_id = $1 AND key = $2"
    ps->sql_select = statement("SELECT token::text FROM ", ps->table, WHERE_ROW);
    ps->sql_lock = statement("SELECT token::text FROM ", ps->table, WHERE_ROW " FOR UPDATE");
    ps->sql_upsert = statement("INSERT INTO ", ps->table,
                               " (client_id, key, token, updated_at) "
                               "VALUES ($1, $2, $3::jsonb, now()) ON CONFLICT (client_id, key) "
                               "DO UPDATE SET token = EXCLUDED.token, "
                               "updated_at = EXCLUDED.updated_at");
    ps->sql_delete = statement("DELETE FROM ", ps->table, WHERE_ROW);
    ps->sql_rewrite = statement("UPDATE ", ps->table,
                                " SET token = $3::jsonb, updated_at = now()" WHERE_ROW
                                " AND token->>'refresh_token' IN ($4, $5) RETURNING 1");
#undef WHERE_ROW
    ps->sql_create = statement("CREATE TABLE IF NOT EXISTS ", ps->table,
                               " (client_id text NOT NULL, key text NOT NULL, token jsonb NOT "
                               "NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
                               "PRIMARY KEY (client_id, key))");
    tda_store *s = NULL;
    if (ps->client_id && ps->sql_select && ps->sql_lock && ps->sql_upsert && ps->sql_delete &&
        ps->sql_rewrite && ps->sql_create)
        s = tda_store_new(&pg_ops, ps);
    if (!s)
        pg_destroy(ps);
    return s;
}

int tda_store_pg_available(void)
{
    return 1;
}
