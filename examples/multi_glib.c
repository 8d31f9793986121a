/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several device logins at once inside GLib's main loop (GMainLoop, the loop
 * of GTK and GStreamer applications). The engine's callbacks say which socket
 * to watch for what (one g_unix_fd_add source each) and when to call it back
 * (one g_timeout_add source); the sources report back with
 * tda_multi_socket_action(). Reads TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET
 * (optional, only for an app Trakt still asks for it), TRAKT_OAUTH_URL
 * (optional) and the number of flows from argv[1] (3). Exits 0 when every
 * flow got its token.
 *
 *   cc multi_glib.c $(pkg-config --cflags --libs traktdeviceauth glib-2.0) -o multi_glib
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>
#include <glib.h>
#include <traktdeviceauth.h>

#define MAX_FLOWS 100

static tda_multi *multi;
static GMainLoop *loop;
static guint timer_source;
static int succeeded;

typedef struct watch {
    int fd;
    guint source;
} watch;

static gboolean on_ready(gint fd, GIOCondition condition, gpointer data)
{
    (void)data;
    int ready = ((condition & G_IO_IN) ? TDA_READY_IN : 0) |
                ((condition & G_IO_OUT) ? TDA_READY_OUT : 0) |
                ((condition & (G_IO_ERR | G_IO_HUP)) ? TDA_READY_ERR : 0);
    /* This may end this very watch (on_socket removes the source); GLib allows that. */
    tda_multi_socket_action(multi, fd, ready);
    return G_SOURCE_CONTINUE;
}

/* The engine says what to watch: a source per socket, attached with tda_multi_assign. */
static void on_socket(tda_multi *m, int fd, int what, void *userdata, void *socketp)
{
    (void)userdata;
    watch *w = socketp;
    if (w)
        g_source_remove(w->source); /* GLib cannot change a source's events in place */
    if (what == TDA_WATCH_REMOVE) {
        g_free(w);
        return;
    }
    if (!w) {
        w = g_new0(watch, 1);
        w->fd = fd;
        tda_multi_assign(m, fd, w);
    }
    GIOCondition cond = ((what & TDA_WATCH_IN) ? G_IO_IN : 0) |
                        ((what & TDA_WATCH_OUT) ? G_IO_OUT : 0);
    w->source = g_unix_fd_add(fd, cond, on_ready, NULL);
}

static gboolean on_timeout(gpointer data)
{
    (void)data;
    timer_source = 0; /* this one-shot source ends when it returns */
    tda_multi_socket_action(multi, TDA_SOCKET_TIMEOUT, 0);
    return G_SOURCE_REMOVE;
}

/* ...and when to call it back (-1: no timer). */
static void on_timer(tda_multi *m, long timeout_ms, void *userdata)
{
    (void)m;
    (void)userdata;
    if (timer_source)
        g_source_remove(timer_source);
    timer_source = timeout_ms < 0 ? 0 : g_timeout_add((guint)timeout_ms, on_timeout, NULL);
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
    if (tda_multi_flow_count(multi) == 0)
        g_main_loop_quit(loop);
}

int main(int argc, char **argv)
{
    const char *id = getenv("TRAKT_CLIENT_ID"), *secret = getenv("TRAKT_CLIENT_SECRET");
    const char *url = getenv("TRAKT_OAUTH_URL");
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (!id || n < 1 || n > MAX_FLOWS) {
        fprintf(stderr, "usage: TRAKT_CLIENT_ID=.. multi_glib [1-%d]\n", MAX_FLOWS);
        return 2;
    }
    if (tda_global_init() != TDA_OK) /* once, at start: libcurl's and jansson's set-up */
        return 1;
    tda_client *client = tda_client_new(id, secret);
    if (!client || (url && tda_client_set_base_url(client, url) != TDA_OK))
        return 1;
    tda_client_set_user_agent(client, "multi-glib-example/1.0");
    multi = tda_multi_new(client);
    if (!multi)
        return 1;
    loop = g_main_loop_new(NULL, FALSE);
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
    g_main_loop_run(loop);

    tda_multi_free(multi); /* removes the remaining sources through on_socket */
    if (timer_source)
        g_source_remove(timer_source);
    g_main_loop_unref(loop);
    for (int i = 0; i < n; i++)
        tda_code_clear(&codes[i]);
    tda_client_free(client);
    tda_global_cleanup();
    printf("%d of %d authorized\n", succeeded, n);
    return succeeded == n ? 0 : 1;
}
