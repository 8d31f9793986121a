/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renewal: when a code expires unused and the caller allowed it
 * (tda_poll_options.renewals), the flow asks for a new code instead of
 * ending. When to send that code request, and when to give up, is decided
 * here, as a pure state machine over the same clocks as the polling policy
 * (poll_policy.h); the engine (multi_flow.c) sends it through the same slots,
 * queue and checks as a poll, so every rule that holds a poll back holds a
 * code request back too.
 */
#ifndef TDA__RENEW_POLICY_H
#define TDA__RENEW_POLICY_H

#include "poll_policy.h"

/* Consecutive failed code requests after which renewal gives up. */
#define TDA__RENEW_MAX_FAILURES 6

typedef struct tda__renewal {
    int left;               /* new codes still allowed; TDA_RENEW_UNLIMITED: no limit */
    int fetched;            /* new codes received so far */
    int failures;           /* consecutive failed code requests */
    int active;             /* the code expired and a new one is being fetched */
    int64_t next_at_ms;     /* monotonic: no code request before this */
    tda_status last_status; /* of the last failed code request */
    uint64_t rng;
} tda__renewal;

/* count: opts->renewals (0: none, TDA_RENEW_UNLIMITED, or how many). */
void tda__renewal_init(tda__renewal *r, int count, uint64_t seed);

/*
 * Whether a flow that would end with st goes on with a new code instead: when
 * the code expired unused (410, or its life ran out, whatever the last poll
 * met) and renewals are left.
 */
int tda__renewal_wanted(const tda__renewal *r, tda_status st);

/*
 * The code expired: fetch a new one, but not before not_before_ms
 * (monotonic), one interval after the flow's last request, so a flow never
 * sends two requests closer than its interval.
 */
void tda__renewal_start(tda__renewal *r, int64_t not_before_ms);

/*
 * What to do now while renewing: POLL means send the code request, WAIT
 * until (monotonic), DONE with the flow's result. p's deadline (boot clock)
 * still bounds the flow.
 */
tda__action tda__renewal_next(const tda__renewal *r, const tda__policy *p, tda__instant now);

/*
 * The code request ended with st at answered_at (TDA_OK: the caller has a new
 * code and renews the policy). 429 waits Retry-After when there is one;
 * without one, and after a transient error, the wait grows exponentially from
 * the interval with jitter, capped at TDA__MAX_BACKOFF_MS, and never shorter
 * than Retry-After or the interval. Returns 1 when renewal is over with st as
 * the flow's result (a final status, or too many failures), else 0. ev, when
 * not NULL, gets the RETRY event for a failure that is retried (kind 0
 * otherwise).
 */
int tda__renewal_record(tda__renewal *r, tda__instant answered_at, tda_status st,
                        int64_t retry_after_ms, int64_t interval_ms, tda_event *ev);

#endif
