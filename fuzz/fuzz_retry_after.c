/*
 * libFuzzer: Retry-After values (delay-seconds or an HTTP date), X-Ratelimit
 * values (JSON with an ISO 8601 "until"), and the
 * whole answer classification for every endpoint with fuzzed headers and body.
 * The first two bytes pick the endpoint and the HTTP status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t now = 1795931173; /* a fixed clock: HTTP dates are relative to it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    char *text = malloc(size - 1);
    if (!text)
        return 0;
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';

    int64_t delay = tda_parse_retry_after(text, now);
    if (delay < -1 || delay > 24LL * 3600 * 1000)
        abort(); /* capped at one day, whatever the server says */
    delay = tda_parse_ratelimit_until(text, now);
    if (delay < -1 || delay > 24LL * 3600 * 1000)
        abort();

    /* The text is also the Retry-After header, the content type and the body. */
    static const long statuses[] = {200, 204, 301, 400, 401, 403, 404, 409, 410, 418,
                                    429, 500, 502, 503, 504, 520, 521, 522, 599, 0};
    tda_response r = {0};
    r.http_status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
    r.body = text;
    r.body_len = strlen(text);
    r.content_type = data[0] & 0x80 ? "text/html" : "application/json";
    r.retry_after = data[0] & 0x40 ? text : NULL;
    r.ratelimit = data[0] & 0x40 ? NULL : text;
    r.location = data[0] & 0x20 ? text : NULL;
    r.server = data[0] & 0x10 ? "cloudflare" : NULL;
    int64_t retry_after_ms = 0;
    char detail[256] = "";
    tda_classify_response((tda_endpoint)(data[0] % 4), &r, now, &retry_after_ms, detail,
                          sizeof detail);
    if (memchr(detail, '\0', sizeof detail) == NULL || retry_after_ms < -1 ||
        retry_after_ms > 24LL * 3600 * 1000)
        abort();
    /* What pauses a whole engine, and what may be about a missing secret: only their statuses. */
    if (tda_is_ip_rate_limit(&r) && r.http_status != 429)
        abort();
    tda_status st = tda_classify_response(TDA_EP_REFRESH, &r, now, &retry_after_ms, detail,
                                          sizeof detail);
    if (tda_refusal_may_want_secret(TDA_EP_REFRESH, &r, st) && r.http_status != 401 &&
        r.http_status != 403)
        abort();
    free(text);
    return 0;
}
