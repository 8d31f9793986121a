/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one scaling of time bounds in the tests. Every upper bound on how long
 * something may take (a cancel, a deadline, a give-up limit) is written as its
 * value on an idle machine running the plain build, and passed through
 * test_bound_ms, which multiplies it by $TDA_TEST_SLOW: a whole number, 1 when
 * unset. scripts/test.sh sets it for the passes that run slower (the sanitizer
 * pass and the valgrind pass). Lower bounds are rules ("never sooner than the
 * interval") and are never scaled. tests/cli/lib.sh (bound_tries) and
 * tests/browser/activate.mjs read the same variable the same way.
 */
#ifndef TDA_TEST_SLOW_H
#define TDA_TEST_SLOW_H

#include <stdio.h>
#include <stdlib.h>

/* $TDA_TEST_SLOW, or 1; anything but a whole number from 1 to 1000 stops the test. */
static inline long test_slow_factor(void)
{
    const char *v = getenv("TDA_TEST_SLOW");
    if (!v || !*v)
        return 1;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > 1000) {
        fprintf(stderr, "TDA_TEST_SLOW=%s: want a whole number from 1 to 1000\n", v);
        exit(2);
    }
    return n;
}

/* A time bound of ms on an idle machine, for this run. */
static inline long test_bound_ms(long ms)
{
    return ms * test_slow_factor();
}

#endif
