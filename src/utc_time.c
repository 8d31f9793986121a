/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calendar dates to Unix seconds without time_t. timegm() and curl_getdate()
 * return a time_t, which is 32 bits on i386 and older ARM systems: there any
 * date after January 2038 comes back as -1, the same value as garbage, so a
 * Retry-After or X-Ratelimit date past 2038 would read as "no wait at all".
 * These work in 64 bits on every platform.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Days from 1970-01-01 to year-month-day of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* 0 .. 399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0 .. 365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0 .. 146096 */
    return era * 146097 + doe - 719468;
}

int64_t tda__utc_seconds(const struct tm *tm)
{
    int64_t year = (int64_t)tm->tm_year + 1900, month = tm->tm_mon + 1;
    return days_from_civil(year, month, tm->tm_mday) * 86400 + tm->tm_hour * 3600LL +
           tm->tm_min * 60LL + tm->tm_sec;
}

int tda__parse_imf_fixdate(const char *s, int64_t *out)
{
    /* RFC 9110's preferred form, the one servers must send: "Sun, 06 Nov 1994 08:49:37 GMT".
     * Names are matched by hand rather than strptime(%a %b), which follows the locale. */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const char days[] = "SunMonTueWedThuFriSat";
    char wday[4], mon[4];
    int day, year, hour, min, sec, used = -1;
    /* Every %d has a width of at most 9 digits, so none can overflow; the ranges and the sign,
       which %d also takes, are checked below. */
    /* NOLINTNEXTLINE(cert-err34-c): the widths bound the numbers (see above) */
    if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %9d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hour,
               &min, &sec, &used) != 7 ||
        used < 0 || s[used] != '\0')
        return -1;
    const char *w = strlen(wday) == 3 ? strstr(days, wday) : NULL;
    const char *m = strlen(mon) == 3 ? strstr(months, mon) : NULL;
    if (!w || (w - days) % 3 || !m || (m - months) % 3 || day < 1 || day > 31 || year < 1970 ||
        hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = year - 1900;
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    *out = tda__utc_seconds(&tm);
    return 0;
}
