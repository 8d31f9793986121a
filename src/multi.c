/*
 * The non-blocking engine (see the header): many device flows in one thread.
 *
 * A flow is its policy state (poll.c) and its device code, nothing more,
 * queued in a min-heap by the time its next poll is due. When a poll is due
 * and one of the pooled slots (an easy handle with its buffers) is free, the
 * flow borrows the slot for that one request and gives it back with the
 * answer. libcurl's multi handle keeps the connections alive between
 * requests and shares them among all slots; its socket and timer callbacks
 * tell us what to watch, so an idle engine costs nothing but its memory.
 *
 * What an answer means and when to poll again are decided by the same code
 * as every other call (status_rules.c, poll.c); tda_poll_for_token is this
 * engine with one flow, run to completion. When any request may leave at all
 * (a pause for the whole IP after a rate limit, the optional cap on requests
 * per second) is multi_pace.c's; requests it holds back wait in the same FIFO
 * as those that find every slot busy. A flow allowed to renew its code
 * (renew.c) sends its code requests through the same queue, pace and slots as
 * its polls (send_or_wait, send_request), so whatever holds polls back holds
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
#include "multi.h"
#include "multi_pace.h"
#include "renew_policy.h"

#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 64
#define NO_SLOT (-1)
#define NOT_QUEUED ((size_t)-1)

struct tda_flow {
    tda_multi *m;
    char *device_code; /* secret: wiped when the flow is freed */
    tda_policy policy;
    tda_renewal renewal;  /* when and whether to fetch a new code once this one expires */
    int code_request;     /* the request in flight asks for a new code, not a token */
    int64_t last_request_ms; /* monotonic: the last answer, or the flow's start */
    tda_event_fn on_event;
    void *event_userdata;
    tda_flow_done_fn done;
    void *userdata;
    int64_t due_ms;    /* the heap's key while queued */
    int64_t sent_at_ms;
    int64_t late_ms;   /* of the request in flight */
    size_t heap_pos;   /* NOT_QUEUED unless queued */
    int slot;          /* NO_SLOT unless a request is in flight */
    int cancelled;
    int answer_lost;   /* a poll got no whole answer: it may have carried the token */
    int ended_by_answer; /* the flow's end came with an answer (for tda_client_http_status) */
    int waiting_slot;  /* in the FIFO of requests that are due but cannot go yet */
    tda_flow *next_waiting;
    tda_flow *prev, *next;
    char detail[TDA_DETAIL_SIZE];
};

typedef struct slot {
    tda_http_slot *http; /* &own, or the client's own slot when borrowed */
    tda_http_slot own;
    tda_flow *flow; /* NULL when free */
    tda_body body;  /* the request in flight; holds secrets, wiped when cleared */
} slot;

struct tda_multi {
    tda_client *c;
    CURLM *curlm;
    int borrowed; /* curlm and slots[0] are the client's (tda_multi_borrow) */
    slot *slots;  /* slot_count of them exist; more are made on demand, up to max_slots */
    int slot_count, max_slots, slot_cap;
    tda_flow **heap; /* waiting flows, earliest due first */
    size_t heap_len, heap_cap;
    tda_flow *flows; /* every flow not yet ended */
    size_t flow_count;
    char *token_url;
    char *code_url;       /* for renewals */
    struct pollfd *fds;   /* libcurl's sockets, from its socket callback */
    struct pollfd *ready; /* scratch copy for perform */
    int nfds, fds_cap;
    int64_t curl_due_ms;  /* libcurl's timer; INT64_MAX when it has none */
    int lost_track;       /* the socket table could not grow: in-flight requests are blind */
    int cancel_pending;   /* a cancel waits for the next perform */
    /* Requests (polls, renewals' code requests) that are due but found every
     * slot busy, or the pace holding them back, oldest first. Such a flow stays
     * in the heap too, keyed at its end (expiry or deadline). */
    tda_flow *waiting_head, *waiting_tail;
    tda_pace pace;
    int pace_held; /* the last try to send was held back by the pace, not by busy slots */
};

/* ------------------------------------------------------------ the heap */

static void heap_place(tda_multi *m, size_t i, tda_flow *f)
{
    m->heap[i] = f;
    f->heap_pos = i;
}

static void heap_up(tda_multi *m, size_t i)
{
    tda_flow *f = m->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (m->heap[parent]->due_ms <= f->due_ms)
            break;
        heap_place(m, i, m->heap[parent]);
        i = parent;
    }
    heap_place(m, i, f);
}

static void heap_down(tda_multi *m, size_t i)
{
    tda_flow *f = m->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= m->heap_len)
            break;
        if (child + 1 < m->heap_len && m->heap[child + 1]->due_ms < m->heap[child]->due_ms)
            child++;
        if (m->heap[child]->due_ms >= f->due_ms)
            break;
        heap_place(m, i, m->heap[child]);
        i = child;
    }
    heap_place(m, i, f);
}

static void heap_remove(tda_multi *m, tda_flow *f)
{
    size_t i = f->heap_pos;
    if (i == NOT_QUEUED)
        return;
    f->heap_pos = NOT_QUEUED;
    tda_flow *last = m->heap[--m->heap_len];
    if (last == f)
        return;
    heap_place(m, i, last);
    heap_up(m, i);
    heap_down(m, last->heap_pos);
}

/* Queues f, or moves it, to be looked at again at due_ms. */
static tda_status heap_set(tda_multi *m, tda_flow *f, int64_t due_ms)
{
    if (f->heap_pos != NOT_QUEUED) {
        f->due_ms = due_ms;
        heap_up(m, f->heap_pos);
        heap_down(m, f->heap_pos);
        return TDA_OK;
    }
    if (m->heap_len == m->heap_cap) {
        size_t cap = m->heap_cap ? m->heap_cap * 2 : 16;
        tda_flow **grown = tda_realloc(m->heap, cap * sizeof *grown);
        if (!grown)
            return TDA_NO_MEMORY;
        m->heap = grown;
        m->heap_cap = cap;
    }
    f->due_ms = due_ms;
    heap_place(m, m->heap_len++, f);
    heap_up(m, f->heap_pos);
    return TDA_OK;
}

/* ------------------------------------------------------------ libcurl's callbacks */

static int find_fd(const tda_multi *m, curl_socket_t s)
{
    for (int i = 0; i < m->nfds; i++)
        if (m->fds[i].fd == s)
            return i;
    return -1;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    tda_multi *m = userp;
    int i = find_fd(m, s);
    if (what == CURL_POLL_REMOVE) {
        if (i >= 0)
            m->fds[i] = m->fds[--m->nfds];
        return 0;
    }
    if (i < 0) {
        if (m->nfds == m->fds_cap) {
            int cap = m->fds_cap ? m->fds_cap * 2 : 8;
            struct pollfd *fds = tda_realloc(m->fds, (size_t)cap * sizeof *fds);
            if (!fds) {
                m->lost_track = 1;
                return -1;
            }
            m->fds = fds;
            /* One more than fds: tda_multi_wait adds the cancel pipe. */
            struct pollfd *ready = tda_realloc(m->ready, ((size_t)cap + 1) * sizeof *ready);
            if (!ready) {
                m->lost_track = 1;
                return -1;
            }
            m->ready = ready;
            m->fds_cap = cap;
        }
        i = m->nfds++;
        m->fds[i].fd = s;
    }
    m->fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
                               ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    m->fds[i].revents = 0;
    return 0;
}

static int on_timer(CURLM *curlm, long timeout_ms, void *userp)
{
    (void)curlm;
    tda_multi *m = userp;
    m->curl_due_ms = timeout_ms < 0 ? INT64_MAX : tda_monotonic_ms() + timeout_ms;
    return 0;
}

static int watch_curl(tda_multi *m, int on)
{
    return curl_multi_setopt(m->curlm, CURLMOPT_SOCKETFUNCTION, on ? on_socket : NULL) ==
               CURLM_OK &&
           curl_multi_setopt(m->curlm, CURLMOPT_SOCKETDATA, on ? m : NULL) == CURLM_OK &&
           curl_multi_setopt(m->curlm, CURLMOPT_TIMERFUNCTION, on ? on_timer : NULL) ==
               CURLM_OK &&
           curl_multi_setopt(m->curlm, CURLMOPT_TIMERDATA, on ? m : NULL) == CURLM_OK;
}

/*
 * When a flow ends on its own whatever happens (boot clock): its caller's
 * deadline, if that comes before the code expires (the policy's rule for
 * TDA_DEADLINE), or at all once the code is being renewed.
 */
static int64_t deadline_of(const tda_flow *f)
{
    const tda_policy *p = &f->policy;
    return f->renewal.active || p->deadline_ms < p->expires_at_ms ? p->deadline_ms : INT64_MAX;
}

/* The latest a flow waiting for a slot must be looked at again (boot clock). */
static int64_t end_of(const tda_flow *f)
{
    int64_t end = deadline_of(f);
    return f->renewal.active || end < f->policy.expires_at_ms ? end : f->policy.expires_at_ms;
}

/* A boot-clock time as a monotonic one, by how far apart the clocks are now. */
static int64_t to_mono(int64_t boot_ms, tda_instant now)
{
    if (boot_ms == INT64_MAX)
        return INT64_MAX;
    int64_t d = boot_ms - now.boot_ms;
    return d > INT64_MAX - now.mono_ms ? INT64_MAX : now.mono_ms + d;
}

/* What f is to do now: the renewal's plan while a new code is fetched, else the policy's. */
static tda_action next_action(const tda_flow *f, tda_instant now)
{
    return f->renewal.active ? tda_renewal_next(&f->renewal, &f->policy, now)
                             : tda_policy_next(&f->policy, now);
}

static void fifo_push(tda_multi *m, tda_flow *f)
{
    f->waiting_slot = 1;
    f->next_waiting = NULL;
    if (m->waiting_tail)
        m->waiting_tail->next_waiting = f;
    else
        m->waiting_head = f;
    m->waiting_tail = f;
}

static void fifo_remove(tda_multi *m, tda_flow *f)
{
    if (!f->waiting_slot)
        return;
    tda_flow **link = &m->waiting_head, *prev = NULL;
    while (*link != f) {
        prev = *link;
        link = &(*link)->next_waiting;
    }
    *link = f->next_waiting;
    if (m->waiting_tail == f)
        m->waiting_tail = prev;
    f->waiting_slot = 0;
    f->next_waiting = NULL;
}

/* ------------------------------------------------------------ ending a flow */

/* Why a flow ended, in words, when the last answer does not already say it. */
static void explain_end(tda_flow *f, tda_status result)
{
    const tda_policy *p = &f->policy;
    if (result == TDA_ALREADY_USED && f->answer_lost)
        snprintf(f->detail, sizeof f->detail,
                 "HTTP 409: a token was already issued for this code, but an earlier answer was "
                 "lost in transit, and with it the token: it cannot be fetched again; start a new "
                 "login");
    else if (result == TDA_EXPIRED && p->last_status == TDA_PENDING && f->renewal.fetched > 0)
        snprintf(f->detail, sizeof f->detail,
                 "%d codes expired one after another, %d poll%s in all, without approval: no "
                 "renewal left", f->renewal.fetched + 1, p->polls, p->polls == 1 ? "" : "s");
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
    tda_free_secret(f->device_code);
    tda_wipe(f->detail, sizeof f->detail);
    tda_free(f);
}

static void give_back_slot(tda_multi *m, tda_flow *f)
{
    if (f->slot == NO_SLOT)
        return;
    slot *s = &m->slots[f->slot];
    curl_multi_remove_handle(m->curlm, s->http->easy); /* an unfinished transfer is dropped */
    tda_slot_release(s->http);
    tda_body_clear(&s->body);
    s->flow = NULL;
    f->slot = NO_SLOT;
    /* It may have reached the server: it counts against the cap like any other. */
    tda_pace_ended(&m->pace, tda_monotonic_ms());
}

/* Takes f out of the engine, tells its owner, frees it. token may be NULL. */
static void end_flow(tda_multi *m, tda_flow *f, tda_status result, tda_token *token)
{
    heap_remove(m, f);
    fifo_remove(m, f);
    give_back_slot(m, f);
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
    tda_redact(f->detail, f->device_code);
    tda_redact(f->detail, m->c->client_secret);
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

/* A free slot, made on demand up to the limit; -1 when all are busy or none can be made. */
static int free_slot(tda_multi *m)
{
    /* Slots past a lowered limit stay idle until the engine is freed. */
    for (int i = 0; i < m->slot_count && i < m->max_slots; i++)
        if (!m->slots[i].flow)
            return i;
    if (m->slot_count >= m->max_slots)
        return -1;
    slot *s = &m->slots[m->slot_count];
    memset(s, 0, sizeof *s);
    s->http = &s->own;
    if (tda_slot_init(s->http, m->c->ca_file) != TDA_OK)
        return -1;
    return m->slot_count++;
}

/* The one way a flow's request goes out: a poll, or while renewing, a code request. */
static tda_status send_request(tda_multi *m, tda_flow *f, int index, int64_t now)
{
    tda_client *c = m->c;
    slot *s = &m->slots[index];
    int renewing = f->renewal.active;
    const char *url = renewing ? m->code_url : m->token_url;
    tda_status st = renewing ? tda_build_code_request(c->client_id, &s->body)
                             : tda_build_token_request(c->client_id, c->client_secret,
                                                       f->device_code, &s->body);
    if (st != TDA_OK)
        return st;
    tda_http_request rq = {url, c->headers, s->body.data, s->body.len,
                           c->timeout_ms, INT64_MAX, -1, NULL};
    st = tda_slot_prepare(s->http, &rq, f->detail, sizeof f->detail);
    if (st == TDA_OK && curl_multi_add_handle(m->curlm, s->http->easy) != CURLM_OK)
        st = TDA_NO_MEMORY;
    if (st != TDA_OK) {
        tda_body_clear(&s->body);
        return st;
    }
    tda_log_request(c, url, &s->body);
    tda_pace_sent(&m->pace); /* polls and code requests alike count against the cap */
    s->flow = f;
    f->slot = index;
    f->code_request = renewing;
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
static void requeue(tda_multi *m, tda_flow *f, tda_instant now)
{
    tda_action a = next_action(f, now);
    int64_t at = a.kind == TDA_ACTION_WAIT ? a.until_ms : now.mono_ms;
    if (heap_set(m, f, at) != TDA_OK)
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
        tda_pace_pause_until(&m->pace,
                             retry_after_ms >= 0 ? answered_ms + retry_after_ms : own_next_ms);
}

/*
 * Instead of ending with st, does f go on with a new code? Then the first
 * code request waits one interval after the flow's last request.
 */
static int renew_instead(tda_multi *m, tda_flow *f, tda_status st, tda_instant now)
{
    if (f->cancelled || !tda_renewal_wanted(&f->renewal, st))
        return 0;
    fifo_remove(m, f);
    tda_renewal_start(&f->renewal, f->last_request_ms + f->policy.interval_ms);
    requeue(m, f, now);
    return 1;
}

/*
 * A code request of a renewing flow was answered: with a new code the flow
 * polls that one (the event hands the code to the caller, so a display can
 * redraw it), otherwise the renewal plan says when to try again or ends it.
 */
static void finish_code_request(tda_multi *m, tda_flow *f, tda_status st,
                                const tda_response *resp, const tda_call_outcome *out,
                                int ip_wide, tda_instant now)
{
    tda_code code;
    memset(&code, 0, sizeof code);
    if (st == TDA_OK)
        st = tda_parse_code(resp->body, resp->body_len, &code, f->detail, sizeof f->detail);
    if (st == TDA_OK) {
        code.issued_at_ms = now.boot_ms;
        code.issued_at_unix_ms = tda_unix_ms();
        if (!(code.client_id = tda_strdup(m->c->client_id)))
            st = TDA_NO_MEMORY;
    }
    /* The answer's bytes were read: the slot is free again, its buffers wiped. */
    give_back_slot(m, f);
    tda_event ev;
    int over = tda_renewal_record(&f->renewal, now, st, out->retry_after_ms,
                                  f->policy.interval_ms, &ev);
    pause_for_ip(m, ip_wide, st, out->retry_after_ms, now.mono_ms, f->renewal.next_at_ms);
    if (over || f->cancelled) {
        tda_code_clear(&code);
        f->ended_by_answer = over;
        end_flow(m, f, over ? st : TDA_CANCELLED, NULL);
        return;
    }
    if (st != TDA_OK) {
        report(f, &ev, out->http_status);
        requeue(m, f, now);
        return;
    }
    /* The flow's secret is now the new device code; the old one is wiped. */
    tda_free_secret(f->device_code);
    f->device_code = code.device_code;
    f->answer_lost = 0; /* a lost answer was about the old code: no token of this one is lost */
    tda_policy_renew(&f->policy, &code, now);
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
    slot *s = &m->slots[f->slot];
    tda_instant now = tda_now();
    tda_response resp;
    f->detail[0] = '\0';
    tda_status st = tda_slot_finish(s->http, rc, &resp, f->detail, sizeof f->detail);
    /* Read now: the answer's headers go with the slot. */
    int ip_wide = st == TDA_OK && tda_is_ip_rate_limit(&resp);
    tda_call_outcome out = {0, -1, f->detail, sizeof f->detail};
    tda_endpoint ep = f->code_request ? TDA_EP_DEVICE_CODE : TDA_EP_DEVICE_TOKEN;
    st = tda_client_judge(m->c, ep, st, &resp, now.mono_ms - f->sent_at_ms, &out);
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
        st = tda_client_take_token(m->c, &resp, &token, f->detail, sizeof f->detail);
    /* The answer's bytes were read: the slot is free again, its buffers wiped. */
    curl_multi_remove_handle(m->curlm, s->http->easy);
    tda_slot_release(s->http);
    tda_body_clear(&s->body);
    s->flow = NULL;
    f->slot = NO_SLOT;
    tda_pace_ended(&m->pace, now.mono_ms - 1); /* the reading itself: the pace adds its own ms */
    if (st == TDA_NETWORK || st == TDA_TIMED_OUT)
        f->answer_lost = 1;
    tda_event ev;
    int over = tda_policy_record(&f->policy, now, st, out.retry_after_ms, &ev);
    pause_for_ip(m, ip_wide, st, out.retry_after_ms, now.mono_ms, f->policy.next_poll_at_ms);
    report(f, &ev, out.http_status);
    if (over && renew_instead(m, f, st, now)) { /* 410: the code expired unused */
        tda_token_clear(&token);
        return;
    }
    if (over || f->cancelled) {
        f->ended_by_answer = over;
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
        for (int i = 0; i < m->slot_count; i++) {
            if (m->slots[i].http->easy == easy && m->slots[i].flow) {
                finish_request(m, m->slots[i].flow, rc);
                done++;
                break;
            }
        }
    }
    return done;
}

/* Lets libcurl act on whatever sockets are ready and on its timer. */
static void drive_curl(tda_multi *m)
{
    int running = 0;
    if (m->nfds > 0) {
        /* A copy: libcurl's socket callback edits the table while it acts. */
        int n = m->nfds;
        memcpy(m->ready, m->fds, (size_t)n * sizeof *m->ready);
        if (poll(m->ready, (nfds_t)n, 0) > 0) {
            for (int i = 0; i < n; i++) {
                short r = m->ready[i].revents;
                if (!r)
                    continue;
                int mask = ((r & POLLIN) ? CURL_CSELECT_IN : 0) |
                           ((r & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                           ((r & (POLLERR | POLLHUP | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(m->curlm, m->ready[i].fd, mask, &running);
            }
        }
    }
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
static int send_or_wait(tda_multi *m, tda_flow *f, tda_instant now)
{
    int held = tda_pace_ready_at(&m->pace, now.mono_ms) > now.mono_ms;
    m->pace_held = held;
    int index = held ? NO_SLOT : free_slot(m);
    if (index < 0) {
        if (!held && m->slot_count == 0) { /* not even one handle: nothing can ever be sent */
            end_flow(m, f, TDA_NO_MEMORY, NULL);
            return 0;
        }
        /* Until a slot frees or the pace allows, the heap only needs it at its end. */
        if (!f->waiting_slot)
            fifo_push(m, f);
        if (heap_set(m, f, to_mono(end_of(f), now)) != TDA_OK)
            end_flow(m, f, TDA_NO_MEMORY, NULL);
        return 0;
    }
    fifo_remove(m, f);
    heap_remove(m, f);
    tda_status st = send_request(m, f, index, now.mono_ms);
    if (st != TDA_OK) {
        end_flow(m, f, st, NULL);
        return 0;
    }
    return 1;
}

/* What the policy says for f now: end it, wait, or poll (1: a request went out). */
static int advance(tda_multi *m, tda_flow *f, tda_instant now)
{
    if (f->cancelled) {
        end_flow(m, f, TDA_CANCELLED, NULL);
        return 0;
    }
    tda_action a = next_action(f, now);
    if (a.kind == TDA_ACTION_DONE && !f->renewal.active && renew_instead(m, f, a.result, now))
        return 0; /* the code outlived its life unused: a new one is on its way */
    if (a.kind == TDA_ACTION_DONE) {
        end_flow(m, f, a.result, NULL);
        return 0;
    }
    if (a.kind == TDA_ACTION_WAIT) {
        fifo_remove(m, f);
        heap_set(m, f, a.until_ms); /* already queued: cannot fail */
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
static int start_due(tda_multi *m, tda_instant now)
{
    int started = 0;
    while (m->waiting_head) {
        tda_flow *f = m->waiting_head;
        int sent = advance(m, f, now);
        started += sent;
        /* Still first in the FIFO: no slot was free, so the rest must wait too. */
        if (!sent && m->waiting_head == f)
            break;
    }
    while (m->heap_len > 0 && m->heap[0]->due_ms <= now.mono_ms) {
        tda_flow *f = m->heap[0];
        if (f->waiting_slot && !f->cancelled && next_action(f, now).kind != TDA_ACTION_DONE) {
            /* Its end is not here yet (the heap may wake early by a ms): look again then. */
            heap_set(m, f, now.mono_ms + 1);
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
static void cut_off_in_flight(tda_multi *m, tda_instant now, int deadlines)
{
    int all = atomic_load(&m->c->cancelled);
    int blind = m->lost_track;
    m->lost_track = 0;
    for (int i = 0; i < m->slot_count; i++) {
        tda_flow *f = m->slots[i].flow;
        if (!f)
            continue;
        if (blind) {
            snprintf(f->detail, sizeof f->detail, "out of memory while watching a connection");
            end_flow(m, f, TDA_NO_MEMORY, NULL);
        } else if (all || f->cancelled) {
            end_flow(m, f, TDA_CANCELLED, NULL);
        } else if (deadlines && now.boot_ms >= deadline_of(f)) {
            end_flow(m, f, TDA_DEADLINE, NULL);
        }
    }
}

/* ------------------------------------------------------------ the API */

static tda_multi *multi_alloc(tda_client *c, int max_slots, int slot_cap)
{
    tda_multi *m = tda_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->c = c;
    m->curl_due_ms = INT64_MAX;
    m->max_slots = max_slots;
    m->slot_cap = slot_cap;
    m->slots = tda_calloc((size_t)slot_cap, sizeof *m->slots);
    m->token_url = tda_client_url(c, TDA_EP_DEVICE_TOKEN);
    m->code_url = tda_client_url(c, TDA_EP_DEVICE_CODE);
    tda_pace_init(&m->pace);
    if (!m->slots || !m->token_url || !m->code_url) {
        tda_free(m->slots);
        tda_free(m->token_url);
        tda_free(m->code_url);
        tda_free(m);
        return NULL;
    }
    return m;
}

tda_multi *tda_multi_new(tda_client *c)
{
    if (!c)
        return NULL;
    tda_multi *m = multi_alloc(c, DEFAULT_CONNECTIONS, MAX_CONNECTIONS);
    if (!m)
        return NULL;
    m->curlm = curl_multi_init();
    if (!m->curlm || !watch_curl(m, 1) ||
        curl_multi_setopt(m->curlm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_CONNECTIONS) !=
            CURLM_OK) {
        tda_multi_free(m);
        return NULL;
    }
    return m;
}

tda_multi *tda_multi_borrow(tda_client *c)
{
    tda_multi *m = multi_alloc(c, 1, 1);
    if (!m)
        return NULL;
    m->borrowed = 1;
    m->curlm = c->transport.multi;
    m->slots[0].http = &c->transport.slot;
    m->slot_count = 1;
    if (!watch_curl(m, 1)) {
        tda_multi_free(m);
        return NULL;
    }
    return m;
}

void tda_multi_free(tda_multi *m)
{
    if (!m)
        return;
    while (m->flows) {
        tda_flow *f = m->flows;
        f->done = NULL; /* dropped without a callback */
        end_flow(m, f, TDA_CANCELLED, NULL);
    }
    if (m->curlm)
        watch_curl(m, 0);
    if (!m->borrowed) {
        for (int i = 0; i < m->slot_count; i++)
            tda_slot_cleanup(m->slots[i].http);
        if (m->curlm)
            curl_multi_cleanup(m->curlm);
    }
    tda_free(m->slots);
    tda_free(m->heap);
    tda_free(m->fds);
    tda_free(m->ready);
    tda_free(m->token_url);
    tda_free(m->code_url);
    tda_pace_clear(&m->pace);
    tda_free(m);
}

tda_status tda_multi_set_max_connections(tda_multi *m, int n)
{
    if (!m || m->borrowed || n < 1 || n > m->slot_cap)
        return TDA_INVALID_ARGUMENT;
    m->max_slots = n; /* existing slots beyond n stay until freed; no new ones are made */
    return TDA_OK;
}

tda_status tda_multi_set_max_rate(tda_multi *m, int per_second)
{
    if (!m || m->borrowed || per_second < 0 || per_second > TDA_MAX_RATE)
        return TDA_INVALID_ARGUMENT;
    return tda_pace_set_rate(&m->pace, per_second);
}

tda_flow *tda_multi_add(tda_multi *m, const tda_code *code, const tda_poll_options *opts,
                        tda_flow_done_fn done, void *userdata)
{
    if (!m || !code || !code->device_code || !*code->device_code)
        return NULL;
    tda_flow *f = tda_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->device_code = tda_strdup(code->device_code);
    if (!f->device_code) {
        tda_free(f);
        return NULL;
    }
    f->m = m;
    f->heap_pos = NOT_QUEUED;
    f->slot = NO_SLOT;
    f->done = done;
    f->userdata = userdata;
    if (opts) {
        f->on_event = opts->on_event;
        f->event_userdata = opts->userdata;
    }
    tda_instant now = tda_now();
    tda_policy_init(&f->policy, code, opts, now, m->c->jitter_seed++);
    tda_renewal_init(&f->renewal, opts ? opts->renewals : 0, m->c->jitter_seed++);
    f->last_request_ms = now.mono_ms;
    tda_action first = tda_policy_next(&f->policy, now);
    if (heap_set(m, f, first.kind == TDA_ACTION_WAIT ? first.until_ms : now.mono_ms) != TDA_OK) {
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

void tda_flow_cancel(tda_flow *f)
{
    if (!f || f->cancelled)
        return;
    f->cancelled = 1;
    /* The next perform ends it (queued or in flight): tda_multi_timeout_ms says 0 until then. */
    f->m->cancel_pending = 1;
    if (f->heap_pos != NOT_QUEUED)
        heap_set(f->m, f, 0);
}

void tda_multi_cancel_all(tda_multi *m)
{
    if (!m)
        return;
    for (tda_flow *f = m->flows; f; f = f->next)
        tda_flow_cancel(f);
}

const char *tda_flow_error_detail(const tda_flow *f)
{
    return f ? f->detail : "";
}

size_t tda_multi_flow_count(const tda_multi *m)
{
    return m ? m->flow_count : 0;
}

int tda_multi_fds(tda_multi *m, struct pollfd *fds, int max)
{
    if (!m || !fds || max <= 0)
        return 0;
    int n = m->nfds < max ? m->nfds : max;
    for (int i = 0; i < n; i++) {
        fds[i] = m->fds[i];
        fds[i].revents = 0;
    }
    return n;
}

long tda_multi_timeout_ms(tda_multi *m)
{
    if (!m || m->flow_count == 0)
        return -1;
    if (atomic_load(&m->c->cancelled) || m->lost_track || m->cancel_pending)
        return 0;
    tda_instant now = tda_now();
    int64_t due = m->curl_due_ms;
    /* Flows waiting for a slot are keyed at their end, so the top is always a real time. */
    if (m->heap_len > 0 && m->heap[0]->due_ms < due)
        due = m->heap[0]->due_ms;
    /* Requests the pace holds back go when it allows (those waiting for a slot wake on
     * an answer). */
    if (m->waiting_head && m->pace_held) {
        int64_t ready = tda_pace_ready_at(&m->pace, now.mono_ms);
        if (ready < due)
            due = ready;
    }
    /* A request in flight is cut off at its flow's deadline (by the same rule as perform). */
    for (int i = 0; i < m->slot_count; i++) {
        int64_t cut = m->slots[i].flow ? to_mono(deadline_of(m->slots[i].flow), now) : INT64_MAX;
        if (cut < due)
            due = cut;
    }
    if (due <= now.mono_ms)
        return 0;
    int64_t wait = due - now.mono_ms;
    return wait > 24L * 3600 * 1000 ? 24L * 3600 * 1000 : (long)wait;
}

tda_status tda_multi_perform(tda_multi *m)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    if (atomic_load(&m->c->cancelled))
        tda_multi_cancel_all(m);
    /* Until nothing moves: an answer can free a slot for a poll that is due. */
    m->cancel_pending = 0;
    for (int round = 0; round < 16; round++) {
        /* Cancels first; deadlines only after reading what has arrived: an answer
         * already here may carry the token, which Trakt will not issue again. */
        cut_off_in_flight(m, tda_now(), 0);
        drive_curl(m);
        int moved = collect_answers(m);
        tda_instant now = tda_now();
        cut_off_in_flight(m, now, 1);
        moved += start_due(m, now);
        if (!moved)
            break;
    }
    return TDA_OK;
}

tda_status tda_multi_wait(tda_multi *m, long max_ms)
{
    if (!m)
        return TDA_INVALID_ARGUMENT;
    long timeout = tda_multi_timeout_ms(m);
    if (timeout < 0 || (max_ms >= 0 && max_ms < timeout))
        timeout = max_ms;
    if (timeout > 60000 || timeout < 0)
        timeout = 60000; /* bounds the wait when nothing at all is due */
    int n = m->nfds;
    struct pollfd one;
    struct pollfd *fds = m->ready ? m->ready : &one; /* no allocation while waiting */
    if (n)
        memcpy(fds, m->fds, (size_t)n * sizeof *fds);
    fds[n].fd = m->c->cancel_pipe[0];
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    /* Sleeps in the kernel until a socket, the time, or a cancel: no wake-ups between. */
    int rc = poll(fds, (nfds_t)n + 1, (int)timeout);
    if (rc > 0 && fds[n].revents && !atomic_load(&m->c->cancelled))
        tda_drain_cancel_pipe(m->c->cancel_pipe[0]);
    return tda_multi_perform(m);
}
