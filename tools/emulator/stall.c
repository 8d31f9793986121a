/* SPDX-License-Identifier: Apache-2.0 */
/* Stalled connections: a stall fault suspends its connection and never
 * answers, like a server that accepted a request and hung. libmicrohttpd must
 * not be stopped with suspended connections, so they are kept here and
 * resumed at shutdown, when the access handler closes them. */
#include "stall.h"

#include <pthread.h>
#include <stdlib.h>

#include <microhttpd.h>

bool emu_hold_stalled(struct emu_server *srv, struct MHD_Connection *conn)
{
    bool held = true;

    pthread_mutex_lock(&srv->lock);
    if (srv->stalled_count == srv->stalled_cap) {
        size_t cap = srv->stalled_cap == 0 ? 8 : srv->stalled_cap * 2;
        /* The check takes sizeof a pointer to a struct for a mistaken sizeof(&s). */
        struct MHD_Connection **grown =
            /* NOLINTNEXTLINE(bugprone-sizeof-expression): the items are pointers */
            realloc(srv->stalled, cap * sizeof *grown);
        if (grown == NULL) {
            held = false;
        } else {
            srv->stalled = grown;
            srv->stalled_cap = cap;
        }
    }
    if (held) {
        srv->stalled[srv->stalled_count++] = conn;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&srv->lock);
    return held;
}

void emu_release_stalled(struct emu_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->stalled_count; i++)
        MHD_resume_connection(srv->stalled[i]);
    free(srv->stalled);
    srv->stalled = NULL;
    srv->stalled_count = srv->stalled_cap = 0;
    pthread_mutex_unlock(&srv->lock);
}
