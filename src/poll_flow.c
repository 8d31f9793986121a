/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tda_poll_for_token: the non-blocking engine (the files src/multi_engine.h
 * lists) with one flow, run to completion, so blocking and non-blocking
 * polling are one code path. The engine borrows the client's own connection,
 * so a login that fetched its code keeps using that connection.
 */
#include <string.h>

#include "multi.h"

typedef struct blocking_result {
    int ended;
    tda_status status;
    tda_token *out;
    tda_client *c;
} blocking_result;

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    blocking_result *r = userdata;
    r->ended = 1;
    r->status = status;
    *r->out = *token; /* ownership moves to the caller's struct */
    memset(token, 0, sizeof *token);
    snprintf(r->c->detail, sizeof r->c->detail, "%s", tda_flow_error_detail(flow));
}

tda_status tda_poll_for_token(tda_client *c, const tda_code *code, const tda_poll_options *opts,
                              tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!c)
        return TDA_INVALID_ARGUMENT;
    tda__client_forget_outcome(c); /* each answer sets it again (multi_flow.c) */
    if (!code || !code->device_code || !*code->device_code || !out)
        return TDA_INVALID_ARGUMENT;
    tda_multi *m = tda__multi_borrow(c);
    if (!m)
        return TDA_NO_MEMORY;
    blocking_result r = {0, TDA_OK, out, c};
    if (!tda_multi_add(m, code, opts, on_done, &r)) {
        tda_multi_free(m);
        return TDA_NO_MEMORY;
    }
    while (!r.ended) {
        tda_status st = tda_multi_wait(m, -1);
        if (st != TDA_OK) { /* cannot happen with a valid engine; never spin on it */
            tda_multi_free(m);
            return st;
        }
    }
    tda_multi_free(m);
    return r.status;
}
