/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store under a fleet, against a server of this program's own
 * (tests/pg_server.c) and the emulator:
 *
 *  - 4 groups of 8 worker processes (a group is a machine: each connects its
 *    own way, a URI, key=value pairs, PG* variables, a password role), 200
 *    keys all due, every worker calling tda_token_get for every key in its
 *    own order: exactly 200 refresh requests at the emulator (its counter
 *    and its log), none refused, every worker gets each key's current token;
 *  - 50 workers SIGKILLed while they hold a row lock (found in
 *    pg_stat_activity as idle in transaction, i.e. between SELECT ... FOR
 *    UPDATE and COMMIT): no row is left locked, every row holds a whole pair,
 *    and every key still has a working refresh token unless the killed
 *    worker's refresh answer was lost (it was holding that key);
 *  - pg_ctl restart in the middle of a run of refreshes: the workers see
 *    transient statuses that name PostgreSQL, never invalid_grant, finish
 *    every key once the server is back, and no pair is lost.
 *
 * Give-up limits go through test_bound_ms (tests/slow.h). Under valgrind
 * (TDA_UNDER_VALGRIND) the same tests run with fewer keys and
 * kills: 32 workers under memcheck on two cores take minutes per pass, and
 * what is checked does not depend on the number of keys.
 */
#include <errno.h>
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
#include "race.h"
#include "slow.h"
#include "traktdeviceauth.h"

#ifndef TDA_UNDER_VALGRIND
#define TDA_UNDER_VALGRIND 0
#endif

#define GROUPS 4
#define PER_GROUP 8
#define WORKERS (GROUPS * PER_GROUP)
#define FLEET_KEYS (TDA_UNDER_VALGRIND ? 40 : 200)
#define KILL_KEYS (TDA_UNDER_VALGRIND ? 20 : 60)
#define KILLS (TDA_UNDER_VALGRIND ? 10 : 50)
#define KILL_WORKERS 8
#define RESTART_KEYS (TDA_UNDER_VALGRIND ? 10 : 40)
#define RESTART_WORKERS 8
#define MAX_KEYS 200

static pg_server pg;
static char root[64]; /* the test's files: emulator log, worker output */

static void key_name(int i, char *out, size_t size)
{
    snprintf(out, size, "user-%03d", i);
}

static void emulator(emu *e, const char *log, const char *token_life)
{
    unlink(log);
    if (token_life)
        emu_start(e, "--interval", "0.01", "--approve-after-polls", "0", "--log", log,
                  "--token-life", token_life, NULL);
    else
        emu_start(e, "--interval", "0.01", "--approve-after-polls", "0", "--log", log, NULL);
}

/* keys logins into table, each aged to its last minute (due) when age is set. */
static void store_logins(const emu *e, const char *table, int keys, int age)
{
    char drop[96];
    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", table);
    pg_server_sql(&pg, drop);
    tda_client *c = emu_client(e);
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, table);
    assert_non_null(s);
    for (int i = 0; i < keys; i++) {
        char key[32];
        key_name(i, key, sizeof key);
        tda_code code;
        tda_token t;
        assert_int_equal(tda_generate_code(c, &code), TDA_OK);
        assert_int_equal(tda_poll_for_token(c, &code, NULL, &t), TDA_OK);
        tda_code_clear(&code);
        if (age) {
            int64_t by = t.expires_in - 60;
            t.received.uptime_ms -= by * 1000;
            t.received.wall_s -= by;
        }
        tda_status st = tda_store_save(s, key, &t);
        if (st != TDA_OK)
            fail_msg("saving %s: %s", key, tda_store_error_detail(s));
        tda_token_clear(&t);
    }
    /* The password role's group works on the table the superuser made. */
    char grant[96];
    snprintf(grant, sizeof grant, "GRANT ALL ON %s TO tda_pw", table);
    pg_server_sql(&pg, grant);
    tda_store_free(s);
    tda_client_free(c);
}

/* A random order of 0..n-1 of a worker's own. */
/*
 * A worker's store: group 0 a URI, 1 key=value pairs, 2 nothing but PG*
 * variables, 3 the password role by URI; app names the session in
 * pg_stat_activity (NULL: the library's own).
 */
static tda_store *worker_store(int group, const char *table, const char *app)
{
    char conninfo[400];
    switch (group) {
    case 0:
        snprintf(conninfo, sizeof conninfo, "%s%s%s", pg.uri, app ? "&application_name=" : "",
                 app ? app : "");
        break;
    case 1:
        snprintf(conninfo, sizeof conninfo, "%s%s%s", pg.conninfo, app ? " application_name=" : "",
                 app ? app : "");
        break;
    case 2:
        setenv("PGHOST", pg.dir, 1);
        setenv("PGPORT", "5432", 1);
        setenv("PGDATABASE", "tda", 1);
        setenv("PGUSER", "tda", 1);
        if (app)
            setenv("PGAPPNAME", app, 1);
        conninfo[0] = '\0';
        break;
    default:
        snprintf(conninfo, sizeof conninfo, "%s%s%s", pg.pw_conninfo,
                 app ? "&application_name=" : "", app ? app : "");
        break;
    }
    return tda_store_pg_new(group == 2 ? NULL : conninfo, EMU_CLIENT_ID, table);
}

static tda_client *worker_client(const emu *e)
{
    tda_client *c = tda_client_new(EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    if (!c || tda_client_set_base_url(c, e->base_url) != TDA_OK)
        _exit(2);
    return c;
}

static void wait_all(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("worker %d ended with status %d", i, status);
    }
}

static tda_token row_token(tda_store *s, const char *key)
{
    tda_token t;
    tda_status st = tda_store_load(s, key, EMU_CLIENT_ID, &t);
    if (st != TDA_OK)
        fail_msg("the row of %s: %s: %s", key, tda_status_name(st), tda_store_error_detail(s));
    return t;
}

static long idle_in_transaction(void)
{
    return pg_server_long(&pg, "SELECT count(*) FROM pg_stat_activity WHERE state LIKE "
                               "'idle in transaction%'");
}

/* Every row can be locked at once by a new session: nothing is left holding one. */
static void assert_no_row_locked(const char *table, int keys)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s FOR UPDATE NOWAIT) x", table);
    assert_int_equal(pg_server_long(&pg, sql), keys);
    assert_int_equal(idle_in_transaction(), 0);
}

/* ---------------------------------------------------------------- 4 x 8 workers, 200 keys */

static void fleet_worker(const emu *e, int index, const char *out_path, int start_fd)
{
    char go;
    if (read(start_fd, &go, 1) < 0) /* EOF when the parent lets everyone go */
        _exit(3);
    FILE *out = fopen(out_path, "w");
    tda_client *c = worker_client(e);
    tda_store *s = worker_store(index / PER_GROUP, "t_fleet", NULL);
    if (!out || !s)
        _exit(2);
    int order[MAX_KEYS];
    race_shuffle(order, FLEET_KEYS, (uint64_t)index + 1);
    for (int i = 0; i < FLEET_KEYS; i++) {
        char key[32];
        key_name(order[i], key, sizeof key);
        tda_token t;
        tda_get_info info;
        tda_status st = tda_token_get(c, s, key, &t, &info);
        race_record(out, order[i], st, &info, &t);
        if (st != TDA_OK)
            fprintf(stderr, "worker %d, %s: %s: %s\n", index, key, tda_status_name(st),
                    tda_client_error_detail(c));
        tda_token_clear(&t);
    }
    fclose(out);
    tda_store_free(s);
    tda_client_free(c);
    _exit(0);
}

static void test_four_groups_of_eight_workers_make_one_refresh_per_key(void **state)
{
    (void)state;
    char log[96];
    snprintf(log, sizeof log, "%s/fleet.log", root);
    emu e;
    emulator(&e, log, NULL);
    store_logins(&e, "t_fleet", FLEET_KEYS, 1);
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, "t_fleet");
    static char old[MAX_KEYS][128];
    for (int i = 0; i < FLEET_KEYS; i++) {
        char key[32];
        key_name(i, key, sizeof key);
        tda_token t = row_token(s, key);
        snprintf(old[i], sizeof old[i], "%s", t.access_token);
        tda_token_clear(&t);
    }
    /* Not held across the fork: no worker shares its connection, and no child's valgrind
     * counts the parent's store as its own leak. */
    tda_store_free(s);

    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t pids[WORKERS];
    char outs[WORKERS][96];
    for (int w = 0; w < WORKERS; w++) {
        snprintf(outs[w], sizeof outs[w], "%s/fleet.%d", root, w);
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(start[1]);
            fleet_worker(&e, w, outs[w], start[0]);
        }
    }
    close(start[0]);
    int64_t t0 = tda_monotonic_ms();
    close(start[1]); /* go */
    wait_all(pids, WORKERS);
    int64_t took = tda_monotonic_ms() - t0;

    s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, "t_fleet");
    static char now[MAX_KEYS][128];
    for (int i = 0; i < FLEET_KEYS; i++) {
        char key[32];
        key_name(i, key, sizeof key);
        tda_token t = row_token(s, key);
        snprintf(now[i], sizeof now[i], "%s", t.access_token);
        assert_string_not_equal(now[i], old[i]);
        tda_token_clear(&t);
    }
    int rotated = race_check(outs, WORKERS, FLEET_KEYS, now, "worker");
    int ok, other;
    emu_count_refreshes(log, &ok, &other);
    long counted = emu_get_stats(&e).refreshes;
    print_message("%d groups x %d workers x %d keys in %lld ms: %d refresh requests answered "
                  "200, %d otherwise (emulator's counter: %ld); %d waiters took a pair another "
                  "worker had committed\n",
                  GROUPS, PER_GROUP, FLEET_KEYS, (long long)took, ok, other, counted, rotated);
    assert_int_equal(ok, FLEET_KEYS);
    assert_int_equal(other, 0);
    assert_int_equal(counted, FLEET_KEYS);
    assert_no_row_locked("t_fleet", FLEET_KEYS);
    tda_store_free(s);
    emu_stop(&e);
}

/* ---------------------------------------------------------------- SIGKILL under the row lock */

/*
 * Tokens live 59 s, less than the minute of margin, so every get finds its
 * token due and refreshes (or takes the pair another worker just committed):
 * a worker holds some row most of its time. Before each get it notes the
 * key, so the test knows which key a killed worker was holding.
 */
static void kill_worker(const emu *e, int slot, int generation, const char *out_path)
{
    char app[32];
    snprintf(app, sizeof app, "w%d", slot);
    FILE *out = fopen(out_path, "w");
    tda_client *c = worker_client(e);
    tda_store *s = worker_store(slot % GROUPS, "t_kill", app);
    if (!out || !s)
        _exit(2);
    setvbuf(out, NULL, _IONBF, 0);
    int order[MAX_KEYS];
    race_shuffle(order, KILL_KEYS, (uint64_t)(slot * 1000 + generation) + 7);
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < KILL_KEYS; i++) {
            char key[32];
            key_name(order[i], key, sizeof key);
            fprintf(out, "> %d\n", order[i]);
            tda_token t;
            tda_get_info info;
            tda_status st = tda_token_get(c, s, key, &t, &info);
            fprintf(out, "= %d %s\n", order[i], tda_status_name(st));
            tda_token_clear(&t);
        }
    }
    _exit(0);
}

/* The key a killed worker's output says it was on; -1: none yet. */
static int last_key(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    char line[128];
    int key = -1;
    while (fgets(line, sizeof line, fp)) {
        int k;
        if (sscanf(line, "> %d", &k) == 1)
            key = k;
    }
    fclose(fp);
    return key;
}

static pid_t spawn_kill_worker(const emu *e, int slot, int generation, char *out, size_t size)
{
    snprintf(out, size, "%s/kill.%d.%d", root, slot, generation);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        kill_worker(e, slot, generation, out);
    return pid;
}

static void test_workers_killed_while_holding_row_locks_lose_no_pair(void **state)
{
    (void)state;
    char log[96];
    snprintf(log, sizeof log, "%s/kill.log", root);
    emu e;
    emulator(&e, log, "59");
    store_logins(&e, "t_kill", KILL_KEYS, 0);

    pid_t pids[KILL_WORKERS];
    int generation[KILL_WORKERS] = {0};
    char out[KILL_WORKERS][96];
    for (int w = 0; w < KILL_WORKERS; w++)
        pids[w] = spawn_kill_worker(&e, w, 0, out[w], sizeof out[w]);
    int held[MAX_KEYS] = {0}; /* keys a worker was killed holding */
    int kills = 0;
    PGconn *watch = pg_server_connect(&pg);
    uint64_t seed = 88172645463325252u;
    int64_t give_up = tda_monotonic_ms() + test_bound_ms(120000);
    while (kills < KILLS) {
        if (tda_monotonic_ms() > give_up)
            fail_msg("only %d kills landed under a row lock", kills);
        /* Sessions between SELECT ... FOR UPDATE and COMMIT: holding a row. */
        PGresult *r = PQexec(watch, "SELECT application_name FROM pg_stat_activity WHERE "
                                    "state = 'idle in transaction' AND application_name "
                                    "LIKE 'w%'");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        int victim = PQntuples(r) > 0 ? atoi(PQgetvalue(r, 0, 0) + 1) : -1;
        PQclear(r);
        if (victim < 0 || victim >= KILL_WORKERS)
            continue;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usleep((useconds_t)(seed % 3000)); /* a random moment of the hold */
        assert_int_equal(kill(pids[victim], SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pids[victim], &status, 0), pids[victim]);
        if (!WIFSIGNALED(status))
            fail_msg("worker %d ended by itself (status %d)", victim, status);
        int key = last_key(out[victim]);
        if (key >= 0)
            held[key] = 1;
        kills++;
        generation[victim]++;
        pids[victim] = spawn_kill_worker(&e, victim, generation[victim], out[victim],
                                         sizeof out[victim]);
    }
    for (int w = 0; w < KILL_WORKERS; w++) {
        kill(pids[w], SIGKILL);
        int status;
        waitpid(pids[w], &status, 0);
        int key = last_key(out[w]);
        if (key >= 0)
            held[key] = 1;
    }
    PQfinish(watch);

    /* No row is left locked: the server let go of every killed session's rows. */
    int64_t t0 = tda_monotonic_ms();
    while (idle_in_transaction() > 0 && tda_monotonic_ms() - t0 < test_bound_ms(10000))
        usleep(10 * 1000);
    assert_no_row_locked("t_kill", KILL_KEYS);
    assert_int_equal(pg_server_long(&pg, "SELECT count(*) FROM t_kill"), KILL_KEYS);

    /*
     * Every row holds a whole pair. The even keys: its refresh token still
     * works, unless a worker was killed holding that key (its answer may have
     * been lost). The odd keys: revoking the stored access token must make
     * the stored refresh token useless, i.e. both are one answer's.
     */
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, "t_kill");
    tda_client *c = emu_client(&e);
    int lost = 0, held_count = 0, valid = 0;
    for (int i = 0; i < KILL_KEYS; i++) {
        held_count += held[i];
        char key[32];
        key_name(i, key, sizeof key);
        tda_token t = row_token(s, key);
        tda_token next;
        if (i % 2 == 0) {
            tda_status st = tda_refresh_token(c, t.refresh_token, &next);
            if (st == TDA_OK) {
                valid++;
                tda_token_clear(&next);
            } else if (st == TDA_INVALID_GRANT && held[i]) {
                lost++;
            } else {
                fail_msg("key %d: its stored refresh token: %s (no worker was killed holding "
                         "it)",
                         i, tda_status_name(st));
            }
        } else {
            assert_int_equal(tda_revoke_token(c, t.access_token), TDA_OK);
            tda_status st = tda_refresh_token(c, t.refresh_token, &next);
            if (st == TDA_OK)
                fail_msg("key %d: the stored access token is not of the stored refresh token's "
                         "answer",
                         i);
            assert_int_equal(st, TDA_INVALID_GRANT);
        }
        tda_token_clear(&t);
    }
    int ok, other;
    emu_count_refreshes(log, &ok, &other);
    print_message("%d workers SIGKILLed holding a row lock (%d keys held at a kill); even keys: "
                  "%d valid, %d lost with a killed worker's answer; %d refreshes answered 200, "
                  "%d refused\n",
                  kills, held_count, valid, lost, ok, other);
    assert_int_equal(kills, KILLS);
    tda_client_free(c);
    tda_store_free(s);
    emu_stop(&e);
}

/* ---------------------------------------------------------------- pg_ctl restart */

/*
 * Each key until it comes back OK and fresh (not a stale fallback), for at
 * most 30 s each; every other outcome is written down with its detail.
 */
static void restart_worker(const emu *e, int index, const char *out_path, int start_fd)
{
    char go;
    if (read(start_fd, &go, 1) < 0)
        _exit(3);
    FILE *out = fopen(out_path, "w");
    tda_client *c = worker_client(e);
    tda_store *s = worker_store(index % GROUPS, "t_restart", NULL);
    if (!out || !s)
        _exit(2);
    int order[MAX_KEYS];
    for (int round = 0; round < 3; round++) {
        race_shuffle(order, RESTART_KEYS, (uint64_t)(index * 10 + round) + 3);
        for (int i = 0; i < RESTART_KEYS; i++) {
            char key[32];
            key_name(order[i], key, sizeof key);
            int64_t until = tda_monotonic_ms() + test_bound_ms(30000);
            for (;;) {
                tda_token t;
                tda_get_info info;
                tda_status st = tda_token_get(c, s, key, &t, &info);
                tda_token_clear(&t);
                if (st == TDA_OK && !info.stale) {
                    fprintf(out, "ok %d\n", order[i]);
                    break;
                }
                tda_status why = st == TDA_OK ? info.refresh_status : st;
                fprintf(out, "%s %d %s | %s\n", st == TDA_OK ? "stale" : "failed", order[i],
                        tda_status_name(why), tda_client_error_detail(c));
                if (tda_monotonic_ms() > until) {
                    fprintf(out, "gave up %d\n", order[i]);
                    _exit(4);
                }
                usleep(20 * 1000);
            }
        }
    }
    fclose(out);
    tda_store_free(s);
    tda_client_free(c);
    _exit(0);
}

static void test_a_server_restart_during_refreshes_is_transient_and_loses_nothing(void **state)
{
    (void)state;
    char log[96];
    snprintf(log, sizeof log, "%s/restart.log", root);
    emu e;
    emulator(&e, log, "59");
    store_logins(&e, "t_restart", RESTART_KEYS, 0);
    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t pids[RESTART_WORKERS];
    char outs[RESTART_WORKERS][96];
    for (int w = 0; w < RESTART_WORKERS; w++) {
        snprintf(outs[w], sizeof outs[w], "%s/restart.%d", root, w);
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(start[1]);
            restart_worker(&e, w, outs[w], start[0]);
        }
    }
    close(start[0]);
    close(start[1]);
    /* Once the run is well under way: a third of a round's refreshes. */
    int64_t t0 = tda_monotonic_ms();
    while (emu_get_stats(&e).refreshes < RESTART_KEYS / 3 &&
           tda_monotonic_ms() - t0 < test_bound_ms(60000))
        usleep(5 * 1000);
    long before = emu_get_stats(&e).refreshes;
    pg_server_restart(&pg);
    long after = emu_get_stats(&e).refreshes;
    wait_all(pids, RESTART_WORKERS);

    int transient = 0;
    for (int w = 0; w < RESTART_WORKERS; w++) {
        FILE *fp = fopen(outs[w], "r");
        assert_non_null(fp);
        char line[1200];
        int oks = 0;
        while (fgets(line, sizeof line, fp)) {
            if (strncmp(line, "ok ", 3) == 0) {
                oks++;
                continue;
            }
            char kind[16], status[32];
            int key;
            assert_int_equal(sscanf(line, "%15s %d %31s", kind, &key, status), 3);
            if (strcmp(status, "NETWORK") != 0 && strcmp(status, "TIMED_OUT") != 0 &&
                strcmp(status, "LOCKED") != 0)
                fail_msg("worker %d: not a transient status: %s", w, line);
            if (!strstr(line, "PostgreSQL"))
                fail_msg("worker %d: the detail does not name PostgreSQL: %s", w, line);
            if (transient++ == 0)
                print_message("the first transient outcome: %s", line);
        }
        fclose(fp);
        assert_int_equal(oks, 3 * RESTART_KEYS);
    }
    int ok, other;
    emu_count_refreshes(log, &ok, &other);
    print_message("pg_ctl restart after %ld refreshes (%ld when it was back): %d transient "
                  "outcomes, then every worker finished its %d keys x 3; %d refreshes answered "
                  "200, %d refused\n",
                  before, after, transient, RESTART_KEYS, ok, other);
    assert_true(transient > 0);
    /*
     * A refused refresh is a worker that locked a row before the pair of one
     * cut off by the restart was written again: it then read that pair
     * (store_pg.c, take_row_again) and no worker was told to log in again
     * (checked above). No pair was lost: every key renews below.
     */
    assert_no_row_locked("t_restart", RESTART_KEYS);
    tda_store *s = tda_store_pg_new(pg.conninfo, EMU_CLIENT_ID, "t_restart");
    tda_client *c = emu_client(&e);
    for (int i = 0; i < RESTART_KEYS; i++) {
        char key[32];
        key_name(i, key, sizeof key);
        tda_token t;
        tda_get_info info;
        tda_status st = tda_token_renew(c, s, key, &t, &info);
        if (st != TDA_OK)
            fail_msg("key %d after the run: %s: %s", i, tda_status_name(st),
                     tda_client_error_detail(c));
        tda_token_clear(&t);
    }
    tda_client_free(c);
    tda_store_free(s);
    emu_stop(&e);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/tda-fleet-XXXXXX");
    assert_non_null(mkdtemp(root));
    pg_server_start(&pg);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_server_stop(&pg);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_groups_of_eight_workers_make_one_refresh_per_key),
        cmocka_unit_test(test_workers_killed_while_holding_row_locks_lose_no_pair),
        cmocka_unit_test(test_a_server_restart_during_refreshes_is_transient_and_loses_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
