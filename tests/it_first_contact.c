/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a newcomer hits first, found by writing an app from the docs alone:
 * an https base URL pointed at a plain-http server is a final TDA_TLS that
 * says the server does not speak TLS (not a network blip to retry for ever);
 * tda_client_http_status is 0 after a call that got no answer, never the
 * status of an earlier one; and the error detail is complete on its own, so
 * the README's idiom prints the message once.
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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

/*
 * A plain-http server as a web server is: it answers the TLS ClientHello,
 * which it cannot parse, with a 400 page, and closes gently (lingering: it
 * reads what is left before it closes, so the client gets the page and not a
 * reset). libmicrohttpd closes at once, which a client sometimes sees as a
 * reset, the ambiguous SSL_ERROR_SYSCALL; a busy web server does not.
 */
typedef struct plain_server {
    int listener;
    int stop_pipe[2];
    pthread_t thread;
    int port;
} plain_server;

static void *serve_plain(void *arg)
{
    plain_server *p = arg;
    struct pollfd fds[2] = {{p->listener, POLLIN, 0}, {p->stop_pipe[0], POLLIN, 0}};
    while (poll(fds, 2, -1) > 0 && !fds[1].revents) {
        int fd = accept(p->listener, NULL, NULL);
        if (fd < 0)
            continue;
        char buf[4096];
        struct pollfd in = {fd, POLLIN, 0};
        if (poll(&in, 1, 2000) > 0 && read(fd, buf, sizeof buf) > 0) {
            static const char page[] = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"
                                       "connection: close\r\n\r\n";
            ssize_t n = write(fd, page, sizeof page - 1);
            (void)n;
            shutdown(fd, SHUT_WR);
            while (poll(&in, 1, 1000) > 0 && read(fd, buf, sizeof buf) > 0) {
            }
        }
        close(fd);
    }
    return NULL;
}

static void plain_start(plain_server *p)
{
    memset(p, 0, sizeof *p);
    p->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->listener, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(p->listener, 8), 0);
    socklen_t len = sizeof addr;
    getsockname(p->listener, (struct sockaddr *)&addr, &len);
    p->port = ntohs(addr.sin_port);
    assert_int_equal(pipe(p->stop_pipe), 0);
    assert_int_equal(pthread_create(&p->thread, NULL, serve_plain, p), 0);
}

static void plain_stop(plain_server *p)
{
    ssize_t n = write(p->stop_pipe[1], "x", 1);
    (void)n;
    pthread_join(p->thread, NULL);
    close(p->listener);
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
}

/* A public client whose base URL is https:// to that plain-http server. */
static tda_client *https_to_plain_http(const emu *e, const plain_server *p)
{
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", p->port);
    tda_client *c = emu_public_client(e);
    assert_int_equal(tda_client_set_base_url(c, url), TDA_OK);
    return c;
}

static void count_event(const tda_event *ev, void *userdata)
{
    (void)ev;
    ++*(int *)userdata;
}

static void test_https_to_a_plain_http_server_is_final(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", NULL);
    plain_server p;
    plain_start(&p);
    tda_client *c = https_to_plain_http(&e, &p);
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
    int events = 0;
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.on_event = count_event;
    o.userdata = &events;
    assert_int_equal(tda_poll_for_token(c, &code, &o, &token), TDA_TLS);
    assert_int_equal(events, 0); /* no retry event: the first try ended it */
    assert_non_null(strstr(tda_client_error_detail(c), "does not speak TLS"));
    tda_code_clear(&code);
    tda_client_free(plain);
    tda_client_free(c);
    plain_stop(&p);
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
    usleep(150 * 1000); /* the manual request above counts: the next must wait an interval */
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
