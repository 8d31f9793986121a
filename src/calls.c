/* SPDX-License-Identifier: Apache-2.0 */
/* The single-request calls: each is one POST, no retry, the answer interpreted. */
#include <string.h>

#include "client.h"
#include "clock.h"

/*
 * Every call starts by forgetting the previous one's outcome, also when it
 * fails before sending anything (bad arguments, a pending cancel): the HTTP
 * status is then 0, not the status of some earlier answer.
 */
static tda_status begin(tda_client *c, int args_ok)
{
    tda__client_forget_outcome(c);
    if (!args_ok)
        return TDA_INVALID_ARGUMENT;
    if (atomic_load(&c->cancelled)) {
        tda__client_set_detail(
            c, "the client was cancelled; call tda_client_reset_cancel to reuse it");
        return TDA_CANCELLED;
    }
    return TDA_OK;
}

tda_status tda_generate_code(tda_client *c, tda_code *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!c)
        return TDA_INVALID_ARGUMENT;
    tda_status st = begin(c, out != NULL);
    if (st != TDA_OK)
        return st;
    tda__body body;
    st = tda__build_code_request(c->client_id, &body);
    if (st != TDA_OK)
        return st;
    tda__response resp;
    st = tda__client_call(c, TDA__EP_DEVICE_CODE, &body, &resp);
    if (st == TDA_OK)
        st = tda__parse_code(resp.body, resp.body_len, out, c->detail, sizeof c->detail);
    if (st == TDA_OK) {
        /* Its life runs from now, on the clock that counts suspended time (clock.c). */
        out->issued_at_ms = tda_boottime_ms();
        out->issued_at_unix_ms = tda__unix_ms();
        if (!(out->client_id = tda__strdup(c->client_id))) {
            tda_code_clear(out);
            st = TDA_NO_MEMORY;
        }
    }
    tda__body_clear(&body);
    return st;
}

tda_status tda_request_token(tda_client *c, const tda_code *code, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!c)
        return TDA_INVALID_ARGUMENT;
    tda_status st = begin(c, code && code->device_code && out);
    if (st != TDA_OK)
        return st;
    tda__body body;
    st = tda__build_token_request(c->client_id, c->client_secret, code->device_code, &body);
    if (st != TDA_OK)
        return st;
    tda__response resp;
    st = tda__client_call(c, TDA__EP_DEVICE_TOKEN, &body, &resp);
    if (st == TDA_OK)
        st = tda__client_take_token(c, &resp, out, c->detail, sizeof c->detail);
    tda__body_clear(&body);
    tda__client_redact(c, code->device_code);
    return st;
}

tda_status tda_refresh_token(tda_client *c, const char *refresh_token, tda_token *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!c)
        return TDA_INVALID_ARGUMENT;
    tda_status st = begin(c, refresh_token && *refresh_token && out);
    if (st != TDA_OK)
        return st;
    tda__body body;
    st = tda__build_refresh_request(c->client_id, c->client_secret, refresh_token, c->redirect_uri,
                                    &body);
    if (st != TDA_OK)
        return st;
    tda__response resp;
    st = tda__client_call(c, TDA__EP_REFRESH, &body, &resp);
    if (st == TDA_OK)
        st = tda__client_take_token(c, &resp, out, c->detail, sizeof c->detail);
    tda__body_clear(&body);
    tda__client_redact(c, refresh_token);
    return st;
}

tda_status tda_revoke_token(tda_client *c, const char *access_token)
{
    if (!c)
        return TDA_INVALID_ARGUMENT;
    tda_status st = begin(c, access_token && *access_token);
    if (st != TDA_OK)
        return st;
    tda__body body;
    st = tda__build_revoke_request(c->client_id, c->client_secret, access_token, &body);
    if (st != TDA_OK)
        return st;
    tda__response resp;
    st = tda__client_call(c, TDA__EP_REVOKE, &body, &resp);
    tda__body_clear(&body);
    tda__client_redact(c, access_token);
    return st;
}
