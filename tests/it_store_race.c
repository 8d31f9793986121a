/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Single-use refresh tokens against many processes: 50 keys in one directory
 * store, every token due at once, and 16 processes started together, each
 * calling tda_token_get for every key in its own random order. The emulator's
 * request log must show exactly one refresh per key, all answered 200 (so no
 * invalid_grant: no refresh token was spent twice); every process must get
 * each key's new token, which is the one stored; and exactly one process per
 * key reports that it refreshed.
 */
#include <setjmp.h>
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
#include "race.h"
#include "traktdeviceauth.h"

#define KEYS 50
#define PROCESSES 16

static void key_name(int i, char *out, size_t size)
{
    /* Mixed case and a character to escape, so the names are really escaped. */
    snprintf(out, size, "User-%02d@example", i);
}

/* One process: every key once, in an order of its own; one line per key to out. */
static void run_child(const emu *e, const char *dir, int index, const char *out_path, int start_fd)
{
    char go;
    if (read(start_fd, &go, 1) < 0) /* EOF when the parent lets everyone go */
        _exit(3);
    FILE *out = fopen(out_path, "w");
    tda_client *c = tda_client_new(EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    tda_store *s = tda_store_dir_new(dir);
    if (!out || !c || !s || tda_client_set_base_url(c, e->base_url) != TDA_OK)
        _exit(2);
    int order[KEYS];
    race_shuffle(order, KEYS, (uint64_t)index + 1);
    for (int i = 0; i < KEYS; i++) {
        char key[64];
        key_name(order[i], key, sizeof key);
        tda_token t;
        tda_get_info info;
        tda_status st = tda_token_get(c, s, key, &t, &info);
        race_record(out, order[i], st, &info, &t);
        tda_token_clear(&t);
    }
    fclose(out);
    tda_store_free(s);
    tda_client_free(c);
    _exit(0);
}

static void test_sixteen_processes_fifty_keys_one_refresh_each(void **state)
{
    char root[] = "/tmp/tda-race-XXXXXX";
    assert_non_null(mkdtemp(root));
    char dir[64], log[64];
    snprintf(dir, sizeof dir, "%s/tokens", root);
    snprintf(log, sizeof log, "%s/emulator.log", root);
    emu e;
    emu_start(&e, "--interval", "0.01", "--approve-after-polls", "0", "--log", log, NULL);

    /* 50 logins, each token stored aged to its last minute: all due. */
    tda_client *c = emu_client(&e);
    tda_store *s = tda_store_dir_new(dir);
    static char old[KEYS][128];
    for (int i = 0; i < KEYS; i++) {
        char key[64];
        key_name(i, key, sizeof key);
        tda_code code;
        tda_token t;
        assert_int_equal(tda_generate_code(c, &code), TDA_OK);
        assert_int_equal(tda_poll_for_token(c, &code, NULL, &t), TDA_OK);
        tda_code_clear(&code);
        int64_t by = t.expires_in - 60;
        t.received.uptime_ms -= by * 1000;
        t.received.wall_s -= by;
        assert_int_equal(tda_store_save(s, key, &t), TDA_OK);
        snprintf(old[i], sizeof old[i], "%s", t.access_token);
        tda_token_clear(&t);
    }
    tda_client_free(c);
    /* Not held across the fork: a child's valgrind would count the parent's store as its leak. */
    tda_store_free(s);

    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t pids[PROCESSES];
    char outs[PROCESSES][96];
    for (int p = 0; p < PROCESSES; p++) {
        snprintf(outs[p], sizeof outs[p], "%s/out.%d", root, p);
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            close(start[1]);
            run_child(&e, dir, p, outs[p], start[0]);
        }
    }
    close(start[0]);
    int64_t t0 = tda_monotonic_ms();
    close(start[1]); /* go */
    for (int p = 0; p < PROCESSES; p++) {
        int status = 0;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    int64_t took = tda_monotonic_ms() - t0;

    /* What each key holds now, and what every process got. */
    s = tda_store_dir_new(dir);
    assert_non_null(s);
    static char now[KEYS][128];
    for (int i = 0; i < KEYS; i++) {
        char key[64];
        key_name(i, key, sizeof key);
        tda_token t;
        assert_int_equal(tda_store_load(s, key, EMU_CLIENT_ID, &t), TDA_OK);
        snprintf(now[i], sizeof now[i], "%s", t.access_token);
        assert_string_not_equal(now[i], old[i]);
        tda_token_clear(&t);
    }
    int rotated = race_check(outs, PROCESSES, KEYS, now, "process");
    int ok, other;
    emu_count_refreshes(log, &ok, &other);
    print_message("%d processes x %d keys in %lld ms: %d refresh requests answered 200, %d "
                  "otherwise; %d waiters took a pair rotated by another process\n",
                  PROCESSES, KEYS, (long long)took, ok, other, rotated);
    assert_int_equal(ok, KEYS);
    assert_int_equal(other, 0);
    assert_int_equal(emu_get_stats(&e).refreshes, KEYS);

    tda_store_free(s);
    emu_stop(&e);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sixteen_processes_fifty_keys_one_refresh_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
