/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Public clients, as Trakt advises since July 2026 for apps on users' own
 * devices: every call of the library, blocking and multi, with no client
 * secret configured anywhere (neither the client nor the emulator has one),
 * and the emulator's request log shows that no request carried a
 * client_secret. Then the two other kinds of app the emulator models: one
 * with a secret, which takes requests with it or without it and refuses a
 * wrong one, and one that still requires it (--require-secret), whose 401 to
 * a secret-less request says the app may need its secret and how to give it.
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

#define LOG_MAX 256

typedef struct logged {
    char path[64];
    emu_logged lines[LOG_MAX];
    int n;
} logged;

static void start_logged(emu *e, logged *log, int public_app, const char *const *extra)
{
    snprintf(log->path, sizeof log->path, "/tmp/tda-public-XXXXXX");
    int fd = mkstemp(log->path);
    assert_true(fd >= 0);
    close(fd);
    const char *argv[24];
    int argc = 0;
    argv[argc++] = "--interval";
    argv[argc++] = "0.1";
    argv[argc++] = "--approve-after-polls";
    argv[argc++] = "1";
    argv[argc++] = "--log";
    argv[argc++] = log->path;
    for (int i = 0; extra && extra[i]; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    if (public_app)
        emu_start_public_argv(e, argv);
    else
        emu_start_argv(e, argv);
}

static void read_log(logged *log)
{
    log->n = emu_read_log(log->path, NULL, log->lines, LOG_MAX);
    unlink(log->path);
}

/* How many logged requests to an OAuth endpoint carried a secret (1) or did not (0). */
static int count_secret(const logged *log, int secret)
{
    int n = 0;
    for (int i = 0; i < log->n; i++)
        n += log->lines[i].secret == secret;
    return n;
}

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    (void)flow;
    int *ok = userdata;
    *ok += status == TDA_OK && token->access_token != NULL;
    tda_token_clear(token);
}

static void test_every_call_without_any_secret(void **state)
{
    emu e;
    logged log;
    start_logged(&e, &log, 1, NULL);
    tda_client *c = emu_public_client(&e);

    /* tda_generate_code and one tda_request_token: pending. */
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    tda_token token;
    assert_int_equal(tda_request_token(c, &code, &token), TDA_PENDING);
    assert_int_equal(tda_client_http_status(c), 400);
    usleep(150 * 1000);
    /* tda_poll_for_token: the blocking engine. */
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_OK);
    tda_code_clear(&code);

    /* tda_multi: three flows in one engine. */
    tda_multi *m = tda_multi_new(c);
    tda_code codes[3];
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tda_generate_code(c, &codes[i]), TDA_OK);
        assert_non_null(tda_multi_add(m, &codes[i], NULL, on_done, &ok));
    }
    while (tda_multi_flow_count(m) > 0)
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
    assert_int_equal(ok, 3);
    tda_multi_free(m);
    for (int i = 0; i < 3; i++)
        tda_code_clear(&codes[i]);

    /* tda_refresh_token, then tda_revoke_token on the new pair. */
    tda_token fresh;
    assert_int_equal(tda_refresh_token(c, token.refresh_token, &fresh), TDA_OK);
    assert_int_equal(tda_revoke_token(c, fresh.access_token), TDA_OK);
    tda_token again;
    assert_int_equal(tda_refresh_token(c, fresh.refresh_token, &again), TDA_INVALID_GRANT);
    tda_token_clear(&fresh);
    tda_token_clear(&token);

    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.secrets_sent, 0);
    assert_int_equal(s.tokens_issued, 4);
    assert_int_equal(s.refreshes, 1);
    assert_int_equal(s.revokes, 1);
    tda_client_free(c);
    emu_stop(&e);
    read_log(&log);
    /* 4 codes, 2 + 3 * 2 polls, 2 refreshes, 1 revoke: all without a secret. */
    assert_int_equal(count_secret(&log, 1), 0);
    assert_int_equal(count_secret(&log, 0), 4 + 8 + 2 + 1);
}

/* An app with a secret: requests may send it or leave it out; a wrong one is refused. */
static void test_app_with_a_secret_takes_it_or_none(void **state)
{
    emu e;
    logged log;
    start_logged(&e, &log, 0, NULL);
    tda_client *with = emu_client(&e);
    tda_client *without = emu_public_client(&e);
    tda_client *wrong = tda_client_new(EMU_CLIENT_ID, "not-the-secret");
    assert_int_equal(tda_client_set_base_url(wrong, e.base_url), TDA_OK);
    tda_code code;
    tda_token a, b;
    assert_int_equal(tda_generate_code(with, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(with, &code, NULL, &a), TDA_OK);
    tda_code_clear(&code);
    assert_int_equal(tda_generate_code(without, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(without, &code, NULL, &b), TDA_OK);
    tda_code_clear(&code);
    tda_token c;
    assert_int_equal(tda_refresh_token(wrong, a.refresh_token, &c), TDA_FORBIDDEN);
    assert_int_equal(tda_client_http_status(wrong), 401);
    /* The wrong secret was sent, so the detail does not blame a missing one. */
    assert_null(strstr(tda_client_error_detail(wrong), "no client secret was sent"));
    assert_int_equal(tda_refresh_token(without, a.refresh_token, &c), TDA_OK);
    tda_token_clear(&c);
    assert_int_equal(tda_refresh_token(with, b.refresh_token, &c), TDA_OK);
    tda_token_clear(&c);
    tda_token_clear(&a);
    tda_token_clear(&b);
    emu_stats s = emu_get_stats(&e);
    tda_client_free(with);
    tda_client_free(without);
    tda_client_free(wrong);
    emu_stop(&e);
    read_log(&log);
    /* with: 2 polls + 1 refresh; wrong: 1 refresh. */
    assert_int_equal(count_secret(&log, 1), 4);
    assert_int_equal((int)s.secrets_sent, 4);
}

/* An app Trakt still asks for its secret: the refusal says so, and how to give it. */
static void test_app_that_requires_its_secret(void **state)
{
    emu e;
    logged log;
    static const char *const require[] = {"--require-secret", NULL};
    start_logged(&e, &log, 0, require);
    tda_client *with = emu_client(&e);
    tda_client *without = emu_public_client(&e);
    tda_code code;
    tda_token token, none;
    /* The device-code request never carries a secret and is never refused for it. */
    assert_int_equal(tda_generate_code(without, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(without, &code, NULL, &none), TDA_FORBIDDEN);
    assert_int_equal(tda_client_http_status(without), 401);
    const char *detail = tda_client_error_detail(without);
    assert_non_null(strstr(detail, "no client secret was sent"));
    assert_non_null(strstr(detail, "tda_client_new's second argument"));
    tda_code_clear(&code);
    /* The multi engine's flows say the same. */
    assert_int_equal(tda_generate_code(without, &code), TDA_OK);
    assert_int_equal(tda_request_token(without, &code, &none), TDA_FORBIDDEN);
    assert_non_null(strstr(tda_client_error_detail(without), "no client secret was sent"));
    tda_code_clear(&code);
    assert_int_equal(tda_generate_code(with, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(with, &code, NULL, &token), TDA_OK);
    tda_code_clear(&code);
    assert_int_equal(tda_refresh_token(without, token.refresh_token, &none), TDA_FORBIDDEN);
    assert_non_null(strstr(tda_client_error_detail(without), "no client secret was sent"));
    assert_int_equal(tda_revoke_token(without, token.access_token), TDA_FORBIDDEN);
    assert_non_null(strstr(tda_client_error_detail(without), "no client secret was sent"));
    /* Refused before Trakt's logic ran: the pair still works with the secret. */
    tda_token fresh;
    assert_int_equal(tda_refresh_token(with, token.refresh_token, &fresh), TDA_OK);
    tda_token_clear(&fresh);
    tda_token_clear(&token);
    tda_client_free(with);
    tda_client_free(without);
    emu_stop(&e);
    read_log(&log);
}

static void flow_detail(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    char *out = userdata;
    snprintf(out, 512, "%s|%s", tda_status_name(status), tda_flow_error_detail(flow));
    tda_token_clear(token);
}

static void test_multi_flow_refused_for_no_secret_says_so(void **state)
{
    emu e;
    logged log;
    static const char *const require[] = {"--require-secret", NULL};
    start_logged(&e, &log, 0, require);
    tda_client *c = emu_public_client(&e);
    tda_multi *m = tda_multi_new(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    char result[512] = "";
    assert_non_null(tda_multi_add(m, &code, NULL, flow_detail, result));
    while (tda_multi_flow_count(m) > 0)
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
    assert_non_null(strstr(result, "FORBIDDEN|"));
    assert_non_null(strstr(result, "no client secret was sent"));
    tda_multi_free(m);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
    read_log(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_call_without_any_secret),
        cmocka_unit_test(test_app_with_a_secret_takes_it_or_none),
        cmocka_unit_test(test_app_that_requires_its_secret),
        cmocka_unit_test(test_multi_flow_refused_for_no_secret_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
