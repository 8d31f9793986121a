/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's connection pool and its queue (multi_pool.c). A slot is one
 * easy handle with its buffers, lent to one flow for one request; libcurl's
 * multi handle keeps the connections alive and shares them among the slots.
 * Requests that are due but find every slot busy, or the pace holding them
 * back, wait in a FIFO, oldest first. The FIFO is intrusive and doubly
 * linked, so a waiting flow that is cancelled or ends leaves it in O(1).
 */
#ifndef TDA__MULTI_POOL_H
#define TDA__MULTI_POOL_H

#include "protocol.h"
#include "transport.h"

#define TDA__NO_SLOT (-1)

typedef struct tda__pool_slot {
    tda__http_slot *http; /* &own, or the client's own slot when borrowed */
    tda__http_slot own;
    tda_flow *flow; /* NULL when free */
    tda__body body; /* the request in flight; holds secrets, wiped when cleared */
} tda__pool_slot;

typedef struct tda__pool {
    tda__pool_slot *slots; /* count of them exist; more are made on demand, up to max */
    int count, max, cap;
    int borrowed; /* slots[0] is the client's: not ours to clean up */
} tda__pool;

/* Room for cap slots, of which max may be used. TDA_NO_MEMORY on failure. */
tda_status tda__pool_init(tda__pool *p, int max, int cap);
/* Lends slots[0] from the client (the blocking call's engine): one slot in all. */
void tda__pool_borrow(tda__pool *p, tda__http_slot *client_slot);
void tda__pool_cleanup(tda__pool *p);
/*
 * A free slot's index, made on demand up to max (with the CA file given);
 * TDA__NO_SLOT when all are busy or none could be made. Slots past a lowered
 * max stay idle until the pool is cleaned up.
 */
int tda__pool_take(tda__pool *p, const char *ca_file);

/* ---- the FIFO of waiting requests */

typedef struct tda__fifo_link {
    struct tda__fifo_link *prev, *next;
} tda__fifo_link;

typedef struct tda__fifo {
    tda__fifo_link *head, *tail;
} tda__fifo;

void tda__fifo_push(tda__fifo *q, tda__fifo_link *l);
/* O(1); the caller knows l is queued (the flow's state says so). */
void tda__fifo_remove(tda__fifo *q, tda__fifo_link *l);

#endif
