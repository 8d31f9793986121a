/* SPDX-License-Identifier: Apache-2.0 */
/* Whole numbers and durations, as the command line and the fault plan write
 * them. */
#include "parse.h"

#include "common.h"

/* Settings are capped so that seconds * 1e9 always fits an int64_t. */
#define EMU_MAX_SECONDS INT64_C(1000000000)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool emu_parse_count(const char *text, unsigned long max, unsigned long *out)
{
    unsigned long value = 0;
    if (!is_digit(*text))
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        if (!is_digit(*p))
            return false;
        unsigned long digit = (unsigned long)(*p - '0');
        if (value > (max - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

/* Parsed by hand into exact nanoseconds rather than through strtod, so that
 * "0.2" is 200000000 ns and not a neighbour of it. */
bool emu_parse_duration(const char *text, struct emu_duration *out)
{
    const char *p = text;
    int64_t secs = 0, frac = 0;
    int frac_digits = 0;

    if (!is_digit(*p))
        return false;
    for (; is_digit(*p); p++) {
        secs = secs * 10 + (*p - '0');
        if (secs > EMU_MAX_SECONDS)
            return false;
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return false;
        for (; is_digit(*p); p++) {
            if (frac_digits == 9)
                return false;
            frac = frac * 10 + (*p - '0');
            frac_digits++;
        }
    }
    if (*p != '\0')
        return false;
    for (; frac_digits < 9; frac_digits++)
        frac *= 10;
    out->ns = secs * EMU_NS_PER_SEC + frac;
    /* Division of two exact doubles rounds correctly: 0.2 stays 0.2. */
    out->seconds = (double)out->ns / (double)EMU_NS_PER_SEC;
    out->whole = frac == 0;
    return true;
}
