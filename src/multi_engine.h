/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's insides, shared by its files:
 *   timer_heap.c     the heap of flows by the time they next need a look
 *   multi_sockets.c  the descriptors libcurl wants watched
 *   multi_curl.c     libcurl's socket and timer callbacks, passed on to the table
 *   multi_pool.c     the pooled easy handles and the FIFO of waiting requests
 *   multi_pace.c     when any request may leave (the IP-wide pause, the cap)
 *   multi_flow.c     a flow's lifecycle: send, judge the answer, requeue, end
 *   multi.c          the public API, thin wrappers over the above
 */
#ifndef TDA__MULTI_ENGINE_H
#define TDA__MULTI_ENGINE_H

#include "client.h"
#include "multi_pace.h"
#include "multi_pool.h"
#include "multi_sockets.h"
#include "poll_policy.h"
#include "renew_policy.h"
#include "timer_heap.h"

/*
 * Where a flow is, which alone says which of the engine's structures hold it:
 *   QUEUED     in the heap, keyed at when it next needs a look (its poll,
 *              its code's end, its deadline)
 *   WAITING    due, but every slot is busy or the pace holds it back: in the
 *              FIFO, and in the heap keyed at its end only
 *   IN_FLIGHT  its request holds a slot; in neither heap nor FIFO
 * A flow leaves the engine (and is freed) from any of them; a cancel is a
 * request that the next turn honours whatever the state.
 */
typedef enum tda__flow_state {
    TDA__FLOW_QUEUED,
    TDA__FLOW_WAITING,
    TDA__FLOW_IN_FLIGHT
} tda__flow_state;

struct tda_flow {
    tda_multi *m;
    tda__flow_state state;
    int slot;             /* TDA__NO_SLOT unless IN_FLIGHT */
    tda__heap_node timer; /* queued in m->heap unless IN_FLIGHT */
    tda__fifo_link wait;  /* linked in m->waiting while WAITING */
    /* Flags in bytes: a flow's size is the engine's memory per waiting login (bench/). */
    unsigned char cancel_requested;
    unsigned char code_request;    /* the request in flight asks for a new code, not a token */
    unsigned char answer_lost;     /* a poll got no whole answer: it may have carried the token */
    unsigned char ended_by_answer; /* the flow's end came with an answer (tda_client_http_status) */
    char *device_code;             /* secret: wiped when the flow is freed */
    tda__policy policy;
    tda__renewal renewal;    /* when and whether to fetch a new code once this one expires */
    int64_t last_request_ms; /* monotonic: the last answer, or the flow's start */
    tda_event_fn on_event;
    void *event_userdata;
    tda_flow_done_fn done;
    void *userdata;
    int64_t sent_at_ms;
    int64_t late_ms;       /* of the request in flight */
    tda_flow *prev, *next; /* every flow not yet ended */
    char detail[TDA__DETAIL_SIZE];
};

struct tda_multi {
    tda_client *c;
    CURLM *curlm;
    int borrowed; /* curlm and the one slot are the client's (tda__multi_borrow) */
    tda__pool pool;
    tda__heap heap;
    tda__fifo waiting; /* of flows WAITING, oldest first */
    tda__sockets sockets;
    tda_flow *flows;
    size_t flow_count;
    char *token_url;
    char *code_url;      /* for renewals */
    int64_t curl_due_ms; /* libcurl's timer; INT64_MAX when it has none */
    int lost_track;      /* the socket table could not grow: in-flight requests are blind */
    int cancel_pending;  /* a cancel waits for the next turn */
    tda__pace pace;
    int pace_held; /* the last try to send was held back by the pace, not by busy slots */
    /* The callback API (multi.c). */
    tda_socket_fn socket_fn;
    void *socket_userdata;
    void *cancel_socketp; /* tda_multi_assign's pointer for the cancel pipe */
    tda_timer_fn timer_fn;
    void *timer_userdata;
    int64_t timer_at_ms; /* monotonic time last given to timer_fn; TDA__TIMER_NONE, _UNSET */
    int depth;           /* nesting of engine turns: callbacks wait for the outermost */
};

#define TDA__TIMER_NONE (-1)  /* the application was told: no timer */
#define TDA__TIMER_UNSET (-2) /* no timer armed (never told, or it just fired) */

/* multi_curl.c: libcurl's socket and timer callbacks on (1) or off (0); 0 when libcurl refused. */
int tda__engine_watch_curl(tda_multi *m, int on);

/* multi_flow.c */
tda_multi *tda__engine_alloc(tda_client *c, int max_slots, int slot_cap);
void tda__engine_free(tda_multi *m);
tda_flow *tda__engine_add(tda_multi *m, const tda_code *code, const tda_poll_options *opts,
                          tda_flow_done_fn done, void *userdata);
void tda__engine_cancel(tda_flow *f);
/* The engine's next due time (monotonic ms), INT64_MAX when none; now when overdue. */
int64_t tda__engine_due(tda_multi *m, tda__instant now);
/*
 * One engine turn: with fd >= 0, libcurl acts on that descriptor first
 * (events: TDA_READY_ bits); with poll_all, every watched descriptor is
 * polled for readiness instead (the snapshot API). Then whatever is due.
 */
void tda__engine_turn(tda_multi *m, int fd, int events, int poll_all);

#endif
