/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's flows (see multi_engine.h for the files around it): how a
 * device flow moves through the engine, one explicit state at a time.
 *
 * A flow is its policy state (poll.c) and its device code, nothing more,
 * QUEUED in the timer heap by the time it next needs a look. When a poll is
 * due and one of the pooled slots is free, the flow borrows the slot for
 * that one request (IN_FLIGHT) and gives it back with the answer; when none
 * is free, or the pace holds requests back, it is WAITING in the FIFO.
 * libcurl's multi handle keeps the connections alive between requests and
 * shares them among all slots; its socket and timer callbacks tell us what
 * to watch, so an idle engine costs nothing but its memory.
 *
 * What an answer means and when to poll again are decided by the same code
 * as every other call (status_rules.c, poll.c); tda_poll_for_token is this
 * engine with one flow, run to completion. When any request may leave at all
 * (a pause for the whole IP after a rate limit, the optional cap on requests
 * per second) is multi_pace.c's. A flow allowed to renew its code (renew.c)
 * sends its code requests through the same queue, pace and slots as its
 * polls (send_or_wait, send_request), so whatever holds polls back holds
 * those back too, and a rate limit met by either pauses both.
 *
 * Times: heap keys, request spacing and the pace are monotonic; a code's life
 * and a deadline are boot-clock times (clock.h), compared with the boot clock
 * and converted to monotonic only to decide how long to sleep.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "multi_engine.h"

/* The readiness bits are libcurl's own, so they pass through unchanged. */
_Static_assert(TDA_READY_IN == CURL_CSELECT_IN && TDA_READY_OUT == CURL_CSELECT_OUT &&
                   TDA_READY_ERR == CURL_CSELECT_ERR,
               "TDA_READY_ values are libcurl's CURL_CSELECT_ values");

static tda_flow *flow_of_timer(tda__heap_node *n)
{
    return (tda_flow *)(void *)((char *)n - offsetof(tda_flow, timer));
}

static tda_flow *flow_of_link(tda__fifo_link *l)
{
    return (tda_flow *)(void *)((char *)l - offsetof(tda_flow, wait));
}

/*
 * When a flow ends on its own whatever happens (boot clock): its caller's
 * deadline, if that comes before the code expires (the policy's rule for
 * TDA_DEADLINE), or at all once the code is being renewed.
 */
static int64_t deadline_of(const tda_flow *f)
{
    const tda__policy *p = &f->policy;
    return f->renewal.active || p->deadline_ms < p->expires_at_ms ? p->deadline_ms : INT64_MAX;
}

/* The latest a flow waiting for a slot must be looked at again (boot clock). */
static int64_t end_of(const tda_flow *f)
{
    int64_t end = deadline_of(f);
    return f->renewal.active || end < f->policy.expires_at_ms ? end : f->policy.expires_at_ms;
}

/* A boot-clock time as a monotonic one, by how far apart the clocks are now. */
static int64_t to_mono(int64_t boot_ms, tda__instant now)
{
    if (boot_ms == INT64_MAX)
        return INT64_MAX;
    int64_t d = boot_ms - now.boot_ms;
    return d > INT64_MAX - now.mono_ms ? INT64_MAX : now.mono_ms + d;
}

/* What f is to do now: the renewal's plan while a new code is fetched, else the policy's. */
static tda__action next_action(const tda_flow *f, tda__instant now)
{
    return f->renewal.active ? tda__renewal_next(&f->renewal, &f->policy, now)
                             : tda__policy_next(&f->policy, now);
}

/* ------------------------------------------------------------ moving between states */

/* Into the heap at due_ms, out of the FIFO: QUEUED. 0, or -1 when the heap could not grow. */
static int set_queued(tda_multi *m, tda_flow *f, int64_t due_ms)
{
    if (f->state == TDA__FLOW_WAITING)
        tda__fifo_remove(&m->waiting, &f->wait);
    f->state = TDA__FLOW_QUEUED;
    return tda__heap_set(&m->heap, &f->timer, due_ms) == TDA_OK ? 0 : -1;
}

/* Due but held back: at the FIFO's end (unless there already), and in the heap at its end. */
static int set_waiting(tda_multi *m, tda_flow *f, int64_t end_ms)
{
    if (f->state != TDA__FLOW_WAITING)
        tda__fifo_push(&m->waiting, &f->wait);
    f->state = TDA__FLOW_WAITING;
    return tda__heap_set(&m->heap, &f->timer, end_ms) == TDA_OK ? 0 : -1;
}

/* ------------------------------------------------------------ ending a flow */

/* Why a flow ended, in words, when the last answer does not already say it. */
static void explain_end(tda_flow *f, tda_status result)
{
    const tda__policy *p = &f->policy;
    if (tda__explain_lost_token(result, f->answer_lost, f->detail, sizeof f->detail))
        return; /* the status rules' account of a 409 after a lost answer */
    if (result == TDA_EXPIRED && p->last_status == TDA_PENDING && f->renewal.fetched > 0)
        snprintf(f->detail, sizeof f->detail,
                 "%d codes expired one after another, %d poll%s in all, without approval: no "
                 "renewal left",
                 f->renewal.fetched + 1, p->polls, p->polls == 1 ? "" : "s");
    else if (result == TDA_EXPIRED && p->last_status == TDA_PENDING)
        snprintf(f->detail, sizeof f->detail,
                 "the code expired after %d poll%s without approval: get a new code", p->polls,
                 p->polls == 1 ? "" : "s");
    else if (result == TDA_DEADLINE)
        snprintf(f->detail, sizeof f->detail, "the caller's deadline passed after %d poll%s",
                 p->polls, p->polls == 1 ? "" : "s");
    else if (result == TDA_CANCELLED)
        snprintf(f->detail, sizeof f->detail, "cancelled while waiting for approval");
    /* After a transient failure its detail stays: it is the real reason. */
}

static void free_flow(tda_flow *f)
{
    tda__free_secret(f->device_code);
    tda__wipe(f->detail, sizeof f->detail);
    tda__free(f);
}

/*
 * An IN_FLIGHT flow's slot is free again, its buffers wiped; an unfinished
 * transfer is dropped. The flow is QUEUED, though not yet in the heap: the
 * caller requeues or ends it. The request may have reached the server, so
 * it counts against the cap like any other, as ended at ended_ms.
 */
static void give_back_slot(tda_multi *m, tda_flow *f, int64_t ended_ms)
{
    tda__pool_slot *s = &m->pool.slots[f->slot];
    curl_multi_remove_handle(m->curlm, s->http->easy);
    tda__slot_release(s->http);
    tda__body_clear(&s->body);
    s->flow = NULL;
    f->slot = TDA__NO_SLOT;
    f->state = TDA__FLOW_QUEUED;
    tda__pace_ended(&m->pace, ended_ms);
}

/* Takes f out of the engine, tells its owner, frees it. token may be NULL. */
static void end_flow(tda_multi *m, tda_flow *f, tda_status result, tda_token *token)
{
    if (f->state == TDA__FLOW_IN_FLIGHT)
        give_back_slot(m, f, tda_monotonic_ms());
    if (f->state == TDA__FLOW_WAITING)
        tda__fifo_remove(&m->waiting, &f->wait);
    tda__heap_remove(&m->heap, &f->timer);
    if (f->prev)
        f->prev->next = f->next;
    else
        m->flows = f->next;
    if (f->next)
        f->next->prev = f->prev;
    m->flow_count--;
    if (result == TDA_OK)
        f->detail[0] = '\0';
    else
        explain_end(f, result);
    if (m->borrowed && !f->ended_by_answer) {
        /* The blocking call ended between answers: no answer speaks for it. */
        m->c->http_status = 0;
        m->c->retry_after_ms = -1;
    }
    tda__redact(f->detail, f->device_code);
    tda__redact(f->detail, m->c->client_secret);
    tda_token none;
    memset(&none, 0, sizeof none);
    if (!token || result != TDA_OK) {
        tda_token_clear(token);
        token = &none;
    }
    if (f->done)
        f->done(f, result, token, f->userdata);
    else
        tda_token_clear(token);
    free_flow(f);
}

/* ------------------------------------------------------------ requests */

/* The one way a flow's request goes out: a poll, or while renewing, a code request. */
static tda_status send_request(tda_multi *m, tda_flow *f, int index, int64_t now)
{
    tda_client *c = m->c;
    tda__pool_slot *s = &m->pool.slots[index];
    int renewing = f->renewal.active;
    const char *url = renewing ? m->code_url : m->token_url;
    tda_status st = renewing ? tda__build_code_request(c->client_id, &s->body)
                             : tda__build_token_request(c->client_id, c->client_secret,
                                                        f->device_code, &s->body);
    if (st != TDA_OK)
        return st;
    tda__http_request rq = {url, c->headers, s->body.data, s->body.len, c->timeout_ms, -1, NULL};
    st = tda__slot_prepare(s->http, &rq, f->detail, sizeof f->detail);
    if (st == TDA_OK && curl_multi_add_handle(m->curlm, s->http->easy) != CURLM_OK)
        st = TDA_NO_MEMORY;
    if (st != TDA_OK) {
        tda__body_clear(&s->body);
        return st;
    }
    tda__log_request(c, url, &s->body);
    tda__pace_sent(&m->pace); /* polls and code requests alike count against the cap */
    s->flow = f;
    f->slot = index;
    f->state = TDA__FLOW_IN_FLIGHT;
    f->code_request = renewing != 0;
    f->sent_at_ms = now;
    f->late_ms = now - (renewing ? f->renewal.next_at_ms : f->policy.next_poll_at_ms);
    if (f->late_ms < 0)
        f->late_ms = 0;
    return TDA_OK;
}

/*
 * Queues f for when the policy next needs a look: its next poll, or earlier
 * when the code expires or the caller's deadline passes before that.
 */
static void requeue(tda_multi *m, tda_flow *f, tda__instant now)
{
    tda__action a = next_action(f, now);
    int64_t at = a.kind == TDA__ACTION_WAIT ? a.until_ms : now.mono_ms;
    if (set_queued(m, f, at) != 0)
        end_flow(m, f, TDA_NO_MEMORY, NULL);
}

static void report(tda_flow *f, tda_event *ev, long http_status)
{
    if (!f->on_event || ev->kind == 0)
        return;
    ev->http_status = http_status;
    ev->late_ms = f->late_ms;
    ev->renewals = f->renewal.fetched;
    f->on_event(ev, f->event_userdata);
}

/*
 * After a 429 that speaks for the IP (Retry-After, X-Ratelimit, Cloudflare's
 * page), to a poll or to a renewal's code request alike: every flow here
 * shares that IP, so all of them wait it out, polls and code requests. Cloudflare's
 * page without a wait: as long as the flow that met it waits (own_next_ms).
 */
static void pause_for_ip(tda_multi *m, int ip_wide, tda_status st, int64_t retry_after_ms,
                         int64_t answered_ms, int64_t own_next_ms)
{
    if (ip_wide && st == TDA_SLOW_DOWN)
        tda__pace_pause_until(&m->pace,
                              retry_after_ms >= 0 ? answered_ms + retry_after_ms : own_next_ms);
}

/*
 * Instead of ending with st, does f go on with a new code? Then the first
 * code request waits one interval after the flow's last request.
 */
static int renew_instead(tda_multi *m, tda_flow *f, tda_status st, tda__instant now)
{
    if (f->cancel_requested || !tda__renewal_wanted(&f->renewal, st))
        return 0;
    tda__renewal_start(&f->renewal, f->last_request_ms + f->policy.interval_ms);
    requeue(m, f, now);
    return 1;
}

/*
 * A code request of a renewing flow was answered: with a new code the flow
 * polls that one (the event hands the code to the caller, so a display can
 * redraw it), otherwise the renewal plan says when to try again or ends it.
 */
static void finish_code_request(tda_multi *m, tda_flow *f, tda_status st, const tda__response *resp,
                                const tda__call_outcome *out, int ip_wide, tda__instant now)
{
    tda_code code;
    memset(&code, 0, sizeof code);
    if (st == TDA_OK)
        st = tda__parse_code(resp->body, resp->body_len, &code, f->detail, sizeof f->detail);
    if (st == TDA_OK) {
        code.issued_at_ms = now.boot_ms;
        code.issued_at_unix_ms = tda__unix_ms();
        if (!(code.client_id = tda__strdup(m->c->client_id)))
            st = TDA_NO_MEMORY;
    }
    /* The answer's bytes were read: the slot is free again, its buffers wiped. */
    give_back_slot(m, f, tda_monotonic_ms());
    tda_event ev;
    int over = tda__renewal_record(&f->renewal, now, st, out->retry_after_ms, f->policy.interval_ms,
                                   &ev);
    pause_for_ip(m, ip_wide, st, out->retry_after_ms, now.mono_ms, f->renewal.next_at_ms);
    if (over || f->cancel_requested) {
        tda_code_clear(&code);
        f->ended_by_answer = over != 0;
        end_flow(m, f, over ? st : TDA_CANCELLED, NULL);
        return;
    }
    if (st != TDA_OK) {
        report(f, &ev, out->http_status);
        requeue(m, f, now);
        return;
    }
    /* The flow's secret is now the new device code; the old one is wiped. */
    tda__free_secret(f->device_code);
    f->device_code = code.device_code;
    f->answer_lost = 0; /* a lost answer was about the old code: no token of this one is lost */
    tda__policy_renew(&f->policy, &code, now);
    memset(&ev, 0, sizeof ev);
    ev.kind = TDA_EVENT_NEW_CODE;
    ev.polls = f->policy.polls;
    ev.status = TDA_OK;
    ev.interval_ms = ev.old_interval_ms = f->policy.interval_ms;
    ev.next_poll_in_ms = f->policy.next_poll_at_ms - now.mono_ms;
    ev.expires_in_ms = code.expires_in_ms;
    ev.code = &code;
    report(f, &ev, out->http_status);
    code.device_code = NULL; /* the flow owns it */
    tda_code_clear(&code);
    requeue(m, f, now);
}

/* A request of f's ended with rc: judge the answer, tell the policy, go on or end. */
static void finish_request(tda_multi *m, tda_flow *f, CURLcode rc)
{
    tda__pool_slot *s = &m->pool.slots[f->slot];
    tda__instant now = tda__now();
    tda__response resp;
    f->detail[0] = '\0';
    tda_status st = tda__slot_finish(s->http, rc, &resp, f->detail, sizeof f->detail);
    /* Read now: the answer's headers go with the slot. */
    int ip_wide = st == TDA_OK && tda__is_ip_rate_limit(&resp);
    tda__call_outcome out = {0, -1, f->detail, sizeof f->detail};
    tda__endpoint ep = f->code_request ? TDA__EP_DEVICE_CODE : TDA__EP_DEVICE_TOKEN;
    st = tda__client_judge(m->c, ep, st, &resp, now.mono_ms - f->sent_at_ms, &out);
    if (m->borrowed) {
        m->c->http_status = out.http_status;
        m->c->retry_after_ms = out.retry_after_ms;
    }
    /* +1 ms: the clock reads whole ms rounded down; the next request waits a full interval. */
    now.mono_ms += 1;
    f->last_request_ms = now.mono_ms;
    if (f->code_request) {
        finish_code_request(m, f, st, &resp, &out, ip_wide, now);
        return;
    }
    tda_token token;
    memset(&token, 0, sizeof token);
    if (st == TDA_OK)
        st = tda__client_take_token(m->c, &resp, &token, f->detail, sizeof f->detail);
    /* The answer's bytes were read: the slot is free again, its buffers wiped. The reading
     * itself ended the request (the pace adds its own ms). */
    give_back_slot(m, f, now.mono_ms - 1);
    if (tda__answer_may_be_lost(st))
        f->answer_lost = 1;
    tda_event ev;
    int over = tda__policy_record(&f->policy, now, st, out.retry_after_ms, &ev);
    pause_for_ip(m, ip_wide, st, out.retry_after_ms, now.mono_ms, f->policy.next_poll_at_ms);
    report(f, &ev, out.http_status);
    if (over && renew_instead(m, f, st, now)) { /* 410: the code expired unused */
        tda_token_clear(&token);
        return;
    }
    if (over || f->cancel_requested) {
        f->ended_by_answer = over != 0;
        end_flow(m, f, over ? st : TDA_CANCELLED, &token);
        return;
    }
    tda_token_clear(&token);
    requeue(m, f, now);
}

/* Reads libcurl's finished transfers. */
static int collect_answers(tda_multi *m)
{
    int done = 0, left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m->curlm, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        for (int i = 0; i < m->pool.count; i++) {
            if (m->pool.slots[i].http->easy == easy && m->pool.slots[i].flow) {
                finish_request(m, m->pool.slots[i].flow, rc);
                done++;
                break;
            }
        }
    }
    return done;
}

/*
 * The snapshot API's way to find what is ready: every watched socket polled
 * without waiting, and libcurl told of each ready one. The callback API
 * skips this: the application's loop reports each ready socket itself.
 */
static void poll_every_socket(tda_multi *m)
{
    int running = 0, n = m->sockets.n;
    if (n == 0)
        return;
    /* A copy: libcurl's socket callback edits the table while it acts. */
    memcpy(m->sockets.ready, m->sockets.fds, (size_t)n * sizeof *m->sockets.ready);
    if (poll(m->sockets.ready, (nfds_t)n, 0) <= 0)
        return;
    for (int i = 0; i < n; i++) {
        short r = m->sockets.ready[i].revents;
        if (r)
            curl_multi_socket_action(m->curlm, m->sockets.ready[i].fd, tda__ready_of_revents(r),
                                     &running);
    }
}

/* libcurl's own timer (connect and request timeouts, its internal steps), when due. */
static void curl_timer_if_due(tda_multi *m)
{
    int running = 0;
    if (tda_monotonic_ms() >= m->curl_due_ms) {
        m->curl_due_ms = INT64_MAX;
        curl_multi_socket_action(m->curlm, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

/*
 * Sends f's request (a poll, or a renewal's code request) on a free slot, or
 * queues it for the next free one or until the pace allows: the one place
 * where the pause and the cap are checked, so no request of any kind passes them.
 */
static int send_or_wait(tda_multi *m, tda_flow *f, tda__instant now)
{
    int held = tda__pace_ready_at(&m->pace, now.mono_ms) > now.mono_ms;
    m->pace_held = held;
    int index = held ? TDA__NO_SLOT : tda__pool_take(&m->pool, m->c->ca_file);
    if (index < 0) {
        if (!held && m->pool.count == 0) { /* not even one handle: nothing can ever be sent */
            end_flow(m, f, TDA_NO_MEMORY, NULL);
            return 0;
        }
        /* Until a slot frees or the pace allows, the heap only needs it at its end. */
        if (set_waiting(m, f, to_mono(end_of(f), now)) != 0)
            end_flow(m, f, TDA_NO_MEMORY, NULL);
        return 0;
    }
    if (f->state == TDA__FLOW_WAITING)
        tda__fifo_remove(&m->waiting, &f->wait);
    f->state = TDA__FLOW_QUEUED; /* until send_request makes it IN_FLIGHT */
    tda__heap_remove(&m->heap, &f->timer);
    tda_status st = send_request(m, f, index, now.mono_ms);
    if (st != TDA_OK) {
        end_flow(m, f, st, NULL);
        return 0;
    }
    return 1;
}

/* What the policy says for f now: end it, wait, or poll (1: a request went out). */
static int advance(tda_multi *m, tda_flow *f, tda__instant now)
{
    if (f->cancel_requested) {
        end_flow(m, f, TDA_CANCELLED, NULL);
        return 0;
    }
    tda__action a = next_action(f, now);
    if (a.kind == TDA__ACTION_DONE && !f->renewal.active && renew_instead(m, f, a.result, now))
        return 0; /* the code outlived its life unused: a new one is on its way */
    if (a.kind == TDA__ACTION_DONE) {
        end_flow(m, f, a.result, NULL);
        return 0;
    }
    if (a.kind == TDA__ACTION_WAIT) {
        set_queued(m, f, a.until_ms); /* already in the heap: cannot fail */
        return 0;
    }
    return send_or_wait(m, f, now);
}

/*
 * Sends the polls that are due, oldest first: those that found every slot
 * busy before, then the heap's. A flow that cannot get a slot moves to the
 * FIFO, so the heap's top is never a flow merely waiting for a slot and the
 * engine sleeps until a slot frees or something ends.
 */
static int start_due(tda_multi *m, tda__instant now)
{
    int started = 0;
    while (m->waiting.head) {
        tda__fifo_link *head = m->waiting.head;
        int sent = advance(m, flow_of_link(head), now);
        started += sent;
        /* Still first in the FIFO: no slot was free, so the rest must wait too. */
        if (!sent && m->waiting.head == head)
            break;
    }
    tda__heap_node *top;
    while ((top = tda__heap_top(&m->heap)) != NULL && top->due_ms <= now.mono_ms) {
        tda_flow *f = flow_of_timer(top);
        if (f->state == TDA__FLOW_WAITING && !f->cancel_requested &&
            next_action(f, now).kind != TDA__ACTION_DONE) {
            /* Its end is not here yet (the heap may wake early by a ms): look again then. */
            tda__heap_set(&m->heap, &f->timer, now.mono_ms + 1);
            continue;
        }
        started += advance(m, f, now);
    }
    return started;
}

/*
 * A request in flight is cut off by a cancel or the caller's deadline, and
 * when memory ran out for watching its socket: it could never be seen again.
 */
static void cut_off_in_flight(tda_multi *m, tda__instant now, int deadlines)
{
    int all = atomic_load(&m->c->cancelled);
    int blind = m->lost_track;
    m->lost_track = 0;
    for (int i = 0; i < m->pool.count; i++) {
        tda_flow *f = m->pool.slots[i].flow;
        if (!f)
            continue;
        if (blind) {
            snprintf(f->detail, sizeof f->detail, "out of memory while watching a connection");
            end_flow(m, f, TDA_NO_MEMORY, NULL);
        } else if (all || f->cancel_requested) {
            end_flow(m, f, TDA_CANCELLED, NULL);
        } else if (deadlines && now.boot_ms >= deadline_of(f)) {
            end_flow(m, f, TDA_DEADLINE, NULL);
        }
    }
}

/* ------------------------------------------------------------ the engine as a whole */

tda_multi *tda__engine_alloc(tda_client *c, int max_slots, int slot_cap)
{
    tda_multi *m = tda__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->c = c;
    m->curl_due_ms = INT64_MAX;
    m->timer_at_ms = TDA__TIMER_UNSET;
    tda__heap_init(&m->heap);
    tda__sockets_init(&m->sockets);
    tda__pace_init(&m->pace);
    m->token_url = tda__client_url(c, TDA__EP_DEVICE_TOKEN);
    m->code_url = tda__client_url(c, TDA__EP_DEVICE_CODE);
    if (tda__pool_init(&m->pool, max_slots, slot_cap) != TDA_OK || !m->token_url || !m->code_url) {
        tda__engine_free(m);
        return NULL;
    }
    return m;
}

void tda__engine_free(tda_multi *m)
{
    while (m->flows) {
        tda_flow *f = m->flows;
        f->done = NULL; /* dropped without a callback */
        end_flow(m, f, TDA_CANCELLED, NULL);
    }
    if (m->curlm)
        tda__engine_watch_curl(m, 0);
    tda__pool_cleanup(&m->pool);
    if (m->curlm && !m->borrowed)
        curl_multi_cleanup(m->curlm);
    tda__heap_clear(&m->heap);
    tda__sockets_clear(&m->sockets);
    tda__free(m->token_url);
    tda__free(m->code_url);
    tda__pace_clear(&m->pace);
    tda__free(m);
}

tda_flow *tda__engine_add(tda_multi *m, const tda_code *code, const tda_poll_options *opts,
                          tda_flow_done_fn done, void *userdata)
{
    tda_flow *f = tda__calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->device_code = tda__strdup(code->device_code);
    if (!f->device_code) {
        tda__free(f);
        return NULL;
    }
    f->m = m;
    f->state = TDA__FLOW_QUEUED;
    tda__heap_node_init(&f->timer);
    f->slot = TDA__NO_SLOT;
    f->done = done;
    f->userdata = userdata;
    if (opts) {
        f->on_event = opts->on_event;
        f->event_userdata = opts->userdata;
    }
    tda__instant now = tda__now();
    tda__policy_init(&f->policy, code, opts, now, m->c->jitter_seed++);
    tda__renewal_init(&f->renewal, opts ? opts->renewals : 0, m->c->jitter_seed++);
    f->last_request_ms = now.mono_ms;
    tda__action first = tda__policy_next(&f->policy, now);
    if (set_queued(m, f, first.kind == TDA__ACTION_WAIT ? first.until_ms : now.mono_ms) != 0) {
        free_flow(f);
        return NULL;
    }
    f->next = m->flows;
    if (m->flows)
        m->flows->prev = f;
    m->flows = f;
    m->flow_count++;
    return f;
}

void tda__engine_cancel(tda_flow *f)
{
    if (f->cancel_requested)
        return;
    f->cancel_requested = 1;
    /* The next turn ends it, whatever its state: until then the engine is due now. */
    f->m->cancel_pending = 1;
    if (f->state != TDA__FLOW_IN_FLIGHT)
        /* In the heap already, so this cannot fail; or between an answer and its requeue
         * (an on_event callback), which queues or ends it right after anyway. */
        tda__heap_set(&f->m->heap, &f->timer, 0);
}

int64_t tda__engine_due(tda_multi *m, tda__instant now)
{
    if (atomic_load(&m->c->cancelled) || m->lost_track || m->cancel_pending)
        return now.mono_ms;
    int64_t due = m->curl_due_ms;
    /* Flows waiting for a slot are keyed at their end, so the top is always a real time. */
    tda__heap_node *top = tda__heap_top(&m->heap);
    if (top && top->due_ms < due)
        due = top->due_ms;
    /* Requests the pace holds back go when it allows (those waiting for a slot wake on
     * an answer). */
    if (m->waiting.head && m->pace_held) {
        int64_t ready = tda__pace_ready_at(&m->pace, now.mono_ms);
        if (ready < due)
            due = ready;
    }
    /* A request in flight is cut off at its flow's deadline (by the same rule as a turn). */
    for (int i = 0; i < m->pool.count; i++) {
        tda_flow *f = m->pool.slots[i].flow;
        int64_t cut = f ? to_mono(deadline_of(f), now) : INT64_MAX;
        if (cut < due)
            due = cut;
    }
    return due < now.mono_ms ? now.mono_ms : due;
}

void tda__engine_turn(tda_multi *m, int fd, int events, int poll_all)
{
    if (atomic_load(&m->c->cancelled))
        for (tda_flow *f = m->flows; f; f = f->next)
            tda__engine_cancel(f);
    m->cancel_pending = 0;
    /* Until nothing moves: an answer can free a slot for a poll that is due. */
    for (int round = 0; round < 16; round++) {
        /* Cancels first; deadlines only after reading what has arrived: an answer
         * already here may carry the token, which Trakt will not issue again. */
        cut_off_in_flight(m, tda__now(), 0);
        if (round == 0 && fd >= 0) {
            int running = 0;
            curl_multi_socket_action(m->curlm, fd, events, &running);
        }
        if (poll_all)
            poll_every_socket(m);
        curl_timer_if_due(m);
        int moved = collect_answers(m);
        tda__instant now = tda__now();
        cut_off_in_flight(m, now, 1);
        moved += start_due(m, now);
        if (!moved)
            break;
    }
}
