/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protocol as pure functions (src/protocol.h): the JSON each request
 * sends, what every HTTP answer of every endpoint means, Retry-After, and the
 * strict parsing of the code and token answers. The facts are Trakt's (its
 * API documentation and contract, late 2026), each stated where it is
 * checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_hooks.h"
#include "protocol.h"

#define NOW 1700000000LL /* Tue, 14 Nov 2023 22:13:20 GMT */
#define DAY_MS 86400000LL
#define FAKE_SECRET "FAKESECRETzq81"

/* ================================================================ helpers */

/* Parses a request body back, refusing duplicate keys, and checks it is an object. */
static json_t *body_json(const tda__body *b)
{
    assert_non_null(b->data);
    assert_int_equal(strlen(b->data), b->len);
    json_error_t err;
    json_t *root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        fail_msg("request body is not JSON: %s", err.text);
    assert_true(json_is_object(root));
    return root;
}

static void assert_field(json_t *root, const char *name, const char *want)
{
    json_t *v = json_object_get(root, name);
    if (!v)
        fail_msg("request body lacks field \"%s\"", name);
    if (!json_is_string(v))
        fail_msg("field \"%s\" is not a string", name);
    assert_int_equal(json_string_length(v), strlen(want));
    assert_memory_equal(json_string_value(v), want, strlen(want));
}

/* The three-argument builders in one shape, so tests can walk them all. */
typedef tda_status (*builder_fn)(const char *id, const char *secret, const char *token,
                                 tda__body *out);

static tda_status build_code3(const char *id, const char *secret, const char *token, tda__body *out)
{
    return tda__build_code_request(id, out);
}

static tda_status build_refresh3(const char *id, const char *secret, const char *token,
                                 tda__body *out)
{
    return tda__build_refresh_request(id, secret, token, "urn:ietf:wg:oauth:2.0:oob", out);
}

typedef struct builder {
    const char *what;
    builder_fn fn;
    int args;                /* 1: client id only; 3: id, secret, token */
    const char *token_field; /* where the third argument goes */
} builder;

static const builder builders[] = {
    {"device code", build_code3, 1, NULL},
    {"device token", tda__build_token_request, 3, "code"},
    {"refresh", build_refresh3, 3, "refresh_token"},
    {"revoke", tda__build_revoke_request, 3, "token"},
};
#define N_BUILDERS (sizeof builders / sizeof builders[0])

static tda__response resp_status(long http)
{
    tda__response r;
    memset(&r, 0, sizeof r);
    r.http_status = http;
    return r;
}

static tda__response resp_json(long http, const char *body)
{
    tda__response r = resp_status(http);
    r.body = body;
    r.body_len = strlen(body);
    r.content_type = "application/json; charset=utf-8";
    return r;
}

static tda_status classify(tda__endpoint ep, const tda__response *r, int64_t *retry_after_ms,
                           char *detail, size_t size)
{
    return tda__classify_response(ep, r, NOW, retry_after_ms, detail, size);
}

static const tda__endpoint endpoints[] = {TDA__EP_DEVICE_CODE, TDA__EP_DEVICE_TOKEN,
                                          TDA__EP_REFRESH, TDA__EP_REVOKE};
#define N_ENDPOINTS (sizeof endpoints / sizeof endpoints[0])

/*
 * Every status Trakt documents or is seen to send on these endpoints (200, 400,
 * 401, 403, 404, 409, 410, 418, 429, 500, 502-504, and Cloudflare's 520-522),
 * plus redirects, an undocumented 4xx (405) and an unlisted 5xx (501).
 */
static const long listed_statuses[] = {200, 301, 302, 400, 401, 403, 404, 405, 409, 410,
                                       418, 429, 500, 501, 502, 503, 504, 520, 521, 522};
#define N_LISTED (sizeof listed_statuses / sizeof listed_statuses[0])

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void assert_lacks(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle))
        fail_msg("\"%s\" contains \"%s\"", haystack, needle);
}

/*
 * The expected class of each HTTP status, per endpoint. Trakt's answers to a
 * poll (POST /oauth/device/token): 200 approved, 400 pending, 404 unknown code,
 * 409 already used, 410 expired, 418 denied, 429 polling too fast, 401 and 403
 * client refused (or Cloudflare), 500 server error, 502-504 overloaded, 520-522
 * Cloudflare. The code, refresh and revoke endpoints answer 200, 401/403, 429
 * and the 5xx alike; a refresh's 400 (invalid_grant) and 401 mean the refresh
 * token is spent or revoked; revoke answers 200 (any 2xx is fine).
 */
typedef struct expect_row {
    long http;
    tda_status want;
} expect_row;

static void check_table(tda__endpoint ep, const expect_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tda__response r = resp_status(rows[i].http);
        int64_t ra = 12345;
        char detail[512];
        tda_status st = classify(ep, &r, &ra, detail, sizeof detail);
        if (st != rows[i].want)
            fail_msg("POST %s HTTP %ld: got %s, want %s", tda__endpoint_path(ep), rows[i].http,
                     tda_status_name(st), tda_status_name(rows[i].want));
        assert_int_equal(ra, -1);
    }
}

#define CHECK_TABLE(ep, rows) check_table(ep, rows, sizeof rows / sizeof rows[0])

/* ======================================================== request bodies */

static void test_endpoint_paths_are_trakts(void **state)
{
    assert_string_equal(tda__endpoint_path(TDA__EP_DEVICE_CODE), "/oauth/device/code");
    assert_string_equal(tda__endpoint_path(TDA__EP_DEVICE_TOKEN), "/oauth/device/token");
    assert_string_equal(tda__endpoint_path(TDA__EP_REFRESH), "/oauth/token");
    assert_string_equal(tda__endpoint_path(TDA__EP_REVOKE), "/oauth/revoke");
}

static void test_code_request_sends_only_client_id(void **state)
{
    tda__body b;
    assert_int_equal(tda__build_code_request("my-client-id", &b), TDA_OK);
    json_t *root = body_json(&b);
    assert_int_equal(json_object_size(root), 1);
    assert_field(root, "client_id", "my-client-id");
    json_decref(root);
    tda__body_clear(&b);
}

static void test_token_request_uses_trakt_field_code(void **state)
{
    tda__body b;
    assert_int_equal(tda__build_token_request("cid", "csecret", "dev-code-1", &b), TDA_OK);
    json_t *root = body_json(&b);
    assert_field(root, "code", "dev-code-1");
    assert_null(json_object_get(root, "device_code"));
    json_decref(root);
    tda__body_clear(&b);
}

static void test_token_request_has_exactly_code_client_id_and_secret(void **state)
{
    tda__body b;
    assert_int_equal(tda__build_token_request("cid", "csecret", "dev-code-1", &b), TDA_OK);
    json_t *root = body_json(&b);
    assert_int_equal(json_object_size(root), 3);
    assert_field(root, "code", "dev-code-1");
    assert_field(root, "client_id", "cid");
    assert_field(root, "client_secret", "csecret");
    assert_null(json_object_get(root, "grant_type"));
    json_decref(root);
    tda__body_clear(&b);
}

static void test_refresh_request_has_oob_redirect_and_refresh_grant(void **state)
{
    tda__body b;
    assert_int_equal(
        tda__build_refresh_request("cid", "csecret", "rtok", TDA_DEFAULT_REDIRECT_URI, &b), TDA_OK);
    json_t *root = body_json(&b);
    assert_int_equal(json_object_size(root), 5);
    assert_field(root, "refresh_token", "rtok");
    assert_field(root, "client_id", "cid");
    assert_field(root, "client_secret", "csecret");
    assert_field(root, "redirect_uri", "urn:ietf:wg:oauth:2.0:oob");
    assert_field(root, "grant_type", "refresh_token");
    json_decref(root);
    tda__body_clear(&b);
}

static void test_revoke_request_sends_token_client_id_and_secret(void **state)
{
    tda__body b;
    assert_int_equal(tda__build_revoke_request("cid", "csecret", "atok", &b), TDA_OK);
    json_t *root = body_json(&b);
    assert_int_equal(json_object_size(root), 3);
    assert_field(root, "token", "atok");
    assert_field(root, "client_id", "cid");
    assert_field(root, "client_secret", "csecret");
    json_decref(root);
    tda__body_clear(&b);
}

static void test_refresh_request_sends_the_redirect_uri_it_is_given(void **state)
{
    tda__body b;
    assert_int_equal(tda__build_refresh_request("cid", NULL, "rtok", "https://app.example/cb", &b),
                     TDA_OK);
    json_t *root = body_json(&b);
    assert_field(root, "redirect_uri", "https://app.example/cb");
    json_decref(root);
    tda__body_clear(&b);
    assert_int_equal(tda__build_refresh_request("cid", NULL, "rtok", NULL, &b),
                     TDA_INVALID_ARGUMENT);
}

/* A public client (Trakt's advice for apps on users' devices): no client_secret member at all. */
static void test_without_a_secret_no_body_has_a_client_secret_member(void **state)
{
    for (size_t i = 0; i < N_BUILDERS; i++) {
        tda__body b;
        tda_status st = builders[i].fn("cid", NULL, "tok", &b);
        if (st != TDA_OK)
            fail_msg("%s request without a secret: %s", builders[i].what, tda_status_name(st));
        json_t *root = body_json(&b);
        if (json_object_get(root, "client_secret"))
            fail_msg("%s request without a secret has a client_secret member: %s", builders[i].what,
                     b.data);
        assert_lacks(b.data, "secret");
        assert_field(root, "client_id", "cid");
        if (builders[i].args == 3) {
            assert_field(root, builders[i].token_field, "tok");
            /* Exactly one member fewer than with a secret. */
            tda__body with;
            assert_int_equal(builders[i].fn("cid", "csecret", "tok", &with), TDA_OK);
            json_t *full = body_json(&with);
            assert_int_equal(json_object_size(root) + 1, json_object_size(full));
            json_decref(full);
            tda__body_clear(&with);
        }
        json_decref(root);
        tda__body_clear(&b);
    }
}

/* Quotes, backslashes, control characters and non-ASCII UTF-8 (2, 3 and 4 bytes). */
static const char nasty[] = "q\"uo\\te/\n\r\tend \x01 \xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80 '}{";

static void test_every_argument_round_trips_quotes_backslashes_newlines_utf8(void **state)
{
    for (size_t i = 0; i < N_BUILDERS; i++) {
        for (int slot = 0; slot < builders[i].args; slot++) {
            const char *args[3] = {"cid", "csecret", "tok"};
            args[slot] = nasty;
            tda__body b;
            tda_status st = builders[i].fn(args[0], args[1], args[2], &b);
            if (st != TDA_OK)
                fail_msg("%s request, argument %d: %s", builders[i].what, slot,
                         tda_status_name(st));
            json_t *root = body_json(&b);
            assert_field(root, "client_id", args[0]);
            if (builders[i].args == 3) {
                assert_field(root, "client_secret", args[1]);
                assert_field(root, builders[i].token_field, args[2]);
            }
            json_decref(root);
            tda__body_clear(&b);
        }
    }
}

static void test_invalid_utf8_argument_is_invalid_argument(void **state)
{
    const char *bad[] = {"\xff", "abc\xc3", "\xc0\xaf", "x\x80y"};
    for (size_t i = 0; i < N_BUILDERS; i++) {
        for (int slot = 0; slot < builders[i].args; slot++) {
            for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
                const char *args[3] = {"cid", "csecret", "tok"};
                args[slot] = bad[k];
                tda__body b = {(char *)"junk", 4};
                tda_status st = builders[i].fn(args[0], args[1], args[2], &b);
                if (st != TDA_INVALID_ARGUMENT)
                    fail_msg("%s request, argument %d, bad UTF-8 #%zu: %s", builders[i].what, slot,
                             k, tda_status_name(st));
                assert_null(b.data);
                assert_int_equal(b.len, 0);
            }
        }
    }
}

static void test_null_argument_is_invalid_argument(void **state)
{
    for (size_t i = 0; i < N_BUILDERS; i++) {
        for (int slot = 0; slot < builders[i].args; slot++) {
            if (slot == 1)
                continue; /* the secret is optional: see the test above */
            const char *args[3] = {"cid", "csecret", "tok"};
            args[slot] = NULL;
            tda__body b = {(char *)"junk", 4};
            tda_status st = builders[i].fn(args[0], args[1], args[2], &b);
            if (st != TDA_INVALID_ARGUMENT)
                fail_msg("%s request, NULL argument %d: %s", builders[i].what, slot,
                         tda_status_name(st));
            assert_null(b.data);
        }
    }
}

static int fail_malloc_now;
static void *failing_malloc(size_t n)
{
    if (fail_malloc_now)
        return NULL;
    return malloc(n);
}

static void test_builder_out_of_memory_is_no_memory_not_invalid_argument(void **state)
{
    const tda__alloc_hooks hooks = {failing_malloc, realloc, free, NULL};
    tda__set_alloc_hooks(&hooks);
    fail_malloc_now = 1;
    tda__body b;
    tda_status st = tda__build_token_request("cid", "csecret", "dev", &b);
    fail_malloc_now = 0;
    tda__set_alloc_hooks(NULL);
    assert_int_equal(st, TDA_NO_MEMORY);
    assert_null(b.data);
}

static void test_body_clear_zeroes_and_accepts_null(void **state)
{
    tda__body b;
    assert_int_equal(tda__build_code_request("cid", &b), TDA_OK);
    tda__body_clear(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    tda__body_clear(&b); /* twice is fine */
    tda__body_clear(NULL);
}

/* ===================================================== classification */

static void test_device_code_statuses_follow_trakt(void **state)
{
    static const expect_row rows[] = {
        {200, TDA_OK},
        {301, TDA_UNEXPECTED_STATUS},
        {302, TDA_UNEXPECTED_STATUS},
        {400, TDA_UNEXPECTED_STATUS},
        {401, TDA_FORBIDDEN},
        {403, TDA_FORBIDDEN},
        {404, TDA_UNEXPECTED_STATUS},
        {405, TDA_UNEXPECTED_STATUS},
        {409, TDA_UNEXPECTED_STATUS},
        {410, TDA_UNEXPECTED_STATUS},
        {418, TDA_UNEXPECTED_STATUS},
        {429, TDA_SLOW_DOWN},
        {500, TDA_SERVER_ERROR},
        {501, TDA_SERVER_ERROR},
        {502, TDA_OVERLOADED},
        {503, TDA_OVERLOADED},
        {504, TDA_OVERLOADED},
        {520, TDA_CLOUDFLARE},
        {521, TDA_CLOUDFLARE},
        {522, TDA_CLOUDFLARE},
    };
    CHECK_TABLE(TDA__EP_DEVICE_CODE, rows);
}

static void test_device_token_statuses_follow_trakt_poll_table(void **state)
{
    static const expect_row rows[] = {
        {200, TDA_OK},
        {301, TDA_UNEXPECTED_STATUS},
        {302, TDA_UNEXPECTED_STATUS},
        {400, TDA_PENDING},
        {401, TDA_FORBIDDEN},
        {403, TDA_FORBIDDEN},
        {404, TDA_INVALID_DEVICE_CODE},
        {405, TDA_UNEXPECTED_STATUS},
        {409, TDA_ALREADY_USED},
        {410, TDA_EXPIRED},
        {418, TDA_DENIED},
        {429, TDA_SLOW_DOWN},
        {500, TDA_SERVER_ERROR},
        {501, TDA_SERVER_ERROR},
        {502, TDA_OVERLOADED},
        {503, TDA_OVERLOADED},
        {504, TDA_OVERLOADED},
        {520, TDA_CLOUDFLARE},
        {521, TDA_CLOUDFLARE},
        {522, TDA_CLOUDFLARE},
    };
    CHECK_TABLE(TDA__EP_DEVICE_TOKEN, rows);
}

static void test_refresh_statuses_follow_trakt(void **state)
{
    /* No body and no headers: 400 and 401 both mean "authorize again". */
    static const expect_row rows[] = {
        {200, TDA_OK},
        {301, TDA_UNEXPECTED_STATUS},
        {302, TDA_UNEXPECTED_STATUS},
        {400, TDA_INVALID_GRANT},
        {401, TDA_INVALID_GRANT},
        {403, TDA_FORBIDDEN},
        {404, TDA_UNEXPECTED_STATUS},
        {405, TDA_UNEXPECTED_STATUS},
        {409, TDA_UNEXPECTED_STATUS},
        {410, TDA_UNEXPECTED_STATUS},
        {418, TDA_UNEXPECTED_STATUS},
        {429, TDA_SLOW_DOWN},
        {500, TDA_SERVER_ERROR},
        {501, TDA_SERVER_ERROR},
        {502, TDA_OVERLOADED},
        {503, TDA_OVERLOADED},
        {504, TDA_OVERLOADED},
        {520, TDA_CLOUDFLARE},
        {521, TDA_CLOUDFLARE},
        {522, TDA_CLOUDFLARE},
    };
    CHECK_TABLE(TDA__EP_REFRESH, rows);
}

static void test_revoke_statuses_follow_trakt(void **state)
{
    static const expect_row rows[] = {
        {200, TDA_OK},
        {204, TDA_OK},
        {301, TDA_UNEXPECTED_STATUS},
        {302, TDA_UNEXPECTED_STATUS},
        {400, TDA_UNEXPECTED_STATUS},
        {401, TDA_FORBIDDEN},
        {403, TDA_FORBIDDEN},
        {404, TDA_UNEXPECTED_STATUS},
        {405, TDA_UNEXPECTED_STATUS},
        {409, TDA_UNEXPECTED_STATUS},
        {410, TDA_UNEXPECTED_STATUS},
        {418, TDA_UNEXPECTED_STATUS},
        {429, TDA_SLOW_DOWN},
        {500, TDA_SERVER_ERROR},
        {501, TDA_SERVER_ERROR},
        {502, TDA_OVERLOADED},
        {503, TDA_OVERLOADED},
        {504, TDA_OVERLOADED},
        {520, TDA_CLOUDFLARE},
        {521, TDA_CLOUDFLARE},
        {522, TDA_CLOUDFLARE},
    };
    CHECK_TABLE(TDA__EP_REVOKE, rows);
}

static void test_poll_400_is_pending_whatever_the_body(void **state)
{
    const char *bodies[] = {"", "not json", "{\"error\":\"authorization_pending\"}", "{}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        tda__response r = resp_json(400, bodies[i]);
        int64_t ra;
        char detail[256];
        assert_int_equal(classify(TDA__EP_DEVICE_TOKEN, &r, &ra, detail, sizeof detail),
                         TDA_PENDING);
    }
}

static void test_success_and_pending_leave_detail_empty(void **state)
{
    char detail[256];
    int64_t ra;
    tda__response ok = resp_json(200, "{}");
    strcpy(detail, "stale");
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &ok, &ra, detail, sizeof detail), TDA_OK);
    assert_string_equal(detail, "");
    tda__response pending = resp_status(400);
    strcpy(detail, "stale");
    assert_int_equal(classify(TDA__EP_DEVICE_TOKEN, &pending, &ra, detail, sizeof detail),
                     TDA_PENDING);
    assert_string_equal(detail, "");
}

static void test_every_failure_detail_names_http_status_and_path(void **state)
{
    for (size_t e = 0; e < N_ENDPOINTS; e++) {
        for (size_t i = 0; i < N_LISTED; i++) {
            tda__response r = resp_status(listed_statuses[i]);
            int64_t ra;
            char detail[512];
            tda_status st = classify(endpoints[e], &r, &ra, detail, sizeof detail);
            if (st == TDA_OK || st == TDA_PENDING)
                continue;
            char http[16];
            snprintf(http, sizeof http, "%ld", listed_statuses[i]);
            assert_contains(detail, http);
            assert_contains(detail, tda__endpoint_path(endpoints[e]));
        }
    }
}

/* ----------------------------------------------------- refresh-specific */

static tda_status classify_refresh(const tda__response *r, char *detail, size_t size)
{
    int64_t ra;
    return classify(TDA__EP_REFRESH, r, &ra, detail, size);
}

static void test_refresh_400_invalid_grant_means_authorize_again(void **state)
{
    char detail[512];
    tda__response r = resp_json(
        400, "{\"error\":\"invalid_grant\",\"error_description\":\"The provided authorization "
             "grant is invalid, expired, revoked\"}");
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_INVALID_GRANT);
    assert_contains(detail, "invalid_grant");
}

static void test_refresh_400_without_body_means_authorize_again(void **state)
{
    char detail[512];
    tda__response r = resp_status(400);
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_INVALID_GRANT);
}

/* A proxy's plain-text 400 or 401 says nothing about the token: never "log in again". */
static void test_refresh_text_page_is_unexpected_not_invalid_grant(void **state)
{
    char detail[512];
    tda__response r = resp_status(400);
    r.body = "400 Bad Request\n";
    r.body_len = strlen(r.body);
    r.content_type = "text/plain";
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_UNEXPECTED_STATUS);
    r.http_status = 401;
    r.body = "401 Unauthorized\n";
    r.body_len = strlen(r.body);
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_UNEXPECTED_STATUS);
    /* ...unless the header names invalid_grant, as Trakt's older 401 did. */
    r.www_authenticate = "Bearer error=\"invalid_grant\"";
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_INVALID_GRANT);
}

static void test_refresh_401_bearer_invalid_grant_header_means_authorize_again(void **state)
{
    char detail[512];
    tda__response r = resp_status(401);
    r.www_authenticate = "Bearer realm=\"Doorkeeper\", error=\"invalid_grant\", "
                         "error_description=\"The access token is invalid\"";
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_INVALID_GRANT);
}

static void test_refresh_400_invalid_client_is_forbidden(void **state)
{
    char detail[512];
    tda__response r = resp_json(400, "{\"error\":\"invalid_client\"}");
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_FORBIDDEN);
}

static void test_refresh_401_invalid_client_is_forbidden(void **state)
{
    char detail[512];
    tda__response r = resp_json(401, "{\"error\":\"invalid_client\"}");
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_FORBIDDEN);
}

static void test_refresh_401_invalid_client_header_is_forbidden(void **state)
{
    char detail[512];
    tda__response r = resp_status(401);
    r.www_authenticate = "Bearer error=\"invalid_client\"";
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_FORBIDDEN);
}

static void test_refresh_400_unauthorized_client_is_forbidden(void **state)
{
    char detail[512];
    tda__response r = resp_json(400, "{\"error\":\"unauthorized_client\"}");
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_FORBIDDEN);
}

static void test_refresh_400_unsupported_grant_type_is_unexpected_not_invalid_grant(void **state)
{
    char detail[512];
    tda__response r = resp_json(400, "{\"error\":\"unsupported_grant_type\"}");
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_UNEXPECTED_STATUS);
    assert_contains(detail, "unsupported_grant_type");
}

static void test_refresh_html_400_from_a_proxy_is_not_invalid_grant(void **state)
{
    /* A Cloudflare or proxy page says nothing about the token: keep it. */
    char detail[512];
    tda__response r = resp_status(400);
    r.body = "<html><body>400 Bad Request</body></html>";
    r.body_len = strlen(r.body);
    r.content_type = "text/html";
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_UNEXPECTED_STATUS);
    assert_contains(detail, "HTML");
}

static void test_refresh_transient_failures_never_say_authorize_again(void **state)
{
    const long transient[] = {500, 501, 502, 503, 504, 520, 521, 522};
    const char *bodies[] = {"", "{\"error\":\"invalid_grant\"}", "<html>oops</html>"};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
            char detail[512];
            tda__response r = resp_json(transient[i], bodies[k]);
            tda_status st = classify_refresh(&r, detail, sizeof detail);
            if (!tda_status_is_transient(st))
                fail_msg("refresh HTTP %ld body #%zu: %s is not transient", transient[i], k,
                         tda_status_name(st));
        }
    }
}

/* --------------------------------------------------------- Cloudflare */

static const char cloudflare_page[] =
    "<!DOCTYPE html>\n<html><head><title>Attention Required! | Cloudflare</title></head>"
    "<body>Sorry, you have been blocked</body></html>";

static void test_cloudflare_html_403_detail_blames_cloudflare_and_user_agent(void **state)
{
    for (size_t e = 0; e < N_ENDPOINTS; e++) {
        tda__response r = resp_status(403);
        r.body = cloudflare_page;
        r.body_len = strlen(cloudflare_page);
        r.content_type = "text/html; charset=UTF-8";
        r.server = "cloudflare";
        int64_t ra;
        char detail[512];
        assert_int_equal(classify(endpoints[e], &r, &ra, detail, sizeof detail), TDA_FORBIDDEN);
        assert_contains(detail, "Cloudflare");
        assert_contains(detail, "HTML");
        assert_contains(detail, "User-Agent");
    }
}

static void test_html_403_without_server_header_detail_says_html_and_user_agent(void **state)
{
    tda__response r = resp_status(403);
    r.body = cloudflare_page;
    r.body_len = strlen(cloudflare_page);
    r.content_type = "text/html";
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail), TDA_FORBIDDEN);
    assert_contains(detail, "HTML");
    assert_contains(detail, "User-Agent");
}

static void test_html_403_sniffed_from_body_without_content_type(void **state)
{
    const char body[] = " \r\n\t<html><body>blocked</body></html>";
    tda__response r = resp_status(403);
    r.body = body;
    r.body_len = strlen(body);
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail), TDA_FORBIDDEN);
    assert_contains(detail, "HTML");
    assert_contains(detail, "User-Agent");
}

static void test_cloudflare_server_403_without_body_blames_cloudflare(void **state)
{
    tda__response r = resp_status(403);
    r.server = "Cloudflare";
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_TOKEN, &r, &ra, detail, sizeof detail), TDA_FORBIDDEN);
    assert_contains(detail, "Cloudflare");
    assert_contains(detail, "User-Agent");
}

static void test_trakt_json_403_detail_points_at_client_id_not_user_agent(void **state)
{
    tda__response r = resp_json(403, "{\"error\":\"invalid_client\"}");
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail), TDA_FORBIDDEN);
    assert_contains(detail, "client id");
    assert_lacks(detail, "User-Agent");
}

/* ---------------------------------------------------------- redirects */

static void test_redirect_detail_says_redirect_and_where(void **state)
{
    tda__response r = resp_status(301);
    r.location = "https://api.trakt.tv/oauth/device/code";
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail),
                     TDA_UNEXPECTED_STATUS);
    assert_contains(detail, "redirect");
    assert_contains(detail, "https://api.trakt.tv/oauth/device/code");
}

static void test_redirect_without_location_still_says_redirect(void **state)
{
    tda__response r = resp_status(302);
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_REVOKE, &r, &ra, detail, sizeof detail),
                     TDA_UNEXPECTED_STATUS);
    assert_contains(detail, "redirect");
}

static void test_redirect_location_control_bytes_never_reach_detail(void **state)
{
    tda__response r = resp_status(307);
    r.location = "https://evil.example/\r\nX-Injected: 1\x1b[2J\x07\x7f\xc3\xa9\tend";
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_TOKEN, &r, &ra, detail, sizeof detail),
                     TDA_UNEXPECTED_STATUS);
    assert_contains(detail, "redirect");
    for (const char *p = detail; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch >= 0x7f)
            fail_msg("detail has byte 0x%02x at %td", ch, p - detail);
    }
}

static void test_redirect_to_huge_location_keeps_detail_bounded(void **state)
{
    char *location = malloc(5001);
    assert_non_null(location);
    memset(location, 'a', 5000);
    location[5000] = '\0';
    tda__response r = resp_status(308);
    r.location = location;
    int64_t ra;
    char detail[512];
    memset(detail, 'X', sizeof detail);
    classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail);
    assert_true(memchr(detail, '\0', sizeof detail) != NULL);
    assert_contains(detail, "redirect");
    free(location);
}

/* ----------------------------------------------------------- no leaks */

/*
 * Free text outside an OAuth error object never reaches a detail. The
 * error_description of one does (Trakt's "session not found" is the reason
 * an old token fails), so the calls blank their own secrets out of it: see
 * it_wire's echoed-secret tests.
 */
static void test_detail_never_contains_text_or_html_body(void **state)
{
    const char text_body[] = "Too many requests from token " FAKE_SECRET;
    const char html_body[] = "<html><body>" FAKE_SECRET "</body></html>";
    const char no_code[] = "{\"error_description\":\"" FAKE_SECRET "\"}";
    const char *bodies[] = {text_body, html_body, no_code};
    for (size_t e = 0; e < N_ENDPOINTS; e++) {
        for (size_t i = 0; i < N_LISTED; i++) {
            for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
                tda__response r = resp_json(listed_statuses[i], bodies[k]);
                int64_t ra;
                char detail[1024];
                classify(endpoints[e], &r, &ra, detail, sizeof detail);
                if (strstr(detail, "zq81"))
                    fail_msg("POST %s HTTP %ld body #%zu leaked: %s",
                             tda__endpoint_path(endpoints[e]), listed_statuses[i], k, detail);
            }
        }
    }
}

static void test_detail_drops_error_field_that_is_not_an_oauth_code(void **state)
{
    const char *bodies[] = {
        "{\"error\":\"" FAKE_SECRET "\"}",                  /* upper case and digits */
        "{\"error\":\"bad token fakesecretzq: see logs\"}", /* free text */
        "{\"error\":\"fakesecretzq_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", /* long */
    };
    for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
        tda__response r = resp_json(400, bodies[k]);
        int64_t ra;
        char detail[1024];
        classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail);
        assert_lacks(detail, "zq");
    }
}

static void test_invalid_grant_keeps_trakts_error_description(void **state)
{
    tda__response r = resp_json(
        400, "{\"error\":\"invalid_grant\",\"error_description\":\"session not found\"}");
    char detail[512];
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_INVALID_GRANT);
    assert_contains(detail, "\"invalid_grant\": \"session not found\"");
}

static void test_error_description_is_cleaned_and_capped(void **state)
{
    char body[1024];
    char long_text[400];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    /* Control characters (an escape sequence, a newline) and non-ASCII become '?'. */
    snprintf(body, sizeof body,
             "{\"error\":\"invalid_grant\",\"error_description\":\"bad\\u001b[2J\\nline "
             "\xc3\xa9 %s\"}",
             long_text);
    tda__response r = resp_json(400, body);
    char detail[1024];
    assert_int_equal(classify_refresh(&r, detail, sizeof detail), TDA_INVALID_GRANT);
    assert_contains(detail, "bad?[2J?line ?? aaa");
    assert_contains(detail, "...\")");
    for (const char *p = detail; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    const char *quote = strstr(detail, ": \"bad");
    assert_non_null(quote);
    assert_true(strlen(quote) < 130); /* 120 characters of it at most, then "...\")" */
}

static void test_detail_shows_a_short_oauth_error_code(void **state)
{
    tda__response r = resp_json(400, "{\"error\":\"invalid_request\",\"error_description\":\"x\"}");
    int64_t ra;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail),
                     TDA_UNEXPECTED_STATUS);
    assert_contains(detail, "invalid_request");
}

/* -------------------------------------------------------- Retry-After */

static void test_classify_fills_retry_after_seconds_on_429(void **state)
{
    tda__response r = resp_status(429);
    r.retry_after = "30";
    int64_t ra = 0;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_TOKEN, &r, &ra, detail, sizeof detail), TDA_SLOW_DOWN);
    assert_int_equal(ra, 30000);
}

/* A single call's 429 says how long to wait, or, without Retry-After, how to back off. */
static void test_rate_limit_detail_says_when_to_try_again(void **state)
{
    tda__response r = resp_status(429);
    r.retry_after = "143";
    r.server = "cloudflare";
    r.content_type = "text/plain; charset=UTF-8";
    r.body = "error code: 1015";
    r.body_len = strlen(r.body);
    int64_t ra = 0;
    char detail[512];
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail), TDA_SLOW_DOWN);
    assert_contains(detail, "from Cloudflare");
    assert_contains(detail, "wait 143 s before trying again");
    r.retry_after = NULL;
    assert_int_equal(classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail), TDA_SLOW_DOWN);
    assert_int_equal(ra, -1);
    assert_contains(detail, "no Retry-After");
    /* A 503 that names a wait says it too. */
    tda__response busy = resp_status(503);
    busy.retry_after = "30";
    assert_int_equal(classify(TDA__EP_REFRESH, &busy, &ra, detail, sizeof detail), TDA_OVERLOADED);
    assert_contains(detail, "wait 30 s");
}

/* What pauses every flow of an engine (multi_pace.c), and what slows only one. */
static void test_which_429_speaks_for_the_whole_ip(void **state)
{
    tda__response bare = resp_status(429);
    assert_false(tda__is_ip_rate_limit(&bare));
    tda__response empty_body = resp_status(429);
    empty_body.body = "";
    assert_false(tda__is_ip_rate_limit(&empty_body));
    tda__response ra = resp_status(429);
    ra.retry_after = "2";
    assert_true(tda__is_ip_rate_limit(&ra));
    tda__response bad_ra = resp_status(429);
    bad_ra.retry_after = "soon";
    assert_false(tda__is_ip_rate_limit(&bad_ra));
    tda__response xr = resp_status(429);
    xr.ratelimit = "{\"name\":\"UNAUTHED_API_POST_LIMIT\",\"until\":\"2030-01-01T00:00:00Z\"}";
    assert_true(tda__is_ip_rate_limit(&xr));
    tda__response cf_text = resp_status(429);
    cf_text.body = "error code: 1015";
    cf_text.body_len = 16;
    assert_true(tda__is_ip_rate_limit(&cf_text));
    tda__response cf_server = resp_status(429);
    cf_server.server = "cloudflare";
    assert_true(tda__is_ip_rate_limit(&cf_server));
    tda__response cf_html = resp_json(429, "<!DOCTYPE html><html>rate limited</html>");
    cf_html.content_type = "text/html";
    assert_true(tda__is_ip_rate_limit(&cf_html));
    tda__response busy = resp_status(503);
    busy.retry_after = "30";
    assert_false(tda__is_ip_rate_limit(&busy)); /* only a rate limit pauses everyone */
}

/* A refusal of a request sent without a secret may be about the secret; Cloudflare's is not. */
static void test_which_refusal_may_want_the_secret(void **state)
{
    tda__response r401 = resp_json(401, "{\"error\":\"invalid_client\"}");
    char detail[512];
    int64_t ra;
    for (size_t e = 0; e < N_ENDPOINTS; e++) {
        tda_status st = classify(endpoints[e], &r401, &ra, detail, sizeof detail);
        assert_int_equal(tda__refusal_may_want_secret(endpoints[e], &r401, st),
                         endpoints[e] != TDA__EP_DEVICE_CODE);
    }
    tda__response r403 = resp_status(403);
    tda_status st = classify(TDA__EP_DEVICE_TOKEN, &r403, &ra, detail, sizeof detail);
    assert_true(tda__refusal_may_want_secret(TDA__EP_DEVICE_TOKEN, &r403, st));
    tda__response cf = resp_json(403, "<html>Access denied</html>");
    cf.content_type = "text/html";
    cf.server = "cloudflare";
    st = classify(TDA__EP_DEVICE_TOKEN, &cf, &ra, detail, sizeof detail);
    assert_false(tda__refusal_may_want_secret(TDA__EP_DEVICE_TOKEN, &cf, st));
    tda__response pending = resp_status(400);
    st = classify(TDA__EP_DEVICE_TOKEN, &pending, &ra, detail, sizeof detail);
    assert_false(tda__refusal_may_want_secret(TDA__EP_DEVICE_TOKEN, &pending, st));
}

static void test_classify_fills_retry_after_on_503(void **state)
{
    tda__response r = resp_status(503);
    r.retry_after = "120";
    int64_t ra = 0;
    char detail[512];
    assert_int_equal(classify(TDA__EP_REFRESH, &r, &ra, detail, sizeof detail), TDA_OVERLOADED);
    assert_int_equal(ra, 120000);
}

static void test_classify_fills_retry_after_http_date(void **state)
{
    tda__response r = resp_status(429);
    r.retry_after = "Tue, 14 Nov 2023 22:13:40 GMT";
    int64_t ra = 0;
    char detail[512];
    classify(TDA__EP_DEVICE_CODE, &r, &ra, detail, sizeof detail);
    assert_int_equal(ra, 20000);
}

static void test_classify_without_retry_after_gives_minus_one(void **state)
{
    tda__response r = resp_status(429);
    int64_t ra = 0;
    char detail[512];
    classify(TDA__EP_DEVICE_TOKEN, &r, &ra, detail, sizeof detail);
    assert_int_equal(ra, -1);
}

static void test_retry_after_delay_seconds_become_ms(void **state)
{
    assert_int_equal(tda__parse_retry_after("0", NOW), 0);
    assert_int_equal(tda__parse_retry_after("5", NOW), 5000);
    assert_int_equal(tda__parse_retry_after(" 7 ", NOW), 7000);
    assert_int_equal(tda__parse_retry_after("120", NOW), 120000);
    assert_int_equal(tda__parse_retry_after("\t9\r\n", NOW), 9000);
}

static void test_retry_after_is_capped_at_one_day(void **state)
{
    assert_int_equal(tda__parse_retry_after("86400", NOW), DAY_MS);
    assert_int_equal(tda__parse_retry_after("86401", NOW), DAY_MS);
    assert_int_equal(tda__parse_retry_after("999999999", NOW), DAY_MS);
    assert_int_equal(tda__parse_retry_after("99999999999999999999999999999999", NOW), DAY_MS);
    assert_int_equal(tda__parse_retry_after("Fri, 31 Dec 2100 23:59:59 GMT", NOW), DAY_MS);
    /* Found by fuzz_retry_after: a date so far ahead that its distance in ms overflowed.
     * libcurl reads this loose form; with a 32-bit time_t it cannot hold the year at all. */
    if (sizeof(time_t) >= 8)
        assert_int_equal(tda__parse_retry_after(",2Oct@\n999999592", NOW), DAY_MS);
    assert_int_equal(tda__parse_retry_after("Sat, 02 Oct 999999592 00:00:00 GMT", NOW), DAY_MS);
}

/* Dates past January 2038 must work where time_t has 32 bits (i386, older ARM). */
static void test_dates_past_2038_are_read_in_64_bits(void **state)
{
    int64_t when = 0;
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT", &when), 0);
    assert_int_equal(when, 784111777);
    assert_int_equal(tda__parse_imf_fixdate("Tue, 19 Jan 2038 03:14:08 GMT", &when), 0);
    assert_int_equal(when, 2147483648LL);
    assert_int_equal(tda__parse_imf_fixdate("Fri, 31 Dec 2100 23:59:59 GMT", &when), 0);
    assert_int_equal(when, 4133980799LL);
    assert_int_equal(tda__parse_imf_fixdate("Tue, 29 Feb 2000 00:00:00 GMT", &when), 0);
    assert_int_equal(when, 951782400);
    /* Not the preferred form, or not a date: left to libcurl or refused. */
    assert_int_equal(tda__parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT", &when), -1);
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT trailing", &when), -1);
    assert_int_equal(tda__parse_imf_fixdate("Xyz, 06 Nov 1994 08:49:37 GMT", &when), -1);
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Noo 1994 08:49:37 GMT", &when), -1);
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Nov 1994 25:49:37 GMT", &when), -1);
    /* %d takes a sign: a negative hour, minute or second is no time of day either. */
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Nov 1994 -1:49:37 GMT", &when), -1);
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Nov 1994 08:-1:37 GMT", &when), -1);
    assert_int_equal(tda__parse_imf_fixdate("Sun, 06 Nov 1994 08:49:-1 GMT", &when), -1);
    /* An X-Ratelimit reset 30 s after a 2040 "now" is 30 s away, not "none". */
    int64_t now2040 = 2208988800LL; /* 2040-01-01T00:00:00Z */
    assert_int_equal(tda__parse_ratelimit_until("{\"until\":\"2040-01-01T00:00:30Z\"}", now2040),
                     30000);
    assert_int_equal(tda__parse_retry_after("Sun, 01 Jan 2040 00:00:45 GMT", now2040), 45000);
}

/* NOW + 30 s and NOW - 10 s as Trakt writes them. */
static void iso_at(int64_t unix_time, char *out, size_t size)
{
    time_t t = (time_t)unix_time;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void test_ratelimit_until_becomes_a_delay(void **state)
{
    char until[32], header[200];
    iso_at(NOW + 30, until, sizeof until);
    snprintf(header, sizeof header,
             "{\"name\":\"UNAUTHED_API_POST_LIMIT\",\"period\":1,\"limit\":1,"
             "\"remaining\":0,\"until\":\"%s\"}",
             until);
    assert_int_equal(tda__parse_ratelimit_until(header, NOW), 30000);
    /* Past: no wait beyond the usual; far future: capped at a day. */
    iso_at(NOW - 10, until, sizeof until);
    snprintf(header, sizeof header, "{\"until\":\"%s\"}", until);
    assert_int_equal(tda__parse_ratelimit_until(header, NOW), 0);
    assert_int_equal(tda__parse_ratelimit_until("{\"until\":\"2999-01-01T00:00:00Z\"}", NOW),
                     DAY_MS);
    /* Fractions are ignored, an explicit UTC offset is fine. */
    iso_at(NOW + 5, until, sizeof until);
    until[strlen(until) - 1] = '\0';
    snprintf(header, sizeof header, "{\"until\":\"%s.250+00:00\"}", until);
    assert_int_equal(tda__parse_ratelimit_until(header, NOW), 5000);
}

static void test_ratelimit_garbage_is_minus_one(void **state)
{
    const char *bad[] = {"",
                         "{}",
                         "[]",
                         "not json",
                         "{\"until\":5}",
                         "{\"until\":\"soon\"}",
                         "{\"until\":\"2026-11-29T08:00:01+02:00\"}",
                         "{\"until\":\"2026-11-29\"}",
                         "{\"until\":\"2026-11-29T08:00:01Zjunk\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = tda__parse_ratelimit_until(bad[i], NOW);
        if (got != -1)
            fail_msg("X-Ratelimit \"%s\" gave %lld, want -1", bad[i], (long long)got);
    }
    assert_int_equal(tda__parse_ratelimit_until(NULL, NOW), -1);
}

/* Retry-After wins; X-Ratelimit is the fallback when it is missing. */
static void test_classify_uses_ratelimit_only_without_retry_after(void **state)
{
    char until[32], header[100];
    iso_at(NOW + 12, until, sizeof until);
    snprintf(header, sizeof header, "{\"until\":\"%s\"}", until);
    tda__response r = {0};
    r.http_status = 429;
    r.ratelimit = header;
    int64_t retry_after_ms = 0;
    char detail[256];
    assert_int_equal(classify(TDA__EP_DEVICE_TOKEN, &r, &retry_after_ms, detail, sizeof detail),
                     TDA_SLOW_DOWN);
    assert_int_equal(retry_after_ms, 12000);
    r.retry_after = "3";
    classify(TDA__EP_DEVICE_TOKEN, &r, &retry_after_ms, detail, sizeof detail);
    assert_int_equal(retry_after_ms, 3000);
}

static void test_retry_after_garbage_is_minus_one(void **state)
{
    const char *bad[] = {"abc", "5x", "-3", "", "   ", "5 s", "1.5", "+5", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = tda__parse_retry_after(bad[i], NOW);
        if (got != -1)
            fail_msg("Retry-After \"%s\" gave %lld, want -1", bad[i], (long long)got);
    }
    assert_int_equal(tda__parse_retry_after(NULL, NOW), -1);
}

static void test_retry_after_future_http_date_is_delay_from_now(void **state)
{
    /* NOW is Tue, 14 Nov 2023 22:13:20 GMT. */
    assert_int_equal(tda__parse_retry_after("Tue, 14 Nov 2023 22:13:40 GMT", NOW), 20000);
    assert_int_equal(tda__parse_retry_after("Tue, 14 Nov 2023 22:13:20 GMT", NOW), 0);
}

static void test_retry_after_past_http_date_is_zero(void **state)
{
    assert_int_equal(tda__parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", NOW), 0);
    assert_int_equal(tda__parse_retry_after("Thu, 01 Jan 1970 00:00:01 GMT", NOW), 0);
}

/* ========================================================= code answers */

static const char good_code[] =
    "{\"device_code\":\"d9c126a7706328d808914cfd1e40274b6e009f684b1aca271b9b3f90b3630d64\","
    "\"user_code\":\"5055CC52\",\"verification_url\":\"https://trakt.tv/activate\","
    "\"expires_in\":600,\"interval\":5}";

static const char *const code_fields[] = {"device_code", "user_code", "verification_url",
                                          "expires_in", "interval"};

/* good_code with one field replaced (value non-NULL) or removed (value NULL). */
static char *code_body_with(const char *field, json_t *value)
{
    json_t *root = json_loads(good_code, 0, NULL);
    assert_non_null(root);
    if (value)
        json_object_set_new(root, field, value);
    else
        json_object_del(root, field);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    assert_non_null(text);
    return text;
}

static void assert_code_zeroed(const tda_code *c)
{
    assert_null(c->device_code);
    assert_null(c->user_code);
    assert_null(c->verification_url);
    assert_int_equal(c->expires_in_ms, 0);
    assert_int_equal(c->interval_ms, 0);
    assert_int_equal(c->issued_at_ms, 0);
}

/* Parses text as a code answer and expects TDA_BAD_RESPONSE with *out zeroed. */
static void expect_code_refused(const char *text, size_t len, const char *detail_has)
{
    tda_code c;
    memset(&c, 0xa5, sizeof c); /* garbage in: the parser must zero it */
    char detail[512] = "";
    tda_status st = tda__parse_code(text, len, &c, detail, sizeof detail);
    if (st != TDA_BAD_RESPONSE)
        fail_msg("code answer %.*s: got %s, want BAD_RESPONSE", (int)len, text ? text : "(null)",
                 tda_status_name(st));
    assert_code_zeroed(&c);
    assert_true(detail[0] != '\0');
    if (detail_has)
        assert_contains(detail, detail_has);
}

static void expect_code_field_refused(const char *field, json_t *value)
{
    char *text = code_body_with(field, value);
    expect_code_refused(text, strlen(text), field);
    free(text);
}

static void test_parse_code_reads_trakts_example(void **state)
{
    tda_code c;
    char detail[512] = "x";
    assert_int_equal(tda__parse_code(good_code, strlen(good_code), &c, detail, sizeof detail),
                     TDA_OK);
    assert_string_equal(c.device_code,
                        "d9c126a7706328d808914cfd1e40274b6e009f684b1aca271b9b3f90b3630d64");
    assert_string_equal(c.user_code, "5055CC52");
    assert_string_equal(c.verification_url, "https://trakt.tv/activate");
    assert_int_equal(c.expires_in_ms, 600000);
    assert_int_equal(c.interval_ms, 5000);
    assert_int_equal(c.issued_at_ms, 0); /* the parser has no clock */
    tda_code_clear(&c);
    assert_null(c.device_code);
}

static void test_parse_code_accepts_fractional_seconds(void **state)
{
    char *text = code_body_with("interval", json_real(0.2));
    tda_code c;
    char detail[512];
    assert_int_equal(tda__parse_code(text, strlen(text), &c, detail, sizeof detail), TDA_OK);
    assert_int_equal(c.interval_ms, 200);
    tda_code_clear(&c);
    free(text);
    text = code_body_with("expires_in", json_real(1.5));
    assert_int_equal(tda__parse_code(text, strlen(text), &c, detail, sizeof detail), TDA_OK);
    assert_int_equal(c.expires_in_ms, 1500);
    tda_code_clear(&c);
    free(text);
}

static void test_parse_code_ignores_unknown_fields(void **state)
{
    char *text = code_body_with("verification_uri_complete", json_string("https://x/5055CC52"));
    tda_code c;
    char detail[512];
    assert_int_equal(tda__parse_code(text, strlen(text), &c, detail, sizeof detail), TDA_OK);
    assert_string_equal(c.user_code, "5055CC52");
    tda_code_clear(&c);
    free(text);
}

static void test_parse_code_respects_body_len_without_nul(void **state)
{
    char buf[sizeof good_code + 8];
    memcpy(buf, good_code, strlen(good_code));
    memcpy(buf + strlen(good_code), "garbage!", 8); /* no NUL anywhere */
    tda_code c;
    char detail[512];
    assert_int_equal(tda__parse_code(buf, strlen(good_code), &c, detail, sizeof detail), TDA_OK);
    assert_string_equal(c.user_code, "5055CC52");
    tda_code_clear(&c);
}

static void test_parse_code_missing_field_is_named_and_out_zeroed(void **state)
{
    for (size_t i = 0; i < sizeof code_fields / sizeof code_fields[0]; i++)
        expect_code_field_refused(code_fields[i], NULL);
}

static void test_parse_code_string_interval_refused(void **state)
{
    expect_code_field_refused("interval", json_string("5"));
}

static void test_parse_code_boolean_interval_refused(void **state)
{
    expect_code_field_refused("interval", json_true());
}

static void test_parse_code_numeric_user_code_refused(void **state)
{
    expect_code_field_refused("user_code", json_integer(5055));
}

static void test_parse_code_null_device_code_refused(void **state)
{
    expect_code_field_refused("device_code", json_null());
}

static void test_parse_code_wrong_types_refused(void **state)
{
    expect_code_field_refused("verification_url", json_array());
    expect_code_field_refused("expires_in", json_string("600"));
    expect_code_field_refused("expires_in", json_object());
    expect_code_field_refused("device_code", json_integer(1));
}

static void test_parse_code_zero_or_negative_interval_refused(void **state)
{
    expect_code_field_refused("interval", json_integer(0));
    expect_code_field_refused("interval", json_integer(-1));
    expect_code_field_refused("interval", json_real(0.0004)); /* rounds to 0 ms */
}

static void test_parse_code_zero_or_negative_expires_in_refused(void **state)
{
    expect_code_field_refused("expires_in", json_integer(0));
    expect_code_field_refused("expires_in", json_integer(-600));
}

static void test_parse_code_implausible_interval_refused(void **state)
{
    expect_code_field_refused("interval", json_integer(99999));
}

static void test_parse_code_implausible_expires_in_refused(void **state)
{
    expect_code_field_refused("expires_in", json_integer(30LL * 24 * 3600));
}

static void test_parse_code_empty_strings_refused(void **state)
{
    expect_code_field_refused("device_code", json_string(""));
    expect_code_field_refused("user_code", json_string(""));
    expect_code_field_refused("verification_url", json_string(""));
}

static void test_parse_code_empty_body_refused(void **state)
{
    expect_code_refused("", 0, NULL);
    expect_code_refused(NULL, 0, NULL);
}

static void test_parse_code_json_null_refused(void **state)
{
    expect_code_refused("null", 4, NULL);
}

static void test_parse_code_json_array_refused(void **state)
{
    expect_code_refused("[]", 2, NULL);
    expect_code_refused("\"text\"", 6, NULL);
}

static void test_parse_code_truncated_json_refused(void **state)
{
    for (size_t len = 1; len < strlen(good_code); len += 7)
        expect_code_refused(good_code, len, NULL);
}

static void test_parse_code_trailing_garbage_refused(void **state)
{
    char text[sizeof good_code + 4];
    snprintf(text, sizeof text, "%s{}", good_code);
    expect_code_refused(text, strlen(text), NULL);
}

static void test_parse_code_duplicate_keys_refused(void **state)
{
    const char text[] = "{\"device_code\":\"a\",\"user_code\":\"5055CC52\",\"user_code\":\"EVIL\","
                        "\"verification_url\":\"https://trakt.tv/activate\",\"expires_in\":600,"
                        "\"interval\":5}";
    expect_code_refused(text, strlen(text), NULL);
}

static void test_parse_code_invalid_utf8_inside_string_refused(void **state)
{
    const char text[] = "{\"device_code\":\"a\",\"user_code\":\"50\xff\xfe"
                        "CC\","
                        "\"verification_url\":\"https://trakt.tv/activate\",\"expires_in\":600,"
                        "\"interval\":5}";
    expect_code_refused(text, strlen(text), NULL);
}

static void test_parse_code_nul_escape_inside_user_code_refused(void **state)
{
    const char text[] = "{\"device_code\":\"a\",\"user_code\":\"5055\\u0000CC52\","
                        "\"verification_url\":\"https://trakt.tv/activate\",\"expires_in\":600,"
                        "\"interval\":5}";
    expect_code_refused(text, strlen(text), NULL);
}

static void test_parse_code_detail_never_quotes_the_device_code(void **state)
{
    /* A truncated or broken answer: the JSON error must not echo the secret. */
    const char *bodies[] = {
        "{\"device_code\":\"" FAKE_SECRET,
        "{\"device_code\":" FAKE_SECRET "}",
        FAKE_SECRET,
        "{\"device_code\":\"" FAKE_SECRET "\",\"device_code\":\"" FAKE_SECRET "\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        tda_code c;
        char detail[512];
        assert_int_equal(tda__parse_code(bodies[i], strlen(bodies[i]), &c, detail, sizeof detail),
                         TDA_BAD_RESPONSE);
        if (strstr(detail, "zq81"))
            fail_msg("body #%zu leaked into the detail: %s", i, detail);
    }
}

/* ======================================================== token answers */

static const char good_token[] =
    "{\"access_token\":\"dbaf9757982a9e738f05d249b3b2d8b2cb1d6f7a5f1b5e54da1d2c0c4b1f6e6c\","
    "\"token_type\":\"bearer\",\"expires_in\":604800,"
    "\"refresh_token\":\"76ba4c5c75c96f6087f58a4de10be6c00b29ea1ddc3b2022ee2016d1363e3a7c\","
    "\"scope\":\"public\",\"created_at\":1487889741}";

static const char *const token_fields[] = {"access_token", "token_type", "refresh_token",
                                           "scope",        "expires_in", "created_at"};

static char *token_body_with(const char *field, json_t *value)
{
    json_t *root = json_loads(good_token, 0, NULL);
    assert_non_null(root);
    if (value)
        json_object_set_new(root, field, value);
    else
        json_object_del(root, field);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    assert_non_null(text);
    return text;
}

static void assert_token_zeroed(const tda_token *t)
{
    assert_null(t->access_token);
    assert_null(t->token_type);
    assert_null(t->refresh_token);
    assert_null(t->scope);
    assert_int_equal(t->created_at, 0);
    assert_int_equal(t->expires_in, 0);
    assert_int_equal(t->expires_at, 0);
}

static void expect_token_refused(const char *text, size_t len, const char *detail_has)
{
    tda_token t;
    memset(&t, 0xa5, sizeof t);
    char detail[512] = "";
    tda_status st = tda__parse_token(text, len, &t, detail, sizeof detail);
    if (st != TDA_BAD_RESPONSE)
        fail_msg("token answer %.*s: got %s, want BAD_RESPONSE", (int)len, text ? text : "(null)",
                 tda_status_name(st));
    assert_token_zeroed(&t);
    assert_true(detail[0] != '\0');
    if (detail_has)
        assert_contains(detail, detail_has);
}

static void expect_token_field_refused(const char *field, json_t *value)
{
    char *text = token_body_with(field, value);
    expect_token_refused(text, strlen(text), field);
    free(text);
}

static void test_parse_token_reads_every_field(void **state)
{
    tda_token t;
    char detail[512];
    assert_int_equal(tda__parse_token(good_token, strlen(good_token), &t, detail, sizeof detail),
                     TDA_OK);
    assert_string_equal(t.access_token,
                        "dbaf9757982a9e738f05d249b3b2d8b2cb1d6f7a5f1b5e54da1d2c0c4b1f6e6c");
    assert_string_equal(t.token_type, "bearer");
    assert_string_equal(t.refresh_token,
                        "76ba4c5c75c96f6087f58a4de10be6c00b29ea1ddc3b2022ee2016d1363e3a7c");
    assert_string_equal(t.scope, "public");
    assert_int_equal(t.created_at, 1487889741);
    assert_int_equal(t.expires_in, 604800);
    tda_token_clear(&t);
    assert_null(t.access_token);
}

static void test_parse_token_expiry_is_created_at_plus_expires_in(void **state)
{
    /* Trakt's lifetime changed twice: the answer decides, whatever it is. */
    const long long lives[] = {86400, 604800, 7776000, 1};
    for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
        char *text = token_body_with("expires_in", json_integer(lives[i]));
        tda_token t;
        char detail[512];
        assert_int_equal(tda__parse_token(text, strlen(text), &t, detail, sizeof detail), TDA_OK);
        assert_int_equal(t.expires_at, 1487889741LL + lives[i]);
        tda_token_clear(&t);
        free(text);
    }
}

static void test_parse_token_missing_field_is_named_and_out_zeroed(void **state)
{
    for (size_t i = 0; i < sizeof token_fields / sizeof token_fields[0]; i++)
        expect_token_field_refused(token_fields[i], NULL);
}

static void test_parse_token_wrong_types_refused(void **state)
{
    expect_token_field_refused("access_token", json_integer(1));
    expect_token_field_refused("access_token", json_null());
    expect_token_field_refused("token_type", json_true());
    expect_token_field_refused("refresh_token", json_array());
    expect_token_field_refused("scope", json_null());
    expect_token_field_refused("expires_in", json_string("604800"));
    expect_token_field_refused("expires_in", json_real(604800.5));
    expect_token_field_refused("created_at", json_string("1487889741"));
    expect_token_field_refused("created_at", json_false());
}

static void test_parse_token_zero_or_negative_expires_in_refused(void **state)
{
    expect_token_field_refused("expires_in", json_integer(0));
    expect_token_field_refused("expires_in", json_integer(-1));
}

static void test_parse_token_negative_created_at_refused(void **state)
{
    expect_token_field_refused("created_at", json_integer(-1));
}

static void test_parse_token_implausible_numbers_refused(void **state)
{
    expect_token_field_refused("expires_in", json_integer(INT64_C(1) << 50));
    expect_token_field_refused("created_at", json_integer(INT64_C(1) << 50));
}

static void test_parse_token_empty_scope_allowed(void **state)
{
    char *text = token_body_with("scope", json_string(""));
    tda_token t;
    char detail[512];
    assert_int_equal(tda__parse_token(text, strlen(text), &t, detail, sizeof detail), TDA_OK);
    assert_string_equal(t.scope, "");
    tda_token_clear(&t);
    free(text);
}

static void test_parse_token_empty_access_token_refused(void **state)
{
    expect_token_field_refused("access_token", json_string(""));
}

static void test_parse_token_empty_refresh_token_refused(void **state)
{
    expect_token_field_refused("refresh_token", json_string(""));
}

static void test_parse_token_ignores_unknown_fields(void **state)
{
    char *text = token_body_with("id_token", json_string("whatever"));
    tda_token t;
    char detail[512];
    assert_int_equal(tda__parse_token(text, strlen(text), &t, detail, sizeof detail), TDA_OK);
    tda_token_clear(&t);
    free(text);
}

static void test_parse_token_malformed_bodies_refused(void **state)
{
    expect_token_refused("", 0, NULL);
    expect_token_refused(NULL, 0, NULL);
    expect_token_refused("null", 4, NULL);
    expect_token_refused("[]", 2, NULL);
    for (size_t len = 1; len < strlen(good_token); len += 11)
        expect_token_refused(good_token, len, NULL);
    const char dup[] = "{\"access_token\":\"a\",\"access_token\":\"b\",\"token_type\":\"bearer\","
                       "\"expires_in\":1,\"refresh_token\":\"r\",\"scope\":\"\",\"created_at\":1}";
    expect_token_refused(dup, strlen(dup), NULL);
    const char nul[] = "{\"access_token\":\"a\\u0000b\",\"token_type\":\"bearer\","
                       "\"expires_in\":1,\"refresh_token\":\"r\",\"scope\":\"\",\"created_at\":1}";
    expect_token_refused(nul, strlen(nul), NULL);
}

static void test_parse_token_detail_never_quotes_a_token(void **state)
{
    const char *bodies[] = {
        "{\"access_token\":\"" FAKE_SECRET,
        "{\"access_token\":\"" FAKE_SECRET "\"",
        "{\"access_token\":\"x\",\"refresh_token\":" FAKE_SECRET "}",
        "{\"refresh_token\":\"" FAKE_SECRET "\",\"refresh_token\":\"" FAKE_SECRET "\"}",
        "{\"access_token\":\"\\u0000" FAKE_SECRET "\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        tda_token t;
        char detail[512];
        assert_int_equal(tda__parse_token(bodies[i], strlen(bodies[i]), &t, detail, sizeof detail),
                         TDA_BAD_RESPONSE);
        if (strstr(detail, "zq81"))
            fail_msg("body #%zu leaked into the detail: %s", i, detail);
    }
}

/* Fails the n-th tda__malloc from now on (1-based); 0 never fails. */
static int malloc_countdown;
static void *countdown_malloc(size_t n)
{
    if (malloc_countdown > 0 && --malloc_countdown == 0)
        return NULL;
    return malloc(n);
}

static void test_parse_token_out_of_memory_leaves_out_zeroed(void **state)
{
    const tda__alloc_hooks hooks = {countdown_malloc, realloc, free, NULL};
    for (int n = 1; n <= 4; n++) { /* one allocation per string field */
        tda__set_alloc_hooks(&hooks);
        malloc_countdown = n;
        tda_token t;
        char detail[512];
        tda_status st = tda__parse_token(good_token, strlen(good_token), &t, detail, sizeof detail);
        malloc_countdown = 0;
        tda__set_alloc_hooks(NULL);
        if (st != TDA_NO_MEMORY)
            fail_msg("allocation %d failing: got %s", n, tda_status_name(st));
        assert_token_zeroed(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_paths_are_trakts),
        cmocka_unit_test(test_code_request_sends_only_client_id),
        cmocka_unit_test(test_token_request_uses_trakt_field_code),
        cmocka_unit_test(test_token_request_has_exactly_code_client_id_and_secret),
        cmocka_unit_test(test_refresh_request_has_oob_redirect_and_refresh_grant),
        cmocka_unit_test(test_refresh_request_sends_the_redirect_uri_it_is_given),
        cmocka_unit_test(test_without_a_secret_no_body_has_a_client_secret_member),
        cmocka_unit_test(test_revoke_request_sends_token_client_id_and_secret),
        cmocka_unit_test(test_every_argument_round_trips_quotes_backslashes_newlines_utf8),
        cmocka_unit_test(test_invalid_utf8_argument_is_invalid_argument),
        cmocka_unit_test(test_null_argument_is_invalid_argument),
        cmocka_unit_test(test_builder_out_of_memory_is_no_memory_not_invalid_argument),
        cmocka_unit_test(test_body_clear_zeroes_and_accepts_null),

        cmocka_unit_test(test_device_code_statuses_follow_trakt),
        cmocka_unit_test(test_device_token_statuses_follow_trakt_poll_table),
        cmocka_unit_test(test_refresh_statuses_follow_trakt),
        cmocka_unit_test(test_revoke_statuses_follow_trakt),
        cmocka_unit_test(test_poll_400_is_pending_whatever_the_body),
        cmocka_unit_test(test_success_and_pending_leave_detail_empty),
        cmocka_unit_test(test_every_failure_detail_names_http_status_and_path),
        cmocka_unit_test(test_refresh_400_invalid_grant_means_authorize_again),
        cmocka_unit_test(test_refresh_400_without_body_means_authorize_again),
        cmocka_unit_test(test_refresh_401_bearer_invalid_grant_header_means_authorize_again),
        cmocka_unit_test(test_refresh_text_page_is_unexpected_not_invalid_grant),
        cmocka_unit_test(test_refresh_400_invalid_client_is_forbidden),
        cmocka_unit_test(test_refresh_401_invalid_client_is_forbidden),
        cmocka_unit_test(test_refresh_401_invalid_client_header_is_forbidden),
        cmocka_unit_test(test_refresh_400_unauthorized_client_is_forbidden),
        cmocka_unit_test(test_refresh_400_unsupported_grant_type_is_unexpected_not_invalid_grant),
        cmocka_unit_test(test_refresh_html_400_from_a_proxy_is_not_invalid_grant),
        cmocka_unit_test(test_refresh_transient_failures_never_say_authorize_again),
        cmocka_unit_test(test_cloudflare_html_403_detail_blames_cloudflare_and_user_agent),
        cmocka_unit_test(test_html_403_without_server_header_detail_says_html_and_user_agent),
        cmocka_unit_test(test_html_403_sniffed_from_body_without_content_type),
        cmocka_unit_test(test_cloudflare_server_403_without_body_blames_cloudflare),
        cmocka_unit_test(test_trakt_json_403_detail_points_at_client_id_not_user_agent),
        cmocka_unit_test(test_redirect_detail_says_redirect_and_where),
        cmocka_unit_test(test_redirect_without_location_still_says_redirect),
        cmocka_unit_test(test_redirect_location_control_bytes_never_reach_detail),
        cmocka_unit_test(test_redirect_to_huge_location_keeps_detail_bounded),
        cmocka_unit_test(test_detail_never_contains_text_or_html_body),
        cmocka_unit_test(test_invalid_grant_keeps_trakts_error_description),
        cmocka_unit_test(test_error_description_is_cleaned_and_capped),
        cmocka_unit_test(test_detail_drops_error_field_that_is_not_an_oauth_code),
        cmocka_unit_test(test_detail_shows_a_short_oauth_error_code),
        cmocka_unit_test(test_classify_fills_retry_after_seconds_on_429),
        cmocka_unit_test(test_rate_limit_detail_says_when_to_try_again),
        cmocka_unit_test(test_which_429_speaks_for_the_whole_ip),
        cmocka_unit_test(test_which_refusal_may_want_the_secret),
        cmocka_unit_test(test_classify_fills_retry_after_on_503),
        cmocka_unit_test(test_classify_fills_retry_after_http_date),
        cmocka_unit_test(test_classify_without_retry_after_gives_minus_one),

        cmocka_unit_test(test_retry_after_delay_seconds_become_ms),
        cmocka_unit_test(test_retry_after_is_capped_at_one_day),
        cmocka_unit_test(test_dates_past_2038_are_read_in_64_bits),
        cmocka_unit_test(test_ratelimit_until_becomes_a_delay),
        cmocka_unit_test(test_ratelimit_garbage_is_minus_one),
        cmocka_unit_test(test_classify_uses_ratelimit_only_without_retry_after),
        cmocka_unit_test(test_retry_after_garbage_is_minus_one),
        cmocka_unit_test(test_retry_after_future_http_date_is_delay_from_now),
        cmocka_unit_test(test_retry_after_past_http_date_is_zero),

        cmocka_unit_test(test_parse_code_reads_trakts_example),
        cmocka_unit_test(test_parse_code_accepts_fractional_seconds),
        cmocka_unit_test(test_parse_code_ignores_unknown_fields),
        cmocka_unit_test(test_parse_code_respects_body_len_without_nul),
        cmocka_unit_test(test_parse_code_missing_field_is_named_and_out_zeroed),
        cmocka_unit_test(test_parse_code_string_interval_refused),
        cmocka_unit_test(test_parse_code_boolean_interval_refused),
        cmocka_unit_test(test_parse_code_numeric_user_code_refused),
        cmocka_unit_test(test_parse_code_null_device_code_refused),
        cmocka_unit_test(test_parse_code_wrong_types_refused),
        cmocka_unit_test(test_parse_code_zero_or_negative_interval_refused),
        cmocka_unit_test(test_parse_code_zero_or_negative_expires_in_refused),
        cmocka_unit_test(test_parse_code_implausible_interval_refused),
        cmocka_unit_test(test_parse_code_implausible_expires_in_refused),
        cmocka_unit_test(test_parse_code_empty_strings_refused),
        cmocka_unit_test(test_parse_code_empty_body_refused),
        cmocka_unit_test(test_parse_code_json_null_refused),
        cmocka_unit_test(test_parse_code_json_array_refused),
        cmocka_unit_test(test_parse_code_truncated_json_refused),
        cmocka_unit_test(test_parse_code_trailing_garbage_refused),
        cmocka_unit_test(test_parse_code_duplicate_keys_refused),
        cmocka_unit_test(test_parse_code_invalid_utf8_inside_string_refused),
        cmocka_unit_test(test_parse_code_nul_escape_inside_user_code_refused),
        cmocka_unit_test(test_parse_code_detail_never_quotes_the_device_code),

        cmocka_unit_test(test_parse_token_reads_every_field),
        cmocka_unit_test(test_parse_token_expiry_is_created_at_plus_expires_in),
        cmocka_unit_test(test_parse_token_missing_field_is_named_and_out_zeroed),
        cmocka_unit_test(test_parse_token_wrong_types_refused),
        cmocka_unit_test(test_parse_token_zero_or_negative_expires_in_refused),
        cmocka_unit_test(test_parse_token_negative_created_at_refused),
        cmocka_unit_test(test_parse_token_implausible_numbers_refused),
        cmocka_unit_test(test_parse_token_empty_scope_allowed),
        cmocka_unit_test(test_parse_token_empty_access_token_refused),
        cmocka_unit_test(test_parse_token_empty_refresh_token_refused),
        cmocka_unit_test(test_parse_token_ignores_unknown_fields),
        cmocka_unit_test(test_parse_token_malformed_bodies_refused),
        cmocka_unit_test(test_parse_token_detail_never_quotes_a_token),
        cmocka_unit_test(test_parse_token_out_of_memory_leaves_out_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
