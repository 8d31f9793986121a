/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's timer heap; see timer_heap.h. */
#include "timer_heap.h"

void tda__heap_init(tda__heap *h)
{
    h->items = NULL;
    h->len = h->cap = 0;
    h->next_seq = 0;
}

void tda__heap_clear(tda__heap *h)
{
    for (size_t i = 0; i < h->len; i++)
        h->items[i]->pos = TDA__HEAP_NOT_QUEUED;
    tda__free(h->items);
    tda__heap_init(h);
}

void tda__heap_node_init(tda__heap_node *n)
{
    n->due_ms = 0;
    n->seq = 0;
    n->pos = TDA__HEAP_NOT_QUEUED;
}

static int earlier(const tda__heap_node *a, const tda__heap_node *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void place(tda__heap *h, size_t i, tda__heap_node *n)
{
    h->items[i] = n;
    n->pos = i;
}

static void sift_up(tda__heap *h, size_t i)
{
    tda__heap_node *n = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(n, h->items[parent]))
            break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, n);
}

static void sift_down(tda__heap *h, size_t i)
{
    tda__heap_node *n = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && earlier(h->items[child + 1], h->items[child]))
            child++;
        if (!earlier(h->items[child], n))
            break;
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, n);
}

tda_status tda__heap_set(tda__heap *h, tda__heap_node *n, int64_t due_ms)
{
    if (n->pos == TDA__HEAP_NOT_QUEUED) {
        if (h->len == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 16;
            /* The check takes sizeof a pointer to a struct for a mistaken sizeof(&s). */
            /* NOLINTNEXTLINE(bugprone-sizeof-expression): the items are pointers to nodes */
            tda__heap_node **grown = tda__realloc(h->items, cap * sizeof *grown);
            if (!grown)
                return TDA_NO_MEMORY;
            h->items = grown;
            h->cap = cap;
        }
        n->due_ms = due_ms;
        n->seq = h->next_seq++;
        place(h, h->len++, n);
        sift_up(h, n->pos);
        return TDA_OK;
    }
    n->due_ms = due_ms;
    n->seq = h->next_seq++;
    sift_up(h, n->pos);
    sift_down(h, n->pos);
    return TDA_OK;
}

void tda__heap_remove(tda__heap *h, tda__heap_node *n)
{
    size_t i = n->pos;
    if (i == TDA__HEAP_NOT_QUEUED)
        return;
    n->pos = TDA__HEAP_NOT_QUEUED;
    tda__heap_node *last = h->items[--h->len];
    if (last == n)
        return;
    place(h, i, last);
    sift_up(h, i);
    sift_down(h, last->pos);
}
