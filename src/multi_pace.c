/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's pace (see multi_pace.h).
 *
 * Why a request counts until a second after it ended, not after it was
 * sent: the server judges a rate by when requests reach it, which is some
 * time after we send them and before we see the answer. Counting from the
 * end makes "at most max_rate in any second" hold at the server whatever the
 * network delay, at the cost of a little throughput when answers are slow.
 */
#include <string.h>

#include "multi_pace.h"

void tda__pace_init(tda__pace *p)
{
    memset(p, 0, sizeof *p);
}

void tda__pace_clear(tda__pace *p)
{
    tda__free(p->ended_at);
    memset(p, 0, sizeof *p);
}

/* The i-th oldest end time still in the ring. */
static int64_t ended(const tda__pace *p, int i)
{
    return p->ended_at[(p->head + i) % p->max_rate];
}

tda_status tda__pace_set_rate(tda__pace *p, int per_second)
{
    if (per_second == p->max_rate)
        return TDA_OK;
    int64_t *ring = NULL;
    if (per_second > 0 && !(ring = tda__calloc((size_t)per_second, sizeof *ring)))
        return TDA_NO_MEMORY;
    /* Keep the newest end times that fit: a changed cap still counts what just happened.
       No cap (per_second 0) has no ring and keeps nothing. */
    int keep = !ring ? 0 : p->len < per_second ? p->len : per_second;
    for (int i = 0; i < keep; i++)
        ring[i] = ended(p, p->len - keep + i);
    tda__free(p->ended_at);
    p->ended_at = ring;
    p->max_rate = per_second;
    p->head = 0;
    p->len = keep;
    return TDA_OK;
}

int64_t tda__pace_ready_at(const tda__pace *p, int64_t now_ms)
{
    int64_t t = p->paused_until_ms > now_ms ? p->paused_until_ms : now_ms;
    if (p->max_rate == 0)
        return t;
    /* Ends still inside the window at t; the ring is in the order they happened. */
    int first = 0;
    while (first < p->len && ended(p, first) + TDA__PACE_WINDOW_MS <= t)
        first++;
    int counted = p->in_flight + (p->len - first);
    if (counted < p->max_rate)
        return t;
    /* Room comes when enough of the counted ones have left the window. */
    int must_leave = counted - p->max_rate + 1;
    if (must_leave > p->len - first)
        return INT64_MAX; /* only requests in flight hold the room: wait for an answer */
    return ended(p, first + must_leave - 1) + TDA__PACE_WINDOW_MS;
}

void tda__pace_sent(tda__pace *p)
{
    p->in_flight++;
}

void tda__pace_ended(tda__pace *p, int64_t now_ms)
{
    if (p->in_flight > 0)
        p->in_flight--;
    if (p->max_rate == 0)
        return;
    /* Entries that left the window make room first. */
    while (p->len > 0 && ended(p, 0) + TDA__PACE_WINDOW_MS <= now_ms) {
        p->head = (p->head + 1) % p->max_rate;
        p->len--;
    }
    if (p->len == p->max_rate) {
        /* Only after the cap was lowered or turned on mid-flight: the oldest gives way. */
        p->head = (p->head + 1) % p->max_rate;
        p->len--;
    }
    /* +1 ms: the clock reads whole ms rounded down, and the window must be a whole second. */
    p->ended_at[(p->head + p->len) % p->max_rate] = now_ms + 1;
    p->len++;
}

void tda__pace_pause_until(tda__pace *p, int64_t until_ms)
{
    if (until_ms > p->paused_until_ms)
        p->paused_until_ms = until_ms;
}
