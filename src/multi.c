/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The non-blocking engine's public API (see the header), thin wrappers over
 * the engine's files (multi_engine.h lists them), and the callback API's
 * bookkeeping: telling the application's timer when the engine's next due
 * time changes, and its socket function about the client's cancel pipe.
 */
#include <string.h>

#include "clock.h"
#include "multi.h"
#include "multi_engine.h"

#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 64
#define DAY_MS (24L * 3600 * 1000)

/* The wait until the engine is due, as tda_multi_timeout_ms() says it. */
static long timeout_of(tda_multi *m, tda__instant now)
{
    if (m->flow_count == 0)
        return -1;
    int64_t wait = tda__engine_due(m, now) - now.mono_ms;
    return wait > DAY_MS ? DAY_MS : (long)wait;
}

/*
 * After each outermost call that may move the engine's due time: tells the
 * application's timer when it changed, as libcurl's timer callback does.
 * A timer that fired (TDA__TIMER_UNSET) is always armed again.
 */
static void sync_timer(tda_multi *m)
{
    if (!m->timer_fn || m->depth > 0)
        return;
    tda__instant now = tda__now();
    long wait = timeout_of(m, now);
    int64_t at = wait < 0 ? TDA__TIMER_NONE : now.mono_ms + wait;
    if (at == m->timer_at_ms)
        return;
    m->timer_at_ms = at;
    m->timer_fn(m, wait, m->timer_userdata);
}

/* Tells fn that every descriptor is watched (on) or no longer (off), as at a change of loop. */
static void tell_all(tda_multi *m, tda_socket_fn fn, void *userdata, int on)
{
    fn(m, m->c->cancel_pipe[0], on ? TDA_WATCH_IN : TDA_WATCH_REMOVE, userdata, m->cancel_socketp);
    for (int i = 0; i < m->sockets.n; i++) {
        short ev = m->sockets.fds[i].events;
        int what = !on ? TDA_WATCH_REMOVE
                       : ((ev & POLLIN) ? TDA_WATCH_IN : 0) | ((ev & POLLOUT) ? TDA_WATCH_OUT : 0);
        fn(m, m->sockets.fds[i].fd, what, userdata, m->sockets.data[i]);
    }
    if (!on) { /* the pointers were the old loop's */
        m->cancel_socketp = NULL;
        for (int i = 0; i < m->sockets.n; i++)
            m->sockets.data[i] = NULL;
    }
}

tda_multi *tda_multi_new(tda_client *c)
{
    if (!c)
        return NULL;
    tda_multi *m = tda__engine_alloc(c, DEFAULT_CONNECTIONS, MAX_CONNECTIONS);
    if (!m)
        return NULL;
    m->curlm = curl_multi_init();
    if (!m->curlm || !tda__engine_watch_curl(m, 1) ||
        curl_multi_setopt(m->curlm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_CONNECTIONS) !=
            CURLM_OK) {
        tda__engine_free(m);
        return NULL;
    }
    return m;
}

tda_multi *tda__multi_borrow(tda_client *c)
{
    tda_multi *m = tda__engine_alloc(c, 1, 1);
    if (!m)
        return NULL;
    m->borrowed = 1;
    m->curlm = c->transport.multi;
    tda__pool_borrow(&m->pool, &c->transport.slot);
    if (!tda__engine_watch_curl(m, 1)) {
        tda__engine_free(m);
        return NULL;
    }
    return m;
}

void tda_multi_free(tda_multi *m)
{
    if (!m)
        return;
    m->timer_fn = NULL;
    m->depth++; /* the flows it drops may not reach the application's timer either */
    if (m->socket_fn) {
        /* Every watch ends before libcurl closes its sockets, so a loop never sees a dead one. */
        tda_socket_fn fn = m->socket_fn;
        m->socket_fn = NULL;
        tell_all(m, fn, m->socket_userdata, 0);
    }
    tda__engine_free(m);
}

tda_status tda_multi_set_max_connections(tda_multi *m, int n)
{
    if (!m || m->borrowed || n < 1 || n > m->pool.cap)
        return TDA_INVALID_ARGUMENT;
    m->pool.max = n; /* existing slots beyond n stay until freed; no new ones are made */
    return TDA_OK;
}

tda_status tda_multi_set_max_rate(tda_multi *m, int per_second)
{
    if (!m || m->borrowed || per_second < 0 || per_second > TDA__MAX_RATE)
        return TDA_INVALID_ARGUMENT;
    return tda__pace_set_rate(&m->pace, per_second);
}

tda_flow *tda_multi_add(tda_multi *m, const tda_code *code, const tda_poll_options *opts,
                        tda_flow_done_fn done, void *userdata)
{
    if (!m || !code || !code->device_code || !*code->device_code)
        return NULL;
    tda_flow *f = tda__engine_add(m, code, opts, done, userdata);
    sync_timer(m);
    return f;
}

void tda_flow_cancel(tda_flow *f)
{
    if (!f)
        return;
    tda__engine_cancel(f);
    sync_timer(f->m);
}

void tda_multi_cancel_all(tda_multi *m)
{
    if (!m)
        return;
    for (tda_flow *f = m->flows; f; f = f->next)
        tda__engine_cancel(f);
    sync_timer(m);
}

const char *tda_flow_error_detail(const tda_flow *f)
{
    return f ? f->detail : "";
}

size_t tda_multi_flow_count(const tda_multi *m)
{
    return m ? m->flow_count : 0;
}

int tda_multi_fds(tda_multi *m, struct pollfd *fds, int max)
{
    return m ? tda__sockets_snapshot(&m->sockets, fds, max) : 0;
}

long tda_multi_timeout_ms(tda_multi *m)
{
    return m ? timeout_of(m, tda__now()) : -1;
}

tda_status tda_multi_perform(tda_multi *m)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    m->depth++;
    tda__engine_turn(m, -1, 0, 1);
    m->depth--;
    sync_timer(m);
    return TDA_OK;
}

tda_status tda_multi_wait(tda_multi *m, long max_ms)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    long timeout = tda_multi_timeout_ms(m);
    if (timeout < 0 || (max_ms >= 0 && max_ms < timeout))
        timeout = max_ms;
    if (timeout > 60000 || timeout < 0)
        timeout = 60000; /* bounds the wait when nothing at all is due */
    int n = m->sockets.n;
    struct pollfd one = {-1, 0, 0};
    struct pollfd *fds = m->sockets.ready ? m->sockets.ready : &one; /* no allocation here */
    if (n)
        memcpy(fds, m->sockets.fds, (size_t)n * sizeof *fds);
    fds[n].fd = m->c->cancel_pipe[0];
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    /* Sleeps in the kernel until a socket, the time, or a cancel: no wake-ups between. */
    int rc = poll(fds, (nfds_t)n + 1, (int)timeout);
    if (rc > 0 && fds[n].revents && !atomic_load(&m->c->cancelled))
        tda__drain_cancel_pipe(m->c->cancel_pipe[0]);
    return tda_multi_perform(m);
}

/* ------------------------------------------------------------ the callback API */

tda_status tda_multi_set_socket_fn(tda_multi *m, tda_socket_fn fn, void *userdata)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    tda_socket_fn old = m->socket_fn;
    void *old_userdata = m->socket_userdata;
    m->socket_fn = NULL;
    /* The old function hears the end of every watch it was told of, the new one starts them
     * all, so either loop is in step with the engine. */
    if (old)
        tell_all(m, old, old_userdata, 0);
    m->socket_fn = fn;
    m->socket_userdata = userdata;
    if (fn)
        tell_all(m, fn, userdata, 1);
    return TDA_OK;
}

tda_status tda_multi_set_timer_fn(tda_multi *m, tda_timer_fn fn, void *userdata)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    m->timer_fn = fn;
    m->timer_userdata = userdata;
    m->timer_at_ms = TDA__TIMER_UNSET;
    sync_timer(m);
    return TDA_OK;
}

tda_status tda_multi_assign(tda_multi *m, int fd, void *socketp)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    if (fd >= 0 && fd == m->c->cancel_pipe[0]) {
        m->cancel_socketp = socketp;
        return TDA_OK;
    }
    int i = tda__sockets_find(&m->sockets, fd);
    if (i < 0)
        return TDA_INVALID_ARGUMENT;
    m->sockets.data[i] = socketp;
    return TDA_OK;
}

tda_status tda_multi_socket_action(tda_multi *m, int fd, int events)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    m->depth++;
    if (fd == TDA_SOCKET_TIMEOUT) {
        m->timer_at_ms = TDA__TIMER_UNSET; /* it fired: the next due time re-arms it */
        fd = -1;
    } else if (fd == m->c->cancel_pipe[0]) {
        /* The cancel flag is what counts; the byte only woke the loop, which would spin on it. */
        tda__drain_cancel_pipe(fd);
        fd = -1;
    } else if (tda__sockets_find(&m->sockets, fd) < 0) {
        fd = -1; /* no longer watched: a stale report from the loop */
    }
    tda__engine_turn(m, fd, events & (TDA_READY_IN | TDA_READY_OUT | TDA_READY_ERR), 0);
    m->depth--;
    sync_timer(m);
    return TDA_OK;
}
