/* SPDX-License-Identifier: Apache-2.0 */
/* bench_pg_store: the PostgreSQL store against its baselines (bench/pg_store.sh runs it).
 *
 *   bench_pg_store refresh --base-url URL --store pg|dir --where CONNINFO|DIR
 *                          [--keys 1000] [--workers 32]
 *     Logs in --keys accounts at the emulator (not timed), stores each token
 *     aged to its last minute (due), then forks --workers processes at once,
 *     each calling tda_token_get for every key in an order of its own, and
 *     times from the start signal until the last worker is done. Prints one
 *     key=value line: refreshes/s is keys / seconds (the emulator's log says
 *     how many refreshes there really were; the script checks it).
 *
 *   bench_pg_store get --conninfo CONNINFO [--calls 5000] [--rounds 15]
 *     tda_token_get on a valid token (no lock, no request: one SELECT, a
 *     parse, a copy) against a bare libpq SELECT of the same row by the same
 *     key (PQexecParams, the text fetched, nothing parsed), on connections of
 *     their own to the same server, interleaved by round. Measures this
 *     process's CPU (getrusage: user + system) per call, not wall time: the
 *     server's work is the same for both and is not ours. Prints a Markdown
 *     table and a key=value line; exit 3 when the ratio is over 2 (target). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common.h"
#include "traktdeviceauth.h"

#define CLIENT_ID "bench-id"
#define CLIENT_SECRET "bench-secret"

static tda_store *open_store(const char *kind, const char *where)
{
    tda_store *s = strcmp(kind, "pg") == 0 ? tda_store_pg_new(where, CLIENT_ID, NULL)
                                           : tda_store_dir_new(where);
    if (!s)
        bench_die("cannot open the %s store", kind);
    return s;
}

static tda_client *client_for(const char *base_url)
{
    tda_client *c = tda_client_new(CLIENT_ID, CLIENT_SECRET);
    if (!c || tda_client_set_base_url(c, base_url) != TDA_OK)
        bench_die("cannot make a client for %s", base_url);
    return c;
}

static void key_name(long i, char *out, size_t size)
{
    snprintf(out, size, "user-%04ld", i);
}

static void login_all(const char *base_url, tda_store *s, long keys)
{
    tda_client *c = client_for(base_url);
    for (long i = 0; i < keys; i++) {
        tda_code code;
        tda_token t;
        if (tda_generate_code(c, &code) != TDA_OK ||
            tda_poll_for_token(c, &code, NULL, &t) != TDA_OK)
            bench_die("login %ld: %s", i, tda_client_error_detail(c));
        tda_code_clear(&code);
        int64_t by = t.expires_in - 60; /* its last minute: due */
        t.received.uptime_ms -= by * 1000;
        t.received.wall_s -= by;
        char key[32];
        key_name(i, key, sizeof key);
        if (tda_store_save(s, key, &t) != TDA_OK)
            bench_die("saving %s: %s", key, tda_store_error_detail(s));
        tda_token_clear(&t);
    }
    tda_client_free(c);
}

static void worker(const char *base_url, const char *kind, const char *where, long keys, long index,
                   int start_fd)
{
    char go;
    if (read(start_fd, &go, 1) < 0)
        _exit(3);
    tda_client *c = client_for(base_url);
    tda_store *s = open_store(kind, where);
    long *order = malloc((size_t)keys * sizeof *order);
    if (!order)
        _exit(2);
    for (long i = 0; i < keys; i++)
        order[i] = i;
    uint64_t seed = (uint64_t)(index + 1) * UINT64_C(0x9e3779b97f4a7c15);
    for (long i = keys - 1; i > 0; i--) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        long j = (long)(seed % (uint64_t)(i + 1));
        long tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    int failed = 0;
    for (long i = 0; i < keys; i++) {
        char key[32];
        key_name(order[i], key, sizeof key);
        tda_token t;
        tda_get_info info;
        tda_status st = tda_token_get(c, s, key, &t, &info);
        if (st != TDA_OK || info.stale) {
            fprintf(stderr, "worker %ld, %s: %s %s\n", index, key, tda_status_name(st),
                    tda_client_error_detail(c));
            failed = 1;
        }
        tda_token_clear(&t);
    }
    free(order);
    tda_store_free(s);
    tda_client_free(c);
    _exit(failed);
}

static int run_refresh(int argc, char **argv)
{
    const char *base_url = bench_arg(argc, argv, "--base-url", NULL);
    const char *kind = bench_arg(argc, argv, "--store", "pg");
    const char *where = bench_arg(argc, argv, "--where", NULL);
    long keys = bench_arg_long(argc, argv, "--keys", 1000);
    long workers = bench_arg_long(argc, argv, "--workers", 32);
    if (!base_url || !where || (strcmp(kind, "pg") != 0 && strcmp(kind, "dir") != 0))
        bench_die("usage: bench_pg_store refresh --base-url URL --store pg|dir --where W");
    tda_store *s = open_store(kind, where);
    login_all(base_url, s, keys);
    tda_store_free(s);

    int start[2];
    if (pipe(start) != 0)
        bench_die("pipe: %s", strerror(errno));
    pid_t *pids = calloc((size_t)workers, sizeof *pids);
    if (!pids)
        bench_die("out of memory");
    for (long w = 0; w < workers; w++) {
        pids[w] = fork();
        if (pids[w] < 0)
            bench_die("fork: %s", strerror(errno));
        if (pids[w] == 0) {
            close(start[1]);
            worker(base_url, kind, where, keys, w, start[0]);
        }
    }
    close(start[0]);
    usleep(200 * 1000); /* every worker is waiting on the pipe */
    double t0 = bench_now();
    close(start[1]);
    int failed = 0;
    for (long w = 0; w < workers; w++) {
        int status = 0;
        if (waitpid(pids[w], &status, 0) != pids[w] || !WIFEXITED(status) || WEXITSTATUS(status))
            failed++;
    }
    double took = bench_now() - t0;
    free(pids);
    printf("refresh store=%s keys=%ld workers=%ld seconds=%.3f refreshes_per_s=%.1f "
           "failed_workers=%d\n",
           kind, keys, workers, took, (double)keys / took, failed);
    return failed ? 1 : 0;
}

enum { V_BARE, V_GET, V_COUNT };

static int run_get(int argc, char **argv)
{
    const char *conninfo = bench_arg(argc, argv, "--conninfo", NULL);
    long calls = bench_arg_long(argc, argv, "--calls", 5000);
    long rounds = bench_arg_long(argc, argv, "--rounds", 15);
    if (!conninfo)
        bench_die("usage: bench_pg_store get --conninfo C");
    /* A valid token, stamped now: never due during the run. */
    tda_token t;
    memset(&t, 0, sizeof t);
    t.access_token = strdup("3c1e1a7ba2b4b8c3a1c2e6f0d9b8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0");
    t.refresh_token = strdup("9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0");
    t.token_type = strdup("bearer");
    t.scope = strdup("public");
    t.client_id = strdup(CLIENT_ID);
    t.created_at = (int64_t)time(NULL);
    t.expires_in = 604800;
    t.expires_at = t.created_at + t.expires_in;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t.received.wall_s = (int64_t)ts.tv_sec;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    t.received.uptime_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!fp || !fgets(t.received.boot_id, sizeof t.received.boot_id, fp))
        bench_die("cannot read the boot id");
    fclose(fp);
    t.received.boot_id[strcspn(t.received.boot_id, "\n")] = '\0';
    tda_store *s = tda_store_pg_new(conninfo, CLIENT_ID, NULL);
    if (!s || tda_store_save(s, "alice", &t) != TDA_OK)
        bench_die("cannot store the token: %s", s ? tda_store_error_detail(s) : "no store");
    tda_token_clear(&t);
    tda_client *c = tda_client_new(CLIENT_ID, NULL);
    PGconn *bare = PQconnectdb(conninfo);
    if (!c || PQstatus(bare) != CONNECTION_OK)
        bench_die("cannot connect: %s", PQerrorMessage(bare));
    const char *sql = "SELECT token::text FROM \"trakt_tokens\" WHERE client_id = $1 AND key = $2";
    const char *values[] = {CLIENT_ID, "alice"};

    double *per_call[V_COUNT];
    for (int v = 0; v < V_COUNT; v++)
        per_call[v] = calloc((size_t)rounds, sizeof(double));
    for (long r = 0; r < rounds; r++) {
        for (int v = 0; v < V_COUNT; v++) {
            double cpu0 = bench_self_cpu();
            for (long i = 0; i < calls; i++) {
                if (v == V_BARE) {
                    PGresult *res = PQexecParams(bare, sql, 2, NULL, values, NULL, NULL, 0);
                    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
                        !*PQgetvalue(res, 0, 0))
                        bench_die("bare SELECT: %s", PQerrorMessage(bare));
                    PQclear(res);
                } else {
                    tda_token got;
                    tda_get_info info;
                    tda_status st = tda_token_get(c, s, "alice", &got, &info);
                    if (st != TDA_OK || info.refreshed || info.stale)
                        bench_die("tda_token_get: %s (%s)", tda_status_name(st),
                                  tda_client_error_detail(c));
                    tda_token_clear(&got);
                }
            }
            per_call[v][r] = (bench_self_cpu() - cpu0) * 1e6 / (double)calls;
        }
    }
    double median[V_COUNT];
    for (int v = 0; v < V_COUNT; v++)
        median[v] = bench_percentile(per_call[v], (size_t)rounds, 50);
    double ratio = median[V_GET] / median[V_BARE];
    printf("| variant | CPU µs per call (median of %ld rounds of %ld) | × bare SELECT |\n", rounds,
           calls);
    printf("|---|---|---|\n");
    printf("| bare libpq SELECT of the row (PQexecParams) | %.2f | 1.00× |\n", median[V_BARE]);
    printf("| tda_token_get, PostgreSQL store, valid token | %.2f | %.2f× |\n", median[V_GET],
           ratio);
    fprintf(stderr, "pg_get bare_select_cpu_us=%.3f token_get_cpu_us=%.3f ratio=%.3f target=2.0\n",
            median[V_BARE], median[V_GET], ratio);
    for (int v = 0; v < V_COUNT; v++)
        free(per_call[v]);
    PQfinish(bare);
    tda_client_free(c);
    tda_store_free(s);
    return ratio <= 2.0 ? 0 : 3;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "refresh") == 0)
        return run_refresh(argc, argv);
    if (argc > 1 && strcmp(argv[1], "get") == 0)
        return run_get(argc, argv);
    bench_die("usage: bench_pg_store refresh|get ...");
}
