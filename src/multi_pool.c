/* The engine's slots and waiting FIFO; see multi_pool.h. */
#include <string.h>

#include "multi_pool.h"

tda_status tda_pool_init(tda_pool *p, int max, int cap)
{
    memset(p, 0, sizeof *p);
    p->slots = tda_calloc((size_t)cap, sizeof *p->slots);
    if (!p->slots)
        return TDA_NO_MEMORY;
    p->max = max;
    p->cap = cap;
    return TDA_OK;
}

void tda_pool_borrow(tda_pool *p, tda_http_slot *client_slot)
{
    p->slots[0].http = client_slot;
    p->count = 1;
    p->borrowed = 1;
}

void tda_pool_cleanup(tda_pool *p)
{
    if (!p->borrowed)
        for (int i = 0; i < p->count; i++)
            tda_slot_cleanup(p->slots[i].http);
    tda_free(p->slots);
    memset(p, 0, sizeof *p);
}

int tda_pool_take(tda_pool *p, const char *ca_file)
{
    for (int i = 0; i < p->count && i < p->max; i++)
        if (!p->slots[i].flow)
            return i;
    if (p->count >= p->max)
        return TDA_NO_SLOT;
    tda_pool_slot *s = &p->slots[p->count];
    memset(s, 0, sizeof *s);
    s->http = &s->own;
    if (tda_slot_init(s->http, ca_file) != TDA_OK)
        return TDA_NO_SLOT;
    return p->count++;
}

void tda_fifo_push(tda_fifo *q, tda_fifo_link *l)
{
    l->next = NULL;
    l->prev = q->tail;
    if (q->tail)
        q->tail->next = l;
    else
        q->head = l;
    q->tail = l;
}

void tda_fifo_remove(tda_fifo *q, tda_fifo_link *l)
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
