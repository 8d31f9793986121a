/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the real library against the real emulator over loopback,
 * one scenario per test, each with its own emulator. Intervals are 0.2 s so
 * the whole file runs in seconds without bending any rule.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

/* Fast test timing: 0.2 s interval, and a 429 adds 0.3 s instead of Trakt's 5 s. */
#define FAST "--interval", "0.2"

typedef struct event_log {
    int pending, slow_down, retry, success;
    tda_status last_retry_status;
    int64_t last_interval_ms;
} event_log;

static void record_event(const tda_event *ev, void *userdata)
{
    event_log *log = userdata;
    switch (ev->kind) {
    case TDA_EVENT_PENDING:
        log->pending++;
        break;
    case TDA_EVENT_SLOW_DOWN:
        log->slow_down++;
        assert_true(ev->interval_ms > ev->old_interval_ms);
        break;
    case TDA_EVENT_RETRY:
        log->retry++;
        log->last_retry_status = ev->status;
        assert_true(tda_status_is_transient(ev->status));
        break;
    case TDA_EVENT_SUCCESS:
        log->success++;
        break;
    case TDA_EVENT_NEW_CODE:
        fail_msg("a new code without renewals asked for"); /* renewal: it_resume.c */
        break;
    }
    log->last_interval_ms = ev->interval_ms;
}

static tda_poll_options fast_options(event_log *log)
{
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.on_event = record_event;
    o.userdata = log;
    o.slow_down_step_ms = 300;
    return o;
}

/* Gets a code and polls it to the end; returns the flow's status. */
static tda_status login(tda_client *c, event_log *log, tda_token *token)
{
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    tda_poll_options o = fast_options(log);
    tda_status st = tda_poll_for_token(c, &code, &o, token);
    tda_code_clear(&code);
    return st;
}

static void assert_token_complete(const tda_token *t)
{
    assert_non_null(t->access_token);
    assert_non_null(t->refresh_token);
    assert_string_equal(t->token_type, "bearer");
    assert_string_equal(t->scope, "public");
    assert_true(t->created_at > 1600000000);
    assert_true(t->expires_in > 0);
    assert_int_equal(t->expires_at, t->created_at + t->expires_in);
}

static void test_approval_gives_a_token_over_one_connection(void **state)
{
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "3", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    assert_int_equal(login(c, &log, &token), TDA_OK);
    assert_token_complete(&token);
    assert_int_equal(log.pending, 3);
    assert_int_equal(log.success, 1);
    assert_int_equal(tda_client_http_status(c), 200);
    assert_string_equal(tda_client_error_detail(c), "");
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.polls, 4);
    assert_int_equal(s.early_polls, 0);
    /* The code request and all polls travelled over one keep-alive connection (+1: /stats). */
    assert_int_equal(s.connections, 2);
    tda_token_clear(&token);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_denial_is_reported_at_once(void **state)
{
    emu e;
    emu_start(&e, FAST, "--deny-after-polls", "1", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    assert_int_equal(login(c, &log, &token), TDA_DENIED);
    assert_int_equal(tda_client_http_status(c), 418);
    assert_null(token.access_token);
    assert_int_equal(emu_get_stats(&e).polls, 2);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_code_expires_locally_without_approval(void **state)
{
    emu e;
    emu_start(&e, FAST, "--code-life", "0.9", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(login(c, &log, &token), TDA_EXPIRED);
    int64_t took = tda_monotonic_ms() - t0;
    assert_true(took >= 850);
    assert_true(took < 900 + 5 * emu_prompt_ms());
    assert_true(log.pending >= 2);
    assert_non_null(strstr(tda_client_error_detail(c), "expired"));
    tda_client_free(c);
    emu_stop(&e);
}

static void test_server_410_is_expiry(void **state)
{
    emu e;
    emu_start(&e, FAST, "--code-life", "0.3", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    code.expires_in_ms = 60000; /* the client believes longer than the server */
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_EXPIRED);
    assert_int_equal(tda_client_http_status(c), 410);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_unknown_device_code_is_404(void **state)
{
    emu e;
    emu_start(&e, FAST, NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    code.device_code[0] = code.device_code[0] == 'a' ? 'b' : 'a';
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_INVALID_DEVICE_CODE);
    assert_int_equal(tda_client_http_status(c), 404);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_code_already_used_is_409(void **state)
{
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "0", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_OK);
    tda_token_clear(&token);
    usleep(250 * 1000);
    assert_int_equal(tda_request_token(c, &code, &token), TDA_ALREADY_USED);
    assert_int_equal(tda_client_http_status(c), 409);
    assert_null(token.access_token);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_wrong_client_id_is_forbidden(void **state)
{
    emu e;
    emu_start(&e, FAST, NULL);
    tda_client *c = tda_client_new("some-other-client", EMU_CLIENT_SECRET);
    assert_int_equal(tda_client_set_base_url(c, e.base_url), TDA_OK);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_FORBIDDEN);
    assert_int_equal(tda_client_http_status(c), 403);
    assert_null(code.device_code);
    assert_non_null(strstr(tda_client_error_detail(c), "403"));
    tda_client_free(c);
    emu_stop(&e);
}

static void test_wrong_secret_is_forbidden_at_once(void **state)
{
    emu e;
    emu_start(&e, FAST, NULL);
    tda_client *c = tda_client_new(EMU_CLIENT_ID, "wrong-secret");
    assert_int_equal(tda_client_set_base_url(c, e.base_url), TDA_OK);
    event_log log = {0};
    tda_token token;
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(login(c, &log, &token), TDA_FORBIDDEN);
    assert_int_equal(tda_client_http_status(c), 401);
    /* One poll, no retry: the first answer ended the flow, one interval (0.2 s) in. */
    assert_int_equal(log.pending + log.retry + log.slow_down, 0);
    /* The code request, one interval, the poll: 400 ms here, more under valgrind. */
    assert_true(tda_monotonic_ms() - t0 < 200 + 2 * emu_prompt_ms());
    assert_null(strstr(tda_client_error_detail(c), "wrong-secret"));
    tda_client_free(c);
    emu_stop(&e);
}

static void test_429_slows_down_then_succeeds_without_early_polls(void **state)
{
    char log_path[] = "/tmp/tda-flow-log-XXXXXX";
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    close(fd);
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "3", "--fault", "token:2:429", "--log", log_path,
              NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    assert_int_equal(login(c, &log, &token), TDA_OK);
    assert_int_equal(log.slow_down, 1);
    assert_int_equal(log.last_interval_ms, 500); /* 200 + 300, kept to the end */
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.early_polls, 0);
    assert_int_equal(s.faults_injected, 1);
    /* The slower pace as the server saw it, not as the events tell it: 500 ms after the
     * 429 and after every poll that followed it (the emulator's own early-poll count
     * knows only its 200 ms interval). A pending poll, the 429, 2 pending, the approval. */
    assert_int_equal(
        emu_check_poll_gaps(log_path, "/oauth/device/token", 200, 500, 200, "429 then approval"),
        5);
    unlink(log_path);
    tda_token_clear(&token);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_polling_too_fast_is_caught_by_the_emulator(void **state)
{
    /* The emulator's own check, so the zero above means something. */
    emu e;
    emu_start(&e, "--interval", "5", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    tda_token token;
    assert_int_equal(tda_request_token(c, &code, &token), TDA_PENDING);
    assert_int_equal(tda_request_token(c, &code, &token), TDA_SLOW_DOWN);
    assert_int_equal(tda_client_retry_after_ms(c), 5000);
    assert_int_equal(emu_get_stats(&e).early_polls, 1);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_5xx_burst_is_retried_then_succeeds(void **state)
{
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "1", "--fault", "token:1:500", "--fault",
              "token:2:503", "--fault", "token:3:521", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    assert_int_equal(login(c, &log, &token), TDA_OK);
    assert_int_equal(log.retry, 3);
    assert_int_equal(log.last_retry_status, TDA_CLOUDFLARE);
    assert_token_complete(&token);
    assert_int_equal(emu_get_stats(&e).early_polls, 0);
    tda_token_clear(&token);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_5xx_until_expiry_reports_the_server_error(void **state)
{
    emu e;
    emu_start(&e, FAST, "--code-life", "1", "--fault", "token:1-100:502", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    assert_int_equal(login(c, &log, &token), TDA_OVERLOADED);
    assert_true(log.retry >= 1);
    /* Backoff: far fewer polls than 1 s / 0.2 s would allow with no backoff at all. */
    assert_true(emu_get_stats(&e).polls + log.retry <= 10);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_dropped_connection_is_retried_then_succeeds(void **state)
{
    /*
     * Two drops in a row, each on a reused connection. libcurl would re-send
     * such a request at once on a fresh connection; the library stops that
     * (see on_upload in transport.c), so each drop reaches the policy as a
     * network error and waits out the interval.
     */
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "1", "--fault", "token:2-3:drop", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token;
    assert_int_equal(login(c, &log, &token), TDA_OK);
    assert_int_equal(log.retry, 2);
    assert_int_equal(log.last_retry_status, TDA_NETWORK);
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.faults_injected, 2);
    assert_int_equal(s.early_polls, 0);
    tda_token_clear(&token);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_refresh_rotates_single_use_tokens(void **state)
{
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "0", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token first, second, again;
    assert_int_equal(login(c, &log, &first), TDA_OK);
    assert_int_equal(tda_refresh_token(c, first.refresh_token, &second), TDA_OK);
    assert_token_complete(&second);
    assert_string_not_equal(second.access_token, first.access_token);
    assert_string_not_equal(second.refresh_token, first.refresh_token);
    /* The old refresh token is spent. */
    assert_int_equal(tda_refresh_token(c, first.refresh_token, &again), TDA_INVALID_GRANT);
    assert_int_equal(tda_client_http_status(c), 400);
    assert_null(again.access_token);
    assert_null(strstr(tda_client_error_detail(c), first.refresh_token));
    /* The new one works, once. */
    assert_int_equal(tda_refresh_token(c, second.refresh_token, &again), TDA_OK);
    assert_int_equal(emu_get_stats(&e).refreshes, 2);
    tda_token_clear(&first);
    tda_token_clear(&second);
    tda_token_clear(&again);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_revoked_token_cannot_be_refreshed(void **state)
{
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "0", NULL);
    tda_client *c = emu_client(&e);
    event_log log = {0};
    tda_token token, fresh;
    assert_int_equal(login(c, &log, &token), TDA_OK);
    assert_int_equal(tda_revoke_token(c, token.access_token), TDA_OK);
    assert_int_equal(tda_client_http_status(c), 200);
    assert_int_equal(tda_refresh_token(c, token.refresh_token, &fresh), TDA_INVALID_GRANT);
    assert_int_equal(emu_get_stats(&e).revokes, 1);
    tda_token_clear(&token);
    tda_client_free(c);
    emu_stop(&e);
}

typedef struct canceller {
    tda_client *client;
    int64_t cancelled_at;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    usleep(400 * 1000);
    k->cancelled_at = tda_monotonic_ms();
    tda_client_cancel(k->client);
    return NULL;
}

static void test_cancel_from_another_thread_ends_the_wait_promptly(void **state)
{
    emu e;
    emu_start(&e, "--interval", "2", NULL); /* waits of 2 s: a cancel must not wait them out */
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    canceller k = {c, 0};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, cancel_later, &k), 0);
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_CANCELLED);
    int64_t latency = tda_monotonic_ms() - k.cancelled_at;
    pthread_join(thread, NULL);
    print_message("cancel took effect after %lld ms\n", (long long)latency);
    assert_true(latency <= emu_prompt_ms());
    /* The client stays cancelled until reset, then works again. */
    assert_int_equal(tda_request_token(c, &code, &token), TDA_CANCELLED);
    tda_client_reset_cancel(c);
    tda_code fresh;
    assert_int_equal(tda_generate_code(c, &fresh), TDA_OK);
    tda_code_clear(&fresh);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static tda_client *signal_target;

static void cancel_on_alarm(int sig)
{
    (void)sig;
    tda_client_cancel(signal_target);
}

static void test_cancel_from_a_signal_handler(void **state)
{
    emu e;
    emu_start(&e, "--interval", "2", NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    signal_target = c;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cancel_on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval timer = {{0, 0}, {0, 300 * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
    int64_t t0 = tda_monotonic_ms();
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_CANCELLED);
    assert_true(tda_monotonic_ms() - t0 <= 300 + emu_prompt_ms());
    signal(SIGALRM, SIG_DFL);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_caller_deadline_ends_polling(void **state)
{
    emu e;
    emu_start(&e, FAST, NULL);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    event_log log = {0};
    tda_poll_options o = fast_options(&log);
    o.timeout_ms = 700;
    int64_t t0 = tda_monotonic_ms();
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_DEADLINE);
    int64_t took = tda_monotonic_ms() - t0;
    assert_true(took >= 700);
    assert_true(took <= 700 + emu_prompt_ms());
    assert_true(log.pending >= 2);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

/* A public client (no secret, as Trakt now advises for apps on users' devices) polls too. */
static void test_missing_secret_is_no_obstacle(void **state)
{
    emu e;
    emu_start(&e, FAST, "--approve-after-polls", "0", NULL);
    tda_client *c = tda_client_new(EMU_CLIENT_ID, NULL);
    assert_int_equal(tda_client_set_base_url(c, e.base_url), TDA_OK);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    tda_token token;
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_OK);
    assert_int_equal(emu_get_stats(&e).secrets_sent, 0);
    tda_token_clear(&token);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approval_gives_a_token_over_one_connection),
        cmocka_unit_test(test_denial_is_reported_at_once),
        cmocka_unit_test(test_code_expires_locally_without_approval),
        cmocka_unit_test(test_server_410_is_expiry),
        cmocka_unit_test(test_unknown_device_code_is_404),
        cmocka_unit_test(test_code_already_used_is_409),
        cmocka_unit_test(test_wrong_client_id_is_forbidden),
        cmocka_unit_test(test_wrong_secret_is_forbidden_at_once),
        cmocka_unit_test(test_429_slows_down_then_succeeds_without_early_polls),
        cmocka_unit_test(test_polling_too_fast_is_caught_by_the_emulator),
        cmocka_unit_test(test_5xx_burst_is_retried_then_succeeds),
        cmocka_unit_test(test_5xx_until_expiry_reports_the_server_error),
        cmocka_unit_test(test_dropped_connection_is_retried_then_succeeds),
        cmocka_unit_test(test_refresh_rotates_single_use_tokens),
        cmocka_unit_test(test_revoked_token_cannot_be_refreshed),
        cmocka_unit_test(test_cancel_from_another_thread_ends_the_wait_promptly),
        cmocka_unit_test(test_cancel_from_a_signal_handler),
        cmocka_unit_test(test_caller_deadline_ends_polling),
        cmocka_unit_test(test_missing_secret_is_no_obstacle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
