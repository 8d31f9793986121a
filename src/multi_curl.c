/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the engine hears from libcurl (see multi_engine.h for the files around
 * it): its socket callback, which keeps the descriptor table (multi_sockets.c)
 * in step and passes each change on to the application's socket function,
 * and its timer callback, which notes when libcurl wants to be called again.
 */
#include <stdint.h>

#include "multi_engine.h"

/* The public watch bits are libcurl's own, so they pass through unchanged. */
_Static_assert(TDA_WATCH_IN == CURL_POLL_IN && TDA_WATCH_OUT == CURL_POLL_OUT &&
                   TDA_WATCH_INOUT == CURL_POLL_INOUT && TDA_WATCH_REMOVE == CURL_POLL_REMOVE,
               "TDA_WATCH_ values are libcurl's CURL_POLL_ values");

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    tda_multi *m = userp;
    int i = tda__sockets_find(&m->sockets, s);
    void *data = i >= 0 ? m->sockets.data[i] : NULL;
    if (tda__sockets_update(&m->sockets, s, what) != 0) {
        m->lost_track = 1;
        return -1;
    }
    if (m->socket_fn)
        m->socket_fn(m, s, what, m->socket_userdata, data);
    return 0;
}

static int on_timer(CURLM *curlm, long timeout_ms, void *userp)
{
    (void)curlm;
    tda_multi *m = userp;
    m->curl_due_ms = timeout_ms < 0 ? INT64_MAX : tda_monotonic_ms() + timeout_ms;
    return 0;
}

int tda__engine_watch_curl(tda_multi *m, int on)
{
    return curl_multi_setopt(m->curlm, CURLMOPT_SOCKETFUNCTION, on ? on_socket : NULL) ==
               CURLM_OK &&
           curl_multi_setopt(m->curlm, CURLMOPT_SOCKETDATA, on ? m : NULL) == CURLM_OK &&
           curl_multi_setopt(m->curlm, CURLMOPT_TIMERFUNCTION, on ? on_timer : NULL) == CURLM_OK &&
           curl_multi_setopt(m->curlm, CURLMOPT_TIMERDATA, on ? m : NULL) == CURLM_OK;
}
