/* SPDX-License-Identifier: Apache-2.0 */
/* The client handle's insides, shared by client.c and the call drivers. */
#ifndef TDA__CLIENT_H
#define TDA__CLIENT_H

#include <stdatomic.h>

#include "protocol.h"
#include "transport.h"

#define TDA__DETAIL_SIZE 512

struct tda_client {
    char *client_id;
    char *client_secret; /* wiped on free */
    char *base_url;
    char *user_agent;
    char *ca_file;      /* NULL: the system's CAs */
    char *redirect_uri; /* sent with a refresh */
    long timeout_ms;
    struct curl_slist *headers; /* rebuilt when the User-Agent changes */
    tda__transport transport;
    long http_status;
    int64_t retry_after_ms;
    char detail[TDA__DETAIL_SIZE];
    atomic_int cancelled;
    int cancel_pipe[2]; /* [0] watched by waits, [1] written by tda_client_cancel */
    uint64_t jitter_seed;
    tda_log_fn log_fn; /* verbose log, NULL when off */
    void *log_userdata;
};

/* Where one call's outcome goes: the client's own fields, or a flow's (multi_flow.c). */
typedef struct tda__call_outcome {
    long http_status;       /* 0 when no answer arrived */
    int64_t retry_after_ms; /* -1 when none */
    char *detail;           /* already holds a transport failure's detail */
    size_t detail_size;
} tda__call_outcome;

/* ---- client_call.c: the one request path */

/* The URL of an endpoint on the client's base URL; tda__free it. */
char *tda__client_url(const tda_client *c, tda__endpoint ep);

/*
 * What a request's end means: logs the answer (or the transport failure
 * transport_st), then classifies it into out (status rules, Retry-After,
 * detail with the client secret blanked). Returns the call's status.
 */
tda_status tda__client_judge(tda_client *c, tda__endpoint ep, tda_status transport_st,
                             const tda__response *resp, int64_t took_ms, tda__call_outcome *out);

/*
 * One request to ep with body, cut off only by a cancel. Records the
 * HTTP status, Retry-After and detail on the client and returns what the
 * answer means (status_rules.c); for TDA_OK, *resp holds the answer's body.
 */
tda_status tda__client_call(tda_client *c, tda__endpoint ep, const tda__body *body,
                            tda__response *resp);

/* Parses a token answer into *out and stamps it with the client id. */
tda_status tda__client_take_token(const tda_client *c, const tda__response *resp, tda_token *out,
                                  char *detail, size_t detail_size);

/* ---- client.c */

/*
 * Forgets the previous call's outcome (HTTP status, Retry-After, detail), so
 * that a call that ends before any answer reports 0 and -1, as the header says.
 */
void tda__client_forget_outcome(tda_client *c);

/* Sets the client's detail, printf-style. */
void tda__client_set_detail(tda_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Blanks any occurrence of secret in the client's detail (defence in depth). */
void tda__client_redact(tda_client *c, const char *secret);

#endif
