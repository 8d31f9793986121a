/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The non-blocking engine against the emulator: many flows in one thread,
 * each ending once with the right status, over a few pooled connections, no
 * early poll, and cancels and deadlines that hit only their own flow.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

#define MAX_FLOWS 64

typedef struct outcome {
    int calls;
    tda_status status;
    int has_token;
    char detail[256];
} outcome;

typedef struct harness {
    tda_client *c;
    tda_multi *m;
    tda_code codes[MAX_FLOWS];
    outcome outcomes[MAX_FLOWS];
    tda_flow *flows[MAX_FLOWS];
    int n;
    int64_t worst_late_ms;
    int events;
} harness;

static void on_event(const tda_event *ev, void *userdata)
{
    harness *h = userdata;
    h->events++;
    if (ev->late_ms > h->worst_late_ms)
        h->worst_late_ms = ev->late_ms;
}

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    outcome *o = userdata;
    (void)flow;
    o->calls++;
    o->status = status;
    o->has_token = token->access_token != NULL && token->refresh_token != NULL;
    snprintf(o->detail, sizeof o->detail, "%s", tda_flow_error_detail(flow));
    tda_token_clear(token);
}

static void start(harness *h, const emu *e, int n, int64_t timeout_ms)
{
    memset(h, 0, sizeof *h);
    h->c = emu_client(e);
    h->m = tda_multi_new(h->c);
    assert_non_null(h->m);
    h->n = n;
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.on_event = on_event;
    o.userdata = h;
    o.slow_down_step_ms = 300;
    o.timeout_ms = timeout_ms;
    for (int i = 0; i < n; i++) {
        assert_int_equal(tda_generate_code(h->c, &h->codes[i]), TDA_OK);
        h->flows[i] = tda_multi_add(h->m, &h->codes[i], &o, on_done, &h->outcomes[i]);
        assert_non_null(h->flows[i]);
    }
    assert_int_equal(tda_multi_flow_count(h->m), (size_t)n);
}

static void run_to_end(harness *h)
{
    int64_t give_up = tda_monotonic_ms() + test_bound_ms(30000);
    while (tda_multi_flow_count(h->m) > 0) {
        assert_int_equal(tda_multi_wait(h->m, 1000), TDA_OK);
        assert_true(tda_monotonic_ms() < give_up);
    }
    assert_int_equal(tda_multi_timeout_ms(h->m), -1);
}

static void finish(harness *h)
{
    tda_multi_free(h->m);
    for (int i = 0; i < h->n; i++)
        tda_code_clear(&h->codes[i]);
    tda_client_free(h->c);
}

static void test_many_flows_share_a_few_connections(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--approve-after-polls", "2", NULL);
    harness h;
    start(&h, &e, 40, 0);
    assert_int_equal(tda_multi_set_max_connections(h.m, 3), TDA_OK);
    /* (That nothing is watched before the first poll is due: the sleeping-engine test,
     * whose 5 s interval no slow run outlasts; 40 codes can take longer than 0.1 s.) */
    run_to_end(&h);
    for (int i = 0; i < h.n; i++) {
        assert_int_equal(h.outcomes[i].calls, 1);
        assert_int_equal(h.outcomes[i].status, TDA_OK);
        assert_true(h.outcomes[i].has_token);
    }
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.tokens_issued, 40);
    assert_int_equal(s.early_polls, 0);
    assert_int_equal(s.polls, 40 * 3);
    /* The client's own connection for the codes, at most 3 pooled ones, and /stats. */
    assert_true(s.connections <= 1 + 3 + 1);
    assert_true(h.events >= 40 * 3);
    /* 40 flows due within a few ms of each other share 3 connections: each poll still goes
     * out promptly after its due time (lateness is the engine's, not the server's). */
    print_message("worst lateness over %d events: %lld ms\n", h.events, (long long)h.worst_late_ms);
    assert_true(h.worst_late_ms >= 0);
    if (h.worst_late_ms > emu_prompt_ms())
        fail_msg("a poll went out %lld ms after its due time, want at most %ld",
                 (long long)h.worst_late_ms, emu_prompt_ms());
    finish(&h);
    emu_stop(&e);
}

static void test_cancel_ends_only_that_flow(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--approve-after-polls", "2", NULL);
    harness h;
    start(&h, &e, 5, 0);
    tda_flow_cancel(h.flows[2]);
    run_to_end(&h);
    for (int i = 0; i < h.n; i++) {
        assert_int_equal(h.outcomes[i].calls, 1);
        assert_int_equal(h.outcomes[i].status, i == 2 ? TDA_CANCELLED : TDA_OK);
    }
    assert_int_equal(emu_get_stats(&e).tokens_issued, 4);
    finish(&h);
    emu_stop(&e);
}

static void test_cancel_all_and_client_cancel(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", NULL); /* nobody ever approves */
    harness h;
    start(&h, &e, 4, 0);
    assert_int_equal(tda_multi_wait(h.m, 250), TDA_OK); /* some polls in flight or done */
    tda_multi_cancel_all(h.m);
    assert_int_equal(tda_multi_perform(h.m), TDA_OK);
    assert_int_equal(tda_multi_flow_count(h.m), 0);
    for (int i = 0; i < h.n; i++) {
        assert_int_equal(h.outcomes[i].calls, 1);
        assert_int_equal(h.outcomes[i].status, TDA_CANCELLED);
    }
    /* tda_client_cancel before the engine runs... */
    outcome early = {0};
    assert_non_null(tda_multi_add(h.m, &h.codes[0], NULL, on_done, &early));
    tda_client_cancel(h.c);
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_multi_wait(h.m, 5000), TDA_OK);
    assert_true(tda_monotonic_ms() - t0 < emu_prompt_ms());
    assert_int_equal(early.calls, 1);
    assert_int_equal(early.status, TDA_CANCELLED);
    tda_client_reset_cancel(h.c);
    finish(&h);
    emu_stop(&e);
}

typedef struct canceller {
    tda_client *client;
    int64_t at;
} canceller;

static void *cancel_soon(void *arg)
{
    canceller *k = arg;
    usleep(300 * 1000);
    k->at = tda_monotonic_ms();
    tda_client_cancel(k->client);
    return NULL;
}

/* ...and from another thread while tda_multi_wait sleeps in the kernel. */
static void test_client_cancel_ends_the_engines_sleep(void **state)
{
    emu e;
    emu_start(&e, "--interval", "5", NULL); /* the first poll is 5 s away: the engine sleeps */
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    outcome o = {0};
    assert_non_null(tda_multi_add(m, &code, NULL, on_done, &o));
    /* Nobody is due yet: no request, so nothing to watch, and asleep for seconds. */
    struct pollfd fds[8];
    assert_int_equal(tda_multi_fds(m, fds, 8), 0);
    assert_true(tda_multi_timeout_ms(m) > 1000);
    canceller k = {c, 0};
    pthread_t thread;
    /* Taken before the thread exists: its 300 ms sleep cannot have begun earlier. */
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(pthread_create(&thread, NULL, cancel_soon, &k), 0);
    while (o.calls == 0 && tda_monotonic_ms() - t0 < test_bound_ms(4000))
        assert_int_equal(tda_multi_wait(m, 4000), TDA_OK);
    int64_t woke = tda_monotonic_ms();
    pthread_join(thread, NULL);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, TDA_CANCELLED);
    print_message("the sleeping engine ended the flow %lld ms after the cancel\n",
                  (long long)(woke - k.at));
    assert_true(woke - t0 >= 300); /* it did sleep until the cancel */
    assert_true(woke - k.at <= emu_prompt_ms());
    assert_int_equal(emu_get_stats(&e).polls, 0);
    tda_code_clear(&code);
    tda_multi_free(m);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_deadline_is_per_flow(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--approve-after-polls", "3", NULL);
    harness h;
    start(&h, &e, 3, 0);
    /* One more flow with a deadline well before its approval (4 polls, >= 0.4 s). */
    tda_code extra;
    assert_int_equal(tda_generate_code(h.c, &extra), TDA_OK);
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 150;
    outcome hurried = {0};
    int64_t t0 = tda_monotonic_ms(); /* before the add, which starts the deadline's clock */
    assert_non_null(tda_multi_add(h.m, &extra, &o, on_done, &hurried));
    while (hurried.calls == 0)
        assert_int_equal(tda_multi_wait(h.m, 1000), TDA_OK);
    int64_t took = tda_monotonic_ms() - t0;
    assert_int_equal(hurried.status, TDA_DEADLINE);
    if (took < 150 || took >= 150 + emu_prompt_ms())
        fail_msg("the 150 ms deadline ended the flow after %lld ms, want 150 to %ld",
                 (long long)took, 150 + emu_prompt_ms());
    assert_non_null(strstr(hurried.detail, "deadline"));
    run_to_end(&h);
    for (int i = 0; i < h.n; i++)
        assert_int_equal(h.outcomes[i].status, TDA_OK);
    tda_code_clear(&extra);
    finish(&h);
    emu_stop(&e);
}

/* Waits in tda_multi_wait until cond (an outcome's calls) is set; returns the waits made. */
static int wait_for(tda_multi *m, const int *calls, long limit_ms)
{
    int waits = 0;
    int64_t give_up = tda_monotonic_ms() + test_bound_ms(limit_ms);
    while (*calls == 0) {
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
        waits++;
        assert_true(tda_monotonic_ms() < give_up);
    }
    return waits;
}

static void test_cancel_of_a_stalled_request_is_prompt(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.05", "--fault", "token:1-100:stall", NULL);
    tda_client *c = emu_client(&e); /* requests may take 5 s */
    tda_multi *m = tda_multi_new(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    outcome o = {0};
    tda_flow *f = tda_multi_add(m, &code, NULL, on_done, &o);
    assert_non_null(f);
    while (emu_get_stats(&e).faults_injected == 0) /* its poll is in flight, stalled */
        assert_int_equal(tda_multi_wait(m, 50), TDA_OK);
    tda_flow_cancel(f);
    assert_int_equal(tda_multi_timeout_ms(m), 0); /* an event loop runs perform at once */
    int64_t t0 = tda_monotonic_ms();
    wait_for(m, &o.calls, 5000);
    assert_true(tda_monotonic_ms() - t0 < emu_prompt_ms());
    assert_int_equal(o.status, TDA_CANCELLED);
    tda_code_clear(&code);
    tda_multi_free(m);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_deadline_holds_while_every_connection_is_busy(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.05", "--fault", "token:1:stall", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    assert_int_equal(tda_multi_set_max_connections(m, 1), TDA_OK);
    tda_code a, b;
    assert_int_equal(tda_generate_code(c, &a), TDA_OK);
    assert_int_equal(tda_generate_code(c, &b), TDA_OK);
    outcome stalled = {0}, hurried = {0};
    assert_non_null(tda_multi_add(m, &a, NULL, on_done, &stalled));
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 400;
    int64_t t0 = tda_monotonic_ms();
    assert_non_null(tda_multi_add(m, &b, &o, on_done, &hurried));
    /* A's poll holds the only connection; B must still end at its deadline, calmly. */
    int waits = wait_for(m, &hurried.calls, 5000);
    int64_t took = tda_monotonic_ms() - t0;
    assert_int_equal(hurried.status, TDA_DEADLINE);
    assert_true(took >= 400 && took < 400 + emu_prompt_ms());
    assert_true(waits < 20); /* slept, did not spin */
    assert_int_equal(stalled.calls, 0);
    tda_code_clear(&a);
    tda_code_clear(&b);
    tda_multi_free(m);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_request_past_the_codes_life_does_not_spin(void **state)
{
    /* The deadline falls after expiry, so it never cuts the stalled request off:
     * the engine must sleep until the request's own timeout, not spin. */
    emu e;
    emu_start(&e, "--interval", "0.1", "--code-life", "0.3", "--fault", "token:1-100:stall", NULL);
    tda_client *c = emu_client(&e);
    assert_int_equal(tda_client_set_timeout_ms(c, 800), TDA_OK);
    tda_multi *m = tda_multi_new(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 400;
    outcome out = {0};
    assert_non_null(tda_multi_add(m, &code, &o, on_done, &out));
    int waits = wait_for(m, &out.calls, 10000);
    assert_true(waits < 20);
    assert_true(out.status == TDA_TIMED_OUT || out.status == TDA_EXPIRED);
    tda_code_clear(&code);
    tda_multi_free(m);
    tda_client_free(c);
    emu_stop(&e);
}

/* A callback may start the next flow: the engine must cope with being changed from within. */
typedef struct chain {
    tda_multi *m;
    tda_client *c;
    tda_code code;
    int done, ok;
} chain;

static void chain_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    (void)flow;
    chain *ch = userdata;
    tda_token_clear(token);
    ch->done++;
    ch->ok += status == TDA_OK;
    if (ch->done < 3) {
        tda_code_clear(&ch->code);
        assert_int_equal(tda_generate_code(ch->c, &ch->code), TDA_OK);
        assert_non_null(tda_multi_add(ch->m, &ch->code, NULL, chain_done, ch));
    }
}

static void test_callback_adds_the_next_flow(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.05", "--approve-after-polls", "0", NULL);
    tda_client *c = emu_client(&e);
    chain ch = {tda_multi_new(c), c, {0}, 0, 0};
    assert_non_null(ch.m);
    assert_int_equal(tda_generate_code(c, &ch.code), TDA_OK);
    assert_non_null(tda_multi_add(ch.m, &ch.code, NULL, chain_done, &ch));
    while (tda_multi_flow_count(ch.m) > 0)
        assert_int_equal(tda_multi_wait(ch.m, 1000), TDA_OK);
    assert_int_equal(ch.done, 3);
    assert_int_equal(ch.ok, 3);
    tda_code_clear(&ch.code);
    tda_multi_free(ch.m);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_bad_arguments_and_free_with_live_flows(void **state)
{
    emu e;
    emu_start(&e, "--interval", "5", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    assert_non_null(m);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_null(tda_multi_add(m, NULL, NULL, on_done, NULL));
    tda_code empty = {0};
    assert_null(tda_multi_add(m, &empty, NULL, on_done, NULL));
    assert_int_equal(tda_multi_set_max_connections(m, 0), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_set_max_connections(m, 65), TDA_INVALID_ARGUMENT);
    /* A client without a secret polls too (tests/it_public.c runs it to the end). */
    tda_client *no_secret = tda_client_new(EMU_CLIENT_ID, NULL);
    tda_multi *m2 = tda_multi_new(no_secret);
    assert_non_null(tda_multi_add(m2, &code, NULL, on_done, NULL));
    assert_int_equal(tda_multi_set_max_rate(m2, -1), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_set_max_rate(m2, 100001), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_set_max_rate(m2, 0), TDA_OK);
    assert_int_equal(tda_multi_set_max_rate(NULL, 10), TDA_INVALID_ARGUMENT);
    tda_multi_free(m2);
    tda_client_free(no_secret);
    /* Freed while flows wait: no callback, nothing leaked (valgrind checks). */
    outcome o = {0};
    for (int i = 0; i < 10; i++)
        assert_non_null(tda_multi_add(m, &code, NULL, on_done, &o));
    tda_multi_free(m);
    assert_int_equal(o.calls, 0);
    tda_multi_free(NULL);
    assert_int_equal(tda_multi_timeout_ms(NULL), -1);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_flows_share_a_few_connections),
        cmocka_unit_test(test_cancel_ends_only_that_flow),
        cmocka_unit_test(test_cancel_all_and_client_cancel),
        cmocka_unit_test(test_client_cancel_ends_the_engines_sleep),
        cmocka_unit_test(test_deadline_is_per_flow),
        cmocka_unit_test(test_cancel_of_a_stalled_request_is_prompt),
        cmocka_unit_test(test_deadline_holds_while_every_connection_is_busy),
        cmocka_unit_test(test_request_past_the_codes_life_does_not_spin),
        cmocka_unit_test(test_callback_adds_the_next_flow),
        cmocka_unit_test(test_bad_arguments_and_free_with_live_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
