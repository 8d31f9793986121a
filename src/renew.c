/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When a flow asks for a new code (see renew_policy.h). The rules, all here:
 *  - only a code that expired unused is renewed (410, or its life ran out, also
 *    after transient errors), and only as often as allowed;
 *  - the first code request waits one interval after the flow's last request;
 *  - 429 with Retry-After waits at least that long (Trakt: retrying early only
 *    extends a block); 429 without it, 5xx, 52x and network errors back off
 *    exponentially with jitter; each retry counts, and after
 *    TDA__RENEW_MAX_FAILURES in a row renewal gives up with the last status;
 *  - a final answer (403, an unexpected status, a malformed code) ends the flow;
 *  - the caller's deadline and cancellation end it at any point (engine).
 */
#include <string.h>

#include "renew_policy.h"

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* xorshift64*, as the polling policy's jitter. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void tda__renewal_init(tda__renewal *r, int count, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->left = count < 0 ? TDA_RENEW_UNLIMITED : count;
    r->last_status = TDA_EXPIRED;
    r->rng = seed ? seed : 0x2545F4914F6CDD1DULL;
}

int tda__renewal_wanted(const tda__renewal *r, tda_status st)
{
    /* A flow ends with a transient status only when the code's life ran out after it. */
    return (st == TDA_EXPIRED || tda_status_is_transient(st)) && r->left != 0;
}

void tda__renewal_start(tda__renewal *r, int64_t not_before_ms)
{
    r->active = 1;
    r->failures = 0;
    r->last_status = TDA_EXPIRED;
    r->next_at_ms = not_before_ms;
}

tda__action tda__renewal_next(const tda__renewal *r, const tda__policy *p, tda__instant now)
{
    tda__action a = {TDA__ACTION_WAIT, 0, TDA_OK};
    if (now.boot_ms >= p->deadline_ms) {
        a.kind = TDA__ACTION_DONE;
        a.result = TDA_DEADLINE;
    } else if (now.mono_ms >= r->next_at_ms) {
        a.kind = TDA__ACTION_POLL;
        a.until_ms = now.mono_ms;
    } else {
        /* The deadline is a boot-clock time: converted by how far apart the clocks are now. */
        int64_t to_deadline = p->deadline_ms - now.boot_ms;
        a.until_ms = r->next_at_ms;
        if (p->deadline_ms != INT64_MAX && to_deadline < r->next_at_ms - now.mono_ms)
            a.until_ms = now.mono_ms + to_deadline;
    }
    return a;
}

/* The wait after the n-th failure in a row: interval * 2^(n-1), capped, "equal jitter". */
static int64_t backoff(tda__renewal *r, int64_t interval_ms)
{
    int64_t b = interval_ms;
    for (int i = 1; i < r->failures && b < TDA__MAX_BACKOFF_MS; i++)
        b *= 2;
    if (b > TDA__MAX_BACKOFF_MS)
        b = TDA__MAX_BACKOFF_MS;
    int64_t half = b / 2;
    return max64(interval_ms, half + (int64_t)(next_random(&r->rng) % (uint64_t)(half + 1)));
}

int tda__renewal_record(tda__renewal *r, tda__instant answered_at, tda_status st,
                        int64_t retry_after_ms, int64_t interval_ms, tda_event *ev)
{
    if (ev)
        memset(ev, 0, sizeof *ev);
    if (st == TDA_OK) {
        r->active = 0;
        r->failures = 0;
        r->fetched++;
        if (r->left > 0)
            r->left--;
        return 0;
    }
    r->last_status = st;
    tda__status_kind kind = tda__status_kind_of(st);
    if (kind != TDA__KIND_SLOW_DOWN && kind != TDA__KIND_TRANSIENT)
        return 1;
    if (++r->failures >= TDA__RENEW_MAX_FAILURES)
        return 1;
    int64_t wait = max64(backoff(r, interval_ms), retry_after_ms);
    r->next_at_ms = answered_at.mono_ms + wait;
    if (ev) {
        ev->kind = TDA_EVENT_RETRY;
        ev->status = st;
        ev->interval_ms = interval_ms;
        ev->old_interval_ms = interval_ms;
        ev->next_poll_in_ms = wait;
        ev->expires_in_ms = 0; /* the old code is dead; the new one is not here yet */
        ev->renewals = r->fetched;
    }
    return 0;
}
