/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's pace against the emulator, read from the emulator's own
 * request log: a 429 with Retry-After to one of 100 flows holds back every
 * flow until it has passed; the cap on requests per second holds for 1,000
 * flows in every one-second window at the server; neither makes a poll early
 * or lets a flow starve (each ends with its token); codes that expire during
 * a pause end EXPIRED at their own end. Renewal's code requests go through
 * the same pace: a 429 with Retry-After to one holds back every other flow's
 * polls, and the cap counts them with the polls.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

#define TOKEN_PATH "/oauth/device/token"
#define MAX_LINES 20000

typedef struct outcome {
    int calls;
    tda_status status;
    int has_token;
} outcome;

typedef struct run {
    emu e;
    char log_path[64];
    tda_client *c;
    tda_multi *m;
    int n;
    tda_code *codes;
    outcome *outcomes;
    emu_logged *lines;
    int line_count;
} run;

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    (void)flow;
    outcome *o = userdata;
    o->calls++;
    o->status = status;
    o->has_token = token->access_token != NULL;
    tda_token_clear(token);
}

/*
 * Starts the emulator with options (NULL-terminated, a log added) and n flows
 * in one engine. The first `renewing` of them are given codes that have
 * already expired here (the emulator still counts them valid) and one
 * renewal: each first asks the code endpoint for a new code, then polls that.
 */
static void start_renewing(run *r, int n, int renewing, int max_rate, int connections,
                           const tda_poll_options *o, const char *const *options)
{
    memset(r, 0, sizeof *r);
    snprintf(r->log_path, sizeof r->log_path, "/tmp/tda-pace-XXXXXX");
    int fd = mkstemp(r->log_path);
    assert_true(fd >= 0);
    close(fd);
    const char *argv[32];
    int argc = 0;
    for (int i = 0; options[i]; i++)
        argv[argc++] = options[i];
    argv[argc++] = "--log";
    argv[argc++] = r->log_path;
    argv[argc] = NULL;
    emu_start_argv(&r->e, argv);
    r->c = emu_client(&r->e);
    r->m = tda_multi_new(r->c);
    assert_non_null(r->m);
    assert_int_equal(tda_multi_set_max_connections(r->m, connections), TDA_OK);
    assert_int_equal(tda_multi_set_max_rate(r->m, max_rate), TDA_OK);
    r->n = n;
    r->codes = calloc((size_t)n, sizeof *r->codes);
    r->outcomes = calloc((size_t)n, sizeof *r->outcomes);
    assert_non_null(r->codes);
    assert_non_null(r->outcomes);
    tda_poll_options renew;
    memset(&renew, 0, sizeof renew);
    if (o)
        renew = *o;
    renew.renewals = 1;
    for (int i = 0; i < n; i++) {
        assert_int_equal(tda_generate_code(r->c, &r->codes[i]), TDA_OK);
        if (i < renewing)
            r->codes[i].issued_at_ms -= r->codes[i].expires_in_ms;
        assert_non_null(
            tda_multi_add(r->m, &r->codes[i], i < renewing ? &renew : o, on_done, &r->outcomes[i]));
    }
}

static void start(run *r, int n, int max_rate, int connections, const tda_poll_options *o,
                  const char *const *options)
{
    start_renewing(r, n, 0, max_rate, connections, o, options);
}

/* Runs every flow to its end, then reads the emulator's log. */
static void finish(run *r, long limit_ms)
{
    int64_t give_up = tda_monotonic_ms() + limit_ms;
    long waits = 0;
    while (tda_multi_flow_count(r->m) > 0) {
        assert_int_equal(tda_multi_wait(r->m, 1000), TDA_OK);
        waits++;
        if (tda_monotonic_ms() > give_up)
            fail_msg("%zu flows still running after %ld ms", tda_multi_flow_count(r->m), limit_ms);
    }
    /* Held-back polls sleep until the pace allows them: a few wake-ups per request, no spin. */
    long requests = emu_get_stats(&r->e).requests;
    if (waits > 10 * requests + 100)
        fail_msg("%ld waits for %ld requests: the engine spun", waits, requests);
    for (int i = 0; i < r->n; i++) {
        if (r->outcomes[i].calls != 1 || r->outcomes[i].status != TDA_OK ||
            !r->outcomes[i].has_token)
            fail_msg("flow %d ended %d times, last with %s", i, r->outcomes[i].calls,
                     tda_status_name(r->outcomes[i].status));
    }
    emu_stats s = emu_get_stats(&r->e);
    assert_int_equal(s.tokens_issued, r->n);
    assert_int_equal(s.early_polls, 0);
    r->lines = calloc(MAX_LINES, sizeof *r->lines);
    assert_non_null(r->lines);
    r->line_count = emu_read_log(r->log_path, NULL, r->lines, MAX_LINES);
}

static void stop(run *r)
{
    tda_multi_free(r->m);
    for (int i = 0; i < r->n; i++)
        tda_code_clear(&r->codes[i]);
    free(r->codes);
    free(r->outcomes);
    free(r->lines);
    tda_client_free(r->c);
    emu_stop(&r->e);
    unlink(r->log_path);
}

/* The arrival of the one 429 the fault plan injected into the polls. */
static long the_429(const run *r)
{
    long at = -1;
    for (int i = 0; i < r->line_count; i++) {
        if (strcmp(r->lines[i].path, TOKEN_PATH) == 0 && strcmp(r->lines[i].status, "429") == 0) {
            assert_int_equal(at, -1); /* exactly one */
            at = r->lines[i].at_ms;
        }
    }
    assert_true(at >= 0);
    return at;
}

/* Polls that arrived in (from, to). */
static int polls_between(const run *r, long from, long to)
{
    int n = 0;
    for (int i = 0; i < r->line_count; i++)
        if (strcmp(r->lines[i].path, TOKEN_PATH) == 0 && r->lines[i].at_ms > from &&
            r->lines[i].at_ms < to)
            n++;
    return n;
}

static const char *const pause_options[] = {
    "--interval", "0.2", "--approve-after-polls", "1", "--code-life", "60",
    /* Each flow polls twice (pending, approved): request 150 comes while half still wait. */
    "--fault", "token:150:429:retry-after=2", NULL};

/*
 * One connection, so that no other request can be on the wire when the 429
 * arrives: then not one poll may reach the emulator for the 2 s it asked for.
 */
static void test_retry_after_to_one_of_100_flows_holds_back_all(void **state)
{
    run r;
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.slow_down_step_ms = 300; /* the faulted flow's own wait is then the Retry-After */
    start(&r, 100, 0, 1, &o, pause_options);
    finish(&r, 60000);
    long t = the_429(&r);
    int during = polls_between(&r, t, t + 2000);
    if (during != 0)
        fail_msg("%d polls reached the emulator within 2 s of the 429 at %ld ms", during, t);
    /* 100 flows, two polls each, and the faulted one once more: 51 came after the 429, and every
     * one of them only once the 2 s had passed. */
    assert_int_equal(polls_between(&r, t, LONG_MAX), 2 * 100 + 1 - 150);
    stop(&r);
}

/*
 * With four connections, up to three polls may already be on their way when
 * the 429 arrives; nothing is sent after it until the 2 s have passed.
 */
static void test_the_pause_holds_over_several_connections(void **state)
{
    run r;
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.slow_down_step_ms = 300;
    start(&r, 100, 0, 4, &o, pause_options);
    finish(&r, 60000);
    long t = the_429(&r);
    int during = polls_between(&r, t, t + 2000);
    if (during > 3)
        fail_msg("%d polls reached the emulator within 2 s of the 429 at %ld ms (at most 3 were "
                 "in flight)",
                 during, t);
    stop(&r);
}

/* No window of one second at the emulator holds more than cap polls. */
static void check_cap(const run *r, int cap)
{
    long *t = calloc(MAX_LINES, sizeof *t);
    assert_non_null(t);
    int n = 0;
    for (int i = 0; i < r->line_count; i++)
        if (strcmp(r->lines[i].path, TOKEN_PATH) == 0)
            t[n++] = r->lines[i].at_ms;
    assert_int_equal(n, 2 * r->n); /* one pending poll and one approved, each */
    int worst = 0;
    for (int i = 0, j = 0; i < n; i++) {
        while (t[i] - t[j] >= 1000) /* the window [t[i] - 999, t[i]] in whole ms */
            j++;
        if (i - j + 1 > worst)
            worst = i - j + 1;
    }
    if (worst > cap)
        fail_msg("%d polls within one second at the emulator, cap %d", worst, cap);
    /* 2,000 polls at 400/s cannot take less than 4 s. */
    assert_true(t[n - 1] - t[0] >= (long)(n / cap - 1) * 1000);
    free(t);
}

static void test_rate_cap_holds_under_1000_flows(void **state)
{
    enum { CAP = 400 };
    run r;
    static const char *const options[] = {
        "--interval", "0.1", "--approve-after-polls", "1", "--code-life", "300", NULL};
    start(&r, 1000, CAP, 4, NULL, options);
    finish(&r, 240000);
    check_cap(&r, CAP);
    stop(&r);
}

/* A pause and the cap together, and a cap set after flows started. */
static void test_cap_and_pause_together(void **state)
{
    enum { CAP = 50 };
    run r;
    static const char *const options[] = {
        "--interval", "0.1",     "--approve-after-polls",      "1", "--code-life",
        "120",        "--fault", "token:20:429:retry-after=1", NULL};
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.slow_down_step_ms = 300;
    start(&r, 60, 0, 4, &o, options);
    assert_int_equal(tda_multi_set_max_rate(r.m, CAP), TDA_OK);
    finish(&r, 120000);
    /* The faulted flow polls a third time, after its slow-down. */
    long t = the_429(&r);
    assert_true(polls_between(&r, t, t + 1000) <= 3);
    long *arrivals = calloc(MAX_LINES, sizeof *arrivals);
    int n = 0;
    for (int i = 0; i < r.line_count; i++)
        if (strcmp(r.lines[i].path, TOKEN_PATH) == 0)
            arrivals[n++] = r.lines[i].at_ms;
    for (int i = 0; i + CAP < n; i++)
        assert_true(arrivals[i + CAP] - arrivals[i] >= 1000);
    free(arrivals);
    stop(&r);
}

/* A pause longer than the codes' life: each flow ends EXPIRED at its code's end, none polls. */
static void expired_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    (void)flow;
    outcome *o = userdata;
    o->calls++;
    o->status = status;
    tda_token_clear(token);
}

static void test_codes_expire_during_a_pause_as_usual(void **state)
{
    char log_path[] = "/tmp/tda-pace-expiry-XXXXXX";
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    close(fd);
    emu e;
    emu_start(&e, "--interval", "0.1", "--code-life", "1", "--log", log_path, "--fault",
              "token:2:429:retry-after=5", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    assert_int_equal(tda_multi_set_max_connections(m, 1), TDA_OK);
    enum { N = 5 };
    tda_code codes[N];
    outcome out[N];
    memset(out, 0, sizeof out);
    int64_t t0 = tda_monotonic_ms();
    for (int i = 0; i < N; i++) {
        assert_int_equal(tda_generate_code(c, &codes[i]), TDA_OK);
        assert_non_null(tda_multi_add(m, &codes[i], NULL, expired_done, &out[i]));
    }
    while (tda_multi_flow_count(m) > 0)
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
    /* They ended with their codes (1 s), not with the pause (5 s). */
    assert_true(tda_monotonic_ms() - t0 < 5000);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].status, TDA_EXPIRED);
    }
    emu_logged lines[64];
    int n = emu_read_log(log_path, NULL, lines, 64);
    long fault_at = -1;
    int after = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(lines[i].path, TOKEN_PATH) != 0)
            continue;
        if (fault_at >= 0)
            after++;
        else if (strcmp(lines[i].status, "429") == 0)
            fault_at = lines[i].at_ms;
    }
    assert_true(fault_at >= 0);
    assert_int_equal(after, 0);
    for (int i = 0; i < N; i++)
        tda_code_clear(&codes[i]);
    tda_multi_free(m);
    tda_client_free(c);
    emu_stop(&e);
    unlink(log_path);
}

#define CODE_PATH "/oauth/device/code"

/*
 * Flow 0's code has expired: its renewal asks for a new code and meets
 * Cloudflare's 429 with Retry-After 2 (code request 11: the test's own ten
 * came first). The limit is the IP's, so the nine other flows, polling
 * pending meanwhile, must send nothing for those 2 s either; one connection,
 * so that no poll was on the wire when the 429 came. The renewal itself asks
 * again only after the 2 s, and every flow still ends with its token.
 */
static void test_retry_after_to_a_renewal_holds_back_the_other_flows(void **state)
{
    enum { N = 10 };
    run r;
    static const char *const options[] = {
        "--interval", "0.1",     "--approve-after-polls",     "20", "--code-life",
        "60",         "--fault", "code:11:429:retry-after=2", NULL};
    start_renewing(&r, N, 1, 0, 1, NULL, options);
    finish(&r, 60000);
    long t = -1, next_code = -1;
    int code_requests = 0;
    for (int i = 0; i < r.line_count; i++) {
        if (strcmp(r.lines[i].path, CODE_PATH) != 0)
            continue;
        code_requests++;
        if (strcmp(r.lines[i].status, "429") == 0) {
            assert_int_equal(t, -1); /* exactly one */
            t = r.lines[i].at_ms;
        } else if (t >= 0 && next_code < 0) {
            next_code = r.lines[i].at_ms;
        }
    }
    assert_int_equal(code_requests, N + 2); /* the test's, the refused renewal, its retry */
    assert_true(t >= 0 && next_code >= 0);
    int during = polls_between(&r, t, t + 2000);
    if (during != 0)
        fail_msg("%d polls of other flows reached the emulator within 2 s of the 429 to a "
                 "renewal at %ld ms",
                 during, t);
    /* The others were still waiting for approval: they polled on once the 2 s had passed. */
    assert_true(polls_between(&r, t + 2000 - 1, LONG_MAX) > 0);
    if (next_code - t < 2000 - 1) /* the log has whole ms */
        fail_msg("the renewal asked again %ld ms after its 429, want 2000", next_code - t);
    assert_int_equal(emu_get_stats(&r.e).codes_issued, N + 1);
    stop(&r);
}

/*
 * The cap counts a renewal's code requests like polls: 30 flows whose codes
 * have expired each ask for a new code (all due at once) and poll it twice,
 * 90 requests under a cap of 20 a second, in every one-second window at the
 * emulator; the test's own 30 code requests before the engine ran are left out.
 */
static void test_the_cap_counts_code_requests_of_renewals(void **state)
{
    enum { N = 30, CAP = 20 };
    run r;
    static const char *const options[] = {
        "--interval", "0.1", "--approve-after-polls", "1", "--code-life", "60", NULL};
    start_renewing(&r, N, N, CAP, 4, NULL, options);
    finish(&r, 60000);
    long t[4 * N];
    int n = 0, skipped = 0;
    for (int i = 0; i < r.line_count && n < 4 * N; i++) {
        int code = strcmp(r.lines[i].path, CODE_PATH) == 0;
        if (code && skipped < N) {
            skipped++; /* the test's own, before the engine ran */
            continue;
        }
        if (code || strcmp(r.lines[i].path, TOKEN_PATH) == 0)
            t[n++] = r.lines[i].at_ms;
    }
    assert_int_equal(n, 3 * N); /* a code request and two polls for each flow */
    int worst = 0;
    for (int i = 0, j = 0; i < n; i++) {
        while (t[i] - t[j] >= 1000)
            j++;
        if (i - j + 1 > worst)
            worst = i - j + 1;
    }
    if (worst > CAP)
        fail_msg("%d requests (code requests and polls) within one second at the emulator, "
                 "cap %d",
                 worst, CAP);
    assert_true(t[n - 1] - t[0] >= (long)(n / CAP - 1) * 1000);
    assert_int_equal(emu_get_stats(&r.e).codes_issued, 2 * N);
    stop(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_after_to_one_of_100_flows_holds_back_all),
        cmocka_unit_test(test_the_pause_holds_over_several_connections),
        cmocka_unit_test(test_rate_cap_holds_under_1000_flows),
        cmocka_unit_test(test_cap_and_pause_together),
        cmocka_unit_test(test_codes_expire_during_a_pause_as_usual),
        cmocka_unit_test(test_retry_after_to_a_renewal_holds_back_the_other_flows),
        cmocka_unit_test(test_the_cap_counts_code_requests_of_renewals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
