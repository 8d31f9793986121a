/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's descriptor table; see multi_sockets.h. */
#include <string.h>

#include "multi_sockets.h"

void tda__sockets_init(tda__sockets *s)
{
    memset(s, 0, sizeof *s);
}

void tda__sockets_clear(tda__sockets *s)
{
    tda__free(s->fds);
    tda__free(s->data);
    tda__free(s->ready);
    memset(s, 0, sizeof *s);
}

int tda__sockets_find(const tda__sockets *s, int fd)
{
    for (int i = 0; i < s->n; i++)
        if (s->fds[i].fd == fd)
            return i;
    return -1;
}

static int grow(tda__sockets *s)
{
    int cap = s->cap ? s->cap * 2 : 8;
    struct pollfd *fds = tda__realloc(s->fds, (size_t)cap * sizeof *fds);
    if (!fds)
        return -1;
    s->fds = fds;
    void **data = tda__realloc(s->data, (size_t)cap * sizeof *data);
    if (!data)
        return -1;
    s->data = data;
    struct pollfd *ready = tda__realloc(s->ready, ((size_t)cap + 1) * sizeof *ready);
    if (!ready)
        return -1;
    s->ready = ready;
    s->cap = cap;
    return 0;
}

int tda__sockets_update(tda__sockets *s, int fd, int what)
{
    int i = tda__sockets_find(s, fd);
    if (what == TDA_WATCH_REMOVE) {
        if (i >= 0) {
            s->n--;
            s->fds[i] = s->fds[s->n];
            s->data[i] = s->data[s->n];
        }
        return 0;
    }
    if (i < 0) {
        if (s->n == s->cap && grow(s) != 0)
            return -1;
        i = s->n++;
        s->fds[i].fd = fd;
        s->data[i] = NULL;
    }
    s->fds[i].events = (short)(((what & TDA_WATCH_IN) ? POLLIN : 0) |
                               ((what & TDA_WATCH_OUT) ? POLLOUT : 0));
    s->fds[i].revents = 0;
    return 0;
}

int tda__sockets_snapshot(const tda__sockets *s, struct pollfd *out, int max)
{
    if (out && max > 0) {
        int n = s->n < max ? s->n : max;
        for (int i = 0; i < n; i++) {
            out[i] = s->fds[i];
            out[i].revents = 0;
        }
    }
    return s->n;
}

int tda__ready_of_revents(short r)
{
    return ((r & POLLIN) ? TDA_READY_IN : 0) | ((r & POLLOUT) ? TDA_READY_OUT : 0) |
           ((r & (POLLERR | POLLHUP | POLLNVAL)) ? TDA_READY_ERR : 0);
}
