/*
 * Several device logins at once inside a libuv loop, as a media server or bot
 * would run them next to its other work. The engine says which sockets to
 * watch and when it next needs time; after each of its turns the example
 * re-syncs one uv_poll_t per socket and one uv_timer_t. Reads
 * TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET (optional, only for an app Trakt still
 * asks for it), TRAKT_OAUTH_URL (optional) and the number of flows from
 * argv[1] (3). Exits 0 when every flow got its token.
 *
 *   cc multi_libuv.c $(pkg-config --cflags --libs traktdeviceauth libuv) -o multi_libuv
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include <traktdeviceauth.h>
#include <uv.h>

#define MAX_FLOWS 100
#define MAX_SOCKETS 16

typedef struct watcher {
    uv_poll_t handle;
    int fd;     /* -1 when unused */
    int events; /* UV_READABLE | UV_WRITABLE being watched */
} watcher;

static tda_multi *multi;
static uv_timer_t timer;
static watcher watchers[MAX_SOCKETS];
static int succeeded;

static void sync_with_engine(void);

static void on_socket(uv_poll_t *handle, int status, int events)
{
    (void)handle;
    (void)status;
    (void)events;
    tda_multi_perform(multi);
    sync_with_engine();
}

static void on_timer(uv_timer_t *handle)
{
    (void)handle;
    tda_multi_perform(multi);
    sync_with_engine();
}

static void on_closed(uv_handle_t *handle)
{
    ((watcher *)handle->data)->fd = -1;
}

/* Watches exactly the sockets the engine names, and wakes when it next needs to. */
static void sync_with_engine(void)
{
    struct pollfd fds[MAX_SOCKETS];
    int n = tda_multi_fds(multi, fds, MAX_SOCKETS);
    for (int w = 0; w < MAX_SOCKETS; w++) {
        watcher *wt = &watchers[w];
        if (wt->fd < 0 || uv_is_closing((uv_handle_t *)&wt->handle))
            continue;
        int wanted = 0;
        for (int i = 0; i < n; i++)
            if (fds[i].fd == wt->fd)
                wanted = ((fds[i].events & POLLIN) ? UV_READABLE : 0) |
                         ((fds[i].events & POLLOUT) ? UV_WRITABLE : 0);
        if (!wanted) {
            uv_close((uv_handle_t *)&wt->handle, on_closed);
        } else if (wanted != wt->events) {
            wt->events = wanted;
            uv_poll_start(&wt->handle, wanted, on_socket);
        }
    }
    for (int i = 0; i < n; i++) {
        int known = 0, free_slot = -1;
        for (int w = 0; w < MAX_SOCKETS; w++) {
            if (watchers[w].fd == fds[i].fd && !uv_is_closing((uv_handle_t *)&watchers[w].handle))
                known = 1;
            else if (watchers[w].fd < 0 && free_slot < 0)
                free_slot = w;
        }
        if (known || free_slot < 0)
            continue;
        watcher *wt = &watchers[free_slot];
        wt->fd = fds[i].fd;
        wt->events = ((fds[i].events & POLLIN) ? UV_READABLE : 0) |
                     ((fds[i].events & POLLOUT) ? UV_WRITABLE : 0);
        wt->handle.data = wt;
        uv_poll_init_socket(uv_default_loop(), &wt->handle, wt->fd);
        uv_poll_start(&wt->handle, wt->events, on_socket);
    }
    long timeout = tda_multi_timeout_ms(multi);
    if (timeout < 0)
        uv_timer_stop(&timer); /* no flows left: the loop ends once handles close */
    else
        uv_timer_start(&timer, on_timer, (uint64_t)timeout, 0);
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
        fprintf(stderr, "usage: TRAKT_CLIENT_ID=.. multi_libuv [1-%d]\n",
                MAX_FLOWS);
        return 2;
    }
    tda_client *client = tda_client_new(id, secret);
    if (!client || (url && tda_client_set_base_url(client, url) != TDA_OK))
        return 1;
    tda_client_set_user_agent(client, "multi-libuv-example/1.0");
    multi = tda_multi_new(client);
    if (!multi)
        return 1;
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
    for (int w = 0; w < MAX_SOCKETS; w++)
        watchers[w].fd = -1;
    uv_timer_init(uv_default_loop(), &timer);
    sync_with_engine();
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);

    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    uv_loop_close(uv_default_loop());
    tda_multi_free(multi);
    for (int i = 0; i < n; i++)
        tda_code_clear(&codes[i]);
    tda_client_free(client);
    printf("%d of %d authorized\n", succeeded, n);
    return succeeded == n ? 0 : 1;
}
