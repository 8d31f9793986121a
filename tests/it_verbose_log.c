/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the verbose log (tda_client_set_log) over a whole session
 * against the emulator: login, refresh, revoke, and a refused refresh. The log
 * must show requests, answers and headers, and no secret at all: not the
 * client secret, the device code, or any access or refresh token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

typedef struct log_buf {
    char *text; /* every line, each followed by '\n' */
    size_t len, cap;
    int lines;
    int embedded_newlines;
} log_buf;

static void collect_line(const char *line, void *userdata)
{
    log_buf *b = userdata;
    size_t n = strlen(line);
    if (strchr(line, '\n'))
        b->embedded_newlines++;
    if (b->len + n + 2 > b->cap) {
        size_t cap = (b->cap + n + 2) * 2;
        char *grown = realloc(b->text, cap);
        assert_non_null(grown);
        b->text = grown;
        b->cap = cap;
    }
    memcpy(b->text + b->len, line, n);
    b->len += n;
    b->text[b->len++] = '\n';
    b->text[b->len] = '\0';
    b->lines++;
}

static char *copy(const char *s)
{
    assert_non_null(s);
    char *c = strdup(s);
    assert_non_null(c);
    return c;
}

/* text must not contain secret. */
static void assert_no_secret(const char *text, const char *secret, const char *what)
{
    assert_non_null(secret);
    if (strstr(text, secret))
        fail_msg("the %s appears in:\n%s", what, text);
}

/*
 * For random secrets (device code, tokens): not even their first 12 bytes, a
 * cut-off copy. (Not for the client secret: "test-client-" starts the client id.)
 */
static void assert_no_random_secret(const char *text, const char *secret, const char *what)
{
    assert_no_secret(text, secret, what);
    assert_true(strlen(secret) >= 12);
    char prefix[13];
    memcpy(prefix, secret, 12);
    prefix[12] = '\0';
    if (strstr(text, prefix))
        fail_msg("the start of the %s appears in:\n%s", what, text);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" missing from the log:\n%s", needle, text);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_verbose_log_shows_traffic_and_no_secret(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.2", "--approve-after-polls", "1", NULL);
    tda_client *c = emu_client(&e);
    log_buf log = {0};
    tda_client_set_log(c, collect_line, &log);

    /* A full login. */
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    char *device_code = copy(code.device_code);
    tda_poll_options opts;
    memset(&opts, 0, sizeof opts);
    opts.slow_down_step_ms = 300;
    tda_token first;
    assert_int_equal(tda_poll_for_token(c, &code, &opts, &first), TDA_OK);
    char *access1 = copy(first.access_token);
    char *refresh1 = copy(first.refresh_token);
    tda_code_clear(&code);
    tda_token_clear(&first);

    /* A refresh, then revoking the new pair. */
    tda_token second;
    assert_int_equal(tda_refresh_token(c, refresh1, &second), TDA_OK);
    char *access2 = copy(second.access_token);
    char *refresh2 = copy(second.refresh_token);
    tda_token_clear(&second);
    assert_int_equal(tda_revoke_token(c, access2), TDA_OK);

    /* The spent refresh token is refused; the detail names no token. */
    tda_token refused;
    assert_int_equal(tda_refresh_token(c, refresh1, &refused), TDA_INVALID_GRANT);
    assert_null(refused.access_token);
    const char *detail = tda_client_error_detail(c);
    assert_true(detail[0] != '\0');
    assert_no_random_secret(detail, refresh1, "spent refresh token (in the error detail)");
    assert_no_random_secret(detail, refresh2, "new refresh token (in the error detail)");
    assert_no_random_secret(detail, access1, "first access token (in the error detail)");
    assert_no_random_secret(detail, access2, "second access token (in the error detail)");
    assert_no_secret(detail, EMU_CLIENT_SECRET, "client secret (in the error detail)");

    /* With the log off, nothing more arrives. */
    tda_client_set_log(c, NULL, NULL);
    int lines_before = log.lines;
    tda_token again;
    assert_int_equal(tda_refresh_token(c, refresh2, &again), TDA_INVALID_GRANT); /* revoked */
    assert_int_equal(log.lines, lines_before);

    const char *text = log.text;
    assert_non_null(text);
    assert_true(log.lines > 10);
    assert_int_equal(log.embedded_newlines, 0);
    print_message("verbose log: %d lines, %zu bytes\n", log.lines, log.len);

    /* Requests: code, two polls (pending, approved), refresh, revoke, refused refresh. */
    char want[512];
    snprintf(want, sizeof want, "> POST %s/oauth/device/code", e.base_url);
    assert_int_equal(count(text, want), 1);
    snprintf(want, sizeof want, "> POST %s/oauth/device/token", e.base_url);
    assert_int_equal(count(text, want), 2);
    snprintf(want, sizeof want, "> POST %s/oauth/token\n", e.base_url);
    assert_int_equal(count(text, want), 2);
    snprintf(want, sizeof want, "> POST %s/oauth/revoke", e.base_url);
    assert_int_equal(count(text, want), 1);
    assert_int_equal(count(text, "> POST "), 6);
    /* Answers: the pending poll's 400 and the refused refresh's 400, the rest 200. */
    assert_int_equal(count(text, "< HTTP "), 6);
    assert_int_equal(count(text, "< HTTP 200"), 4);
    assert_int_equal(count(text, "< HTTP 400"), 2);
    /* Headers, request and answer side. */
    assert_contains(text, "> user-agent: traktdeviceauth-tests/1.0");
    assert_contains(text, "> content-type: application/json");
    assert_contains(text, "> trakt-api-version: 2");
    assert_contains(text, "> trakt-api-key: " EMU_CLIENT_ID);
    assert_contains(text, "< content-type:");
    /* Bodies are shown with secrets replaced. */
    assert_contains(text, "[redacted]");
    assert_contains(text, "invalid_grant");

    assert_no_secret(text, EMU_CLIENT_SECRET, "client secret");
    assert_no_random_secret(text, device_code, "device code");
    assert_no_random_secret(text, access1, "first access token");
    assert_no_random_secret(text, refresh1, "first refresh token");
    assert_no_random_secret(text, access2, "second access token");
    assert_no_random_secret(text, refresh2, "second refresh token");

    free(device_code);
    free(access1);
    free(refresh1);
    free(access2);
    free(refresh2);
    free(log.text);
    tda_client_free(c);
    emu_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbose_log_shows_traffic_and_no_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
