/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl transport; see transport.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

static void body_reset(tda__http_slot *t)
{
    tda__wipe(t->body, t->body_len);
    t->body_len = 0;
    t->body_overflow = 0;
}

/* Collects the body; aborts the transfer past TDA__MAX_BODY so no answer can exhaust memory. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    tda__http_slot *t = userdata;
    size_t n = size * nmemb;
    if (n > TDA__MAX_BODY - t->body_len) {
        t->body_overflow = 1;
        return 0;
    }
    if (t->body_len + n + 1 > t->body_cap) {
        /* Grow by copying into a fresh buffer, wiping the old one: realloc would not wipe. */
        size_t cap = t->body_cap ? t->body_cap : 1024;
        while (cap < t->body_len + n + 1)
            cap *= 2;
        char *grown = tda__malloc(cap);
        if (!grown)
            return 0;
        if (t->body_len)
            memcpy(grown, t->body, t->body_len);
        tda__wipe(t->body, t->body_cap);
        tda__free(t->body);
        t->body = grown;
        t->body_cap = cap;
    }
    memcpy(t->body + t->body_len, data, n);
    t->body_len += n;
    t->body[t->body_len] = '\0';
    return n;
}

/*
 * Hands libcurl the request body. There is deliberately no seek callback:
 * when a reused connection dies after the request went out, libcurl would
 * otherwise re-send it at once on a new connection. For a device-token poll
 * that is a second poll within the interval, and for a refresh a second
 * spend of a single-use token. Without a way to rewind, libcurl fails the
 * transfer with CURLE_SEND_FAIL_REWIND instead, and the policy decides when
 * to try again (never sooner than the interval).
 */
static size_t on_upload(char *buffer, size_t size, size_t nitems, void *userdata)
{
    tda__http_slot *t = userdata;
    size_t room = size * nitems;
    size_t left = t->upload_len - t->upload_sent;
    size_t n = left < room ? left : room;
    if (n == 0)
        return 0;
    memcpy(buffer, t->upload + t->upload_sent, n);
    t->upload_sent += n;
    return n;
}

tda_status tda__slot_init(tda__http_slot *t, const char *ca_file)
{
    memset(t, 0, sizeof *t);
    t->easy = curl_easy_init();
    if (!t->easy)
        return TDA_NO_MEMORY;
    CURL *e = t->easy;
    int ok = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             /* A redirect could carry secrets to another host: Trakt's OAuth never redirects. */
             curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TDA__MAX_BODY) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_WRITEDATA, t) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload) == CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_READDATA, t) == CURLE_OK &&
             (!ca_file || curl_easy_setopt(e, CURLOPT_CAINFO, ca_file) == CURLE_OK);
    if (!ok) {
        tda__slot_cleanup(t);
        return TDA_NO_MEMORY;
    }
    return TDA_OK;
}

void tda__slot_cleanup(tda__http_slot *t)
{
    if (t->easy)
        curl_easy_cleanup(t->easy);
    tda__wipe(t->body, t->body_cap);
    tda__free(t->body);
    memset(t, 0, sizeof *t);
}

tda_status tda__transport_init(tda__transport *t)
{
    memset(t, 0, sizeof *t);
    t->multi = curl_multi_init();
    if (!t->multi || tda__slot_init(&t->slot, NULL) != TDA_OK) {
        tda__transport_cleanup(t);
        return TDA_NO_MEMORY;
    }
    return TDA_OK;
}

void tda__transport_cleanup(tda__transport *t)
{
    tda__slot_cleanup(&t->slot);
    if (t->multi)
        curl_multi_cleanup(t->multi);
    memset(t, 0, sizeof *t);
}

/* A byte left over from a cancel that was reset since: drain it, or waits would spin. */
void tda__drain_cancel_pipe(int cancel_fd)
{
    char sink[64];
    while (read(cancel_fd, sink, sizeof sink) > 0) {
    }
}

static int is_cancelled(const tda__http_request *rq)
{
    return rq->cancelled && atomic_load(rq->cancelled);
}

static const char *header_value(CURL *easy, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return NULL;
    return h->value;
}

static void describe_answer(tda__http_slot *t, tda__response *out)
{
    memset(out, 0, sizeof *out);
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &out->http_status);
    out->body = t->body_len ? t->body : "";
    out->body_len = t->body_len;
    out->content_type = header_value(t->easy, "content-type");
    out->retry_after = header_value(t->easy, "retry-after");
    out->ratelimit = header_value(t->easy, "x-ratelimit");
    out->location = header_value(t->easy, "location");
    out->www_authenticate = header_value(t->easy, "www-authenticate");
    out->server = header_value(t->easy, "server");
}

/*
 * Runs the blocking call's one transfer to its end, or until a cancel. The
 * engine (multi_flow.c) drives the same handles through libcurl's socket
 * callbacks instead; this loop is only for the single calls of calls.c.
 */
static tda_status run_transfer(tda__transport *t, const tda__http_request *rq, CURLcode *result,
                               char *detail, size_t size)
{
    for (;;) {
        int running = 0;
        if (curl_multi_perform(t->multi, &running) != CURLM_OK) {
            snprintf(detail, size, "libcurl multi interface failed");
            return TDA_NETWORK;
        }
        if (!running)
            break;
        if (is_cancelled(rq)) {
            snprintf(detail, size, "cancelled during a request");
            return TDA_CANCELLED;
        }
        /* curl_multi_poll also honours curl's own timers (the request's timeout); the
         * cancel pipe wakes it at once, and the cap only bounds our checks. */
        struct curl_waitfd cancel = {rq->cancel_fd, CURL_WAIT_POLLIN, 0};
        curl_multi_poll(t->multi, rq->cancel_fd >= 0 ? &cancel : NULL, rq->cancel_fd >= 0 ? 1u : 0u,
                        1000, NULL);
        if (cancel.revents && !is_cancelled(rq))
            tda__drain_cancel_pipe(rq->cancel_fd);
    }
    int pending = 0;
    CURLMsg *msg;
    *result = CURLE_GOT_NOTHING;
    while ((msg = curl_multi_info_read(t->multi, &pending)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->slot.easy)
            *result = msg->data.result;
    return TDA_OK;
}

tda_status tda__slot_prepare(tda__http_slot *t, const tda__http_request *rq, char *detail,
                             size_t detail_size)
{
    body_reset(t);
    t->curl_error[0] = '\0';
    CURL *e = t->easy;
    t->upload = rq->body;
    t->upload_len = rq->body_len;
    t->upload_sent = 0;
    long connect_ms = rq->timeout_ms < 10000 ? rq->timeout_ms : 10000;
    if (curl_easy_setopt(e, CURLOPT_URL, rq->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->headers) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK) {
        snprintf(detail, detail_size, "could not set up the request");
        return TDA_NO_MEMORY;
    }
    return TDA_OK;
}

void tda__slot_release(tda__http_slot *t)
{
    t->upload = NULL;
    body_reset(t);
}

tda_status tda__slot_finish(tda__http_slot *t, CURLcode rc, tda__response *out, char *detail,
                            size_t detail_size)
{
    t->upload = NULL;
    memset(out, 0, sizeof *out);
    if (rc != CURLE_OK) /* what each failure means is the status rules' (status_rules.c) */
        return tda__classify_transfer_failure((int)rc, t->curl_error[0] ? t->curl_error : NULL,
                                              t->body_overflow, detail, detail_size);
    describe_answer(t, out);
    return TDA_OK;
}

tda_status tda__transport_post(tda__transport *t, const tda__http_request *rq, tda__response *out,
                               char *detail, size_t detail_size)
{
    memset(out, 0, sizeof *out);
    if (is_cancelled(rq)) {
        snprintf(detail, detail_size, "cancelled");
        return TDA_CANCELLED;
    }
    tda_status st = tda__slot_prepare(&t->slot, rq, detail, detail_size);
    if (st != TDA_OK)
        return st;
    if (curl_multi_add_handle(t->multi, t->slot.easy) != CURLM_OK) {
        snprintf(detail, detail_size, "could not start the request");
        return TDA_NO_MEMORY;
    }
    CURLcode result = CURLE_OK;
    st = run_transfer(t, rq, &result, detail, detail_size);
    /* Removing an unfinished transfer closes its connection; a finished one stays pooled. */
    curl_multi_remove_handle(t->multi, t->slot.easy);
    t->slot.upload = NULL;
    if (st != TDA_OK)
        return st;
    return tda__slot_finish(&t->slot, result, out, detail, detail_size);
}
