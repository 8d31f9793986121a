/* SPDX-License-Identifier: Apache-2.0 */
/* bench_token_get: what tda_token_get costs on a valid token (the common case:
 * no lock, no request), against reading and parsing the same file with
 * jansson alone, in the same process, interleaved.
 *
 *   bench_token_get [--calls N] [--rounds R] [--dir DIR]
 *
 * Writes a token file (and one under a key of a directory store) in DIR,
 * stamped as just received so that it is not due, then runs R rounds; each
 * round times N calls of every variant one after the other, so that load and
 * frequency changes hit all of them alike. Prints per-call medians over the
 * rounds and the ratios to both ways of reading with jansson alone (its own
 * json_load_file, and the quicker read(2) + json_loadb), and one key=value
 * line for run scripts. Exit status 3 when the slower store takes more than
 * twice the quicker baseline (the target). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "traktdeviceauth.h"

/* A token as a login would leave it: stamped with this boot's clocks just now. */
static void make_token(tda_token *t)
{
    memset(t, 0, sizeof *t);
    t->access_token = strdup("3c1e1a7ba2b4b8c3a1c2e6f0d9b8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0");
    t->refresh_token = strdup("9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0");
    t->token_type = strdup("bearer");
    t->scope = strdup("public");
    t->client_id = strdup("bench-id");
    t->created_at = (int64_t)time(NULL);
    t->expires_in = 604800;
    t->expires_at = t->created_at + t->expires_in;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->received.wall_s = (int64_t)ts.tv_sec;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    t->received.uptime_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!fp || !fgets(t->received.boot_id, sizeof t->received.boot_id, fp))
        bench_die("cannot read the boot id");
    fclose(fp);
    t->received.boot_id[strcspn(t->received.boot_id, "\n")] = '\0';
}

enum { V_JANSSON, V_JANSSON_BUFFER, V_FILE_STORE, V_DIR_STORE, V_COUNT };
static const char *const names[V_COUNT] = {
    "json_load_file (jansson alone)", "read(2) + json_loadb (jansson alone, buffered)",
    "tda_token_get, file store", "tda_token_get, directory store"};

/* The quickest way to read and parse the file with jansson: one read into a buffer. */
static void read_and_parse(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[8192];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0)
        close(fd);
    json_error_t err;
    json_t *root = n > 0 ? json_loadb(buf, (size_t)n, 0, &err) : NULL;
    if (!root)
        bench_die("read + json_loadb failed");
    json_decref(root);
}

int main(int argc, char **argv)
{
    long calls = bench_arg_long(argc, argv, "--calls", 20000);
    long rounds = bench_arg_long(argc, argv, "--rounds", 15);
    const char *dir_arg = bench_arg(argc, argv, "--dir", NULL);
    char dir[256];
    if (dir_arg) {
        snprintf(dir, sizeof dir, "%s", dir_arg);
    } else {
        snprintf(dir, sizeof dir, "%s/tda-bench-get-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
            bench_die("mkdtemp: %s", strerror(errno));
    }
    char path[320], keys[320];
    snprintf(path, sizeof path, "%s/token.json", dir);
    snprintf(keys, sizeof keys, "%s/tokens", dir);

    tda_token t;
    make_token(&t);
    tda_store *file_store = tda_store_file_new(path);
    tda_store *dir_store = tda_store_dir_new(keys);
    if (!file_store || !dir_store || tda_store_save(file_store, NULL, &t) != TDA_OK ||
        tda_store_save(dir_store, "Alice@example", &t) != TDA_OK)
        bench_die("cannot save the token: %s", tda_store_error_detail(file_store));
    tda_token_clear(&t);
    tda_client *c = tda_client_new("bench-id", NULL);
    if (!c)
        bench_die("tda_client_new failed");

    double *per_call[V_COUNT];
    for (int v = 0; v < V_COUNT; v++)
        per_call[v] = calloc((size_t)rounds, sizeof(double));
    for (long r = 0; r < rounds; r++) {
        for (int v = 0; v < V_COUNT; v++) {
            int64_t t0 = bench_now_ns();
            for (long i = 0; i < calls; i++) {
                if (v == V_JANSSON_BUFFER) {
                    read_and_parse(path);
                } else if (v == V_JANSSON) {
                    json_error_t err;
                    json_t *root = json_load_file(path, 0, &err);
                    if (!root)
                        bench_die("json_load_file: %s", err.text);
                    json_decref(root);
                } else {
                    tda_token got;
                    tda_get_info info;
                    tda_status st = tda_token_get(c, v == V_FILE_STORE ? file_store : dir_store,
                                                  v == V_FILE_STORE ? NULL : "Alice@example", &got,
                                                  &info);
                    if (st != TDA_OK || info.refreshed || info.stale)
                        bench_die("tda_token_get: %s (%s)", tda_status_name(st),
                                  tda_client_error_detail(c));
                    tda_token_clear(&got);
                }
            }
            per_call[v][r] = (double)(bench_now_ns() - t0) / 1000.0 / (double)calls;
        }
    }
    double median[V_COUNT];
    for (int v = 0; v < V_COUNT; v++)
        median[v] = bench_percentile(per_call[v], (size_t)rounds, 50);
    printf("| variant | µs per call (median of %ld rounds of %ld) | × json_load_file | × read + "
           "json_loadb |\n",
           rounds, calls);
    printf("|---|---|---|---|\n");
    for (int v = 0; v < V_COUNT; v++)
        printf("| %s | %.2f | %.2f× | %.2f× |\n", names[v], median[v],
               median[v] / median[V_JANSSON], median[v] / median[V_JANSSON_BUFFER]);
    double worst = median[V_DIR_STORE] > median[V_FILE_STORE] ? median[V_DIR_STORE]
                                                              : median[V_FILE_STORE];
    fprintf(stderr,
            "token_get json_load_file_us=%.3f read_loadb_us=%.3f file_store_us=%.3f "
            "dir_store_us=%.3f worst_ratio=%.3f target=2.0\n",
            median[V_JANSSON], median[V_JANSSON_BUFFER], median[V_FILE_STORE], median[V_DIR_STORE],
            worst / median[V_JANSSON_BUFFER]);

    for (int v = 0; v < V_COUNT; v++)
        free(per_call[v]);
    tda_client_free(c);
    tda_store_free(file_store);
    tda_store_free(dir_store);
    if (!dir_arg) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return worst / median[V_JANSSON_BUFFER] <= 2.0 ? 0 : 3;
}
