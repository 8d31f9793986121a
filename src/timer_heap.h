/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A binary min-heap of timers (timer_heap.c): what the engine looks at next.
 * Intrusive: the node lives inside its owner (a flow), so queueing allocates
 * nothing beyond the heap's array, and a node knows its own position, so
 * moving or removing one from the middle is O(log n). Equal times come out
 * in the order they were set (each set takes a new sequence number), so
 * flows due at the same millisecond go in the order they became due.
 */
#ifndef TDA__TIMER_HEAP_H
#define TDA__TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define TDA__HEAP_NOT_QUEUED ((size_t)-1)

typedef struct tda__heap_node {
    int64_t due_ms; /* the key while queued */
    uint64_t seq;   /* breaks ties: the order of tda__heap_set calls */
    size_t pos;     /* index in the heap, TDA__HEAP_NOT_QUEUED when not queued */
} tda__heap_node;

typedef struct tda__heap {
    tda__heap_node **items;
    size_t len, cap;
    uint64_t next_seq;
} tda__heap;

void tda__heap_init(tda__heap *h);
/* Frees the array; the nodes belong to their owners. */
void tda__heap_clear(tda__heap *h);
void tda__heap_node_init(tda__heap_node *n);

static inline int tda__heap_queued(const tda__heap_node *n)
{
    return n->pos != TDA__HEAP_NOT_QUEUED;
}

/*
 * Queues n at due_ms, or moves it there when already queued (which cannot
 * fail). TDA_NO_MEMORY when the array could not grow; n is then not queued.
 */
tda_status tda__heap_set(tda__heap *h, tda__heap_node *n, int64_t due_ms);
/* Takes n out; a node that is not queued is left alone. */
void tda__heap_remove(tda__heap *h, tda__heap_node *n);
/* The earliest node, NULL when empty. */
static inline tda__heap_node *tda__heap_top(const tda__heap *h)
{
    return h->len ? h->items[0] : NULL;
}

#endif
