/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The polling policy as a pure state machine over a caller-supplied clock:
 * given the code, the time and each answer, it says "wait until T", "poll
 * now" or "done". The blocking call and the non-blocking engine both drive
 * this, so they cannot disagree, and tests run it on a fake clock.
 */
#ifndef TDA__POLL_H
#define TDA__POLL_H

#include <stdint.h>

#include "clock.h"
#include "internal.h"

#define TDA__DEFAULT_INTERVAL_MS 5000  /* when the code names none (or <= 0) */
#define TDA__DEFAULT_SLOW_DOWN_MS 5000 /* RFC 8628 3.5: +5 s on slow_down */
#define TDA__MAX_BACKOFF_MS 60000      /* transient-error backoff stops growing here */

/*
 * Two clocks (clock.h): the code's end and the deadline are boot-clock times,
 * since they run on while the machine sleeps; the next poll is a monotonic
 * time, since the interval is a least spacing and that clock can only make it
 * longer. Every function takes both readings of one moment.
 */
typedef struct tda__policy {
    int64_t expires_at_ms; /* boot clock: the code's end */
    int64_t deadline_ms;   /* boot clock: the caller's deadline; INT64_MAX when none */
    int64_t interval_ms;   /* grows on 429 and stays grown */
    int64_t slow_down_step_ms;
    int64_t next_poll_at_ms; /* monotonic: never sooner than interval after the last answer */
    int transient_streak;    /* consecutive transient failures, for backoff */
    int polls;
    tda_status last_status; /* of the last answer; reported when the code expires */
    uint64_t rng;           /* jitter source, seeded by the caller */
} tda__policy;

typedef enum tda__action_kind {
    TDA__ACTION_WAIT,
    TDA__ACTION_POLL,
    TDA__ACTION_DONE
} tda__action_kind;

typedef struct tda__action {
    tda__action_kind kind;
    int64_t until_ms;  /* WAIT: when to ask again, on the monotonic clock */
    tda_status result; /* DONE: the flow's outcome */
} tda__action;

/*
 * opts may be NULL. seed 0 is replaced by a fixed non-zero value. The code's
 * life counts from code->issued_at_ms (boot clock; 0: from now), so a code
 * loaded from a file after a restart keeps only what is left of it. The first
 * poll waits one interval from now, not from the issue: a program that was
 * restarted may have polled this code a moment before.
 */
void tda__policy_init(tda__policy *p, const tda_code *code, const tda_poll_options *opts,
                      tda__instant now, uint64_t seed);

/*
 * The flow goes on with a new code (renewal): the code's life and interval
 * are its own, except that an interval raised by 429 stays raised; the
 * deadline, the slow-down step and the poll count are the flow's.
 */
void tda__policy_renew(tda__policy *p, const tda_code *code, tda__instant now);

/* What to do now. Pure: asking twice gives the same answer. */
tda__action tda__policy_next(const tda__policy *p, tda__instant now);

/*
 * Feed the outcome of a poll that was answered (or failed) at answered_at.
 * retry_after_ms is the answer's Retry-After or -1. Returns 1 when the flow is
 * over (tda__policy_next then says DONE with the same result), 0 to go on.
 * ev, when not NULL, is filled for the progress callback; its kind is 0 when
 * the flow ended in failure (no event is due then).
 */
int tda__policy_record(tda__policy *p, tda__instant answered_at, tda_status st,
                       int64_t retry_after_ms, tda_event *ev);

#endif
