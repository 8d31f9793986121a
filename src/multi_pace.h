/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's pace (multi_pace.c): when any request of an engine may leave.
 * Two rules, both about the one IP all flows share:
 *  - a pause: after a rate limit that speaks for the IP (Retry-After,
 *    X-Ratelimit, Cloudflare's page), nothing is sent until it has passed;
 *  - a cap, off by default: at most max_rate requests in any one second,
 *    each counted from when it is sent until a second after it ended.
 * Pure bookkeeping over the caller's clock, so unit tests drive it with a
 * fake one. Which flow goes next (the oldest due first) is multi_pool.c's FIFO;
 * this only says when the next may go.
 */
#ifndef TDA__MULTI_PACE_H
#define TDA__MULTI_PACE_H

#include <stdint.h>

#include "internal.h"

#define TDA__MAX_RATE 100000 /* requests per second; a higher cap would be no cap */
#define TDA__PACE_WINDOW_MS 1000

typedef struct tda__pace {
    int64_t paused_until_ms; /* nothing is sent before this; 0 when never paused */
    int max_rate;            /* 0: no cap */
    int in_flight;           /* requests sent and not yet ended */
    /*
     * When the requests that ended within the last window ended, oldest first:
     * a ring of max_rate entries (kept only while a cap is set).
     */
    int64_t *ended_at;
    int head, len;
} tda__pace;

void tda__pace_init(tda__pace *p);
void tda__pace_clear(tda__pace *p);

/* Sets the cap (0: off). TDA_NO_MEMORY leaves the old cap in force. */
tda_status tda__pace_set_rate(tda__pace *p, int per_second);

/*
 * The earliest time, at or after now_ms, when one more request may be sent:
 * now_ms when nothing holds it back; INT64_MAX when only the end of a request
 * in flight can make room (the engine then wakes on its answer).
 */
int64_t tda__pace_ready_at(const tda__pace *p, int64_t now_ms);

/* A request was sent; one sent earlier ended (answer, failure or abandoned) at now_ms. */
void tda__pace_sent(tda__pace *p);
void tda__pace_ended(tda__pace *p, int64_t now_ms);

/* Holds every request back until until_ms; a pause already longer stays. */
void tda__pace_pause_until(tda__pace *p, int64_t until_ms);

#endif
