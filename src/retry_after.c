/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The waits an answer asks for, read from its headers: Retry-After (delay
 * seconds or an HTTP date) and the "until" of Trakt's X-Ratelimit, each as
 * milliseconds from now and capped at one day. What a status then means, and
 * whether its wait holds back one flow or the whole IP, is status_rules.c.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

#define RETRY_CAP_MS (24LL * 3600 * 1000)

/* A wait until the Unix time when, in ms from now_unix, within the cap. */
static int64_t delay_until(int64_t when, int64_t now_unix)
{
    /* Compared in seconds first: a date millions of years ahead would overflow in ms. */
    int64_t seconds = when - now_unix;
    if (seconds < 0)
        return 0;
    return seconds > RETRY_CAP_MS / 1000 ? RETRY_CAP_MS : seconds * 1000;
}

int64_t tda__parse_ratelimit_until(const char *value, int64_t now_unix)
{
    if (!value)
        return -1;
    tda__json_oom_reset();
    json_t *root = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
    if (tda__json_oom_happened()) {
        json_decref(root);
        return -1;
    }
    const char *until = json_string_value(json_object_get(root, "until"));
    int64_t delay = -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = until ? strptime(until, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    /* Fractions of a second are skipped; only UTC ("Z" or +00:00) is understood. */
    if (end && *end == '.')
        end += 1 + strspn(end + 1, "0123456789");
    if (end && (strcmp(end, "Z") == 0 || strcmp(end, "+00:00") == 0 || *end == '\0')) {
        delay = delay_until(tda__utc_seconds(&tm), now_unix);
    }
    json_decref(root);
    return delay;
}

int64_t tda__parse_retry_after(const char *value, int64_t now_unix)
{
    const int64_t cap_ms = RETRY_CAP_MS;
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value >= '0' && *value <= '9') {
        int64_t seconds = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (seconds < cap_ms / 1000)
                seconds = seconds * 10 + (*p - '0');
        }
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p)
            return -1;
        int64_t ms = seconds * 1000;
        return ms > cap_ms ? cap_ms : ms;
    }
    /* The HTTP-date form. The preferred one is read in 64 bits (utc_time.c); libcurl's
     * parser knows the two obsolete ones, though with a 32-bit time_t not past 2038. */
    int64_t when;
    if (tda__parse_imf_fixdate(value, &when) == 0)
        return delay_until(when, now_unix);
    time_t obsolete = curl_getdate(value, NULL);
    if (obsolete == (time_t)-1)
        return -1;
    return delay_until((int64_t)obsolete, now_unix);
}
