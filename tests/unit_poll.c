/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The polling policy on a fake clock: every timing rule of the device flow,
 * checked in microseconds with no network and no sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "poll_policy.h"

#define SEC 1000

/* A moment on the fake clock: both clocks agree unless a test makes the machine sleep. */
static tda__instant at(int64_t t)
{
    tda__instant i = {t, t};
    return i;
}

/* A code as tda_generate_code returns it: issued at t, Trakt's 600 s life and 5 s interval. */
static tda_code make_code(int64_t issued_at, int64_t life_ms, int64_t interval_ms)
{
    tda_code code;
    memset(&code, 0, sizeof code);
    code.device_code = (char *)"device";
    code.expires_in_ms = life_ms;
    code.interval_ms = interval_ms;
    code.issued_at_ms = issued_at;
    return code;
}

static tda__policy start(int64_t now, int64_t life_ms, int64_t interval_ms,
                         const tda_poll_options *o)
{
    tda_code code = make_code(now, life_ms, interval_ms);
    tda__policy p;
    tda__policy_init(&p, &code, o, at(now), 42);
    return p;
}

/* The earliest time at or after `from` when the policy says POLL. */
static int64_t next_poll_time(const tda__policy *p, int64_t from)
{
    tda__action a = tda__policy_next(p, at(from));
    if (a.kind == TDA__ACTION_POLL)
        return from;
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_true(a.until_ms > from);
    /* Asking one millisecond early must still say wait. */
    assert_int_equal(tda__policy_next(p, at(a.until_ms - 1)).kind, TDA__ACTION_WAIT);
    return next_poll_time(p, a.until_ms);
}

static void test_first_poll_waits_one_interval_after_issue(void **state)
{
    tda__policy p = start(1000, 600 * SEC, 5 * SEC, NULL);
    assert_int_equal(next_poll_time(&p, 1000), 1000 + 5 * SEC);
}

static void test_pending_polls_exactly_one_interval_after_the_answer(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    for (int i = 0; i < 5; i++) {
        int64_t answered = t + 250; /* a slow answer: the interval counts from its arrival */
        tda_event ev;
        assert_int_equal(tda__policy_record(&p, at(answered), TDA_PENDING, -1, &ev), 0);
        assert_int_equal(ev.kind, TDA_EVENT_PENDING);
        assert_int_equal(ev.next_poll_in_ms, 5 * SEC);
        assert_int_equal(tda__policy_next(&p, at(answered + 5 * SEC - 1)).kind, TDA__ACTION_WAIT);
        t = next_poll_time(&p, answered);
        assert_int_equal(t, answered + 5 * SEC);
    }
}

static void test_slow_down_adds_five_seconds_for_the_rest_of_the_flow(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda_event ev;
    assert_int_equal(tda__policy_record(&p, at(t), TDA_SLOW_DOWN, -1, &ev), 0);
    assert_int_equal(ev.kind, TDA_EVENT_SLOW_DOWN);
    assert_int_equal(ev.old_interval_ms, 5 * SEC);
    assert_int_equal(ev.interval_ms, 10 * SEC);
    t = next_poll_time(&p, t);
    /* Later pending answers keep the raised interval. */
    for (int i = 0; i < 3; i++) {
        tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
        int64_t next = next_poll_time(&p, t);
        assert_int_equal(next - t, 10 * SEC);
        t = next;
    }
    /* A second 429 raises it again. */
    tda__policy_record(&p, at(t), TDA_SLOW_DOWN, -1, &ev);
    assert_int_equal(ev.interval_ms, 15 * SEC);
}

static void test_slow_down_honours_a_larger_retry_after(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda_event ev;
    tda__policy_record(&p, at(t), TDA_SLOW_DOWN, 30 * SEC, &ev);
    assert_int_equal(ev.interval_ms, 30 * SEC);
    assert_int_equal(next_poll_time(&p, t), t + 30 * SEC);
}

static void test_slow_down_ignores_a_smaller_retry_after(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda_event ev;
    tda__policy_record(&p, at(t), TDA_SLOW_DOWN, 1 * SEC, &ev);
    assert_int_equal(ev.interval_ms, 10 * SEC);
}

static void test_slow_down_step_is_a_setting(void **state)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.slow_down_step_ms = 300;
    tda__policy p = start(0, 10 * SEC, 200, &o);
    int64_t t = next_poll_time(&p, 0);
    tda_event ev;
    tda__policy_record(&p, at(t), TDA_SLOW_DOWN, -1, &ev);
    assert_int_equal(ev.interval_ms, 500);
}

static void test_transient_errors_back_off_exponentially_with_a_cap(void **state)
{
    tda__policy p = start(0, 3600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    int64_t expected_cap[] = {5, 10, 20, 40, 60, 60, 60};
    for (size_t i = 0; i < sizeof expected_cap / sizeof expected_cap[0]; i++) {
        tda_event ev;
        assert_int_equal(tda__policy_record(&p, at(t), TDA_OVERLOADED, -1, &ev), 0);
        assert_int_equal(ev.kind, TDA_EVENT_RETRY);
        int64_t next = next_poll_time(&p, t);
        int64_t delay = next - t;
        int64_t backoff = expected_cap[i] * SEC;
        /* Equal jitter: between half the backoff and all of it, never under the interval. */
        assert_true(delay >= 5 * SEC);
        assert_true(delay >= backoff / 2);
        assert_true(delay <= backoff);
        t = next;
    }
}

static void test_transient_backoff_resets_after_a_pending_answer(void **state)
{
    tda__policy p = start(0, 3600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    for (int i = 0; i < 4; i++) {
        tda__policy_record(&p, at(t), TDA_SERVER_ERROR, -1, NULL);
        t = next_poll_time(&p, t);
    }
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    t = next_poll_time(&p, t);
    tda__policy_record(&p, at(t), TDA_NETWORK, -1, NULL);
    assert_true(next_poll_time(&p, t) - t <= 5 * SEC);
}

static void test_jitter_spreads_clients_that_failed_together(void **state)
{
    /* Many clients with different seeds see the same 4th failure at the same moment. */
    int64_t earliest = INT64_MAX, latest = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        tda_code code = make_code(1, 3600 * SEC, 5 * SEC);
        tda__policy p;
        tda__policy_init(&p, &code, NULL, at(1), seed);
        int64_t t = 0;
        for (int i = 0; i < 4; i++) {
            t = 100 * SEC * (i + 1);
            tda__policy_record(&p, at(t), TDA_CLOUDFLARE, -1, NULL);
        }
        int64_t next = next_poll_time(&p, t);
        earliest = next < earliest ? next : earliest;
        latest = next > latest ? next : latest;
    }
    assert_true(latest - earliest >= 5 * SEC);
}

static void test_transient_error_honours_retry_after(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_OVERLOADED, 30 * SEC, NULL);
    assert_true(next_poll_time(&p, t) - t >= 30 * SEC);
}

static void test_final_statuses_end_the_flow_at_once(void **state)
{
    tda_status finals[] = {
        TDA_DENIED,    TDA_EXPIRED,           TDA_ALREADY_USED, TDA_INVALID_DEVICE_CODE,
        TDA_FORBIDDEN, TDA_UNEXPECTED_STATUS, TDA_BAD_RESPONSE, TDA_NO_MEMORY};
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
        int64_t t = next_poll_time(&p, 0);
        tda_event ev;
        assert_int_equal(tda__policy_record(&p, at(t), finals[i], -1, &ev), 1);
        assert_int_equal(ev.kind, 0);
        tda__action a = tda__policy_next(&p, at(t));
        assert_int_equal(a.kind, TDA__ACTION_DONE);
        assert_int_equal(a.result, finals[i]);
    }
}

static void test_success_ends_the_flow_with_an_event(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda_event ev;
    assert_int_equal(tda__policy_record(&p, at(t), TDA_OK, -1, &ev), 1);
    assert_int_equal(ev.kind, TDA_EVENT_SUCCESS);
    assert_int_equal(ev.next_poll_in_ms, -1);
    tda__action a = tda__policy_next(&p, at(t));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_OK);
}

static void test_code_expires_locally_after_pending_answers(void **state)
{
    tda__policy p = start(0, 12 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    t = next_poll_time(&p, t);
    assert_int_equal(t, 10 * SEC);
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    /* The next poll would be at 15 s, past the 12 s life: wake at 12 s to stop. */
    tda__action a = tda__policy_next(&p, at(t));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, 12 * SEC);
    a = tda__policy_next(&p, at(12 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_expiry_after_transient_errors_reports_the_error(void **state)
{
    tda__policy p = start(0, 12 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_SERVER_ERROR, -1, NULL);
    tda__action a = tda__policy_next(&p, at(12 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_SERVER_ERROR);
}

static void test_missing_life_counts_as_expired(void **state)
{
    tda__policy p = start(0, 0, 5 * SEC, NULL);
    tda__action a = tda__policy_next(&p, at(0));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_missing_or_negative_interval_means_five_seconds(void **state)
{
    int64_t bad[] = {0, -1, -5000};
    for (size_t i = 0; i < 3; i++) {
        tda__policy p = start(0, 600 * SEC, bad[i], NULL);
        assert_int_equal(next_poll_time(&p, 0), 5 * SEC);
        tda__policy_record(&p, at(5 * SEC), TDA_PENDING, -1, NULL);
        assert_int_equal(next_poll_time(&p, 5 * SEC), 10 * SEC);
    }
}

static void test_code_issued_earlier_keeps_its_original_life(void **state)
{
    /*
     * Issued at 0, polling starts at 3 s: the first poll waits one interval
     * from the start (8 s, not 5 s: the program may have polled it just before
     * a restart), and the code still expires at 10 s.
     */
    tda_code code = make_code(1, 10 * SEC, 5 * SEC);
    tda__policy p;
    tda__policy_init(&p, &code, NULL, at(3 * SEC), 7);
    assert_int_equal(next_poll_time(&p, 3 * SEC), 8 * SEC);
    tda__policy_record(&p, at(8 * SEC), TDA_PENDING, -1, NULL);
    tda__action a = tda__policy_next(&p, at(10 * SEC + 1));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_resumed_code_with_too_little_life_left_is_never_polled(void **state)
{
    /* Loaded 6 s into a 10 s life: a poll would be due at 11 s, past the end. */
    tda_code code = make_code(1, 10 * SEC, 5 * SEC);
    tda__policy p;
    tda__policy_init(&p, &code, NULL, at(6 * SEC), 7);
    tda__action a = tda__policy_next(&p, at(6 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, 10 * SEC + 1);
    a = tda__policy_next(&p, at(10 * SEC + 1));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_code_issued_before_this_boot_counts_from_then(void **state)
{
    /* A saved code loaded after a quick reboot: issued 100 s before the boot clock's zero. */
    tda_code code = make_code(-100 * SEC, 600 * SEC, 5 * SEC);
    tda__policy p;
    tda__policy_init(&p, &code, NULL, at(20 * SEC), 7);
    assert_int_equal(next_poll_time(&p, 20 * SEC), 25 * SEC);
    tda_event ev;
    tda__policy_record(&p, at(25 * SEC), TDA_PENDING, -1, &ev);
    assert_int_equal(ev.expires_in_ms, 475 * SEC); /* 600 - 100 - 25 */
    tda__action a = tda__policy_next(&p, at(500 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

/* ---- suspend: the boot clock runs on while the monotonic clock stands still */

static tda__instant slept(int64_t mono, int64_t asleep)
{
    tda__instant i = {mono, mono + asleep};
    return i;
}

static void test_sleeping_past_the_code_life_ends_at_once_without_a_poll(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    /* The lid closes 100 ms later and opens 10 minutes after: monotonic time moved 100 ms. */
    tda__action a = tda__policy_next(&p, slept(t + 100, 600 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
    /* And still so once the poll that was due comes round on the monotonic clock. */
    a = tda__policy_next(&p, slept(t + 5 * SEC, 600 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_a_short_sleep_shortens_the_life_but_never_the_interval(void **state)
{
    tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    /* Asleep 3 minutes right after the answer: no poll until 5 s of monotonic time passed. */
    tda__action a = tda__policy_next(&p, slept(t + 1 * SEC, 180 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, t + 5 * SEC);
    assert_int_equal(tda__policy_next(&p, slept(t + 5 * SEC - 1, 180 * SEC)).kind,
                     TDA__ACTION_WAIT);
    assert_int_equal(tda__policy_next(&p, slept(t + 5 * SEC, 180 * SEC)).kind, TDA__ACTION_POLL);
    /* The life lost those 3 minutes: 600 - 5 - 5 - 180 s are left after the next poll. */
    tda_event ev;
    tda__policy_record(&p, slept(t + 5 * SEC, 180 * SEC), TDA_PENDING, -1, &ev);
    assert_int_equal(ev.expires_in_ms, 410 * SEC);
    /*
     * A 429 asks for 500 s, past the end: the wait ends at the code's end, which
     * on the monotonic clock is 180 s sooner than the code's life says.
     */
    int64_t m = t + 5 * SEC + 1;
    tda__policy_record(&p, slept(m, 180 * SEC), TDA_SLOW_DOWN, 500 * SEC, NULL);
    a = tda__policy_next(&p, slept(m, 180 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, 600 * SEC - 180 * SEC);
    a = tda__policy_next(&p, slept(600 * SEC - 180 * SEC, 180 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_sleeping_past_the_deadline_ends_at_once(void **state)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 60 * SEC;
    tda__policy p = start(0, 600 * SEC, 5 * SEC, &o);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    tda__action a = tda__policy_next(&p, slept(t + 10, 120 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_DEADLINE);
}

static void test_renewal_keeps_the_deadline_and_a_raised_interval(void **state)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 100 * SEC;
    tda__policy p = start(0, 30 * SEC, 5 * SEC, &o);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_SLOW_DOWN, -1, NULL); /* interval 10 s now */
    tda_code fresh = make_code(40 * SEC, 30 * SEC, 5 * SEC);
    tda__policy_renew(&p, &fresh, at(40 * SEC));
    assert_int_equal(p.interval_ms, 10 * SEC);
    assert_int_equal(p.polls, 1);
    assert_int_equal(next_poll_time(&p, 40 * SEC), 50 * SEC);
    tda__policy_record(&p, at(50 * SEC), TDA_PENDING, -1, NULL);
    tda__action a = tda__policy_next(&p, at(70 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED); /* the new code's own life: 40 + 30 s */
    tda_code later = make_code(90 * SEC, 30 * SEC, 5 * SEC);
    tda__policy_renew(&p, &later, at(90 * SEC));
    a = tda__policy_next(&p, at(100 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_DEADLINE); /* the flow's deadline, not the code's */
}

static void test_code_older_than_its_life_is_expired_before_any_poll(void **state)
{
    tda_code code = make_code(1, 10 * SEC, 5 * SEC);
    tda__policy p;
    tda__policy_init(&p, &code, NULL, at(20 * SEC), 7);
    tda__action a = tda__policy_next(&p, at(20 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

static void test_unknown_issue_time_counts_from_the_start_of_polling(void **state)
{
    tda_code code = make_code(0, 10 * SEC, 5 * SEC);
    tda__policy p;
    tda__policy_init(&p, &code, NULL, at(100 * SEC), 7);
    assert_int_equal(next_poll_time(&p, 100 * SEC), 105 * SEC);
}

static void test_caller_deadline_ends_the_wait_at_the_deadline(void **state)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 7 * SEC;
    tda__policy p = start(0, 600 * SEC, 5 * SEC, &o);
    int64_t t = next_poll_time(&p, 0);
    tda__policy_record(&p, at(t), TDA_PENDING, -1, NULL);
    tda__action a = tda__policy_next(&p, at(t));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, 7 * SEC);
    a = tda__policy_next(&p, at(7 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_DEADLINE);
}

static void test_deadline_beyond_the_code_life_reports_expiry(void **state)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 60 * SEC;
    tda__policy p = start(0, 12 * SEC, 5 * SEC, &o);
    tda__action a = tda__policy_next(&p, at(12 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
}

/* xorshift64: the pseudo-random server's choices. */
static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int64_t max_i64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/*
 * A whole flow against a pseudo-random server: random answers, random answer
 * times and random Retry-After values (none, 0, or up to 40 s). The interval in
 * force is computed here from the rules alone, never read back from the
 * policy: it starts at the code's 5 s; each 429 raises it by the 5 s step, or
 * to its Retry-After when that is larger, for the rest of the flow. Then:
 * - after a pending answer the next poll comes exactly one interval later;
 * - after a 429, exactly the raised interval later;
 * - after a transient error, no sooner than the interval and no sooner than
 *   its Retry-After, and no later than the capped backoff (interval doubling
 *   per failure in a row, at most 60 s) or the Retry-After;
 * - never a poll for an expired code, and so at most one poll per 5 s of life.
 */
static void test_no_answer_sequence_makes_a_poll_too_early(void **state)
{
    static const tda_status answers[] = {TDA_PENDING,   TDA_PENDING,      TDA_PENDING,
                                         TDA_SLOW_DOWN, TDA_SERVER_ERROR, TDA_NETWORK,
                                         TDA_TIMED_OUT, TDA_OVERLOADED,   TDA_CLOUDFLARE};
    const int n_answers = (int)(sizeof answers / sizeof answers[0]);
    uint64_t x = 12345;
    long slowdowns_with_retry_after = 0, transients_with_retry_after = 0, total_polls = 0;
    for (int run = 0; run < 500; run++) {
        tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
        int64_t now = 0, interval = 5 * SEC;
        int64_t earliest = 5 * SEC, latest = 5 * SEC; /* the first poll: one interval in */
        int streak = 0, polls = 0;
        for (;;) {
            tda__action a = tda__policy_next(&p, at(now));
            if (a.kind == TDA__ACTION_DONE)
                break;
            if (a.kind == TDA__ACTION_WAIT) {
                assert_true(a.until_ms > now);
                now = a.until_ms;
                continue;
            }
            if (now < earliest || now > latest)
                fail_msg("run %d, poll %d at %lld ms: want it from %lld to %lld ms", run, polls + 1,
                         (long long)now, (long long)earliest, (long long)latest);
            assert_true(now < 600 * SEC); /* never a poll for an expired code */
            polls++;
            now += (int64_t)(next_random(&x) % 3000); /* the answer takes up to 3 s */
            tda_status st = answers[next_random(&x) % (uint64_t)n_answers];
            uint64_t pick = next_random(&x) % 4;
            int64_t retry_after = pick < 2    ? -1
                                  : pick == 2 ? 0
                                              : (int64_t)(next_random(&x) % 40001);
            tda__policy_record(&p, at(now), st, retry_after, NULL);
            if (st == TDA_PENDING) {
                streak = 0;
                earliest = latest = now + interval;
            } else if (st == TDA_SLOW_DOWN) {
                streak = 0;
                interval = max_i64(interval + 5 * SEC, retry_after);
                earliest = latest = now + interval;
                slowdowns_with_retry_after += retry_after > 0;
            } else { /* transient */
                streak++;
                int64_t backoff = interval;
                for (int i = 1; i < streak && backoff < 60 * SEC; i++)
                    backoff *= 2;
                backoff = backoff < 60 * SEC ? backoff : 60 * SEC;
                earliest = now + max_i64(interval, retry_after);
                latest = now + max_i64(max_i64(backoff, interval), retry_after);
                transients_with_retry_after += retry_after > 0;
            }
        }
        assert_true(polls <= 600 / 5);
        total_polls += polls;
    }
    /* The random server did exercise what the rules are about. */
    assert_true(slowdowns_with_retry_after > 100);
    assert_true(transients_with_retry_after > 100);
    assert_true(total_polls > 5000);
}

/* The same with the machine falling asleep at random: never a poll of a dead code, none early. */
static void test_no_sleep_pattern_makes_a_poll_early_or_late_in_life(void **state)
{
    uint64_t x = 777;
    for (int run = 0; run < 200; run++) {
        tda__policy p = start(0, 600 * SEC, 5 * SEC, NULL);
        int64_t mono = 0, asleep = 0, last_answer = -1;
        for (;;) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 5 == 0)
                asleep += (int64_t)(x % (120 * SEC)); /* a suspend of up to 2 minutes */
            tda__instant now = slept(mono, asleep);
            tda__action a = tda__policy_next(&p, now);
            if (a.kind == TDA__ACTION_DONE) {
                assert_int_equal(a.result, TDA_EXPIRED);
                assert_true(now.boot_ms >= 600 * SEC);
                break;
            }
            if (a.kind == TDA__ACTION_WAIT) {
                assert_true(a.until_ms > mono);
                mono = a.until_ms;
                continue;
            }
            assert_true(now.boot_ms < 600 * SEC);
            if (last_answer >= 0)
                assert_true(mono - last_answer >= 5 * SEC);
            mono += (int64_t)(x % 1000);
            last_answer = mono;
            tda__policy_record(&p, slept(mono, asleep), TDA_PENDING, -1, NULL);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_poll_waits_one_interval_after_issue),
        cmocka_unit_test(test_pending_polls_exactly_one_interval_after_the_answer),
        cmocka_unit_test(test_slow_down_adds_five_seconds_for_the_rest_of_the_flow),
        cmocka_unit_test(test_slow_down_honours_a_larger_retry_after),
        cmocka_unit_test(test_slow_down_ignores_a_smaller_retry_after),
        cmocka_unit_test(test_slow_down_step_is_a_setting),
        cmocka_unit_test(test_transient_errors_back_off_exponentially_with_a_cap),
        cmocka_unit_test(test_transient_backoff_resets_after_a_pending_answer),
        cmocka_unit_test(test_jitter_spreads_clients_that_failed_together),
        cmocka_unit_test(test_transient_error_honours_retry_after),
        cmocka_unit_test(test_final_statuses_end_the_flow_at_once),
        cmocka_unit_test(test_success_ends_the_flow_with_an_event),
        cmocka_unit_test(test_code_expires_locally_after_pending_answers),
        cmocka_unit_test(test_expiry_after_transient_errors_reports_the_error),
        cmocka_unit_test(test_missing_life_counts_as_expired),
        cmocka_unit_test(test_missing_or_negative_interval_means_five_seconds),
        cmocka_unit_test(test_code_issued_earlier_keeps_its_original_life),
        cmocka_unit_test(test_resumed_code_with_too_little_life_left_is_never_polled),
        cmocka_unit_test(test_code_issued_before_this_boot_counts_from_then),
        cmocka_unit_test(test_sleeping_past_the_code_life_ends_at_once_without_a_poll),
        cmocka_unit_test(test_a_short_sleep_shortens_the_life_but_never_the_interval),
        cmocka_unit_test(test_sleeping_past_the_deadline_ends_at_once),
        cmocka_unit_test(test_renewal_keeps_the_deadline_and_a_raised_interval),
        cmocka_unit_test(test_code_older_than_its_life_is_expired_before_any_poll),
        cmocka_unit_test(test_unknown_issue_time_counts_from_the_start_of_polling),
        cmocka_unit_test(test_caller_deadline_ends_the_wait_at_the_deadline),
        cmocka_unit_test(test_deadline_beyond_the_code_life_reports_expiry),
        cmocka_unit_test(test_no_answer_sequence_makes_a_poll_too_early),
        cmocka_unit_test(test_no_sleep_pattern_makes_a_poll_early_or_late_in_life),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
