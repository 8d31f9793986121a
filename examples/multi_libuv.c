/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several device logins at once inside a libuv loop, as a media server or bot
 * would run them next to its other work. The engine's callbacks say which
 * socket to watch for what (one uv_poll_t each) and when to call it back (one
 * uv_timer_t); the loop reports each ready socket and the timer with
 * tda_multi_socket_action(). Reads TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET
 * (optional, only for an app Trakt still asks for it), TRAKT_OAUTH_URL
 * (optional) and the number of flows from argv[1] (3). Exits 0 when every
 * flow got its token.
 *
 *   cc multi_libuv.c $(pkg-config --cflags --libs traktdeviceauth libuv) -o multi_libuv
 */
#include <stdio.h>
#include <stdlib.h>

#include <traktdeviceauth.h>
#include <uv.h>

#define MAX_FLOWS 100

static uv_timer_t timer;
static int succeeded;

static void on_ready(uv_poll_t *handle, int status, int events)
{
    int ready = status < 0 ? TDA_READY_ERR
                           : ((events & UV_READABLE) ? TDA_READY_IN : 0) |
                                 ((events & UV_WRITABLE) ? TDA_READY_OUT : 0);
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t *)handle, &fd);
    tda_multi_socket_action(handle->data, fd, ready);
}

static void on_closed(uv_handle_t *handle)
{
    free(handle);
}

/* The engine says what to watch; one uv_poll_t per socket, attached with tda_multi_assign. */
static void on_socket(tda_multi *m, int fd, int what, void *userdata, void *socketp)
{
    (void)userdata;
    uv_poll_t *poll = socketp;
    if (what == TDA_WATCH_REMOVE) {
        if (poll)
            uv_close((uv_handle_t *)poll, on_closed); /* stops watching now */
        return;
    }
    if (!poll) {
        poll = malloc(sizeof *poll);
        if (!poll || uv_poll_init_socket(uv_default_loop(), poll, fd) != 0)
            abort();
        poll->data = m;
        tda_multi_assign(m, fd, poll);
    }
    uv_poll_start(poll,
                  ((what & TDA_WATCH_IN) ? UV_READABLE : 0) |
                      ((what & TDA_WATCH_OUT) ? UV_WRITABLE : 0),
                  on_ready);
}

static void on_timeout(uv_timer_t *handle)
{
    tda_multi_socket_action(handle->data, TDA_SOCKET_TIMEOUT, 0);
}

/* ...and when to call it back: -1 means no flow is left, so the loop may end. */
static void on_timer(tda_multi *m, long timeout_ms, void *userdata)
{
    (void)userdata;
    timer.data = m;
    if (timeout_ms < 0)
        uv_timer_stop(&timer);
    else
        uv_timer_start(&timer, on_timeout, (uint64_t)timeout_ms, 0);
}

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    const tda_code *code = userdata;
    if (status == TDA_OK) {
        printf("%s: authorized\n", code->user_code);
        succeeded++;
    } else {
        printf("%s: %s\n", code->user_code,
               *tda_flow_error_detail(flow) ? tda_flow_error_detail(flow) : tda_strerror(status));
    }
    tda_token_clear(token); /* a real program saves it first */
}

int main(int argc, char **argv)
{
    const char *id = getenv("TRAKT_CLIENT_ID"), *secret = getenv("TRAKT_CLIENT_SECRET");
    const char *url = getenv("TRAKT_OAUTH_URL");
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (!id || n < 1 || n > MAX_FLOWS) {
        fprintf(stderr, "usage: TRAKT_CLIENT_ID=.. multi_libuv [1-%d]\n", MAX_FLOWS);
        return 2;
    }
    if (tda_global_init() != TDA_OK) /* once, at start: libcurl's and jansson's set-up */
        return 1;
    tda_client *client = tda_client_new(id, secret);
    if (!client || (url && tda_client_set_base_url(client, url) != TDA_OK))
        return 1;
    tda_client_set_user_agent(client, "multi-libuv-example/1.0");
    tda_multi *multi = tda_multi_new(client);
    if (!multi)
        return 1;
    uv_timer_init(uv_default_loop(), &timer);
    tda_multi_set_socket_fn(multi, on_socket, NULL);
    tda_multi_set_timer_fn(multi, on_timer, NULL);
    static tda_code codes[MAX_FLOWS];
    for (int i = 0; i < n; i++) {
        if (tda_generate_code(client, &codes[i]) != TDA_OK) {
            fprintf(stderr, "no code: %s\n", tda_client_error_detail(client));
            return 1;
        }
        printf("user %d: go to %s and enter %s\n", i + 1, codes[i].verification_url,
               codes[i].user_code);
        tda_multi_add(multi, &codes[i], NULL, on_done, &codes[i]);
    }
    while (tda_multi_flow_count(multi) > 0)
        uv_run(uv_default_loop(), UV_RUN_ONCE);

    tda_multi_free(multi); /* closes the remaining watchers through on_socket */
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    uv_loop_close(uv_default_loop());
    for (int i = 0; i < n; i++)
        tda_code_clear(&codes[i]);
    tda_client_free(client);
    tda_global_cleanup();
    printf("%d of %d authorized\n", succeeded, n);
    return succeeded == n ? 0 : 1;
}
