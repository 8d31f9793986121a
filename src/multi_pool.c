/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's slots and waiting FIFO; see multi_pool.h. */
#include <string.h>

#include "multi_pool.h"

tda_status tda__pool_init(tda__pool *p, int max, int cap)
{
    memset(p, 0, sizeof *p);
    p->slots = tda__calloc((size_t)cap, sizeof *p->slots);
    if (!p->slots)
        return TDA_NO_MEMORY;
    p->max = max;
    p->cap = cap;
    return TDA_OK;
}

void tda__pool_borrow(tda__pool *p, tda__http_slot *client_slot)
{
    p->slots[0].http = client_slot;
    p->count = 1;
    p->borrowed = 1;
}

void tda__pool_cleanup(tda__pool *p)
{
    if (!p->borrowed)
        for (int i = 0; i < p->count; i++)
            tda__slot_cleanup(p->slots[i].http);
    tda__free(p->slots);
    memset(p, 0, sizeof *p);
}

int tda__pool_take(tda__pool *p, const char *ca_file)
{
    for (int i = 0; i < p->count && i < p->max; i++)
        if (!p->slots[i].flow)
            return i;
    if (p->count >= p->max)
        return TDA__NO_SLOT;
    tda__pool_slot *s = &p->slots[p->count];
    memset(s, 0, sizeof *s);
    s->http = &s->own;
    if (tda__slot_init(s->http, ca_file) != TDA_OK)
        return TDA__NO_SLOT;
    return p->count++;
}

void tda__fifo_push(tda__fifo *q, tda__fifo_link *l)
{
    l->next = NULL;
    l->prev = q->tail;
    if (q->tail)
        q->tail->next = l;
    else
        q->head = l;
    q->tail = l;
}

void tda__fifo_remove(tda__fifo *q, tda__fifo_link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        q->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        q->tail = l->prev;
    l->prev = l->next = NULL;
}
