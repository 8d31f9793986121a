/*
 * What a newcomer hits first, found by writing an app from the docs alone:
 * an https base URL pointed at a plain-http server is a final TDA_TLS that
 * says the server does not speak TLS (not a network blip to retry for ever);
 * tda_client_http_status is 0 after a call that got no answer, never the
 * status of an earlier one; and the error detail is complete on its own, so
 * the README's idiom prints the message once.
 */
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

/* The emulator's http://127.0.0.1:PORT as https://127.0.0.1:PORT. */
static tda_client *https_to_plain_http(const emu *e)
{
    char url[300];
    snprintf(url, sizeof url, "https://%s", e->base_url + strlen("http://"));
    tda_client *c = emu_public_client(e);
    assert_int_equal(tda_client_set_base_url(c, url), TDA_OK);
    return c;
}

static void test_https_to_a_plain_http_server_is_final(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", NULL);
    tda_client *c = https_to_plain_http(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_TLS);
    assert_false(tda_status_is_transient(TDA_TLS));
    assert_int_equal(tda_client_http_status(c), 0);
    const char *detail = tda_client_error_detail(c);
    assert_non_null(strstr(detail, "does not speak TLS"));
    assert_non_null(strstr(detail, "http://"));
    /* Polling stops at once too, instead of retrying until the code expires. */
    tda_client *plain = emu_public_client(&e);
    assert_int_equal(tda_generate_code(plain, &code), TDA_OK);
    tda_token token;
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_TLS);
    assert_true(tda_monotonic_ms() - t0 < 100 + emu_prompt_ms()); /* one interval, one try */
    assert_non_null(strstr(tda_client_error_detail(c), "does not speak TLS"));
    tda_code_clear(&code);
    tda_client_free(plain);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_http_status_is_zero_after_a_call_without_an_answer(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--fault", "code:2:429:retry-after=30", NULL);
    tda_client *c = emu_public_client(&e);
    tda_code code;
    tda_token token;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_int_equal(tda_client_http_status(c), 200);
    /* A local failure (bad argument) after an answer of 200. */
    assert_int_equal(tda_refresh_token(c, "", &token), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_http_status(c), 0);
    assert_string_equal(tda_client_error_detail(c), "");
    /* A 429 with Retry-After, then a call refused before it is sent (cancelled). */
    tda_code second;
    assert_int_equal(tda_generate_code(c, &second), TDA_SLOW_DOWN);
    assert_int_equal(tda_client_http_status(c), 429);
    assert_int_equal(tda_client_retry_after_ms(c), 30000);
    tda_client_cancel(c);
    assert_int_equal(tda_request_token(c, &code, &token), TDA_CANCELLED);
    assert_int_equal(tda_client_http_status(c), 0);
    assert_int_equal(tda_client_retry_after_ms(c), -1);
    tda_client_reset_cancel(c);
    /* A poll answered 400 (pending) and then cancelled between answers. */
    assert_int_equal(tda_request_token(c, &code, &token), TDA_PENDING);
    assert_int_equal(tda_client_http_status(c), 400);
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 250; /* two or so pending answers, then the caller's deadline */
    usleep(150 * 1000);  /* the manual request above counts: the next must wait an interval */
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_DEADLINE);
    assert_int_equal(tda_client_http_status(c), 0);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_http_status_of_the_answer_that_ended_a_poll(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--deny-after-polls", "1", NULL);
    tda_client *c = emu_public_client(&e);
    tda_code code;
    tda_token token;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_DENIED);
    assert_int_equal(tda_client_http_status(c), 418);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

/* The detail already says what tda_strerror says: the README prints one or the other. */
static void test_detail_is_complete_on_its_own(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--fault", "code:1:403", "--fault", "code:2:503", NULL);
    tda_client *c = emu_public_client(&e);
    tda_code code;
    tda_status st = tda_generate_code(c, &code);
    assert_int_equal(st, TDA_FORBIDDEN);
    assert_non_null(strstr(tda_client_error_detail(c), tda_strerror(st)));
    st = tda_generate_code(c, &code);
    assert_int_equal(st, TDA_OVERLOADED);
    assert_non_null(strstr(tda_client_error_detail(c), tda_strerror(st)));
    tda_client_free(c);
    emu_stop(&e);
    /* Nothing listening: the detail carries the message and libcurl's reason. */
    tda_client *nowhere = tda_client_new("id", NULL);
    assert_int_equal(tda_client_set_base_url(nowhere, "http://127.0.0.1:9"), TDA_OK);
    st = tda_generate_code(nowhere, &code);
    assert_int_equal(st, TDA_NETWORK);
    assert_non_null(strstr(tda_client_error_detail(nowhere), tda_strerror(st)));
    tda_client_free(nowhere);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_to_a_plain_http_server_is_final),
        cmocka_unit_test(test_http_status_is_zero_after_a_call_without_an_answer),
        cmocka_unit_test(test_http_status_of_the_answer_that_ended_a_poll),
        cmocka_unit_test(test_detail_is_complete_on_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
