/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verbose log's redaction with canned requests and answers: secret fields
 * are hidden at any depth (an error answer may echo or wrap a request), a body
 * that is not a JSON object shows only its size and type, and the client
 * secret is masked wherever else in a line it turns up (a header, the URL,
 * another field's text, a transport error). Every test also checks that the
 * line it looks at was logged at all: an empty log would hide every secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static char captured[8192];

static void capture(const char *line, void *userdata)
{
    (void)userdata;
    strncat(captured, line, sizeof captured - strlen(captured) - 2);
    strcat(captured, "\n");
}

#define SECRET "the-client-secret"

static void assert_logged(const char *needle)
{
    if (!strstr(captured, needle))
        fail_msg("\"%s\" is not in the log:\n%s", needle, captured);
}

static void assert_not_logged(const char *needle)
{
    if (strstr(captured, needle))
        fail_msg("\"%s\" is in the log:\n%s", needle, captured);
}

static tda_client *logging_client(void)
{
    tda_client *c = tda_client_new("id", SECRET);
    assert_non_null(c);
    tda_client_set_log(c, capture, NULL);
    captured[0] = '\0';
    return c;
}

static void log_body(const char *body)
{
    tda_client *c = logging_client();
    tda__response r;
    memset(&r, 0, sizeof r);
    r.http_status = 400;
    r.body = body;
    r.body_len = strlen(body);
    r.content_type = "application/json";
    tda__log_answer(c, TDA_OK, &r, 12, "");
    tda_client_free(c);
    assert_logged("< HTTP 400 after 12 ms\n");
}

static void test_nested_secrets_are_redacted(void **state)
{
    (void)state;
    log_body("{\"error\":\"invalid_grant\",\"request\":{\"refresh_token\":\"SECRET-R\","
             "\"client_secret\":\"SECRET-C\",\"nested\":[{\"access_token\":\"SECRET-A\"}]},"
             "\"code\":\"SECRET-D\"}");
    assert_null(strstr(captured, "SECRET-"));
    assert_non_null(strstr(captured, "invalid_grant")); /* the rest stays readable */
    assert_non_null(strstr(captured, "[redacted]"));
}

static void test_deep_nesting_is_redacted_whole(void **state)
{
    (void)state;
    char body[512] = "";
    for (int i = 0; i < 12; i++)
        strcat(body, "{\"x\":");
    strcat(body, "\"SECRET-DEEP\"");
    for (int i = 0; i < 12; i++)
        strcat(body, "}");
    log_body(body);
    assert_null(strstr(captured, "SECRET-DEEP"));
    assert_logged("< {\"x\":{\"x\":"); /* the body was shown, its depths redacted */
    assert_logged("[redacted]");
}

static void test_non_json_body_shows_only_its_shape(void **state)
{
    (void)state;
    log_body("access_token=SECRET-PLAIN&x=1");
    assert_null(strstr(captured, "SECRET-PLAIN"));
    assert_logged("< (29 bytes of application/json)");
}

/* The client secret outside its field: in an answer's headers, text and body. */
static void test_client_secret_anywhere_in_an_answer_is_masked(void **state)
{
    (void)state;
    tda_client *c = logging_client();
    tda__response r;
    memset(&r, 0, sizeof r);
    r.http_status = 302;
    r.body = "{\"error\":\"invalid_client\",\"error_description\":\"secret " SECRET " is wrong\","
             "\"echo\":[\"x" SECRET "y\"]}";
    r.body_len = strlen(r.body);
    r.content_type = "application/json; " SECRET;
    r.retry_after = SECRET;
    r.server = "proxy/" SECRET;
    r.location = "https://evil.example/?s=" SECRET "&again=" SECRET;
    tda__log_answer(c, TDA_OK, &r, 3, "");
    tda__log_answer(c, TDA_NETWORK, &r, 4, "could not reach " SECRET);
    tda_client_free(c);
    assert_logged("< HTTP 302 after 3 ms\n");
    assert_logged("< content-type: application/json; *****************\n");
    assert_logged("< retry-after: *****************\n");
    assert_logged("< server: proxy/*****************\n");
    assert_logged("< location: https://evil.example/?s=*****************"
                  "&again=*****************\n");
    assert_logged("\"error_description\":\"secret ***************** is wrong\"");
    assert_logged("\"echo\":[\"x*****************y\"]");
    assert_logged("< no answer after 4 ms: could not reach *****************\n");
    assert_not_logged(SECRET);
}

/* ...and in a request: its URL, a header (here the User-Agent) and the body. */
static void test_client_secret_anywhere_in_a_request_is_masked(void **state)
{
    (void)state;
    tda_client *c = logging_client();
    assert_int_equal(tda_client_set_user_agent(c, "app/" SECRET), TDA_OK);
    const char json[] = "{\"client_id\":\"id\",\"client_secret\":\"" SECRET "\","
                        "\"note\":\"" SECRET "\"}";
    tda__body body = {(char *)json, sizeof json - 1};
    tda__log_request(c, "http://127.0.0.1:9/" SECRET "/oauth/token", &body);
    tda_client_free(c);
    assert_logged("> POST http://127.0.0.1:9/*****************/oauth/token\n");
    assert_logged("> user-agent: app/*****************\n");
    assert_logged("\"client_secret\":\"[redacted]\"");
    assert_logged("\"note\":\"*****************\"");
    assert_not_logged(SECRET);
}

/* A secret shorter than 4 characters is not searched for: it would mask ordinary text. */
static void test_a_very_short_secret_is_not_searched_for(void **state)
{
    (void)state;
    tda_client *c = tda_client_new("id", "abc");
    assert_non_null(c);
    tda_client_set_log(c, capture, NULL);
    captured[0] = '\0';
    tda__response r;
    memset(&r, 0, sizeof r);
    r.http_status = 500;
    r.server = "abcdef";
    tda__log_answer(c, TDA_OK, &r, 1, "");
    tda_client_free(c);
    assert_logged("< server: abcdef\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_secrets_are_redacted),
        cmocka_unit_test(test_deep_nesting_is_redacted_whole),
        cmocka_unit_test(test_non_json_body_shows_only_its_shape),
        cmocka_unit_test(test_client_secret_anywhere_in_an_answer_is_masked),
        cmocka_unit_test(test_client_secret_anywhere_in_a_request_is_masked),
        cmocka_unit_test(test_a_very_short_secret_is_not_searched_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
