/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client's one request path, which the single calls (calls.c) and the
 * engine (multi_flow.c) share so that they cannot disagree: the URL, the
 * verbose log, the transfer, the judgement of the answer by the status rules
 * (with the client secret blanked and a hint when Trakt may want one), and a
 * token taken from a 200 with the time it arrived.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "log.h"

char *tda__client_url(const tda_client *c, tda__endpoint ep)
{
    const char *path = tda__endpoint_path(ep);
    size_t url_len = strlen(c->base_url) + strlen(path) + 1;
    char *url = tda__malloc(url_len);
    if (url)
        snprintf(url, url_len, "%s%s", c->base_url, path);
    return url;
}

tda_status tda__client_judge(tda_client *c, tda__endpoint ep, tda_status transport_st,
                             const tda__response *resp, int64_t took_ms, tda__call_outcome *out)
{
    tda__log_answer(c, transport_st, resp, took_ms, out->detail);
    out->http_status = 0;
    out->retry_after_ms = -1;
    if (transport_st != TDA_OK)
        return transport_st;
    out->http_status = resp->http_status;
    tda_status st = tda__classify_response(ep, resp, (int64_t)time(NULL), &out->retry_after_ms,
                                           out->detail, out->detail_size);
    /* Trakt made the secret optional, but may still want it from this app. */
    if (!c->client_secret && tda__refusal_may_want_secret(ep, resp, st)) {
        size_t used = strlen(out->detail);
        snprintf(out->detail + used, out->detail_size - used,
                 "; no client secret was sent: Trakt may still require this app's secret "
                 "(give it as tda_client_new's second argument)");
    }
    tda__redact(out->detail, c->client_secret);
    return st;
}

tda_status tda__client_call(tda_client *c, tda__endpoint ep, const tda__body *body,
                            tda__response *resp)
{
    tda__client_forget_outcome(c);
    char *url = tda__client_url(c, ep);
    if (!url)
        return TDA_NO_MEMORY;
    tda__http_request rq = {url,           c->headers,        body->data,   body->len,
                            c->timeout_ms, c->cancel_pipe[0], &c->cancelled};
    tda__log_request(c, url, body);
    int64_t started = tda_monotonic_ms();
    tda_status st = tda__transport_post(&c->transport, &rq, resp, c->detail, sizeof c->detail);
    tda__free(url);
    tda__call_outcome outcome = {0, -1, c->detail, sizeof c->detail};
    st = tda__client_judge(c, ep, st, resp, tda_monotonic_ms() - started, &outcome);
    c->http_status = outcome.http_status;
    c->retry_after_ms = outcome.retry_after_ms;
    return st;
}

tda_status tda__client_take_token(const tda_client *c, const tda__response *resp, tda_token *out,
                                  char *detail, size_t detail_size)
{
    tda_status st = tda__parse_token(resp->body, resp->body_len, out, detail, detail_size);
    if (st == TDA_OK && !(out->client_id = tda__strdup(c->client_id))) {
        tda_token_clear(out);
        st = TDA_NO_MEMORY;
    }
    /* When it arrived, by this machine's clocks: what tells later when it is due. */
    if (st == TDA_OK)
        tda__received_now(&out->received);
    return st;
}
