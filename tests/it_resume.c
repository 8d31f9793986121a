/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logins that survive real devices, against the emulator: a saved code is
 * resumed by another client (as after a restart) and polled to a token with
 * no early poll across the break; a saved code that expired meanwhile ends
 * at once with no request; renewal fetches new codes when nobody approves,
 * tells the caller each one, keeps the interval, honours 429 + Retry-After
 * and 5xx on the code endpoint, stops on 403, and is bounded by cancel and
 * the deadline; the engine renews many flows at once.
 */
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

#define MAX_CODES 16

typedef struct events {
    const emu *e;
    int pending, retry, new_code;
    tda_status retry_status[8];
    char user_codes[MAX_CODES][32];
    int codes;          /* user codes seen, the first included */
    int approve_code;   /* approve when this code (1-based) arrives; 0: never */
    tda_client *cancel; /* cancel this client on the first retry, when set */
    tda_client *stop;   /* cancel this client after stop_after pending answers */
    int stop_after;
} events;

static void on_event(const tda_event *ev, void *userdata)
{
    events *log = userdata;
    switch (ev->kind) {
    case TDA_EVENT_PENDING:
        log->pending++;
        if (log->stop && log->pending == log->stop_after)
            tda_client_cancel(log->stop); /* the program is stopped, as by a kill */
        break;
    case TDA_EVENT_RETRY:
        if (log->retry < 8)
            log->retry_status[log->retry] = ev->status;
        log->retry++;
        if (log->cancel)
            tda_client_cancel(log->cancel);
        break;
    case TDA_EVENT_NEW_CODE:
        log->new_code++;
        assert_non_null(ev->code);
        assert_non_null(ev->code->device_code);
        assert_non_null(ev->code->user_code);
        assert_non_null(ev->code->verification_url);
        assert_string_equal(ev->code->client_id, EMU_CLIENT_ID);
        assert_true(ev->code->issued_at_ms != 0 && ev->code->issued_at_unix_ms > 0);
        assert_int_equal(ev->renewals, log->new_code);
        assert_true(ev->expires_in_ms > 0);
        assert_true(ev->next_poll_in_ms >= ev->interval_ms);
        if (log->codes < MAX_CODES)
            snprintf(log->user_codes[log->codes++], sizeof log->user_codes[0], "%s",
                     ev->code->user_code);
        if (log->approve_code == log->codes)
            assert_int_equal(emu_decide(log->e, ev->code->user_code, 1), 200);
        break;
    case TDA_EVENT_SLOW_DOWN:
    case TDA_EVENT_SUCCESS:
        break;
    }
}

static tda_poll_options options_for(events *log, int renewals)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.on_event = on_event;
    o.userdata = log;
    o.renewals = renewals;
    return o;
}

/* A fresh path for a code file under /tmp. */
static void temp_path(char *path, size_t size)
{
    snprintf(path, size, "/tmp/tda-resume-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
}

/* ---- the emulator's request log: which code each request was about, and when */

/* The requests to the device endpoints (codes and polls), from the one log reader (emu.c). */
static int device_requests(const char *log_path, emu_logged *out, int max)
{
    int n = emu_read_log(log_path, NULL, out, max), k = 0;
    for (int i = 0; i < n; i++)
        if (strncmp(out[i].path, "/oauth/device/", 14) == 0)
            out[k++] = out[i];
    return k;
}

static int is_code_request(const emu_logged *l)
{
    return strcmp(l->path, "/oauth/device/code") == 0;
}

/* Every request after the first came at least gap_ms after the one before. */
static void assert_spacing(const emu_logged *l, int n, long gap_ms)
{
    for (int i = 1; i < n; i++)
        if (l[i].at_ms - l[i - 1].at_ms < gap_ms - 1) /* the log truncates to whole ms */
            fail_msg("request %d came %ld ms after the one before (at least %ld wanted)", i + 1,
                     l[i].at_ms - l[i - 1].at_ms, gap_ms);
}

static void start_logged(emu *e, char *log_path, size_t size, const char *const *options)
{
    temp_path(log_path, size);
    const char *argv[32];
    int n = 0;
    argv[n++] = "--log";
    argv[n++] = log_path;
    for (int i = 0; options[i] && n < 31; i++)
        argv[n++] = options[i];
    argv[n] = NULL;
    emu_start_argv(e, argv);
}

/* ---------------------------------------------------------------- resuming */

static void test_a_saved_code_is_resumed_by_a_restarted_program(void **state)
{
    emu e;
    char log_path[64], code_path[64];
    const char *opts[] = {"--interval", "0.2", "--approve-after-polls", "3", NULL};
    start_logged(&e, log_path, sizeof log_path, opts);
    temp_path(code_path, sizeof code_path);

    /* The first run: gets and saves the code, polls twice, then stops. */
    tda_client *first = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(first, &code), TDA_OK);
    assert_int_equal(tda_code_save(&code, code_path), TDA_OK);
    events log1 = {0};
    log1.stop = first;
    log1.stop_after = 2;
    tda_poll_options o = options_for(&log1, 0);
    tda_token token;
    assert_int_equal(tda_poll_for_token(first, &code, &o, &token), TDA_CANCELLED);
    assert_int_equal(log1.pending, 2);
    tda_client_free(first);

    /* The restarted program: loads the code and polls on, with a client of its own. */
    tda_code loaded;
    assert_int_equal(tda_code_load(code_path, EMU_CLIENT_ID, &loaded), TDA_OK);
    assert_string_equal(loaded.user_code, code.user_code);
    assert_string_equal(loaded.device_code, code.device_code);
    assert_true(tda_code_remaining_ms(&loaded) > 0);
    tda_client *second = emu_client(&e);
    events log2 = {0};
    o = options_for(&log2, 0);
    assert_int_equal(tda_poll_for_token(second, &loaded, &o, &token), TDA_OK);
    assert_non_null(token.access_token);
    tda_token_clear(&token);
    tda_client_free(second);

    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.codes_issued, 1);
    assert_int_equal(s.polls, 4); /* approved on its 4th poll, 2 from each run */
    assert_int_equal(s.early_polls, 0);
    emu_logged l[16];
    int n = device_requests(log_path, l, 16);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_int_equal(l[i].code, 1); /* one code throughout */
    assert_spacing(l + 1, n - 1, 200);  /* the polls, across the restart */
    tda_code_clear(&loaded);
    tda_code_clear(&code);
    unlink(code_path);
    unlink(log_path);
    emu_stop(&e);
}

static void test_a_saved_code_that_expired_meanwhile_ends_at_once_without_a_request(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--code-life", "0.3", NULL);
    char code_path[64];
    temp_path(code_path, sizeof code_path);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_int_equal(tda_code_save(&code, code_path), TDA_OK);
    tda_code_clear(&code);
    tda_client_free(c);
    usleep(400 * 1000); /* the program is down for longer than the code lives */

    c = emu_client(&e);
    tda_code loaded;
    assert_int_equal(tda_code_load(code_path, EMU_CLIENT_ID, &loaded), TDA_OK);
    assert_int_equal(tda_code_remaining_ms(&loaded), 0);
    long before = emu_get_stats(&e).requests;
    events log = {0};
    tda_poll_options o = options_for(&log, 0);
    tda_token token;
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_poll_for_token(c, &loaded, &o, &token), TDA_EXPIRED);
    assert_true(tda_monotonic_ms() - t0 < emu_prompt_ms());
    assert_int_equal(log.pending + log.retry + log.new_code, 0);
    /* One more request: the /stats read itself. */
    assert_int_equal(emu_get_stats(&e).requests, before + 1);
    tda_code_clear(&loaded);
    tda_client_free(c);
    unlink(code_path);
    emu_stop(&e);
}

static void test_the_engine_takes_a_loaded_code_like_a_fresh_one(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--approve-after-polls", "1", NULL);
    char code_path[64];
    temp_path(code_path, sizeof code_path);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_int_equal(tda_code_save(&code, code_path), TDA_OK);
    tda_code_clear(&code);
    tda_code loaded;
    assert_int_equal(tda_code_load(code_path, EMU_CLIENT_ID, &loaded), TDA_OK);
    tda_multi *m = tda_multi_new(c);
    assert_non_null(m);
    assert_non_null(tda_multi_add(m, &loaded, NULL, NULL, NULL));
    tda_code_clear(&loaded);
    int64_t give_up = tda_monotonic_ms() + 10000;
    while (tda_multi_flow_count(m) > 0 && tda_monotonic_ms() < give_up)
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
    assert_int_equal(tda_multi_flow_count(m), 0);
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.tokens_issued, 1);
    assert_int_equal(s.early_polls, 0);
    tda_multi_free(m);
    tda_client_free(c);
    unlink(code_path);
    emu_stop(&e);
}

/* ---------------------------------------------------------------- renewal */

static void test_renewal_shows_new_codes_until_none_is_left(void **state)
{
    emu e;
    char log_path[64];
    const char *opts[] = {"--interval", "0.1", "--code-life", "0.5", NULL};
    start_logged(&e, log_path, sizeof log_path, opts);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    events log = {0};
    log.e = &e;
    snprintf(log.user_codes[log.codes++], sizeof log.user_codes[0], "%s", code.user_code);
    tda_poll_options o = options_for(&log, 2);
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_EXPIRED);
    assert_int_equal(log.new_code, 2);
    assert_int_equal(log.codes, 3);
    assert_string_not_equal(log.user_codes[0], log.user_codes[1]);
    assert_string_not_equal(log.user_codes[1], log.user_codes[2]);
    assert_non_null(strstr(tda_client_error_detail(c), "3 codes expired"));
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.codes_issued, 3);
    assert_int_equal(s.early_polls, 0);
    assert_int_equal(s.tokens_issued, 0);
    /* The flow's requests, code requests included, never closer than the interval. */
    emu_logged l[64];
    int n = device_requests(log_path, l, 64);
    assert_true(n > 3);
    assert_true(is_code_request(&l[0]));
    assert_spacing(l + 1, n - 1, 100);
    int code_requests = 0;
    for (int i = 0; i < n; i++) {
        code_requests += is_code_request(&l[i]);
        /* No poll of a code once the next one was fetched. */
        if (i > 0 && !is_code_request(&l[i]))
            assert_int_equal(l[i].code, code_requests);
    }
    assert_int_equal(code_requests, 3);
    tda_code_clear(&code);
    tda_client_free(c);
    unlink(log_path);
    emu_stop(&e);
}

static void test_a_renewed_code_can_be_approved(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--code-life", "0.4", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    events log = {0};
    log.e = &e;
    log.codes = 1;
    log.approve_code = 2; /* the person comes back in time for the second code */
    tda_poll_options o = options_for(&log, TDA_RENEW_UNLIMITED);
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_OK);
    assert_non_null(token.access_token);
    assert_int_equal(log.new_code, 1);
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.codes_issued, 2);
    assert_int_equal(s.tokens_issued, 1);
    tda_token_clear(&token);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_renewal_waits_out_a_429_with_retry_after_on_the_code_endpoint(void **state)
{
    emu e;
    char log_path[64];
    /* The second code request (the first renewal) gets Cloudflare's 429, Retry-After 1. */
    const char *opts[] = {
        "--interval", "0.1", "--code-life", "0.3", "--fault", "code:2:429:retry-after=1", NULL};
    start_logged(&e, log_path, sizeof log_path, opts);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    events log = {0};
    log.e = &e;
    log.codes = 1;
    tda_poll_options o = options_for(&log, 1);
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_EXPIRED);
    assert_int_equal(log.retry, 1);
    assert_int_equal(log.retry_status[0], TDA_SLOW_DOWN);
    assert_int_equal(log.new_code, 1);
    emu_logged l[64];
    int n = device_requests(log_path, l, 64);
    long code_at[3];
    int k = 0;
    for (int i = 0; i < n && k < 3; i++)
        if (is_code_request(&l[i]))
            code_at[k++] = l[i].at_ms;
    assert_int_equal(k, 3);
    assert_true(code_at[2] - code_at[1] >= 1000 - 1);
    assert_spacing(l + 1, n - 1, 100);
    assert_int_equal(emu_get_stats(&e).codes_issued, 2);
    tda_code_clear(&code);
    tda_client_free(c);
    unlink(log_path);
    emu_stop(&e);
}

static void test_renewal_retries_a_5xx_and_stops_on_403(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--code-life", "0.3", "--fault", "code:2:503", "--fault",
              "code:4:403", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    events log = {0};
    log.e = &e;
    log.codes = 1;
    tda_poll_options o = options_for(&log, 5);
    tda_token token;
    /* Code 1 expires; 503 is retried; code 2 arrives and expires; 403 ends the flow. */
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_FORBIDDEN);
    assert_int_equal(log.retry, 1);
    assert_int_equal(log.retry_status[0], TDA_OVERLOADED);
    assert_int_equal(log.new_code, 1);
    assert_int_equal(tda_client_http_status(c), 403);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_cancel_and_the_deadline_end_a_renewal(void **state)
{
    emu e;
    /* The first renewal of each of the two flows below meets a 429 with Retry-After 30. */
    emu_start(&e, "--interval", "0.1", "--code-life", "0.3", "--fault", "code:2:429:retry-after=30",
              "--fault", "code:4:429:retry-after=30", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    /* Waiting out a Retry-After of 30 s: the deadline ends it. */
    events log = {0};
    tda_poll_options o = options_for(&log, 3);
    o.timeout_ms = 1000;
    tda_token token;
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_DEADLINE);
    int64_t took = tda_monotonic_ms() - t0;
    assert_true(took >= 1000 && took < 1000 + emu_prompt_ms() + 200);
    assert_int_equal(log.retry, 1);
    /* A cancel during the same wait ends it at once. */
    tda_code second;
    assert_int_equal(tda_generate_code(c, &second), TDA_OK);
    events log2 = {0};
    log2.cancel = c;
    o = options_for(&log2, 3);
    t0 = tda_monotonic_ms();
    assert_int_equal(tda_poll_for_token(c, &second, &o, &token), TDA_CANCELLED);
    assert_true(tda_monotonic_ms() - t0 < 1000 + emu_prompt_ms());
    tda_code_clear(&second);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

typedef struct multi_done {
    int calls;
    tda_status status;
} multi_done;

static void on_multi_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    (void)flow;
    multi_done *d = userdata;
    d->calls++;
    d->status = status;
    tda_token_clear(token);
}

static void test_the_engine_renews_many_flows_at_once(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--code-life", "0.4", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    assert_non_null(m);
    enum { N = 8 };
    tda_code codes[N];
    events logs[N];
    multi_done done[N];
    memset(logs, 0, sizeof logs);
    memset(done, 0, sizeof done);
    for (int i = 0; i < N; i++) {
        assert_int_equal(tda_generate_code(c, &codes[i]), TDA_OK);
        logs[i].e = &e;
        logs[i].codes = 1;
        tda_poll_options o = options_for(&logs[i], 1);
        assert_non_null(tda_multi_add(m, &codes[i], &o, on_multi_done, &done[i]));
    }
    int64_t give_up = tda_monotonic_ms() + 20000;
    while (tda_multi_flow_count(m) > 0 && tda_monotonic_ms() < give_up)
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(done[i].calls, 1);
        assert_int_equal(done[i].status, TDA_EXPIRED);
        assert_int_equal(logs[i].new_code, 1);
        tda_code_clear(&codes[i]);
    }
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.codes_issued, 2 * N);
    assert_int_equal(s.early_polls, 0);
    tda_multi_free(m);
    tda_client_free(c);
    emu_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_saved_code_is_resumed_by_a_restarted_program),
        cmocka_unit_test(test_a_saved_code_that_expired_meanwhile_ends_at_once_without_a_request),
        cmocka_unit_test(test_the_engine_takes_a_loaded_code_like_a_fresh_one),
        cmocka_unit_test(test_renewal_shows_new_codes_until_none_is_left),
        cmocka_unit_test(test_a_renewed_code_can_be_approved),
        cmocka_unit_test(test_renewal_waits_out_a_429_with_retry_after_on_the_code_endpoint),
        cmocka_unit_test(test_renewal_retries_a_5xx_and_stops_on_403),
        cmocka_unit_test(test_cancel_and_the_deadline_end_a_renewal),
        cmocka_unit_test(test_the_engine_renews_many_flows_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
