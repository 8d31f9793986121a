/*
 * The verbose log's redaction with canned answers: secret fields are hidden
 * at any depth (an error answer may echo or wrap a request), and a body that
 * is not a JSON object shows only its size and type.
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

static void log_body(const char *body)
{
    tda_client *c = tda_client_new("id", "the-client-secret");
    assert_non_null(c);
    tda_client_set_log(c, capture, NULL);
    tda_response r;
    memset(&r, 0, sizeof r);
    r.http_status = 400;
    r.body = body;
    r.body_len = strlen(body);
    r.content_type = "application/json";
    captured[0] = '\0';
    tda_log_answer(c, TDA_OK, &r, 12, "");
    tda_client_free(c);
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
}

static void test_non_json_body_shows_only_its_shape(void **state)
{
    (void)state;
    log_body("access_token=SECRET-PLAIN&x=1");
    assert_null(strstr(captured, "SECRET-PLAIN"));
    assert_non_null(strstr(captured, "bytes of"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_secrets_are_redacted),
        cmocka_unit_test(test_deep_nesting_is_redacted_whole),
        cmocka_unit_test(test_non_json_body_shows_only_its_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
