/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: tda_token_save survives being killed at any moment. The
 * helper tests/crash_saver (path in $TDA_CRASH_SAVER) saves tokens A and B in
 * turn in a tight loop; this test starts it, waits for its first save to be
 * complete, SIGKILLs it a random 0 to 15 ms later (scaled by $TDA_TEST_SLOW,
 * tests/slow.h, as a save under valgrind takes longer), so inside a later
 * save or between two, and loads the file: it must always load, and hold
 * exactly A or B. Both must have been seen, and some kills must have left a
 * save's temporary file (they struck between its creation and the rename), or
 * the kills missed what they are for.
 * The file is seeded first, so "missing" is never acceptable. Temp files a
 * killed saver leaves behind (<path>.tmp.XXXXXX) are allowed, but must be
 * 0600 and are never what load reads.
 *
 * $TDA_CRASH_RUNS raises the number of runs (never below 300);
 * $TDA_CRASH_SEED replays a run sequence (the seed is printed).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "slow.h"
#include "traktdeviceauth.h"

#define MIN_RUNS 300
#define MAX_DELAY_MS 15

/* Must match crash_token() in tests/crash_saver.c byte for byte. */
#define CRASH_TOKEN_LEN 3000

static tda_token crash_token(int which, char *access, char *refresh)
{
    char letter = which ? 'B' : 'A';
    memset(access, letter, CRASH_TOKEN_LEN);
    memcpy(access, which ? "access-B-" : "access-A-", 9);
    access[CRASH_TOKEN_LEN] = '\0';
    memset(refresh, (char)(letter + 32), CRASH_TOKEN_LEN);
    memcpy(refresh, which ? "refresh-B-" : "refresh-A-", 10);
    refresh[CRASH_TOKEN_LEN] = '\0';
    tda_token t;
    memset(&t, 0, sizeof t);
    t.access_token = access;
    t.refresh_token = refresh;
    t.token_type = (char *)"bearer";
    t.scope = (char *)(which ? "public-B" : "public-A");
    t.client_id = (char *)"crash-client";
    t.created_at = 1700000000 + which;
    t.expires_in = 604800 - which;
    t.expires_at = t.created_at + t.expires_in;
    return t;
}

static int same_token(const tda_token *a, const tda_token *b)
{
    return strcmp(a->access_token, b->access_token) == 0 &&
           strcmp(a->refresh_token, b->refresh_token) == 0 &&
           strcmp(a->token_type, b->token_type) == 0 && strcmp(a->scope, b->scope) == 0 &&
           a->client_id && strcmp(a->client_id, b->client_id) == 0 &&
           a->created_at == b->created_at && a->expires_in == b->expires_in &&
           a->expires_at == b->expires_at;
}

/* xorshift64*: a small PRNG whose sequence a printed seed replays. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static long env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return end && *end == '\0' ? n : fallback;
}

/* Starts the saver on path; returns once its first save is complete (its "r" arrived). */
static pid_t start_saver(const char *saver, const char *path)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        dup2(ready[1], STDOUT_FILENO);
        close(ready[0]);
        close(ready[1]);
        execl(saver, saver, path, (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    char byte = 0;
    ssize_t n;
    while ((n = read(ready[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    close(ready[0]);
    if (n != 1 || byte != 'r') {
        int status = 0;
        waitpid(pid, &status, 0);
        fail_msg("crash_saver did not start (%s, status 0x%x)", saver, (unsigned)status);
    }
    return pid;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Files beside the token file; checks that every leftover temp file is a private regular file. */
static int count_temp_files(const char *dir, const char *base, int *others)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int tmp = 0;
    *others = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0 ||
            strcmp(ent->d_name, base) == 0)
            continue;
        if (strncmp(ent->d_name, prefix, strlen(prefix)) != 0 ||
            strlen(ent->d_name) != strlen(prefix) + 6) {
            (*others)++;
            continue;
        }
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
        struct stat sb;
        assert_int_equal(lstat(p, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sb.st_mode & 07777, 0600);
        tmp++;
    }
    closedir(d);
    return tmp;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* The test's directory, removed by teardown even when an assertion fails. */
static char test_dir[64];

static int teardown(void **state)
{
    if (test_dir[0])
        remove_dir(test_dir);
    test_dir[0] = '\0';
    return 0;
}

static void test_killed_saver_leaves_the_old_or_the_new_token_whole(void **state)
{
    const char *saver = getenv("TDA_CRASH_SAVER");
    if (!saver || !*saver)
        fail_msg("TDA_CRASH_SAVER is not set (ctest sets it)");
    long runs = env_long("TDA_CRASH_RUNS", MIN_RUNS);
    if (runs < MIN_RUNS)
        runs = MIN_RUNS;
    uint64_t seed = (uint64_t)env_long("TDA_CRASH_SEED", 0);
    if (seed == 0)
        seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)0x9e3779b97f4a7c15ULL;
    print_message("crash save: %ld runs, TDA_CRASH_SEED=%llu\n", runs, (unsigned long long)seed);
    uint64_t rng = seed;

    char dir[] = "/tmp/tda-crash-save-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(test_dir, sizeof test_dir, "%s", dir);
    char path[128];
    snprintf(path, sizeof path, "%s/token.json", dir);

    static char access[2][CRASH_TOKEN_LEN + 1], refresh[2][CRASH_TOKEN_LEN + 1];
    const tda_token want[2] = {crash_token(0, access[0], refresh[0]),
                               crash_token(1, access[1], refresh[1])};
    /* A first good file: "missing" is never acceptable, whenever the first kill lands. */
    assert_int_equal(tda_token_save(&want[1], path), TDA_OK);

    long ended[2] = {0, 0};
    long max_delay_us = test_bound_ms(MAX_DELAY_MS) * 1000;
    int64_t t0 = tda_monotonic_ms();
    for (long run = 0; run < runs; run++) {
        long delay_us = (long)(next_random(&rng) % (uint64_t)(max_delay_us + 1));
        pid_t pid = start_saver(saver, path);
        sleep_us(delay_us);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("run %ld: the saver ended by itself (status 0x%x): a save failed", run,
                     (unsigned)status);

        tda_token got;
        tda_status st = tda_token_load(path, "crash-client", &got);
        if (st != TDA_OK)
            fail_msg("run %ld (killed after %ld us): load gave %s", run, delay_us,
                     tda_status_name(st));
        int which = same_token(&got, &want[0]) ? 0 : same_token(&got, &want[1]) ? 1 : -1;
        if (which < 0)
            fail_msg("run %ld (killed after %ld us): the file is neither A nor B (access "
                     "token starts \"%.12s\", %zu bytes)",
                     run, delay_us, got.access_token, strlen(got.access_token));
        ended[which]++;
        tda_token_clear(&got);
        struct stat after;
        assert_int_equal(stat(path, &after), 0);
        assert_int_equal(after.st_mode & 07777, 0600);
    }
    int64_t took = tda_monotonic_ms() - t0;

    int others = 0;
    int temps = count_temp_files(dir, "token.json", &others);
    assert_int_equal(others, 0);
    print_message("crash save: %ld runs in %lld ms; ended with A: %ld, with B: %ld; "
                  "temp files left: %d\n",
                  runs, (long long)took, ended[0], ended[1], temps);
    assert_int_equal(ended[0] + ended[1], runs);
    if (ended[0] == 0 || ended[1] == 0)
        fail_msg("every kill left the same token (A: %ld, B: %ld): no kill came after a save",
                 ended[0], ended[1]);
    /* About 4 in 10 leave one here; 1 in 20 is the least that shows kills inside saves. */
    if (temps < runs / 20)
        fail_msg("only %d of %ld kills struck inside a save (left its temporary file)", temps,
                 runs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_killed_saver_leaves_the_old_or_the_new_token_whole,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
