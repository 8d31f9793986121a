/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration on the wire: a one-request HTTP server in a thread answers with
 * canned bytes, so each test sees exactly what the library sent and how it
 * takes answers no real server should give (redirects, huge bodies, HTML,
 * silence).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "emu.h"
#include "traktdeviceauth.h"

typedef struct wire {
    int listener;
    char base_url[64];
    const char *answer; /* sent verbatim after the request; NULL: never answer */
    size_t answer_len;
    char request[8192]; /* what arrived */
    int requests;       /* how many requests arrived */
    int stop_pipe[2];
    pthread_t thread;
} wire;

/* Reads one request (headers and Content-Length body) or gives up at EOF. */
static int read_request(int fd, char *buf, size_t size)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(buf, "content-length:");
        size_t body = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
        if (len >= (size_t)(end + 4 - buf) + body)
            return 0;
    }
}

static void *serve(void *arg)
{
    wire *w = arg;
    struct pollfd fds[2] = {{w->listener, POLLIN, 0}, {w->stop_pipe[0], POLLIN, 0}};
    while (poll(fds, 2, -1) > 0 && !fds[1].revents) {
        int fd = accept(w->listener, NULL, NULL);
        if (fd < 0)
            continue;
        if (read_request(fd, w->request, sizeof w->request) == 0) {
            w->requests++;
            if (w->answer) {
                ssize_t sent = write(fd, w->answer, w->answer_len);
                (void)sent;
            } else {
                /* Stall: hold the connection open until the test ends. */
                struct pollfd stop = {w->stop_pipe[0], POLLIN, 0};
                poll(&stop, 1, -1);
            }
        }
        close(fd);
    }
    return NULL;
}

/* Binds the listener (base_url is known from here on); wire_serve starts answering. */
static void wire_bind(wire *w)
{
    memset(w, 0, sizeof *w);
    w->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(w->listener, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(w->listener, 8), 0);
    socklen_t alen = sizeof addr;
    getsockname(w->listener, (struct sockaddr *)&addr, &alen);
    snprintf(w->base_url, sizeof w->base_url, "http://127.0.0.1:%u", ntohs(addr.sin_port));
    assert_int_equal(pipe(w->stop_pipe), 0);
}

static void wire_serve(wire *w, const char *answer, size_t answer_len)
{
    w->answer = answer;
    w->answer_len = answer_len;
    assert_int_equal(pthread_create(&w->thread, NULL, serve, w), 0);
}

static void wire_start(wire *w, const char *answer, size_t answer_len)
{
    wire_bind(w);
    wire_serve(w, answer, answer_len);
}

static void wire_stop(wire *w)
{
    ssize_t n = write(w->stop_pipe[1], "x", 1);
    (void)n;
    pthread_join(w->thread, NULL);
    close(w->listener);
    close(w->stop_pipe[0]);
    close(w->stop_pipe[1]);
}

static tda_client *wire_client(const wire *w)
{
    tda_client *c = tda_client_new("id-with-\"quotes\"-and-\\backslash", "s3cret-value");
    assert_non_null(c);
    assert_int_equal(tda_client_set_base_url(c, w->base_url), TDA_OK);
    return c;
}

#define ANSWER(text) text, sizeof(text) - 1

static const char code_answer[] =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 120\r\n\r\n"
    "{\"device_code\":\"d\",\"user_code\":\"5055CC52\",\"verification_url\":\"https://trakt.tv/"
    "activate\",\"expires_in\":600,\"interval\":5}        ";

static void test_request_carries_trakt_headers_in_lower_case(void **state)
{
    wire w;
    wire_start(&w, ANSWER(code_answer));
    tda_client *c = wire_client(&w);
    assert_int_equal(tda_client_set_user_agent(c, "myapp/2.0"), TDA_OK);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_string_equal(code.user_code, "5055CC52");
    assert_true(code.issued_at_ms > 0);
    const char *r = w.request;
    assert_true(strncmp(r, "POST /oauth/device/code HTTP/1.1\r\n", 34) == 0);
    assert_non_null(strstr(r, "\r\ncontent-type: application/json\r\n"));
    assert_non_null(strstr(r, "\r\nuser-agent: myapp/2.0\r\n"));
    assert_non_null(strstr(r, "\r\ntrakt-api-version: 2\r\n"));
    assert_non_null(strstr(r, "\r\ntrakt-api-key: id-with-\"quotes\"-and-\\backslash\r\n"));
    /* libcurl's own capitalised defaults are replaced, not sent twice. */
    assert_null(strstr(r, "User-Agent:"));
    assert_null(strstr(r, "Content-Type:"));
    assert_null(strstr(r, "Expect:"));
    /* The body is JSON built by a JSON library: the quoted id arrives intact. */
    const char *body = strstr(r, "\r\n\r\n") + 4;
    json_t *root = json_loads(body, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "client_id")),
                        "id-with-\"quotes\"-and-\\backslash");
    json_decref(root);
    tda_code_clear(&code);
    tda_client_free(c);
    wire_stop(&w);
}

static void test_default_user_agent_names_the_library(void **state)
{
    wire w;
    wire_start(&w, ANSWER(code_answer));
    tda_client *c = wire_client(&w);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_non_null(
        strstr(w.request, "\r\nuser-agent: traktdeviceauth/" TDA_VERSION_STRING "\r\n"));
    tda_code_clear(&code);
    tda_client_free(c);
    wire_stop(&w);
}

static void test_redirect_is_not_followed(void **state)
{
    /* The redirect points back at this same server, so a followed one would arrive here
     * as a second request (one to a host that does not exist would fail either way). */
    wire w;
    wire_bind(&w);
    char answer[256], location[128];
    snprintf(location, sizeof location, "%s/elsewhere/oauth/device/code", w.base_url);
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 302 Found\r\nlocation: %s\r\ncontent-length: 0\r\n\r\n", location);
    wire_serve(&w, answer, (size_t)n);
    tda_client *c = wire_client(&w);
    tda_code code;
    tda_status st = tda_generate_code(c, &code);
    assert_int_equal(w.requests, 1); /* first: a followed redirect is a second request */
    assert_true(strncmp(w.request, "POST /oauth/device/code ", 24) == 0); /* not /elsewhere */
    assert_int_equal(st, TDA_UNEXPECTED_STATUS);
    assert_int_equal(tda_client_http_status(c), 302);
    assert_non_null(strstr(tda_client_error_detail(c), "redirect"));
    assert_non_null(strstr(tda_client_error_detail(c), location));
    tda_client_free(c);
    wire_stop(&w);
}

static void test_oversized_answer_is_refused(void **state)
{
    size_t body = 100 * 1024;
    char *answer = malloc(body + 200);
    int head = snprintf(answer, 200, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n");
    memset(answer + head, ' ', body);
    wire w;
    wire_start(&w, answer, (size_t)head + body);
    tda_client *c = wire_client(&w);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_BAD_RESPONSE);
    assert_non_null(strstr(tda_client_error_detail(c), "64 KiB"));
    tda_client_free(c);
    wire_stop(&w);
    free(answer);
}

static void test_cloudflare_html_403_is_explained(void **state)
{
    wire w;
    wire_start(&w,
               ANSWER("HTTP/1.1 403 Forbidden\r\nserver: cloudflare\r\ncontent-type: text/html\r\n"
                      "content-length: 40\r\n\r\n<!DOCTYPE html><html>blocked</html>     "));
    tda_client *c = wire_client(&w);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_FORBIDDEN);
    const char *detail = tda_client_error_detail(c);
    assert_non_null(strstr(detail, "Cloudflare"));
    assert_non_null(strstr(detail, "User-Agent"));
    tda_client_free(c);
    wire_stop(&w);
}

static void test_silent_server_times_out(void **state)
{
    wire w;
    wire_start(&w, NULL, 0);
    tda_client *c = wire_client(&w);
    assert_int_equal(tda_client_set_timeout_ms(c, 300), TDA_OK);
    int64_t t0 = tda_monotonic_ms();
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_TIMED_OUT);
    int64_t took = tda_monotonic_ms() - t0;
    assert_true(took >= 290 && took <= 300 + emu_prompt_ms());
    tda_client_free(c);
    wire_stop(&w);
}

typedef struct canceller {
    tda_client *client;
    int64_t at;
} canceller;

static void *cancel_soon(void *arg)
{
    canceller *k = arg;
    usleep(200 * 1000);
    k->at = tda_monotonic_ms();
    tda_client_cancel(k->client);
    return NULL;
}

static void test_cancel_ends_a_request_in_flight(void **state)
{
    wire w;
    wire_start(&w, NULL, 0);
    tda_client *c = wire_client(&w);
    canceller k = {c, 0};
    pthread_t thread;
    pthread_create(&thread, NULL, cancel_soon, &k);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_CANCELLED);
    int64_t latency = tda_monotonic_ms() - k.at;
    pthread_join(thread, NULL);
    print_message("in-flight cancel took effect after %lld ms\n", (long long)latency);
    assert_true(latency <= emu_prompt_ms());
    tda_client_free(c);
    wire_stop(&w);
}

static void test_connection_refused_is_a_network_error(void **state)
{
    wire w;
    wire_start(&w, NULL, 0);
    char url[64];
    snprintf(url, sizeof url, "%s", w.base_url);
    wire_stop(&w); /* the port is closed now */
    tda_client *c = tda_client_new("id", "secret");
    assert_int_equal(tda_client_set_base_url(c, url), TDA_OK);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_NETWORK);
    assert_int_equal(tda_client_http_status(c), 0);
    assert_true(tda_status_is_transient(TDA_NETWORK));
    tda_client_free(c);
}

/* The request body as JSON (after the headers of what arrived). */
static json_t *request_body(const wire *w)
{
    const char *body = strstr(w->request, "\r\n\r\n");
    assert_non_null(body);
    json_t *root = json_loads(body + 4, 0, NULL);
    assert_non_null(root);
    return root;
}

/* A public client's refresh has no client_secret member, and carries the redirect_uri set. */
static void test_public_refresh_sends_no_secret_and_the_set_redirect_uri(void **state)
{
    wire w;
    wire_start(&w, ANSWER("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"));
    tda_client *c = tda_client_new("cid", NULL);
    assert_int_equal(tda_client_set_base_url(c, w.base_url), TDA_OK);
    assert_int_equal(tda_client_set_redirect_uri(c, "https://myapp.example/done"), TDA_OK);
    assert_int_equal(tda_client_set_redirect_uri(c, ""), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_redirect_uri(c, "bad\r\nheader"), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_redirect_uri(NULL, "x"), TDA_INVALID_ARGUMENT);
    tda_token t;
    assert_int_equal(tda_refresh_token(c, "rtok", &t), TDA_OVERLOADED);
    assert_null(strstr(w.request, "client_secret"));
    json_t *root = request_body(&w);
    assert_int_equal(json_object_size(root), 4);
    assert_string_equal(json_string_value(json_object_get(root, "redirect_uri")),
                        "https://myapp.example/done");
    json_decref(root);
    tda_client_free(c);
    wire_stop(&w);
}

static void test_default_redirect_uri_is_oob(void **state)
{
    wire w;
    wire_start(&w, ANSWER("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"));
    tda_client *c = wire_client(&w);
    tda_token t;
    assert_int_equal(tda_refresh_token(c, "rtok", &t), TDA_OVERLOADED);
    json_t *root = request_body(&w);
    assert_string_equal(json_string_value(json_object_get(root, "redirect_uri")),
                        TDA_DEFAULT_REDIRECT_URI);
    assert_string_equal(json_string_value(json_object_get(root, "client_secret")), "s3cret-value");
    json_decref(root);
    tda_client_free(c);
    wire_stop(&w);
}

/*
 * Trakt's error_description reaches the detail (it says why a token fails),
 * but a server that echoes the request's secrets in it gets them blanked.
 */
static const char echo_answer[] =
    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 99\r\n\r\n"
    "{\"error\":\"invalid_grant\",\"error_description\":\"session not found for rt-ECHOED-77 "
    "and s3cret-value\"}";

static void test_echoed_secrets_are_blanked_from_the_description(void **state)
{
    wire w;
    wire_start(&w, ANSWER(echo_answer));
    tda_client *c = wire_client(&w);
    tda_token t;
    assert_int_equal(tda_refresh_token(c, "rt-ECHOED-77", &t), TDA_INVALID_GRANT);
    const char *detail = tda_client_error_detail(c);
    assert_non_null(strstr(detail, "session not found for "));
    assert_null(strstr(detail, "rt-ECHOED-77"));
    assert_null(strstr(detail, "s3cret-value"));
    tda_client_free(c);
    wire_stop(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_carries_trakt_headers_in_lower_case),
        cmocka_unit_test(test_default_user_agent_names_the_library),
        cmocka_unit_test(test_redirect_is_not_followed),
        cmocka_unit_test(test_oversized_answer_is_refused),
        cmocka_unit_test(test_cloudflare_html_403_is_explained),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_cancel_ends_a_request_in_flight),
        cmocka_unit_test(test_connection_refused_is_a_network_error),
        cmocka_unit_test(test_public_refresh_sends_no_secret_and_the_set_redirect_uri),
        cmocka_unit_test(test_default_redirect_uri_is_oob),
        cmocka_unit_test(test_echoed_secrets_are_blanked_from_the_description),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
