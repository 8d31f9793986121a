/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When a token is due (src/token_age.c), on a fake clock: the elapsed time
 * since it arrived is exact within a boot whatever the wall clock does; across
 * reboots it is the wall clock's when that is plausible, else unknown; old
 * files fall back on Trakt's created_at. Then the properties the lifecycle
 * promises, checked over many simulated calls: a wrong but steady clock
 * costs no early refresh, and a reboot into a wrong clock at most one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define YEAR_S (365LL * 24 * 3600)
#define NOW_2026 1796000000LL /* a wall clock that is right */

static const char *const BOOT_A = "11111111-2222-3333-4444-555555555555";
static const char *const BOOT_B = "66666666-7777-8888-9999-000000000000";
static const char *const HOST = "0123456789abcdef";

static tda_received clock_at(int64_t wall_s, int64_t uptime_ms, const char *boot, const char *host)
{
    tda_received r;
    memset(&r, 0, sizeof r);
    r.wall_s = wall_s;
    r.uptime_ms = uptime_ms;
    snprintf(r.boot_id, sizeof r.boot_id, "%s", boot ? boot : "");
    snprintf(r.host, sizeof r.host, "%s", host ? host : "");
    return r;
}

/* A token with life_s of life that arrived at the given clock reading. */
static tda_token token_received(int64_t life_s, tda_received at)
{
    tda_token t;
    memset(&t, 0, sizeof t);
    t.expires_in = life_s;
    t.created_at = NOW_2026; /* Trakt's clock: right, and unused while a stamp exists */
    t.expires_at = t.created_at + life_s;
    t.received = at;
    return t;
}

static tda_token_age age_at(const tda_token *t, tda_received now)
{
    tda_token_age a;
    tda__token_age_at(t, &now, &a);
    return a;
}

/* ---------------------------------------------------------------- rule 1: the same boot */

static void test_same_boot_measures_uptime_whatever_the_wall_clock_says(void **state)
{
    tda_token t = token_received(7 * 86400, clock_at(NOW_2026, 1000 * SEC, BOOT_A, HOST));
    /* The wall clock now: right, a year ahead, a year behind, 1970, far in the future. */
    const int64_t walls[] = {NOW_2026 + 3600, NOW_2026 + YEAR_S, NOW_2026 - YEAR_S, 30,
                             NOW_2026 * 2};
    for (size_t i = 0; i < sizeof walls / sizeof walls[0]; i++) {
        tda_token_age a = age_at(&t, clock_at(walls[i], 1000 * SEC + HOUR, BOOT_A, HOST));
        assert_true(a.known);
        assert_int_equal(a.elapsed_ms, HOUR);
        assert_int_equal(a.remaining_ms, 7 * DAY - HOUR);
        assert_false(a.due);
        assert_false(a.expired);
    }
}

static void test_due_and_expired_by_elapsed_time(void **state)
{
    /* 7 days: due once less than a tenth (16.8 h) remains, expired at 7 days. */
    tda_token t = token_received(7 * 86400, clock_at(0, 0, BOOT_A, HOST));
    int64_t due_after = 7 * DAY - 7 * DAY / 10;
    assert_false(age_at(&t, clock_at(0, due_after, BOOT_A, HOST)).due);
    assert_true(age_at(&t, clock_at(0, due_after + 1, BOOT_A, HOST)).due);
    assert_false(age_at(&t, clock_at(0, 7 * DAY - 1, BOOT_A, HOST)).expired);
    assert_true(age_at(&t, clock_at(0, 7 * DAY, BOOT_A, HOST)).expired);
    /* 5 minutes: the 60 s floor rules. */
    t = token_received(300, clock_at(0, 0, BOOT_A, HOST));
    assert_false(age_at(&t, clock_at(0, 240 * SEC, BOOT_A, HOST)).due);
    assert_true(age_at(&t, clock_at(0, 240 * SEC + 1, BOOT_A, HOST)).due);
    /* Under a minute of life: always due, not yet expired. */
    t = token_received(50, clock_at(0, 0, BOOT_A, HOST));
    tda_token_age a = age_at(&t, clock_at(0, 0, BOOT_A, HOST));
    assert_true(a.due);
    assert_false(a.expired);
}

static void test_uptime_going_back_in_one_boot_is_unknown(void **state)
{
    tda_token t = token_received(86400, clock_at(NOW_2026, 5000 * SEC, BOOT_A, HOST));
    tda_token_age a = age_at(&t, clock_at(NOW_2026, 4000 * SEC, BOOT_A, HOST));
    assert_false(a.known);
    assert_true(a.due);
    assert_true(a.expired);
}

/* ---------------------------------------------------------------- rule 2: an earlier boot */

static void test_earlier_boot_with_a_steady_wall_clock_uses_it(void **state)
{
    /* A year ahead at arrival and now: the difference is right, and at least the uptime. */
    tda_token t = token_received(7 * 86400, clock_at(NOW_2026 + YEAR_S, 90 * MIN, BOOT_A, HOST));
    tda_token_age a = age_at(&t, clock_at(NOW_2026 + YEAR_S + 2 * 86400, 10 * MIN, BOOT_B, HOST));
    assert_true(a.known);
    assert_int_equal(a.elapsed_ms, 2 * DAY);
    assert_false(a.due);
}

static void test_reboot_into_1970_is_unknown(void **state)
{
    /* It arrived with a right clock; the box rebooted without one. */
    tda_token t = token_received(7 * 86400, clock_at(NOW_2026, HOUR, BOOT_A, HOST));
    tda_token_age a = age_at(&t, clock_at(40, 40 * SEC, BOOT_B, HOST));
    assert_false(a.known);
    assert_true(a.due);
    /* It arrived in 1970 too, and the wall clock has run less than this boot's uptime. */
    t = token_received(7 * 86400, clock_at(100, 100 * SEC, BOOT_A, HOST));
    a = age_at(&t, clock_at(150, 120 * SEC, BOOT_B, HOST));
    assert_false(a.known);
}

/* ---------------------------------------------------------------- rule 3 and 4 */

static void test_another_machine_uses_the_wall_clock_unless_negative(void **state)
{
    tda_token t = token_received(7 * 86400,
                                 clock_at(NOW_2026, 10 * DAY, BOOT_A, "fedcba9876543210"));
    /* This machine has been up for 30 days: no lower bound applies to another's token. */
    tda_token_age a = age_at(&t, clock_at(NOW_2026 + 600, 30 * DAY, BOOT_B, HOST));
    assert_true(a.known);
    assert_int_equal(a.elapsed_ms, 600 * SEC);
    a = age_at(&t, clock_at(NOW_2026 - 600, 30 * DAY, BOOT_B, HOST));
    assert_false(a.known);
    /* A stamp without a host (no machine id there) counts as another machine. */
    t = token_received(7 * 86400, clock_at(NOW_2026, HOUR, BOOT_A, ""));
    a = age_at(&t, clock_at(NOW_2026 + 60, 2 * HOUR, BOOT_B, HOST));
    assert_true(a.known);
    assert_int_equal(a.elapsed_ms, 60 * SEC);
}

static void test_file_without_a_stamp_uses_created_at(void **state)
{
    tda_token t = token_received(7 * 86400, clock_at(0, 0, NULL, NULL));
    t.created_at = NOW_2026 - 86400;
    tda_token_age a = age_at(&t, clock_at(NOW_2026, HOUR, BOOT_A, HOST));
    assert_true(a.known);
    assert_int_equal(a.elapsed_ms, DAY);
    /* With the clock in 1970 an old file is unknown: one refresh, then stamped. */
    a = age_at(&t, clock_at(1000, HOUR, BOOT_A, HOST));
    assert_false(a.known);
    assert_true(a.due);
}

static void test_no_token_or_no_life_is_due(void **state)
{
    tda_token_age a;
    tda_token_age_of(NULL, &a);
    assert_false(a.known);
    assert_true(a.due);
    assert_true(a.expired);
    tda_token t = token_received(0, clock_at(NOW_2026, 0, BOOT_A, HOST));
    tda_received now = clock_at(NOW_2026, 0, BOOT_A, HOST);
    tda__token_age_at(&t, &now, &a);
    assert_true(a.due);
    tda_token_age_of(&t, NULL); /* harmless */
}

static void test_received_now_reads_this_machine(void **state)
{
    tda_received r;
    tda__received_now(&r);
    assert_true(r.wall_s >= (int64_t)time(NULL) - 1 && r.wall_s <= (int64_t)time(NULL) + 1);
    assert_true(r.uptime_ms > 0);
    assert_int_equal(strlen(r.boot_id), 36); /* Linux: a UUID */
    tda_received again;
    tda__received_now(&again);
    assert_string_equal(r.boot_id, again.boot_id);
    assert_string_equal(r.host, again.host);
    assert_true(again.uptime_ms >= r.uptime_ms);
    /* A token stamped now is fresh now. */
    tda_token t = token_received(3600, r);
    tda_token_age a;
    tda_token_age_of(&t, &a);
    assert_true(a.known);
    assert_true(a.elapsed_ms < 5 * SEC);
}

/* ---------------------------------------------------------------- the promises */

/*
 * A simulated device calls get once a minute: a refresh happens when the
 * token is due (the lifecycle's rule), and the new pair is stamped with the
 * clock of that moment. true_s is real time; the device's wall clock is
 * true_s + offset_s, its uptime restarts at each reboot.
 */
typedef struct device {
    int64_t true_s, offset_s, booted_at_s;
    int boot;
    tda_token token;
    int64_t token_true_s; /* real time at which the current token arrived */
    int refreshes, early, late;
} device;

static const char *const boots[] = {BOOT_A, BOOT_B, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                                    "12121212-3434-5656-7878-909090909090"};

static tda_received device_clock(const device *d)
{
    return clock_at(d->true_s + d->offset_s, (d->true_s - d->booted_at_s) * SEC, boots[d->boot % 4],
                    HOST);
}

static void device_call(device *d)
{
    const int64_t life = 7 * 86400, due_after = life - life / 10;
    tda_token_age a = age_at(&d->token, device_clock(d));
    int64_t really = d->true_s - d->token_true_s;
    if (a.due) {
        d->refreshes++;
        if (really < due_after)
            d->early++;
        d->token = token_received(life, device_clock(d));
        d->token_true_s = d->true_s;
    } else if (really >= life) {
        d->late++; /* an expired token would have been used */
    }
}

static device device_new(int64_t offset_s)
{
    device d;
    memset(&d, 0, sizeof d);
    d.true_s = NOW_2026;
    d.booted_at_s = NOW_2026 - 3600;
    d.offset_s = offset_s;
    d.token = token_received(7 * 86400, device_clock(&d));
    d.token_true_s = d.true_s;
    return d;
}

static void test_a_wrong_but_steady_clock_costs_no_early_refresh(void **state)
{
    const int64_t offsets[] = {0, YEAR_S, -YEAR_S, 30 - NOW_2026 /* 1970 */};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        device d = device_new(offsets[i]);
        /* 100 calls a minute apart: no refresh at all. */
        for (int k = 0; k < 100; k++, d.true_s += 60)
            device_call(&d);
        assert_int_equal(d.refreshes, 0);
        /* 30 days of calls, every 10 minutes, with a reboot every 3 days (the offset
           stays: the clock is wrong but steady): each refresh is on time. */
        for (int k = 0; k < 30 * 144; k++, d.true_s += 600) {
            if (k % (3 * 144) == 0 && k) {
                d.boot++;
                d.booted_at_s = d.true_s - 20;
            }
            device_call(&d);
        }
        print_message("offset %+lld s: %d refreshes in 30 days, %d early, %d late\n",
                      (long long)offsets[i], d.refreshes, d.early, d.late);
        assert_int_equal(d.early, 0);
        assert_int_equal(d.late, 0);
        assert_true(d.refreshes >= 4 && d.refreshes <= 5); /* every ~6.3 days */
    }
}

static void test_a_jumping_clock_costs_at_most_one_early_refresh_per_reboot(void **state)
{
    /* A deterministic random walk: calls, wall-clock jumps (NTP), reboots into any clock. */
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int run = 0; run < 200; run++) {
        device d = device_new(0);
        int reboots = 0;
        for (int k = 0; k < 2000; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            unsigned r = (unsigned)(seed % 1000);
            if (r < 5) { /* a reboot; the clock comes up anywhere, or in 1970 */
                d.boot++;
                d.booted_at_s = d.true_s;
                d.true_s += 30;
                d.offset_s = r < 2 ? 30 - d.true_s : (int64_t)(seed % 7) * YEAR_S - 3 * YEAR_S;
                reboots++;
            } else if (r < 15) { /* the wall clock jumps (NTP), forwards or back */
                d.offset_s = (int64_t)((seed >> 8) % 2001) * 86400 - 1000 * 86400;
            }
            d.true_s += 60 + (int64_t)(seed % 3600);
            device_call(&d);
        }
        if (d.early > reboots)
            fail_msg("run %d: %d early refreshes with %d reboots", run, d.early, reboots);
    }
}

static void test_jumps_within_one_boot_cost_nothing(void **state)
{
    device d = device_new(0);
    for (int k = 0; k < 100; k++, d.true_s += 60) {
        if (k == 50)
            d.offset_s = YEAR_S; /* NTP, or a user setting the date, mid-run */
        if (k == 70)
            d.offset_s = 30 - d.true_s; /* and back to 1970 */
        device_call(&d);
    }
    assert_int_equal(d.refreshes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_boot_measures_uptime_whatever_the_wall_clock_says),
        cmocka_unit_test(test_due_and_expired_by_elapsed_time),
        cmocka_unit_test(test_uptime_going_back_in_one_boot_is_unknown),
        cmocka_unit_test(test_earlier_boot_with_a_steady_wall_clock_uses_it),
        cmocka_unit_test(test_reboot_into_1970_is_unknown),
        cmocka_unit_test(test_another_machine_uses_the_wall_clock_unless_negative),
        cmocka_unit_test(test_file_without_a_stamp_uses_created_at),
        cmocka_unit_test(test_no_token_or_no_life_is_due),
        cmocka_unit_test(test_received_now_reads_this_machine),
        cmocka_unit_test(test_a_wrong_but_steady_clock_costs_no_early_refresh),
        cmocka_unit_test(test_a_jumping_clock_costs_at_most_one_early_refresh_per_reboot),
        cmocka_unit_test(test_jumps_within_one_boot_cost_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
