/*
 * tda_poll_for_token: the blocking driver of the polling policy (poll.c). It
 * only carries out what the policy decides: wait, poll, or finish.
 */
#include <string.h>

#include "client.h"
#include "poll_policy.h"

static void report(const tda_poll_options *opts, tda_event *ev, long http_status)
{
    if (!opts || !opts->on_event || ev->kind == 0)
        return;
    ev->http_status = http_status;
    opts->on_event(ev, opts->userdata);
}

/* Why the flow ended without a final answer from the server. */
static void explain_end(tda_client *c, const tda_policy *p, tda_status result, int answer_lost)
{
    if (result == TDA_ALREADY_USED && answer_lost)
        tda_client_set_detail(c, "HTTP 409: a token was already issued for this code, but an "
                                 "earlier answer was lost in transit, and with it the token: "
                                 "it cannot be fetched again; start a new login");
    else if (result == TDA_EXPIRED && p->last_status == TDA_PENDING)
        tda_client_set_detail(c, "the code expired after %d poll%s without approval: get a new code",
                              p->polls, p->polls == 1 ? "" : "s");
    else if (result == TDA_DEADLINE)
        tda_client_set_detail(c, "the caller's deadline passed after %d poll%s", p->polls,
                              p->polls == 1 ? "" : "s");
    /* After a transient failure the detail of that failure stays: it is the real reason. */
}

tda_status tda_poll_for_token(tda_client *c, const tda_code *code, const tda_poll_options *opts,
                              tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!c || !code || !code->device_code || !out)
        return TDA_INVALID_ARGUMENT;
    c->detail[0] = '\0';
    if (!c->client_secret) {
        tda_client_set_detail(c, "polling needs the client secret (tda_client_new's second argument)");
        return TDA_INVALID_ARGUMENT;
    }
    tda_body body;
    tda_status st = tda_build_token_request(c->client_id, c->client_secret, code->device_code, &body);
    if (st != TDA_OK)
        return st;
    /* Set when a poll got no whole answer: it may have carried the token. */
    int answer_lost = 0;
    tda_policy policy;
    tda_policy_init(&policy, code, opts, tda_monotonic_ms(), c->jitter_seed++);
    for (;;) {
        if (atomic_load(&c->cancelled)) {
            st = TDA_CANCELLED;
            tda_client_set_detail(c, "cancelled while waiting for approval");
            break;
        }
        tda_action action = tda_policy_next(&policy, tda_monotonic_ms());
        if (action.kind == TDA_ACTION_DONE) {
            st = action.result;
            explain_end(c, &policy, st, answer_lost);
            break;
        }
        if (action.kind == TDA_ACTION_WAIT) {
            tda_transport_wait(c->cancel_pipe[0], &c->cancelled, action.until_ms);
            continue;
        }
        tda_response resp;
        st = tda_client_call(c, TDA_EP_DEVICE_TOKEN, &body, policy.deadline_ms, &resp);
        if (st == TDA_CANCELLED || st == TDA_DEADLINE)
            break;
        if (st == TDA_OK)
            st = tda_client_take_token(c, &resp, out);
        if (st == TDA_NETWORK || st == TDA_TIMED_OUT)
            answer_lost = 1;
        if (st == TDA_ALREADY_USED)
            explain_end(c, &policy, st, answer_lost);
        /*
         * +1 ms: the clock reads whole milliseconds rounded down, and the next
         * poll must not start before a full interval after this answer.
         */
        tda_event ev;
        int over = tda_policy_record(&policy, tda_monotonic_ms() + 1, st, c->retry_after_ms, &ev);
        report(opts, &ev, c->http_status);
        if (over)
            break;
    }
    tda_body_clear(&body);
    tda_client_redact(c, code->device_code);
    if (st != TDA_OK)
        tda_token_clear(out);
    return st;
}
