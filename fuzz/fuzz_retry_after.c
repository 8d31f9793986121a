/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: Retry-After values (delay-seconds or an HTTP date), X-Ratelimit
 * values (JSON with an ISO 8601 "until"), and the whole answer classification
 * for every endpoint with fuzzed headers and body.
 *
 * Input: byte 0 picks the endpoint (its low two bits) and which headers are
 * set, byte 1 the HTTP status; the rest up to its first NUL is the header
 * text, and the rest whole, NULs included, is the body. Every "@@" in the body
 * becomes MARKER, free text that can never pass for an OAuth error code.
 *
 * Checked: both parsers keep within the one-day cap; the classification gives
 * the status Trakt's rules give for that endpoint and HTTP status (written out
 * here on their own, not taken from src/status_rules.c), a NUL-terminated
 * detail that is empty on success and pending and says "HTTP <status>"
 * otherwise, and never the marker (unless the fuzzer wrote it into the header
 * text, which a redirect's detail quotes): no free text of a body reaches a
 * detail. The body is its own exact-size allocation, so reading past its
 * length is an ASan report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t now = 1795931173; /* a fixed clock: HTTP dates are relative to it */

#define MARKER "Zq9-MARKER"

/* Whether Trakt's rules allow status st for an answer of HTTP status http from ep. */
static int allowed(tda__endpoint ep, long http, tda_status st)
{
    if (http == 200)
        return st == TDA_OK;
    if (http > 200 && http < 300)
        return st == (ep == TDA__EP_REVOKE ? TDA_OK : TDA_UNEXPECTED_STATUS);
    if (http == 429)
        return st == TDA_SLOW_DOWN;
    if (http == 502 || http == 503 || http == 504)
        return st == TDA_OVERLOADED;
    if (http >= 520 && http <= 522)
        return st == TDA_CLOUDFLARE;
    if (http >= 500 && http < 600)
        return st == TDA_SERVER_ERROR;
    if (http == 403)
        return st == TDA_FORBIDDEN;
    if (ep == TDA__EP_REFRESH && (http == 400 || http == 401)) /* refined by the body */
        return st == TDA_INVALID_GRANT || st == TDA_UNEXPECTED_STATUS || st == TDA_FORBIDDEN;
    if (http == 401)
        return st == TDA_FORBIDDEN;
    if (ep == TDA__EP_DEVICE_TOKEN) {
        switch (http) {
        case 400:
            return st == TDA_PENDING;
        case 404:
            return st == TDA_INVALID_DEVICE_CODE;
        case 409:
            return st == TDA_ALREADY_USED;
        case 410:
            return st == TDA_EXPIRED;
        case 418:
            return st == TDA_DENIED;
        default:
            break;
        }
    }
    return st == TDA_UNEXPECTED_STATUS;
}

/* data with every "@@" replaced by MARKER, in a block of exactly *len bytes. */
static char *body_with_markers(const uint8_t *data, size_t size, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++, n++)
        if (i + 1 < size && data[i] == '@' && data[i + 1] == '@') {
            n += strlen(MARKER) - 1;
            i++;
        }
    char *body = malloc(n ? n : 1);
    if (!body)
        abort();
    size_t j = 0;
    for (size_t i = 0; i < size; i++) {
        if (i + 1 < size && data[i] == '@' && data[i + 1] == '@') {
            memcpy(body + j, MARKER, strlen(MARKER));
            j += strlen(MARKER);
            i++;
        } else {
            body[j++] = (char)data[i];
        }
    }
    *len = n;
    return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t text_len = strnlen((const char *)data + 2, size - 2);
    char *text = malloc(text_len + 1);
    if (!text)
        return 0;
    memcpy(text, data + 2, text_len);
    text[text_len] = '\0';

    int64_t delay = tda__parse_retry_after(text, now);
    if (delay < -1 || delay > 24LL * 3600 * 1000)
        abort(); /* capped at one day, whatever the server says */
    delay = tda__parse_ratelimit_until(text, now);
    if (delay < -1 || delay > 24LL * 3600 * 1000)
        abort();

    /* The text is also the Retry-After or X-Ratelimit header and maybe the Location. */
    static const long statuses[] = {200, 204, 301, 400, 401, 403, 404, 409, 410,
                                    418, 429, 500, 502, 503, 504, 520, 521, 522,
                                    599, 0,   201, 302, 501, 505, 523, 405};
    tda__endpoint ep = (tda__endpoint)(data[0] % 4);
    size_t body_len = 0;
    char *body = body_with_markers(data + 2, size - 2, &body_len);
    tda__response r = {0};
    r.http_status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
    r.body = body;
    r.body_len = body_len;
    r.content_type = data[0] & 0x80 ? "text/html" : "application/json";
    r.retry_after = data[0] & 0x40 ? text : NULL;
    r.ratelimit = data[0] & 0x40 ? NULL : text;
    r.location = data[0] & 0x20 ? text : NULL;
    r.server = data[0] & 0x10 ? "cloudflare" : NULL;
    r.www_authenticate = data[0] & 0x08 ? text : NULL;
    int64_t retry_after_ms = 0;
    char detail[256];
    memset(detail, 'X', sizeof detail);
    tda_status st = tda__classify_response(ep, &r, now, &retry_after_ms, detail, sizeof detail);
    if (memchr(detail, '\0', sizeof detail) == NULL || retry_after_ms < -1 ||
        retry_after_ms > 24LL * 3600 * 1000)
        abort();
    if (!allowed(ep, r.http_status, st)) {
        fprintf(stderr, "POST %s HTTP %ld gave %s\n", tda__endpoint_path(ep), r.http_status,
                tda_status_name(st));
        abort();
    }
    char want[32];
    snprintf(want, sizeof want, "HTTP %ld", r.http_status);
    int quiet = st == TDA_OK || st == TDA_PENDING; /* no detail then; "HTTP <status>..." else */
    if (quiet ? detail[0] != '\0' : strncmp(detail, want, strlen(want)) != 0) {
        fprintf(stderr, "POST %s HTTP %ld, %s: detail \"%s\"\n", tda__endpoint_path(ep),
                r.http_status, tda_status_name(st), detail);
        abort();
    }
    /* Body text reaches the detail in one place only: an OAuth error's error_description
     * (Trakt's "session not found"), cleaned and capped, quoted after its error code. */
    const char *error_part = strstr(detail, " (error \"");
    const char *description = error_part ? strstr(error_part, "\": \"") : NULL;
    const char *leak = strstr(detail, MARKER);
    if (leak && !strstr(text, MARKER) && (!description || leak < description)) {
        fprintf(stderr, "free text of the body reached the detail: \"%s\"\n", detail);
        abort();
    }
    /* What pauses a whole engine, and what may be about a missing secret: only their statuses. */
    if (tda__is_ip_rate_limit(&r) && r.http_status != 429)
        abort();
    tda_status refresh_st = tda__classify_response(TDA__EP_REFRESH, &r, now, &retry_after_ms,
                                                   detail, sizeof detail);
    if (tda__refusal_may_want_secret(TDA__EP_REFRESH, &r, refresh_st) && r.http_status != 401 &&
        r.http_status != 403)
        abort();
    free(body);
    free(text);
    return 0;
}
