/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP through libcurl: one easy handle per client, reused so a whole login
 * travels over one keep-alive connection, driven by a multi handle so that a
 * request in flight can be cancelled at once through the client's cancel pipe.
 * The bytes only: what an answer or a failed transfer means is the status
 * rules' (status_rules.c).
 */
#ifndef TDA__TRANSPORT_H
#define TDA__TRANSPORT_H

#include <curl/curl.h>
#include <stdatomic.h>

#include "protocol.h"

/*
 * One easy handle with the buffers of its transfer. The blocking calls use
 * the client's one slot; the non-blocking engine (multi_pool.c) lends slots to
 * flows only while their request is in flight.
 */
typedef struct tda__http_slot {
    CURL *easy;
    char *body; /* the last answer's body; wiped before reuse or free */
    size_t body_len, body_cap;
    int body_overflow;
    /* The request body being sent, handed to libcurl through a read callback. */
    const char *upload;
    size_t upload_len, upload_sent;
    char curl_error[CURL_ERROR_SIZE];
} tda__http_slot;

typedef struct tda__transport {
    CURLM *multi;
    tda__http_slot slot;
} tda__transport;

typedef struct tda__http_request {
    const char *url;
    const struct curl_slist *headers;
    const char *body;
    size_t body_len;
    long timeout_ms; /* for this request in all */
    int cancel_fd;   /* readable when the client was cancelled */
    const atomic_int *cancelled;
} tda__http_request;

tda_status tda__slot_init(tda__http_slot *s, const char *ca_file);
void tda__slot_cleanup(tda__http_slot *s);
/* Points the slot at a request; the request's strings must outlive the transfer. */
tda_status tda__slot_prepare(tda__http_slot *s, const tda__http_request *rq, char *detail,
                             size_t detail_size);
/*
 * After the transfer ended with rc: TDA_OK and *out describing the answer
 * (valid until the slot's next transfer), or the failure with its detail.
 */
tda_status tda__slot_finish(tda__http_slot *s, CURLcode rc, tda__response *out, char *detail,
                            size_t detail_size);

/* Forgets the transfer: the answer's bytes (a token, maybe) are wiped now, not at reuse. */
void tda__slot_release(tda__http_slot *s);

tda_status tda__transport_init(tda__transport *t);
void tda__transport_cleanup(tda__transport *t);

/*
 * POSTs and waits for the whole answer. TDA_OK means an HTTP answer arrived
 * (of any status) and *out describes it until the next call; otherwise
 * TDA_NETWORK, TDA_TIMED_OUT, TDA_TLS, TDA_BAD_RESPONSE (oversized) or
 * TDA_CANCELLED, with a secret-free detail.
 */
tda_status tda__transport_post(tda__transport *t, const tda__http_request *rq, tda__response *out,
                               char *detail, size_t detail_size);

/* Empties the cancel pipe (non-blocking): a byte left by a cancel that was reset since. */
void tda__drain_cancel_pipe(int cancel_fd);

#endif
