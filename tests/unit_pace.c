/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's pace (src/multi_pace.c) on a fake clock: a pause holds every
 * request until it passes and only grows; the cap allows at most N requests
 * in any one second, each counted from its send until a second after it
 * ended; a cap of 0 is no cap. tests/it_pace.c checks the same at the
 * emulator's end with many flows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "multi_pace.h"

static void test_no_pause_and_no_cap_hold_nothing(void **state)
{
    tda__pace p;
    tda__pace_init(&p);
    assert_int_equal(tda__pace_ready_at(&p, 1000), 1000);
    for (int i = 0; i < 10000; i++)
        tda__pace_sent(&p);
    assert_int_equal(tda__pace_ready_at(&p, 1000), 1000);
    for (int i = 0; i < 10000; i++)
        tda__pace_ended(&p, 1001);
    assert_int_equal(p.in_flight, 0);
    assert_int_equal(tda__pace_ready_at(&p, 1002), 1002);
    tda__pace_clear(&p);
}

static void test_a_pause_holds_until_it_ends_and_only_grows(void **state)
{
    tda__pace p;
    tda__pace_init(&p);
    tda__pace_pause_until(&p, 3000);
    assert_int_equal(tda__pace_ready_at(&p, 1000), 3000);
    assert_int_equal(tda__pace_ready_at(&p, 2999), 3000);
    assert_int_equal(tda__pace_ready_at(&p, 3000), 3000);
    assert_int_equal(tda__pace_ready_at(&p, 4000), 4000);
    tda__pace_pause_until(&p, 2000); /* a shorter wait never shortens the pause */
    assert_int_equal(tda__pace_ready_at(&p, 1000), 3000);
    tda__pace_pause_until(&p, 5000);
    assert_int_equal(tda__pace_ready_at(&p, 1000), 5000);
    tda__pace_clear(&p);
}

static void test_the_cap_counts_requests_in_flight(void **state)
{
    tda__pace p;
    tda__pace_init(&p);
    assert_int_equal(tda__pace_set_rate(&p, 3), TDA_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tda__pace_ready_at(&p, 0), 0);
        tda__pace_sent(&p);
    }
    /* Three in flight: only an answer can make room. */
    assert_int_equal(tda__pace_ready_at(&p, 0), INT64_MAX);
    /* One ends at 100: it still counts until a second after (plus the clock's ms). */
    tda__pace_ended(&p, 100);
    assert_int_equal(tda__pace_ready_at(&p, 100), 1101);
    assert_int_equal(tda__pace_ready_at(&p, 1100), 1101);
    assert_int_equal(tda__pace_ready_at(&p, 1101), 1101);
    tda__pace_clear(&p);
}

static void test_the_cap_allows_n_in_any_second(void **state)
{
    /* Send as fast as the pace allows, with answers 5 ms after each send, for 10 s. */
    enum { CAP = 7, RUN_MS = 10000, LATENCY = 5 };
    tda__pace p;
    tda__pace_init(&p);
    assert_int_equal(tda__pace_set_rate(&p, CAP), TDA_OK);
    int64_t sent[2000];
    int n = 0;
    int64_t answers[2000];
    int pending = 0, next_answer = 0;
    for (int64_t now = 0; now < RUN_MS; now++) {
        while (next_answer < pending && answers[next_answer] <= now)
            tda__pace_ended(&p, answers[next_answer++]);
        while (tda__pace_ready_at(&p, now) <= now && n < 2000) {
            tda__pace_sent(&p);
            sent[n++] = now;
            answers[pending++] = now + LATENCY;
        }
    }
    /* No window of a second holds more than CAP sends (nor, a fortiori, arrivals). */
    for (int i = 0; i + CAP < n; i++)
        assert_true(sent[i + CAP] - sent[i] >= 1000 + LATENCY);
    /* And the cap is a rate, not a stop: it kept sending all along. */
    assert_true(n >= CAP * (RUN_MS / (1000 + LATENCY + 1)));
    tda__pace_clear(&p);
}

static void test_pause_and_cap_together(void **state)
{
    tda__pace p;
    tda__pace_init(&p);
    assert_int_equal(tda__pace_set_rate(&p, 1), TDA_OK);
    tda__pace_sent(&p);
    tda__pace_ended(&p, 500); /* counts until 1501 */
    tda__pace_pause_until(&p, 1000);
    assert_int_equal(tda__pace_ready_at(&p, 600), 1501);
    tda__pace_pause_until(&p, 3000);
    assert_int_equal(tda__pace_ready_at(&p, 600), 3000);
    tda__pace_clear(&p);
}

static void test_changing_the_cap_keeps_the_recent_past(void **state)
{
    tda__pace p;
    tda__pace_init(&p);
    assert_int_equal(tda__pace_set_rate(&p, 4), TDA_OK);
    for (int i = 0; i < 4; i++) {
        tda__pace_sent(&p);
        tda__pace_ended(&p, 10 * i);
    }
    assert_int_equal(tda__pace_ready_at(&p, 40), 1001);  /* the oldest, ended at 0, leaves first */
    assert_int_equal(tda__pace_set_rate(&p, 2), TDA_OK); /* keeps the newest two: 20 and 30 */
    assert_int_equal(tda__pace_ready_at(&p, 40), 1021);
    assert_int_equal(tda__pace_set_rate(&p, 0), TDA_OK); /* off */
    assert_int_equal(tda__pace_ready_at(&p, 40), 40);
    assert_null(p.ended_at);
    /* Requests still in flight when a cap is turned on count against it. */
    tda__pace_sent(&p);
    tda__pace_sent(&p);
    assert_int_equal(tda__pace_set_rate(&p, 2), TDA_OK);
    assert_int_equal(tda__pace_ready_at(&p, 50), INT64_MAX);
    tda__pace_ended(&p, 60);
    tda__pace_ended(&p, 70);
    assert_int_equal(tda__pace_ready_at(&p, 80), 1061);
    tda__pace_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_pause_and_no_cap_hold_nothing),
        cmocka_unit_test(test_a_pause_holds_until_it_ends_and_only_grows),
        cmocka_unit_test(test_the_cap_counts_requests_in_flight),
        cmocka_unit_test(test_the_cap_allows_n_in_any_second),
        cmocka_unit_test(test_pause_and_cap_together),
        cmocka_unit_test(test_changing_the_cap_keeps_the_recent_past),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
