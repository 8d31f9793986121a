/*
 * The engine's connection pool and its queue (multi_pool.c). A slot is one
 * easy handle with its buffers, lent to one flow for one request; libcurl's
 * multi handle keeps the connections alive and shares them among the slots.
 * Requests that are due but find every slot busy, or the pace holding them
 * back, wait in a FIFO, oldest first. The FIFO is intrusive and doubly
 * linked, so a waiting flow that is cancelled or ends leaves it in O(1).
 */
#ifndef TDA_MULTI_POOL_H
#define TDA_MULTI_POOL_H

#include "protocol.h"
#include "transport.h"

#define TDA_NO_SLOT (-1)

typedef struct tda_pool_slot {
    tda_http_slot *http; /* &own, or the client's own slot when borrowed */
    tda_http_slot own;
    tda_flow *flow; /* NULL when free */
    tda_body body;  /* the request in flight; holds secrets, wiped when cleared */
} tda_pool_slot;

typedef struct tda_pool {
    tda_pool_slot *slots; /* count of them exist; more are made on demand, up to max */
    int count, max, cap;
    int borrowed;         /* slots[0] is the client's: not ours to clean up */
} tda_pool;

/* Room for cap slots, of which max may be used. TDA_NO_MEMORY on failure. */
tda_status tda_pool_init(tda_pool *p, int max, int cap);
/* Lends slots[0] from the client (the blocking call's engine): one slot in all. */
void tda_pool_borrow(tda_pool *p, tda_http_slot *client_slot);
void tda_pool_cleanup(tda_pool *p);
/*
 * A free slot's index, made on demand up to max (with the CA file given);
 * TDA_NO_SLOT when all are busy or none could be made. Slots past a lowered
 * max stay idle until the pool is cleaned up.
 */
int tda_pool_take(tda_pool *p, const char *ca_file);

/* ---- the FIFO of waiting requests */

typedef struct tda_fifo_link {
    struct tda_fifo_link *prev, *next;
} tda_fifo_link;

typedef struct tda_fifo {
    tda_fifo_link *head, *tail;
} tda_fifo;

void tda_fifo_push(tda_fifo *q, tda_fifo_link *l);
/* O(1); the caller knows l is queued (the flow's state says so). */
void tda_fifo_remove(tda_fifo *q, tda_fifo_link *l);

#endif
