/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base URL policy (https everywhere, plain http only to loopback) and the
 * client settings a program passes in: what is accepted, what is refused,
 * and that a refused setting leaves the client as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* ================================================================ helpers */

static void expect_url_ok(const char *url, const char *want_normalized)
{
    char *normalized = (char *)"junk";
    char why[256] = "";
    tda_status st = tda__url_check(url, &normalized, why, sizeof why);
    if (st != TDA_OK)
        fail_msg("\"%s\" refused (%s): %s", url, tda_status_name(st), why);
    assert_non_null(normalized);
    if (strcmp(normalized, want_normalized) != 0)
        fail_msg("\"%s\" normalized to \"%s\", want \"%s\"", url, normalized, want_normalized);
    tda__free(normalized);
}

static void expect_url_refused(const char *url)
{
    char *normalized = (char *)"junk";
    char why[256] = "";
    tda_status st = tda__url_check(url, &normalized, why, sizeof why);
    if (st != TDA_INVALID_ARGUMENT)
        fail_msg("\"%s\": got %s, want INVALID_ARGUMENT", url ? url : "(null)",
                 tda_status_name(st));
    assert_null(normalized);
    if (why[0] == '\0')
        fail_msg("\"%s\" refused without a reason", url ? url : "(null)");
}

static tda_client *new_client(void)
{
    tda_client *c = tda_client_new("my-client-id", "my-secret");
    assert_non_null(c);
    return c;
}

/* ============================================================ accepted */

static void test_url_trakt_auth_host_accepted_without_trailing_slash(void **state)
{
    expect_url_ok("https://auth.trakt.tv", "https://auth.trakt.tv");
}

static void test_url_trailing_slash_is_dropped(void **state)
{
    expect_url_ok("https://auth.trakt.tv/", "https://auth.trakt.tv");
    expect_url_ok("https://auth.trakt.tv//", "https://auth.trakt.tv");
}

static void test_url_http_loopback_ipv4_with_port_accepted(void **state)
{
    expect_url_ok("http://127.0.0.1:8080", "http://127.0.0.1:8080");
}

static void test_url_http_anywhere_in_127_slash_8_accepted(void **state)
{
    expect_url_ok("http://127.1.2.3", "http://127.1.2.3");
}

static void test_url_http_localhost_accepted(void **state)
{
    expect_url_ok("http://localhost:1", "http://localhost:1");
}

static void test_url_http_ipv6_loopback_accepted(void **state)
{
    expect_url_ok("http://[::1]:9", "http://[::1]:9");
}

static void test_url_base_path_is_kept(void **state)
{
    expect_url_ok("https://example.com/trakt/", "https://example.com/trakt");
    expect_url_ok("https://example.com/a/b", "https://example.com/a/b");
}

static void test_url_scheme_case_does_not_matter(void **state)
{
    expect_url_ok("HTTPS://auth.trakt.tv", "https://auth.trakt.tv");
}

/* ============================================================= refused */

static void test_url_plain_http_to_trakt_refused(void **state)
{
    expect_url_refused("http://api.trakt.tv");
    expect_url_refused("http://auth.trakt.tv");
}

static void test_url_plain_http_to_private_network_refused(void **state)
{
    expect_url_refused("http://10.0.0.1");
    expect_url_refused("http://192.168.1.1:8080");
    expect_url_refused("http://[::2]:9");
}

static void test_url_loopback_lookalike_host_refused(void **state)
{
    expect_url_refused("http://127.0.0.1.evil.com");
    expect_url_refused("http://localhost.evil.com");
}

static void test_url_other_scheme_refused(void **state)
{
    expect_url_refused("ftp://x");
    expect_url_refused("file:///etc/passwd");
}

static void test_url_empty_or_null_refused(void **state)
{
    expect_url_refused("");
    expect_url_refused(NULL);
}

static void test_url_not_a_url_refused(void **state)
{
    expect_url_refused("not a url");
    expect_url_refused("auth.trakt.tv");
    expect_url_refused("https://");
}

static void test_url_user_info_refused(void **state)
{
    expect_url_refused("https://user:pw@auth.trakt.tv");
    expect_url_refused("https://user@auth.trakt.tv");
}

static void test_url_password_without_user_refused(void **state)
{
    expect_url_refused("https://:pw@auth.trakt.tv");
}

static void test_url_query_refused(void **state)
{
    expect_url_refused("https://auth.trakt.tv/?q=1");
}

static void test_url_fragment_refused(void **state)
{
    expect_url_refused("https://auth.trakt.tv#f");
}

static void test_url_control_bytes_refused(void **state)
{
    expect_url_refused("https://auth.trakt.tv\r\n");
    expect_url_refused(" https://auth.trakt.tv");
}

static void test_url_refusal_without_why_buffer_is_fine(void **state)
{
    char *normalized = NULL;
    assert_int_equal(tda__url_check("http://api.trakt.tv", &normalized, NULL, 0),
                     TDA_INVALID_ARGUMENT);
    assert_null(normalized);
}

/* ================================================ through the public API */

static void test_client_defaults(void **state)
{
    tda_client *c = new_client();
    assert_string_equal(tda_client_base_url(c), TDA_DEFAULT_BASE_URL);
    assert_string_equal(TDA_DEFAULT_BASE_URL, "https://auth.trakt.tv");
    assert_int_equal(tda_client_http_status(c), 0);
    assert_int_equal(tda_client_retry_after_ms(c), -1);
    assert_string_equal(tda_client_error_detail(c), "");
    tda_client_free(c);
}

static void test_set_base_url_refuses_plain_http_and_says_use_https(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_base_url(c, "http://api.trakt.tv"), TDA_INVALID_ARGUMENT);
    const char *detail = tda_client_error_detail(c);
    if (!strstr(detail, "https"))
        fail_msg("detail does not mention https: \"%s\"", detail);
    tda_client_free(c);
}

static void test_refused_base_url_leaves_previous_one(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_base_url(c, "http://api.trakt.tv"), TDA_INVALID_ARGUMENT);
    assert_string_equal(tda_client_base_url(c), "https://auth.trakt.tv");
    assert_int_equal(tda_client_set_base_url(c, "http://127.0.0.1:8080/"), TDA_OK);
    assert_string_equal(tda_client_base_url(c), "http://127.0.0.1:8080");
    assert_int_equal(tda_client_set_base_url(c, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_base_url(c, ""), TDA_INVALID_ARGUMENT);
    assert_string_equal(tda_client_base_url(c), "http://127.0.0.1:8080");
    tda_client_free(c);
}

static void test_set_base_url_stores_normalized_url(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_base_url(c, "https://api-staging.trakt.tv/"), TDA_OK);
    assert_string_equal(tda_client_base_url(c), "https://api-staging.trakt.tv");
    tda_client_free(c);
}

static void test_client_new_refuses_null_client_id(void **state)
{
    assert_null(tda_client_new(NULL, "secret"));
}

static void test_client_new_refuses_empty_client_id(void **state)
{
    assert_null(tda_client_new("", "secret"));
}

static void test_client_new_refuses_crlf_in_client_id(void **state)
{
    /* The id goes into the trakt-api-key header: no header injection. */
    assert_null(tda_client_new("abc\r\nX-Evil: 1", "secret"));
}

static void test_client_new_refuses_crlf_in_secret(void **state)
{
    assert_null(tda_client_new("abc", "sec\r\nret"));
}

static void test_client_new_accepts_null_secret(void **state)
{
    tda_client *c = tda_client_new("abc", NULL);
    assert_non_null(c);
    tda_client_free(c);
}

static void test_user_agent_empty_refused(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_user_agent(c, ""), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_user_agent(c, NULL), TDA_INVALID_ARGUMENT);
    tda_client_free(c);
}

static void test_user_agent_with_crlf_refused(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_user_agent(c, "a\r\nb"), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_user_agent(c, "caf\xc3\xa9/1.0"), TDA_INVALID_ARGUMENT);
    tda_client_free(c);
}

static void test_user_agent_longer_than_256_refused(void **state)
{
    tda_client *c = new_client();
    char ua[301];
    memset(ua, 'a', 300);
    ua[300] = '\0';
    assert_int_equal(tda_client_set_user_agent(c, ua), TDA_INVALID_ARGUMENT);
    ua[257] = '\0';
    assert_int_equal(tda_client_set_user_agent(c, ua), TDA_INVALID_ARGUMENT);
    ua[256] = '\0';
    assert_int_equal(tda_client_set_user_agent(c, ua), TDA_OK);
    tda_client_free(c);
}

static void test_user_agent_app_name_accepted(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_user_agent(c, "myapp/1.2 (+https://example.com)"), TDA_OK);
    tda_client_free(c);
}

static void test_timeout_zero_or_negative_refused(void **state)
{
    tda_client *c = new_client();
    assert_int_equal(tda_client_set_timeout_ms(c, 0), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_timeout_ms(c, -1), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_timeout_ms(c, 1), TDA_OK);
    tda_client_free(c);
}

static void test_setters_refuse_null_client(void **state)
{
    assert_int_equal(tda_client_set_base_url(NULL, "https://auth.trakt.tv"), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_user_agent(NULL, "app/1"), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_timeout_ms(NULL, 1000), TDA_INVALID_ARGUMENT);
    assert_null(tda_client_base_url(NULL));
}

static void test_client_free_null_is_fine(void **state)
{
    tda_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_trakt_auth_host_accepted_without_trailing_slash),
        cmocka_unit_test(test_url_trailing_slash_is_dropped),
        cmocka_unit_test(test_url_http_loopback_ipv4_with_port_accepted),
        cmocka_unit_test(test_url_http_anywhere_in_127_slash_8_accepted),
        cmocka_unit_test(test_url_http_localhost_accepted),
        cmocka_unit_test(test_url_http_ipv6_loopback_accepted),
        cmocka_unit_test(test_url_base_path_is_kept),
        cmocka_unit_test(test_url_scheme_case_does_not_matter),
        cmocka_unit_test(test_url_plain_http_to_trakt_refused),
        cmocka_unit_test(test_url_plain_http_to_private_network_refused),
        cmocka_unit_test(test_url_loopback_lookalike_host_refused),
        cmocka_unit_test(test_url_other_scheme_refused),
        cmocka_unit_test(test_url_empty_or_null_refused),
        cmocka_unit_test(test_url_not_a_url_refused),
        cmocka_unit_test(test_url_user_info_refused),
        cmocka_unit_test(test_url_password_without_user_refused),
        cmocka_unit_test(test_url_query_refused),
        cmocka_unit_test(test_url_fragment_refused),
        cmocka_unit_test(test_url_control_bytes_refused),
        cmocka_unit_test(test_url_refusal_without_why_buffer_is_fine),
        cmocka_unit_test(test_client_defaults),
        cmocka_unit_test(test_set_base_url_refuses_plain_http_and_says_use_https),
        cmocka_unit_test(test_refused_base_url_leaves_previous_one),
        cmocka_unit_test(test_set_base_url_stores_normalized_url),
        cmocka_unit_test(test_client_new_refuses_null_client_id),
        cmocka_unit_test(test_client_new_refuses_empty_client_id),
        cmocka_unit_test(test_client_new_refuses_crlf_in_client_id),
        cmocka_unit_test(test_client_new_refuses_crlf_in_secret),
        cmocka_unit_test(test_client_new_accepts_null_secret),
        cmocka_unit_test(test_user_agent_empty_refused),
        cmocka_unit_test(test_user_agent_with_crlf_refused),
        cmocka_unit_test(test_user_agent_longer_than_256_refused),
        cmocka_unit_test(test_user_agent_app_name_accepted),
        cmocka_unit_test(test_timeout_zero_or_negative_refused),
        cmocka_unit_test(test_setters_refuse_null_client),
        cmocka_unit_test(test_client_free_null_is_fine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
