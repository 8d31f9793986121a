/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's descriptor table (multi_sockets.c): which sockets libcurl
 * wants watched and for what, as its socket callback reports them, with the
 * pointer an application attached to each (tda_multi_assign). The snapshot
 * API (tda_multi_fds, tda_multi_wait, tda_multi_perform) reads the table;
 * the callback API hears of every change as it happens instead.
 */
#ifndef TDA__MULTI_SOCKETS_H
#define TDA__MULTI_SOCKETS_H

#include <poll.h>

#include "internal.h"

typedef struct tda__sockets {
    struct pollfd *fds; /* events as poll(2) wants them; revents 0 */
    void **data;        /* the application's pointer per entry, NULL by default */
    /* Scratch for polling the table: one entry more, for the client's cancel pipe. */
    struct pollfd *ready;
    int n, cap;
} tda__sockets;

void tda__sockets_init(tda__sockets *s);
void tda__sockets_clear(tda__sockets *s);

/*
 * Records what fd is to be watched for (TDA_WATCH_IN, _OUT, _INOUT) or that
 * it is no longer (TDA_WATCH_REMOVE). -1 when the table could not grow: the
 * socket is then not watched at all.
 */
int tda__sockets_update(tda__sockets *s, int fd, int what);
/* The entry of fd, -1 when not in the table. */
int tda__sockets_find(const tda__sockets *s, int fd);
/* Copies up to max entries; returns how many there are in all. */
int tda__sockets_snapshot(const tda__sockets *s, struct pollfd *out, int max);

/* poll(2) revents as socket-action bits (TDA_READY_IN, _OUT, _ERR). */
int tda__ready_of_revents(short revents);

#endif
