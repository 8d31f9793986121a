/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The detail text of a refusal, which every part of the library writes: in
 * one statement, and with a secret the server echoed blanked out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void tda__sayf(char *detail, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, size, fmt, ap);
    va_end(ap);
}

void tda__redact(char *detail, const char *secret)
{
    size_t len = secret ? strlen(secret) : 0;
    if (len < 4)
        return;
    for (char *hit = strstr(detail, secret); hit; hit = strstr(hit + len, secret))
        memset(hit, '*', len);
}
