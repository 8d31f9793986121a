/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renewal's timing (src/renew.c) on a fake clock: which ends are renewed,
 * when each code request may go out, 429 with and without Retry-After,
 * transient errors, the limit on failures, final answers and the deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "renew_policy.h"

#define SEC 1000

static tda__instant at(int64_t t)
{
    tda__instant i = {t, t};
    return i;
}

/* A flow polling a 600 s code at a 5 s interval, with an optional deadline. */
static tda__policy flow_policy(int64_t timeout_ms)
{
    tda_code code;
    memset(&code, 0, sizeof code);
    code.device_code = (char *)"device";
    code.expires_in_ms = 600 * SEC;
    code.interval_ms = 5 * SEC;
    code.issued_at_ms = 1;
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = timeout_ms;
    tda__policy p;
    tda__policy_init(&p, &code, &o, at(1), 9);
    return p;
}

static void test_only_an_unused_expiry_is_renewed_and_only_as_often_as_allowed(void **state)
{
    tda__renewal r;
    tda__renewal_init(&r, 0, 1);
    assert_false(tda__renewal_wanted(&r, TDA_EXPIRED));
    tda__renewal_init(&r, 2, 1);
    assert_true(tda__renewal_wanted(&r, TDA_EXPIRED));
    assert_true(tda__renewal_wanted(&r, TDA_NETWORK)); /* the life ran out during an outage */
    tda_status never[] = {TDA_OK,        TDA_DENIED,    TDA_ALREADY_USED, TDA_INVALID_DEVICE_CODE,
                          TDA_FORBIDDEN, TDA_CANCELLED, TDA_DEADLINE,     TDA_BAD_RESPONSE};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        assert_false(tda__renewal_wanted(&r, never[i]));
    for (int i = 0; i < 2; i++) {
        tda__renewal_start(&r, 0);
        assert_int_equal(tda__renewal_record(&r, at(10), TDA_OK, -1, 5 * SEC, NULL), 0);
    }
    assert_int_equal(r.fetched, 2);
    assert_false(tda__renewal_wanted(&r, TDA_EXPIRED));
    /* Unlimited stays unlimited. */
    tda__renewal_init(&r, TDA_RENEW_UNLIMITED, 1);
    for (int i = 0; i < 1000; i++) {
        tda__renewal_start(&r, 0);
        tda__renewal_record(&r, at(10), TDA_OK, -1, 5 * SEC, NULL);
    }
    assert_true(tda__renewal_wanted(&r, TDA_EXPIRED));
}

static void test_first_code_request_waits_for_one_interval_after_the_last_request(void **state)
{
    tda__policy p = flow_policy(0);
    tda__renewal r;
    tda__renewal_init(&r, 1, 1);
    tda__renewal_start(&r, 603 * SEC); /* last poll answered at 598 s, interval 5 s */
    tda__action a = tda__renewal_next(&r, &p, at(600 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, 603 * SEC);
    assert_int_equal(tda__renewal_next(&r, &p, at(603 * SEC - 1)).kind, TDA__ACTION_WAIT);
    assert_int_equal(tda__renewal_next(&r, &p, at(603 * SEC)).kind, TDA__ACTION_POLL);
}

static void test_429_with_retry_after_waits_at_least_that_long(void **state)
{
    tda__policy p = flow_policy(0);
    tda__renewal r;
    tda__renewal_init(&r, 1, 1);
    tda__renewal_start(&r, 0);
    tda_event ev;
    /* Cloudflare's edge answered the code endpoint with Retry-After: 143. */
    assert_int_equal(
        tda__renewal_record(&r, at(1000 * SEC), TDA_SLOW_DOWN, 143 * SEC, 5 * SEC, &ev), 0);
    assert_int_equal(ev.kind, TDA_EVENT_RETRY);
    assert_int_equal(ev.status, TDA_SLOW_DOWN);
    assert_int_equal(ev.next_poll_in_ms, 143 * SEC);
    assert_int_equal(ev.expires_in_ms, 0);
    assert_int_equal(tda__renewal_next(&r, &p, at(1143 * SEC - 1)).kind, TDA__ACTION_WAIT);
    assert_int_equal(tda__renewal_next(&r, &p, at(1143 * SEC)).kind, TDA__ACTION_POLL);
}

static void test_429_without_retry_after_and_5xx_back_off_with_jitter_and_a_cap(void **state)
{
    tda_status kinds[] = {TDA_SLOW_DOWN, TDA_OVERLOADED, TDA_NETWORK};
    for (size_t k = 0; k < 3; k++) {
        tda__renewal r;
        tda__renewal_init(&r, 1, 77 + k);
        tda__renewal_start(&r, 0);
        int64_t now = 0;
        int64_t caps[] = {5, 10, 20, 40, 60};
        for (int i = 0; i < 5; i++) {
            tda_event ev;
            assert_int_equal(tda__renewal_record(&r, at(now), kinds[k], -1, 5 * SEC, &ev), 0);
            int64_t wait = r.next_at_ms - now;
            assert_int_equal(ev.next_poll_in_ms, wait);
            assert_true(wait >= 5 * SEC);
            assert_true(wait >= caps[i] * SEC / 2);
            assert_true(wait <= caps[i] * SEC);
            now = r.next_at_ms;
        }
        /* The sixth failure in a row ends renewal with that status. */
        assert_int_equal(tda__renewal_record(&r, at(now), kinds[k], -1, 5 * SEC, NULL), 1);
        assert_int_equal(r.last_status, kinds[k]);
    }
}

static void test_jitter_spreads_devices_that_failed_together(void **state)
{
    int64_t earliest = INT64_MAX, latest = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        tda__renewal r;
        tda__renewal_init(&r, 1, seed);
        tda__renewal_start(&r, 0);
        for (int i = 0; i < 4; i++)
            tda__renewal_record(&r, at(0), TDA_CLOUDFLARE, -1, 5 * SEC, NULL);
        earliest = r.next_at_ms < earliest ? r.next_at_ms : earliest;
        latest = r.next_at_ms > latest ? r.next_at_ms : latest;
    }
    assert_true(latest - earliest >= 5 * SEC);
}

static void test_a_success_resets_the_failure_count(void **state)
{
    tda__renewal r;
    tda__renewal_init(&r, 3, 1);
    tda__renewal_start(&r, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tda__renewal_record(&r, at(0), TDA_SERVER_ERROR, -1, 5 * SEC, NULL), 0);
    assert_int_equal(tda__renewal_record(&r, at(0), TDA_OK, -1, 5 * SEC, NULL), 0);
    assert_false(r.active);
    tda__renewal_start(&r, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tda__renewal_record(&r, at(0), TDA_SERVER_ERROR, -1, 5 * SEC, NULL), 0);
}

static void test_final_answers_end_renewal_at_once(void **state)
{
    tda_status finals[] = {TDA_FORBIDDEN, TDA_UNEXPECTED_STATUS, TDA_BAD_RESPONSE, TDA_TLS,
                           TDA_NO_MEMORY};
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        tda__renewal r;
        tda__renewal_init(&r, 1, 1);
        tda__renewal_start(&r, 0);
        tda_event ev;
        assert_int_equal(tda__renewal_record(&r, at(0), finals[i], -1, 5 * SEC, &ev), 1);
        assert_int_equal(ev.kind, 0);
        assert_int_equal(r.last_status, finals[i]);
    }
}

static void test_the_deadline_bounds_the_renewal_too(void **state)
{
    tda__policy p = flow_policy(700 * SEC); /* deadline at boot time 700 s + 1 ms */
    tda__renewal r;
    tda__renewal_init(&r, 1, 1);
    tda__renewal_start(&r, 0);
    tda__renewal_record(&r, at(650 * SEC), TDA_SLOW_DOWN, 143 * SEC, 5 * SEC, NULL);
    tda__action a = tda__renewal_next(&r, &p, at(650 * SEC));
    assert_int_equal(a.kind, TDA__ACTION_WAIT);
    assert_int_equal(a.until_ms, 700 * SEC + 1);
    a = tda__renewal_next(&r, &p, at(700 * SEC + 1));
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_DEADLINE);
    /* A suspend that carries the boot clock past the deadline ends it on waking. */
    tda__instant woke = {651 * SEC, 800 * SEC};
    a = tda__renewal_next(&r, &p, woke);
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_DEADLINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_an_unused_expiry_is_renewed_and_only_as_often_as_allowed),
        cmocka_unit_test(test_first_code_request_waits_for_one_interval_after_the_last_request),
        cmocka_unit_test(test_429_with_retry_after_waits_at_least_that_long),
        cmocka_unit_test(test_429_without_retry_after_and_5xx_back_off_with_jitter_and_a_cap),
        cmocka_unit_test(test_jitter_spreads_devices_that_failed_together),
        cmocka_unit_test(test_a_success_resets_the_failure_count),
        cmocka_unit_test(test_final_answers_end_renewal_at_once),
        cmocka_unit_test(test_the_deadline_bounds_the_renewal_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
