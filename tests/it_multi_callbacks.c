/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's callback API against the emulator, driven by a small event
 * loop of the test's own that knows only what the callbacks told it: which
 * descriptors to watch for what, and when the timer is due. It never calls
 * tda_multi_perform, tda_multi_fds or tda_multi_timeout_ms to run; those are
 * read only to check that the callbacks said the same.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

#define MAX_WATCHED 64
#define MAX_FLOWS 64

typedef struct watch {
    int fd;
    int what;  /* TDA_WATCH_IN/OUT/INOUT */
    void *tag; /* what the loop attached with tda_multi_assign */
} watch;

typedef struct loop {
    tda_multi *m;
    watch watched[MAX_WATCHED];
    int n;
    int64_t timer_at; /* monotonic ms; -1: no timer */
    int timer_calls, socket_calls, actions, removes;
    int bad; /* a callback contradicted what the loop knew */
    char why[200];
    int tags;
    int cancel_fd; /* the first descriptor reported: the client's cancel pipe */
} loop;

static loop *the_loop; /* a test runs one loop at a time */

static int find(const loop *l, int fd)
{
    for (int i = 0; i < l->n; i++)
        if (l->watched[i].fd == fd)
            return i;
    return -1;
}

static void contradiction(loop *l, const char *why, int fd)
{
    if (!l->bad)
        snprintf(l->why, sizeof l->why, "%s (fd %d)", why, fd);
    l->bad = 1;
}

static void on_socket(tda_multi *m, int fd, int what, void *userdata, void *socketp)
{
    loop *l = userdata;
    l->socket_calls++;
    if (m != l->m)
        contradiction(l, "socket function called for another engine", fd);
    int i = find(l, fd);
    if (what == TDA_WATCH_REMOVE) {
        l->removes++;
        if (i < 0) {
            contradiction(l, "remove of a descriptor never watched", fd);
            return;
        }
        if (socketp != l->watched[i].tag)
            contradiction(l, "remove handed back another socketp", fd);
        l->watched[i] = l->watched[--l->n];
        return;
    }
    if (what != TDA_WATCH_IN && what != TDA_WATCH_OUT && what != TDA_WATCH_INOUT) {
        contradiction(l, "unknown watch", fd);
        return;
    }
    if (i < 0) {
        if (socketp != NULL)
            contradiction(l, "a new descriptor came with a socketp", fd);
        if (l->n == MAX_WATCHED) {
            contradiction(l, "too many descriptors", fd);
            return;
        }
        i = l->n++;
        l->watched[i].fd = fd;
        /* Each descriptor gets its own tag, handed back from now on. */
        l->watched[i].tag = &l->watched[i];
        l->tags++;
        l->watched[i].what = what;
        /* Attaching from inside the callback is not allowed; the loop does it after. */
        return;
    }
    if (socketp != l->watched[i].tag && l->watched[i].tag != NULL)
        contradiction(l, "a change handed back another socketp", fd);
    l->watched[i].what = what;
}

static void on_timer(tda_multi *m, long timeout_ms, void *userdata)
{
    loop *l = userdata;
    (void)m;
    l->timer_calls++;
    if (timeout_ms < -1)
        contradiction(l, "timeout below -1", (int)timeout_ms);
    l->timer_at = timeout_ms < 0 ? -1 : tda_monotonic_ms() + timeout_ms;
}

/* The tags are pointers to the loop's own entries, which move on removal: re-attach. */
static void attach_tags(loop *l)
{
    for (int i = 0; i < l->n; i++) {
        if (l->watched[i].tag != &l->watched[i]) {
            l->watched[i].tag = &l->watched[i];
        }
        assert_int_equal(tda_multi_assign(l->m, l->watched[i].fd, l->watched[i].tag), TDA_OK);
    }
}

static void loop_init(loop *l, tda_multi *m)
{
    memset(l, 0, sizeof *l);
    l->m = m;
    l->timer_at = -1;
    the_loop = l;
    assert_int_equal(tda_multi_set_timer_fn(m, on_timer, l), TDA_OK);
    assert_int_equal(tda_multi_set_socket_fn(m, on_socket, l), TDA_OK);
    assert_true(l->n >= 1);
    l->cancel_fd = l->watched[0].fd;
    attach_tags(l);
}

/* What the callbacks said is what the snapshot API says, cancel pipe aside. */
static void check_in_step(loop *l)
{
    int cancel_fd = l->cancel_fd;
    struct pollfd fds[MAX_WATCHED];
    int total = tda_multi_fds(l->m, fds, MAX_WATCHED);
    assert_int_equal(total, l->n - (find(l, cancel_fd) >= 0 ? 1 : 0));
    for (int i = 0; i < total; i++) {
        int w = find(l, fds[i].fd);
        if (w < 0)
            fail_msg("fd %d watched by the engine, never reported", fds[i].fd);
        int what = ((fds[i].events & POLLIN) ? TDA_WATCH_IN : 0) |
                   ((fds[i].events & POLLOUT) ? TDA_WATCH_OUT : 0);
        assert_int_equal(l->watched[w].what, what);
    }
    long t = tda_multi_timeout_ms(l->m);
    if (t < 0) {
        assert_int_equal(l->timer_at, -1);
    } else {
        assert_true(l->timer_at >= 0);
        /* The timer is at most a few ms off what timeout_ms says now (time passes between). */
        int64_t said = l->timer_at - tda_monotonic_ms();
        if (said < 0)
            said = 0;
        if (said > t + 2 || said < t - 2 - test_bound_ms(20))
            fail_msg("timer says %lld ms, the engine %ld", (long long)said, t);
    }
}

/* One round of the loop: sleep in poll(2) for the watched descriptors and the timer. */
static void loop_once(loop *l, int max_ms)
{
    struct pollfd fds[MAX_WATCHED];
    int n = l->n;
    for (int i = 0; i < n; i++) {
        fds[i].fd = l->watched[i].fd;
        fds[i].events = (short)(((l->watched[i].what & TDA_WATCH_IN) ? POLLIN : 0) |
                                ((l->watched[i].what & TDA_WATCH_OUT) ? POLLOUT : 0));
        fds[i].revents = 0;
    }
    int wait = max_ms;
    if (l->timer_at >= 0) {
        int64_t left = l->timer_at - tda_monotonic_ms();
        if (left < 0)
            left = 0;
        if (left < wait)
            wait = (int)left;
    }
    int rc = poll(fds, (nfds_t)n, wait);
    assert_true(rc >= 0);
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        int ev = ((fds[i].revents & POLLIN) ? TDA_READY_IN : 0) |
                 ((fds[i].revents & POLLOUT) ? TDA_READY_OUT : 0) |
                 ((fds[i].revents & (POLLERR | POLLHUP)) ? TDA_READY_ERR : 0);
        l->actions++;
        assert_int_equal(tda_multi_socket_action(l->m, fds[i].fd, ev), TDA_OK);
    }
    if (l->timer_at >= 0 && tda_monotonic_ms() >= l->timer_at) {
        l->timer_at = -1; /* one-shot, as in libuv and GLib */
        l->actions++;
        assert_int_equal(tda_multi_socket_action(l->m, TDA_SOCKET_TIMEOUT, 0), TDA_OK);
    }
    attach_tags(l);
    if (l->bad)
        fail_msg("%s", l->why);
}

typedef struct outcome {
    int calls;
    tda_status status;
    int has_token;
} outcome;

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    outcome *o = userdata;
    (void)flow;
    o->calls++;
    o->status = status;
    o->has_token = token->access_token != NULL;
    tda_token_clear(token);
}

static void run_until_no_flow(loop *l)
{
    int64_t give_up = tda_monotonic_ms() + test_bound_ms(30000);
    while (tda_multi_flow_count(l->m) > 0) {
        loop_once(l, 1000);
        check_in_step(l);
        assert_true(tda_monotonic_ms() < give_up);
    }
    assert_int_equal(l->timer_at, -1); /* no flow: no timer */
}

static void test_many_flows_through_the_callbacks(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.1", "--approve-after-polls", "2", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    assert_non_null(m);
    assert_int_equal(tda_multi_set_max_connections(m, 3), TDA_OK);
    static tda_code codes[40];
    static outcome out[40];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 40; i++)
        assert_int_equal(tda_generate_code(c, &codes[i]), TDA_OK);
    loop l;
    loop_init(&l, m);
    /* Before any flow: the cancel pipe is watched, and there is no timer. */
    assert_int_equal(l.n, 1);
    assert_int_equal(l.watched[0].what, TDA_WATCH_IN);
    assert_int_equal(l.timer_at, -1);
    for (int i = 0; i < 40; i++)
        assert_non_null(tda_multi_add(m, &codes[i], NULL, on_done, &out[i]));
    /* The first poll is an interval away: the timer says so at once. */
    assert_true(l.timer_at >= 0);
    check_in_step(&l);
    run_until_no_flow(&l);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].status, TDA_OK);
        assert_true(out[i].has_token);
    }
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.tokens_issued, 40);
    assert_int_equal(s.early_polls, 0);
    assert_int_equal(s.polls, 40 * 3);
    assert_true(s.connections <= 1 + 3 + 1);
    print_message("40 flows: %d socket calls, %d timer calls, %d actions (%d removes), "
                  "%d descriptors tagged\n",
                  l.socket_calls, l.timer_calls, l.actions, l.removes, l.tags);
    /* The loop was driven only by what the engine asked: a bounded number of turns. */
    assert_true(l.actions < 40 * 3 * 8);
    int watched_before_free = l.n;
    tda_multi_free(m);
    /* Freeing the engine ends every watch it had started. */
    assert_int_equal(l.n, 0);
    assert_true(l.removes >= watched_before_free);
    assert_false(l.bad);
    for (int i = 0; i < 40; i++)
        tda_code_clear(&codes[i]);
    tda_client_free(c);
    emu_stop(&e);
}

/* A socket function set late hears of what is already watched; unset, it hears the end. */
static void test_late_socket_function_and_unset(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.05", "--fault", "token:1-100:stall", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    outcome o = {0};
    tda_flow *f = tda_multi_add(m, &code, NULL, on_done, &o);
    assert_non_null(f);
    while (emu_get_stats(&e).faults_injected == 0) /* its poll is in flight, stalled */
        assert_int_equal(tda_multi_wait(m, 50), TDA_OK);
    struct pollfd fds[1];
    int total = tda_multi_fds(m, fds, 0); /* the count alone */
    assert_true(total >= 1);
    assert_int_equal(tda_multi_fds(m, NULL, 0), total);
    loop l;
    loop_init(&l, m);
    assert_int_equal(l.n, 1 + total); /* the cancel pipe and libcurl's sockets */
    check_in_step(&l);
    /* A cancel: the timer goes to 0 and the loop's next turn ends the flow. */
    tda_flow_cancel(f);
    assert_true(l.timer_at >= 0 && l.timer_at <= tda_monotonic_ms());
    int64_t t0 = tda_monotonic_ms();
    while (o.calls == 0)
        loop_once(&l, 1000);
    assert_true(tda_monotonic_ms() - t0 < emu_prompt_ms());
    assert_int_equal(o.status, TDA_CANCELLED);
    assert_int_equal(l.timer_at, -1);
    /* A second loop takes over while a socket may still be watched: the first hears every
     * watch end, the second every watch start, both in step with the engine. */
    loop second;
    int before = l.n;
    loop_init(&second, m);
    assert_int_equal(l.n, 0);
    assert_true(l.removes >= before);
    check_in_step(&second);
    the_loop = &l;
    second.m = m;
    assert_int_equal(tda_multi_set_socket_fn(m, NULL, NULL), TDA_OK);
    assert_int_equal(second.n, 0);
    assert_false(second.bad);
    /* The cancel pipe's watch ended with the function; libcurl's ended with the transfer. */
    for (int i = 0; i < l.n; i++)
        fail_msg("fd %d still watched after unset", l.watched[i].fd);
    assert_int_equal(tda_multi_assign(m, 12345, NULL), TDA_INVALID_ARGUMENT);
    assert_false(l.bad);
    tda_multi_free(m);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

typedef struct canceller {
    tda_client *client;
    int64_t at;
} canceller;

static void *cancel_soon(void *arg)
{
    canceller *k = arg;
    usleep(300 * 1000);
    k->at = tda_monotonic_ms();
    tda_client_cancel(k->client);
    return NULL;
}

/* tda_client_cancel from another thread wakes a loop that sleeps on the callbacks' word. */
static void test_client_cancel_wakes_the_loop(void **state)
{
    emu e;
    emu_start(&e, "--interval", "5", NULL); /* nothing due for 5 s */
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    outcome o = {0};
    loop l;
    loop_init(&l, m);
    assert_non_null(tda_multi_add(m, &code, NULL, on_done, &o));
    assert_true(l.timer_at - tda_monotonic_ms() > 1000);
    canceller k = {c, 0};
    pthread_t thread;
    int64_t t0 = tda_monotonic_ms();
    assert_int_equal(pthread_create(&thread, NULL, cancel_soon, &k), 0);
    while (o.calls == 0 && tda_monotonic_ms() - t0 < test_bound_ms(4000))
        loop_once(&l, 4000);
    int64_t woke = tda_monotonic_ms();
    pthread_join(thread, NULL);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, TDA_CANCELLED);
    assert_true(woke - t0 >= 300);
    assert_true(woke - k.at <= emu_prompt_ms());
    /* The pipe was drained: the loop does not spin on it now that nothing is due. */
    int before = l.actions;
    loop_once(&l, 100);
    assert_int_equal(l.actions, before);
    assert_int_equal(emu_get_stats(&e).polls, 0);
    tda_client_reset_cancel(c);
    tda_multi_free(m);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

/* A done callback that adds the next flow: the timer follows once the turn is over. */
typedef struct chain {
    tda_multi *m;
    tda_code *codes;
    outcome *out;
    int next, n;
} chain;

static void on_done_chain(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    chain *ch = userdata;
    (void)flow;
    ch->out[ch->next - 1].calls++;
    ch->out[ch->next - 1].status = status;
    tda_token_clear(token);
    if (ch->next < ch->n) {
        ch->next++;
        assert_non_null(tda_multi_add(ch->m, &ch->codes[ch->next - 1], NULL, on_done_chain, ch));
    }
}

static void test_done_callback_adds_the_next_flow(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.05", "--approve-after-polls", "1", NULL);
    tda_client *c = emu_client(&e);
    tda_multi *m = tda_multi_new(c);
    tda_code codes[4];
    outcome out[4];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 4; i++)
        assert_int_equal(tda_generate_code(c, &codes[i]), TDA_OK);
    loop l;
    loop_init(&l, m);
    chain ch = {m, codes, out, 1, 4};
    assert_non_null(tda_multi_add(m, &codes[0], NULL, on_done_chain, &ch));
    run_until_no_flow(&l);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].status, TDA_OK);
    }
    assert_int_equal(emu_get_stats(&e).early_polls, 0);
    tda_multi_free(m);
    for (int i = 0; i < 4; i++)
        tda_code_clear(&codes[i]);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_bad_arguments(void **state)
{
    assert_int_equal(tda_multi_set_socket_fn(NULL, on_socket, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_set_timer_fn(NULL, on_timer, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_assign(NULL, 0, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_socket_action(NULL, TDA_SOCKET_TIMEOUT, 0), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_multi_fds(NULL, NULL, 0), 0);
    (void)the_loop;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_flows_through_the_callbacks),
        cmocka_unit_test(test_late_socket_function_and_unset),
        cmocka_unit_test(test_client_cancel_wakes_the_loop),
        cmocka_unit_test(test_done_callback_adds_the_next_flow),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
