/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The polling policy (see poll_policy.h). Every timing rule of the device flow lives
 * here and nowhere else:
 *  - never poll sooner than the interval after the previous answer (monotonic
 *    clock), nor sooner than one interval after the flow starts;
 *  - the code's life and the caller's deadline run on the boot clock, which
 *    counts suspended time, so a machine that slept past them stops at once;
 *  - 429 raises the interval by the slow-down step, or to Retry-After when
 *    that is larger, for the rest of the flow;
 *  - transient errors back off exponentially from the interval, capped, with
 *    jitter, never sooner than the interval, and only while the code lives;
 *  - final statuses end the flow at once; so do expiry and the caller's deadline.
 */
#include <string.h>

#include "poll_policy.h"

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Adds without overflowing past INT64_MAX (deadlines are INT64_MAX when unset). */
static int64_t add_sat(int64_t a, int64_t b)
{
    return (b > 0 && a > INT64_MAX - b) ? INT64_MAX : a + b;
}

/* xorshift64*: jitter needs spread, not cryptographic strength. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* The code's end on the boot clock: its life from its issue, or from now when unknown. */
static int64_t code_end(const tda_code *code, tda__instant now)
{
    /* A saved code resumed after a reboot was issued before this boot: negative is fine. */
    int64_t issued = code->issued_at_ms != 0 ? min64(code->issued_at_ms, now.boot_ms) : now.boot_ms;
    /* Without a known life we cannot bound the polling, so the code counts as expired. */
    return code->expires_in_ms > 0 ? add_sat(issued, code->expires_in_ms) : issued;
}

void tda__policy_init(tda__policy *p, const tda_code *code, const tda_poll_options *opts,
                      tda__instant now, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->interval_ms = code->interval_ms > 0 ? code->interval_ms : TDA__DEFAULT_INTERVAL_MS;
    p->slow_down_step_ms = (opts && opts->slow_down_step_ms > 0) ? opts->slow_down_step_ms
                                                                 : TDA__DEFAULT_SLOW_DOWN_MS;
    p->expires_at_ms = code_end(code, now);
    p->deadline_ms = (opts && opts->timeout_ms > 0) ? add_sat(now.boot_ms, opts->timeout_ms)
                                                    : INT64_MAX;
    /*
     * The user cannot have typed a fresh code yet, and a resumed one may have
     * been polled just before a restart: either way the first poll waits one
     * interval from now.
     */
    p->next_poll_at_ms = add_sat(now.mono_ms, p->interval_ms);
    p->last_status = TDA_PENDING;
    p->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

void tda__policy_renew(tda__policy *p, const tda_code *code, tda__instant now)
{
    int64_t interval = code->interval_ms > 0 ? code->interval_ms : TDA__DEFAULT_INTERVAL_MS;
    p->interval_ms = max64(p->interval_ms, interval); /* a 429's lesson outlives the code */
    p->expires_at_ms = code_end(code, now);
    p->next_poll_at_ms = add_sat(now.mono_ms, p->interval_ms);
    p->transient_streak = 0;
    p->last_status = TDA_PENDING;
}

static tda__action done(tda_status result)
{
    tda__action a = {TDA__ACTION_DONE, 0, result};
    return a;
}

/* A boot-clock time as a monotonic one, by how far off it is now. */
static int64_t on_mono(int64_t boot_ms, tda__instant now)
{
    return boot_ms == INT64_MAX ? INT64_MAX : add_sat(now.mono_ms, boot_ms - now.boot_ms);
}

tda__action tda__policy_next(const tda__policy *p, tda__instant now)
{
    if (tda__status_ends_flow(p->last_status))
        return done(p->last_status);
    /* The ends by the boot clock: after a suspend they may be past before any poll is due. */
    if (now.boot_ms >= p->deadline_ms && p->deadline_ms < p->expires_at_ms)
        return done(TDA_DEADLINE);
    if (now.boot_ms >= p->expires_at_ms) {
        /* After a run of transient failures the honest report is the failure. */
        return done(tda_status_is_transient(p->last_status) ? p->last_status : TDA_EXPIRED);
    }
    if (now.mono_ms >= p->next_poll_at_ms) {
        tda__action a = {TDA__ACTION_POLL, now.mono_ms, TDA_OK};
        return a;
    }
    int64_t end = on_mono(min64(p->expires_at_ms, p->deadline_ms), now);
    tda__action a = {TDA__ACTION_WAIT, min64(p->next_poll_at_ms, end), TDA_OK};
    return a;
}

/* Backoff for the n-th consecutive transient failure: interval * 2^(n-1), capped, jittered. */
static int64_t transient_delay(tda__policy *p, int64_t retry_after_ms)
{
    int64_t backoff = p->interval_ms;
    for (int i = 1; i < p->transient_streak && backoff < TDA__MAX_BACKOFF_MS; i++)
        backoff *= 2;
    backoff = min64(backoff, TDA__MAX_BACKOFF_MS);
    /* "Equal jitter": half fixed, half random, so clients that failed together spread out. */
    int64_t half = backoff / 2;
    int64_t delay = half + (int64_t)(next_random(&p->rng) % (uint64_t)(half + 1));
    return max64(max64(delay, p->interval_ms), retry_after_ms);
}

int tda__policy_record(tda__policy *p, tda__instant answered_at, tda_status st,
                       int64_t retry_after_ms, tda_event *ev)
{
    int64_t answered_at_ms = answered_at.mono_ms;
    int64_t old_interval = p->interval_ms;
    p->polls++;
    p->last_status = st;
    tda_event_kind kind = (tda_event_kind)0; /* a final failure has no event: the return says it */
    /* What the status means for polling is its kind in the status table, not its name. */
    switch (tda__status_kind_of(st)) {
    case TDA__KIND_SUCCESS:
        kind = TDA_EVENT_SUCCESS;
        break;
    case TDA__KIND_WAIT:
        kind = TDA_EVENT_PENDING;
        p->transient_streak = 0;
        p->next_poll_at_ms = add_sat(answered_at_ms, p->interval_ms);
        break;
    case TDA__KIND_SLOW_DOWN:
        kind = TDA_EVENT_SLOW_DOWN;
        p->transient_streak = 0;
        p->interval_ms = max64(add_sat(p->interval_ms, p->slow_down_step_ms), retry_after_ms);
        p->next_poll_at_ms = add_sat(answered_at_ms, p->interval_ms);
        break;
    case TDA__KIND_TRANSIENT:
        kind = TDA_EVENT_RETRY;
        p->transient_streak++;
        p->next_poll_at_ms = add_sat(answered_at_ms, transient_delay(p, retry_after_ms));
        break;
    case TDA__KIND_FINAL:
        break;
    }
    int over = tda__status_ends_flow(st);
    if (ev) {
        memset(ev, 0, sizeof *ev);
        ev->kind = kind;
        ev->polls = p->polls;
        ev->status = st;
        ev->interval_ms = p->interval_ms;
        ev->old_interval_ms = old_interval;
        ev->next_poll_in_ms = over ? -1 : p->next_poll_at_ms - answered_at_ms;
        ev->expires_in_ms = max64(0, p->expires_at_ms - answered_at.boot_ms);
    }
    return over;
}
